"""The store's incident side, on SQLite and PostgreSQL: ids, finding an incident from what a
user typed, runs vs incident records in listings, summaries by detection time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from incidentkit import T0, add_run, at, new_book, open_incident

from respond.clock import ManualClock
from respond.errors import TimelineError, UnknownRun
from respond.timeline import Store
from respond.timeline.store import new_incident_id


def test_incident_ids_are_sortable_utc_times() -> None:
    when = datetime(2026, 12, 2, 9, 30, 5, tzinfo=UTC) + timedelta(hours=8)
    found = new_incident_id(when.astimezone())
    assert re.fullmatch(r"INC-20261202T173005Z-[0-9a-f]{4}", found)


def test_an_incident_is_found_by_its_id_a_prefix_or_one_of_its_runs(store: Store) -> None:
    book = new_book(store, ManualClock(T0))
    inc = open_incident(book)
    add_run(store, inc, "20261202T010000Z-aaaa")
    add_run(store, None, "20261202T020000Z-dddd", drill=True)
    add_run(store, None, "20261202T030000Z-0000")  # recorded before incidents existed
    assert store.resolve_incident(inc) == inc
    assert store.resolve_incident(inc[:-2]) == inc
    assert store.resolve_incident("20261202T010000Z-aaaa") == inc
    assert store.resolve_incident("20261202T01") == inc  # a run's prefix
    with pytest.raises(UnknownRun, match="is a drill: drills are not incidents") as drill:
        store.resolve_incident("20261202T020000Z")
    assert drill.value.exit_code == 2
    assert str(drill.value) == "run 20261202T020000Z-dddd is a drill: drills are not incidents"
    with pytest.raises(UnknownRun, match="belongs to no incident"):
        store.resolve_incident("20261202T03")
    with pytest.raises(UnknownRun, match="no incident 'INC-1999'") as unknown:
        store.resolve_incident("INC-1999")
    assert unknown.value.hint and "respond incident list" in unknown.value.hint
    open_incident(book)
    with pytest.raises(UnknownRun, match="incident id prefix 'INC-' is ambiguous"):
        store.resolve_incident("INC-")


def test_listings_show_runs_and_incidents_apart(store: Store) -> None:
    book = new_book(store, ManualClock(T0))
    inc = open_incident(book)
    add_run(store, inc, "20261202T010000Z-aaaa")
    add_run(store, None, "20261202T020000Z-dddd", drill=True)
    listed = {r.run_id: r.incident for r in store.runs()}
    assert listed == {"20261202T010000Z-aaaa": inc, "20261202T020000Z-dddd": None}
    assert store.run("20261202T010000Z-aaaa").to_dict()["incident"] == inc
    assert [r.run_id for r in store.incident_runs(inc)] == ["20261202T010000Z-aaaa"]
    assert inc in store.run_ids()  # verify and export still cover the incident record


def test_summaries_are_filtered_by_detection_time_and_status(store: Store) -> None:
    clock = ManualClock(T0)
    book = new_book(store, clock)
    early = open_incident(book, detected_at=at(-30))
    late = open_incident(book, detected_at=at(0))
    book.resolve(late, by="li", cause="c", prevention="p")
    ids = [s["incident_id"] for s in store.incident_summaries()]
    assert ids == [early, late]  # by detection time
    assert [s["incident_id"] for s in store.incident_summaries(since="2026-12-02")] == [late]
    assert [s["incident_id"] for s in store.incident_summaries(until=at(-1))] == [early]
    assert [s["incident_id"] for s in store.incident_summaries(status="open")] == [early]


def test_a_record_kind_must_be_run_or_incident(store: Store) -> None:
    with pytest.raises(TimelineError, match="unknown record kind 'meeting'"):
        store.create_run("20261202T010000Z-eeee", {"record": "meeting"})
