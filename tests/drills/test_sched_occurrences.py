"""When a drill falls due: occurrence math at fixed ``now``s across quarter and year ends,
in different zones, on both DST nights, and with a ``start`` date. Each expectation is
written out by hand (a wall time in the drill's zone), never computed by the code under
test."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from respond.drills.model import Schedule
from respond.drills.schedule import (
    MISSED_LIMIT,
    current_occurrence,
    missed_occurrences,
    next_occurrence,
    to_utc,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wall(text: str, zone: ZoneInfo) -> datetime:
    """A wall time of ``zone`` as UTC (its first instance: the fixtures avoid the others)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


QUARTERLY_SH = Schedule(cron="quarterly", timezone="Asia/Shanghai")


@pytest.mark.parametrize(
    ("now", "current", "following"),
    [
        # the quarter's first occurrence is 09:00 in Shanghai = 01:00 UTC on the 1st
        ("2026-03-31T23:59:00", "2026-01-01 09:00", "2026-04-01 09:00"),
        ("2026-04-01T00:59:59", "2026-01-01 09:00", "2026-04-01 09:00"),
        ("2026-04-01T01:00:00", "2026-04-01 09:00", "2026-07-01 09:00"),  # exactly at it
        ("2026-06-30T12:00:00", "2026-04-01 09:00", "2026-07-01 09:00"),
        ("2026-09-30T16:00:00", "2026-07-01 09:00", "2026-10-01 09:00"),  # Oct 1st 00:00 CST
        # across the year: New Year's Eve in UTC is already January 1st in Shanghai, but
        # before 09:00 there
        ("2026-12-31T20:00:00", "2026-10-01 09:00", "2027-01-01 09:00"),
        ("2027-01-01T01:00:00", "2027-01-01 09:00", "2027-04-01 09:00"),
    ],
)
def test_quarter_and_year_boundaries(now: str, current: str, following: str) -> None:
    assert current_occurrence(QUARTERLY_SH, utc(now)) == wall(current, SHANGHAI)
    assert next_occurrence(QUARTERLY_SH, utc(now)) == wall(following, SHANGHAI)


def test_the_zone_decides_which_quarter_it_is() -> None:
    """At 2026-03-31 20:00 UTC it is already April 1st 04:00 in Shanghai but 09:00 has not
    come; at 2026-04-01 05:00 UTC Shanghai's 09:00 has passed and UTC's 09:00 has not."""
    in_utc = Schedule(cron="quarterly", timezone="UTC")
    at = utc("2026-04-01T05:00:00")
    assert current_occurrence(QUARTERLY_SH, at) == wall("2026-04-01 09:00", SHANGHAI)
    assert current_occurrence(in_utc, at) == utc("2026-01-01T09:00:00")
    assert next_occurrence(in_utc, at) == utc("2026-04-01T09:00:00")
    # the default zone (respond.yaml `timezone`) applies to a schedule that names none
    bare = Schedule(cron="quarterly")
    assert current_occurrence(bare, at, "Asia/Shanghai") == current_occurrence(QUARTERLY_SH, at)
    assert current_occurrence(bare, at, "UTC") == current_occurrence(in_utc, at)


def test_the_machine_zone_is_the_last_default(local_zone: object) -> None:
    local_zone("Asia/Shanghai")  # type: ignore[operator]
    bare = Schedule(cron="quarterly")
    at = utc("2026-04-01T05:00:00")
    assert current_occurrence(bare, at) == wall("2026-04-01 09:00", SHANGHAI)


# Europe/Berlin: clocks go 02:00 → 03:00 on 2026-03-29 and 03:00 → 02:00 on 2026-10-25.
DAILY_0230 = Schedule(cron="30 2 * * *", timezone="Europe/Berlin")


