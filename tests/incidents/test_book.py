"""IncidentBook over the real store, on SQLite and PostgreSQL: opening, attaching, the
clocks, closing, announcements after commit, exactly-once across threads and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from incidentkit import BOOK_LIMITS, T0, VENDOR, H, add_run, at, new_book, open_incident

from respond.clock import ManualClock, iso
from respond.config import load_config
from respond.errors import UnknownRun, UsageError
from respond.events import RunEvent
from respond.incident_state import IncidentState
from respond.incidents import IncidentBook, book_for
from respond.timeline import Store


def summary_row(store: Store, incident_id: str) -> dict[str, Any]:
    (found,) = [s for s in store.incident_summaries() if s["incident_id"] == incident_id]
    return found


def test_an_incident_from_opening_to_resolution(store: Store) -> None:
    clock = ManualClock(at(0.25))
    book = new_book(store, clock, vendor=VENDOR)
    inc = open_incident(book, severity=3)
    assert inc.startswith("INC-20261202T011500Z-")
    assert store.meta(inc)["record"] == "incident"
    opened = summary_row(store, inc)
    assert opened["status"] == "open" and opened["sla_level"] == 3
    assert opened["detected_at"] == iso(T0) and opened["opened_at"] is not None
    assert opened["next_due"] == iso(at(1))  # the respond deadline comes first
    assert store.due_incidents(at(0.9)) == [] and store.due_incidents(at(1)) == [inc]

    add_run(store, inc, "20261202T011600Z-aaaa")
    for _ in range(2):  # attaching twice records it once
        book.attach(
            inc,
            "20261202T011600Z-aaaa",
            runbook="network-outage",
            version="2.0.0",
            operator="zhang",
        )
    assert book.ack(inc, by="li") is None  # the attached run acknowledged it already
    clock.set(at(2))
    book.vendor_case(inc, by="zhang", case="V-7", reported_at=at(1.5))
    book.run_ended(
        inc,
        "20261202T011600Z-aaaa",
        outcome="unresolved",
        status="failed",
        reason="waiting for the vendor",
    )
    assert summary_row(store, inc)["status"] == "open"  # the clock keeps running
    clock.set(at(5))
    restored = book.resolve(inc, by="li", at=at(4.5))
    assert [e.kind for e in restored] == ["restored"]
    closed = book.resolve(inc, by="li", cause="光模块损坏 bad SFP", prevention="keep spares")
    assert [e.kind for e in closed] == ["resolved"]
    summary = summary_row(store, inc)
    assert summary["status"] == "resolved" and summary["restored_at"] == iso(at(4.5))
    assert summary["respond_met"] is True and summary["restore_met"] is True
    assert summary["respond_s"] == 0.25 * 3600  # acknowledged by the run attached then
    assert len([r for r in summary["runs"]]) == 1
    assert summary["vendor"]["case"] == "V-7" and summary["vendor"]["limits"]["restore"] == 12 * H
    assert summary["runs"][0]["outcome"] == "unresolved" and summary["next_due"] is None
    assert [r.run_id for r in store.incident_runs(inc)] == ["20261202T011600Z-aaaa"]
    assert store.verify(inc).ok


def test_deadlines_escalate_once_and_the_summary_follows(store: Store) -> None:
    clock = ManualClock(T0)
    book = new_book(store, clock)
    inc = open_incident(book, severity=2)
    book.ack(inc, by="li", at=at(0.5), note="on my way")
    clock.set(at(9))
    assert book.check_all() and book.check_deadlines(inc) == []  # once only
    state = book.state(inc)
    assert state.level == 1 and state.escalations[0]["at"] == iso(at(8))
    summary = summary_row(store, inc)
    assert summary["level"] == 1 and summary["next_due"] == iso(at(12))
    assert summary["restore_met"] is False and summary["respond_met"] is True
    assert store.due_incidents(at(11)) == [] and store.due_incidents(at(12)) == [inc]
    clock.set(at(13))
    (missed,) = book.check_deadlines(inc)
    assert missed.kind == "deadline-missed" and missed.data["level"] == 1
    assert store.due_incidents(at(1000)) == []  # nothing left to be due


def test_people_change_the_record(store: Store) -> None:
    clock = ManualClock(T0)
    book = new_book(store, clock)
    inc = open_incident(book, severity=4)
    with pytest.raises(UsageError, match=r"^severity must be 1-4 \(1 is the worst\), got 5$"):
        book.set_severity(inc, 5, reason="x", by="li")
    with pytest.raises(UsageError, match="already level 4"):
        book.set_severity(inc, 4, reason="x", by="li")
    changed = book.set_severity(inc, 2, reason="OA 全部中断", by="li")
    assert changed.data["from"] == 4 and changed.data["to"] == 2 and changed.actor == "li"
    assert book.escalate(inc, reason="step failed", by="zhang", run_id="R", step_id="s1")
    assert book.escalate(inc, reason="again", by="zhang") is None  # level 1 is the top
    assert book.note(inc, "值班长已到场", by="zhang").data == {"text": "值班长已到场"}
    with pytest.raises(UsageError, match="before incident"):
        book.resolve(inc, by="li", at=at(-1))
    with pytest.raises(UsageError, match="give both a cause and a prevention"):
        book.resolve(inc, by="li", cause="x")
    book.resolve(inc, by="li", cause="c", prevention="p")
    with pytest.raises(UsageError, match=f"incident {inc} is resolved"):
        book.attach(inc, "R2", runbook=None, version=None, operator="z")
    with pytest.raises(UsageError, match="is resolved"):
        book.resolve(inc, by="li", cause="c", prevention="p")
    with pytest.raises(UnknownRun, match="not an incident"):
        add_run(store, None, "20261202T020000Z-bbbb")
        book.note("20261202T020000Z-bbbb", "x", by="z")


def test_a_failed_summary_write_undoes_the_append(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary row is written in the appending transaction: when it fails, the event
    was never recorded either."""
    import respond.timeline.store as store_module

    book = new_book(store, ManualClock(T0))
    inc = open_incident(book)
    before = len(store.events(inc))

    def broken(tx: Any, incident_id: str) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(store_module, "_write_summary", broken)
    with pytest.raises(RuntimeError):
        book.note(inc, "lost", by="z")
    assert len(store.events(inc)) == before


