"""Finding, loading and checking inspection definitions: a name or a path in, a validated
``Inspection`` out, every problem at ``file:line:col``.

``load_inspection`` checks the file on its own: shape and types, then each check against the
built-in catalogue (known name, its arguments, the ranges) and the ``on_critical`` rules
against the check ids. ``check_inspection`` checks it against the project: the runbooks the
rules name, their params, the channels and the inventory file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import InspectionError, InvalidInput, Issue
from respond.yamlfile import (
    DEFINITION_SUFFIXES,
    definition_files,
    definition_stem,
    read_yaml,
    resolve_definition,
    unknown_definition,
)

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.inspections.model import Inspection, InspectionCheck
    from respond.yamlfile import Positions

SUFFIXES = DEFINITION_SUFFIXES


def find_inspections(config: ProjectConfig) -> list[Path]:
    """Every inspection file of the project (``inspections/*.yaml``, ``*.yml``), by name."""
    return definition_files(config.inspections_dir)


def inspection_names(config: ProjectConfig) -> list[str]:
    return [p.stem for p in find_inspections(config)]


def resolve_inspection(name_or_path: str | os.PathLike[str], config: ProjectConfig) -> Path:
    """An inspection name (``daily``) or a file path → the file; ``InspectionError`` (exit 2)
    naming the known inspections otherwise."""
    return resolve_definition(
        name_or_path,
        root=config.root,
        directory=config.inspections_dir,
        what="inspection",
        error=InspectionError,
    )


def unknown_inspection(name: str, known: Sequence[str]) -> str:
    return unknown_definition(name, known, what="inspection")


def load_inspection(name_or_path: str | os.PathLike[str], config: ProjectConfig) -> Inspection:
    """Load and validate one inspection; raise ``InspectionError`` with every issue."""
    path = resolve_inspection(name_or_path, config)
    try:
        doc = read_yaml(path, what="inspection")
    except InvalidInput as exc:
        raise InspectionError(exc.message, exc.issues) from None
    return build_inspection(
        doc.data,
        doc.positions,
        source=path,
        text=doc.text,
        sha256=doc.sha256,
        expected_id=definition_stem(path),
    )


def build_inspection(
    data: Any,
    positions: Positions,
    *,
    source: Path,
    text: str = "",
    sha256: str = "",
    expected_id: str | None = None,
) -> Inspection:
    """Validate YAML data into an ``Inspection``; raise ``InspectionError`` with all issues."""
    from respond.inspections.model import attach_source, validate_inspection
    from respond.runbook.model import dedupe_issues, key_type_issues

    file = positions.file
    if not isinstance(data, dict):
        what = "empty" if data is None else "not a mapping"
        issue = Issue(
            "an inspection must be a mapping of keys (inspection, checks, ...)",
            positions.nearest(()),
        )
        raise InspectionError(f"{file}: {what}", [issue])
    issues = key_type_issues(data, positions, ())
    given = data.get("inspection")
    if expected_id is not None and isinstance(given, str) and given != expected_id:
        issues.append(
            Issue(
                f"inspection name {given!r} does not match the file name {expected_id!r}",
                positions.nearest(("inspection",)),
                field="inspection",
            )
        )
    inspection: Inspection | None = None
    if not issues:
        inspection, problems = validate_inspection(data, positions)
        issues += problems
    if inspection is not None:
        attach_source(inspection, positions, source=source, text=text, sha256=sha256)
        issues += definition_issues(inspection)
    if inspection is None or any(i.is_error for i in issues):
        raise InspectionError(f"{file}: invalid inspection", dedupe_issues(issues))
    return inspection


# ---------------------------------------------------------------------------------------------
# the definition on its own: checks against the catalogue, rules against the checks


def definition_issues(inspection: Inspection) -> list[Issue]:
    """Duplicate check ids, unknown checks, their arguments and ranges; rules naming
    checks that are not there, or keys that do not go with their action."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, check in enumerate(inspection.checks):
        if check.id in seen:
            issues.append(
                Issue(
                    f"duplicate check id {check.id!r} (also check {seen[check.id] + 1}); "
                    "give one of them an `id:`",
                    inspection.location(("checks", i, "id" if check.id_ else "check")),
                    field=f"check {i + 1}",
                )
            )
        seen.setdefault(check.id, i)
        issues += _check_issues(inspection, i, check)
    for i, rule in enumerate(inspection.on_critical):
        issues += _rule_issues(inspection, i, rule, seen)
    return issues


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_issues(inspection: Inspection, index: int, check: InspectionCheck) -> list[Issue]:
    from respond.checks.catalog import arg_problems, checks

    field = f"check {index + 1}"
    catalogue = checks()
    spec = catalogue.get(check.check)
    if spec is None:
        listing = ", ".join(sorted(catalogue)) or "none"
        return [
            Issue(
                f"unknown check {check.check!r}{_suggest(check.check, catalogue)}; "
                f"the built-in checks: {listing}",
                inspection.location(("checks", index, "check")),
                field=field,
            )
        ]
    issues = [
        Issue(
            message,
            inspection.location(("checks", index, "args", *((arg,) if arg else ()))),
            field=field,
        )
        for message, arg in arg_problems(spec, check.args)
        if not (arg and _templated(check.args.get(arg)))  # known per host only: checked then
    ]
    takes_ranges = getattr(spec, "accepts_thresholds", True)
    for key in ("warn", "crit"):
        value = getattr(check, key)
        if value is None:
            continue
        where = inspection.location(("checks", index, key))
        if not takes_ranges:
            issues.append(
                Issue(
                    f"check {spec.name} takes no {key}: its thresholds are the plugin's own "
                    "(give them in the command)",
                    where,
                    field=field,
                )
            )
            continue
        issues += _range_issue(value, key, where, field)
    return issues


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _range_issue(value: str, key: str, where: Any, field: str) -> list[Issue]:
    from respond.checks.result import Range

    try:
        Range.parse(value)
    except ValueError as exc:
        return [Issue(f"{key}: {exc}", where, field=field)]
    return []


def _rule_issues(
    inspection: Inspection, index: int, rule: Any, ids: Collection[str]
) -> list[Issue]:
    field = f"on_critical rule {index + 1}"
    issues = [
        Issue(
            f"no check with id {check_id!r} in this inspection{_suggest(check_id, ids)}; "
            f"its checks: {', '.join(ids)}",
            inspection.location(("on_critical", index, "checks", j)),
            field=field,
        )
        for j, check_id in enumerate(rule.checks)
        if check_id not in ids
    ]
    if rule.action == "run" and rule.notify is not None:
        issues.append(
            Issue(
                "notify goes with action incident (a run notifies through its runbook's steps)",
                inspection.location(("on_critical", index, "notify")),
                field=field,
            )
        )
    if rule.action == "incident" and rule.params:
        issues.append(
            Issue(
                "params go with action run (an incident is opened, nothing runs)",
                inspection.location(("on_critical", index, "params")),
                field=field,
            )
        )
    return issues


# ---------------------------------------------------------------------------------------------
# checks against the project


def check_inspection(inspection: Inspection, config: ProjectConfig) -> list[Issue]:
    """Problems of a loaded inspection in its project, each at its place in the file: the
    runbooks of ``on_critical`` (they exist and load; params fit), the channels, and the
    inventory file."""
    issues: list[Issue] = []
    for i, rule in enumerate(inspection.on_critical):
        issues += _runbook_issues(inspection, config, i, rule)
        issues += _channel_issues(inspection, config, i, rule)
    if inspection.inventory is not None and not (config.root / inspection.inventory).is_file():
        from respond.yamlfile import display_path

        shown = display_path(config.root / inspection.inventory)
        issues.append(
            Issue(
                f"inventory {shown} not found",
                inspection.location(("inventory",)),
                field="inventory",
            )
        )
    return sorted(
        issues, key=lambda i: (i.location.line, i.location.column) if i.location else (0, 0)
    )


def _runbook_issues(
    inspection: Inspection, config: ProjectConfig, index: int, rule: Any
) -> list[Issue]:
    from respond.errors import RunbookNotFound
    from respond.runbook.loader import find_runbooks, load_runbook

    field = f"on_critical rule {index + 1}"
    where = inspection.location(("on_critical", index, "runbook"))
    if "/" in rule.runbook or rule.runbook.endswith(SUFFIXES):
        return [Issue("name a runbook of runbooks/, not a path", where, field=field)]
    try:
        runbook = load_runbook(rule.runbook, config)
    except RunbookNotFound:
        known = [p.stem for p in find_runbooks(config)]
        message = f"unknown runbook {rule.runbook!r}{_suggest(rule.runbook, known)}"
        return [Issue(message, where, field=field)]
    except InvalidInput:
        message = f"runbook {rule.runbook!r} does not load (respond validate lists its problems)"
        return [Issue(message, where, field=field)]
    issues: list[Issue] = []
    for name, value in rule.params.items():
        param = runbook.params.get(name)
        at = inspection.location(("on_critical", index, "params", name))
        if param is None:
            message = (
                f"runbook {runbook.id!r} has no param {name!r}{_suggest(name, runbook.params)}"
            )
            issues.append(Issue(message, at, field=field))
            continue
        try:
            param.coerce(value)
        except ValueError as exc:
            issues.append(Issue(f"param {name!r}: {exc}", at, field=field))
    if rule.action == "run":
        missing = [
            n
            for n, p in runbook.params.items()
            if p.required and p.default is None and n not in rule.params
        ]
        for name in missing:
            issues.append(
                Issue(
                    f"runbook {runbook.id!r} needs param {name!r}: give it under params",
                    inspection.location(("on_critical", index)),
                    field=field,
                )
            )
    return issues


def _channel_issues(
    inspection: Inspection, config: ProjectConfig, index: int, rule: Any
) -> list[Issue]:
    from respond.config import BUILTIN_CHANNEL_NAMES

    channels = config.raw.get("channels")
    known = [*(channels if isinstance(channels, dict) else {}), *BUILTIN_CHANNEL_NAMES]
    return [
        Issue(
            f"no channel named {name!r} in respond.yaml{_suggest(name, known)}",
            inspection.location(("on_critical", index, "notify", j)),
            field=f"on_critical rule {index + 1}",
        )
        for j, name in enumerate(rule.notify or ())
        if name not in known
    ]
