"""An incident's state, folded from the events of its record, and the deadlines it owes.

Pure: no store, no clock of its own. The store keeps ``fold(events).summary()`` beside the
record (reports and the schedule read only that), ``timeline verify`` folds the events again
and compares, and ``overdue(state, now)`` says which deadline events are due, each exactly once.

The clock rules:
- the SLA level is the opening severity, replaced by every re-classification
  (``severity-changed``: "it was that level all along"); the current level starts there and
  moves with each escalation;
- respond deadline = detected + respond limit of the SLA level, met by the first
  acknowledgement, attached run, restoration or resolution at or before it;
- live restore deadline = since when the current level holds + that level's restore limit,
  while the incident is open: passing it escalates one level (or, at level 1, is recorded as
  missed and reported up);
- SLA restore deadline = detected + restore limit of the SLA level, met if restored by then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from respond.clock import iso, parse_iso
from respond.events import EventDraft, EventKind, RunEvent

OPEN = "open"
RESTORED = "restored"
RESOLVED = "resolved"
NO_FAULT = "no-fault"
STATUSES = (OPEN, RESTORED, RESOLVED, NO_FAULT)
LEVELS = (1, 2, 3, 4)
# a loop over deadlines can find at most one escalation per level and two misses
_MAX_OVERDUE = 6
VENDOR_FIELDS = (
    "case",
    "name",
    "reported_at",
    "accepted_at",
    "on_site_at",
    "restored_at",
    "note",
)


def span(seconds: float) -> str:
    """A limit as people say it: ``8h``, ``1h30m``, ``45m``, ``30s``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{secs}s" if secs or not (hours or minutes) else "")
    return "".join(parts)


