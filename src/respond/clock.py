"""Time as respond reads it: the current time from an injectable clock, and the times people
write on the command line (``--detected-at 03:12``, ``-20m``, ``2026-12-02 03:12+08:00``).

Everything that compares a deadline with "now" takes a ``Clock``: ``SystemClock`` in use,
``ManualClock`` in tests, where a deadline passes when the test moves the time, not after a
sleep.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def wait(self, stop: threading.Event, until: datetime | None) -> bool:
        """Wait until ``until`` (None: only for ``stop``) or until ``stop`` is set; True when
        ``stop`` was set."""
        ...


class SystemClock:
    # the longest single wait: a system clock stepped forward (NTP, a resumed laptop) is
    # noticed within this long
    MAX_WAIT_S = 30.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, stop: threading.Event, until: datetime | None) -> bool:
        while not stop.is_set():
            if until is None:
                stop.wait(self.MAX_WAIT_S)
                continue
            left = (until - self.now()).total_seconds()
            if left <= 0:
                return stop.is_set()
            stop.wait(min(left, self.MAX_WAIT_S))
        return True


SYSTEM_CLOCK = SystemClock()


class ManualClock:
    """A clock a test moves. Waiters wake when the time reaches their ``until`` or when their
    ``stop`` event is set (``stop`` is polled while the clock stands still, every 10 ms)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 12, 2, 1, 0, tzinfo=UTC)).astimezone(UTC)
        self._changed = threading.Condition()
        self.waiting = 0  # how many threads wait now: tests wait for a watcher to be parked

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def set(self, when: datetime) -> None:
        with self._changed:
            self._now = when.astimezone(UTC)
            self._changed.notify_all()

    def advance(self, seconds: float) -> datetime:
        with self._changed:
            self._now += timedelta(seconds=seconds)
            self._changed.notify_all()
            return self._now

    def wait(self, stop: threading.Event, until: datetime | None) -> bool:
        with self._changed:
            self.waiting += 1
            self._changed.notify_all()
            try:
                while not stop.is_set() and (until is None or self._now < until):
                    self._changed.wait(0.01)
            finally:
                self.waiting -= 1
        return stop.is_set()

    def wait_for_waiters(self, n: int = 1, timeout: float = 10.0) -> bool:
        """Block until at least ``n`` threads wait on this clock (False after ``timeout``)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.waiting >= n, timeout)


def iso(when: datetime) -> str:
    """The stored form of a time: UTC with microseconds and ``Z``, like an event's ``ts``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """A stored time back (``iso``'s form, or any ISO-8601 with an offset)."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_RELATIVE = re.compile(r"^-((?:\d+(?:\.\d+)?[smhd])+)$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
FORMS = (
    "'now', '-20m' (ago), 'HH:MM' (today, local time), 'YYYY-MM-DD HH:MM' (local time), "
    "or ISO-8601 with an offset ('2026-12-02T03:12+08:00', '...Z')"
)


def parse_time(text: str, now: datetime) -> datetime:
    """A time as written on the command line, in UTC. Without an offset it is local time."""
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    relative = _RELATIVE.match(value.replace(" ", ""))
    if relative:
        seconds = sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(relative.group(1)))
        return now.astimezone(UTC) - timedelta(seconds=seconds)
    clock_time = _CLOCK_TIME.match(value)
    if clock_time:
        return _today_at(clock_time, now)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use {FORMS})") from None
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as the operator's watch shows it
    return when.astimezone(UTC)


def _today_at(match: re.Match[str], now: datetime) -> datetime:
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time of day: {match[0]!r}")
    local_now = now.astimezone()
    when = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if when > local_now:  # "23:50" said at 00:20 means last night, never tonight
        when -= timedelta(days=1)
    return when.astimezone(UTC)
