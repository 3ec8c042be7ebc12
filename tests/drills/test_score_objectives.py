"""A drill run's scorecard from its events alone: each objective kind met, missed and not
reached, t0, the diagnosis rule, a resumed run's end, the terminal lines and step times.

Every expected figure is worked out here from the times the test chose (seconds after the
run started), never read back from the code under test."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from respond.clock import iso
from respond.drills.model import Drill
from respond.drills.objectives import (
    MET,
    MISSED,
    NOT_REACHED,
    Milestones,
    milestones,
    score,
    scorecard_lines,
    step_times,
)
from respond.events import EventKind, RunEvent

START = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
LEVELS = {1: {"respond": 600.0, "restore": 3600.0}, 2: {"respond": 1800.0, "restore": 7200.0}}


def at(seconds: float) -> str:
    return iso(START + timedelta(seconds=seconds))


def clock(seconds: float) -> str:
    """A stopwatch reading written out by hand: 125 → ``2m 05s``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m {s % 60:02d}s"


class Run:
    """A run's events with chosen times: ``run.add(155, STEP_STARTED, "ups", kind="check")``."""

    def __init__(self, *, severity: int = 1, mode: str = "lab", steps: list[str] | None = None):
        self.events: list[RunEvent] = []
        self.add(0, EventKind.RUN_STARTED, None, severity=severity, drill_mode=mode, drill=True)
        self.events[0].data["steps"] = steps or []

    def add(self, seconds: float, event: EventKind, step: str | None = None, /, **data: Any) -> Run:
        self.events.append(
            RunEvent(
                run_id="20260315T010000Z-ab12",
                seq=len(self.events) + 1,
                ts=at(seconds),
                kind=str(event),
                actor="张伟",
                step_id=step,
                host=None,
                data=data,
                prev_hash="",
                hash="",
            )
        )
        return self

    def step(
        self, start: float, end: float, step: str, kind: str = "shell", status: str = "ok"
    ) -> Run:
        self.add(start, EventKind.STEP_STARTED, step, name=f"the {step} step", kind=kind)
        return self.add(end, EventKind.STEP_FINISHED, step, status=status)

    def gate(self, seconds: float, step: str, by: str, confirmed: bool = True) -> Run:
        kind = EventKind.GATE_CONFIRMED if confirmed else EventKind.GATE_REFUSED
        return self.add(seconds, kind, step, by=by, question="confirm", text="go on?")

    def end(self, seconds: float, outcome: str, status: str = "succeeded") -> Run:
        return self.add(seconds, EventKind.RUN_FINISHED, None, outcome=outcome, status=status)


def drill(*objectives: dict[str, Any], planned: dict[str, str] | None = None) -> Drill:
    return Drill.model_validate(
        {
            "drill": "q1-power",
            "runbook": "power-outage",
            "mode": "lab",
            "objectives": list(objectives),
            "planned": planned or {},
        }
    )


def one(d: Drill, run: Run, **kwargs: Any) -> Any:
    card = score(d, run.events, levels=LEVELS, **kwargs)
    assert len(card.results) == 1
    return card.results[0]


# --------------------------------------------------------------------------- t0 and respond


def test_times_count_from_the_first_inject_not_from_the_run_start() -> None:
    inject, first_step = 30, 155
    run = Run().add(inject, EventKind.DRILL_INJECT, fault="power-loss", applied=True)
    run.add(inject + 5, EventKind.DRILL_INJECT, fault="link-down", applied=True)
    run.step(first_step, 170, "ups-status").end(200, "resolved")

    result = one(drill({"respond": "10m"}), run)

    measured = first_step - inject  # 125 s: 2m 05s
    assert result.status == MET
    assert result.measured_s == pytest.approx(measured)
    assert result.target_s == 600
    assert result.text == f"respond within 10m: met ({clock(measured)})"
    assert result.text == "respond within 10m: met (2m 05s)"


def test_without_an_inject_t0_is_the_run_start() -> None:
    first_step = 725
    run = Run().step(first_step, 730, "ups-status").end(800, "resolved")

    card = score(drill({"respond": "10m"}), run.events, levels=LEVELS)

    assert card.t0 == at(0)
    assert card.results[0].status == MISSED
    assert card.results[0].measured_s == pytest.approx(first_step)
    assert card.results[0].text == f"respond within 10m: missed ({clock(first_step)})"


