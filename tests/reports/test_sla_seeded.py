"""`respond report sla` over a seeded store of 1,000 incidents, on SQLite and PostgreSQL: every
figure equals the one computed from the seed's parameters (slaseed.expected), for an
unbounded range, local-date ranges in two zones and a range given in another zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import slaseed
from clikit import Cli

from respond.reports import sla
from respond.timeline import Store

N = 1000
FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30


def _assert_clock(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    counts = {k: got[k] for k in ("met", "missed", "pending")}
    assert counts == {k: want[k] for k in ("met", "missed", "pending")}, what
    times = want["times"]
    assert got["measured"] == len(times), what
    if times:
        assert got["mean_s"] == pytest.approx(sum(times) / len(times), abs=1e-3), what
        assert got["worst_s"] == pytest.approx(max(times), abs=1e-3), what
    else:
        assert got["mean_s"] is None and got["worst_s"] is None, what


def assert_figures(report: dict[str, Any], want: dict[int, dict[str, Any]]) -> None:
    """The report's JSON figures against the independently computed ones, level by level,
    and the total row against the sum of the levels."""
    levels = {row["level"]: row for row in report["levels"]}
    vendor = {row["level"]: row for row in report["vendor"]["levels"]}
    assert sorted(levels) == [1, 2, 3, 4]
    for level in (1, 2, 3, 4):
        got, exp = levels[level], want.get(level)
        if exp is None:
            assert got["incidents"] == 0
            continue
        what = f"level {level}"
        assert got["incidents"] == exp["incidents"], what
        _assert_clock(got["respond"], exp["respond"], f"{what} respond")
        _assert_clock(got["restore"], exp["restore"], f"{what} restore")
        assert got["automatic_escalations"] == exp["auto"], what
        assert got["incidents_escalated"] == exp["escalated"], what
        v = vendor[level]
        assert v["cases"] == exp["cases"], what
        _assert_clock(v["accept"], exp["accept"], f"{what} vendor accept")
        _assert_clock(v["on_site"], exp["on_site"], f"{what} vendor on site")
        _assert_clock(v["restore"], exp["v_restore"], f"{what} vendor restore")
    total = report["total"]
    assert total["incidents"] == sum(w["incidents"] for w in want.values())
    assert total["automatic_escalations"] == sum(w["auto"] for w in want.values())
    all_restore = [t for w in want.values() for t in w["restore"]["times"]]
    assert total["restore"]["worst_s"] == pytest.approx(max(all_restore), abs=1e-3)
    assert total["restore"]["mean_s"] == pytest.approx(
        sum(all_restore) / len(all_restore), abs=1e-3
    )


def _midnight(day: str, zone: str) -> datetime:
    y, m, d = map(int, day.split("-"))
    return datetime(y, m, d, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_figures_equal_the_seeds_on_both_stores(
    store: Store, project: Path, respond: Cli, local_zone: Any
) -> None:
    now = datetime.now(UTC)
    plans = slaseed.plans(N, seed=11, now=now, first_day=FIRST_DAY, days=DAYS)
    drills = slaseed.seed(store, plans, drills=4)
    assert sum(p.no_fault for p in plans) > 10 and sum(p.resumed for p in plans) > 10
    assert sum(p.auto_escalations for p in plans) > 50 and sum(bool(p.vendor) for p in plans) > 100

    # everything: every drill listed apart, never counted; open incidents listed
    everything = sla.as_dict(sla.collect(store, sla.Window(), now))
    assert_figures(everything, slaseed.expected(plans, now, None, None))
    assert everything["total"]["incidents"] == sum(not p.no_fault for p in plans)
    assert everything["no_fault_left_out"] == sum(p.no_fault for p in plans)
    assert [d["run_id"] for d in everything["drills"]] == drills
    still_open = {p.incident_id for p in plans if not p.no_fault and p.restore_after is None}
    assert {o["incident_id"] for o in everything["open_incidents"]} == still_open

    # local dates in Shanghai: whole days from that zone's midnight
    local_zone("Asia/Shanghai")
    span = sla.window("2026-10-05", "2026-10-12", now)
    start, end = _midnight("2026-10-05", "Asia/Shanghai"), _midnight("2026-10-13", "Asia/Shanghai")
    assert (span.start, span.end) == (start, end)
    in_shanghai = sla.as_dict(sla.collect(store, span, now))
    assert_figures(in_shanghai, slaseed.expected(plans, now, start, end))
    assert in_shanghai["drills"] == []  # drills run now, outside October

    # the same dates read in New York's zone count other incidents
    local_zone("America/New_York")
    span = sla.window("2026-10-05", "2026-10-12", now)
    start, end = (
        _midnight("2026-10-05", "America/New_York"),
        _midnight("2026-10-13", "America/New_York"),
    )
    assert_figures(
        sla.as_dict(sla.collect(store, span, now)), slaseed.expected(plans, now, start, end)
    )
    moved = [p for p in plans if start <= p.detected < end] != [
        p
        for p in plans
        if _midnight("2026-10-05", "Asia/Shanghai") <= p.detected
        and p.detected < _midnight("2026-10-13", "Asia/Shanghai")
    ]
    assert moved, "the seed has no incident between the two zones' midnights"

    # through the command line, local zone New York, the range given in Shanghai's offset
    cli = respond.bind(cwd=project, env={"TZ": "America/New_York"})
    shown = cli(
        "report",
        "sla",
        "--from",
        "2026-10-20+08:00",
        "--to",
        "2026-10-25+08:00",
        "--format",
        "json",
        check=True,
    ).json()
    start, end = _midnight("2026-10-20", "Asia/Shanghai"), _midnight("2026-10-26", "Asia/Shanghai")
    assert_figures(shown, slaseed.expected(plans, now, start, end))
    assert shown["range"]["from"] == start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert "time to respond" in shown["formulas"]
