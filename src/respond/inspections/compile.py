"""An inspection as a runbook: one ``check`` step per check, so that an inspection runs,
records, verifies and shows through the same engine, timeline and tools as any run.

Each step keeps going whatever a host answers (``on_failure: continue``, no error limit): an
inspection reports every host, it never stops at the first bad one. The runbook's positions
are the inspection file's, so a problem the runbook checks find (a target matching no host)
points at the inspection's line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.yamlfile import Positions

if TYPE_CHECKING:
    from respond.errors import Location
    from respond.inspections.model import Inspection, InspectionCheck
    from respond.runbook.model import Runbook

_TOP_KEYS = ("version", "title", "description")
SEVERITY = 4  # an inspection is not an incident: the lowest level, never escalated
SCENARIO = "other"
# the runbook keys of a step and the inspection keys they come from
_STEP_KEYS = {
    "id": "id",
    "name": "title",
    "check": "check",
    "targets": "targets",
    "warn": "warn",
    "crit": "crit",
    "args": "args",
}


def compile_inspection(inspection: Inspection) -> Runbook:
    """The runbook that runs ``inspection``: id, version and title of the inspection, its
    text and sha256, one ``check`` step per check in order."""
    from respond.runbook.model import build_runbook

    data = {
        "runbook": inspection.id,
        "version": inspection.version,
        "title": inspection.title or inspection.id,
        "description": inspection.description,
        "scenario": SCENARIO,
        "severity": SEVERITY,
        "steps": [_step(inspection, check) for check in inspection.checks],
    }
    source = inspection.source if inspection.source is not None else Path(inspection.file)
    return build_runbook(
        data,
        _positions(inspection),
        source=Path(source),
        text=inspection.text,
        sha256=inspection.sha256,
    )


def _step(inspection: Inspection, check: InspectionCheck) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": check.id,
        "name": check_title(check),
        "kind": "check",
        "check": check.check,
        "targets": check.targets,
        "concurrency": inspection.concurrency,
        "on_failure": "continue",
        "max_errors": "100%",  # every host is checked and reported, however many fail
    }
    if check.args:
        step["args"] = dict(check.args)
    if check.warn is not None:
        step["warn"] = check.warn
    if check.crit is not None:
        step["crit"] = check.crit
    if inspection.timeout is not None:
        step["timeout"] = inspection.timeout
    return step


def check_title(check: InspectionCheck) -> str:
    """What a check looks at, in words: its own title, else the built-in's summary."""
    if check.title:
        return check.title
    from respond.checks.catalog import get

    spec = get(check.check)
    return spec.summary if spec is not None else check.check


def _positions(inspection: Inspection) -> Positions:
    """The inspection's positions under the runbook's paths: step ``i`` is check ``i``."""
    given = inspection.positions
    if given is None:
        return Positions(inspection.file)
    values: dict[tuple[Any, ...], Location] = {(): given.nearest(())}
    keys: dict[tuple[Any, ...], Location] = {}
    for i in range(len(inspection.checks)):
        values[("steps", i)] = given.nearest(("checks", i))
        for step_key, check_key in _STEP_KEYS.items():
            where = given.value(("checks", i, check_key))
            if where is not None:
                values[("steps", i, step_key)] = where
            key_at = given.keys.get(("checks", i, check_key))
            if key_at is not None:
                keys[("steps", i, step_key)] = key_at
        for path, where in given.values.items():
            if path[:3] == ("checks", i, "args"):
                values[("steps", i, *path[2:])] = where
    for top, written in (("runbook", "inspection"), *((k, k) for k in _TOP_KEYS)):
        where = given.value((written,))
        if where is not None:
            values[(top,)] = where
    return Positions(given.file, values, keys)
