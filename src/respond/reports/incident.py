"""The incident document an auditor receives (``respond incident export ID``).

Its first screen answers who (operators, reporter), what (title, runbook@version of each
run), when (detected, acknowledged, restored, resolved: local time with its zone), where
(site), the outcome and the SLA (deadlines, met or missed and by how much, escalations).
Then the record the emergency plans ask for: description, cause, actions (each run, its
steps and outcome), result, prevention, the vendor case, every notification in full, notes,
and whether the incident's record and each run's record verify (and are sealed).

``incident_document`` reads the store once and returns plain data (the json format);
``render_document`` turns that data into md or html without touching the store.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from respond.events import EventKind, RunEvent
from respond.timeline import facts
from respond.timeline.chain import VerifyResult
from respond.timeline.export import (
    Section,
    gantt_svg,
    html_page,
    notification_section,
    outcome_text,
    sections_html,
    sections_markdown,
    step_spans,
    utc_time,
)

if TYPE_CHECKING:
    from respond.timeline.store import RunInfo, Store

FORMATS = ("md", "html", "json")
AUTOMATIC = "respond"  # the actor of what respond did by itself: not an operator


@dataclass(frozen=True, slots=True)
class RunPart:
    """One run of the incident, as read from the store."""

    info: RunInfo
    events: Sequence[RunEvent]
    verify: VerifyResult | None


def incident_document(store: Store, incident_id: str) -> dict[str, Any]:
    """The document of the incident ``incident_id`` names (an incident id or prefix, or
    the id of one of its runs), built from its record and its runs' records."""
    return _read(store, incident_id)[0]


def _read(store: Store, incident_id: str) -> tuple[dict[str, Any], list[RunPart]]:
    from respond.incident_state import fold

    iid = store.resolve_incident(incident_id)
    events = store.events(iid)
    # folded from the chained events (what `timeline verify` checks), not the stored copy
    summary = fold(events, iid).summary()
    runs = [
        RunPart(store.run(r["run_id"]), store.events(r["run_id"]), store.verify(r["run_id"]))
        for r in summary.get("runs") or []
    ]
    return build_document(summary, events, store.verify(iid), runs), runs


def export_incident(store: Store, incident_id: str, fmt: str) -> str:
    """The document as ``md``, ``html`` or ``json`` text."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    doc, runs = _read(store, incident_id)
    return render_document(doc, fmt, runs)


def render_document(doc: Mapping[str, Any], fmt: str, runs: Sequence[RunPart] = ()) -> str:
    """``runs`` (their events) add each run's chart to the html."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    if fmt == "md":
        return to_markdown(doc)
    return to_html(doc, runs)


# --------------------------------------------------------------------------- the data


def build_document(
    summary: Mapping[str, Any],
    events: Sequence[RunEvent],
    verify: VerifyResult | None,
    runs: Sequence[RunPart],
) -> dict[str, Any]:
    """Everything the document shows, as data (pure: no store, no clock)."""
    notices = [n for part in [events, *(r.events for r in runs)] for n in facts.notifications(part)]
    notices.sort(key=lambda n: (n.at, n.seq))
    return {
        "format": "respond-incident",
        "version": 1,
        "incident_id": summary.get("incident_id"),
        "title": summary.get("title"),
        "status": summary.get("status"),
        "outcome": outcome_of(summary, runs),
        "who": {"operators": operators(summary, runs), "reported_by": summary.get("reported_by")},
        "what": {
            "title": summary.get("title"),
            "runbooks": [
                f"{r.get('runbook')}@{r.get('version')}" for r in summary.get("runs") or []
            ]
            or [f"{summary.get('runbook')}"],
        },
        "when": {
            key: {"utc": summary.get(field), "local": facts.local_when(summary.get(field))}
            for key, field in (
                ("detected", "detected_at"),
                ("acknowledged", "acked_at"),
                ("restored", "restored_at"),
                ("resolved", "resolved_at"),
            )
        },
        "where": {"site": summary.get("site")},
        "sla": sla_data(summary),
        "description": summary.get("description"),
        "cause": summary.get("cause"),
        "prevention": summary.get("prevention"),
        "result": result_text(summary),
        "actions": [action_data(r) for r in runs],
        "vendor": summary.get("vendor"),
        "notifications": [n.to_dict() for n in notices],
        "notes": notes(events, runs),
        "record": record_rows(events),
        "verification": {
            "incident": verification(summary.get("incident_id"), verify, events),
            "runs": [verification(r.info.run_id, r.verify, r.events) for r in runs],
        },
        "summary": dict(summary),
    }


