"""The SLA report as text: a terminal table, Markdown, HTML (with an inline SVG chart), CSV
and JSON. Pure functions of a ``SlaReport``; times are shown in local time with the zone,
durations as ``1h 05m``. The HTML is self-contained (inline CSS and SVG, no scripts, no
external resources) so it can be filed and opened anywhere years later.
"""

from __future__ import annotations

import csv
import html
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from respond.reports.sla import (
    LEVELS,
    ClockFigures,
    LevelFigures,
    SlaReport,
    VendorFigures,
    as_dict,
)

FORMATS = ("table", "md", "html", "csv", "json")
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
COLOURS = {"met": "#2e7d32", "missed": "#c62828", "pending": "#f9a825"}


# --------------------------------------------------------------------------- words


def duration(seconds: float | None) -> str:
    """``1h 05m``, ``12m 30s``, ``45s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    total = round(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def local(when: datetime | None) -> str:
    """A time in local time with its zone: ``2026-12-02 09:41 CST``."""
    if when is None:
        return "-"
    shown = when.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M ") + zone_name(shown)


def zone_name(when: datetime) -> str:
    name = when.tzname() or ""
    offset = when.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return name if name and not name.startswith(("+", "-")) else utc


def zone_line(report: SlaReport) -> str:
    shown = report.generated_at.astimezone()
    offset = shown.strftime("%z")
    return f"times in local time: {zone_name(shown)} (UTC{offset[:3]}:{offset[3:]})"


def level_name(level: int | None) -> str:
    if level is None:
        return "total"
    return f"{level} {LEVEL_NAMES.get(level, '')}".strip()


def range_line(report: SlaReport) -> str:
    span = report.window
    start = local(span.start) if span.start else "the first record"
    end = f"up to {local(span.end)} (not included)" if span.end else "to now"
    return f"incidents detected from {start} {end}"


def verdicts(clock: ClockFigures) -> str:
    return f"{clock.met} / {clock.missed} / {clock.pending}"


def level_cells(row: LevelFigures) -> list[str]:
    return [
        level_name(row.level),
        str(row.incidents),
        verdicts(row.respond),
        duration(row.respond.mean_s),
        duration(row.respond.worst_s),
        verdicts(row.restore),
        duration(row.restore.mean_s),
        duration(row.restore.worst_s),
        str(row.automatic_escalations),
        str(row.incidents_escalated),
    ]


LEVEL_HEAD = [
    "level",
    "incidents",
    "respond met/missed/pending",
    "mean",
    "worst",
    "restore met/missed/pending",
    "mean",
    "worst",
    "auto escalations",
    "incidents escalated",
]


def vendor_cells(row: VendorFigures) -> list[str]:
    cells = [level_name(row.level), str(row.cases)]
    for clock in (row.accept, row.on_site, row.restore):
        cells += [verdicts(clock), duration(clock.mean_s), duration(clock.worst_s)]
    return cells


VENDOR_HEAD = [
    "level",
    "cases",
    "accept met/missed/pending",
    "mean",
    "worst",
    "on site met/missed/pending",
    "mean",
    "worst",
    "restore met/missed/pending",
    "mean",
    "worst",
]
DRILL_HEAD = ["run id", "runbook", "title", "started", "outcome", "duration"]
OPEN_HEAD = ["incident", "level", "title", "site", "detected", "next deadline"]


def drill_cells(report: SlaReport) -> list[list[str]]:
    return [
        [
            d.run_id,
            d.runbook or "-",
            d.title or "",
            local(d.started),
            d.outcome or "-",
            duration(d.duration_s),
        ]
        for d in report.drills
    ]


def open_cells(report: SlaReport) -> list[list[str]]:
    rows = []
    for o in report.open_incidents:
        due = "-" if o.next_due is None else f"{o.clock} {local(o.next_due)}"
        if o.next_due is not None and o.next_due < report.generated_at:
            due += f" (overdue by {duration((report.generated_at - o.next_due).total_seconds())})"
        rows.append(
            [o.incident_id, level_name(o.level), o.title, o.site or "", local(o.detected_at), due]
        )
    return rows


def sections(report: SlaReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table of the report, in order."""
    levels = [level_cells(r) for r in (*report.levels, report.total)]
    vendor = [vendor_cells(r) for r in (*report.vendor, report.vendor_total)]
    return [
        ("Incidents per SLA level (故障级别)", LEVEL_HEAD, levels),
        ("Vendor performance, incidents with a vendor case (厂商)", VENDOR_HEAD, vendor),
        ("Drills, not counted as incidents (应急演练)", DRILL_HEAD, drill_cells(report)),
        ("Open incidents and their next deadline", OPEN_HEAD, open_cells(report)),
    ]


