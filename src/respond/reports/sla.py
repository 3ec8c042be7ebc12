"""The SLA figures: how fast incidents were acknowledged and restored against each level's
limits, how often they escalated, and how the maintenance vendor kept its promises.

Everything here is a pure function of incident summaries (the ``incidents.summary`` rows the
store keeps with every append, see ``respond.incident_state``), drill runs and the report
time. A clock is judged once per incident:

- **met** / **missed**: the measured time is at or within / beyond the limit;
- a clock not stopped yet is **missed** when its deadline has passed by the report time (it
  can no longer be met, whether or not the schedule has recorded the miss yet), otherwise
  **pending**.

Means and worst times are over the incidents whose time is known (the clock stopped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from respond.clock import iso, parse_iso, parse_time

LEVELS = (1, 2, 3, 4)
MET, MISSED, PENDING = "met", "missed", "pending"

# Printed in every format, so a reader can check a figure by hand.
FORMULAS: tuple[tuple[str, str], ...] = (
    (
        "incidents",
        "the incidents detected within the range (detected_at, compared in UTC), counted at their "
        "SLA level (the opening level, or the level a re-classification set); no-fault "
        "incidents and drills are not counted",
    ),
    (
        "time to respond",
        "first acknowledgement − detection (an ack, the first attached run, or the "
        "restoration, whichever came first); met when ≤ the level's respond limit",
    ),
    (
        "time to restore",
        "restoration − detection (a run ended resolved, or `respond resolve`); met when ≤ "
        "the level's restore limit",
    ),
    (
        "missed / pending",
        "a clock not stopped yet is missed once detection + limit has passed at the report "
        "time, else pending; mean and worst are over incidents whose time is known",
    ),
    (
        "automatic escalations",
        "raises of one level because the live restore deadline passed (recorded by a run's "
        "watcher or the schedule)",
    ),
    (
        "incidents escalated",
        "incidents with at least one escalation, automatic or by a run",
    ),
    (
        "vendor accept / on site",
        "accepted_at − reported_at / on_site_at − reported_at; met when ≤ the promised limit",
    ),
    (
        "vendor restore",
        "(the vendor's restored_at, else the incident's) − reported_at; met when ≤ the "
        "promised limit of the incident's SLA level; cases without a report time are not "
        "measured",
    ),
)


# --------------------------------------------------------------------------- the range

_DATE_WITH_ZONE = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True, slots=True)
class Window:
    """Detection times ``start <= t < end`` (UTC; None: unbounded)."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, when: datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)

    def select(self, summaries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The summaries detected within the window (stored times compared as text, see
        ``instant``)."""
        lo = iso(self.start) if self.start else ""
        hi = iso(self.end) if self.end else "~"  # "~" sorts after every digit
        return [s for s in summaries if lo <= instant(s["detected_at"]) < hi]


def parse_bound(text: str, now: datetime, *, end: bool) -> datetime:
    """A ``--from``/``--to`` value in UTC. A date is a whole local day (``2026-12-01``) or a
    day in the zone it names (``2026-12-01+08:00``, ``2026-12-01Z``): ``--from`` is its
    first moment, ``--to`` the first moment of the next day. Anything else is a time as
    ``respond.clock.parse_time`` reads it, and ``--to`` includes that moment."""
    value = text.strip()
    day = _DATE_WITH_ZONE.match(value)
    if day is None:
        when = parse_time(value, now)
        return when + timedelta(microseconds=1) if end else when
    try:
        first = date.fromisoformat(day[1])
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    if end:
        first += timedelta(days=1)
    midnight = datetime(first.year, first.month, first.day)
    zone = day[2]
    if zone is None:
        return midnight.astimezone().astimezone(UTC)  # naive: the local zone's midnight
    offset = "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(f"{midnight.isoformat()}{offset}").astimezone(UTC)
    except ValueError:
        raise ValueError(f"not a UTC offset: {zone!r} in {text!r} (use e.g. +08:00)") from None


def window(since: str | None, until: str | None, now: datetime) -> Window:
    """The report range from the command line's ``--from``/``--to`` (ValueError if bad)."""
    start = parse_bound(since, now, end=False) if since else None
    stop = parse_bound(until, now, end=True) if until else None
    if start is not None and stop is not None and stop <= start:
        raise ValueError(f"--to {until} is before --from {since}")
    return Window(start, stop)


# --------------------------------------------------------------------------- figures


@dataclass(slots=True)
class ClockFigures:
    """One clock over a set of incidents: judgements and the measured times."""

    met: int = 0
    missed: int = 0
    pending: int = 0
    known: int = 0  # incidents whose time is measured
    total_s: float = 0.0
    worst_s: float | None = None

    def add(self, verdict: str | None, seconds: float | None) -> None:
        if verdict == MET:
            self.met += 1
        elif verdict == MISSED:
            self.missed += 1
        elif verdict == PENDING:
            self.pending += 1
        if seconds is not None:
            self.known += 1
            self.total_s += seconds
            self.worst_s = seconds if self.worst_s is None else max(self.worst_s, seconds)

    def merge(self, other: ClockFigures) -> None:
        self.met += other.met
        self.missed += other.missed
        self.pending += other.pending
        self.known += other.known
        self.total_s += other.total_s
        if other.worst_s is not None:
            self.worst_s = max(self.worst_s or other.worst_s, other.worst_s)

    @property
    def mean_s(self) -> float | None:
        return self.total_s / self.known if self.known else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "missed": self.missed,
            "pending": self.pending,
            "measured": self.known,
            "mean_s": self.mean_s,
            "worst_s": self.worst_s,
        }


