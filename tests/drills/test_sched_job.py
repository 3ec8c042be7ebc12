"""The schedule's drill job on both stores (SQLite and a real PostgreSQL), at fixed ``now``s:
what is due, what runs (once), what a failure leaves behind, what was missed. The runs are
made by a small executor that records a drill run the way ``execute_drill`` does (meta
``drill_name`` and ``occurrence``), so the job is seen deciding from the record alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from storekit import backend, make_store, project

from respond.config import load_config
from respond.drills.model import Drill
from respond.errors import RunInterrupted
from respond.events import EventDraft, EventKind
from respond.schedule.drills import DrillJob, drill_states
from respond.timeline import Store
from respond.timeline.store import new_run_id

__all__ = ["backend", "make_store", "project"]

# Quarterly in Shanghai: 09:00 CST on Jan/Apr/Jul/Oct 1st = 01:00 UTC.
Q2 = "2026-04-01T01:00:00.000000Z"
Q3 = "2026-07-01T01:00:00.000000Z"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Ran:
    run_id: str | None
    exit_code: int
    outcome: str | None
    error: str | None


class Executor:
    """Records a drill run per call (or fails as told); remembers what it was asked."""

    def __init__(self, store: Store, *, outcome: str = "resolved", crash: str | None = None):
        self.store = store
        self.outcome = outcome
        self.crash = crash
        self.calls: list[tuple[str, str]] = []

    def __call__(self, drill: Drill, occurrence: str) -> Ran:
        self.calls.append((drill.id, occurrence))
        if self.crash:
            raise RuntimeError(self.crash)
        run_id = record_drill_run(self.store, drill.id, occurrence, self.outcome)
        return Ran(run_id, 0 if self.outcome == "resolved" else 1, self.outcome, None)


def record_drill_run(store: Store, name: str, occurrence: str | None, outcome: str) -> str:
    run_id = new_run_id()
    meta = {
        "runbook": "power-outage",
        "version": "1.0.0",
        "drill": True,
        "drill_mode": "simulate",
        "drill_name": name,
        "occurrence": occurrence,
    }
    store.create_run(run_id, meta)
    store.append(
        run_id,
        [
            EventDraft(kind=EventKind.RUN_STARTED, data={"drill_mode": "simulate"}),
            EventDraft(
                kind=EventKind.RUN_FINISHED,
                data={
                    "status": "succeeded" if outcome == "resolved" else "failed",
                    "outcome": outcome,
                },
            ),
        ],
    )
    return run_id


def write_drill(project: Path, name: str, schedule: str | None = "quarterly", **extra: str) -> None:
    folder = project / "drills"
    folder.mkdir(exist_ok=True)
    lines = [
        f"drill: {name}",
        f"title: {name} drill",
        "runbook: power-outage",
        "schedule: null"
        if schedule is None
        else f"schedule: {{cron: {schedule}, timezone: Asia/Shanghai}}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    (folder / f"{name}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store()


def job(
    store: Store, project: Path, now: str, execute: Callable[[Drill, str], Ran] | None = None
) -> DrillJob:
    return DrillJob(store, load_config(project), utc(now), execute, by="test@host")


def test_due_once_then_nothing(store: Store, project: Path) -> None:
    write_drill(project, "q-power")
    execute = Executor(store)
    # before the quarter's 09:00 in Shanghai: January's occurrence (never taken, no start:
    # nothing counted missed) is the current one
    dry = job(store, project, "2026-04-01T00:30:00", execute).run(dry_run=True)
    assert [(a.kind, a.at) for a in dry] == [("drill-due", "2026-01-01T01:00:00.000000Z")]
    assert execute.calls == [] and store.drill_occurrences() == []

    actions = job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False)
    assert execute.calls == [("q-power", Q2)]
    (ran,) = actions
    assert (ran.kind, ran.subject, ran.at, ran.failed) == ("drill-run", "q-power", Q2, False)
    (claim,) = store.drill_occurrences("q-power")
    assert (claim["occurrence"], claim["claimed_by"]) == (Q2, "test@host")
    assert claim["run_id"] == ran.data["run_id"] and claim["detail"] is None

    # a second call (same moment, or later in the quarter) finds nothing due
    for now in ("2026-04-01T02:00:00", "2026-06-30T00:00:00"):
        assert job(store, project, now, execute).run(dry_run=False) == []
    assert len(execute.calls) == 1
    (state,) = drill_states(store, load_config(project), utc("2026-05-01T00:00:00"))
    assert state.state == f"done by {ran.data['run_id']}" and not state.due
    assert state.next == utc("2026-07-01T01:00:00")


def test_a_missed_quarter_is_caught_up_once_and_reported(store: Store, project: Path) -> None:
    write_drill(project, "q-power")
    execute = Executor(store)
    job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False)
    # the machine was off from June to mid-October: July's occurrence passed untaken;
    # only October's (the current one) runs, July's is reported missed
    (ran,) = job(store, project, "2026-10-15T00:00:00", execute).run(dry_run=False)
    assert ran.at == "2026-10-01T01:00:00.000000Z"
    assert ran.data["missed"] == [Q3]
    assert "missed 1 earlier, not run" in ran.text
    assert [c[1] for c in execute.calls] == [Q2, "2026-10-01T01:00:00.000000Z"]
    (state,) = drill_states(store, load_config(project), utc("2026-10-20T00:00:00"))
    assert state.missed_text == "missed 1" and state.to_dict()["missed"] == [Q3]


def test_a_failed_run_fulfils_its_occurrence(store: Store, project: Path) -> None:
    write_drill(project, "q-power")
    failing = Executor(store, outcome="failed")
    (ran,) = job(store, project, "2026-04-01T02:00:00", failing).run(dry_run=False)
    assert ran.failed and ran.data["outcome"] == "failed" and ran.data["exit_code"] == 1
    assert job(store, project, "2026-04-02T00:00:00", failing).run(dry_run=False) == []
    assert len(failing.calls) == 1


def test_a_drill_that_cannot_start_is_recorded_not_retried(store: Store, project: Path) -> None:
    write_drill(project, "a-broken")
    write_drill(project, "b-fine")
    execute = Executor(store, crash="the lab is not installed")
    actions = job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False)
    # both were tried, one after another; each failure is its own action
    assert [(a.subject, a.kind, a.failed) for a in actions] == [
        ("a-broken", "error", True),
        ("b-fine", "error", True),
    ]
    assert actions[0].text.startswith("a-broken: failed to start (occurrence ")
    assert actions[0].text.endswith("): the lab is not installed")
    claims = {c["drill"]: c for c in store.drill_occurrences()}
    assert claims["a-broken"]["run_id"] is None
    assert claims["a-broken"]["detail"] == "the lab is not installed"
    assert job(store, project, "2026-04-01T03:00:00", execute).run(dry_run=False) == []
    assert len(execute.calls) == 2
    states = drill_states(store, load_config(project), utc("2026-04-02T00:00:00"))
    assert states[0].state == "failed to start: the lab is not installed"


def test_a_manual_rehearsal_of_the_occurrence_means_it_is_not_due(
    store: Store, project: Path
) -> None:
    """`respond drill run` records the occurrence it rehearsed in the run's meta; even
    without a claim row, the schedule does not run it again."""
    write_drill(project, "q-power")
    manual = record_drill_run(store, "q-power", Q2, "resolved")
    # a manual run of another occurrence (or of none) does not count for this one
    record_drill_run(store, "q-power", None, "resolved")
    execute = Executor(store)
    assert job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False) == []
    assert execute.calls == []
    (state,) = drill_states(store, load_config(project), utc("2026-04-01T02:00:00"))
    assert state.state == f"done by {manual}"


def test_a_definition_that_does_not_load_fails_alone(store: Store, project: Path) -> None:
    write_drill(project, "a-bad", mode="rehearse")  # not a mode
    write_drill(project, "b-good")
    execute = Executor(store)
    actions = job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False)
    assert [(a.subject, a.kind, a.failed) for a in actions] == [
        ("a-bad", "error", True),
        ("b-good", "drill-run", False),
    ]
    assert actions[0].text.startswith("a-bad: not loaded: ") and "mode" in actions[0].text
    assert execute.calls == [("b-good", Q2)]


def test_upcoming_lists_next_occurrences(store: Store, project: Path) -> None:
    write_drill(project, "q-power")
    write_drill(project, "m-net", schedule="monthly")
    write_drill(project, "by-hand", schedule=None)
    execute = Executor(store)
    job(store, project, "2026-04-01T02:00:00", execute).run(dry_run=False)
    assert [c[0] for c in execute.calls] == ["m-net", "q-power"]
    write_drill(project, "w-new", schedule="weekly")  # added later, never run
    items = job(store, project, "2026-04-15T00:00:00").upcoming()  # a Wednesday
    assert [(i.subject, i.due) for i in items] == [
        ("w-new", utc("2026-04-13T01:00:00")),  # due since Monday 09:00 CST: shown as such
        ("m-net", utc("2026-05-01T01:00:00")),
        ("q-power", utc("2026-07-01T01:00:00")),
    ]
    assert items[2].what == "simulate drill of power-outage"
    assert items[2].to_dict()["schedule"] == "0 9 1 1,4,7,10 *"


def test_an_interrupted_run_stops_the_call(store: Store, project: Path) -> None:
    """Ctrl-C during one drill ends the call: the next drill is not started (it stays due
    for the next call); the interrupted occurrence keeps its claim (not retried)."""
    write_drill(project, "a-first")
    write_drill(project, "b-second")
    execute = Executor(store, outcome="interrupted")
    original = execute.__call__

    def interrupted(drill: Drill, occurrence: str) -> Ran:
        ran = original(drill, occurrence)
        return Ran(ran.run_id, 130, None, "interrupted")

    (only,) = job(store, project, "2026-04-01T02:00:00", interrupted).run(dry_run=False)
    assert (only.subject, only.failed) == ("a-first", True)
    assert [c[0] for c in execute.calls] == ["a-first"]
    states = drill_states(store, load_config(project), utc("2026-04-01T02:00:00"))
    assert [s.due for s in states] == [False, True]

    def raising(drill: Drill, occurrence: str) -> Ran:
        raise RunInterrupted("interrupted")

    with pytest.raises(RunInterrupted):
        job(store, project, "2026-04-01T02:00:00", raising).run(dry_run=False)
    claims = {c["drill"]: c for c in store.drill_occurrences()}
    assert (claims["b-second"]["run_id"], claims["b-second"]["detail"]) == (None, "interrupted")


def test_respond_yaml_timezone_is_the_default_zone(store: Store, project: Path) -> None:
    """A schedule without a zone is read in respond.yaml's `timezone`: at 02:00 UTC on
    April 1st, Shanghai's 09:00 has passed (01:00 UTC), London's has not."""
    folder = project / "drills"
    folder.mkdir()
    (folder / "bare.yaml").write_text(
        "drill: bare\nrunbook: power-outage\nschedule: quarterly\n", encoding="utf-8"
    )
    at = utc("2026-04-01T02:00:00")
    found = {}
    for zone in ("Asia/Shanghai", "Europe/London"):
        (project / "respond.yaml").write_text(f"project: test\ntimezone: {zone}\n", "utf-8")
        (state,) = drill_states(store, load_config(project), at)
        found[zone] = (state.current, state.zone)
    assert found == {
        "Asia/Shanghai": (utc("2026-04-01T01:00:00"), "Asia/Shanghai"),
        "Europe/London": (utc("2026-01-01T09:00:00"), "Europe/London"),
    }


def test_interrupted_before_the_run_started_also_stops_the_call(
    store: Store, project: Path
) -> None:
    write_drill(project, "a-first")
    write_drill(project, "b-second")
    asked: list[str] = []

    def cut_short(drill: Drill, occurrence: str) -> Ran:
        asked.append(drill.id)
        return Ran(None, 130, None, "interrupted while the lab started")

    (only,) = job(store, project, "2026-04-01T02:00:00", cut_short).run(dry_run=False)
    assert only.text.endswith("): interrupted while the lab started") and only.failed
    assert asked == ["a-first"] and only.data["exit_code"] == 130


def test_a_machine_off_for_days_runs_a_daily_drill_once(store: Store, project: Path) -> None:
    write_drill(project, "daily", schedule="'0 9 * * *'")  # 09:00 CST = 01:00 UTC
    execute = Executor(store)
    job(store, project, "2026-05-01T02:00:00", execute).run(dry_run=False)
    # off from May 1st to May 5th noon: only May 5th's occurrence runs, three were missed
    (ran,) = job(store, project, "2026-05-05T04:00:00", execute).run(dry_run=False)
    assert ran.at == "2026-05-05T01:00:00.000000Z"
    assert ran.data["missed"] == [f"2026-05-0{d}T01:00:00.000000Z" for d in (2, 3, 4)]
    assert job(store, project, "2026-05-05T12:00:00", execute).run(dry_run=False) == []
    assert len(execute.calls) == 2