def formula_lines(report: SlaReport) -> list[str]:
    return [f"{name} = {text}" for name, text in report.formulas]


# --------------------------------------------------------------------------- table


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns aligned by display width (a Chinese character takes two cells)."""
    widths = [max(_width(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = []
    for n, row in enumerate((head, *rows)):
        cells = [
            _pad(c, widths[i], right=n > 0 and i > 0 and c[:1].isdigit()) for i, c in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def to_table(report: SlaReport) -> str:
    lines = [
        "SLA report",
        range_line(report),
        f"generated {local(report.generated_at)}; " + zone_line(report),
    ]
    if report.no_fault:
        lines.append(f"{report.no_fault} no-fault incident(s) in the range are not counted")
    for title, head, rows in sections(report):
        lines += ["", title]
        lines += text_table(head, rows) if rows else ["  none"]
    lines += ["", "How the figures are computed", *(f"  {f}" for f in formula_lines(report))]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(report: SlaReport) -> str:
    lines = [
        "# SLA report",
        "",
        f"{_md(range_line(report))}; generated {local(report.generated_at)}; "
        + zone_line(report)
        + ".",
    ]
    if report.no_fault:
        lines += ["", f"{report.no_fault} no-fault incident(s) in the range are not counted."]
    for title, head, rows in sections(report):
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" for _ in head) + "|")
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    lines += ["", "## How the figures are computed", ""]
    lines += [f"- **{_md(name)}** = {_md(text)}" for name, text in report.formulas]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Zen Hei",
"Microsoft YaHei",sans-serif;margin:24px;color:#212121;max-width:1200px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:24px 0 8px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #e0e0e0;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td:first-child{white-space:nowrap}td.n{text-align:right;white-space:nowrap}tr.total td{font-weight:700}
.meta{color:#555;font-size:13px}dl.formulas dt{font-weight:600;margin-top:6px}
dl.formulas dd{margin:2px 0 0 16px}.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
"""


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "<p>None.</p>"
    out = ["<table><thead><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        cls = ' class="total"' if row[0] == "total" else ""
        cells = "".join(
            f'<td class="n">{html.escape(c)}</td>'
            if i and c[:1].isdigit()
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# the chart's geometry (px): bar width, gap between groups, plot height, room above
_BAR, _GAP, _PLOT_H, _TOP = 18, 26, 200, 24
_CLOCK_LABELS = {"respond": ("respond", "响应"), "restore": ("restore", "恢复")}


def chart_svg(levels: Sequence[LevelFigures]) -> str:
    """Per level, respond and restore bars of met / missed / pending incidents. Each bar
    carries its figures as data attributes (level, clock, result, count) so a reader or a
    test can check the drawing against the table."""
    shown = [r for r in levels if r.level in LEVELS]
    counts = [getattr(getattr(r, c), v) for r in shown for c in _CLOCK_LABELS for v in COLOURS]
    peak = max([1, *counts])
    group_w = 2 * 3 * _BAR + _GAP
    width, height = 60 + len(shown) * (group_w + _GAP), _TOP + _PLOT_H + 64
    axis = _TOP + _PLOT_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="sla-chart" width="{width}" '
        f'height="{height}" role="img" aria-label="met, missed and pending per level" '
        'style="font-family:inherit;font-size:12px">',
        f'<line x1="40" y1="{axis}" x2="{width - 10}" y2="{axis}" stroke="#999"/>',
    ]
    for g, row in enumerate(shown):
        x0 = 50 + g * (group_w + _GAP)
        for c, clock in enumerate(_CLOCK_LABELS):
            parts += _clock_bars(row, clock, x0 + c * (3 * _BAR + _GAP // 2), peak)
        parts.append(
            f'<text x="{x0 + group_w / 2 - _GAP / 2}" y="{axis + 50}" text-anchor="middle" '
            f'font-weight="600">level {html.escape(level_name(row.level))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clock_bars(row: LevelFigures, clock: str, cx: float, peak: int) -> list[str]:
    """One clock's three bars (met, missed, pending) with their counts and the label."""
    figures: ClockFigures = getattr(row, clock)
    parts = []
    for v, result in enumerate(COLOURS):
        count = getattr(figures, result)
        h = round(_PLOT_H * count / peak, 1)
        x, y = cx + v * _BAR, _TOP + _PLOT_H - h
        parts.append(
            f'<rect class="bar" data-level="{row.level}" data-clock="{clock}" '
            f'data-result="{result}" data-count="{count}" x="{x}" y="{y}" '
            f'width="{_BAR - 3}" height="{h}" fill="{COLOURS[result]}"/>'
            f'<text x="{x + (_BAR - 3) / 2}" y="{y - 4}" text-anchor="middle">{count}</text>'
        )
    for line, label in enumerate(_CLOCK_LABELS[clock]):
        parts.append(
            f'<text x="{cx + 1.5 * _BAR - 1.5}" y="{_TOP + _PLOT_H + 15 + 14 * line}" '
            f'text-anchor="middle" font-size="11">{label}</text>'
        )
    return parts


def to_html(report: SlaReport) -> str:
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{result}</span>'
        for result, colour in COLOURS.items()
    )
    body = [
        "<h1>SLA report · SLA 报告</h1>",
        f'<p class="meta">{html.escape(range_line(report))}<br>generated '
        f"{html.escape(local(report.generated_at))}; {html.escape(zone_line(report))}</p>",
    ]
    if report.no_fault:
        body.append(
            f'<p class="meta">{report.no_fault} no-fault incident(s) in the range are not '
            "counted.</p>"
        )
    body += [
        "<h2>Clocks per level: met, missed, pending</h2>",
        f'<div class="legend">{legend}</div>',
        chart_svg(report.levels),
    ]
    for title, head, rows in sections(report):
        body += [f"<h2>{html.escape(title)}</h2>", _html_table(head, rows)]
    body.append('<h2>How the figures are computed</h2><dl class="formulas">')
    body += [
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(text)}</dd>"
        for name, text in report.formulas
    ]
    body.append("</dl>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>SLA report</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


# --------------------------------------------------------------------------- csv / json


def _csv_clock(clock: ClockFigures) -> list[Any]:
    return [clock.met, clock.missed, clock.pending, _num(clock.mean_s), _num(clock.worst_s)]


def _num(value: float | None) -> Any:
    return "" if value is None else round(value, 3)


def _csv_time(when: datetime | None) -> str:
    return "" if when is None else when.astimezone().isoformat(timespec="seconds")


def _clock_head(name: str) -> list[str]:
    return [f"{name}_{k}" for k in ("met", "missed", "pending", "mean_s", "worst_s")]


def _csv_levels(report: SlaReport) -> list[list[Any]]:
    head = ["section", "level", "incidents", *_clock_head("respond"), *_clock_head("restore")]
    rows: list[list[Any]] = [[*head, "automatic_escalations", "incidents_escalated"]]
    for r in (*report.levels, report.total):
        figures = [*_csv_clock(r.respond), *_csv_clock(r.restore)]
        escalations = [r.automatic_escalations, r.incidents_escalated]
        rows.append(["level", _csv_level(r.level), r.incidents, *figures, *escalations])
    return rows


def _csv_vendor(report: SlaReport) -> list[list[Any]]:
    clocks = ("accept", "on_site", "restore")
    rows: list[list[Any]] = [
        ["section", "level", "cases", *(h for c in clocks for h in _clock_head(c))]
    ]
    for v in (*report.vendor, report.vendor_total):
        figures = [*_csv_clock(v.accept), *_csv_clock(v.on_site), *_csv_clock(v.restore)]
        rows.append(["vendor", _csv_level(v.level), v.cases, *figures])
    return rows


def _csv_lists(report: SlaReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["section", "run_id", "runbook", "title", "started", "outcome", "duration_s"]
    ]
    rows += [
        [
            "drill",
            d.run_id,
            d.runbook or "",
            d.title or "",
            _csv_time(d.started),
            d.outcome or "",
            _num(d.duration_s),
        ]
        for d in report.drills
    ]
    rows += [[], ["section", "incident_id", "level", "title", "site", "detected_at", "next_due"]]
    rows[-1].append("clock")
    rows += [
        [
            "open",
            o.incident_id,
            o.level,
            o.title,
            o.site or "",
            _csv_time(o.detected_at),
            _csv_time(o.next_due),
            o.clock or "",
        ]
        for o in report.open_incidents
    ]
    return rows


def _csv_level(level: int | None) -> int | str:
    return "total" if level is None else level


def csv_rows(report: SlaReport) -> list[list[Any]]:
    """Blocks separated by an empty row, each a header row and its rows; the first cell of
    every row names its block (level, vendor, drill, open, formula)."""
    formulas = [["section", "name", "formula"]]
    formulas += [["formula", name, text] for name, text in report.formulas]
    blocks = [_csv_levels(report), _csv_vendor(report), _csv_lists(report), formulas]
    rows: list[list[Any]] = []
    for block in blocks:
        rows += ([[]] if rows else []) + block
    return rows


def to_csv(report: SlaReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


def to_json(report: SlaReport) -> str:
    data = as_dict(report)
    data["local_zone"] = zone_line(report)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render(report: SlaReport, fmt: str) -> str:
    renderers = {
        "table": to_table,
        "md": to_markdown,
        "html": to_html,
        "csv": to_csv,
        "json": to_json,
    }
    return renderers[fmt](report)