def test_respond_not_reached_when_no_step_started() -> None:
    run = Run().end(5, "failed", status="failed")
    result = one(drill({"respond": "10m"}), run)
    assert (result.status, result.measured_s) == (NOT_REACHED, None)
    assert result.text == "respond within 10m: not reached (no step started)"


def test_level_targets_come_from_the_runs_severity_level() -> None:
    first_step, restored = 700, 5000
    run = Run(severity=2).step(first_step, 710, "ups-status").end(restored, "resolved")

    card = score(drill({"respond": "level"}, {"restore": "level"}), run.events, levels=LEVELS)

    respond, restore = card.results
    assert card.severity == 2
    assert respond.target_s == LEVELS[2]["respond"]
    assert respond.text == f"respond within 30m (level 2 limit): met ({clock(first_step)})"
    assert restore.target_s == LEVELS[2]["restore"]
    assert restore.text == f"restore within 2h (level 2 limit): met ({clock(restored)})"


def test_level_limits_fall_back_to_those_the_run_recorded() -> None:
    run = Run(severity=3).step(100, 110, "ups-status").end(200, "resolved")
    run.events[0].data["clock"] = {"respond": 60.0, "restore": 900.0}

    card = score(drill({"respond": "level"}), run.events, levels=LEVELS)

    assert card.results[0].target_s == 60.0
    assert card.results[0].status == MISSED
    # they are level 3's: a caller scoring the run at another level gets that level's
    other = score(drill({"respond": "level"}), run.events, levels={}, severity=2)
    assert (other.severity, other.results[0].status) == (2, NOT_REACHED)


def test_a_level_without_such_a_limit_is_not_reached_and_says_why() -> None:
    run = Run(severity=4).step(10, 20, "ups-status").end(30, "resolved")
    result = one(drill({"respond": "level"}), run)
    assert result.status == NOT_REACHED
    assert result.target_s is None
    assert result.text == (
        "respond within the level 4 limit: not reached (no respond limit for level 4 in "
        "respond.yaml)"
    )


# --------------------------------------------------------------------------- diagnose


def test_diagnosis_is_the_first_decide_step_finished() -> None:
    run = Run().step(10, 40, "ups-status").step(50, 300, "which-fault", kind="decide")
    run.step(310, 900, "later-decide", kind="decide").end(1000, "resolved")

    result = one(drill({"diagnose": "20m"}), run)

    assert result.measured_s == pytest.approx(300)
    assert result.text == f"diagnose within 20m: met ({clock(300)})"


def test_without_a_decide_step_diagnosis_is_the_last_step_finished_before_the_first_gate() -> None:
    run = Run().step(10, 60, "ups-status")
    # the question whether to repeat a step on resume is not the step's gate
    run.add(65, EventKind.GATE_CONFIRMED, "pdu-check", by="operator", question="rerun")
    run.step(70, 1500, "pdu-check")
    run.gate(1550, "shed-load", by="operator").step(1560, 1600, "shed-load")
    run.gate(1700, "restart", by="operator").step(1710, 1800, "restart").end(1900, "resolved")

    result = one(drill({"diagnose": "20m"}), run)

    assert result.status == MISSED
    assert result.measured_s == pytest.approx(1500)  # pdu-check, the step before shed-load
    assert result.text == f"diagnose within 20m: missed ({clock(1500)})"


def test_gated_steps_the_caller_names_mark_the_diagnosis_when_no_gate_was_asked() -> None:
    # simulate mode asks no gate: the runbook's gated steps are passed in
    run = Run(mode="simulate").step(10, 60, "ups-status").step(70, 200, "pdu-check")
    run.step(210, 220, "shed-load", status="simulated").end(230, "resolved")

    with_runbook = one(drill({"diagnose": "20m"}), run, gated={"shed-load"})
    without = one(drill({"diagnose": "20m"}), run)

    assert with_runbook.measured_s == pytest.approx(200)
    assert with_runbook.status == MET
    assert without.status == NOT_REACHED
    assert without.text == "diagnose within 20m: not reached (no diagnosis reached)"
    run.events[0].data["gated"] = ["shed-load"]  # as the run's start may record them
    assert one(drill({"diagnose": "20m"}), run).measured_s == pytest.approx(200)


