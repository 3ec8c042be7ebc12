"""What an auditor asks of a record, computed once for every export that answers it.

Pure functions over stored events (and, for a run of an incident, the incident's summary):
the clocks with their deadlines and by how much each was met or missed, the diagnosis a run
reached (its ``set`` values, ``decide`` verdicts and the reason it ended), the full text of
each notification with the fallback it took, whether the record is sealed, and the window a
chart of the run is drawn over (so a note added long after the run does not squash it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from respond.clock import iso, parse_iso
from respond.events import EventKind, RunEvent
from respond.timeline.chain import TAMPERED, VerifyResult

# Events that may follow a run's end without being part of the run itself.
AFTERWARDS = frozenset({EventKind.NOTE, EventKind.SEALED, EventKind.LOCK_TAKEN})


def parse_ts(ts: str) -> datetime:
    """A stored time (an event's ``ts``, a summary's deadline) as an aware UTC datetime."""
    return parse_iso(ts).astimezone(UTC)


def human_span(seconds: float) -> str:
    """``45s``, ``12m``, ``12m 30s``, ``7h 12m``, ``2d 3h`` (always positive)."""
    s = round(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, rest = divmod(s, 60)
        return f"{m}m {rest}s" if rest else f"{m}m"
    if s < 86400:
        h, rest = divmod(s, 3600)
        return f"{h}h {rest // 60}m" if rest // 60 else f"{h}h"
    d, rest = divmod(s, 86400)
    return f"{d}d {rest // 3600}h" if rest // 3600 else f"{d}d"


def local_when(ts: str | None) -> str:
    """``2026-12-02 09:30:00 CST (01:30:00Z)``: local time with its zone, then UTC."""
    if not ts:
        return "-"
    at = parse_ts(ts)
    return f"{at.astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')} ({at.strftime('%H:%M:%SZ')})"


def limit_text(seconds: Any) -> str:
    try:
        return human_span(float(seconds))
    except (TypeError, ValueError):
        return "-"


# --------------------------------------------------------------------------- clocks


@dataclass(frozen=True, slots=True)
class ClockLine:
    """One deadline: when it was due, when it was met, and by how much."""

    clock: str  # respond | restore
    level: int | None
    limit_s: float | None
    due: str | None
    at: str | None  # when the clock stopped (acknowledged, restored), None while pending
    met: bool | None  # None: pending
    margin_s: float | None  # due - at: positive = early, negative = late
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _verdict_text(clock: str, due: str | None, at: str | None, missed: bool) -> str:
    verb = "acknowledged" if clock == "respond" else "restored"
    if at is not None and due is not None:
        margin = (parse_ts(due) - parse_ts(at)).total_seconds()
        if margin >= 0:
            return f"met: {verb} {local_when(at)}, {human_span(margin)} before the deadline"
        return f"MISSED by {human_span(margin)}: {verb} {local_when(at)}"
    if missed:
        return f"MISSED: not {verb} by the deadline {local_when(due)}"
    return f"pending: due {local_when(due)}"


def incident_clocks(summary: Mapping[str, Any]) -> list[ClockLine]:
    """The incident's SLA clocks (respond, restore) at its SLA level."""
    limits = summary.get("limits") or {}
    missed = {str(m.get("clock")) for m in summary.get("missed") or []}
    lines = []
    for clock, due_key, at_key, met_key in (
        ("respond", "respond_due", "acked_at", "respond_met"),
        ("restore", "restore_due", "restored_at", "restore_met"),
    ):
        due, at = summary.get(due_key), summary.get(at_key)
        met = summary.get(met_key)
        margin = None
        if due and at:
            margin = (parse_ts(due) - parse_ts(at)).total_seconds()
            met = margin >= 0 if met is None else bool(met)
        elif clock in missed:
            met = False
        limit = limits.get(clock)
        lines.append(
            ClockLine(
                clock=clock,
                level=summary.get("sla_level"),
                limit_s=None if limit is None else float(limit),
                due=due,
                at=at,
                met=met,
                margin_s=margin,
                text=_verdict_text(clock, due, at, clock in missed),
            )
        )
    return lines