@dataclass(slots=True)
class LevelFigures:
    """The incidents of one SLA level (``level`` None: the total row)."""

    level: int | None
    incidents: int = 0
    respond: ClockFigures = field(default_factory=ClockFigures)
    restore: ClockFigures = field(default_factory=ClockFigures)
    automatic_escalations: int = 0
    incidents_escalated: int = 0

    def merge(self, other: LevelFigures) -> None:
        self.incidents += other.incidents
        self.respond.merge(other.respond)
        self.restore.merge(other.restore)
        self.automatic_escalations += other.automatic_escalations
        self.incidents_escalated += other.incidents_escalated

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "incidents": self.incidents,
            "respond": self.respond.as_dict(),
            "restore": self.restore.as_dict(),
            "automatic_escalations": self.automatic_escalations,
            "incidents_escalated": self.incidents_escalated,
        }


@dataclass(slots=True)
class VendorFigures:
    """Vendor cases of one SLA level (``level`` None: the total row)."""

    level: int | None
    cases: int = 0
    accept: ClockFigures = field(default_factory=ClockFigures)
    on_site: ClockFigures = field(default_factory=ClockFigures)
    restore: ClockFigures = field(default_factory=ClockFigures)

    def merge(self, other: VendorFigures) -> None:
        self.cases += other.cases
        self.accept.merge(other.accept)
        self.on_site.merge(other.on_site)
        self.restore.merge(other.restore)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "cases": self.cases,
            "accept": self.accept.as_dict(),
            "on_site": self.on_site.as_dict(),
            "restore": self.restore.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class DrillRow:
    run_id: str
    runbook: str | None
    title: str | None
    started: datetime | None
    outcome: str | None
    duration_s: float | None


@dataclass(frozen=True, slots=True)
class OpenRow:
    incident_id: str
    title: str
    site: str | None
    level: int | None
    detected_at: datetime
    next_due: datetime | None
    clock: str | None  # which deadline next_due is: respond | restore


@dataclass(slots=True)
class SlaReport:
    generated_at: datetime
    window: Window
    levels: list[LevelFigures]
    total: LevelFigures
    vendor: list[VendorFigures]
    vendor_total: VendorFigures
    drills: list[DrillRow]
    open_incidents: list[OpenRow]
    no_fault: int  # incidents in the range left out as no-fault
    formulas: tuple[tuple[str, str], ...] = FORMULAS


# --------------------------------------------------------------------------- judging


def _time(value: Any) -> datetime | None:
    return parse_iso(str(value)) if value else None


def _seconds(start: datetime | None, stop: datetime | None) -> float | None:
    return None if start is None or stop is None else (stop - start).total_seconds()


