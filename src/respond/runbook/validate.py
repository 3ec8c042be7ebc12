"""Checks across files: templates, names, targets, playbooks; and ``respond validate``'s driver.

Loading a runbook already checks its shape (model.py). Here come the checks that need the
template engine or other files, each returning ``list[Issue]`` and never stopping at the
first problem:

- Jinja syntax errors (and unknown filters/tests, ``raw`` on a non-literal) in every
  templated field, at that field's position;
- names a template or ``when`` reads that are not a param, an *earlier* step's register, a
  built-in or an inventory variable (a later step's register is called out as such);
- target patterns that select no host of the inventory (a warning) or cannot be parsed;
- ansible playbooks that do not exist under ``playbooks/``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import InvalidInput, Issue, Location, TemplateError
from respond.runbook.yamlpos import display_path

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.inventory import Inventory
    from respond.runbook.model import Runbook, Step
    from respond.runbook.templating import Templates

# field → how it is rendered: text, command (shell-quoted), device (CLI line), expr (no braces)
Mode = str


@dataclass
class Report:
    """What ``validate_files`` found, with counts for the summary line."""

    issues: list[Issue] = field(default_factory=list)
    runbooks: int = 0
    inventories: int = 0
    drills: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    def summary(self) -> str:
        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        text = f"{n(self.runbooks, 'runbook')}, {n(self.inventories, 'inventory')}, {n(self.drills, 'drill')}"
        text = text.replace("inventorys", "inventories")
        if self.warnings:
            text += f" ({n(len(self.warnings), 'warning')})"
        return text


@cache
def _templates() -> Templates:
    from respond.runbook.templating import Templates

    return Templates(None)


# ---------------------------------------------------------------------------------------------
# one runbook


def templated_fields(
    step: Step, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str, Mode]]:
    """Every templated string of a step: (field path, source, mode)."""
    for name in ("name", "confirm", "targets", "url", "prompt", "message", "subject"):
        value = getattr(step, name)
        if isinstance(value, str):
            yield (*path, name), value, "text"
    if step.when is not None:
        yield (*path, "when"), step.when, "expr"
    if step.command is not None:
        yield (*path, "command"), step.command, "command" if step.kind == "ssh" else "text"
    for key in ("commands", "config"):
        values = getattr(step, key) or ()
        mode = "device" if step.kind == "netmiko" else "command"
        for j, value in enumerate(values):
            yield (*path, key, j), value, mode
    for j, value in enumerate(step.argv or ()):
        yield (*path, "argv", j), value, "text"
    for j, value in enumerate(step.choices or ()):
        yield (*path, "choices", j), value, "text"
    yield from _nested((*path, "extra_vars"), step.extra_vars)
    yield from _nested((*path, "headers"), step.headers)
    yield from _nested((*path, "body"), step.body)
    if step.expect is not None:
        for j, value in enumerate(step.expect.that):
            yield (*path, "expect", "that", j), value, "that"


def _nested(path: tuple[Any, ...], value: Any) -> Iterator[tuple[tuple[Any, ...], str, Mode]]:
    if isinstance(value, str):
        yield path, value, "text"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nested((*path, k), v)
    elif isinstance(value, list | tuple):
        for j, v in enumerate(value):
            yield from _nested((*path, j), v)


def _has_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def template_issues(runbook: Runbook) -> list[Issue]:
    """Syntax errors in every templated field (no name checks): what loading enforces."""
    return check_runbook(runbook, check_names=False)


def check_runbook(
    runbook: Runbook,
    *,
    inventory: Inventory | None = None,
    config: ProjectConfig | None = None,
    check_names: bool = True,
    inventory_note: str = "",
    extra_names: set[str] | frozenset[str] = frozenset(),
) -> list[Issue]:
    """Template syntax, names, targets and playbooks of one loaded runbook.
    ``extra_names`` are variable names known without a chosen inventory (those defined by
    any inventory of the project)."""
    from respond.runbook.model import BUILTIN_NAMES

    templates = _templates()
    issues: list[Issue] = []
    params = set(runbook.params)
    later: dict[str, tuple[int, str]] = {}
    for i, step in enumerate(runbook.steps):
        if step.register and step.register not in later:
            later[step.register] = (i, step.id)
    inventory_names = inventory.variable_names() if inventory is not None else set(extra_names)
    globals_ = set(templates.env.globals)
    earlier: set[str] = set()

    def loc(path: tuple[Any, ...]) -> Location | None:
        return runbook.location(path)

    for i, step in enumerate(runbook.steps):
        step_path: tuple[Any, ...] = ("steps", i)
        fields = list(templated_fields(step, step_path))
        if step.check is not None:
            fields += list(templated_fields(step.check, (*step_path, "check")))
        for path, source, mode in fields:
            if mode not in ("expr", "that") and not _has_template(source):
                continue
            try:
                if mode in ("expr", "that"):
                    names = templates.expression_names(source)
                else:
                    names = templates.template_names(source, command=mode == "command")
            except TemplateError as exc:
                for issue in exc.issues or [Issue(exc.message)]:
                    issues.append(Issue(issue.message, loc(path), field=_field(path)))
                continue
            if not check_names:
                continue
            known = params | earlier | BUILTIN_NAMES | inventory_names | globals_
            if mode != "that":
                known = known - {"result"}
            for name in sorted(names - known):
                issues.append(
                    _unknown_name(name, path, loc(path), later, i, known, inventory, inventory_note)
                )
        if step.register:
            earlier.add(step.register)
        if check_names:
            issues += _target_issues(runbook, step, step_path, inventory)
            if step.check is not None:
                issues += _target_issues(runbook, step.check, (*step_path, "check"), inventory)
            issues += _playbook_issues(runbook, step, step_path, config)
    return issues


def _field(path: tuple[Any, ...]) -> str:
    from respond.runbook.model import field_name

    return field_name(path)


def _unknown_name(
    name: str,
    path: tuple[Any, ...],
    where: Location | None,
    registers: dict[str, tuple[int, str]],
    index: int,
    known: set[str],
    inventory: Inventory | None,
    inventory_note: str,
) -> Issue:
    if name in registers:
        j, sid = registers[name]
        if j == index:
            msg = f"{name!r} is registered by this step itself; use 'result' in expect.that, or a later step"
        else:
            msg = f"{name!r} is registered by a later step {sid!r}; a step can only use results of earlier steps"
        return Issue(msg, where, field=_field(path))
    close = difflib.get_close_matches(name, sorted(known | set(registers)), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    scope = (
        "an inventory variable"
        if inventory is not None
        else "an inventory variable (no inventory given)"
    )
    msg = f"unknown name {name!r}{hint}: not a param, an earlier step's register, {scope} or a built-in"
    if inventory is None and inventory_note:
        msg += f"; {inventory_note}"
    return Issue(msg, where, field=_field(path))


def _target_issues(
    runbook: Runbook, step: Step, path: tuple[Any, ...], inventory: Inventory | None
) -> list[Issue]:
    if inventory is None or not step.targets or _has_template(step.targets):
        return []
    from respond.errors import InventoryError

    where = runbook.location((*path, "targets"))
    try:
        hosts = inventory.select(step.targets)
    except InventoryError as exc:
        message = exc.issues[0].message if exc.issues else exc.message
        return [
            Issue(
                f"bad target pattern {step.targets!r}: {message}",
                where,
                field=_field((*path, "targets")),
            )
        ]
    if not hosts:
        shown = display_path(inventory.source)
        return [
            Issue(
                f"target pattern {step.targets!r} matches no host in {shown}",
                where,
                severity="warning",
                field=_field((*path, "targets")),
            )
        ]
    return []


def _playbook_issues(
    runbook: Runbook, step: Step, path: tuple[Any, ...], config: ProjectConfig | None
) -> list[Issue]:
    if (
        step.kind != "ansible"
        or not step.playbook
        or config is None
        or _has_template(step.playbook)
    ):
        return []
    where = runbook.location((*path, "playbook"))
    playbook = Path(step.playbook)
    base = config.playbooks_dir.resolve()
    target = (base / playbook).resolve()
    if playbook.is_absolute() or not target.is_relative_to(base):
        return [
            Issue(
                f"playbook {step.playbook!r} must be a path under playbooks/",
                where,
                field=_field((*path, "playbook")),
            )
        ]
    if not target.is_file():
        shown = display_path(config.playbooks_dir)
        return [
            Issue(
                f"playbook {step.playbook!r} not found in {shown}/",
                where,
                field=_field((*path, "playbook")),
            )
        ]
    return []


# ---------------------------------------------------------------------------------------------
# files


INVENTORY_SUFFIXES = (".yaml", ".yml", ".ini", ".cfg", "")
YAML_SUFFIXES = (".yaml", ".yml")


def project_files(config: ProjectConfig) -> list[tuple[str, Path]]:
    """(kind, path) for every runbook, drill and inventory of the project."""
    from respond.runbook.loader import find_runbooks

    files: list[tuple[str, Path]] = [("runbook", p) for p in find_runbooks(config)]
    if config.drills_dir.is_dir():
        files += [
            ("drill", p)
            for p in sorted(config.drills_dir.iterdir())
            if p.suffix in YAML_SUFFIXES and p.is_file()
        ]
    if config.inventory_dir.is_dir():
        files += [
            ("inventory", p)
            for p in sorted(config.inventory_dir.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.suffix in INVENTORY_SUFFIXES
        ]
    return files


def classify(path: Path, config: ProjectConfig) -> str:
    resolved = path.resolve()
    if resolved.is_relative_to(config.inventory_dir.resolve()) or path.suffix in (".ini", ".cfg"):
        return "inventory"
    if resolved.is_relative_to(config.drills_dir.resolve()):
        return "drill"
    return "runbook"


def _expand(
    paths: Sequence[str | os.PathLike[str]], config: ProjectConfig
) -> tuple[list[tuple[str, Path]], list[Issue]]:
    files: list[tuple[str, Path]] = []
    issues: list[Issue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and child.suffix in (*YAML_SUFFIXES, ".ini"):
                    files.append((classify(child, config), child))
        elif path.is_file():
            files.append((classify(path, config), path))
        else:
            issues.append(Issue("no such file or directory", Location(display_path(path))))
    return files, issues


def validate_files(
    paths: Sequence[str | os.PathLike[str]] | None,
    config: ProjectConfig,
    inventory: str | os.PathLike[str] | Inventory | None = None,
) -> Report:
    """Validate the given files (or, with none, every runbook, drill and inventory of the
    project). ``inventory`` (default: the project's default inventory, when it exists) is
    used to resolve host variables and target patterns in runbooks."""
    report = Report()
    if paths:
        files, report.issues = _expand(paths, config)
    else:
        files = project_files(config)

    inv, inv_issues, note = _runbook_inventory(inventory, config)
    report.issues += inv_issues

    known_runbooks = {p.stem for p in _project_runbooks(config)}
    for kind, path in files:
        if kind == "runbook":
            report.runbooks += 1
            report.issues += _validate_runbook_file(path, config, inv, note)
            known_runbooks.add(path.stem)
    for kind, path in files:
        if kind == "inventory":
            report.inventories += 1
            report.issues += _validate_inventory_file(path)
        elif kind == "drill":
            report.drills += 1
            report.issues += _validate_drill_file(path, config, known_runbooks)
    return report


def validate_paths(
    paths: Sequence[str | os.PathLike[str]] | None,
    config: ProjectConfig,
    inventory: str | os.PathLike[str] | Inventory | None = None,
) -> list[Issue]:
    """Every issue (errors and warnings) of the given files; see ``validate_files``."""
    return validate_files(paths, config, inventory).issues


def _project_runbooks(config: ProjectConfig) -> list[Path]:
    from respond.runbook.loader import find_runbooks

    return find_runbooks(config)


def _runbook_inventory(
    inventory: str | os.PathLike[str] | Inventory | None, config: ProjectConfig
) -> tuple[Inventory | None, list[Issue], str]:
    """The inventory runbooks are checked against, any issues loading it, and a note for
    messages when there is none."""
    if inventory is not None and not isinstance(inventory, str | os.PathLike):
        return inventory, [], ""
    path: Path | None = Path(inventory) if inventory is not None else None
    if path is None:
        default = config.default_inventory
        if default is None:
            return None, [], "pass -i INVENTORY to check host variables"
        if not default.is_file():
            return (
                None,
                [],
                (
                    f"the default inventory {display_path(default)} does not exist yet "
                    "(`respond lab up` writes the lab's); pass -i INVENTORY to check host variables"
                ),
            )
        path = default
    from respond.errors import InventoryError
    from respond.inventory import load_inventory

    if not path.is_file():
        return None, [Issue("inventory not found", Location(display_path(path)))], ""
    try:
        return load_inventory(path), [], ""
    except InventoryError as exc:
        issues = exc.issues or [Issue(exc.message, Location(display_path(path)))]
        return None, list(issues), "the inventory did not load"


def _validate_runbook_file(
    path: Path, config: ProjectConfig, inventory: Inventory | None, note: str
) -> list[Issue]:
    from respond.runbook.loader import load_runbook

    try:
        runbook = load_runbook(path, config)
    except InvalidInput as exc:
        return exc.issues or [Issue(exc.message, Location(display_path(path)))]
    extra = _project_inventory_names(config) if inventory is None else frozenset()
    return check_runbook(
        runbook, inventory=inventory, config=config, inventory_note=note, extra_names=extra
    )


_names_cache: dict[Path, frozenset[str]] = {}


def _project_inventory_names(config: ProjectConfig) -> frozenset[str]:
    """Variable names defined by any inventory in the project's inventory directory: with
    no inventory chosen, a name one of them defines is not reported as unknown."""
    root = config.inventory_dir
    if root in _names_cache:
        return _names_cache[root]
    from respond.errors import InventoryError
    from respond.inventory import load_inventory

    names: set[str] = set()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_file() and path.suffix in (".yaml", ".yml", ".ini", ".json", ""):
                try:
                    names |= load_inventory(path).variable_names()
                except InventoryError:
                    continue
    _names_cache[root] = frozenset(names)
    return _names_cache[root]


def _validate_inventory_file(path: Path) -> list[Issue]:
    from respond.errors import InventoryError
    from respond.inventory import load_inventory

    try:
        load_inventory(path)
    except InventoryError as exc:
        return exc.issues or [Issue(exc.message, Location(display_path(path)))]
    return []


def _validate_drill_file(path: Path, config: ProjectConfig, runbooks: set[str]) -> list[Issue]:
    """Drills get their own model in a later issue; until then: YAML, a mapping, a known runbook."""
    from respond.runbook.yamlpos import read_yaml

    try:
        doc = read_yaml(path, what="drill")
    except InvalidInput as exc:
        return exc.issues
    if not isinstance(doc.data, dict):
        return [Issue("a drill must be a mapping of keys", doc.positions.nearest(()))]
    name = doc.data.get("runbook")
    if name is None:
        return [Issue("missing required key 'runbook'", doc.positions.nearest(()))]
    if name not in runbooks:
        close = difflib.get_close_matches(str(name), sorted(runbooks), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [
            Issue(
                f"unknown runbook {name!r}{hint}",
                doc.positions.nearest(("runbook",)),
                field="runbook",
            )
        ]
    return []
