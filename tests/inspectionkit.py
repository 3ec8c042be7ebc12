"""Inspection definitions for schedule and on_critical tests, written as a user writes them
(``inspections/NAME.yaml`` in the project)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

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


class StandInLoader:
    """The definitions' loader while respond.inspections.loader is not in this build: reads
    the keys the schedule and on_critical use (REMOVE once INSPECT has landed)."""

    @staticmethod
    def find_inspections(config: Any) -> list[Path]:
        folder = Path(config.root) / "inspections"
        return sorted(folder.glob("*.yaml")) if folder.is_dir() else []

    @staticmethod
    def load_inspection(path: Path, config: Any) -> Any:
        import yaml

        from respond.drills.model import Schedule
        from respond.errors import InvalidInput

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path}: {exc}") from None
        schedule = data.get("schedule")
        rules = [SimpleNamespace(**{**RULE_DEFAULTS, **r}) for r in data.get("on_critical") or []]
        return SimpleNamespace(
            id=data["inspection"],
            title=data.get("title", ""),
            schedule=Schedule.model_validate(schedule) if schedule else None,
            on_critical=rules,
            report=None,
        )


RULE_DEFAULTS: dict[str, Any] = {"hosts": None, "params": {}, "severity": None, "notify": None}


def real_loader_or_stand_in(monkeypatch: Any) -> None:
    import importlib

    try:
        importlib.import_module("respond.inspections.loader")
    except ModuleNotFoundError:
        monkeypatch.setattr("respond.schedule.inspections._loader", lambda: StandInLoader)