def test_append_if_decides_from_the_events_it_locked(store: Store) -> None:
    book = new_book(store, ManualClock(T0))
    inc = open_incident(book)
    seen: list[int] = []

    def nothing(events: list[RunEvent]) -> list[Any]:
        seen.append(len(events))
        return []

    assert store.append_if(inc, nothing) == [] and seen == [1]
    with pytest.raises(ValueError):
        store.append_if(inc, lambda events: (_ for _ in ()).throw(ValueError("no")))


def test_the_announcer_hears_after_commit_and_cannot_lose_an_event(
    store: Store, make_store: Callable[..., Store]
) -> None:
    other = make_store()  # a second connection sees only what was committed
    heard: list[tuple[str, int, bool]] = []

    def announce(state: IncidentState, event: RunEvent) -> None:
        committed = any(e.seq == event.seq for e in other.events(event.run_id))
        heard.append((event.kind, state.level, committed))
        if event.kind == "escalated":
            raise RuntimeError("SMS gateway exploded")

    clock = ManualClock(T0)
    book = new_book(store, clock, announce=announce)
    inc = open_incident(book, severity=3)
    add_run(store, inc, "20261202T010100Z-cccc")
    book.attach(inc, "20261202T010100Z-cccc", runbook=None, version=None, operator="z")
    book.ack(inc, by="li")
    book.note(inc, "x", by="li")
    clock.set(at(13))
    escalated = book.check_deadlines(inc)
    assert [e.kind for e in escalated] == ["escalated"]  # returned although announcing raised
    book.run_ended(inc, "20261202T010100Z-cccc", outcome="resolved", status="ok", reason=None)
    assert heard == [
        ("incident-opened", 3, True),
        ("escalated", 2, True),
        ("run-ended", 2, True),  # it restored the incident: people are told
    ]
    events = store.events(inc)
    assert [e.kind for e in events].count("escalated") == 1
    failed = [e for e in events if e.kind == "notification-failed"]
    assert len(failed) == 1 and "SMS gateway exploded" in failed[0].data["error"]
    assert failed[0].data["event"] == "escalated"
    assert summary_row(store, inc)["notifications"] == {"sent": 0, "failed": 1}
    assert store.verify(inc).ok


