"""The inspection report document (``respond.reports.inspection``) as md, html or json text.

The html is one self-contained page (inline CSS, no script, nothing fetched) that prints on
A4: each state is a coloured cell, the problems come right after the summary, and Chinese
text is drawn with the CJK fonts the page asks for.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from respond.reports.inspection import (
    CHECK_COLUMNS,
    HEADINGS,
    PROBLEM_COLUMNS,
    RESULT_COLUMNS,
    STATE_COLOURS,
    STATE_FILLS,
    STATES,
    TREND_COLUMNS,
    check_rows,
    count_line,
    integrity_rows,
    problem_rows,
    results_table,
    scope_rows,
    trend_line,
    trend_rows,
)
from respond.timeline.export import html_page

TEXT_FORMATS = ("md", "html", "json")


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    raise ValueError(f"unknown format {fmt!r} (use md, html, json)")


def report_title(doc: Mapping[str, Any]) -> str:
    return f"巡检报告 Inspection report — {doc.get('title')} ({doc.get('inspection')})"


# --------------------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["", "(none)"]
    out = ["", "| " + " | ".join(map(_md, columns)) + " |", "|" + "---|" * len(columns)]
    return out + ["| " + " | ".join(map(_md, row)) + " |" for row in rows]


def to_markdown(doc: Mapping[str, Any]) -> str:
    out = [f"# {_md(report_title(doc))}", ""]
    out += [f"Run `{doc.get('run_id')}` · worst state **{doc.get('worst') or '-'}**"]
    out += ["", f"## {HEADINGS['scope']}", *md_table(("", ""), scope_rows(doc))]
    out += md_table(CHECK_COLUMNS, check_rows(doc))
    out += ["", f"## {HEADINGS['summary']}", "", count_line(doc.get("counts") or {})]
    out += ["", f"## {HEADINGS['problems']}", *md_table(PROBLEM_COLUMNS, problem_rows(doc))]
    out += ["", f"## {HEADINGS['devices']}", *md_table(RESULT_COLUMNS, results_table(doc))]
    out += ["", f"## {HEADINGS['trend']}", "", _md(trend_line(doc))]
    out += md_table(TREND_COLUMNS, trend_rows(doc))
    out += ["", f"## {HEADINGS['integrity']}", *md_table(("", ""), integrity_rows(doc))]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- html

STATE_CSS = "".join(
    f"td.s-{s},span.s-{s}{{background:{STATE_FILLS[s]};color:{STATE_COLOURS[s]};font-weight:700}}"
    for s in STATES
)
REPORT_CSS = (
    """
table.grid{border-collapse:collapse;margin:6px 0 12px;font-size:12px;width:100%}
table.grid th,table.grid td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
table.grid th{background:#eceff1}table.grid td{overflow-wrap:anywhere}
.counts span{display:inline-block;padding:3px 10px;margin-right:8px;border-radius:3px}
p.lead{font-size:14px}
@media print{
@page{size:A4 landscape;margin:12mm}
body{margin:0;font-size:9pt;color:#000}
h2{break-after:avoid-page;page-break-after:avoid}
tr{break-inside:avoid;page-break-inside:avoid}
td.s-OK,td.s-WARNING,td.s-CRITICAL,td.s-UNKNOWN,.counts span{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""
    + STATE_CSS
)


def html_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, state_col: int | None = None
) -> str:
    """A grid table; the cell in ``state_col`` carries its state's class (its colour)."""
    esc = html.escape
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = f' class="s-{esc(cell)}"' if i == state_col and cell in STATES else ""
            cells.append(f"<td{cls}>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _meta(rows: Sequence[tuple[str, str]], cls: str = "meta") -> str:
    esc = html.escape
    cells = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{cells}</table>'


def _counts_html(counts: Mapping[str, int]) -> str:
    spans = "".join(f'<span class="s-{s}">{s} {int(counts.get(s, 0))}</span>' for s in STATES)
    return f'<p class="counts">{spans}</p>'


def to_html(doc: Mapping[str, Any]) -> str:
    esc = html.escape
    worst = str(doc.get("worst") or "-")
    state = f'<span class="s-{esc(worst)}">{esc(worst)}</span>' if worst in STATES else esc(worst)
    parts = [
        f'<p class="lead">run <span class="mono">{esc(str(doc.get("run_id")))}</span> · '
        f"worst state {state}</p>",
        f'<section id="scope"><h2>{esc(HEADINGS["scope"])}</h2>{_meta(scope_rows(doc))}',
        html_table(CHECK_COLUMNS, check_rows(doc)) + "</section>",
        f'<section id="summary"><h2>{esc(HEADINGS["summary"])}</h2>'
        f"{_counts_html(doc.get('counts') or {})}</section>",
        f'<section id="problems"><h2>{esc(HEADINGS["problems"])}</h2>'
        f"{html_table(PROBLEM_COLUMNS, problem_rows(doc), state_col=2)}</section>",
        f'<section id="devices"><h2>{esc(HEADINGS["devices"])}</h2>'
        f"{html_table(RESULT_COLUMNS, results_table(doc), state_col=3)}</section>",
        f'<section id="trend"><h2>{esc(HEADINGS["trend"])}</h2><p>{esc(trend_line(doc))}</p>'
        f"{html_table(TREND_COLUMNS, trend_rows(doc), state_col=4)}</section>",
        f'<section id="integrity"><h2>{esc(HEADINGS["integrity"])}</h2>'
        f"{_meta(integrity_rows(doc))}</section>",
    ]
    page = html_page(report_title(doc), "".join(parts), lang="zh-CN")
    return page.replace("</style>", REPORT_CSS + "</style>", 1)
