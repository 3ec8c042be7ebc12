"""Auditor views of a run: one-line descriptions, step spans, and json/md/html/csv exports.

Everything here is pure: it takes a ``RunInfo``, the events and (optionally) the verify
result and returns text. The HTML is self-contained (inline CSS and SVG, no scripts, no
external resources) so it can be filed and opened anywhere years later.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from respond.events import RunEvent
from respond.timeline import facts
from respond.timeline.chain import VerifyResult
from respond.timeline.configs import ConfigChange, config_change, config_changes
from respond.timeline.store import RunInfo

if TYPE_CHECKING:
    from respond.timeline.store import Store

FORMATS = ("json", "md", "html", "csv")

STATUS_COLOURS = {
    "ok": "#2e7d32",
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "timed_out": "#b71c1c",
    "unknown": "#f9a825",
    "in flight": "#f9a825",
    "cancelled": "#6d4c41",
    "skipped": "#9e9e9e",
    "simulated": "#1565c0",
}


# --------------------------------------------------------------------------- helpers


parse_ts = facts.parse_ts


def local_time(ts: str) -> str:
    return parse_ts(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def utc_time(ts: str) -> str:
    return ts[:19].replace("T", " ") + "Z"


def fmt_elapsed(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    frac = int((seconds - int(seconds)) * 1000)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}.{frac:03d}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def severity_text(info: RunInfo) -> str:
    if info.severity_initial is None:
        return "-"
    if info.severity_final is None or info.severity_final == info.severity_initial:
        return f"{info.severity_initial}"
    return f"{info.severity_initial}→{info.severity_final}"


def _short(value: Any, limit: int = 160) -> str:
    if isinstance(value, dict) and "artifact" in value:
        text = f"{value.get('head', '')!s}… [artifact {str(value['artifact'])[:12]}, {value.get('bytes')} bytes]"
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ⏎ ".join(line for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(ev: RunEvent) -> str:
    """What happened, in one line a person can read."""
    d = ev.data or {}
    k = ev.kind
    own = facts.describe_incident_event(ev)  # an incident record's events
    if own is not None:
        return own
    if k == "run-started":
        return _run_started(d)
    if k == "run-resumed":
        done = ", ".join(d.get("completed_steps") or []) or "none"
        flight = d.get("in_flight") or "none"
        return f"run resumed (completed: {done}; in flight: {flight})"
    if k == "run-finished":
        msg = f": {_short(d['message'])}" if d.get("message") else ""
        if d.get("outcome"):
            why = f": {_short(d['reason'])}" if d.get("reason") else msg
            return f"run finished — {d['outcome']} ({d.get('status', '?')}){why}"
        return f"run finished — {d.get('status', '?')}{msg}"
    if k == "step-started":
        hosts = d.get("hosts") or []
        on = (
            f" on {', '.join(map(str, hosts[:8]))}" + (" …" if len(hosts) > 8 else "")
            if hosts
            else ""
        )
        mode = f" [drill: {d['drill_mode']}]" if d.get("drill_mode") not in (None, "run") else ""
        rerun = " (re-run after resume)" if d.get("rerun") else ""
        return (
            f"step started: {d.get('name') or ev.step_id} ({d.get('kind', '?')}){on}{mode}{rerun}"
        )
    if k == "step-skipped":
        return f"step skipped: {d.get('reason', '')}"
    if k == "step-finished":
        msg = f" — {_short(d['message'])}" if d.get("message") else ""
        return (
            f"step finished: {d.get('status', '?')} (ok {d.get('ok', 0)}, failed "
            f"{d.get('failed', 0)}, {fmt_duration(d.get('duration_s'))}){msg}"
        )
    if k == "host-intent":
        cmds = d.get("commands")
        ctext = "; ".join(map(str, cmds)) if isinstance(cmds, list) else str(cmds or "")
        retry = " retry" if d.get("retry") else ""
        return f"about to act{retry} (attempt {d.get('attempt', 1)})" + (
            f": {_short(ctext)}" if ctext else ""
        )
    if k == "host-result":
        return _host_result(ev)
    if k == "prompt":
        choices = d.get("choices")
        return f"asked: {_short(d.get('prompt', ''))}" + (
            f" [{' / '.join(map(str, choices))}]" if choices else ""
        )
    if k == "answer":
        return f"answered: {_short(d.get('answer', ''))}" + (
            f" (by {d['by']})" if d.get("by") else ""
        )
    if k in ("gate-confirmed", "gate-refused"):
        verb = "confirmed" if k == "gate-confirmed" else "REFUSED"
        by = f" (by {d['by']})" if d.get("by") else ""
        reason = f" — {_short(d['reason'])}" if d.get("reason") else ""
        return f"gate {verb}: {_short(d.get('text', ''))}{by}{reason}"
    if k == "notification-sent":
        return f"notified via {d.get('channel', '?')}: {_short(d.get('subject') or '')}"
    if k == "notification-failed":
        return f"notification FAILED via {d.get('channel', '?')}: {_short(d.get('error') or '')}"
    if k in ("severity-changed", "escalated"):
        what = "escalated" if k == "escalated" else "severity changed"
        auto = " (automatic)" if d.get("automatic") else ""
        reason = f": {_short(d['reason'])}" if d.get("reason") else ""
        return f"{what} {d.get('from', '?')} → {d.get('to', d.get('severity', '?'))}{auto}{reason}"
    if k == "note":
        return f"note: {d.get('text', '')}"
    if k == "lock-taken":
        f = d.get("from") or {}
        return f"lock taken over from {f.get('holder')} pid {f.get('pid')} ({d.get('reason', '')})"
    if k == "sealed":
        return f"sealed ({d.get('alg')}, key {d.get('key_id')}) over seq {d.get('seq')}"
    return _short(d) if d else ""


def _run_started(d: dict[str, Any]) -> str:
    params = d.get("params") or {}
    ptxt = ", ".join(f"{p}={_short(v, 40)}" for p, v in params.items()) if params else ""
    sha = str(d.get("sha256") or "")[:12]
    drill = " · DRILL" if d.get("drill") else ""
    return (
        f"run started: {d.get('runbook', '?')}@{d.get('version', '?')} (sha256 {sha}) "
        f"severity {d.get('severity', '?')}{drill}" + (f" · params: {ptxt}" if ptxt else "")
    )


def _host_result(ev: RunEvent) -> str:
    """Status · exit codes · duration · config change — the error or the last output."""
    d = ev.data or {}
    parts = [str(d.get("status", "?"))]
    cmds = d.get("commands") or []
    rcs = [c.get("rc") for c in cmds if isinstance(c, dict)]
    if rcs:
        parts.append("exit " + ",".join("-" if rc is None else str(rc) for rc in rcs))
    elif d.get("rc") is not None:
        parts.append(f"exit {d['rc']}")
    if d.get("duration_s") is not None:
        parts.append(fmt_duration(d["duration_s"]))
    change = config_change(ev)
    if change is not None:
        parts.append(f"config {change.summary}")
    text = " · ".join(parts)
    if d.get("error"):
        text += f" — {_short(d['error'])}"
    elif cmds and isinstance(cmds[-1], dict) and cmds[-1].get("stdout"):
        text += f" — {_short(cmds[-1]['stdout'], 100)}"
    elif d.get("output"):
        text += f" — {_short(d['output'], 100)}"
    return text


@dataclass
class StepSpan:
    step_id: str
    name: str
    start: str
    end: str | None
    status: str
    hosts_ok: int = 0
    hosts_failed: int = 0


def step_spans(events: Sequence[RunEvent]) -> list[StepSpan]:
    spans: dict[str, StepSpan] = {}
    for ev in events:
        sid = ev.step_id
        if not sid:
            continue
        d = ev.data or {}
        if ev.kind == "step-started":
            span = spans.get(sid)
            if span is None:
                spans[sid] = StepSpan(sid, str(d.get("name") or sid), ev.ts, None, "in flight")
            else:
                span.status, span.end = "in flight", None
        elif ev.kind == "step-finished":
            span = spans.setdefault(sid, StepSpan(sid, sid, ev.ts, None, "in flight"))
            span.end = ev.ts
            span.status = str(d.get("status", "unknown"))
            span.hosts_ok, span.hosts_failed = int(d.get("ok") or 0), int(d.get("failed") or 0)
        elif ev.kind == "step-skipped":
            spans.setdefault(sid, StepSpan(sid, str(d.get("name") or sid), ev.ts, ev.ts, "skipped"))
    return list(spans.values())


def _elapsed(ts: str, t0: datetime) -> float:
    return (parse_ts(ts) - t0).total_seconds()


def outcome_text(info: RunInfo) -> str:
    """A run's outcome with its reason and status (``no-fault — UPS on line (succeeded)``);
    the status alone for a run still going or recorded before outcomes existed."""
    if not info.outcome:
        return info.status
    reason = f" — {info.reason}" if info.reason else ""
    return f"{info.outcome}{reason} ({info.status})"


def _started_data(events: Sequence[RunEvent]) -> dict[str, Any]:
    first = next((e for e in events if e.kind == "run-started"), None)
    return dict(first.data) if first is not None else {}


def _incident_row(info: RunInfo, incident: Mapping[str, Any] | None) -> str:
    if incident:
        return f"{incident.get('incident_id')} — {incident.get('title') or '-'} ({incident.get('status')})"
    return str(info.meta.get("incident") or info.meta.get("title") or info.title or "-")


def _people_rows(
    info: RunInfo, events: Sequence[RunEvent], incident: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """Who acted (the operator), who reported the fault and where: first-class rows."""
    started = _started_data(events)
    source: Mapping[str, Any] = incident or started
    operator = started.get("operator") or info.operator or "-"
    return [
        ("Operator", f"{operator} on {info.hostname or '-'}"),
        ("Reported by", str(source.get("reported_by") or "-")),
        ("Site", str(source.get("site") or "-")),
    ]


def _is_incident_record(info: RunInfo) -> bool:
    return info.meta.get("record") == "incident"


def _outcome_row(info: RunInfo, incident: Mapping[str, Any] | None) -> str:
    if incident and _is_incident_record(info):  # a record that has a status, not an outcome
        return f"incident {incident.get('status')}"
    return outcome_text(info)


def _mode(info: RunInfo) -> str:
    if _is_incident_record(info):
        return "incident record (its runs are exported on their own)"
    return "drill" if info.drill else "live incident"


def _header_rows(
    info: RunInfo,
    verify: VerifyResult | None,
    events: Sequence[RunEvent] = (),
    incident: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    meta = info.meta
    rows = [
        ("Run", info.run_id),
        ("Incident", _incident_row(info, incident)),
        ("Runbook", f"{info.runbook}@{info.version}"),
        ("Outcome", _outcome_row(info, incident)),
        *_people_rows(info, events, incident),
        ("Mode", _mode(info)),
        ("Severity", severity_text(info)),
        (
            "Started",
            f"{local_time(info.started)} ({utc_time(info.started)})" if info.started else "-",
        ),
        ("Ended", f"{local_time(info.ended)} ({utc_time(info.ended)})" if info.ended else "-"),
        ("Duration", fmt_duration(info.duration_s)),
        ("Runbook sha256", info.sha256 or "-"),
        ("respond version", str(meta.get("respond_version") or "-")),
    ]
    for c in info.severity_changes:
        rows.append(
            ("Severity change", f"{utc_time(c['ts'])}: {c['from']} → {c['to']} ({c['kind']})")
        )
    if verify is not None:
        integrity = ("Integrity", facts.seal_text(verify, events))
        if not verify.ok:  # the values below may be the edited ones: say so first
            return [integrity, *rows]
        rows.append(integrity)
    return rows


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a report: label/value rows, then texts shown in full."""

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    texts: tuple[tuple[str, str], ...] = ()  # (heading, full text)
    empty: str = "(none recorded)"