def test_two_threads_checking_at_the_same_moment_record_one_escalation(
    make_store: Callable[..., Store],
) -> None:
    clock = ManualClock(T0)
    inc = open_incident(new_book(make_store(), clock), severity=4)
    clock.set(at(1000))
    books = [new_book(make_store(), clock) for _ in range(2)]  # two connections
    gate = threading.Barrier(2)
    results: list[list[RunEvent]] = []

    def check(book: IncidentBook) -> None:
        gate.wait(timeout=30)
        results.append(book.check_deadlines(inc))

    threads = [threading.Thread(target=check, args=(b,)) for b in books]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 5]  # respond missed, 3 escalations, missed
    kinds = [e.kind for e in books[0].store.events(inc)]
    assert kinds.count("escalated") == 3 and kinds.count("deadline-missed") == 2


CHECKER = """
import json, sys
from respond.clock import ManualClock, parse_iso
from respond.config import load_config
from respond.incidents import IncidentBook
from respond.timeline import open_store

project, incident, now = sys.argv[1:4]
store = open_store(load_config(project))
limits = {int(k): v for k, v in json.loads(sys.argv[4]).items()}
book = IncidentBook(store, clock=ManualClock(parse_iso(now)), limits=limits)
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps([e.kind for e in book.check_deadlines(incident)]), flush=True)
"""


def test_two_processes_checking_at_the_same_moment_record_one_escalation(
    make_store: Callable[..., Store], project: Path
) -> None:
    store = make_store()
    inc = open_incident(new_book(store, ManualClock(T0)), severity=4)
    argv = [
        sys.executable,
        "-c",
        CHECKER,
        str(project),
        inc,
        iso(at(1000)),
        json.dumps(BOOK_LIMITS),
    ]
    procs = [
        subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ)
        )
        for _ in range(2)
    ]
    for p in procs:  # both are connected and waiting
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:  # then both go at once
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(len(o) for o in outputs) == [0, 5]
    kinds = [e.kind for e in store.events(inc)]
    assert kinds.count("escalated") == 3 and kinds.count("deadline-missed") == 2


def test_book_for_takes_the_projects_severity_policy(store: Store, project: Path) -> None:
    (project / "respond.yaml").write_text(
        "project: test\nseverity:\n  2: {respond: 10m, restore: 2h}\n", encoding="utf-8"
    )
    book = book_for(store, load_config(project), clock=ManualClock(T0))
    inc = open_incident(book, severity=2)
    summary = summary_row(store, inc)
    assert summary["limits"] == {"respond": 600.0, "restore": 7200.0}
    assert summary["restore_due"] == iso(at(2))


def test_what_people_type_passes_the_masker(store: Store) -> None:
    from respond.secrets import Masker

    book = new_book(store, ManualClock(T0), masker=Masker(["hunter2"]))
    inc = open_incident(book, description="root password hunter2 on the console")
    book.note(inc, "changed hunter2 afterwards", by="li")
    record = json.dumps([e.data for e in store.events(inc)], ensure_ascii=False)
    record += json.dumps(store.meta(inc)) + json.dumps(store.incident_summaries())
    assert "hunter2" not in record and "root password *** on the console" in record


def test_incidents_opened_in_the_same_second_get_distinct_ids(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import respond.incidents.book as book_module

    book = new_book(store, ManualClock(T0))
    first = open_incident(book)
    fixed = iter([first, first, first[:-4] + "beef"])  # the random part repeats twice
    monkeypatch.setattr(book_module, "new_incident_id", lambda now: next(fixed))
    assert open_incident(book) == first[:-4] + "beef"


def test_one_incident_that_cannot_be_checked_does_not_stop_the_others(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from respond.incidents.book import DeadlineCheckFailed

    clock = ManualClock(T0)
    book = new_book(store, clock)
    broken, fine = open_incident(book, severity=4), open_incident(book, severity=4)
    real = book.check_deadlines

    def check(incident_id: str) -> list[RunEvent]:
        if incident_id == broken:
            raise UnknownRun("record damaged")
        return real(incident_id)

    monkeypatch.setattr(book, "check_deadlines", check)
    clock.set(at(2))
    with pytest.raises(DeadlineCheckFailed, match=f"incident {broken}: record damaged") as exc:
        book.check_all()
    assert [(i, [e.kind for e in ev]) for i, ev in exc.value.done] == [(fine, ["deadline-missed"])]
    assert exc.value.exit_code == 1
