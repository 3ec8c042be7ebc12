"""The inspection report (巡检报告) of one inspection run, as a plain JSON-able document.

What a maintenance contract asks of the report: the scope (which inspection, which devices,
which checks), the time, the inspector, the counts by state, per device each check with its
value, threshold, grade and summary, the problems found with what to do about them, the
trend against the previous run of the same inspection, and whether the record is intact.
Every renderer (``inspection_render`` md/html/json, ``inspection_xlsx``, ``inspection_docx``,
``inspection_pdf``) shows this one document, so the formats cannot disagree.

Secrets: the record is masked when written; the document is masked again with what the
caller knows (inventory secrets, the signing key), so a value that slipped into a plugin's
output is never printed in a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from respond.checks.result import State, summarise, worst
from respond.clock import iso
from respond.inspections.record import (
    Change,
    CheckRecord,
    InspectionRecord,
    load_inspection_run,
    previous_run,
    trend,
)

if TYPE_CHECKING:
    from respond.secrets import Masker
    from respond.timeline import Store

FORMATS = ("html", "md", "json", "xlsx", "docx", "pdf")
BINARY_FORMATS = frozenset({"xlsx", "docx", "pdf"})
STATES = tuple(s.word for s in State)  # OK WARNING CRITICAL UNKNOWN
# Text colour and cell fill of each state, shared by the html, xlsx, docx and pdf renderers.
STATE_COLOURS = {"OK": "#1b5e20", "WARNING": "#8a5a00", "CRITICAL": "#b71c1c", "UNKNOWN": "#4a148c"}
STATE_FILLS = {"OK": "#c8e6c9", "WARNING": "#ffe0a3", "CRITICAL": "#ffcdd2", "UNKNOWN": "#e1bee7"}
# Headings in both languages of the people who read the report.
HEADINGS = {
    "scope": "Scope 巡检范围",
    "time": "Time 巡检时间",
    "summary": "Summary 结果汇总",
    "devices": "Results per device 设备检查结果",
    "problems": "Problems found 发现的问题",
    "trend": "Trend 趋势",
    "integrity": "Record integrity 记录完整性",
}
RESULT_COLUMNS = ("device", "check", "what is checked", "state", "value", "threshold", "summary")


def inspection_report(
    store: Store,
    run_id: str,
    *,
    masker: Masker | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report document of the inspection run ``run_id`` (an id or a unique prefix);
    InvalidInput when the run is not an inspection."""
    record = load_inspection_run(store, run_id)
    previous = previous_run(store, record)
    doc = build_document(record, previous, now=now or datetime.now(UTC))
    return masker.mask(doc) if masker is not None else doc


def build_document(
    record: InspectionRecord, previous: InspectionRecord | None, *, now: datetime
) -> dict[str, Any]:
    results = [r.result for r in record.results]
    counts = summarise(results)
    return {
        "report": "inspection",
        "run_id": record.run.run_id,
        "inspection": record.name,
        "title": record.title or record.name,
        "generated_at": iso(now),
        "scope": _scope(record),
        "time": _time(record),
        "inspector": record.operator,
        "outcome": record.run.outcome or record.run.status,
        "worst": worst(r.state for r in results).word if results else None,
        "counts": counts,
        "total": len(results),
        "devices": _devices(record),
        "problems": [_problem(r) for r in record.results if r.state is not State.OK],
        "trend": _trend(record, previous),
        "integrity": _integrity(record),
    }


def _scope(record: InspectionRecord) -> dict[str, Any]:
    meta = record.run.meta.get("inspection") or {}
    return {
        "inspection": record.name,
        "version": record.version,
        "title": record.title,
        "sha256": meta.get("sha256") or record.run.sha256,
        "inventory": record.inventory,
        "occurrence": meta.get("occurrence"),
        "hosts": list(record.hosts),
        "checks": [
            {
                "id": c.get("id"),
                "check": c.get("check"),
                "title": c.get("title") or _title_of(record, str(c.get("id"))),
                "targets": c.get("targets"),
                "warn": _range_text(c.get("warn")),
                "crit": _range_text(c.get("crit")),
            }
            for c in record.checks
        ],
    }


def _title_of(record: InspectionRecord, check_id: str) -> str | None:
    return next((r.title for r in record.results if r.check_id == check_id), None)


def _range_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _time(record: InspectionRecord) -> dict[str, Any]:
    return {
        "started": record.started,
        "ended": record.ended,
        "duration_s": record.run.duration_s,
    }


def value_text(r: CheckRecord) -> str:
    """The headline value with its unit: ``93%``, ``0.25 s``, ``-`` when there is none."""
    value = r.result.value
    if value is None:
        return "-"
    number = f"{value:g}" if isinstance(value, float) else str(value)
    unit = r.result.unit
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def result_row(r: CheckRecord) -> dict[str, Any]:
    return {
        "host": r.host,
        "check_id": r.check_id,
        "check": r.check,
        "title": r.title,
        "state": r.state.word,
        "value": r.result.value,
        "unit": r.result.unit,
        "value_text": value_text(r),
        "warn": r.result.warn,
        "crit": r.result.crit,
        "threshold": r.result.threshold,
        "summary": r.result.summary,
        "details": list(r.result.details),
        "at": r.at,
        "status": r.status,
    }


def _devices(record: InspectionRecord) -> list[dict[str, Any]]:
    """Per host (sorted) its results in the inspection's check order."""
    out = []
    for host in record.hosts:
        mine = [r for r in record.results if r.host == host]
        out.append(
            {
                "host": host,
                "worst": worst(r.state for r in mine).word if mine else None,
                "results": [result_row(r) for r in mine],
            }
        )
    return out