def test_spring_forward_a_skipped_time_falls_due_when_the_clocks_jump() -> None:
    """02:30 does not exist that night: the drill is owed at 03:00 CEST (01:00 UTC), once."""
    jump = utc("2026-03-29T01:00:00")
    assert jump.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"
    assert to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) == jump
    before = utc("2026-03-29T00:59:00")
    assert current_occurrence(DAILY_0230, before) == wall("2026-03-28 02:30", BERLIN)
    assert next_occurrence(DAILY_0230, before) == jump
    assert current_occurrence(DAILY_0230, jump) == jump
    noon = utc("2026-03-29T12:00:00")
    assert current_occurrence(DAILY_0230, noon) == jump
    assert next_occurrence(DAILY_0230, noon) == utc("2026-03-30T00:30:00")  # 02:30 CEST
    # one occurrence that day: the 28th, the jump, the 30th
    days = missed_occurrences(DAILY_0230, utc("2026-03-27T12:00:00"), utc("2026-03-31T12:00:00"))
    assert days == [utc("2026-03-28T01:30:00"), jump, utc("2026-03-30T00:30:00")]


def test_fall_back_a_repeated_time_falls_due_once() -> None:
    """02:30 happens twice that night (00:30 and 01:30 UTC): the first counts, only."""
    first = utc("2026-10-25T00:30:00")
    second = utc("2026-10-25T01:30:00")
    assert first.astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CEST"
    assert second.astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CET"
    between = utc("2026-10-25T01:00:00")
    after_second = utc("2026-10-25T01:40:00")
    noon = utc("2026-10-25T12:00:00")
    for now in (first, between, after_second, noon):
        assert current_occurrence(DAILY_0230, now) == first, now
    # the next one after the first is the next day's, never the repeated wall time
    assert next_occurrence(DAILY_0230, first) == utc("2026-10-26T01:30:00")
    assert next_occurrence(DAILY_0230, between) == utc("2026-10-26T01:30:00")
    days = missed_occurrences(DAILY_0230, utc("2026-10-24T12:00:00"), utc("2026-10-27T12:00:00"))
    assert days == [first, utc("2026-10-26T01:30:00")]


def test_start_holds_back_earlier_occurrences() -> None:
    """A drill adopted in February is not owed for January's occurrence."""
    adopted = Schedule(cron="quarterly", timezone="Asia/Shanghai", start="2026-02-01")
    assert current_occurrence(adopted, utc("2026-03-31T00:00:00")) is None
    assert next_occurrence(adopted, utc("2025-11-01T00:00:00")) == wall(
        "2026-04-01 09:00", SHANGHAI
    )
    assert current_occurrence(adopted, utc("2026-04-01T02:00:00")) == wall(
        "2026-04-01 09:00", SHANGHAI
    )
    # an occurrence on the start date itself counts (start is midnight in the drill's zone)
    same_day = Schedule(cron="quarterly", timezone="Asia/Shanghai", start="2026-04-01")
    assert current_occurrence(same_day, utc("2026-04-01T02:00:00")) == wall(
        "2026-04-01 09:00", SHANGHAI
    )
    assert next_occurrence(same_day, utc("2025-06-01T00:00:00")) == wall(
        "2026-04-01 09:00", SHANGHAI
    )


def test_missed_occurrences_lie_between_the_last_taken_and_the_current() -> None:
    monthly = Schedule(cron="monthly", timezone="UTC")
    now = utc("2026-06-15T00:00:00")  # current: June 1st
    taken = utc("2026-02-01T09:00:00")
    assert missed_occurrences(monthly, taken, now) == [
        utc(f"2026-0{m}-01T09:00:00") for m in (3, 4, 5)
    ]
    # nothing missed when the previous one was taken
    assert missed_occurrences(monthly, utc("2026-05-01T09:00:00"), now) == []
    # never taken: counted from `start`; without start nobody knows when it was adopted
    started = Schedule(cron="monthly", timezone="UTC", start="2026-04-01")
    assert missed_occurrences(started, None, now) == [
        utc("2026-04-01T09:00:00"),
        utc("2026-05-01T09:00:00"),
    ]
    assert missed_occurrences(monthly, None, now) == []
    # bounded: the latest MISSED_LIMIT of them, oldest first
    daily = Schedule(cron="0 9 * * *", timezone="UTC")
    many = missed_occurrences(daily, utc("2025-01-01T00:00:00"), now)  # current: June 14th
    assert len(many) == MISSED_LIMIT
    assert many[-1] == utc("2026-06-13T09:00:00") and many[0] == utc("2026-06-02T09:00:00")