def run_clocks(events: Sequence[RunEvent]) -> list[ClockLine]:
    """A run with no incident: its own restore limit, counted from run start to a
    ``resolved`` end (the only clock such a run keeps)."""
    started = next((e for e in events if e.kind == EventKind.RUN_STARTED), None)
    if started is None:
        return []
    limits = started.data.get("clock") or {}
    restore = limits.get("restore")
    if not restore:
        return []
    due_ts = iso(parse_ts(started.ts) + timedelta(seconds=float(restore)))
    end = last_end(events)
    at = end.ts if end is not None and end.data.get("outcome") == "resolved" else None
    margin = (parse_ts(due_ts) - parse_ts(at)).total_seconds() if at else None
    if at is None and end is not None:
        text = (
            f"not restored by this run (ended {end.data.get('outcome') or end.data.get('status')})"
        )
    else:
        text = _verdict_text("restore", due_ts, at, missed=False)
    return [
        ClockLine(
            clock="restore",
            level=started.data.get("severity"),
            limit_s=float(restore),
            due=due_ts,
            at=at,
            met=None if margin is None else margin >= 0,
            margin_s=margin,
            text=f"{text} (the run's own clock, from run start)",
        )
    ]


def last_end(events: Sequence[RunEvent]) -> RunEvent | None:
    """The run's last ``run-finished``; None when it never finished or was resumed after."""
    end = None
    for e in events:
        if e.kind == EventKind.RUN_FINISHED:
            end = e
        elif e.kind == EventKind.RUN_RESUMED:
            end = None
    return end


# --------------------------------------------------------------------------- chart window


@dataclass(frozen=True, slots=True)
class Window:
    """The span a run's chart is drawn over, and what came after it."""

    start: str | None
    end: str | None
    later: tuple[RunEvent, ...]

    @property
    def seconds(self) -> float:
        if not self.start or not self.end:
            return 0.0
        return (parse_ts(self.end) - parse_ts(self.start)).total_seconds()


def chart_window(events: Sequence[RunEvent]) -> Window:
    """From the first event to the run's end (its last ``run-finished``; for a run not
    finished, its last event that is part of the run). Notes and seals after that are
    ``later``: listed, never drawn to scale."""
    if not events:
        return Window(None, None, ())
    end = last_end(events)
    if end is None:
        inside = [e for e in events if e.kind not in AFTERWARDS] or list(events)
        end = inside[-1]
    later = tuple(e for e in events if e.seq > end.seq and e.ts > end.ts)
    return Window(events[0].ts, end.ts, later)


# --------------------------------------------------------------------------- seal


def seal_text(verify: VerifyResult | None, events: Sequence[RunEvent]) -> str:
    """Sealed, intact but not sealed, or tampered: three different sentences."""
    if verify is None:
        return "not verified"
    if not verify.ok or verify.verdict == TAMPERED:
        return str(verify).split(": ", 1)[-1]
    seals = [e for e in events if e.kind == EventKind.SEALED]
    key = seals[-1].data.get("key_id") if seals else None
    alg = seals[-1].data.get("alg") if seals else None
    n = f"{verify.checked} events"
    if verify.sealed:
        return f"intact, sealed by key {key} ({alg}); the seal was checked ({n})"
    if verify.verdict == "not sealed" and seals:
        return f"chain intact, sealed by key {key} but the seal was NOT checked: no key given ({n})"
    if verify.verdict == "not sealed":
        return f"intact, not sealed: no signing key was configured ({n})"
    detail = f"; {verify.detail}" if verify.detail else ""
    return f"{verify.verdict} ({n}){detail}"


def seal_state(verify: VerifyResult | None) -> str:
    """One word for styling and JSON: sealed | unsealed | tampered | open | unverified."""
    if verify is None:
        return "unverified"
    if not verify.ok:
        return "tampered"
    if verify.sealed:
        return "sealed"
    if verify.verdict in ("not sealed", "intact"):  # an incident's record is never sealed
        return "unsealed"
    return "open"


# --------------------------------------------------------------------------- notifications


@dataclass(frozen=True, slots=True)
class Notification:
    """One attempt to tell someone, with the full text that was sent."""

    at: str
    seq: int
    step_id: str | None
    event: str | None  # for an incident: the event that told (opened, escalated, …)
    recipient: str | None
    channel: str | None
    subject: str
    message: str | None  # None: the record does not hold the text
    ok: bool
    error: str | None
    fallback: bool  # sent after an earlier channel of the same notice failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _notice_texts(events: Sequence[RunEvent]) -> dict[str, dict[str, Any]]:
    """step id → what its notify/finish step sent (the text is in the step's result)."""
    texts: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.kind == EventKind.HOST_RESULT and e.step_id:
            inner = e.data.get("data")
            if isinstance(inner, dict) and "message" in inner:
                texts[e.step_id] = inner
    return texts