def _problem(r: CheckRecord) -> dict[str, Any]:
    return {
        "host": r.host,
        "check_id": r.check_id,
        "check": r.check,
        "title": r.title,
        "state": r.state.word,
        "value_text": value_text(r),
        "summary": r.result.summary,
        "details": list(r.result.details),
        "advice": r.result.advice or "-",
        "at": r.at,
    }


def _trend(record: InspectionRecord, previous: InspectionRecord | None) -> dict[str, Any]:
    changes = trend(record, previous)
    counts = {kind: 0 for kind in ("worse", "new", "better", "gone")}
    for c in changes:
        counts[c.kind] += 1
    return {
        "previous": None
        if previous is None
        else {
            "run_id": previous.run.run_id,
            "started": previous.started,
            "counts": summarise([r.result for r in previous.results]),
        },
        "counts": counts,
        "changes": [_change_row(c) for c in changes],
    }


def _change_row(c: Change) -> dict[str, Any]:
    return {
        "change": c.kind,
        "host": c.host,
        "check_id": c.check_id,
        "before": c.before.state.word if c.before else None,
        "after": c.after.state.word if c.after else None,
        "worse": c.worse,
        "text": c.text,
    }


def _integrity(record: InspectionRecord) -> dict[str, Any]:
    v = record.verify
    meta = record.run.meta.get("inspection") or {}
    return {
        "verified": record.verified,
        "verdict": v.verdict if v is not None else "not verified",
        "text": str(v) if v is not None else "not verified (the signing key could not be loaded)",
        "events": record.run.events,
        "inspection_sha256": meta.get("sha256") or record.run.sha256,
        "sealed": None if v is None else v.sealed,
    }


def integrity_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    i = doc.get("integrity") or {}
    return [
        ("timeline verify", str(i.get("text") or "-")),
        ("verdict", str(i.get("verdict") or "-")),
        ("events", str(i.get("events") if i.get("events") is not None else "-")),
        ("inspection sha256", str(i.get("inspection_sha256") or "-")),
    ]


def count_line(counts: Mapping[str, int]) -> str:
    """``OK 12 · WARNING 1 · CRITICAL 2 · UNKNOWN 0``."""
    return " · ".join(f"{s} {int(counts.get(s, 0))}" for s in STATES)


def results_table(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Every result as a row of ``RESULT_COLUMNS`` texts, device by device."""
    rows: list[tuple[str, ...]] = []
    for device in doc.get("devices") or []:
        for r in device.get("results") or []:
            rows.append(
                (
                    str(device["host"]),
                    str(r["check_id"]),
                    str(r["title"]),
                    str(r["state"]),
                    str(r["value_text"]),
                    str(r["threshold"] or "-"),
                    str(r["summary"]),
                )
            )
    return rows


def scope_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    from respond.timeline import facts

    s, t = doc.get("scope") or {}, doc.get("time") or {}
    duration = t.get("duration_s")
    return [
        ("inspection", f"{s.get('inspection')} {s.get('version') or ''}".strip()),
        ("title", str(s.get("title") or "-")),
        ("run", str(doc.get("run_id"))),
        ("inventory", str(s.get("inventory") or "-")),
        ("devices", f"{len(s.get('hosts') or [])}: " + ", ".join(s.get("hosts") or [])),
        ("checks", ", ".join(str(c.get("id")) for c in s.get("checks") or []) or "-"),
        ("inspector", str(doc.get("inspector") or "-")),
        ("started", facts.local_when(t.get("started"))),
        ("ended", facts.local_when(t.get("ended"))),
        ("duration", facts.human_span(float(duration)) if duration is not None else "-"),
        ("occurrence", str(s.get("occurrence") or "by hand")),
        ("outcome", str(doc.get("outcome") or "-")),
    ]


def check_rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The checks of the scope: id, check, what is checked, targets, warn, crit."""
    return [
        (
            str(c.get("id")),
            str(c.get("check")),
            str(c.get("title") or "-"),
            str(c.get("targets") or "-"),
            str(c.get("warn") or "-"),
            str(c.get("crit") or "-"),
        )
        for c in (doc.get("scope") or {}).get("checks") or []
    ]


def trend_line(doc: Mapping[str, Any]) -> str:
    t = doc.get("trend") or {}
    prev = t.get("previous")
    if prev is None:
        return "no earlier run of this inspection to compare with"
    counts = t.get("counts") or {}
    parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("worse", "new", "better", "gone"))
    return f"against {prev['run_id']} ({count_line(prev.get('counts') or {})}): {parts}"


def problem_rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            str(p["host"]),
            str(p["check_id"]),
            str(p["state"]),
            str(p["summary"]),
            str(p["advice"]),
        )
        for p in doc.get("problems") or []
    ]


def trend_rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            str(c["change"]),
            str(c["host"]),
            str(c["check_id"]),
            str(c["before"] or "-"),
            str(c["after"] or "-"),
            str(c["text"]),
        )
        for c in (doc.get("trend") or {}).get("changes") or []
    ]


PROBLEM_COLUMNS = ("device", "check", "state", "summary", "advice")
TREND_COLUMNS = ("change", "device", "check", "before", "after", "what")
CHECK_COLUMNS = ("id", "check", "what is checked", "targets", "warn", "crit")


def default_name(doc: Mapping[str, Any], fmt: str) -> str:
    return f"{doc['run_id']}.{fmt}"
