"""When a drill falls due: the occurrences of its cron expression in its time zone.

An *occurrence* is one scheduled time (stored as ISO UTC). The *current* occurrence at
``now`` is the latest one at or before ``now`` (and not before ``start``): it is due until
some run takes it on. Older occurrences that nobody took on were missed; only the current
one is ever caught up, so a machine that was off for a day runs a missed drill once.

The expression is read on the wall clock of the drill's zone, as cron reads it, and each
wall time is then placed on the UTC line:

- a wall time the clocks skip (02:30 on a spring-forward night) happens when the clocks
  jump, at the first instant after the gap (03:00): the drill is owed that day, once;
- a wall time the clocks show twice (02:30 on a fall-back night) happens the first time
  only: one drill that day, not two.

Every occurrence therefore has one UTC time, and the order of wall times is the order of
UTC times, which is what makes "the latest at or before now" well defined.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from respond.drills.model import Schedule

# croniter's get_prev from an exact wall time skips it: look from a hair later
_EPSILON = timedelta(microseconds=1)
# More than any clock change (a DST shift is one hour, a few zones once moved two): the wall
# clock at ``now`` is within this of the wall time of any occurrence near ``now``
_SHIFT = timedelta(hours=3)
# How many wall times one search may step over before giving up (a gap of 3 h holds at most
# 180 minute-wise occurrences; a year of a daily drill is 366): never an endless loop
_STEPS = 1000
# Missed occurrences reported at most (older ones are summed up as "and more")
MISSED_LIMIT = 12


def zone_of(schedule: Schedule, default: str | None = None) -> tzinfo:
    """The schedule's time zone: its own, else ``default`` (respond.yaml), else local."""
    name = schedule.timezone or default
    if name:
        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def start_of(schedule: Schedule, zone: tzinfo) -> datetime | None:
    """The schedule's ``start`` (midnight of that date in its zone) as UTC, or None."""
    if not schedule.start:
        return None
    first = date.fromisoformat(schedule.start)
    return to_utc(datetime(first.year, first.month, first.day), zone)


def to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """A naive wall time of ``zone`` on the UTC line: its first instance when the clocks
    show it twice, the end of the gap when they skip it."""
    earlier = wall.replace(tzinfo=zone, fold=0)
    found = earlier.astimezone(UTC)
    if found.astimezone(zone).replace(tzinfo=None) == wall:
        return found
    # skipped: fold=0 reads it with the offset before the jump, fold=1 with the one after;
    # the jump lies between the two readings
    after = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _jump_between(min(found, after), max(found, after), zone)


def _jump_between(lo: datetime, hi: datetime, zone: tzinfo) -> datetime:
    """The instant the zone's offset changes, in (lo, hi] (to the second)."""
    before = lo.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        middle = lo + (hi - lo) / 2
        if middle.astimezone(zone).utcoffset() == before:
            lo = middle
        else:
            hi = middle
    return hi.replace(microsecond=0)


def _wall(when: datetime, zone: tzinfo) -> datetime:
    return when.astimezone(zone).replace(tzinfo=None)


def current_occurrence(
    schedule: Schedule, now: datetime, default_zone: str | None = None
) -> datetime | None:
    """The latest occurrence at or before ``now`` (UTC), or None before the first (or
    before ``start``)."""
    from croniter import croniter

    zone = zone_of(schedule, default_zone)
    walls = croniter(schedule.expression, _wall(now, zone) + _SHIFT + _EPSILON)
    for _ in range(_STEPS):
        found = to_utc(walls.get_prev(datetime), zone)
        if found <= now:
            first = start_of(schedule, zone)
            return None if first is not None and found < first else found
    return None


def next_occurrence(schedule: Schedule, now: datetime, default_zone: str | None = None) -> datetime:
    """The first occurrence after ``now`` (UTC), never before ``start``."""
    from croniter import croniter

    zone = zone_of(schedule, default_zone)
    after = now
    first = start_of(schedule, zone)
    if first is not None and first - _EPSILON > after:
        after = first - _EPSILON
    walls = croniter(schedule.expression, _wall(after, zone) - _SHIFT)
    for _ in range(_STEPS):
        found = to_utc(walls.get_next(datetime), zone)
        if found > after:
            return found
    raise ValueError(f"no occurrence of {schedule.expression!r} found after {after}")


def missed_occurrences(
    schedule: Schedule,
    since: datetime | None,
    now: datetime,
    default_zone: str | None = None,
    *,
    limit: int = MISSED_LIMIT,
) -> list[datetime]:
    """The occurrences nobody took on: after ``since`` (the last one taken; None: never)
    and before the current one at ``now``, none before ``start``; the latest ``limit`` of
    them, oldest first. A drill never taken and without ``start`` has no missed ones: when
    it was adopted is not known."""
    from croniter import croniter

    zone = zone_of(schedule, default_zone)
    first = start_of(schedule, zone)
    current = current_occurrence(schedule, now, default_zone)
    if current is None or (since is None and first is None):
        return []
    walls = croniter(schedule.expression, _wall(current, zone) + _SHIFT + _EPSILON)
    found: list[datetime] = []
    for _ in range(_STEPS):
        when = to_utc(walls.get_prev(datetime), zone)
        if (since is not None and when <= since) or (first is not None and when < first):
            break
        # the search starts a little after the current one: skip it and what follows
        if when < current and (not found or when < found[-1]):
            found.append(when)
            if len(found) >= limit:
                break
    return found[::-1]
