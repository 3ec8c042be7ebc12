"""The after-action document (``respond.reports.drill``) as md, html or json text.

Pure: the document and its stamp (hash, version, signature) in, text out. Every field is
turned into the same few blocks (label/value rows, tables, texts) whatever the format, so md,
html and pdf show the same things; the html adds a chart of the planned against the actual
time of each step and a print stylesheet (A4, page breaks before the long fields), and is
self-contained: inline CSS and SVG, no script, no external resource.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from respond.timeline import facts
from respond.timeline.export import html_page

FORMATS = ("md", "html", "json", "pdf")
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# Fields that start on a new printed page: the long tables.
PAGE_BREAK_BEFORE = frozenset({"timeline", "observations", "integrity"})
# Long texts shown as they were written (line breaks kept).
VERBATIM = frozenset({"script"})


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a field: ``rows`` (label, value), a ``table`` or a verbatim ``text``."""

    kind: str  # rows | table | text
    label: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    columns: tuple[str, ...] = ()
    cells: tuple[tuple[str, ...], ...] = field(default=())
    text: str = ""


def render(doc: Mapping[str, Any], stamp: Mapping[str, Any], fmt: str) -> str:
    """The document as ``md``, ``html`` or ``json`` text (pdf: ``drill_pdf.render_pdf``)."""
    if fmt == "json":
        return json.dumps({**doc, "stamp": dict(stamp)}, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return to_markdown(doc, stamp)
    if fmt == "html":
        return to_html(doc, stamp)
    raise ValueError(f"unknown format {fmt!r} (use md, html, json)")


# --------------------------------------------------------------------------- blocks


def label_of(key: str) -> str:
    """``planned_steps_s`` → ``planned steps (s)``."""
    if key.endswith("_s"):
        return key[:-2].replace("_", " ") + " (s)"
    return key.replace("_", " ")


def text_of(value: Any, key: str = "") -> str:
    """A value as a person reads it: times local with UTC, seconds as a span, lists joined."""
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and key.endswith("_s"):
        return f"{facts.human_span(float(value))} ({float(value):g} s)"
    if isinstance(value, str) and _ISO.match(value):
        return facts.local_when(value)
    if isinstance(value, list):
        return "; ".join(text_of(v, key) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{label_of(str(k))}: {text_of(v, str(k))}" for k, v in value.items())
    return str(value)


def blocks(data: Any, prefix: str = "") -> list[Block]:
    """A field's data as blocks: scalars gathered into rows, lists of mappings as tables,
    nested mappings flattened under their label."""
    if not isinstance(data, dict):
        return (
            [Block("rows", rows=((prefix or "", text_of(data)),))]
            if prefix
            else [Block("text", text=text_of(data))]
        )
    out: list[Block] = []
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        label = f"{prefix} · {label_of(key)}" if prefix else label_of(key)
        if key in VERBATIM and isinstance(value, str):
            out.append(Block("text", label=label, text=value or "-"))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(table(label, value))
        elif isinstance(value, dict) and value and key.endswith("_s"):
            spans = tuple((f"{label} · {k}", text_of(v, key)) for k, v in value.items())
            out.append(Block("rows", rows=spans))
        elif isinstance(value, dict) and value:
            out += blocks(value, label)
        else:
            rows.append((label, text_of(value, key)))
    return ([Block("rows", rows=tuple(rows))] if rows else []) + out


def table(label: str, items: Sequence[Mapping[str, Any]]) -> Block:
    columns: list[str] = []
    for item in items:
        columns += [str(k) for k in item if str(k) not in columns]
    cells = tuple(tuple(text_of(item.get(c), c) for c in columns) for item in items)
    return Block("table", label=label, columns=tuple(label_of(c) for c in columns), cells=cells)


def stamp_rows(stamp: Mapping[str, Any]) -> list[tuple[str, str]]:
    """This report's own integrity: its hash, version, signature, the record's verdict."""
    signature = stamp.get("signature") or "unsigned"
    key = f" (key {stamp['key_id']})" if stamp.get("key_id") else ""
    return [
        ("Report sha256", str(stamp.get("sha256") or "-")),
        ("Report version", str(stamp.get("version") or "-")),
        ("Generated", text_of(stamp.get("generated_at"))),
        ("Signature", f"{signature}{key}"),
        ("timeline verify at report time", str(stamp.get("verify") or "-")),
    ]


def numbered(doc: Mapping[str, Any]) -> list[tuple[int, str, str, Any]]:
    """(number, key, title, data) of each field, in the record's order."""
    from respond.reports.drill import FIELDS

    fields = doc.get("fields") or {}
    return [(n, key, title, fields.get(key)) for n, (key, title) in enumerate(FIELDS, start=1)]


# --------------------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def blocks_markdown(items: Sequence[Block]) -> list[str]:
    out: list[str] = []
    for b in items:
        if b.kind == "rows":
            out += ["", "| | |", "|---|---|", *(f"| **{_md(k)}** | {_md(v)} |" for k, v in b.rows)]
        elif b.kind == "table":
            out += ["", f"**{_md(b.label)}**", "", "| " + " | ".join(map(_md, b.columns)) + " |"]
            out.append("|" + "---|" * len(b.columns))
            out += ["| " + " | ".join(map(_md, row)) + " |" for row in b.cells]
        else:
            head = [f"**{_md(b.label)}**", ""] if b.label else []
            fence = "```" if b.label else ""
            body = [fence, *b.text.splitlines(), fence] if fence else b.text.splitlines()
            out += ["", *head, *body]
    return out


def to_markdown(doc: Mapping[str, Any], stamp: Mapping[str, Any]) -> str:
    out = [f"# After-action report — {_md(doc.get('title'))} ({_md(doc.get('drill'))})", ""]
    out += [
        f"Run `{doc.get('run_id')}` · report version {stamp.get('version')} · "
        f"sha256 `{stamp.get('sha256')}`"
    ]
    for n, key, title, data in numbered(doc):
        out += ["", f"## {n}. {title}"]
        out += blocks_markdown(blocks(data))
        if key == "integrity":
            out += ["", "**This report**", "", "| | |", "|---|---|"]
            out += [f"| **{_md(k)}** | {_md(v)} |" for k, v in stamp_rows(stamp)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- html

PRINT_CSS = """
.field h2 .n{color:#777;margin-right:6px}.stamp{font-size:12px;color:#444}
table.grid{border-collapse:collapse;margin:6px 0 10px;font-size:12px}
table.grid th,table.grid td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
table.grid th{background:#f4f4f4}table.grid td{overflow-wrap:anywhere}pre.verbatim{background:#f7f7f7;padding:8px;white-space:pre-wrap;font-size:12px}
.lead{color:#e65100}.chart svg{max-width:100%;height:auto}
@media print{
@page{size:A4;margin:15mm}
body{margin:0;font-size:10pt;color:#000}
section.field{break-inside:avoid-page;page-break-inside:avoid}
section.field.break{break-before:page;page-break-before:always}
h2{break-after:avoid-page;page-break-after:avoid}
tr{break-inside:avoid;page-break-inside:avoid}
table.events th{position:static}
}
"""


def blocks_html(items: Sequence[Block]) -> str:
    esc = html.escape
    out = []
    for b in items:
        if b.kind == "rows":
            rows = "".join(
                f"<tr><td>{esc(k)}</td><td{_lead(v)}>{esc(v)}</td></tr>" for k, v in b.rows
            )
            out.append(f'<table class="meta">{rows}</table>')
        elif b.kind == "table":
            head = "".join(f"<th>{esc(c)}</th>" for c in b.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in b.cells
            )
            out.append(
                f'<h3>{esc(b.label)}</h3><table class="grid"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>"
            )
        elif b.label:
            out.append(f'<h3>{esc(b.label)}</h3><pre class="verbatim">{esc(b.text)}</pre>')
        else:
            out.append(f'<p class="para{" lead" if _lead(b.text) else ""}">{esc(b.text)}</p>')
    return "".join(out)


def _lead(value: str) -> str:
    from respond.reports.drill import LEAD

    return ' class="lead"' if value == LEAD else ""


def to_html(doc: Mapping[str, Any], stamp: Mapping[str, Any]) -> str:
    esc = html.escape
    parts = [
        '<p class="stamp">'
        f"run {esc(str(doc.get('run_id')))} · report version {esc(str(stamp.get('version')))} · "
        f'sha256 <span class="mono">{esc(str(stamp.get("sha256")))}</span></p>'
    ]
    for n, key, title, data in numbered(doc):
        cls = "field break" if key in PAGE_BREAK_BEFORE else "field"
        inner = blocks_html(blocks(data))
        if key == "timeline":
            inner = f'<div class="chart">{plan_chart_svg(data)}</div>' + inner
        if key == "integrity":
            rows = "".join(
                f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in stamp_rows(stamp)
            )
            inner += f'<h3>This report</h3><table class="meta" id="stamp">{rows}</table>'
        parts.append(
            f'<section class="{cls}" id="field-{n}"><h2><span class="n">{n}.</span>'
            f"{esc(title)}</h2>{inner}</section>"
        )
    title = f"After-action report — {doc.get('title')} ({doc.get('drill')})"
    page = html_page(title, "".join(parts), lang="zh-CN")
    return page.replace("</style>", PRINT_CSS + "</style>", 1)


def plan_chart_svg(timeline: Any) -> str:
    """Each step's planned time (grey) above its actual time (coloured by how it ended)."""
    from respond.timeline.export import STATUS_COLOURS

    esc = html.escape
    steps = [s for s in (timeline or {}).get("steps") or [] if isinstance(s, dict)]
    if not steps:
        return "<p>(no steps recorded)</p>"
    longest = max([float(s.get(k) or 0) for s in steps for k in ("planned_s", "actual_s")] + [1.0])
    label_w, chart_w, row_h, top = 220, 640, 34, 24
    width, height = label_w + chart_w + 130, top + row_h * len(steps) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="planned vs actual per step" '
        f'class="plan-chart" style="font-family:inherit;font-size:12px">',
        f'<text x="{label_w}" y="14" fill="#555">planned (grey) vs actual, per step; '
        f"longest {esc(facts.human_span(longest))}</text>",
    ]
    for row, s in enumerate(steps):
        y = top + row * row_h
        parts.append(f'<text x="4" y="{y + 16}" fill="#222">{esc(str(s.get("step_id")))}</text>')
        for i, (what, value, colour) in enumerate(
            (
                ("planned", s.get("planned_s"), "#bdbdbd"),
                ("actual", s.get("actual_s"), STATUS_COLOURS.get(str(s.get("status")), "#757575")),
            )
        ):
            parts += _chart_bar(what, value, colour, y + 2 + i * 14, label_w, chart_w, longest)
    parts.append("</svg>")
    return "".join(parts)


def _chart_bar(
    what: str, value: Any, colour: str, y: float, x0: int, chart_w: int, longest: float
) -> list[str]:
    esc = html.escape
    if value is None:
        return [f'<text x="{x0}" y="{y + 10}" fill="#999">{what}: -</text>']
    w = max(chart_w * float(value) / longest, 2.0)
    tip = f"{what} {facts.human_span(float(value))}"
    return [
        f'<rect class="{what}" x="{x0}" y="{y}" width="{w:.1f}" height="11" fill="{colour}">'
        f"<title>{esc(tip)}</title></rect>",
        f'<text x="{x0 + w + 4:.1f}" y="{y + 10}" fill="#555">{esc(tip)}</text>',
    ]
