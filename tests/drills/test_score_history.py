"""Scorecards and drill history read from a real journal store (SQLite): drill runs recorded
the way the drill runner records them (run meta with the drill's definition, events appended
through the store's recorder), then scored from what the store gives back.

The store stamps each event with the time it was appended; expected figures are worked out
here from those stored times."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from respond.config import load_config
from respond.drills.history import drill_history, recorded_drill, recorded_gated, run_scorecard
from respond.drills.model import Drill
from respond.drills.objectives import MET, MISSED, NOT_REACHED, score, scorecard_lines
from respond.events import EventDraft, EventKind, RunEvent
from respond.timeline import Store, open_store
from respond.timeline.facts import parse_ts


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("score-project")
    (root / "respond.yaml").write_text("project: score\n", encoding="utf-8")
    opened = open_store(load_config(root), db_url=f"sqlite:///{root / 'journal.db'}")
    yield opened
    opened.close()


def definition(name: str, *objectives: dict[str, Any]) -> Drill:
    return Drill.model_validate(
        {"drill": name, "runbook": "power-outage", "mode": "lab", "objectives": list(objectives)}
    )


def record_drill_run(
    store: Store,
    run_id: str,
    drill: Drill,
    *,
    outcome: str = "resolved",
    skip_reason: str = "x",
    recorded: dict[str, Any] | None = None,
) -> list[RunEvent]:
    """A lab drill run as the drill runner records it: meta first, then its events."""
    store.create_run(
        run_id,
        {
            "runbook": drill.runbook,
            "version": "1",
            "drill": True,
            "drill_mode": drill.mode,
            "drill_name": drill.id,
            "drill_definition": recorded or drill.model_dump(mode="json", by_alias=True),
            "occurrence": None,
            "runbook_text": "id: power-outage\n",
        },
    )
    recorder = store.recorder(run_id)
    step = "ups-status"
    for draft in (
        EventDraft(
            kind=EventKind.RUN_STARTED,
            data={
                "runbook": drill.runbook,
                "severity": 1,
                "drill": True,
                "drill_mode": "lab",
                "drill_name": drill.id,
                "clock": {"respond": 600.0, "restore": 3600.0},
                "steps": [step, "which-fault", "shed-load"],
            },
        ),
        EventDraft(kind=EventKind.DRILL_INJECT, data={"fault": "power-loss", "applied": True}),
        EventDraft(kind=EventKind.STEP_STARTED, step_id=step, data={"name": "UPS", "kind": "ssh"}),
        EventDraft(kind=EventKind.STEP_FINISHED, step_id=step, data={"status": "ok"}),
        EventDraft(kind=EventKind.STEP_STARTED, step_id="which-fault", data={"kind": "decide"}),
        EventDraft(kind=EventKind.STEP_FINISHED, step_id="which-fault", data={"status": "ok"}),
        EventDraft(kind=EventKind.STEP_SKIPPED, step_id="shed-load", data={"reason": skip_reason}),
        EventDraft(kind=EventKind.DRILL_HEAL, data={"faults": ["power-loss"], "result": "ok"}),
        EventDraft(kind=EventKind.RUN_FINISHED, data={"status": "succeeded", "outcome": outcome}),
    ):
        recorder.record([draft])
    return store.events(run_id)


def seconds(events: list[RunEvent], kind: EventKind, step: str | None = None) -> float:
    """Seconds from the stored inject to the first stored event of ``kind`` (and step)."""
    t0 = next(e.ts for e in events if e.kind == EventKind.DRILL_INJECT)
    at = next(e.ts for e in events if e.kind == kind and (step is None or e.step_id == step))
    return (parse_ts(at) - parse_ts(t0)).total_seconds()


def test_a_run_recorded_in_a_real_store_is_scored_from_its_stored_events(store: Store) -> None:
    drill = definition(
        "q3-server",
        {"respond": "10m"},
        {"diagnose": "1s"},
        {"restore": "level"},
        {"step": "shed-load", "by": "1h"},
        {"skips": "reasoned"},
    )
    events = record_drill_run(store, "20260915T010000Z-0001", drill, skip_reason="")

    card = score(drill, store.events("20260915T010000Z-0001"), levels={})

    respond, diagnose, restore, step, skips = card.results
    assert card.t0 == next(e.ts for e in events if e.kind == EventKind.DRILL_INJECT)
    assert respond.status == MET
    assert respond.measured_s == pytest.approx(seconds(events, EventKind.STEP_STARTED))
    assert diagnose.measured_s == pytest.approx(
        seconds(events, EventKind.STEP_FINISHED, "which-fault")
    )
    # no levels given: the level 1 limits the run recorded when it started
    assert restore.target_s == 3600.0
    assert restore.measured_s == pytest.approx(seconds(events, EventKind.RUN_FINISHED))
    assert restore.status == MET
    assert step.status == NOT_REACHED
    assert step.text == "step shed-load by 1h: not reached (step shed-load was skipped)"
    assert skips.status == MISSED
    assert scorecard_lines(card)[0] == "scorecard: drill q3-server (lab) — 3 of 5 objectives met"
    # the same card from the store alone, with the definition the run recorded
    assert run_scorecard(store, "20260915T010000Z-0001") == card


LOOSE = definition("q1-power", {"respond": "1h"})
STRICT = definition("q1-power", {"respond": "1h"}, {"skips": "reasoned"}, {"restore": "1s"})


@pytest.fixture(scope="module")
def q1_runs(store: Store) -> dict[str, list[RunEvent]]:
    """Three runs of q1-power (the definition tightened after the first), one of q2-net."""
    runs = {
        "20260101T010000Z-aaaa": record_drill_run(store, "20260101T010000Z-aaaa", LOOSE),
        "20260102T010000Z-bbbb": record_drill_run(
            store, "20260102T010000Z-bbbb", STRICT, outcome="unresolved", skip_reason=""
        ),
        "20260103T010000Z-cccc": record_drill_run(store, "20260103T010000Z-cccc", STRICT),
    }
    record_drill_run(store, "20260104T010000Z-dddd", definition("q2-net", {"respond": "1h"}))
    return runs


def test_history_rescores_the_earlier_runs_of_one_drill_oldest_first(
    store: Store, q1_runs: dict[str, list[RunEvent]]
) -> None:
    rows = drill_history(store, "q1-power")

    assert [r.run_id for r in rows] == list(q1_runs)
    first, second, third = rows
    # each scored with the definition it recorded: 1 objective, then 3
    assert (first.met, first.total, first.passed) == (1, 1, True)
    assert (second.met, second.total, second.passed) == (1, 3, False)
    assert second.outcome == "unresolved"
    assert second.restore_s is None
    assert (third.total, third.mode) == (3, "lab")
    for row in rows:
        events = q1_runs[row.run_id]
        assert row.date == events[0].ts
        assert row.respond_s == pytest.approx(seconds(events, EventKind.STEP_STARTED))
        assert row.diagnose_s == pytest.approx(
            seconds(events, EventKind.STEP_FINISHED, "which-fault")
        )
    assert third.restore_s == pytest.approx(
        seconds(q1_runs["20260103T010000Z-cccc"], EventKind.RUN_FINISHED)
    )


def test_history_before_a_run_leaves_out_that_run_and_later_ones(
    store: Store, q1_runs: dict[str, list[RunEvent]]
) -> None:
    first, second, third = q1_runs
    second_started = q1_runs[second][0].ts

    before_third = drill_history(store, "q1-power", before=third)
    before_time = drill_history(store, "q1-power", before=second_started)

    assert [r.run_id for r in before_third] == [first, second]
    assert [r.run_id for r in before_time] == [first]
    assert [r.run_id for r in drill_history(store, "q1-power", limit=2)] == [second, third]
    assert drill_history(store, "no-such-drill") == []


def test_a_definition_this_version_cannot_read_still_gives_the_times(store: Store) -> None:
    unreadable = {"drill": "q4-app", "runbook": "x", "objectives": [{"nope": 1}]}
    events = record_drill_run(
        store, "20261001T010000Z-eeee", definition("q4-app"), recorded=unreadable
    )

    (row,) = drill_history(store, "q4-app")

    assert recorded_drill({"drill_definition": unreadable}) is None
    assert run_scorecard(store, "20261001T010000Z-eeee") is None
    assert (row.met, row.total, row.passed) == (None, None, None)
    assert row.to_dict()["respond_s"] == pytest.approx(seconds(events, EventKind.STEP_STARTED))


SIMULATE_RUNBOOK = """\
runbook: room
version: 1.0.0
title: room
scenario: power
severity: 2
steps:
  - {id: look, kind: local, command: "true"}
  - {id: check, kind: local, command: "true"}
  - {id: shed-load, kind: local, command: "true", confirm: "shed load?"}