def sla_section(
    events: Sequence[RunEvent], incident: Mapping[str, Any] | None, title: str = "SLA"
) -> Section:
    """The incident's clocks when the run belongs to one; the run's own limit otherwise."""
    if incident:
        lines = facts.incident_clocks(incident)
        level = incident.get("level")
        rows = [("Level", f"{level} (SLA level {incident.get('sla_level')})")]
        rows += [_clock_row(c) for c in lines]
        rows += facts.escalation_rows(incident)
        return Section(title, tuple(rows))
    rows = [_clock_row(c) for c in facts.run_clocks(events)]
    return Section(title, tuple(rows), empty="(no clock recorded for this run)")


def _clock_row(c: facts.ClockLine) -> tuple[str, str]:
    limit = f", limit {facts.limit_text(c.limit_s)}" if c.limit_s is not None else ""
    level = f"level {c.level}" if c.level is not None else "level -"
    return (f"{c.clock} ({level}{limit})", f"{c.text}; deadline {facts.local_when(c.due)}")


def diagnosis_section(events: Sequence[RunEvent]) -> Section:
    rows = tuple(
        (f"{f.step_id} ({f.kind})" if f.step_id else f.name, f.text)
        for f in facts.diagnosis(events)
    )
    return Section("Diagnosis", rows)


