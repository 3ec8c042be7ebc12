"""Checks of one runbook beyond its shape: templates, names, targets, playbooks.

Loading a runbook already checks its shape (model.py). Here come the checks that need the
template engine or other files, each returning ``list[Issue]`` and never stopping at the
first problem:

- Jinja syntax errors (and unknown filters/tests, ``raw`` on a non-literal) in every
  templated field, at that field's position;
- names a template or ``when`` reads that are not a param, an *earlier* step's register, a
  built-in or an inventory variable (a later step's register is called out as such);
- target patterns that select no host of the inventory (an error, unless the step says
  ``allow_empty: true``) or cannot be parsed;
- ansible playbooks that do not exist under ``playbooks/``.

The inventory is passed in, already loaded: this package does not import
``respond.inventory`` (tests/test_layers.py). ``respond validate``'s walk over runbook,
inventory and drill files, which loads inventories, is in ``respond.cli.validate``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import Issue, Location, TemplateError
from respond.runbook.files import file_in
from respond.runbook.templating import has_template
from respond.yamlfile import display_path

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.inventory import Inventory
    from respond.kinds.base import ClosedWords
    from respond.runbook.model import Runbook, Step
    from respond.runbook.templating import Templates

# field → how it is rendered: text, command (shell-quoted), device (CLI line), expr (no braces),
# value (no braces, and its value is recorded and shown: a set value)
Mode = str
_EXPRESSIONS = ("expr", "that", "value")


@cache
def _templates() -> Templates:
    from respond.runbook.templating import Templates

    return Templates(None)


_project_templates: dict[Path, tuple[Any, Templates]] = {}


def templates_for(root: Path | None) -> Templates:
    """The templates of the project at ``root``: with its filters (``filters/*.py``), made
    again when one of them changes; raise ``FiltersInvalid`` when they cannot load."""
    if root is None:
        return _templates()
    from respond.runbook.filters import fingerprint, project_filters
    from respond.runbook.templating import Templates

    stamp = fingerprint(root)
    held = _project_templates.get(root)
    if held is not None and held[0] == stamp:
        return held[1]
    templates = Templates(root, filters=project_filters(root))
    _project_templates[root] = (stamp, templates)
    return templates


# ---------------------------------------------------------------------------------------------
# one runbook


def templated_fields(
    step: Step, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str, Mode]]:
    """Every templated string of a step: (field path, source, mode); the kind names its own."""
    for name in ("name", "confirm", "targets", "timeout", "retry_delay"):
        value = getattr(step, name)
        if isinstance(value, str):
            yield (*path, name), value, "text"
    if step.when is not None:
        yield (*path, "when"), step.when, "expr"
    for sub, source, mode in step.step_kind.template_fields(step):
        yield (*path, *sub), source, mode
    if step.expect is not None:
        for j, value in enumerate(step.expect.that):
            yield (*path, "expect", "that", j), value, "that"


def template_issues(runbook: Runbook, root: Path | None = None) -> list[Issue]:
    """Syntax errors in every templated field (no name checks): what loading enforces.
    ``root`` is the project's folder, whose filters the templates may use."""
    return check_runbook(runbook, check_names=False, templates=templates_for(root))


def check_runbook(
    runbook: Runbook,
    *,
    inventory: Inventory | None = None,
    config: ProjectConfig | None = None,
    check_names: bool = True,
    inventory_note: str = "",
    extra_names: set[str] | frozenset[str] = frozenset(),
    templates: Templates | None = None,
) -> list[Issue]:
    """Template syntax, names, targets and playbooks of one loaded runbook.
    ``extra_names`` are variable names known without a chosen inventory (those defined by
    any inventory of the project). The templates are the project's (its filters) when
    ``config`` is given."""
    from respond.runbook.model import BUILTIN_NAMES

    if templates is None:
        templates = templates_for(config.root if config is not None else None)
    issues: list[Issue] = []
    params = set(runbook.params)
    later: dict[str, tuple[int, str]] = {}
    for i, step in enumerate(runbook.steps):
        if step.register and step.register not in later:
            later[step.register] = (i, step.id)
    setters = _value_setters(runbook)
    inventory_names = inventory.variable_names() if inventory is not None else set(extra_names)
    globals_: set[str] | None = None  # Jinja2's globals, looked up once a template needs them
    earlier: set[str] = set()

    def loc(path: tuple[Any, ...]) -> Location | None:
        return runbook.location(path)

    for i, step in enumerate(runbook.steps):
        step_path: tuple[Any, ...] = ("steps", i)
        fields = list(templated_fields(step, step_path))
        for check_path, check in checks_of(step, step_path):
            fields += list(templated_fields(check, check_path))
        for path, source, mode in fields:
            if mode not in _EXPRESSIONS and not has_template(source):
                continue
            try:
                if mode in _EXPRESSIONS:
                    names = templates.expression_names(source)
                else:
                    names = templates.template_names(source, command=mode == "command")
            except TemplateError as exc:
                for issue in exc.issues or [Issue(exc.message)]:
                    issues.append(Issue(issue.message, loc(path), field=_field(path, runbook)))
                continue
            if mode not in _EXPRESSIONS:  # a condition's value is never shown (set values: below)
                for message in templates.secret_misuse(source, runbook.secret_params):
                    issues.append(Issue(message, loc(path), field=_field(path, runbook)))
            if mode == "command":
                for message in quoted_twice(source, params, templates):
                    issues.append(
                        Issue(message, loc(path), severity="warning", field=_field(path, runbook))
                    )
            if not check_names:
                continue
            if globals_ is None:
                globals_ = set(templates.env.globals)
            known = params | earlier | BUILTIN_NAMES | inventory_names | globals_
            known |= step.step_kind.local_names(step, path[len(step_path) :])
            if mode != "that":
                known = known - {"result"}
            for name in sorted(names - known):
                if name in setters:
                    issues.append(_value_not_yet_set(name, path, setters[name], i, runbook))
                    continue
                issues.append(
                    _unknown_name(
                        name, path, loc(path), later, i, known, inventory, inventory_note, runbook
                    )
                )
        issues += _secrets_in_process_lines(runbook, step, step_path)
        issues += _secrets_in_values(runbook, step, step_path)
        if step.register:
            earlier.add(step.register)
        earlier.update(step.step_kind.bound_names(step))
        if check_names:
            issues += _target_issues(runbook, step, step_path, inventory)
            for check_path, check in checks_of(step, step_path):
                issues += _target_issues(runbook, check, check_path, inventory)
            issues += _path_issues(runbook, step, step_path, config)
            issues += _parse_template_issues(runbook, step, step_path, config)
            issues += _drill_run_issues(runbook, step, step_path)
    issues += _bound_name_issues(runbook)
    if check_names:
        issues += _closed_value_issues(runbook)
    return issues


def _drill_run_issues(runbook: Runbook, step: Step, path: tuple[Any, ...]) -> list[Issue]:
    """``drill: run`` on a gated step: destructive steps execute in a drill only against the
    lab; a simulate (or tabletop) drill records them as simulated whatever the step says."""
    if step.drill != "run" or not step.gated:
        return []
    return [
        Issue(
            "runs only in lab drills: outside lab mode a gated step is always simulated",
            runbook.location((*path, "drill")),
            severity="warning",
            field=_field((*path, "drill"), runbook),
        )
    ]


def _parse_template_issues(
    runbook: Runbook, step: Step, path: tuple[Any, ...], config: ProjectConfig | None
) -> list[Issue]:
    """``parse: {textfsm: FILE}``: FILE must be a file inside the project."""
    spec = step.parse
    if config is None or not isinstance(spec, dict) or "textfsm" not in spec:
        return []
    name = str(spec["textfsm"])
    problem = file_in(config.root, name)[1]
    if problem == "outside":
        message = f"textfsm template {name!r} must be a path in the project"
    elif problem == "missing":
        message = f"textfsm template {name!r} not found in the project"
    else:
        return []
    where = (*path, "parse", "textfsm")
    return [Issue(message, runbook.location(where), field=_field((*path, "parse"), runbook))]


_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'""")
_HIDDEN = re.compile(r"\x00(\d+)\x00")


def quoted_twice(source: str, params: set[str], templates: Templates) -> list[str]:
    """A param inside quotes in a shell command (``"{{ query }}"``): params are quoted
    already, so the command would get the quotes too (``"'SELECT 1'"``), one message each."""
    blocks: list[str] = []

    def hide(match: re.Match[str]) -> str:
        blocks.append(match.group(0))
        return f"\x00{len(blocks) - 1}\x00"

    hidden = _JINJA_BLOCK.sub(hide, source)
    found: list[str] = []
    for quoted in _QUOTED.finditer(hidden):
        inner = [blocks[int(m.group(1))] for m in _HIDDEN.finditer(quoted.group(0))]
        if not any(_reads_param(block, params, templates) for block in inner):
            continue
        shown = _HIDDEN.sub(lambda m: blocks[int(m.group(1))], quoted.group(0))
        found.append(
            f"{shown} is quoted twice (params are shell-quoted already): write {shown[1:-1]}"
        )
    return found


def _reads_param(block: str, params: set[str], templates: Templates) -> bool:
    if not block.startswith("{{") or "raw" in block:
        return False  # a statement, or a literal kept unquoted with `raw`
    try:
        names = templates.template_names(block)
    except TemplateError:
        return False
    return bool(names & params) or "params" in names


def _secrets_in_process_lines(runbook: Runbook, step: Step, path: tuple[Any, ...]) -> list[Issue]:
    """A secret param in the command line of a process on the control host: every user
    of the machine can read it there (ps), so it must go through the step's ``env``."""
    secrets = runbook.secret_params
    if not secrets:
        return []
    issues: list[Issue] = []
    for one_path, one in ((path, step), *checks_of(step, path)):
        kind = one.step_kind
        for sub, source, _mode in kind.template_fields(one):
            if sub[0] not in kind.process_fields or not has_template(source):
                continue
            try:
                names = _templates().template_names(source)
            except TemplateError:
                continue  # reported as a syntax error
            read = names & secrets
            if "params" in names:  # params.NAME or params['NAME']
                read |= {name for name in secrets if name in source}
            for name in sorted(read):
                field_path = (*one_path, *sub)
                issues.append(
                    Issue(
                        f"secret param {name!r} would be visible to every user of this machine "
                        "in the program's command line (ps); hand it over in env: "
                        f"(e.g. env: {{TOKEN: '{{{{ {name} }}}}'}}) for the program to read",
                        runbook.location(field_path),
                        field=_field(field_path, runbook),
                    )
                )
    return issues


def _secrets_in_values(runbook: Runbook, step: Step, path: tuple[Any, ...]) -> list[Issue]:
    """An expression whose value is recorded and shown (a set value) may use a secret param
    only in ways the masker can follow, as a template may."""
    if not runbook.secret_params:
        return []
    issues: list[Issue] = []
    for sub, source, mode in step.step_kind.template_fields(step):
        if mode != "value":
            continue
        field_path = (*path, *sub)
        for message in _templates().secret_misuse("{{ " + source + " }}", runbook.secret_params):
            issues.append(
                Issue(message, runbook.location(field_path), field=_field(field_path, runbook))
            )
    return issues


def params_in_commands(runbook: Runbook) -> dict[str, list[str]]:
    """Param name → ids of the steps whose command words (a kind's ``argument_fields``)
    read it; a template reading the whole ``params`` mapping counts for every param."""
    templates = _templates()
    found: dict[str, list[str]] = {}
    for step in runbook.steps:
        for one in (step, *(check for _, check in checks_of(step, ()))):
            kind = one.step_kind
            for sub, source, _mode in kind.template_fields(one):
                if sub[0] not in kind.argument_fields or not has_template(source):
                    continue
                try:
                    # the project's filters are not at hand here, and need not be: only
                    # the names matter
                    names = templates.template_names(source, filters=False)
                except TemplateError:
                    continue  # reported by validation; the run refuses it before this matters
                read = set(runbook.params) if "params" in names else names & set(runbook.params)
                for name in sorted(read):
                    ids = found.setdefault(name, [])
                    if step.id not in ids:
                        ids.append(step.id)
    return found


def _field(path: tuple[Any, ...], runbook: Runbook) -> str:
    from respond.runbook.model import field_name

    return field_name(path, runbook)


def _unknown_name(
    name: str,
    path: tuple[Any, ...],
    where: Location | None,
    registers: dict[str, tuple[int, str]],
    index: int,
    known: set[str],
    inventory: Inventory | None,
    inventory_note: str,
    runbook: Runbook,
) -> Issue:
    if name in registers:
        j, sid = registers[name]
        if j == index:
            msg = f"{name!r} is registered by this step itself; use 'result' in expect.that, or a later step"
        else:
            msg = (
                f"{name!r} is registered by a later step, step {j + 1} ({sid}); "
                "a step can only use results of earlier steps"
            )
        return Issue(msg, where, field=_field(path, runbook))
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
    return Issue(msg, where, field=_field(path, runbook))


def _target_issues(
    runbook: Runbook, step: Step, path: tuple[Any, ...], inventory: Inventory | None
) -> list[Issue]:
    if inventory is None or not step.targets or has_template(step.targets):
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
                field=_field((*path, "targets"), runbook),
            )
        ]
    if not hosts and not step.allow_empty:
        return [no_host_issue(runbook, path, step.targets, inventory)]
    return [
        Issue(
            message,
            _key_location(runbook, (*path, name)),
            severity="warning",
            field=_field((*path, name), runbook),
        )
        for host in hosts
        for message, name in step.step_kind.host_issues(step, host)
    ]


def no_host_issue(
    runbook: Runbook,
    path: tuple[Any, ...],
    pattern: str,
    inventory: Inventory,
    origin: str = "",
) -> Issue:
    """``step N (id) targets 'PATTERN' match no host in INVENTORY`` at the step's targets
    (``path`` is the step's, or a wait check's, field path); ``origin`` says which params
    made the pattern. The same words in validate, plan and run."""
    from respond.runbook.model import field_name

    where = field_name(path, runbook)  # step 2 (probe), or step 2 (probe) check
    message = f"{where} targets {pattern!r} match no host in {display_path(inventory.source)}"
    return Issue(message + (f" ({origin})" if origin else ""), runbook.location((*path, "targets")))


def checks_of(step: Step, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Step]]:
    """The inline steps a step polls, with their field paths."""
    out = []
    for spec in step.step_kind.fields:
        check = getattr(step, spec.name) if spec.type == "check" else None
        if check is not None:
            out.append(((*path, spec.name), check))
    return out


def _path_issues(
    runbook: Runbook, step: Step, path: tuple[Any, ...], config: ProjectConfig | None
) -> list[Issue]:
    """Fields naming a file that must stay under a project folder (e.g. a playbook)."""
    if config is None:
        return []
    issues: list[Issue] = []
    for spec in step.step_kind.fields:
        value = getattr(step, spec.name)
        if spec.under is None or not isinstance(value, str) or has_template(value):
            continue
        folder = config.folder(spec.under)
        where = runbook.location((*path, spec.name))
        problem = file_in(folder, value)[1]
        if problem == "outside":
            message = f"{spec.name} {value!r} must be a path under {spec.under}/"
        elif problem == "missing":
            message = f"{spec.name} {value!r} not found in {display_path(folder)}/"
        else:
            continue
        issues.append(Issue(message, where, field=_field((*path, spec.name), runbook)))
    return issues


# ---------------------------------------------------------------------------------------------
# names a step binds for later steps (set) and words a step fixes (decide)


def _value_setters(runbook: Runbook) -> dict[str, tuple[int, str]]:
    """Name → (index, id) of the first step that binds it as a top-level variable."""
    found: dict[str, tuple[int, str]] = {}
    for i, step in enumerate(runbook.steps):
        for name in step.step_kind.bound_names(step):
            found.setdefault(name, (i, step.id))
    return found


def _value_not_yet_set(
    name: str, path: tuple[Any, ...], setter: tuple[int, str], index: int, runbook: Runbook
) -> Issue:
    from respond.runbook.model import step_label

    j, sid = setter
    if j == index:
        msg = (
            f"{name!r} is set by this step itself and cannot be read here (a value reads only "
            "the values written before it; later steps read them all)"
        )
    else:
        msg = (
            f"{name!r} is set by a later step, {step_label(j + 1, sid)}; "
            "a step can only use values set by earlier steps"
        )
    return Issue(msg, runbook.location(path), field=_field(path, runbook))


def _bound_name_issues(runbook: Runbook) -> list[Issue]:
    """A name a step binds may not shadow a param, a built-in, a register name or a name
    another step binds: one of the two would silently hide the other."""
    from respond.runbook.model import BUILTIN_NAMES, IDENT, step_label

    registers: dict[str, int] = {}
    for i, step in enumerate(runbook.steps):
        if step.register:
            registers.setdefault(step.register, i)
    bound: dict[str, int] = {}
    issues: list[Issue] = []
    for i, step in enumerate(runbook.steps):
        for name, sub in step.step_kind.bound_names(step).items():
            if not IDENT.match(name):
                problem = "is not a plain identifier (letters, digits, _)"
            elif name in runbook.params:
                problem = "is also a param"
            elif name in BUILTIN_NAMES:
                problem = "is a built-in template name"
            elif name in registers:
                j = registers[name]
                problem = f"is also the register name of {step_label(j + 1, runbook.steps[j].id)}"
            elif name in bound:
                j = bound[name]
                problem = f"is already set by {step_label(j + 1, runbook.steps[j].id)}"
            else:
                bound[name] = i
                continue
            path = ("steps", i, *sub)
            issues.append(
                Issue(
                    f"value name {name!r} {problem}; choose another",
                    _key_location(runbook, path),
                    field=_field(path, runbook),
                )
            )
    return issues


def _key_location(runbook: Runbook, path: tuple[Any, ...]) -> Location | None:
    """Where the key at ``path`` is written (else where its value is)."""
    positions = runbook._positions
    where = positions.key(path) if positions is not None else None
    return where or runbook.location(path)


def _closed_value_issues(runbook: Runbook) -> list[Issue]:
    """Warnings for a later comparison of a result key whose words the runbook fixes
    (``diag.verdict == 'no-faults'``) with a word its step never gives."""
    closed: dict[str, tuple[int, Step, dict[str, ClosedWords]]] = {}
    issues: list[Issue] = []
    for i, step in enumerate(runbook.steps):
        step_path: tuple[Any, ...] = ("steps", i)
        if closed:
            fields = list(templated_fields(step, step_path))
            for check_path, check in checks_of(step, step_path):
                fields += list(templated_fields(check, check_path))
            for path, source, mode in fields:
                issues += _word_issues(runbook, path, source, mode, closed)
        if step.register:
            words = step.step_kind.closed_values(step)
            if words:
                closed[step.register] = (i, step, words)
            else:
                closed.pop(step.register, None)  # the name now holds another step's result
    return issues


def _word_issues(
    runbook: Runbook,
    path: tuple[Any, ...],
    source: str,
    mode: Mode,
    closed: dict[str, tuple[int, Step, dict[str, ClosedWords]]],
) -> list[Issue]:
    from respond.runbook.model import step_label

    expression = mode in _EXPRESSIONS
    if not expression and not has_template(source):
        return []
    issues: list[Issue] = []
    for c in _templates().compared_words(source, closed, expression=expression):
        j, setter, keys = closed[c.name]
        fixed = keys.get(c.key)
        if fixed is None or c.word in fixed.words or (c.member and not fixed.many):
            continue
        close = difflib.get_close_matches(c.word, fixed.words, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        never = f"never in {c.name}.{c.key}" if fixed.many else f"never {c.name}.{c.key}"
        issues.append(
            Issue(
                f"{c.word!r} is {never}{hint}: {step_label(j + 1, setter.id)} gives only "
                f"{', '.join(fixed.words)}",
                runbook.location(path),
                severity="warning",
                field=_field(path, runbook),
            )
        )
    return issues
