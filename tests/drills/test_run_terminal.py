"""A tabletop drill at a terminal: the people in the room mark each step done or skipped,
and a skip needs a reason."""

from __future__ import annotations

import os
from pathlib import Path

from ptykit import Terminal
from runkit import DrillProject


def _terminal(project: DrillProject, *args: str) -> Terminal:
    """`respond` on a pseudo-terminal, as the drill lead's laptop gives it."""
    env = {k: v for k, v in os.environ.items() if k not in ("RESPOND_DB", "RESPOND_PROJECT")}
    env.update(COLUMNS="120", RESPOND_HOME=str(project.root / ".respond"))
    return Terminal(["--project", str(project.root), *args], project.root, env)


def test_each_step_is_marked_done_or_skipped_with_a_reason(tmp_path: Path) -> None:
    project = DrillProject(tmp_path / "proj")
    marker = tmp_path / "ran"
    project.runbook(
        "room",
        f"""\
  - {{id: look, kind: local, command: "touch {marker}"}}
  - {{id: spare, kind: local, command: "touch {marker}"}}
""",
    )
    project.drill("walk", runbook="room", mode="tabletop")
    term = _terminal(project, "drill", "run", "walk")
    try:
        term.read_until("look: done, or skip with a reason? [D/s]")
        term.key("d")
        term.read_until("spare: done, or skip with a reason? [D/s]")
        term.key("s")
        term.read_until("reason for skipping")
        term.line("   ")  # blank: not a reason
        term.read_until("a skipped step needs a reason")
        term.read_until("spare: done, or skip with a reason? [D/s]")
        term.key("s")
        term.line("no spare disk on site")
        rc = term.wait()
    finally:
        term.close()
    assert rc == 0, term.shown
    assert not marker.exists()
    [run_id] = project.drill_runs()
    events = project.events(run_id)
    done = [e for e in events if e["kind"] == "step-finished"]
    assert [(e["step_id"], e["data"]["walked"], e["data"]["by"]) for e in done] == [
        ("look", "done", "operator")
    ]
    [skipped] = [e for e in events if e["kind"] == "step-skipped"]
    assert skipped["step_id"] == "spare"
    assert skipped["data"]["reason"] == "no spare disk on site"
    assert skipped["data"]["by"] == "operator"
