"""Reading inspection runs back (respond.inspections.record) from a real store, SQLite and
PostgreSQL: the graded results per check and host, the run before, what changed since
(worse, new, better, gone), and every result in a period across runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from records import (
    OPERATOR,
    START,
    TITLE,
    clock_on_store,
    disk,
    load,
    meta,
    record_inspection,
    unreachable,
    ups,
)

from respond.checks.result import State
from respond.errors import InvalidInput
from respond.events import EventDraft, EventKind
from respond.inspections.record import (
    load_inspection_run,
    previous_run,
    results_between,
    trend,
)
from respond.timeline import Store

DAY = timedelta(days=1)

# the run before: db1's disk WARNING, the UPS on battery; web1's load not checked
BEFORE = [disk("db1", 85), disk("web1", 55), load("db1", 0.2), ups("ups1", 29, on_battery=True)]
# this run: db1's disk CRITICAL (worse), web1's load unreadable (new), the UPS back on line
# (better), web1's disk not checked (gone), db1's load still OK (unchanged)
NOW = [disk("db1", 93), load("db1", 0.3), unreachable("load", "web1"), ups("ups1", 42)]


def test_an_inspection_run_read_back_with_every_graded_result(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = clock_on_store(monkeypatch)
    seeded = record_inspection(store, clock, NOW)

    record = load_inspection_run(store, seeded.run_id[:17])  # a prefix names it

    assert record.run.run_id == seeded.run_id and record.name == "daily"
    assert (record.version, record.title, record.operator) == ("1.0.0", TITLE, OPERATOR)
    assert record.inventory == "inventory/lab.yaml" and record.verified is True
    assert record.hosts == ("db1", "ups1", "web1")
    assert [c["id"] for c in record.checks] == ["disk", "load", "ups"]
    # in the inspection's check order, then by host
    got = [(r.check_id, r.host, r.state, r.status) for r in record.results]
    assert got == [
        ("disk", "db1", State.CRITICAL, "ok"),
        ("load", "db1", State.OK, "ok"),
        ("load", "web1", State.UNKNOWN, "failed"),
        ("ups", "ups1", State.OK, "ok"),
    ]
    first = record.results[0]
    assert first.title == "磁盘空间 / Disk space"  # the inspection's title of the check
    assert record.results[1].title == "load check"  # none given: the step's name
    assert first.result.value == 93 and first.result.unit == "%" and first.result.crit == "90"
    assert first.result.summary == "DISK CRITICAL - / 93% used"
    assert first.at == (START + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert first.run_id == seeded.run_id and first.inspection == "daily"


def test_a_run_of_a_runbook_is_not_an_inspection(store: Store) -> None:
    plain = {key: value for key, value in meta().items() if key != "inspection"}
    store.create_run("20261201T000000Z-abcd", {**plain, "runbook": "power-outage"})
    with pytest.raises(InvalidInput) as caught:
        load_inspection_run(store, "20261201T000000Z-ab")
    assert str(caught.value) == (
        "20261201T000000Z-abcd is a run of runbook power-outage, not an inspection"
    )


def test_trend_against_the_previous_run_of_the_same_inspection(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = clock_on_store(monkeypatch)
    before = record_inspection(store, clock, BEFORE, start=START)
    # another inspection in between is not "the run before"
    record_inspection(store, clock, NOW, start=START + DAY / 2, name="monthly")
    now = record_inspection(store, clock, NOW, start=START + DAY)

    current = load_inspection_run(store, now.run_id)
    previous = previous_run(store, current)
    assert previous is not None and previous.run.run_id == before.run_id
    assert previous_run(store, previous) is None

    changes = trend(current, previous)
    assert [(c.kind, c.check_id, c.host, c.worse) for c in changes] == [
        ("worse", "disk", "db1", True),
        ("new", "load", "web1", True),
        ("better", "ups", "ups1", False),
        ("gone", "disk", "web1", False),
    ]
    assert changes[0].text == "worse: disk on db1 WARNING → CRITICAL (DISK CRITICAL - / 93% used)"
    assert changes[1].text == "new: load on web1 UNKNOWN (LOAD UNKNOWN - connection refused)"
    assert changes[2].before is not None and changes[2].before.state is State.CRITICAL
    assert changes[3].text == "gone: disk on web1 (was OK)" and changes[3].after is None
    assert trend(current, None) == []


def test_results_in_a_period_across_runs_sorted_by_time_then_device(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = clock_on_store(monkeypatch)
    first = record_inspection(store, clock, BEFORE, start=START)
    second = record_inspection(store, clock, NOW, start=START + DAY)
    record_inspection(store, clock, BEFORE, start=START + 2 * DAY)
    # a run of a runbook in the period is no inspection result
    store.create_run("20261202T010000Z-0000", {**meta(), "inspection": None})
    store.append("20261202T010000Z-0000", [EventDraft(kind=EventKind.NOTE, data={"text": "x"})])

    day2 = results_between(store, "2026-12-02", "2026-12-02")
    assert {r.run_id for r in day2} == {second.run_id}
    assert [(r.host, r.check_id) for r in day2] == [
        ("db1", "disk"),
        ("db1", "load"),
        ("web1", "load"),
        ("ups1", "ups"),
    ]  # by the time each was read
    assert [r.at for r in day2] == sorted(r.at for r in day2)

    both = results_between(store, START, START + DAY + timedelta(hours=1), host="db1")
    assert [(r.run_id, r.check_id) for r in both] == [
        (first.run_id, "disk"),
        (first.run_id, "load"),
        (second.run_id, "disk"),
        (second.run_id, "load"),
    ]
    only_ups = results_between(store, None, None, check="ups", inspection="daily")
    assert [r.state for r in only_ups] == [State.CRITICAL, State.OK, State.CRITICAL]
    assert results_between(store, None, None, inspection="monthly") == []
    # a moment inside a run: only what was read up to then
    cut = results_between(store, START, START + timedelta(seconds=5))
    assert [(r.check_id, r.host) for r in cut] == [("disk", "db1"), ("disk", "web1")]
