"""Finding, loading and checking drill definitions: a name or a path in, a validated
``Drill`` out, every problem at ``file:line:col``.

``load_drill`` checks the file on its own (shape, types, cron, time zone, dates, durations);
``check_drill`` checks it against the project: its runbook, that runbook's steps and params,
respond.yaml's channels, the answers and inventory files. The lab's fault names are passed
in by the caller (``respond validate``): this package sits below ``respond.lab``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import DrillError, InvalidInput, Issue
from respond.yamlfile import (
    DEFINITION_SUFFIXES,
    definition_files,
    definition_stem,
    read_yaml,
    resolve_definition,
)

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.drills.model import Drill
    from respond.runbook.model import Runbook
    from respond.yamlfile import Positions

SUFFIXES = DEFINITION_SUFFIXES
LAB_INVENTORY = "lab.yaml"  # in the project's inventory folder, written by `respond lab up`
NARRATED = "narrated, not applied: only lab drills inject faults"
LAB_ONLY = "lab drills run only against the lab's inventory"


def find_drills(config: ProjectConfig) -> list[Path]:
    """Every drill file of the project (``drills/*.yaml``, ``*.yml``), sorted by name."""
    return definition_files(config.drills_dir)


def drill_names(config: ProjectConfig) -> list[str]:
    return [p.stem for p in find_drills(config)]


def resolve_drill(name_or_path: str | os.PathLike[str], config: ProjectConfig) -> Path:
    """A drill name (``q1-power``) or a file path → the file; ``DrillError`` (exit 2) naming
    the known drills otherwise."""
    return resolve_definition(
        name_or_path, root=config.root, directory=config.drills_dir, what="drill", error=DrillError
    )


def load_drill(name_or_path: str | os.PathLike[str], config: ProjectConfig) -> Drill:
    """Load and validate one drill; raise ``DrillError`` with every issue of the file."""
    path = resolve_drill(name_or_path, config)
    try:
        doc = read_yaml(path, what="drill")
    except InvalidInput as exc:
        raise DrillError(exc.message, exc.issues) from None
    return build_drill(
        doc.data,
        doc.positions,
        source=path,
        text=doc.text,
        sha256=doc.sha256,
        expected_id=definition_stem(path),
    )


def build_drill(
    data: Any,
    positions: Positions,
    *,
    source: Path,
    text: str = "",
    sha256: str = "",
    expected_id: str | None = None,
) -> Drill:
    """Validate YAML data into a ``Drill``; raise ``DrillError`` with all issues."""
    from respond.drills.model import attach_source, validate_drill
    from respond.runbook.model import dedupe_issues, key_type_issues

    file = positions.file
    if not isinstance(data, dict):
        what = "empty" if data is None else "not a mapping"
        raise DrillError(
            f"{file}: {what}",
            [
                Issue(
                    "a drill must be a mapping of keys (drill, runbook, mode, ...)",
                    positions.nearest(()),
                )
            ],
        )
    issues = key_type_issues(data, positions, ())
    given = data.get("drill")
    if expected_id is not None and isinstance(given, str) and given != expected_id:
        issues.append(
            Issue(
                f"drill id {given!r} does not match the file name {expected_id!r}",
                positions.nearest(("drill",)),
                field="drill",
            )
        )
    drill: Drill | None = None
    if not issues:  # a key YAML read as a number would be reported again, out of place
        drill, problems = validate_drill(data, positions)
        issues += problems
    if drill is None or any(i.is_error for i in issues):
        raise DrillError(f"{file}: invalid drill", dedupe_issues(issues))
    attach_source(drill, positions, source=source, text=text, sha256=sha256)
    return drill


# ---------------------------------------------------------------------------------------------
# checks against the project


def check_drill(
    drill: Drill, config: ProjectConfig, *, faults: Collection[str] | None = None
) -> list[Issue]:
    """Problems of a loaded drill in its project, each at its place in the drill's file:
    the runbook, its steps (``planned``, objectives) and params, the channels, the answers
    and inventory files; ``faults`` (the lab's fault names) when the caller knows them."""
    issues: list[Issue] = []
    runbook = _runbook(drill, config, issues)
    if runbook is not None:
        issues += _step_issues(drill, runbook)
        issues += _param_issues(drill, runbook)
    issues += _inject_issues(drill, faults)
    issues += _channel_issues(drill, config)
    issues += _file_issues(drill, config)
    return sorted(
        issues, key=lambda i: (i.location.line, i.location.column) if i.location else (0, 0)
    )


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _runbook(drill: Drill, config: ProjectConfig, issues: list[Issue]) -> Runbook | None:
    from respond.errors import RunbookNotFound
    from respond.runbook.loader import find_runbooks, load_runbook

    where = drill.location(("runbook",))
    if "/" in drill.runbook or drill.runbook.endswith(SUFFIXES):
        issues.append(Issue("name a runbook of runbooks/, not a path", where, field="runbook"))
        return None
    try:
        return load_runbook(drill.runbook, config)
    except RunbookNotFound:
        known = [p.stem for p in find_runbooks(config)]
        issues.append(
            Issue(
                f"unknown runbook {drill.runbook!r}{_suggest(drill.runbook, known)}",
                where,
                field="runbook",
            )
        )
    except InvalidInput:
        issues.append(
            Issue(
                f"runbook {drill.runbook!r} does not load (respond validate lists its problems)",
                where,
                field="runbook",
            )
        )
    return None


def _step_issues(drill: Drill, runbook: Runbook) -> list[Issue]:
    """``planned`` keys and objectives' ``step`` name steps of the runbook."""
    steps = [s.id for s in runbook.steps]
    issues: list[Issue] = []

    def unknown(step_id: str) -> str:
        return f"no step {step_id!r} in runbook {runbook.id!r}{_suggest(step_id, steps)}"

    for step_id in drill.planned:
        if step_id not in steps:
            where = drill.key_location(("planned", step_id))
            issues.append(Issue(unknown(step_id), where, field="planned"))
    for i, objective in enumerate(drill.objectives):
        if objective.step is not None and objective.step not in steps:
            where = drill.location(("objectives", i, "step"))
            issues.append(Issue(unknown(objective.step), where, field=f"objective {i + 1} step"))
    return issues


def _param_issues(drill: Drill, runbook: Runbook) -> list[Issue]:
    """``params`` are params of the runbook, of its types; every required one is given."""
    issues: list[Issue] = []
    for name, value in drill.params.items():
        param = runbook.params.get(name)
        if param is None:
            issues.append(
                Issue(
                    f"runbook {runbook.id!r} has no param {name!r}{_suggest(name, runbook.params)}",
                    drill.key_location(("params", name)),
                    field="params",
                )
            )
            continue
        try:
            param.coerce(value)
        except ValueError as exc:
            where = drill.location(("params", name))
            issues.append(Issue(f"param {name!r}: {exc}", where, field="params"))
    missing = [
        n
        for n, p in runbook.params.items()
        if p.required and p.default is None and n not in drill.params
    ]
    for name in missing:
        issues.append(
            Issue(
                f"runbook {runbook.id!r} needs param {name!r}: give it under params",
                drill.location(("params",)),
                field="params",
            )
        )
    return issues


def _inject_issues(drill: Drill, faults: Collection[str] | None) -> list[Issue]:
    issues: list[Issue] = []
    if drill.inject and drill.mode != "lab":
        issues.append(Issue(NARRATED, drill.location(("inject",)), "warning", field="inject"))
    if faults is None:
        return issues
    for i, inject in enumerate(drill.inject):
        if inject.fault not in faults:
            issues.append(
                Issue(
                    f"unknown fault {inject.fault!r}{_suggest(inject.fault, faults)}; "
                    f"the lab's faults: {', '.join(faults)}",
                    drill.location(("inject", i, "fault")),
                    field=f"inject {i + 1}",
                )
            )
    return issues


def _channel_issues(drill: Drill, config: ProjectConfig) -> list[Issue]:
    from respond.config import BUILTIN_CHANNEL_NAMES

    channels = config.raw.get("channels")
    known = [*(channels if isinstance(channels, dict) else {}), *BUILTIN_CHANNEL_NAMES]
    return [
        Issue(
            f"no channel named {name!r} in respond.yaml{_suggest(name, known)}",
            drill.location(("notify", i)),
            field="notify",
        )
        for i, name in enumerate(drill.notify or ())
        if name not in known
    ]


def _file_issues(drill: Drill, config: ProjectConfig) -> list[Issue]:
    """The answers file exists; the inventory exists, and is the lab's in lab mode."""
    from respond.yamlfile import display_path

    issues: list[Issue] = []
    if isinstance(drill.answers, str) and not (config.root / drill.answers).is_file():
        where = drill.location(("answers",))
        issues.append(Issue(f"answers file {drill.answers!r} not found", where, field="answers"))
    if drill.inventory is None:
        return issues
    where = drill.location(("inventory",))
    path = config.root / drill.inventory
    if drill.mode == "lab":
        lab = lab_inventory(config)
        if os.path.normpath(path) != os.path.normpath(lab):
            shown = os.path.relpath(lab, config.root)
            issues.append(Issue(f"{LAB_ONLY} ({shown})", where, field="inventory"))
    elif not path.is_file():
        shown = display_path(path)
        issues.append(Issue(f"inventory {shown} not found", where, field="inventory"))
    return issues


def lab_inventory(config: ProjectConfig) -> Path:
    """The inventory `respond lab up` writes: the only one a lab drill runs against."""
    return config.inventory_dir / LAB_INVENTORY