def notification_section(notes: Sequence[facts.Notification], *, local: bool = False) -> Section:
    """Each notice once, in full: whom it was for, every channel tried, the text."""
    texts = []
    for group in facts.notice_groups(notes):
        at = group[0].at
        when = facts.local_when(at) if local else utc_time(at)
        text = group[-1].message
        texts.append(
            (
                facts.notice_heading(group, when),
                text if text is not None else "(the record does not hold the text)",
            )
        )
    return Section("Notifications", texts=tuple(texts))


def vendor_section(incident: Mapping[str, Any] | None) -> Section | None:
    if not incident:
        return None
    rows = facts.vendor_rows(incident.get("vendor"), incident.get("restored_at"))
    return Section("Vendor case", tuple(rows), empty="(no vendor case)")


def later_section(window: facts.Window) -> Section | None:
    if not window.later or not window.end:
        return None
    end = parse_ts(window.end)
    rows = tuple(
        (
            f"+{facts.human_span((parse_ts(e.ts) - end).total_seconds())} after the end",
            f"{utc_time(e.ts)} {e.kind}: {describe(e)}",
        )
        for e in window.later
    )
    return Section("After the run (listed, not drawn to scale)", rows)


def run_sections(events: Sequence[RunEvent], incident: Mapping[str, Any] | None) -> list[Section]:
    sections = [sla_section(events, incident), diagnosis_section(events)]
    vendor = vendor_section(incident)
    if vendor is not None:
        sections.append(vendor)
    sections.append(notification_section(facts.notifications(events)))
    return sections