def test_a_decide_step_that_never_finished_is_not_a_diagnosis() -> None:
    run = Run().step(10, 60, "ups-status").gate(65, "shed-load", by="operator")
    run.add(70, EventKind.STEP_STARTED, "which-fault", kind="decide", name="decide")
    run.end(100, "failed", status="failed")

    result = one(drill({"diagnose": "20m"}), run)

    assert result.status == NOT_REACHED
    assert result.text == "diagnose within 20m: not reached (no decide step finished)"


# --------------------------------------------------------------------------- restore


@pytest.mark.parametrize("outcome", ["resolved", "no-fault"])
def test_restore_is_met_by_a_resolved_or_no_fault_end(outcome: str) -> None:
    run = Run().add(20, EventKind.DRILL_INJECT, fault="power-loss").step(30, 40, "ups-status")
    run.end(2020, outcome)

    result = one(drill({"restore": "1h"}), run)

    assert result.status == MET
    assert result.measured_s == pytest.approx(2000)
    assert result.text == f"restore within 1h: met ({clock(2000)})"


@pytest.mark.parametrize(("outcome", "status"), [("unresolved", "succeeded"), ("failed", "failed")])
def test_restore_is_not_reached_when_the_run_ended_otherwise(outcome: str, status: str) -> None:
    run = Run().step(30, 40, "ups-status").end(100, outcome, status=status)

    result = one(drill({"restore": "level"}), run)

    assert result.status == NOT_REACHED
    assert result.measured_s is None
    assert result.text == f"restore within 1h (level 1 limit): not reached (run ended {outcome})"


def test_a_resumed_run_is_judged_by_its_last_end() -> None:
    run = Run().step(30, 40, "ups-status").end(100, "unresolved", status="interrupted")
    run.add(4000, EventKind.RUN_RESUMED).step(4010, 4020, "restart").end(4100, "resolved")

    card = score(drill({"restore": "2h"}), run.events, levels=LEVELS)

    assert card.outcome == "resolved"
    assert card.results[0].status == MET
    assert card.results[0].measured_s == pytest.approx(4100)


def test_a_resumed_run_not_finished_again_has_not_restored() -> None:
    run = Run().step(30, 40, "ups-status").end(100, "resolved")
    run.add(200, EventKind.RUN_RESUMED)

    card = score(drill({"restore": "2h"}), run.events, levels=LEVELS)

    assert card.outcome is None
    assert card.results[0].text == "restore within 2h: not reached (the run did not finish)"


# --------------------------------------------------------------------------- step X by T


def test_a_step_finished_too_late_is_missed_with_its_time() -> None:
    inject, done = 60, 60 + 41 * 60 + 10
    run = Run().add(inject, EventKind.DRILL_INJECT, fault="power-loss")
    run.step(100, 200, "ups-status").gate(300, "shed-load", by="operator")
    run.step(400, done, "shed-load").end(done + 10, "resolved")

    result = one(drill({"step": "shed-load", "by": "30m"}), run)

    assert result.status == MISSED
    assert result.target_s == 1800
    assert result.measured_s == pytest.approx(done - inject)
    assert result.text == "step shed-load by 30m: missed (41m 10s)"


def test_a_walked_step_counts_as_done_and_a_failed_attempt_does_not() -> None:
    run = Run(mode="tabletop").step(10, 100, "shed-load", status="failed")
    run.add(150, EventKind.RUN_RESUMED).step(160, 170, "shed-load", status="simulated")
    run.end(180, "resolved")

    result = one(drill({"step": "shed-load", "by": "5m"}), run)

    assert result.status == MET
    assert result.measured_s == pytest.approx(170)


@pytest.mark.parametrize(
    ("build", "why"),
    [
        (lambda r: r, "step shed-load was not reached"),
        (
            lambda r: r.add(50, EventKind.STEP_SKIPPED, "shed-load", reason="gate refused: no"),
            "step shed-load was skipped: gate refused: no",
        ),
        (lambda r: r.step(50, 60, "shed-load", status="failed"), "step shed-load ended failed"),
        (
            lambda r: r.add(50, EventKind.STEP_STARTED, "shed-load", kind="shell"),
            "step shed-load did not finish",
        ),
    ],
)
def test_a_step_not_done_says_what_became_of_it(build: Any, why: str) -> None:
    run = build(Run().step(10, 20, "ups-status")).end(100, "unresolved")
    result = one(drill({"step": "shed-load", "by": "30m"}), run)
    assert result.status == NOT_REACHED
    assert result.text == f"step shed-load by 30m: not reached ({why})"


