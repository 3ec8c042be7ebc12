"""Inspection definitions for schedule and on_critical tests, written as a user writes them
(``inspections/NAME.yaml`` in the project)."""

from __future__ import annotations

from pathlib import Path

DAILY_CRON = "0 8 * * *"


def write_inspection(
    project: Path,
    name: str,
    *,
    cron: str | None = DAILY_CRON,
    timezone: str = "Asia/Shanghai",
    checks: str = "  - check: reachable\n    targets: all\n",
    rest: str = "",
) -> Path:
    """``inspections/NAME.yaml`` with a schedule (``cron``; None: by hand only), its checks
    (YAML list items) and any further keys (``rest``, YAML text)."""
    folder = project / "inspections"
    folder.mkdir(exist_ok=True)
    schedule = f'schedule: {{cron: "{cron}", timezone: {timezone}}}\n' if cron else ""
    text = f"inspection: {name}\ntitle: {name} 巡检\n{schedule}checks:\n{checks}{rest}"
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