@dataclass(kw_only=True)
class IncidentState:
    """What an incident's events say now. Times are aware UTC datetimes here and ISO
    strings in ``summary()``; ``limits`` is the SLA level's, ``level_limits`` every level's
    (the policy snapshotted when the incident opened)."""

    incident_id: str
    title: str | None = None
    runbook: str | None = None
    version: str | None = None
    site: str | None = None
    reported_by: str | None = None
    description: str | None = None
    operator: str | None = None
    detected_at: datetime | None = None
    opened_at: datetime | None = None
    status: str = OPEN
    level: int = 4
    initial_level: int = 4
    sla_level: int = 4
    level_since: datetime | None = None
    level_limits: dict[int, dict[str, float]] = field(default_factory=dict)
    acked_at: datetime | None = None
    acked_by: str | None = None
    restored_at: datetime | None = None
    restored_by: str | None = None
    restored_via: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    cause: str | None = None
    prevention: str | None = None
    escalations: list[dict[str, Any]] = field(default_factory=list)
    severity_changes: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    vendor_policy: dict[str, Any] | None = None
    vendor_case: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0})
    # (clock, level, due iso) of every deadline already recorded: each passes once
    deadline_keys: set[tuple[str, int, str]] = field(default_factory=set)

    # -- deadlines ----------------------------------------------------------------
    @property
    def limits(self) -> dict[str, float]:
        """The SLA level's limits (seconds)."""
        return dict(self.level_limits.get(self.sla_level) or {})

    def _due(self, start: datetime | None, level: int, clock: str) -> datetime | None:
        limit = (self.level_limits.get(level) or {}).get(clock)
        if start is None or not limit:
            return None  # a level without that limit has no such deadline
        return start + timedelta(seconds=float(limit))

    @property
    def respond_due(self) -> datetime | None:
        return self._due(self.detected_at, self.sla_level, "respond")

    @property
    def restore_due(self) -> datetime | None:
        return self._due(self.detected_at, self.sla_level, "restore")

    @property
    def clock_due(self) -> datetime | None:
        """The live restore deadline at the current level while the incident is open."""
        if self.status != OPEN:
            return None
        return self._due(self.level_since, self.level, "restore")

    @property
    def respond_met(self) -> bool | None:
        due = self.respond_due
        if self.acked_at is not None:
            return due is None or self.acked_at <= due
        return False if any(m["clock"] == "respond" for m in self.missed) else None

    @property
    def restore_met(self) -> bool | None:
        """Met/missed once restored; missed earlier only when a recorded deadline at or after
        the SLA deadline proves it (None: pending)."""
        due = self.restore_due
        if self.restored_at is not None:
            return due is None or self.restored_at <= due
        if due is None:
            return None
        passed = [parse_iso(k[2]) for k in self.deadline_keys if k[0] == "restore"]
        return False if any(p >= due for p in passed) else None

    def _seconds_since_detected(self, when: datetime | None) -> float | None:
        if when is None or self.detected_at is None:
            return None
        return (when - self.detected_at).total_seconds()

    def responded_by(self, due: datetime) -> bool:
        """Whether the incident was acknowledged by ``due``: a late acknowledgement still
        leaves the respond deadline missed, recorded and reported like any other."""
        return self.acked_at is not None and self.acked_at <= due

    def next_due(self) -> datetime | None:
        """The earliest deadline that has not passed into an event yet (None: not open)."""
        if self.status != OPEN:
            return None
        pending: list[datetime] = []
        respond = self.respond_due
        respond_key = ("respond", self.sla_level, iso(respond)) if respond else None
        if (
            respond is not None
            and not self.responded_by(respond)
            and (respond_key not in self.deadline_keys)
        ):
            pending.append(respond)
        live = self.clock_due
        if live is not None and ("restore", self.level, iso(live)) not in self.deadline_keys:
            pending.append(live)
        return min(pending, default=None)

    # -- the summary --------------------------------------------------------------
    def vendor_summary(self) -> dict[str, Any] | None:
        if not self.vendor_case:
            return None
        policy = self.vendor_policy or {}
        restore = (policy.get("restore") or {}).get(str(self.sla_level))
        case = self.vendor_case
        return {
            "case": case.get("case"),
            "name": case.get("name") or policy.get("name"),
            **{k: case.get(k) for k in ("reported_at", "accepted_at", "on_site_at")},
            "restored_at": case.get("restored_at"),
            "limits": {
                "accept": policy.get("accept"),
                "on_site": policy.get("on_site"),
                "restore": restore,
            },
        }

    def summary(self) -> dict[str, Any]:
        """The JSON kept in ``incidents.summary``: the only input of reports."""

        def t(when: datetime | None) -> str | None:
            return None if when is None else iso(when)

        limits = self.limits
        return {
            "incident_id": self.incident_id,
            "title": self.title,
            "runbook": self.runbook,
            "site": self.site,
            "reported_by": self.reported_by,
            "description": self.description,
            "operator": self.operator,
            "detected_at": t(self.detected_at),
            "opened_at": t(self.opened_at),
            "status": self.status,
            "level": self.level,
            "initial_level": self.initial_level,
            "sla_level": self.sla_level,
            "limits": {"respond": limits.get("respond"), "restore": limits.get("restore")},
            "respond_due": t(self.respond_due),
            "restore_due": t(self.restore_due),
            "clock_due": t(self.clock_due),
            "acked_at": t(self.acked_at),
            "acked_by": self.acked_by,
            "restored_at": t(self.restored_at),
            "restored_by": self.restored_by,
            "restored_via": self.restored_via,
            "resolved_at": t(self.resolved_at),
            "resolved_by": self.resolved_by,
            "cause": self.cause,
            "prevention": self.prevention,
            "respond_s": self._seconds_since_detected(self.acked_at),
            "restore_s": self._seconds_since_detected(self.restored_at),
            "respond_met": self.respond_met,
            "restore_met": self.restore_met,
            "escalations": [dict(e) for e in self.escalations],
            "severity_changes": [dict(c) for c in self.severity_changes],
            "missed": [dict(m) for m in self.missed],
            "runs": [dict(r) for r in self.runs],
            "vendor": self.vendor_summary(),
            "notifications": dict(self.notifications),
            "next_due": t(self.next_due()),
        }


