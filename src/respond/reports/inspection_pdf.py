"""The inspection report as PDF (fpdf2): the same sections as the html, tables with state
cells filled in their state's colour, landscape A4.

Fonts as in the after-action PDF (``drill_pdf``): ``RESPOND_PDF_FONT`` or a CJK font found
on the machine; without one the PDF is still written in a core font, non-Latin text replaced
by ``?``, and the caller is told so in one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from respond.reports.drill_pdf import FALLBACK_WARNING, find_font, quiet_font_tools
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

_FAMILY = "respond-cjk"
HEADER_FILL = (224, 228, 232)
# relative column widths of the wide tables (the summary and advice columns get the room)
WIDTHS = {
    RESULT_COLUMNS: (14, 10, 16, 9, 8, 13, 40),
    PROBLEM_COLUMNS: (12, 10, 9, 34, 35),
    TREND_COLUMNS: (8, 12, 10, 9, 9, 52),
    CHECK_COLUMNS: (12, 12, 30, 20, 8, 8),
    ("", ""): (25, 75),
}


def render_pdf(doc: Mapping[str, Any], font: Path | None = None) -> tuple[bytes, list[str]]:
    """The report as PDF bytes, and the warnings for the person who asked for it."""
    with quiet_font_tools():
        return _render_pdf(doc, font)


def _render_pdf(doc: Mapping[str, Any], font: Path | None) -> tuple[bytes, list[str]]:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(f"Inspection report {doc.get('inspection')} {doc.get('run_id')}")
    warnings: list[str] = []
    writer = _Writer(pdf, _font_family(pdf, font, warnings))
    pdf.add_page()
    writer.line(report_title(doc), 15)
    writer.line(f"run {doc.get('run_id')} · worst state {doc.get('worst') or '-'}", 9)
    writer.heading(HEADINGS["scope"])
    writer.table(("", ""), scope_rows(doc))
    writer.table(CHECK_COLUMNS, check_rows(doc))
    writer.heading(HEADINGS["summary"])
    writer.line(count_line(doc.get("counts") or {}), 10)
    writer.heading(HEADINGS["problems"])
    writer.table(PROBLEM_COLUMNS, problem_rows(doc), state_col=2)
    writer.heading(HEADINGS["devices"])
    writer.table(RESULT_COLUMNS, results_table(doc), state_col=3)
    writer.heading(HEADINGS["trend"])
    writer.line(trend_line(doc), 9)
    writer.table(TREND_COLUMNS, trend_rows(doc), state_col=4)
    writer.heading(HEADINGS["integrity"])
    writer.table(("", ""), integrity_rows(doc))
    return bytes(pdf.output()), warnings


def _font_family(pdf: Any, font: Path | None, warnings: list[str]) -> str | None:
    font = font if font is not None else find_font()
    if font is None:
        warnings.append(FALLBACK_WARNING)
        return None
    pdf.add_font(_FAMILY, "", str(font))
    return _FAMILY


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


class _Writer:
    """Text and tables in the one font chosen (latin-1 only with the core font)."""

    def __init__(self, pdf: Any, family: str | None) -> None:
        self.pdf = pdf
        self.family = family

    def text(self, value: str) -> str:
        if self.family is not None:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def _font(self, size: float) -> None:
        self.pdf.set_font(self.family or "helvetica", size=size)

    def heading(self, value: str) -> None:
        self.pdf.ln(3)
        self.line(value, 12)

    def line(self, value: str, size: float = 9) -> None:
        from fpdf.enums import XPos, YPos

        self._font(size)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        state_col: int | None = None,
    ) -> None:
        from fpdf.fonts import FontFace

        if not rows:
            self.line("(none)", 8)
            return
        self._font(7.5)
        heads = columns != ("", "")
        with self.pdf.table(
            col_widths=WIDTHS.get(tuple(columns)),
            first_row_as_headings=heads,
            headings_style=FontFace(emphasis="", fill_color=HEADER_FILL),
            line_height=4,
            text_align="LEFT",
            padding=1,
        ) as table:
            if heads:
                table.row([self.text(c) for c in columns])
            for row in rows:
                cells = table.row()
                for i, value in enumerate(row):
                    style = None
                    if i == state_col and value in STATES:
                        style = FontFace(fill_color=_rgb(STATE_FILLS[value]))
                    cells.cell(self.text(value), style=style)
        self.pdf.ln(2)
