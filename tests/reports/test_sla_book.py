"""The SLA report over incidents recorded by the real IncidentBook (not the seeder), moved
through their lives with a ManualClock: the report reads what the book writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import slaseed

from respond.clock import ManualClock
from respond.incidents.book import IncidentBook
from respond.reports import sla, sla_render
from respond.timeline import Store

T = datetime(2026, 11, 2, 15, 50, tzinfo=UTC)  # 23:50 in Shanghai
H = 3600.0


def _open(book: IncidentBook, level: int, detected: datetime, title: str) -> str:
    return book.open(
        title=title,
        runbook="server-failure",
        version="2.0.0",
        scenario="server",
        severity=level,
        detected_at=detected,
        reported_by="值班员 Li",
        site="主机房",
        description="存储告警",
        operator="Zhang Wei",
    )


def test_the_report_reads_what_the_book_records(sqlite_store: Store) -> None:
    clock = ManualClock(T)
    book = IncidentBook(sqlite_store, clock=clock, limits=slaseed.LIMITS, vendor=slaseed.VENDOR)

    # level 2: acknowledged in 20m, escalated by the deadline check at 8h, restored by a
    # run at 9h; the vendor restored it exactly at its promised 8h after the report
    late = _open(book, 2, T, "磁盘故障 disk failure")
    clock.set(T + timedelta(minutes=20))
    book.ack(late, by="Li")
    clock.set(T + timedelta(minutes=30))
    book.attach(late, "run-1", runbook="server-failure", version="2.0.0", operator="Li")
    book.vendor_case(late, by="Li", case="VC-9", reported_at=T + timedelta(hours=1))
    book.vendor_case(late, by="Li", accepted_at=T + timedelta(hours=1, minutes=30))
    book.vendor_case(late, by="Li", on_site_at=T + timedelta(hours=4))
    clock.set(T + timedelta(hours=9))
    assert [e.kind for e in book.check_deadlines(late)] == ["escalated"]
    book.run_ended(late, "run-1", outcome="resolved", status="succeeded", reason=None)

    # opened at 3, re-classified to 4; resolved with cause after 3h, nobody acknowledged
    quiet = _open(book, 3, T + timedelta(days=1), "OA 缓慢 OA slow")
    clock.set(T + timedelta(days=1, minutes=10))
    book.set_severity(quiet, 4, reason="workaround exists", by="Li")
    book.resolve(quiet, by="Li", at=T + timedelta(days=1, hours=3), cause="索引", prevention="巡检")

    # level 1, nobody answers: both deadlines pass and are recorded
    lost = _open(book, 1, T + timedelta(days=2), "核心交换机 core switch")
    clock.set(T + timedelta(days=2, hours=5))
    kinds = [e.kind for e in book.check_deadlines(lost)]
    assert kinds == ["deadline-missed", "deadline-missed"]

    # no fault found: not counted
    nothing = _open(book, 2, T + timedelta(days=2), "误报 false alarm")
    book.attach(nothing, "run-2", runbook="server-failure", version="2.0.0", operator="Li")
    book.run_ended(nothing, "run-2", outcome="no-fault", status="succeeded", reason=None)

    report = sla.collect(sqlite_store, sla.Window(), clock.now())
    levels = {row.level: row for row in report.levels}
    two, four, one = levels[2], levels[4], levels[1]
    assert (two.incidents, two.respond.met, two.restore.missed) == (1, 1, 1)
    assert (two.respond.mean_s, two.restore.worst_s) == (20 * 60, 9 * H)
    assert (two.automatic_escalations, two.incidents_escalated) == (1, 1)
    assert (four.incidents, four.respond.missed, four.restore.met) == (1, 1, 1)
    assert (four.respond.worst_s, levels[3].incidents) == (3 * H, 0)  # at its SLA level
    assert (one.respond.missed, one.restore.missed, one.respond.known) == (1, 1, 0)
    assert (report.total.incidents, report.no_fault) == (3, 1)
    vendor = report.vendor_total
    assert (vendor.cases, vendor.accept.met, vendor.on_site.missed) == (1, 1, 1)
    assert (vendor.restore.met, vendor.restore.worst_s) == (1, 8 * H)  # ≤ the limit is met
    assert [o.incident_id for o in report.open_incidents] == [lost]
    assert "core switch" in sla_render.to_table(report)

    # from Shanghai's midnight of 3 November: the incident detected at 23:50 there is out
    only = sla.Window(datetime(2026, 11, 2, 16, 0, tzinfo=UTC), None)
    assert sla.collect(sqlite_store, only, clock.now()).total.incidents == 2
