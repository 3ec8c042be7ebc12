"""The daily check record (日常检查记录): every check result per device over a period, as
a terminal table, CSV, Markdown or JSON. One row per result: when, device, check, what is
checked, state, value, threshold, the problem found (the summary when not OK) and the
inspection run it came from."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from respond.checks.result import State
from respond.reports.inspection import value_text
from respond.reports.sla_render import text_table

if TYPE_CHECKING:
    from respond.inspections.record import CheckRecord

LOG_FORMATS = ("table", "csv", "md", "json")
COLUMNS = (
    "time",
    "device",
    "check",
    "what is checked",
    "state",
    "value",
    "threshold",
    "problem found",
    "run",
)


def log_row(r: CheckRecord) -> dict[str, Any]:
    return {
        "time": r.at,
        "device": r.host,
        "check": r.check_id,
        "check_name": r.check,
        "title": r.title,
        "state": r.state.word,
        "value": r.result.value,
        "unit": r.result.unit,
        "value_text": value_text(r),
        "threshold": r.result.threshold,
        "problem": r.result.summary if r.state is not State.OK else "",
        "summary": r.result.summary,
        "run_id": r.run_id,
        "inspection": r.inspection,
    }


def _cells(row: Mapping[str, Any]) -> list[str]:
    from respond.timeline.facts import local_when

    return [
        local_when(row["time"]),
        str(row["device"]),
        str(row["check"]),
        str(row["title"]),
        str(row["state"]),
        str(row["value_text"]),
        str(row["threshold"] or "-"),
        str(row["problem"] or "-"),
        str(row["run_id"]),
    ]


def render_log(rows: Sequence[Mapping[str, Any]], fmt: str, period: str) -> str:
    """The rows in ``fmt``; ``period`` says which range they cover (for people)."""
    if fmt == "json":
        data = {"period": period, "count": len(rows), "results": list(rows)}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_cells(r) for r in rows)
        return buffer.getvalue()
    if fmt == "md":
        from respond.reports.inspection_render import md_table

        lines = [f"# 日常检查记录 Daily check record — {period}", ""]
        lines.append(f"{len(rows)} result(s)")
        lines += md_table(COLUMNS, [_cells(r) for r in rows])
        return "\n".join(lines) + "\n"
    if fmt == "table":
        lines = [f"日常检查记录 Daily check record — {period}: {len(rows)} result(s)", ""]
        lines += text_table(COLUMNS, [_cells(r) for r in rows])
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r} (use {', '.join(LOG_FORMATS)})")