def notifications(events: Sequence[RunEvent]) -> list[Notification]:
    texts = _notice_texts(events)
    out: list[Notification] = []
    group: tuple[Any, ...] | None = None
    failed_before = False
    for e in events:
        if e.kind not in (EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED):
            group = None
            continue
        d = e.data
        key = (e.step_id, d.get("subject"), d.get("recipient"), d.get("event"))
        if key != group:
            group, failed_before = key, False
        ok = e.kind == EventKind.NOTIFICATION_SENT
        message = d.get("message")
        if message is None and e.step_id in texts:
            message = texts[e.step_id].get("message")
        out.append(
            Notification(
                at=e.ts,
                seq=e.seq,
                step_id=e.step_id,
                event=d.get("event"),
                recipient=d.get("recipient"),
                channel=d.get("channel"),
                subject=str(d.get("subject") or ""),
                message=None if message is None else str(message),
                ok=ok,
                error=d.get("error"),
                fallback=ok and failed_before,
            )
        )
        failed_before = failed_before or not ok
    return out


def notification_line(n: Notification) -> str:
    """One attempt in a line: to whom, how, and whether it went."""
    who = f"to {n.recipient} " if n.recipient else ""
    why = f" [{n.event}]" if n.event else ""
    return f"{who}via {n.channel or '-'}{why}: {_attempt_state(n)}"


def _attempt_state(n: Notification) -> str:
    if n.ok:
        return "sent (fallback)" if n.fallback else "sent"
    return f"FAILED ({n.error or 'no channel accepted it'})"


def notice_groups(items: Sequence[Notification]) -> list[list[Notification]]:
    """The attempts of one notice together (its channels tried in order, one text)."""
    groups: list[list[Notification]] = []
    for n in items:
        last = groups[-1][-1] if groups else None
        # a notice ends with the attempt that was accepted
        if last is not None and not last.ok and _notice_key(last) == _notice_key(n):
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def _notice_key(n: Notification) -> tuple[Any, ...]:
    return (n.step_id, n.subject, n.recipient, n.event, n.message)


def notice_heading(group: Sequence[Notification], when: str) -> str:
    """``<when> · to leaders [escalated] · subject: … · sms: FAILED (…) → log: sent (fallback)``"""
    first = group[0]
    who = f" · to {first.recipient}" if first.recipient else ""
    why = f" [{first.event}]" if first.event else ""
    tried = " → ".join(f"{n.channel or '-'}: {_attempt_state(n)}" for n in group)
    return f"{when}{who}{why} · subject: {first.subject or '-'} · {tried}"


# --------------------------------------------------------------------------- diagnosis


@dataclass(frozen=True, slots=True)
class Finding:
    """What the run concluded: a computed value, a verdict, or how it ended."""

    step_id: str | None
    name: str
    kind: str  # set | decide | finish | end
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _finding(step_id: str, name: str, kind: str, data: Mapping[str, Any]) -> Finding | None:
    if kind == "set" and isinstance(data.get("values"), dict):
        values = ", ".join(f"{k} = {_value_text(v)}" for k, v in data["values"].items())
        return Finding(step_id, name, kind, values)
    if kind == "decide" and data.get("verdict") is not None:
        message = f": {data['message']}" if data.get("message") else ""
        return Finding(step_id, name, kind, f"verdict {data['verdict']}{message}")
    if kind == "finish" and data.get("outcome") is not None:
        message = f": {data['message']}" if data.get("message") else ""
        return Finding(step_id, name, kind, f"outcome {data['outcome']}{message}")
    return None


def diagnosis(events: Sequence[RunEvent]) -> list[Finding]:
    """The values of ``set`` steps, the verdicts of ``decide`` steps, the ``finish`` step
    that ended the run, and the reason the run ended (the last result of each step)."""
    kinds: dict[str, tuple[str, str]] = {}
    found: dict[str, Finding] = {}
    for e in events:
        if e.kind == EventKind.STEP_STARTED and e.step_id:
            kinds[e.step_id] = (str(e.data.get("kind") or ""), str(e.data.get("name") or e.step_id))
        elif e.kind == EventKind.HOST_RESULT and e.step_id in kinds:
            kind, name = kinds[e.step_id]
            inner = e.data.get("data")
            f = _finding(e.step_id, name, kind, inner) if isinstance(inner, dict) else None
            if f is not None:
                found[e.step_id] = f
    out = list(found.values())
    end = last_end(events)
    if end is not None:
        d = end.data
        reason = d.get("reason") or d.get("message") or ""
        by = f" (ended by step {d['finished_by']})" if d.get("finished_by") else ""
        what = d.get("outcome") or d.get("status") or "?"
        out.append(
            Finding(None, "run ended", "end", f"{what}{by}" + (f": {reason}" if reason else ""))
        )
    return out


