"""When a drill falls due: the occurrences of its cron expression in its time zone.

An *occurrence* is one scheduled time (stored as ISO UTC). The *current* occurrence at
``now`` is the latest one at or before ``now`` (and not before ``start``): it is due until
some run takes it on. Older occurrences that nobody took on were missed; only the current
one is ever caught up, so a machine that was off for a day runs a missed drill once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from respond.drills.model import Schedule

# croniter's get_prev from an exact occurrence skips it: look from a hair later
_EPSILON = timedelta(microseconds=1)


def zone_of(schedule: Schedule, default: str | None = None) -> tzinfo:
    """The schedule's time zone: its own, else ``default`` (respond.yaml), else local."""
    name = schedule.timezone or default
    if name:
        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def current_occurrence(
    schedule: Schedule, now: datetime, default_zone: str | None = None
) -> datetime | None:
    """The latest occurrence at or before ``now`` (UTC), or None before the first."""
    from croniter import croniter

    zone = zone_of(schedule, default_zone)
    it = croniter(schedule.expression, now.astimezone(zone) + _EPSILON)
    found: datetime = it.get_prev(datetime).astimezone(UTC)
    if schedule.start and found.astimezone(zone).date().isoformat() < schedule.start:
        return None
    return found


def next_occurrence(schedule: Schedule, now: datetime, default_zone: str | None = None) -> datetime:
    """The first occurrence after ``now`` (UTC)."""
    from croniter import croniter

    zone = zone_of(schedule, default_zone)
    start = now.astimezone(zone)
    if schedule.start:
        first = datetime.fromisoformat(schedule.start).replace(tzinfo=zone)
        start = max(start, first - _EPSILON)
    following: datetime = croniter(schedule.expression, start).get_next(datetime)
    return following.astimezone(UTC)
