"""The schedule's inspection job on both stores (SQLite and a real PostgreSQL), at fixed
``now``s: what is due, what runs (once, also under two callers at the same moment), what
was missed (reported, never caught up), what comes next, and a dry run that records
nothing. The runs are made by a small executor that records an inspection run the way
``execute_inspection`` does (meta ``inspection.name`` and ``inspection.occurrence``), so the
job is seen deciding from the record alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from inspectionkit import write_inspection
from storekit import backend, make_store, project

from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.schedule.inspections import InspectionJob, claim_key, inspection_states
from respond.timeline import Store, open_store
from respond.timeline.store import new_run_id

__all__ = ["backend", "make_store", "project"]

# Daily at 08:00 in Shanghai = 00:00 UTC.
DAY1 = "2026-12-01T00:00:00.000000Z"
DAY2 = "2026-12-02T00:00:00.000000Z"
DAY5 = "2026-12-05T00:00:00.000000Z"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Ran:
    run_id: str | None
    exit_code: int
    outcome: str | None
    error: str | None


class Executor:
    """Records an inspection run per call (or fails as told); remembers what it was asked.
    ``gate``: a barrier both callers of a race pass before recording (each has claimed or
    lost by then)."""

    def __init__(self, store: Store, *, outcome: str = "no-fault", crash: str | None = None):
        self.store = store
        self.outcome = outcome
        self.crash = crash
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, inspection: Any, occurrence: str) -> Ran:
        with self.lock:
            self.calls.append((inspection.id, occurrence))
        if self.crash:
            raise RuntimeError(self.crash)
        run_id = record_inspection_run(self.store, inspection.id, occurrence, self.outcome)
        return Ran(run_id, 0 if self.outcome == "no-fault" else 1, self.outcome, None)


def record_inspection_run(store: Store, name: str, occurrence: str | None, outcome: str) -> str:
    run_id = new_run_id()
    meta = {
        "runbook": name,
        "version": "1.0.0",
        "drill": False,
        "severity": 4,
        "inspection": {"name": name, "version": "1.0.0", "occurrence": occurrence},
    }
    store.create_run(run_id, meta)
    status = "succeeded" if outcome == "no-fault" else "failed"
    store.append(
        run_id,
        [
            EventDraft(kind=EventKind.RUN_STARTED, data={}),
            EventDraft(kind=EventKind.RUN_FINISHED, data={"status": status, "outcome": outcome}),
        ],
    )
    return run_id


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    """Both stores: the claim is the store's (a primary key decides)."""
    return make_store()


@pytest.fixture
def sqlite(project: Path) -> Iterator[Store]:
    """SQLite only: what the job decides from the record, the same on either store."""
    with open_store(load_config(project)) as opened:
        yield opened


def job(
    store: Store, project: Path, now: str, execute: Callable[[Any, str], Ran] | None = None
) -> InspectionJob:
    return InspectionJob(store, load_config(project), utc(now), execute, by="test@host")


def test_due_once_then_nothing(store: Store, project: Path) -> None:
    write_inspection(project, "daily")
    execute = Executor(store)
    actions = job(store, project, "2026-12-01T01:00:00", execute).run(dry_run=False)
    assert execute.calls == [("daily", DAY1)]
    (ran,) = actions
    assert (ran.job, ran.kind, ran.subject, ran.at, ran.failed) == (
        "inspections",
        "inspection-run",
        "daily",
        DAY1,
        False,
    )
    assert ran.text.startswith(f"daily: inspection run {ran.data['run_id']} no-fault (exit 0")
    (claim,) = store.drill_occurrences(claim_key("daily"))
    assert (claim["occurrence"], claim["claimed_by"]) == (DAY1, "test@host")
    assert claim["run_id"] == ran.data["run_id"]
    # later that day: nothing due; the state names the run
    assert job(store, project, "2026-12-01T15:00:00", execute).run(dry_run=False) == []
    assert len(execute.calls) == 1
    (state,) = inspection_states(store, load_config(project), utc("2026-12-01T15:00:00"))
    assert state.state == f"done by {ran.data['run_id']}" and not state.due
    # an inspection that found problems is a finding (exit 1), not a failed job
    problems = Executor(store, outcome="unresolved")
    (found,) = job(store, project, "2026-12-02T01:00:00", problems).run(dry_run=False)
    assert (found.at, found.data["exit_code"], found.failed) == (DAY2, 1, False)