# --------------------------------------------------------------------------- vendor, escalations


def _after(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (parse_ts(end) - parse_ts(start)).total_seconds()


def _promise_text(took: float | None, promised: Any) -> str:
    if took is None:
        return ""
    text = f" — after {human_span(took)}"
    if promised is None:
        return text
    margin = float(promised) - took
    if margin >= 0:
        return f"{text} (promised {limit_text(promised)}: met)"
    return f"{text} (promised {limit_text(promised)}: MISSED by {human_span(margin)})"


def vendor_rows(vendor: Mapping[str, Any] | None, restored_at: str | None) -> list[tuple[str, str]]:
    """The vendor case against the vendor's promised limits (accept, on site, restore)."""
    if not vendor:
        return []
    limits = vendor.get("limits") or {}
    reported = vendor.get("reported_at")
    restored = vendor.get("restored_at") or restored_at
    rows = [
        ("Vendor", str(vendor.get("name") or "-")),
        ("Case", str(vendor.get("case") or "-")),
        ("Reported to the vendor", local_when(reported)),
    ]
    for label, at, key in (
        ("Accepted", vendor.get("accepted_at"), "accept"),
        ("Engineer on site", vendor.get("on_site_at"), "on_site"),
        ("Restored", restored, "restore"),
    ):
        rows.append((label, local_when(at) + _promise_text(_after(reported, at), limits.get(key))))
    return rows


def escalation_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for c in summary.get("severity_changes") or []:
        by = f" by {c['by']}" if c.get("by") else ""
        rows.append(
            (
                "Re-classified",
                f"level {c.get('from')} → {c.get('to')} at {local_when(c.get('at'))}{by}: "
                f"{c.get('reason') or ''}",
            )
        )
    for e in summary.get("escalations") or []:
        how = "automatic" if e.get("automatic") else "by hand"
        rows.append(
            (
                "Escalated",
                f"level {e.get('from')} → {e.get('to')} at {local_when(e.get('at'))} ({how}): "
                f"{e.get('reason') or ''}",
            )
        )
    for m in summary.get("missed") or []:
        rows.append(
            (
                "Deadline missed",
                f"{m.get('clock')} at level {m.get('level')}, due {local_when(m.get('due'))}",
            )
        )
    return rows


# --------------------------------------------------------------------------- incident events

INCIDENT_KINDS = frozenset(
    {
        EventKind.INCIDENT_OPENED,
        EventKind.RUN_ATTACHED,
        EventKind.ACKNOWLEDGED,
        EventKind.DEADLINE_MISSED,
        EventKind.RUN_ENDED,
        EventKind.RESTORED,
        EventKind.RESOLVED,
        EventKind.VENDOR_CASE,
    }
)


def describe_incident_event(e: RunEvent) -> str | None:
    """One line for an event of an incident's record (None: not one of its own kinds)."""
    d = e.data
    at = f" at {local_when(d['at'])}" if d.get("at") else ""
    if e.kind == EventKind.ESCALATED and d.get("at"):  # a run's own escalations have no "at"
        how = " (automatic)" if d.get("automatic") else ""
        return f"escalated {d.get('from')} → {d.get('to')}{at}{how}: {d.get('reason')}"
    if e.kind == EventKind.SEVERITY_CHANGED and d.get("at"):
        return f"re-classified {d.get('from')} → {d.get('to')}{at}: {d.get('reason')}"
    if e.kind not in INCIDENT_KINDS:
        return None
    if e.kind == EventKind.VENDOR_CASE:
        return "vendor case: " + ", ".join(f"{k} {v}" for k, v in d.items())
    because = f": {d['reason']}" if d.get("reason") else ""
    return {
        EventKind.INCIDENT_OPENED: f"opened at level {d.get('severity')}: {d.get('title')} "
        f"(detected {local_when(d.get('detected_at'))})",
        EventKind.RUN_ATTACHED: f"run {d.get('run_id')} attached "
        f"({d.get('runbook')}@{d.get('version')}){at}",
        EventKind.ACKNOWLEDGED: f"acknowledged by {d.get('by')}{at}"
        + (f": {d['note']}" if d.get("note") else ""),
        EventKind.DEADLINE_MISSED: f"{d.get('clock')} deadline missed at level {d.get('level')} "
        f"(due {local_when(d.get('due'))})",
        EventKind.RUN_ENDED: f"run {d.get('run_id')} ended {d.get('outcome')}{at}{because}",
        EventKind.RESTORED: f"restored{at} by {d.get('by')}",
        EventKind.RESOLVED: f"resolved{at} by {d.get('by')}",
    }[EventKind(e.kind)]