def operators(summary: Mapping[str, Any], runs: Sequence[RunPart]) -> list[str]:
    """Everyone who acted, in the order they first did: who opened it, who ran each run,
    who acknowledged, restored and resolved it (respond itself is not an operator)."""
    names: list[Any] = [summary.get("operator")]
    for r in runs:
        started = next((e for e in r.events if e.kind == EventKind.RUN_STARTED), None)
        names.append((started.data.get("operator") if started else None) or r.info.operator)
    names += [summary.get(k) for k in ("acked_by", "restored_by", "resolved_by")]
    seen: dict[str, None] = {}
    for name in names:
        if name and name != AUTOMATIC:
            seen.setdefault(str(name), None)
    return list(seen)


def outcome_of(summary: Mapping[str, Any], runs: Sequence[RunPart]) -> str:
    """The incident's status, with the last run's outcome."""
    status = str(summary.get("status") or "open")
    if not runs:
        return status
    last = runs[-1].info
    return f"{status} · last run {last.run_id}: {outcome_text(last)}"


def result_text(summary: Mapping[str, Any]) -> str:
    status = summary.get("status")
    if status == "no-fault":
        return "no fault found: every run ended no-fault (not counted in SLA figures)"
    restored = summary.get("restored_at")
    if not restored:
        return "not restored yet"
    via = summary.get("restored_via")
    how = f" via {via}" if via else ""
    by = summary.get("restored_by")
    by = f" by {by}" if by and by != AUTOMATIC else ""
    text = f"restored {facts.local_when(restored)}{how}{by}"
    if summary.get("resolved_at"):
        who = f" by {summary['resolved_by']}" if summary.get("resolved_by") else ""
        text += f"; record closed (resolved) {facts.local_when(summary['resolved_at'])}{who}"
    return text


def sla_data(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "level": summary.get("level"),
        "initial_level": summary.get("initial_level"),
        "sla_level": summary.get("sla_level"),
        "limits": summary.get("limits"),
        "clocks": [c.to_dict() for c in facts.incident_clocks(summary)],
        "escalations": list(summary.get("escalations") or []),
        "severity_changes": list(summary.get("severity_changes") or []),
        "missed": list(summary.get("missed") or []),
    }


def action_data(run: RunPart) -> dict[str, Any]:
    info = run.info
    return {
        "run_id": info.run_id,
        "runbook": info.runbook,
        "version": info.version,
        "operator": info.operator,
        "started": info.started,
        "ended": info.ended,
        "status": info.status,
        "outcome": info.outcome,
        "reason": info.reason,
        "steps": [
            {
                "step_id": s.step_id,
                "name": s.name,
                "status": s.status,
                "start": s.start,
                "end": s.end,
                "hosts_ok": s.hosts_ok,
                "hosts_failed": s.hosts_failed,
            }
            for s in step_spans(run.events)
        ],
        "diagnosis": [f.to_dict() for f in facts.diagnosis(run.events)],
    }


def notes(events: Sequence[RunEvent], runs: Sequence[RunPart]) -> list[dict[str, Any]]:
    """Notes on the incident and on each of its runs, in time order."""
    found = [
        {"at": e.ts, "by": e.actor, "text": str(e.data.get("text") or ""), "on": where}
        for where, evs in [("incident", events), *((r.info.run_id, r.events) for r in runs)]
        for e in evs
        if e.kind == EventKind.NOTE
    ]
    return sorted(found, key=lambda n: str(n["at"]))


def verification(
    record_id: Any, verify: VerifyResult | None, events: Sequence[RunEvent]
) -> dict[str, Any]:
    return {
        "record": record_id,
        "state": facts.seal_state(verify),
        "verdict": verify.verdict if verify is not None else None,
        "text": facts.seal_text(verify, events),
    }