def test_two_callers_at_once_run_the_occurrence_once(store: Store, project: Path) -> None:
    write_inspection(project, "daily")
    execute = Executor(store)
    both_found_it_due = threading.Barrier(2, timeout=30)
    claim = store.claim_occurrence

    def claim_together(key: str, occurrence: str, by: str) -> bool:
        both_found_it_due.wait()  # both have read the record and found it due
        return claim(key, occurrence, by)

    store.claim_occurrence = claim_together  # type: ignore[method-assign]
    results: list[list[Any]] = []

    def call() -> None:
        results.append(job(store, project, "2026-12-01T01:00:00", execute).run(dry_run=False))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 1]
    assert execute.calls == [("daily", DAY1)]
    assert len(store.drill_occurrences(claim_key("daily"))) == 1


def test_missed_days_are_reported_not_caught_up(sqlite: Store, project: Path) -> None:
    write_inspection(project, "daily")
    execute = Executor(sqlite)
    job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=False)
    # the machine was off from the 1st to the 5th: only the 5th's occurrence runs
    (ran,) = job(sqlite, project, "2026-12-05T02:00:00", execute).run(dry_run=False)
    assert ran.at == DAY5
    assert ran.data["missed"] == [
        "2026-12-02T00:00:00.000000Z",
        "2026-12-03T00:00:00.000000Z",
        "2026-12-04T00:00:00.000000Z",
    ]
    assert "missed 3 earlier, not run" in ran.text
    assert [c[1] for c in execute.calls] == [DAY1, DAY5]


def test_an_inspection_that_cannot_start_is_recorded_not_retried(
    sqlite: Store, project: Path
) -> None:
    write_inspection(project, "daily")
    write_inspection(project, "weekly", cron="0 8 * * 1")
    execute = Executor(sqlite, crash="the lab is not running")
    actions = job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=False)
    assert [(a.subject, a.kind, a.failed) for a in actions] == [
        ("daily", "error", True),
        ("weekly", "error", True),
    ]
    assert actions[0].text.endswith("): the lab is not running")
    (claim,) = sqlite.drill_occurrences(claim_key("daily"))
    assert (claim["run_id"], claim["detail"]) == (None, "the lab is not running")
    assert job(sqlite, project, "2026-12-01T03:00:00", execute).run(dry_run=False) == []
    assert len(execute.calls) == 2


def test_dry_run_records_nothing_and_upcoming_lists_next_due(sqlite: Store, project: Path) -> None:
    write_inspection(project, "daily")
    write_inspection(project, "by-hand", cron=None)
    execute = Executor(sqlite)
    dry = job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=True)
    assert [(a.kind, a.subject, a.at) for a in dry] == [("inspection-due", "daily", DAY1)]
    assert dry[0].text.startswith("daily: would run the inspection (occurrence ")
    assert execute.calls == [] and sqlite.drill_occurrences() == []
    # due: the pending occurrence is the current one; once run, the next day's
    (pending,) = job(sqlite, project, "2026-12-01T01:00:00").upcoming()
    assert (pending.job, pending.subject, pending.due) == ("inspections", "daily", utc(DAY1[:19]))
    job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=False)
    (following,) = job(sqlite, project, "2026-12-01T01:00:00").upcoming()
    assert following.due == utc(DAY2[:19])
    assert following.to_dict()["schedule"] == "0 8 * * *"
    # by hand only: never due, listed with its state
    states = {s.name: s for s in inspection_states(sqlite, load_config(project), utc(DAY2[:19]))}
    assert states["by-hand"].state == "by hand only (no schedule)"
    assert not states["by-hand"].due


def test_an_inspection_run_by_hand_for_the_occurrence_takes_it_on(
    sqlite: Store, project: Path
) -> None:
    """A run whose meta names the occurrence (``inspect run`` given it) counts, even
    without a claim; a run of another occurrence, or of none, does not."""
    write_inspection(project, "daily")
    by_hand = record_inspection_run(sqlite, "daily", DAY1, "no-fault")
    record_inspection_run(sqlite, "daily", None, "no-fault")
    execute = Executor(sqlite)
    assert job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=False) == []
    (state,) = inspection_states(sqlite, load_config(project), utc("2026-12-01T01:00:00"))
    assert state.state == f"done by {by_hand}"


def test_a_definition_that_does_not_load_fails_alone(sqlite: Store, project: Path) -> None:
    write_inspection(project, "daily")
    folder = project / "inspections"
    (folder / "broken.yaml").write_text("inspection: broken\nchecks: [\n", encoding="utf-8")
    execute = Executor(sqlite)
    actions = job(sqlite, project, "2026-12-01T01:00:00", execute).run(dry_run=False)
    kinds = {a.subject: (a.kind, a.failed) for a in actions}
    assert kinds == {"broken": ("error", True), "daily": ("inspection-run", False)}
    assert "inspection not loaded: " in next(a.text for a in actions if a.subject == "broken")
