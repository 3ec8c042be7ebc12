"""respond.clock: times written on the command line, and a clock tests can move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from respond.clock import ManualClock, SystemClock, iso, parse_iso, parse_time

NOW = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)


def test_offsets_are_honoured_and_stored_in_utc() -> None:
    assert parse_time("2026-12-02T03:12+08:00", NOW) == datetime(2026, 12, 1, 19, 12, tzinfo=UTC)
    assert parse_time("2026-12-02 01:00Z", NOW) == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def test_a_time_without_offset_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert parse_time("2026-12-02 11:00", NOW) == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
        # at 11:30 Shanghai time "11:20" is ten minutes ago and "11:40" is yesterday's:
        # a time of day is never in the future
        assert parse_time("11:20", NOW) == NOW - timedelta(minutes=10)
        assert parse_time("11:40", NOW) == NOW + timedelta(minutes=10) - timedelta(days=1)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_relative_and_now() -> None:
    assert parse_time("now", NOW) == NOW
    assert parse_time("-20m", NOW) == NOW - timedelta(minutes=20)
    assert parse_time("-1h30m", NOW) == NOW - timedelta(minutes=90)


@pytest.mark.parametrize("text", ["yesterday", "25:00", "2026-13-01 00:00", "-5x", ""])
def test_bad_times_say_which_forms_work(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text, NOW)


def test_iso_round_trip() -> None:
    t = datetime(2026, 12, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=8)))
    assert iso(t) == "2026-12-01T19:04:05.000006Z"
    assert parse_iso(iso(t)) == t


def test_manual_clock_wakes_a_waiter_when_the_time_comes() -> None:
    clock = ManualClock(NOW)
    stop = threading.Event()
    woke: list[bool] = []
    waiter = threading.Thread(
        target=lambda: woke.append(clock.wait(stop, NOW + timedelta(hours=1)))
    )
    waiter.start()
    assert clock.wait_for_waiters(1)
    clock.advance(1800)
    assert waiter.is_alive()  # half-way: still waiting
    clock.advance(1800)
    waiter.join(10)
    assert woke == [False]


def test_a_stopped_wait_returns_true() -> None:
    for clock in (ManualClock(NOW), SystemClock()):
        stop = threading.Event()
        stop.set()
        assert clock.wait(stop, None) is True
