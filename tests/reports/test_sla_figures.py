"""The SLA report's pure parts: the range from --from/--to, judging clocks, durations and
local times, and bad input on the command line (exit 2, one line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli

from respond.clock import FORMS, iso
from respond.reports import sla, sla_render

NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


@pytest.fixture
def shanghai(local_zone: Callable[[str], None]) -> None:
    local_zone("Asia/Shanghai")


def test_a_date_is_a_whole_local_day_unless_it_names_a_zone(shanghai: None) -> None:
    span = sla.window("2026-11-01", "2026-11-30", NOW)
    assert span.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # Shanghai midnight
    assert span.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # the day after --to
    assert sla.parse_bound("2026-11-01Z", NOW, end=False) == datetime(2026, 11, 1, tzinfo=UTC)
    assert sla.parse_bound("2026-11-01-05:00", NOW, end=True) == datetime(
        2026, 11, 2, 5, 0, tzinfo=UTC
    )
    # a time: that moment (local unless it has an offset), --to includes it
    assert sla.parse_bound("2026-11-01 08:00", NOW, end=False) == datetime(
        2026, 11, 1, 0, 0, tzinfo=UTC
    )
    end = sla.parse_bound("2026-11-01T08:00+08:00", NOW, end=True)
    assert sla.Window(None, end).holds(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="not a date"):
        sla.parse_bound("2026-02-30", NOW, end=False)
    with pytest.raises(ValueError, match=r"not a UTC offset: '\+25:00'"):
        sla.parse_bound("2026-11-01+25:00", NOW, end=False)
    with pytest.raises(ValueError, match="not a time"):
        sla.parse_bound("last tuesday", NOW, end=False)
    with pytest.raises(ValueError, match="before --from"):
        sla.window("2026-11-05", "2026-11-01", NOW)


def _summary(**over: Any) -> dict[str, Any]:
    detected = NOW - timedelta(hours=10)
    base: dict[str, Any] = {
        "incident_id": "INC-1",
        "title": "核心交换机故障 core switch down",
        "site": "主机房",
        "detected_at": iso(detected),
        "status": "open",
        "level": 2,
        "sla_level": 2,
        "respond_due": iso(detected + timedelta(hours=1)),
        "restore_due": iso(detected + timedelta(hours=8)),
        "acked_at": None,
        "respond_s": None,
        "restore_s": None,
        "respond_met": None,
        "restore_met": None,
        "escalations": [],
        "vendor": None,
        "next_due": iso(detected + timedelta(hours=1)),
    }
    return base | over


def test_a_clock_that_can_no_longer_be_met_is_missed_before_the_schedule_records_it() -> None:
    late = _summary()  # nobody acknowledged, deadlines passed, no miss recorded yet
    fresh = _summary(
        incident_id="INC-2",
        detected_at=iso(NOW - timedelta(minutes=5)),
        respond_due=iso(NOW + timedelta(minutes=55)),
        restore_due=iso(NOW + timedelta(hours=8)),
        next_due=iso(NOW + timedelta(minutes=55)),
    )
    done = _summary(
        incident_id="INC-3",
        status="resolved",
        respond_s=600.0,
        respond_met=True,
        restore_s=9 * 3600.0,
        restore_met=False,
        escalations=[{"from": 2, "to": 1, "automatic": True}, {"from": 1, "to": 1}],
    )
    no_fault = _summary(incident_id="INC-4", status="no-fault")
    report = sla.build([late, fresh, done, no_fault], now=NOW)
    level = report.levels[1]
    assert level.level == 2 and level.incidents == 3 and report.no_fault == 1
    assert (level.respond.met, level.respond.missed, level.respond.pending) == (1, 1, 1)
    assert (level.restore.met, level.restore.missed, level.restore.pending) == (0, 2, 1)
    assert (level.respond.mean_s, level.restore.worst_s) == (600.0, 9 * 3600.0)
    assert (level.automatic_escalations, level.incidents_escalated) == (1, 1)
    # open incidents, the most urgent first; which deadline comes next
    assert [(o.incident_id, o.clock) for o in report.open_incidents] == [
        ("INC-1", "respond"),
        ("INC-2", "respond"),
    ]
    table = sla_render.to_table(report)
    assert "overdue by 9h 00m" in table  # INC-1's respond deadline passed 9 hours ago


def test_vendor_clocks_start_when_the_case_is_reported() -> None:
    limits = {"accept": 3600, "on_site": 7200, "restore": 8 * 3600}
    reported = NOW - timedelta(hours=5)
    measured = _summary(
        vendor={
            "case": "VC-1",
            "reported_at": iso(reported),
            "accepted_at": iso(reported + timedelta(minutes=30)),
            "on_site_at": None,  # promised within 2h, 5h ago: missed
            "restored_at": None,  # the incident's own restoration stands in
            "limits": limits,
        },
        restored_at=iso(reported + timedelta(hours=4)),
    )
    unreported = _summary(incident_id="INC-2", vendor={"case": "VC-2", "limits": limits})
    report = sla.build([measured, unreported], now=NOW)
    vendor = report.vendor_total
    assert vendor.cases == 2
    assert (vendor.accept.met, vendor.accept.known, vendor.accept.mean_s) == (1, 1, 1800.0)
    assert (vendor.on_site.missed, vendor.on_site.known) == (1, 0)
    assert (vendor.restore.met, vendor.restore.worst_s) == (1, 4 * 3600.0)


def test_durations_and_local_times(shanghai: None) -> None:
    assert [sla_render.duration(s) for s in (3900, 750, 45, None)] == [
        "1h 05m",
        "12m 30s",
        "45s",
        "-",
    ]
    assert sla_render.local(NOW) == "2026-12-02 09:30 CST"
    report = sla.build([], now=NOW)
    assert "times in local time: CST (UTC+08:00)" in sla_render.to_table(report)


def test_bad_dates_on_the_command_line_exit_2_with_one_line(tmp_path: Path, respond: Cli) -> None:
    (tmp_path / "respond.yaml").write_text("project: test\n", encoding="utf-8")
    cli = respond.bind(cwd=tmp_path)
    bad = cli("report", "sla", "--from", "yesterday-ish")
    assert bad.rc == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [f"error: not a time: 'yesterday-ish' (use {FORMS})"]
    backwards = cli("report", "sla", "--from", "2026-11-05", "--to", "2026-11-01")
    assert backwards.rc == 2
    assert backwards.stderr.strip() == "error: --to 2026-11-01 is before --from 2026-11-05"


def test_the_formulas_in_the_docs_are_the_reports(repo_root: Path) -> None:
    docs = (repo_root / "docs" / "incidents.md").read_text(encoding="utf-8")
    for name, text in sla.FORMULAS:
        assert f"| {name} | {text} |" in docs, name