def record_rows(events: Sequence[RunEvent]) -> list[dict[str, Any]]:
    """The incident's own events, one line each (an attempt to tell someone knows whether
    it was a fallback from the attempts before it)."""
    attempts = {n.seq: facts.notification_line(n) for n in facts.notifications(events)}
    return [
        {
            "seq": e.seq,
            "at": e.ts,
            "by": e.actor,
            "kind": e.kind,
            "what": attempts.get(e.seq) or describe(e),
        }
        for e in events
    ]


def describe(e: RunEvent) -> str:
    """An incident record's event in one line."""
    text = facts.describe_incident_event(e)
    if text is not None:
        return text
    if e.kind in (EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED):
        return facts.notification_line(facts.notifications([e])[0])
    if e.kind == EventKind.NOTE:
        return f"note: {e.data.get('text')}"
    return json.dumps(e.data, ensure_ascii=False) if e.data else ""


# --------------------------------------------------------------------------- rendering


def glance_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The first screen: who, what, when, where, outcome, SLA."""
    who, when, sla = doc["who"], doc["when"], doc["sla"]
    rows = [
        ("Incident", f"{doc['incident_id']} — {doc['title']}"),
        ("Status / outcome", str(doc["outcome"])),
        ("Operator(s)", ", ".join(who["operators"]) or "-"),
        ("Reported by", str(who["reported_by"] or "-")),
        ("Site", str(doc["where"]["site"] or "-")),
        ("Runbook(s)", ", ".join(doc["what"]["runbooks"])),
    ]
    rows += [(f"{k.capitalize()}", v["local"]) for k, v in when.items()]
    rows.append(
        (
            "Level",
            f"{sla['level']} now; SLA level {sla['sla_level']} (opened at {sla['initial_level']})",
        )
    )
    for c in sla["clocks"]:
        limit = facts.limit_text(c["limit_s"]) if c["limit_s"] is not None else "-"
        rows.append((f"SLA {c['clock']} (within {limit})", c["text"]))
    escalations = sla["escalations"]
    rows.append(
        (
            "Escalations",
            "; ".join(
                f"{e.get('from')} → {e.get('to')} at {facts.local_when(e.get('at'))}"
                + (" (automatic)" if e.get("automatic") else "")
                for e in escalations
            )
            or "none",
        )
    )
    return rows


def body_sections(doc: Mapping[str, Any]) -> list[Section]:
    summary = doc["summary"]
    return [
        Section("Description", texts=(("", str(doc["description"] or "-")),)),
        Section("Cause", texts=(("", str(doc["cause"] or "(not recorded yet)")),)),
        Section("Result", texts=(("", str(doc["result"])),)),
        Section("Prevention", texts=(("", str(doc["prevention"] or "(not recorded yet)")),)),
        Section("SLA in detail", tuple(_sla_rows(doc["sla"]) + facts.escalation_rows(summary))),
        Section(
            "Vendor case",
            tuple(facts.vendor_rows(doc["vendor"], summary.get("restored_at"))),
            empty="(no vendor case)",
        ),
        notification_section([facts.Notification(**n) for n in doc["notifications"]], local=True),
        Section(
            "Notes",
            tuple(
                (f"{facts.local_when(n['at'])} · {n['by']} · {n['on']}", n["text"])
                for n in doc["notes"]
            ),
        ),
        Section(
            "Verification",
            tuple(
                (f"{v['record']}", v["text"])
                for v in [doc["verification"]["incident"], *doc["verification"]["runs"]]
            ),
        ),
    ]


def _sla_rows(sla: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for c in sla["clocks"]:
        rows.append((f"{c['clock']} deadline", f"{facts.local_when(c['due'])} — {c['text']}"))
    return rows


def _action_rows(action: Mapping[str, Any]) -> list[tuple[str, str]]:
    outcome = action["outcome"] or action["status"]
    reason = f" — {action['reason']}" if action["reason"] else ""
    return [
        ("Runbook", f"{action['runbook']}@{action['version']}"),
        ("Operator", str(action["operator"] or "-")),
        ("Started", facts.local_when(action["started"])),
        ("Ended", facts.local_when(action["ended"])),
        ("Outcome", f"{outcome}{reason}"),
        *((f"{f['step_id'] or f['name']} ({f['kind']})", f["text"]) for f in action["diagnosis"]),
    ]


def _steps_md(action: Mapping[str, Any]) -> list[str]:
    out = [
        "",
        "| step | status | start | end | hosts ok/failed |",
        "|---|---|---|---|---|",
    ]
    for s in action["steps"]:
        out.append(
            f"| {_md(_step_label(s))} | {s['status']} | {utc_time(s['start'])} | "
            f"{utc_time(s['end']) if s['end'] else '-'} | {s['hosts_ok']}/{s['hosts_failed']} |"
        )
    return out


def _step_label(step: Mapping[str, Any]) -> str:
    """``id — name``, or the id alone when the step has no name of its own."""
    if step["name"] in (None, "", step["step_id"]):
        return str(step["step_id"])
    return f"{step['step_id']} — {step['name']}"


def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Mapping[str, Any]) -> str:
    out = [f"# Incident {doc['incident_id']} — {_md(doc['title'])}", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| **{_md(k)}** | {_md(v)} |" for k, v in glance_rows(doc)]
    sections = body_sections(doc)
    out += sections_markdown(sections[:2])
    out += ["", "## Actions"]
    for action in doc["actions"]:
        out += ["", f"### Run {action['run_id']}", "", "| | |", "|---|---|"]
        out += [f"| **{_md(k)}** | {_md(v)} |" for k, v in _action_rows(action)]
        out += _steps_md(action)
    out += sections_markdown(sections[2:])
    out += ["", "## The incident's record", "", "| seq | time | by | what |", "|---:|---|---|---|"]
    out += [
        f"| {r['seq']} | {facts.local_when(r['at'])} | {_md(r['by'])} | {_md(r['what'])} |"
        for r in doc["record"]
    ]
    return "\n".join(out) + "\n"


def _tone(value: str) -> str:
    """A clock's verdict in colour: missed red, met green."""
    if "MISSED" in value:
        return "bad"
    return "good" if value.startswith("met:") else ""


