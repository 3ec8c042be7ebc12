"""The scorecard of a real drill run: `respond drill run` (a tabletop drill answered by an
answers file, in a child process) prints it and puts it in its JSON; the same card comes
back from the stored record, and the history lists the run. Expected figures are worked
out here from the stored events' times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runkit import DrillProject, first

from respond.config import load_config
from respond.drills.history import drill_history, run_scorecard
from respond.drills.objectives import MET, MISSED, NOT_REACHED
from respond.timeline import open_store
from respond.timeline.facts import parse_ts

STEPS = """\
  - {id: look, kind: local, command: "true"}
  - {id: check, kind: local, command: "true"}
  - {id: shed, kind: local, command: "true", confirm: "shed load?"}
  - {id: restart, kind: local, command: "true", confirm: "restart?"}
"""
OBJECTIVES = [
    {"respond": "10m"},
    {"diagnose": "10m"},
    {"restore": "level"},
    {"step": "shed", "by": "10m"},
    {"gates": "answered"},
    {"skips": "reasoned"},
]


def approx(value: float) -> Any:
    return pytest.approx(value, abs=1e-6)


def since(t0: str, ts: str) -> float:
    return (parse_ts(ts) - parse_ts(t0)).total_seconds()


def stopwatch(seconds: float) -> str:
    s = round(seconds)
    return f"{s}s" if s < 60 else f"{s // 60}m {s % 60:02d}s"


def test_drill_run_prints_the_scorecard_its_record_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = DrillProject(tmp_path / "proj")
    project.runbook("room", STEPS, severity=2)
    # shed's gate answered; restart's gate has no answer: refused unattended, the run stops
    project.file(
        "answers.yaml", {"shed": "yes", "steps": {"look": "done", "check": "skip", "shed": "done"}}
    )
    project.drill(
        "table",
        runbook="room",
        mode="tabletop",
        answers="answers.yaml",
        objectives=OBJECTIVES,
        planned={"look": "1m"},
    )

    result, out = project.drill_run("table")

    assert result.rc == 3, result  # stopped at a gate
    events = project.events(out["run_id"])
    t0 = first(events, "run-started")["ts"]
    look_done = first(events, "step-finished", "look")["ts"]
    shed_done = first(events, "step-finished", "shed")["ts"]
    limit = load_config(project.root).severity_policy[2]["restore"]
    card: dict[str, Any] = out["scorecard"]
    statuses = [r["status"] for r in card["results"]]
    assert statuses == [MET, MET, NOT_REACHED, MET, MISSED, MISSED]
    respond, diagnose, restore, shed, gates, skips = card["results"]
    assert respond["measured_s"] == approx(since(t0, first(events, "step-started")["ts"]))
    # no decide step: the diagnosis is look, the last step finished before shed's gate
    # (check was skipped)
    assert diagnose["measured_s"] == approx(since(t0, look_done))
    assert restore["target_s"] == limit
    assert restore["text"].endswith("(level 2 limit): not reached (run ended aborted)")
    assert shed["text"] == f"step shed by 10m: met ({stopwatch(since(t0, shed_done))})"
    assert gates["text"] == "every gate answered: missed (1 of 2 gates unanswered: restart)"
    assert skips["text"] == (
        "no step skipped without a reason: missed (1 of 1 skip without a reason: check)"
    )
    assert card["steps"][0] == {
        "step_id": "look",
        "name": "look",
        "planned_s": 60.0,
        "started": first(events, "step-started", "look")["ts"],
        "finished": look_done,
        "actual_s": approx(since(first(events, "step-started", "look")["ts"], look_done)),
        "status": "simulated",
    }

    # the terminal prints the same card; the record alone gives it back
    printed = project.respond("drill", "run", "table")
    assert "scorecard: drill table (tabletop) — 3 of 6 objectives met" in printed.stdout
    assert "NOT PASSED (2 missed, 1 not reached)" in printed.stdout
    monkeypatch.setenv("RESPOND_HOME", str(project.root / ".respond"))  # the runs' store
    store = open_store(load_config(project.root))
    try:
        stored = run_scorecard(store, out["run_id"])
        assert stored is not None and stored.to_dict() == card
        rows = drill_history(store, "table")
        assert rows[0].run_id == out["run_id"]
        assert (rows[0].met, rows[0].total, rows[0].mode) == (3, 6, "tabletop")
    finally:
        store.close()