def sections_markdown(sections: Sequence[Section], level: int = 2) -> list[str]:
    out: list[str] = []
    for sec in sections:
        out += ["", f"{'#' * level} {sec.title}", ""]
        if sec.rows:
            out += ["| | |", "|---|---|"]
            out += [f"| **{_md(k)}** | {_md(v)} |" for k, v in sec.rows]
        for heading, text in sec.texts:
            if not heading:  # a paragraph of its own (a description, a cause)
                out += [*text.splitlines(), ""]
                continue
            out += [f"- {_md(heading)}", "", *(f"  > {line}" for line in text.splitlines()), ""]
        if not sec.rows and not sec.texts:
            out.append(sec.empty)
    return out


def sections_html(sections: Sequence[Section], level: int = 2) -> str:
    esc = html.escape
    out = []
    for sec in sections:
        slug = "".join(ch if ch.isalnum() else "-" for ch in sec.title.lower()).strip("-")
        out.append(f'<section id="{esc(slug)}"><h{level}>{esc(sec.title)}</h{level}>')
        if sec.rows:
            rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in sec.rows)
            out.append(f'<table class="meta">{rows}</table>')
        for heading, text in sec.texts:
            if not heading:
                out.append(f'<p class="para">{esc(text)}</p>')
                continue
            out.append(
                f'<div class="notice"><div class="nh">{esc(heading)}</div>'
                f'<div class="nt">{esc(text)}</div></div>'
            )
        if not sec.rows and not sec.texts:
            out.append(f"<p>{esc(sec.empty)}</p>")
        out.append("</section>")
    return "".join(out)