def to_html(doc: Mapping[str, Any], runs: Sequence[RunPart] = ()) -> str:
    esc = html.escape
    glance = "".join(
        f'<tr><td>{esc(k)}</td><td class="{_tone(v)}">{esc(v)}</td></tr>'
        for k, v in glance_rows(doc)
    )
    sections = body_sections(doc)
    actions = []
    for action in doc["actions"]:
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in _action_rows(action)
        )
        events = next((r.events for r in runs if r.info.run_id == action["run_id"]), None)
        chart = f'<div class="gantt">{gantt_svg(events)}</div>' if events else ""
        steps = "".join(
            f"<tr><td>{esc(_step_label(s))}</td><td>{esc(s['status'])}</td>"
            f"<td>{esc(facts.local_when(s['start']))}</td><td>{esc(facts.local_when(s['end']))}</td>"
            f"<td>{s['hosts_ok']}/{s['hosts_failed']}</td></tr>"
            for s in action["steps"]
        )
        actions.append(
            f'<section class="run" id="run-{esc(action["run_id"])}">'
            f"<h3>Run {esc(action['run_id'])}</h3>"
            f'<table class="meta">{rows}</table>{chart}'
            '<table class="events"><thead><tr><th>step</th><th>status</th><th>start</th>'
            f"<th>end</th><th>hosts ok/failed</th></tr></thead><tbody>{steps}</tbody></table>"
            "</section>"
        )
    rows_html = "".join(
        f"<tr><td class='num'>{r['seq']}</td><td class='t'>{esc(facts.local_when(r['at']))}</td>"
        f"<td>{esc(r['by'])}</td><td>{esc(r['what'])}</td></tr>"
        for r in doc["record"]
    )
    body = (
        f'<table class="meta glance" id="glance">{glance}</table>'
        + sections_html(sections[:2])
        + f"<h2>Actions</h2>{''.join(actions)}"
        + sections_html(sections[2:])
        + "<h2>The incident's record</h2>"
        + '<table class="events"><thead><tr><th>seq</th><th>time</th><th>by</th><th>what</th>'
        + f"</tr></thead><tbody>{rows_html}</tbody></table>"
    )
    return html_page(f"Incident {doc['incident_id']} — {doc['title']}", body)
