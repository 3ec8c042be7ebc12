"""The inspection report as a Word document (python-docx): headings per section and tables
whose state cells are shaded with their state's colour, in a font with Chinese glyphs."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from respond.reports.inspection import (
    CHECK_COLUMNS,
    HEADINGS,
    PROBLEM_COLUMNS,
    RESULT_COLUMNS,
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
from respond.reports.inspection_render import report_title

# The East Asian font Word uses for Chinese text (Latin text keeps the document's font).
EAST_ASIAN_FONT = "SimSun"


def render_docx(doc: Mapping[str, Any]) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    _east_asian_font(document)
    document.core_properties.title = report_title(doc)
    document.add_heading(report_title(doc), level=0)
    document.add_paragraph(f"run {doc.get('run_id')} · worst state {doc.get('worst') or '-'}")
    document.add_heading(HEADINGS["scope"], level=1)
    _table(document, ("", ""), scope_rows(doc))
    _table(document, CHECK_COLUMNS, check_rows(doc))
    document.add_heading(HEADINGS["summary"], level=1)
    document.add_paragraph(count_line(doc.get("counts") or {}))
    document.add_heading(HEADINGS["problems"], level=1)
    _table(document, PROBLEM_COLUMNS, problem_rows(doc), state_col=2)
    document.add_heading(HEADINGS["devices"], level=1)
    _table(document, RESULT_COLUMNS, results_table(doc), state_col=3)
    document.add_heading(HEADINGS["trend"], level=1)
    document.add_paragraph(trend_line(doc))
    _table(document, TREND_COLUMNS, trend_rows(doc), state_col=4)
    document.add_heading(HEADINGS["integrity"], level=1)
    _table(document, ("", ""), integrity_rows(doc))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _east_asian_font(document: Any) -> None:
    """Chinese text in the body and the headings uses a CJK font (the template's headings
    name a theme font instead, which Word prefers over a named one: that is dropped)."""
    from docx.oxml.ns import qn

    for name in ("Normal", "Title", "Heading 1"):
        rpr = document.styles[name].element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _table(
    document: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    state_col: int | None = None,
) -> None:
    if not rows:
        document.add_paragraph("(none)")
        return
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns, strict=True):
        cell.text = name
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for i, value in enumerate(row):
            cells[i].text = value
            if i == state_col and value in STATES:
                _shade(cells[i], STATE_FILLS[value])


def _shade(cell: Any, colour: str) -> None:
    """A cell's background (w:shd fill), as Word writes it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour.lstrip("#").upper())
    cell._tc.get_or_add_tcPr().append(shading)