# -- folding ------------------------------------------------------------------------
def _parts(event: RunEvent | Mapping[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """(kind, ts, actor, data) of a stored event or its dict form."""
    if isinstance(event, RunEvent):
        return event.kind, event.ts, event.actor, dict(event.data or {})
    return (
        str(event["kind"]),
        str(event.get("ts") or ""),
        str(event.get("actor") or ""),
        dict(event.get("data") or {}),
    )


def _time(value: Any) -> datetime | None:
    return parse_iso(str(value)) if value else None


def _snapshot_limits(raw: Any) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for level, clocks in (raw or {}).items():
        out[int(level)] = {k: float(v) for k, v in (clocks or {}).items() if v is not None}
    return out


def _opened(s: IncidentState, ts: str, actor: str, d: dict[str, Any]) -> None:
    for key in ("title", "runbook", "site", "reported_by", "description"):
        setattr(s, key, d.get(key))
    s.version = None if d.get("version") is None else str(d.get("version"))
    s.operator = actor or None
    s.detected_at = _time(d.get("detected_at")) or _time(ts)
    s.opened_at = _time(ts)
    s.level = s.initial_level = s.sla_level = int(d.get("severity") or 4)
    s.level_since = s.detected_at
    s.level_limits = _snapshot_limits(d.get("limits"))
    s.vendor_policy = dict(d["vendor"]) if d.get("vendor") else None


def _acknowledge(s: IncidentState, at: datetime | None, by: str | None) -> None:
    """The earliest acknowledgement stands (an ack given with an earlier ``--at`` wins)."""
    if at is not None and (s.acked_at is None or at < s.acked_at):
        s.acked_at, s.acked_by = at, by


def _restore(s: IncidentState, at: datetime | None, by: str | None, via: str) -> None:
    if s.restored_at is None and at is not None:
        s.restored_at, s.restored_by, s.restored_via = at, by, via
    _acknowledge(s, at, by)


def _attached(s: IncidentState, actor: str, d: dict[str, Any]) -> None:
    at = _time(d.get("at"))
    s.runs.append(
        {
            "run_id": d.get("run_id"),
            "runbook": d.get("runbook"),
            "version": d.get("version"),
            "attached_at": d.get("at"),
            "outcome": None,
            "ended_at": None,
        }
    )
    _acknowledge(s, at, actor or None)


def _run_ended(s: IncidentState, actor: str, d: dict[str, Any]) -> None:
    for run in s.runs:
        if run["run_id"] == d.get("run_id"):
            run["outcome"], run["ended_at"] = d.get("outcome"), d.get("at")
    if d.get("outcome") == "resolved":
        _restore(s, _time(d.get("at")), actor or None, "run")


def _severity_changed(s: IncidentState, actor: str, d: dict[str, Any]) -> None:
    level = int(d["to"])
    s.severity_changes.append(
        {
            "from": d.get("from"),
            "to": level,
            "at": d.get("at"),
            "reason": d.get("reason"),
            "by": actor or None,
        }
    )
    # a re-classification: the incident was that level from the start
    s.sla_level = s.level = level
    s.level_since = s.detected_at


def _escalated(s: IncidentState, d: dict[str, Any]) -> None:
    s.escalations.append(
        {
            "from": d.get("from"),
            "to": d.get("to"),
            "at": d.get("at"),
            "automatic": bool(d.get("automatic")),
            "reason": d.get("reason"),
        }
    )
    deadline = d.get("deadline")
    if deadline:
        s.deadline_keys.add(
            (str(deadline.get("clock")), int(deadline["level"]), str(deadline["due"]))
        )
    s.level = int(d["to"])
    s.level_since = _time(d.get("at")) or s.level_since


def _missed(s: IncidentState, d: dict[str, Any]) -> None:
    entry = {"clock": d.get("clock"), "level": d.get("level"), "due": d.get("due")}
    s.missed.append(entry)
    s.deadline_keys.add((str(entry["clock"]), int(d.get("level") or 0), str(entry["due"])))


def _resolved(s: IncidentState, d: dict[str, Any]) -> None:
    at = _time(d.get("at"))
    _restore(s, at, d.get("by"), "resolve")
    s.resolved_at, s.resolved_by = at, d.get("by")
    s.cause, s.prevention = d.get("cause"), d.get("prevention")


def _vendor(s: IncidentState, d: dict[str, Any]) -> None:
    """Later vendor-case events add to and correct earlier ones, field by field."""
    for key in VENDOR_FIELDS:
        if d.get(key) is not None:
            s.vendor_case[key] = d[key]


def _apply(s: IncidentState, kind: str, ts: str, actor: str, d: dict[str, Any]) -> None:
    if kind == EventKind.INCIDENT_OPENED:
        _opened(s, ts, actor, d)
    elif kind == EventKind.RUN_ATTACHED:
        _attached(s, actor, d)
    elif kind == EventKind.ACKNOWLEDGED:
        _acknowledge(s, _time(d.get("at")), d.get("by") or actor or None)
    elif kind == EventKind.SEVERITY_CHANGED:
        _severity_changed(s, actor, d)
    elif kind == EventKind.ESCALATED:
        _escalated(s, d)
    elif kind == EventKind.DEADLINE_MISSED:
        _missed(s, d)
    elif kind == EventKind.RUN_ENDED:
        _run_ended(s, actor, d)
    elif kind == EventKind.RESTORED:
        _restore(s, _time(d.get("at")), d.get("by") or actor or None, "resolve")
    elif kind == EventKind.RESOLVED:
        _resolved(s, d)
    elif kind == EventKind.VENDOR_CASE:
        _vendor(s, d)
    elif kind == EventKind.NOTIFICATION_SENT:
        s.notifications["sent"] += 1
    elif kind == EventKind.NOTIFICATION_FAILED:
        s.notifications["failed"] += 1


def _status(s: IncidentState) -> str:
    if s.resolved_at is not None:
        return RESOLVED
    if s.restored_at is not None:
        return RESTORED
    ended = [r["outcome"] for r in s.runs]
    if ended and all(outcome == "no-fault" for outcome in ended):
        return NO_FAULT  # every run found nothing wrong and nobody restored anything
    return OPEN


def fold(
    events: Iterable[RunEvent | Mapping[str, Any]], incident_id: str | None = None
) -> IncidentState:
    """The state an incident's events (in ``seq`` order) describe. Unknown kinds (a lock
    take-over, a later version's events) leave it unchanged."""
    state = IncidentState(incident_id=incident_id or "")
    for event in events:
        kind, ts, actor, data = _parts(event)
        if not state.incident_id:
            state.incident_id = (
                event.run_id if isinstance(event, RunEvent) else str(event.get("run_id") or "")
            )
        _apply(state, kind, ts, actor, data)
    state.status = _status(state)
    return state


# -- deadlines due ------------------------------------------------------------------
def _respond_overdue(state: IncidentState, now: datetime) -> list[tuple[datetime, EventDraft]]:
    due = state.respond_due
    if state.status != OPEN or due is None or due > now or state.responded_by(due):
        return []
    key = ("respond", state.sla_level, iso(due))
    if key in state.deadline_keys:
        return []
    data = {"clock": "respond", "level": state.sla_level, "due": iso(due)}
    return [(due, EventDraft(kind=EventKind.DEADLINE_MISSED, data=data))]


def _restore_overdue(state: IncidentState, now: datetime) -> list[tuple[datetime, EventDraft]]:
    """Walk the live restore clock forward: each passed level escalates (its successor's
    clock starting at the deadline); level 1's passed deadline is recorded as missed."""
    out: list[tuple[datetime, EventDraft]] = []
    if state.status != OPEN:
        return out
    level, since = state.level, state.level_since
    for _ in range(_MAX_OVERDUE):
        due = state._due(since, level, "restore")
        if due is None or due > now or ("restore", level, iso(due)) in state.deadline_keys:
            break
        deadline = {"clock": "restore", "level": level, "due": iso(due)}
        if level <= 1:
            draft = EventDraft(kind=EventKind.DEADLINE_MISSED, data=deadline)
            out.append((due, draft))
            break
        limit = float(state.level_limits[level]["restore"])
        data = {
            "from": level,
            "to": level - 1,
            "reason": f"not restored within {span(limit)} at level {level}",
            "at": iso(due),
            "automatic": True,
            "deadline": deadline,
        }
        out.append((due, EventDraft(kind=EventKind.ESCALATED, data=data)))
        level, since = level - 1, due
    return out


def overdue(state: IncidentState, now: datetime) -> list[EventDraft]:
    """Every deadline that passed by ``now`` and has no event yet, in time order."""
    found = _respond_overdue(state, now) + _restore_overdue(state, now)
    found.sort(key=lambda pair: pair[0])
    return [draft for _, draft in found]