def report_data(
    info: RunInfo,
    events: Sequence[RunEvent],
    verify: VerifyResult | None,
    incident: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The facts of the md/html report, as data (the json export's ``report``)."""
    started = _started_data(events)
    source: Mapping[str, Any] = incident or started
    window = facts.chart_window(events)
    clocks = facts.incident_clocks(incident) if incident else facts.run_clocks(events)
    return {
        "operator": started.get("operator") or info.operator,
        "reported_by": source.get("reported_by"),
        "site": source.get("site"),
        "incident": info.meta.get("incident"),
        "outcome": info.outcome,
        "reason": info.reason,
        "sla": [c.to_dict() for c in clocks],
        "diagnosis": [f.to_dict() for f in facts.diagnosis(events)],
        "notifications": [n.to_dict() for n in facts.notifications(events)],
        "seal": {"state": facts.seal_state(verify), "text": facts.seal_text(verify, events)},
        "chart": {"start": window.start, "end": window.end, "later": len(window.later)},
    }


def incident_summary(store: Store, info: RunInfo) -> dict[str, Any] | None:
    """The summary of the incident the run belongs to (or of the incident record itself),
    folded from the incident's own (verified) events; None for a run of no incident (a
    drill, an older run)."""
    own = _is_incident_record(info)  # the incident's own record, exported
    incident_id = info.run_id if own else info.meta.get("incident")
    if not incident_id:
        return None
    from respond.incident_state import fold

    return fold(store.events(str(incident_id)), str(incident_id)).summary()


# --------------------------------------------------------------------------- formats


def to_json(
    info: RunInfo,
    events: Sequence[RunEvent],
    verify: VerifyResult | None,
    record: dict[str, Any],
    incident: Mapping[str, Any] | None = None,
) -> str:
    doc = {"format": "respond-timeline", "version": 1, "run": info.to_dict()}
    if verify is not None:
        doc["verify"] = verify.to_dict()
    doc["record"] = record
    doc["report"] = report_data(info, events, verify, incident)
    doc["incident"] = dict(incident) if incident else None
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_csv(info: RunInfo, events: Sequence[RunEvent]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "run_id",
            "seq",
            "ts_utc",
            "time_local",
            "elapsed",
            "kind",
            "actor",
            "step_id",
            "host",
            "what",
            "data",
            "prev_hash",
            "hash",
            "config_diff",
        ]
    )
    t0 = parse_ts(events[0].ts) if events else None
    for ev in events:
        w.writerow(
            [
                ev.run_id,
                ev.seq,
                ev.ts,
                local_time(ev.ts),
                fmt_elapsed(_elapsed(ev.ts, t0)) if t0 else "",
                ev.kind,
                ev.actor,
                ev.step_id or "",
                ev.host or "",
                describe(ev),
                json.dumps(ev.data, ensure_ascii=False, sort_keys=True),
                ev.prev_hash,
                ev.hash,
                _diff_cell(ev),
            ]
        )
    return buf.getvalue()


def _diff_cell(ev: RunEvent) -> str:
    change = config_change(ev)
    return change.diff if change is not None else ""


def _change_heading(c: ConfigChange) -> str:
    return (
        f"{c.device} · step {c.step_id} · {utc_time(c.ts)} · {c.command} · {c.summary} · "
        f"before {(c.before or '-')[:12]} · after {(c.after or '-')[:12]}"
    )


def _configs_markdown(events: Sequence[RunEvent]) -> list[str]:
    """Each configuration change as a fenced diff (the fence longer than any run of
    backticks in it, so a device's text cannot end the block)."""
    changes = config_changes(events)
    if not changes:
        return []
    out = ["", "## Configuration changes", ""]
    for c in changes:
        out += [f"### {_md(_change_heading(c))}", ""]
        if not c.diff:
            out += ["(no change)", ""]
            continue
        fence = "`" * max(3, _longest_backticks(c.diff) + 1)
        out += [f"{fence}diff", c.diff, fence, ""]
        if c.diff_artifact:
            out += [f"(first part; the whole diff is artifact {c.diff_artifact})", ""]
    return out


def _longest_backticks(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def _configs_html(events: Sequence[RunEvent]) -> str:
    esc = html.escape
    changes = config_changes(events)
    if not changes:
        return ""
    parts = ["<h2>Configuration changes</h2>"]
    for c in changes:
        parts.append(f"<h3>{esc(_change_heading(c))}</h3>")
        if not c.diff:
            parts.append("<p>(no change)</p>")
            continue
        lines = "\n".join(
            f'<span class="{_diff_class(line)}">{esc(line)}</span>'
            if _diff_class(line)
            else esc(line)
            for line in c.diff.splitlines()
        )
        parts.append(f'<pre class="diff mono">{lines}</pre>')
        if c.diff_artifact:
            parts.append(f"<p>(first part; the whole diff is artifact {esc(c.diff_artifact)})</p>")
    return "".join(parts)


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "dh"
    if line.startswith("+"):
        return "da"
    if line.startswith("-"):
        return "dr"
    return ""


def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(
    info: RunInfo,
    events: Sequence[RunEvent],
    verify: VerifyResult | None,
    incident: Mapping[str, Any] | None = None,
) -> str:
    out = [f"# Incident timeline — {_md(info.runbook)} · {info.run_id}", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| **{k}** | {_md(v)} |" for k, v in _header_rows(info, verify, events, incident)]
    out += sections_markdown(run_sections(events, incident))
    window = facts.chart_window(events)
    out += _steps_markdown(events, window)
    out += _configs_markdown(events)
    later = later_section(window)
    if later is not None:
        out += sections_markdown([later])
    t0 = parse_ts(events[0].ts) if events else None
    out += [
        "",
        "## Events",
        "",
        "| seq | time (local) | UTC | elapsed | actor | step | host | what happened |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for ev in events:
        out.append(
            f"| {ev.seq} | {local_time(ev.ts)} | {utc_time(ev.ts)} | "
            f"{fmt_elapsed(_elapsed(ev.ts, t0)) if t0 else ''} | {_md(ev.actor)} | "
            f"{_md(ev.step_id or '')} | {_md(ev.host or '')} | {_md(describe(ev))} |"
        )
    out += ["", f"Last hash: `{events[-1].hash if events else '-'}`", ""]
    return "\n".join(out)


def _steps_markdown(events: Sequence[RunEvent], window: facts.Window) -> list[str]:
    """The steps with a text bar over the run's own span (not stretched by later notes)."""
    spans = step_spans(events)
    if not spans or window.start is None:
        return []
    t0 = parse_ts(window.start)
    total = max(window.seconds, 1e-6)
    out = [
        "",
        "## Steps",
        "",
        "| step | status | start | end | duration | hosts ok/failed | timeline |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in spans:
        a = _elapsed(s.start, t0)
        b = _elapsed(s.end, t0) if s.end else total
        lo = min(int(a / total * 30), 29)
        hi = min(max(int(b / total * 30), lo + 1), 30)
        bar = "·" * lo + "█" * (hi - lo) + "·" * max(30 - hi, 0)
        out.append(
            f"| {_md(s.step_id)} — {_md(s.name)} | {s.status} | {fmt_elapsed(a)} | "
            f"{fmt_elapsed(b) if s.end else '-'} | {fmt_duration(b - a)} | "
            f"{s.hosts_ok}/{s.hosts_failed} | `{bar}` |"
        )
    return out


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC",
"Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 8px}h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;font-size:13px}
table.meta td{padding:3px 12px 3px 0;vertical-align:top}table.meta td:first-child{font-weight:600}
table.events{width:100%}table.events th,table.events td{border-bottom:1px solid #e3e3e3;
padding:3px 6px;text-align:left;vertical-align:top}table.events th{background:#f4f4f4;position:sticky;top:0}
td.num{text-align:right;color:#666}td.t{white-space:nowrap}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.k-run-finished td,.k-escalated td,.k-severity-changed td{font-weight:600}
.k-gate-refused td,.k-notification-failed td{color:#b71c1c}.k-note td{background:#fffbe6}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
.bad{color:#b71c1c;font-weight:700}.good{color:#2e7d32;font-weight:700}.warn{color:#e65100;font-weight:700}
.seal-sealed td:last-child,td.seal-sealed{color:#2e7d32;font-weight:700}
.seal-unsealed td:last-child,td.seal-unsealed{color:#e65100;font-weight:700}
.seal-tampered td:last-child,td.seal-tampered{color:#b71c1c;font-weight:700}
.notice{margin:6px 0 10px;font-size:13px}.notice .nh{color:#555}
.notice .nt{white-space:pre-wrap;border-left:3px solid #ccc;padding:2px 8px;margin-top:2px}
section{margin-bottom:8px}p.para{white-space:pre-wrap;font-size:14px;margin:4px 0}
pre.diff{background:#fafafa;border:1px solid #e3e3e3;padding:6px 8px;overflow-x:auto}
pre.diff .da{color:#2e7d32;background:#e8f5e9}pre.diff .dr{color:#c62828;background:#ffebee}
pre.diff .dh{color:#555;font-weight:600}
"""


def gantt_svg(events: Sequence[RunEvent]) -> str:
    """The steps as bars over the run's own span (``facts.chart_window``): a note added
    long after the run is listed below the chart, never allowed to squash it."""
    esc = html.escape
    spans = step_spans(events)
    window = facts.chart_window(events)
    if not spans or window.start is None:
        return "<p>(no steps recorded)</p>"
    t0 = parse_ts(window.start)
    total = max(window.seconds, 1e-3)
    label_w, chart_w, row_h, top = 280, 820, 26, 28
    width = label_w + chart_w + 20
    height = top + row_h * len(spans) + 20

    def x(sec: float) -> float:
        return label_w + chart_w * min(max(sec, 0.0), total) / total

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="step timeline" '
        f'data-chart-x="{label_w}" data-chart-width="{chart_w}" '
        f'style="font-family:inherit;font-size:12px">',
        f'<rect x="{label_w}" y="{top - 6}" width="{chart_w}" height="{row_h * len(spans) + 6}" '
        f'fill="#fafafa" stroke="#ddd"/>',
    ]
    parts += _axis(total, x, top, height)
    later = {e.seq for e in window.later}
    for ev in events:
        if ev.kind in ("escalated", "severity-changed", "gate-refused") and ev.seq not in later:
            px = x(_elapsed(ev.ts, t0))
            parts.append(
                f'<line x1="{px:.1f}" y1="{top - 6}" x2="{px:.1f}" y2="{height - 20}" stroke="#c62828" '
                f'stroke-dasharray="4 3"><title>{esc(utc_time(ev.ts))} {esc(describe(ev))}</title></line>'
            )
    for row, s in enumerate(spans):
        parts += _bar(s, top + row * row_h, row_h, t0, total, x, label_w + chart_w)
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{c}"></i>{esc(name)}</span>'
        for name, c in STATUS_COLOURS.items()
        if name not in ("succeeded", "in flight")
    )
    after = (
        f"<span>→ {len(window.later)} later event(s), listed below, not drawn to scale</span>"
        if window.later
        else ""
    )
    return (
        "".join(parts)
        + f'<div class="legend">{legend}<span>┆ red dashed: escalation / refused gate</span>'
        + f"{after}</div>"
    )


def _axis(total: float, x: Callable[[float], float], top: int, height: int) -> list[str]:
    """Six grid lines with the elapsed time at each."""
    parts = []
    for i in range(6):
        sec = total * i / 5
        px = x(sec)
        anchor = "start" if i == 0 else ("end" if i == 5 else "middle")
        parts += [
            f'<line x1="{px:.1f}" y1="{top - 6}" x2="{px:.1f}" y2="{height - 20}" stroke="#e0e0e0"/>',
            f'<text x="{px:.1f}" y="{top - 10}" text-anchor="{anchor}" fill="#666">'
            f"{fmt_elapsed(sec)}</text>",
        ]
    return parts


def _bar(
    s: StepSpan,
    y: float,
    row_h: int,
    t0: datetime,
    total: float,
    x: Callable[[float], float],
    right: float,
) -> list[str]:
    esc = html.escape
    a = _elapsed(s.start, t0)
    b = _elapsed(s.end, t0) if s.end else total
    colour = STATUS_COLOURS.get(s.status, "#757575")
    label = s.name if len(s.name) <= 34 else s.name[:33] + "…"
    bx, bw = x(a), max(x(b) - x(a), 3.0)
    tip = f"{s.step_id}: {s.status}, {fmt_elapsed(a)} → {fmt_elapsed(b)} ({fmt_duration(b - a)})"
    fits = bx + bw + 120 < right
    text_x, anchor = (bx + bw + 4, "start") if fits else (bx - 4, "end")
    return [
        f'<text x="4" y="{y + 15}" fill="#222">{esc(label)}</text>',
        f'<rect class="bar" x="{bx:.1f}" y="{y + 3}" width="{bw:.1f}" height="{row_h - 8}" rx="3" '
        f'fill="{colour}"><title>{esc(tip)}</title></rect>',
        f'<text x="{text_x:.1f}" y="{y + 15}" text-anchor="{anchor}" fill="#555">'
        f"{esc(s.status)} · {esc(fmt_duration(b - a))}</text>",
    ]


def events_table_html(events: Sequence[RunEvent]) -> str:
    esc = html.escape
    t0 = parse_ts(events[0].ts) if events else None
    rows = []
    for ev in events:
        el = fmt_elapsed(_elapsed(ev.ts, t0)) if t0 else ""
        rows.append(
            f'<tr class="k-{esc(ev.kind)}"><td class="num">{ev.seq}</td><td class="t">{esc(local_time(ev.ts))}</td>'
            f'<td class="mono t">{esc(utc_time(ev.ts))}</td><td class="mono t">{el}</td><td>{esc(ev.actor)}</td>'
            f"<td>{esc(ev.step_id or '')}</td><td>{esc(ev.host or '')}</td><td>{esc(ev.kind)}</td>"
            f"<td>{esc(describe(ev))}</td></tr>"
        )
    return (
        '<table class="events"><thead><tr><th>seq</th><th>time (local)</th><th>UTC</th>'
        "<th>elapsed</th><th>actor</th><th>step</th><th>host</th><th>kind</th><th>what happened</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def meta_table_html(rows: Sequence[tuple[str, str]], verify: VerifyResult | None) -> str:
    """Label/value rows; the integrity row coloured by seal state (sealed, unsealed,
    tampered), and a one-word ``Verified`` row."""
    esc = html.escape
    state = facts.seal_state(verify)
    cells = []
    for k, v in rows:
        cls = f' class="seal-{state}"' if k == "Integrity" else ""
        cells.append(f"<tr{cls}><td>{esc(k)}</td><td>{esc(v)}</td></tr>")
    if verify is not None:
        word = verify.verdict if verify.ok else "TAMPERED"
        cells.append(f'<tr><td>Verified</td><td class="seal-{state}">{esc(word)}</td></tr>')
    return f'<table class="meta">{"".join(cells)}</table>'


def html_page(title: str, body: str, *, lang: str = "en") -> str:
    """A self-contained page: inline CSS, no scripts, no external resources."""
    esc = html.escape
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>{body}"
        f'<p class="mono">generated {esc(generated)}</p></body></html>\n'
    )


def to_html(
    info: RunInfo,
    events: Sequence[RunEvent],
    verify: VerifyResult | None,
    incident: Mapping[str, Any] | None = None,
) -> str:
    esc = html.escape
    title = f"Incident timeline — {info.runbook} · {info.run_id}"
    window = facts.chart_window(events)
    later = later_section(window)
    last = events[-1].hash if events else "-"
    body = (
        meta_table_html(_header_rows(info, verify, events, incident), verify)
        + sections_html(run_sections(events, incident))
        + f'<h2>Steps</h2><div class="gantt">{gantt_svg(events)}</div>'
        + _configs_html(events)
        + (sections_html([later]) if later is not None else "")
        + f"<h2>Events ({len(events)})</h2>{events_table_html(events)}"
        + f'<p class="mono">last hash {esc(last)}</p>'
    )
    return html_page(title, body)