"""


def test_a_simulate_run_is_diagnosed_at_the_gated_step_its_stored_runbook_names(
    store: Store, q1_runs: dict[str, list[RunEvent]]
) -> None:
    # a simulated gated step asks no gate: only the stored runbook says shed-load is gated
    drill = Drill.model_validate(
        {"drill": "sim", "runbook": "room", "mode": "simulate", "objectives": [{"diagnose": "1h"}]}
    )
    run_id = "20261101T010000Z-ffff"
    meta = {
        "runbook": "room",
        "drill": True,
        "drill_mode": "simulate",
        "drill_name": "sim",
        "drill_definition": drill.model_dump(mode="json", by_alias=True),
        "runbook_text": SIMULATE_RUNBOOK,
    }
    store.create_run(run_id, meta)
    recorder = store.recorder(run_id)
    recorder.record([EventDraft(kind=EventKind.RUN_STARTED, data={"severity": 2})])
    for step, status in (("look", "ok"), ("check", "ok"), ("shed-load", "simulated")):
        recorder.record([EventDraft(kind=EventKind.STEP_STARTED, step_id=step, data={})])
        recorder.record(
            [EventDraft(kind=EventKind.STEP_FINISHED, step_id=step, data={"status": status})]
        )
    recorder.record([EventDraft(kind=EventKind.RUN_FINISHED, data={"outcome": "resolved"})])
    events = store.events(run_id)

    card = run_scorecard(store, run_id)

    assert recorded_gated(store, run_id) == {"shed-load"}
    assert card is not None
    t0 = events[0].ts
    check_done = next(e.ts for e in events if e.kind == "step-finished" and e.step_id == "check")
    expected = (parse_ts(check_done) - parse_ts(t0)).total_seconds()
    assert card.results[0].measured_s == pytest.approx(expected)
    assert drill_history(store, "sim")[0].diagnose_s == pytest.approx(expected)
    # a stored text that is no runbook gives no gated steps, and no error
    assert recorded_gated(store, next(iter(q1_runs))) == frozenset()