# --------------------------------------------------------------------------- gates, skips


def test_an_unattended_refusal_leaves_a_gate_unanswered() -> None:
    run = Run().gate(10, "isolate", by="answers file").step(11, 20, "isolate")
    run.gate(30, "shed-load", by="unattended", confirmed=False).end(31, "unresolved")

    result = one(drill({"gates": "answered"}), run)

    assert result.status == MISSED
    assert result.text == "every gate answered: missed (1 of 2 gates unanswered: shed-load)"


def test_gates_decided_by_a_person_the_answers_file_or_yes_are_answered() -> None:
    run = Run().gate(10, "isolate", by="--yes").gate(20, "shed-load", by="operator")
    run.gate(30, "restart", by="answers file", confirmed=False)
    # refused unattended, then decided by a person when the run was resumed
    run.gate(40, "power-on", by="unattended", confirmed=False).add(50, EventKind.RUN_RESUMED)
    run.gate(60, "power-on", by="operator").end(70, "resolved")

    result = one(drill({"gates": "answered"}), run)

    assert result.status == MET
    assert result.text == "every gate answered: met (4 of 4 gates answered)"


def test_a_run_that_reached_no_gate_meets_the_gate_objective() -> None:
    run = Run().step(10, 20, "ups-status").end(30, "resolved")
    assert (
        one(drill({"gates": "answered"}), run).text == "every gate answered: met (no gate reached)"
    )


def test_a_skip_with_an_empty_reason_misses_the_skip_objective() -> None:
    run = Run(mode="tabletop").add(10, EventKind.STEP_SKIPPED, "ups-status", reason="no UPS")
    run.add(20, EventKind.STEP_SKIPPED, "pdu-check", reason="  ").end(30, "resolved")

    result = one(drill({"skips": "reasoned"}), run)

    assert result.status == MISSED
    assert result.text == (
        "no step skipped without a reason: missed (1 of 2 skips without a reason: pdu-check)"
    )


def test_skips_with_reasons_and_no_skips_meet_the_skip_objective() -> None:
    none = Run().step(10, 20, "ups-status").end(30, "resolved")
    reasoned = Run().add(10, EventKind.STEP_SKIPPED, "ups-status", reason="when: false")
    reasoned.end(30, "resolved")

    assert one(drill({"skips": "reasoned"}), none).text == "no step skipped without a reason: met"
    assert one(drill({"skips": "reasoned"}), reasoned).text == (
        "no step skipped without a reason: met (1 skip, each with a reason)"
    )


# --------------------------------------------------------------------------- the scorecard


def q1_run() -> Run:
    run = Run().add(30, EventKind.DRILL_INJECT, fault="power-loss")
    run.step(155, 200, "ups-status").step(210, 600, "which-fault", kind="decide")
    run.gate(650, "shed-load", by="operator").step(700, 30 + 41 * 60 + 10, "shed-load")
    return run.end(3000, "resolved")


FIVE = (
    {"respond": "10m"},
    {"diagnose": "20m"},
    {"restore": "level"},
    {"step": "shed-load", "by": "30m"},
    {"gates": "answered"},
)


def test_scorecard_lines_head_with_the_count_and_end_with_the_verdict() -> None:
    card = score(drill(*FIVE), q1_run().events, levels=LEVELS)

    lines = scorecard_lines(card)

    assert lines[0] == "scorecard: drill q1-power (lab) — 4 of 5 objectives met"
    assert len(lines) == 1 + 5 + 1
    assert lines[1].endswith("respond within 10m: met (2m 05s)")
    assert lines[2].endswith(f"diagnose within 20m: met ({clock(600 - 30)})")
    assert lines[3].endswith(f"restore within 1h (level 1 limit): met ({clock(3000 - 30)})")
    assert lines[4].endswith("step shed-load by 30m: missed (41m 10s)")
    assert lines[5].endswith("every gate answered: met (1 of 1 gate answered)")
    assert lines[-1] == "NOT PASSED (1 missed)"
    assert (len(card.met), len(card.missed), len(card.not_reached)) == (4, 1, 0)
    assert not card.passed