def judge(
    seconds: float | None, limit: float | None, due: datetime | None, now: datetime
) -> str | None:
    """A clock's verdict: met/missed when measured, else missed once ``due`` passed, else
    pending; None when there is no limit to judge against."""
    if seconds is not None:
        if limit is None:
            return None
        return MET if seconds <= limit else MISSED
    if due is None:
        return None
    return MISSED if now > due else PENDING


def instant(text: Any) -> str:
    """A stored time as a string that sorts as the time does: ``iso()``'s form (what the
    store writes) as it is, any other ISO-8601 form converted to it. Comparing these strings
    spares parsing ten thousand times per report."""
    value = str(text)
    if len(value) == 27 and value[10] == "T" and value[-1] == "Z":
        return value
    return iso(parse_iso(value))


def _stored_verdict(met: Any, due: Any, now: str) -> str | None:
    """A clock of the summary: its stored ``*_met``, or (still running) by its deadline."""
    if met is True:
        return MET
    if met is False:
        return MISSED
    if not due:
        return None
    return MISSED if now > instant(due) else PENDING


def _add_incident(into: LevelFigures, summary: Mapping[str, Any], now: str) -> None:
    into.incidents += 1
    into.respond.add(
        _stored_verdict(summary.get("respond_met"), summary.get("respond_due"), now),
        _number(summary.get("respond_s")),
    )
    into.restore.add(
        _stored_verdict(summary.get("restore_met"), summary.get("restore_due"), now),
        _number(summary.get("restore_s")),
    )
    escalations = summary.get("escalations") or []
    into.automatic_escalations += sum(1 for e in escalations if e.get("automatic"))
    into.incidents_escalated += 1 if escalations else 0


def _vendor_figures(summary: Mapping[str, Any], now: datetime) -> VendorFigures | None:
    case = summary.get("vendor")
    if not case:
        return None
    figures = VendorFigures(level=_level(summary), cases=1)
    reported = _time(case.get("reported_at"))
    if reported is None:
        return figures  # the vendor's clocks never started
    limits = case.get("limits") or {}
    restored = _time(case.get("restored_at")) or _time(summary.get("restored_at"))
    for clock, stop, key in (
        (figures.accept, _time(case.get("accepted_at")), "accept"),
        (figures.on_site, _time(case.get("on_site_at")), "on_site"),
        (figures.restore, restored, "restore"),
    ):
        limit = _number(limits.get(key))
        due = None if limit is None else reported + timedelta(seconds=limit)
        seconds = _seconds(reported, stop)
        clock.add(judge(seconds, limit, due, now), seconds)
    return figures


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _level(summary: Mapping[str, Any]) -> int | None:
    value = summary.get("sla_level", summary.get("level"))
    return None if value is None else int(value)


# --------------------------------------------------------------------------- the report


def build(
    summaries: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    span: Window = Window(),
    drills: Sequence[Any] = (),
    open_summaries: Sequence[Mapping[str, Any]] | None = None,
) -> SlaReport:
    """The figures of ``summaries`` (those outside ``span`` and no-fault ones are left out),
    the drill runs (``RunInfo``-like: run_id, runbook, title, started, outcome, duration_s)
    listed apart, and the open incidents (``open_summaries``, default: the open ones of
    ``summaries``) with their next deadline."""
    per_level = {level: LevelFigures(level) for level in LEVELS}
    per_vendor = {level: VendorFigures(level) for level in LEVELS}
    in_range = span.select(summaries)
    now_text = iso(now)
    for summary in in_range:
        if summary.get("status") == "no-fault":
            continue
        level = _level(summary)
        key = level or 0
        if key not in per_level:  # a level beyond 1-4 (a policy of its own)
            per_level[key] = LevelFigures(level)
        _add_incident(per_level[key], summary, now_text)
        case = _vendor_figures(summary, now)
        if case is not None:
            per_vendor.setdefault(case.level or 0, VendorFigures(case.level)).merge(case)
    total, vendor_total = LevelFigures(None), VendorFigures(None)
    for level_figures in per_level.values():
        total.merge(level_figures)
    for vendor_figures in per_vendor.values():
        vendor_total.merge(vendor_figures)
    opened = open_summaries if open_summaries is not None else summaries
    return SlaReport(
        generated_at=now,
        window=span,
        levels=[per_level[k] for k in sorted(per_level)],
        total=total,
        vendor=[per_vendor[k] for k in sorted(per_vendor)],
        vendor_total=vendor_total,
        drills=drill_rows(drills, span),
        open_incidents=open_rows(opened),
        no_fault=sum(1 for s in in_range if s.get("status") == "no-fault"),
    )


