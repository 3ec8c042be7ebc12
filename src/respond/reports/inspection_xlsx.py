"""The inspection report as an Excel workbook (openpyxl): sheets Summary, Results, Problems
and Trend. Each table has a styled header row that stays in view (frozen) and an autofilter;
state cells are filled with their state's colour; columns are sized to their text."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from respond.reports.inspection import (
    PROBLEM_COLUMNS,
    RESULT_COLUMNS,
    STATE_FILLS,
    STATES,
    TREND_COLUMNS,
    count_line,
    integrity_rows,
    problem_rows,
    results_table,
    scope_rows,
    trend_line,
    trend_rows,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = "263238"
HEADER_FONT = "FFFFFF"
MAX_WIDTH = 80  # characters; longer text wraps


def render_xlsx(doc: Mapping[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    _summary(summary, doc)
    _table(book.create_sheet("Results"), RESULT_COLUMNS, results_table(doc), state_col=3)
    _table(book.create_sheet("Problems"), PROBLEM_COLUMNS, problem_rows(doc), state_col=2)
    _table(book.create_sheet("Trend"), TREND_COLUMNS, trend_rows(doc), state_col=4)
    book.properties.title = f"Inspection report {doc.get('inspection')} {doc.get('run_id')}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(sheet: Worksheet, doc: Mapping[str, Any]) -> None:
    from openpyxl.styles import Font

    sheet.append([f"巡检报告 Inspection report — {doc.get('title')}"])
    sheet["A1"].font = Font(bold=True, size=14)
    rows: list[tuple[str, str]] = [
        *scope_rows(doc),
        ("counts", count_line(doc.get("counts") or {})),
        ("worst state", str(doc.get("worst") or "-")),
        ("trend", trend_line(doc)),
        *integrity_rows(doc),
    ]
    _header(sheet, ("field", "value"), row=2)
    for label, value in rows:
        sheet.append([label, value])
    counts = doc.get("counts") or {}
    sheet.append([])
    sheet.append(["state", "results"])
    _style_header_row(sheet, sheet.max_row)
    for state in STATES:
        sheet.append([state, int(counts.get(state, 0))])
        _fill(sheet.cell(row=sheet.max_row, column=1), state)
    sheet.freeze_panes = "A3"
    _widths(sheet, [("field", "value"), *rows])


def _table(
    sheet: Worksheet,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    state_col: int,
) -> None:
    _header(sheet, columns, row=1)
    for row in rows:
        sheet.append(list(row))
        _fill(sheet.cell(row=sheet.max_row, column=state_col + 1), row[state_col])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    _widths(sheet, [tuple(columns), *rows])


def _header(sheet: Worksheet, columns: Sequence[str], *, row: int) -> None:
    for col, name in enumerate(columns, start=1):
        sheet.cell(row=row, column=col, value=name)
    _style_header_row(sheet, row)


def _style_header_row(sheet: Worksheet, row: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for cell in sheet[row]:
        if cell.value is None:
            continue
        cell.font = Font(bold=True, color=HEADER_FONT)
        cell.fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
        cell.alignment = Alignment(vertical="center")


def _fill(cell: Any, state: str) -> None:
    from openpyxl.styles import Font, PatternFill

    if state not in STATES:
        return
    colour = STATE_FILLS[state].lstrip("#").upper()
    cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
    cell.font = Font(bold=True)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _widths(sheet: Worksheet, rows: Sequence[Sequence[Any]]) -> None:
    """Each column as wide as its longest text (a Chinese character counts twice), capped;
    longer cells wrap."""
    from openpyxl.styles import Alignment

    widths: dict[int, int] = {}
    for row in rows:
        for col, value in enumerate(row, start=1):
            widths[col] = max(widths.get(col, 0), _display_width(str(value)))
    for col, width in widths.items():
        sheet.column_dimensions[_column_letter(col)].width = min(width + 2, MAX_WIDTH)
        if width > MAX_WIDTH:
            for (cell,) in sheet.iter_rows(min_col=col, max_col=col):
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _column_letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(col))