def test_a_card_with_every_objective_met_passes() -> None:
    card = score(drill(*FIVE[:3], {"skips": "reasoned"}), q1_run().events, levels=LEVELS)
    assert card.passed
    assert scorecard_lines(card)[0] == "scorecard: drill q1-power (lab) — 4 of 4 objectives met"
    assert scorecard_lines(card)[-1] == "PASSED"


def test_not_reached_objectives_fail_the_card_too() -> None:
    run = Run(mode="simulate").step(10, 20, "ups-status").end(30, "unresolved")
    card = score(drill({"respond": "10m"}, {"restore": "1h"}), run.events, levels=LEVELS)
    assert not card.passed
    assert card.mode == "simulate"  # the run's recorded mode, not the file's
    assert scorecard_lines(card)[-1] == "NOT PASSED (1 not reached)"


def test_a_drill_without_objectives_says_so() -> None:
    card = score(drill(), q1_run().events, levels=LEVELS)
    assert scorecard_lines(card) == [
        "scorecard: drill q1-power (lab) — no objectives set",
        "PASSED",
    ]


def test_the_card_as_json_carries_every_figure() -> None:
    card = score(drill(*FIVE, planned={"ups-status": "1m"}), q1_run().events, levels=LEVELS)

    doc = json.loads(json.dumps(card.to_dict()))

    assert doc["run_id"] == "20260315T010000Z-ab12"
    assert (doc["drill"], doc["mode"], doc["severity"], doc["outcome"]) == (
        "q1-power",
        "lab",
        1,
        "resolved",
    )
    assert (doc["met"], doc["missed"], doc["not_reached"], doc["total"]) == (4, 1, 0, 5)
    assert doc["passed"] is False
    assert doc["t0"] == at(30)
    assert doc["results"][0] == {
        "kind": "respond",
        "label": "respond within 10m",
        "target_s": 600.0,
        "measured_s": pytest.approx(125),
        "status": "met",
        "text": "respond within 10m: met (2m 05s)",
    }
    assert doc["milestones"]["restored_s"] == pytest.approx(3000 - 30)
    assert doc["steps"][0]["step_id"] == "ups-status"
    assert doc["steps"][0]["planned_s"] == 60.0


# --------------------------------------------------------------------------- milestones, steps


def test_milestones_are_the_times_of_each_mark() -> None:
    marks = milestones(q1_run().events)
    assert marks == Milestones(t0=at(30), responded=at(155), diagnosed=at(600), restored=at(3000))
    assert marks.since_t0(marks.diagnosed) == pytest.approx(570)


def test_step_times_set_planned_beside_actual_in_the_runbooks_order() -> None:
    run = Run(steps=["ups-status", "shed-load", "restart", "power-on"])
    run.step(10, 70, "ups-status").step(80, 100, "shed-load", status="failed")
    run.end(110, "unresolved", status="failed").add(500, EventKind.RUN_RESUMED)
    run.step(510, 560, "shed-load").add(570, EventKind.STEP_SKIPPED, "restart", reason="x")
    run.end(600, "resolved")

    rows = step_times(run.events, {"ups-status": 60.0, "shed-load": 300.0, "gone": 5.0})

    assert [r.step_id for r in rows] == ["ups-status", "shed-load", "restart", "power-on", "gone"]
    ups, shed, restart, power_on, gone = rows
    assert (ups.planned_s, ups.actual_s, ups.status) == (60.0, pytest.approx(60), "ok")
    assert ups.name == "the ups-status step"
    # two attempts, 20 s and 50 s; not the pause in between
    assert (shed.started, shed.finished) == (at(80), at(560))
    assert shed.actual_s == pytest.approx(20 + 50)
    assert shed.status == "ok"
    assert (restart.status, restart.actual_s) == ("skipped", None)
    assert (power_on.status, power_on.started) == ("not reached", None)
    assert (gone.status, gone.planned_s) == ("not reached", 5.0)