def drill_rows(runs: Sequence[Any], span: Window) -> list[DrillRow]:
    """Drill runs started within ``span``, oldest first."""
    rows = []
    for run in runs:
        started = _time(getattr(run, "started", None) or getattr(run, "created", None))
        if started is not None and not span.holds(started):
            continue
        rows.append(
            DrillRow(
                run_id=run.run_id,
                runbook=run.runbook,
                title=getattr(run, "title", None),
                started=started,
                outcome=run.outcome or getattr(run, "status", None),
                duration_s=run.duration_s,
            )
        )
    return sorted(rows, key=lambda r: (r.started or datetime.min.replace(tzinfo=UTC), r.run_id))


def open_rows(summaries: Iterable[Mapping[str, Any]]) -> list[OpenRow]:
    """Open incidents with their next deadline, the most urgent first."""
    rows = []
    for s in summaries:
        if s.get("status") != "open":
            continue
        due = _time(s.get("next_due"))
        rows.append(
            OpenRow(
                incident_id=str(s["incident_id"]),
                title=str(s.get("title") or ""),
                site=s.get("site"),
                level=None if s.get("level") is None else int(s["level"]),
                detected_at=parse_iso(str(s["detected_at"])),
                next_due=due,
                clock=_which_clock(s, due),
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r.next_due or far, r.incident_id))


def _which_clock(summary: Mapping[str, Any], due: datetime | None) -> str | None:
    if due is None:
        return None
    if not summary.get("acked_at") and _time(summary.get("respond_due")) == due:
        return "respond"
    return "restore"


class _Store(Protocol):
    def incident_summaries(
        self, since: Any = None, until: Any = None, status: str | None = None
    ) -> list[dict[str, Any]]: ...

    def runs(self, *, since: Any = None, until: Any = None, drill: bool | None = None) -> Any: ...


def collect(store: _Store, span: Window, now: datetime) -> SlaReport:
    """The report from the store: the summaries detected in ``span`` (one query), the open
    incidents whenever detected, and the drill runs started in ``span``."""
    since = iso(span.start) if span.start else None
    until = iso(span.end) if span.end else None
    summaries = store.incident_summaries(since=since, until=until)
    # the open ones are among them when the range is unbounded: no second query
    bounded = span.start is not None or span.end is not None
    still_open = store.incident_summaries(status="open") if bounded else None
    drills = store.runs(since=since, until=until, drill=True)
    return build(summaries, now=now, span=span, drills=drills, open_summaries=still_open)


def as_dict(report: SlaReport) -> dict[str, Any]:
    """The report as JSON-ready data: every figure, the range, the formulas."""
    span = report.window
    return {
        "report": "sla",
        "generated_at": iso(report.generated_at),
        "range": {
            "from": iso(span.start) if span.start else None,
            "to": iso(span.end) if span.end else None,
            "to_exclusive": True,
        },
        "levels": [f.as_dict() for f in report.levels],
        "total": report.total.as_dict(),
        "vendor": {
            "levels": [f.as_dict() for f in report.vendor],
            "total": report.vendor_total.as_dict(),
        },
        "no_fault_left_out": report.no_fault,
        "drills": [
            {
                "run_id": d.run_id,
                "runbook": d.runbook,
                "title": d.title,
                "started": iso(d.started) if d.started else None,
                "outcome": d.outcome,
                "duration_s": d.duration_s,
            }
            for d in report.drills
        ],
        "open_incidents": [
            {
                "incident_id": o.incident_id,
                "title": o.title,
                "site": o.site,
                "level": o.level,
                "detected_at": iso(o.detected_at),
                "next_due": iso(o.next_due) if o.next_due else None,
                "clock": o.clock,
            }
            for o in report.open_incidents
        ],
        "formulas": dict(report.formulas),
    }
