"""Two processes acting on one run: the one that lost the run stops before its next action
(exit 4) and nothing runs twice. Real processes, a real terminal (pty), the real record."""

from __future__ import annotations

from pathlib import Path

from clikit import DEADLINE, Cli
from ptykit import Terminal

RUNBOOK = """runbook: g
version: 1.0.0
title: two processes
scenario: other
severity: 3
steps:
  - id: first
    kind: local
    command: sh -c "echo first >> marker"
  - id: push
    kind: local
    command: sh -c "echo push >> marker"
    confirm: Push the change now?
"""


def test_a_run_taken_over_stops_at_its_next_action_and_nothing_runs_twice(
    tmp_path: Path,
) -> None:
    from respond.config import load_config
    from respond.timeline import open_store

    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "g.yaml").write_text(RUNBOOK, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    first = Terminal(["run", "g"], tmp_path)
    try:
        first.read_until("[y/N]")  # run A waits at the gate, holding the run
        store = open_store(load_config(tmp_path))
        (run,) = store.runs()
        assert store.lock_holder(run.run_id) is not None

        # another process takes the run over and finishes it
        taken = Cli(cwd=tmp_path)("resume", run.run_id, "--steal", "--yes", "--json")
        assert taken.rc == 0, taken
        assert taken.json()["status"] == "succeeded"
        recorded = store.events(run.run_id)

        first.type("y")  # A's gate is answered after all
        first.read_until("stopping")
        assert first.proc.wait(timeout=DEADLINE) == 4, first.shown
        shown = " ".join(first.shown.split())
        assert f"run {run.run_id} held by another process" in shown
        assert "Traceback" not in shown
    finally:
        first.close()
    # the gated action ran once (by the process holding the run), and A recorded nothing more
    assert (tmp_path / "marker").read_text().split() == ["first", "push"]
    assert store.events(run.run_id) == recorded
    kinds = [e.kind for e in recorded]
    assert kinds.count("lock-taken") == 1 and kinds[-1] in ("run-finished", "sealed")
    assert store.verify(run.run_id).ok
    # the run's incident was taken over from the same process, with the run
    incident = str(recorded[0].data["incident"])
    assert [e.kind for e in store.events(incident)].count("lock-taken") == 1
