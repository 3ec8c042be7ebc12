"""``respond validate`` and ``respond schema``: the runbook author's checks.

``validate_files`` walks runbook, inventory and drill files and checks each: runbooks against
an inventory (``respond.runbook.validate.check_runbook``), inventories by loading them, drills
by loading them and checking them against the project and the lab's fault names
(``respond.drills.loader.check_drill``). It lives here, above both ``respond.runbook`` and
``respond.inventory``, because it loads both (tests/test_layers.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.errors import InvalidInput, Issue, Location
from respond.yamlfile import display_path

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.config import ProjectConfig
    from respond.inventory import Inventory
    from respond.runbook.cache import Entries


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-i",
    "--inventory",
    metavar="INVENTORY",
    envvar="RESPOND_INVENTORY",
    show_envvar=True,
    help="Inventory that resolves host variables and target patterns "
    "(default: default_inventory of respond.yaml).",
)
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def validate_cmd(
    ctx: click.Context, paths: tuple[str, ...], inventory: str | None, json_flag: bool
) -> None:
    """Check runbooks, drills, inspections and inventories.

    Without PATH: every runbook, drill, inspection and inventory of the project. Each problem is printed
    as `path:line:col: error: message`; the exit status is 2 when there is any error.
    """
    from respond.cli import output
    from respond.config import ConfigInvalid

    app: AppContext = ctx.obj
    try:
        config = app.config
    except ConfigInvalid as exc:  # respond.yaml itself: reported like any file, nothing else
        report = Report(issues=list(exc.issues), project_file_only=True)
    else:
        report = validate_files(list(paths), config, inventory)
    if json_flag or app.json:
        output.print_json(
            {
                "ok": not report.errors,
                "runbooks": report.runbooks,
                "inventories": report.inventories,
                "drills": report.drills,
                "inspections": report.inspections,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "issues": [
                    {
                        "file": i.location.file if i.location else None,
                        "line": i.location.line if i.location else None,
                        "column": i.location.column if i.location else None,
                        "severity": i.severity,
                        "field": i.field or None,
                        "message": i.message,
                    }
                    for i in report.issues
                ],
            }
        )
    else:
        for issue in report.issues:
            click.echo(str(issue))
        if report.errors:
            n = len(report.errors)
            output.info(f"{n} error{'s' if n > 1 else ''}; checked {report.summary()}")
        else:
            click.echo(f"ok: {report.summary()}")
    if report.errors:
        ctx.exit(2)


@click.command("schema")
@click.argument("what", type=click.Choice(["runbook", "drill", "inspection"]), default="runbook")
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE (default: stdout).",
)
def schema_cmd(what: str, output_file: Path | None) -> None:
    """Write the JSON Schema of runbooks (or of drills: `respond schema drill`, of
    inspections: `respond schema inspection`), for editors (yaml-language-server) and CI.

    Runbooks point to it with `# yaml-language-server: $schema=../schemas/runbook.schema.json`,
    drills with `# yaml-language-server: $schema=../schemas/drill.schema.json`.
    """
    if what == "drill":
        from respond.drills.model import drill_json_schema

        schema = drill_json_schema()
    elif what == "inspection":
        from respond.inspections.model import inspection_json_schema

        schema = inspection_json_schema()
    else:
        from respond.runbook.model import runbook_json_schema

        schema = runbook_json_schema()
    text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    if output_file is None:
        click.echo(text, nl=False)
        return
    from respond.cli import output

    output_file.parent.mkdir(parents=True, exist_ok=True)
    output_file.write_text(text, encoding="utf-8")
    output.info(f"wrote {output_file}")


# ---------------------------------------------------------------------------------------------
# the files to check


@dataclass
class Report:
    """What ``validate_files`` found, with counts for the summary line."""

    issues: list[Issue] = field(default_factory=list)
    runbooks: int = 0
    inventories: int = 0
    drills: int = 0
    inspections: int = 0
    # respond.yaml did not load: nothing else could be checked
    project_file_only: bool = False

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    def summary(self) -> str:
        if self.project_file_only:
            return "respond.yaml only (fix it to check runbooks, inventories and drills)"

        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        text = f"{n(self.runbooks, 'runbook')}, {n(self.inventories, 'inventory')}, {n(self.drills, 'drill')}"
        text = text.replace("inventorys", "inventories")
        if self.inspections:
            text += f", {n(self.inspections, 'inspection')}"
        if self.warnings:
            text += f" ({n(len(self.warnings), 'warning')})"
        return text


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
    if config.inspections_dir.is_dir():
        files += [
            ("inspection", p)
            for p in sorted(config.inspections_dir.iterdir())
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
    if resolved.is_relative_to(config.inspections_dir.resolve()):
        return "inspection"
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

    checks = _Checks(config, inventory)
    report.issues += checks.inventory_issues()

    for kind, path in files:
        if kind == "runbook":
            report.runbooks += 1
            report.issues += checks.runbook(path)
    for kind, path in files:
        if kind == "inventory":
            report.inventories += 1
            report.issues += checks.inventory(path)
        elif kind == "drill":
            report.drills += 1
            report.issues += _validate_drill_file(path, config)
        elif kind == "inspection":
            report.inspections += 1
            report.issues += _validate_inspection_file(path, config)
    # a problem shared by every runbook (a broken project filter) is shown once
    report.issues = list(dict.fromkeys(report.issues))
    return report


def validate_paths(
    paths: Sequence[str | os.PathLike[str]] | None,
    config: ProjectConfig,
    inventory: str | os.PathLike[str] | Inventory | None = None,
) -> list[Issue]:
    """Every issue (errors and warnings) of the given files; see ``validate_files``."""
    return validate_files(paths, config, inventory).issues


class _Checks:
    """The per-file checks of ``validate_files``, answered from ``respond.runbook.cache``
    for a file unchanged since it was last checked in the same context (what else the
    check read: see ``_runbook_context``), so that an unchanged project validates without
    pydantic, Jinja2 or loading an inventory; any change means a full check of that file."""

    def __init__(
        self, config: ProjectConfig, inventory: str | os.PathLike[str] | Inventory | None
    ) -> None:
        from respond.runbook.cache import Entries

        self.config = config
        self._given = inventory
        self._loaded: tuple[Inventory | None, list[Issue], str] | None = None
        self._keyed = inventory is None or isinstance(inventory, str | os.PathLike)
        self._runbook_entries: Entries | None = None
        self._inventory_entries = Entries.of(config, "validate", f"inventory\0{os.getcwd()}")

    def _inventory(self) -> tuple[Inventory | None, list[Issue], str]:
        if self._loaded is None:
            self._loaded = _runbook_inventory(self._given, self.config)
        return self._loaded

    def _chosen_inventory_file(self) -> Path | None:
        given = self._given
        if given is None:
            path = self.config.default_inventory
        elif isinstance(given, str | os.PathLike):
            path = Path(given)
        else:
            return None  # an Inventory object
        return path if path is not None and path.is_file() else None

    def inventory_issues(self) -> list[Issue]:
        """The problems of the inventory the runbooks are checked against."""
        path = self._chosen_inventory_file()
        if path is None:
            return self._inventory()[1]  # nothing to load: no file, or an Inventory object
        return self._cached(
            self._inventory_entries, path, _inventory_digest, lambda: self._inventory()[1]
        )

    def runbook(self, path: Path) -> list[Issue]:
        from respond.runbook.cache import Entries, file_digest

        if self._runbook_entries is None and self._keyed:
            self._runbook_entries = Entries.of(self.config, "validate", self._runbook_context())

        def check() -> list[Issue]:
            inv, _, note = self._inventory()
            return _validate_runbook_file(path, self.config, inv, note)

        return self._cached(self._runbook_entries, path, file_digest, check)

    def inventory(self, path: Path) -> list[Issue]:
        return self._cached(
            self._inventory_entries, path, _inventory_digest, lambda: _validate_inventory_file(path)
        )

    @staticmethod
    def _cached(
        entries: Entries | None,
        path: Path,
        digest: Callable[[Path], str | None],
        check: Callable[[], list[Issue]],
    ) -> list[Issue]:
        if entries is None:
            return list(check())
        before = digest(path)
        stored = entries.get(path, before)
        if stored is not None:
            return [_issue_from(data) for data in stored]
        issues: list[Issue] = list(check())
        if digest(path) == before:  # not changed while it was being checked
            entries.put(path, before, [_issue_data(issue) for issue in issues])
        return issues

    def _runbook_context(self) -> str:
        """Everything a runbook's check reads besides the runbook: the current directory
        (messages show paths relative to it), the inventory it is checked against or why
        there is none, every inventory of the project (their variable names count when
        there is none), and the files under playbooks/."""
        from respond.runbook.cache import inventory_fingerprint, tree_fingerprint

        config = self.config
        chosen = self._chosen_inventory_file()
        parts = [
            "runbook",
            os.getcwd(),
            str(self._given),
            str(config.default_inventory),
            f"{os.path.abspath(chosen)}\0{inventory_fingerprint(chosen)}" if chosen else "-",
            str(config.playbooks_dir),
            tree_fingerprint(config.playbooks_dir, contents=False),
            str(config.inventory_dir),
            tree_fingerprint(config.root / "filters", contents=True),  # project filters
        ]
        if config.inventory_dir.is_dir():
            for path in sorted(config.inventory_dir.iterdir()):
                if path.is_file():
                    parts.append(f"{path.name}\0{inventory_fingerprint(path)}")
        return "\0".join(parts)


def _inventory_digest(path: Path) -> str:
    from respond.runbook.cache import inventory_fingerprint

    return inventory_fingerprint(path)


def _issue_data(issue: Issue) -> list[Any]:
    loc = issue.location
    where = [loc.file, loc.line, loc.column] if loc is not None else None
    return [issue.message, where, issue.severity, issue.field]


def _issue_from(data: list[Any]) -> Issue:
    message, where, severity, field_ = data
    return Issue(message, Location(*where) if where is not None else None, severity, field_)


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
    from respond.runbook.validate import check_runbook

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


def _validate_drill_file(path: Path, config: ProjectConfig) -> list[Issue]:
    """A drill: its file on its own, then against the project (its runbook, steps, params,
    channels, files) and the lab's faults."""
    from respond.drills.loader import check_drill, load_drill
    from respond.lab.state import FAULTS

    try:
        drill = load_drill(path, config)
    except InvalidInput as exc:
        return exc.issues or [Issue(exc.message, Location(display_path(path)))]
    return check_drill(drill, config, faults=tuple(FAULTS))


def _validate_inspection_file(path: Path, config: ProjectConfig) -> list[Issue]:
    """An inspection: its file on its own (checks, arguments, ranges, rules), then against
    the project (the runbooks and params of its rules, channels, inventory file)."""
    from respond.inspections.loader import check_inspection, load_inspection

    try:
        inspection = load_inspection(path, config)
    except InvalidInput as exc:
        return exc.issues or [Issue(exc.message, Location(display_path(path)))]
    return check_inspection(inspection, config)
