"""Preparing a step for its targets, the same way for `run` and `plan` (so a plan shows
exactly what a run sends): which hosts the targets select, and the step rendered for each
target by its kind. Before a run starts, ``preflight_targets`` resolves every target
pattern that params alone decide, so a misspelled group or host stops the run before
anything is recorded instead of surfacing mid-incident."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from respond.durations import parse_duration
from respond.errors import InventoryError, Issue, RespondError, TemplateError
from respond.yamlfile import display_path

if TYPE_CHECKING:
    from respond.inventory import Host, Inventory
    from respond.kinds.base import Rendered, RenderEnv, StepKind
    from respond.runbook.model import Runbook, Step
    from respond.runbook.templating import Templates


class NoTargets(RespondError):
    """The step's targets select nothing it can act on; ``pattern`` is the rendered
    pattern when an inventory was searched (None: there was no inventory)."""

    def __init__(self, message: str, *, pattern: str | None = None) -> None:
        super().__init__(message)
        self.pattern = pattern


class BadDuration(RespondError):
    """A templated duration did not render to a duration."""


DURATION_WORDS = "expected a duration like 30s, 5m or 1h"


def resolve_durations(
    step: Step, kind: StepKind, variables: dict[str, Any], templates: Templates, label: str
) -> Step:
    """The step with its templated durations (``timeout``, ``retry_delay``, the kind's
    duration fields) rendered with ``variables`` and parsed to seconds; the step itself
    when none is templated. Raises ``BadDuration`` naming the step and the field."""
    names = ["timeout", "retry_delay", *(f.name for f in kind.fields if f.type == "duration")]
    update: dict[str, float] = {}
    for name in names:
        value = getattr(step, name, None)
        if not isinstance(value, str):
            continue
        try:
            text = templates.render_text(value, variables)
        except TemplateError as exc:
            raise BadDuration(f"{label} {name}: {exc}") from None
        try:
            update[name] = parse_duration(text)
        except ValueError:
            raise BadDuration(f"{label} {name}: {DURATION_WORDS}, got {text!r}") from None
    return step.model_copy(update=update) if update else step


@dataclass(frozen=True, slots=True)
class Targets:
    pattern: str | None  # after templating; None for a step on the control host
    hosts: tuple[Host, ...]


def select_targets(
    step: Step,
    kind: StepKind,
    variables: dict[str, Any],
    templates: Templates,
    inventory: Inventory | None,
) -> Targets:
    """The hosts a step acts on. Raises ``TemplateError`` for a broken target template and
    ``NoTargets`` when there is no inventory or the pattern matches no host."""
    if not kind.on_hosts:
        return Targets(None, ())
    pattern = templates.render_text(step.targets or "", variables)
    if inventory is None:
        raise NoTargets("no inventory given (use -i INVENTORY)")
    shown = display_path(inventory.source)
    if not pattern.strip():
        # e.g. `{{ found | join(':') }}` over an empty list: nothing to act on, which
        # `allow_empty` may accept, rather than a malformed pattern
        raise NoTargets(f"targets {step.targets!r} gave no host pattern", pattern="")
    try:
        hosts = tuple(inventory.select(pattern))
    except InventoryError as exc:
        # the pattern came from a template at run time: the step fails, the run goes on
        # as its on_failure says
        raise TemplateError(str(exc)) from None
    if not hosts:
        raise NoTargets(f"targets {pattern!r} match no host in {shown}", pattern=pattern)
    return Targets(pattern, hosts)


def target_name(kind: StepKind, hosts: Sequence[Host]) -> str:
    """The name a step that does not run per host is recorded under."""
    if kind.one_run and hosts:
        return ",".join(h.name for h in hosts)
    return kind.control_target


def render_targets(
    step: Step,
    kind: StepKind,
    hosts: Sequence[Host],
    variables_for: Callable[[Host | None], dict[str, Any]],
    env: RenderEnv,
) -> dict[str, Rendered | str]:
    """The step rendered for each target (name → ``Rendered``), or the error that stopped
    rendering for that target (a string: the target fails, the others go on)."""
    per_host = bool(hosts) and not kind.one_run
    targets: list[Host | None] = list(hosts) if per_host else [None]
    rendered: dict[str, Rendered | str] = {}
    for target in targets:
        name = target.name if target is not None else target_name(kind, hosts)
        try:
            rendered[name] = kind.render(step, variables_for(target), hosts, env)
        except (TemplateError, RespondError) as exc:
            rendered[name] = str(exc)
    return rendered


def preflight_targets(
    runbook: Runbook,
    inventory: Inventory | None,
    variables: Mapping[str, Any],
    templates: Templates,
    secret_names: frozenset[str] = frozenset(),
) -> dict[str, list[Issue]]:
    """Step id → the problems of its targets (and its wait check's) that ``variables``
    (params and built-ins, before the run) already decide: a pattern that matches no host
    or cannot be parsed. Targets that read a name the variables lack (an earlier step's
    result) are left to the run, as are steps that say ``allow_empty: true``."""
    from respond.runbook.validate import no_host_issue

    found: dict[str, list[Issue]] = {}
    if inventory is None:
        return found
    for path, step in _steps_with_targets(runbook):
        pattern = _decided_pattern(step, variables, templates)
        if pattern is None:
            continue
        try:
            hosts = inventory.select(pattern) if pattern.strip() else []
        except InventoryError as exc:
            problem = exc.issues[0].message if exc.issues else exc.message
            where = runbook.location((*path, "targets"))
            issue = Issue(f"bad target pattern {pattern!r}: {problem}", where)
            found.setdefault(step.id, []).append(issue)
            continue
        if not hosts and not step.allow_empty:
            origin = _origin(step, runbook, variables, templates, secret_names)
            issue = no_host_issue(runbook, path, pattern, inventory, origin)
            found.setdefault(step.id, []).append(issue)
    return found


def _steps_with_targets(runbook: Runbook) -> Iterator[tuple[tuple[Any, ...], Step]]:
    """Every step and wait check that acts on inventory hosts, with its field path."""
    from respond.runbook.validate import checks_of

    for i, step in enumerate(runbook.steps):
        path: tuple[Any, ...] = ("steps", i)
        for one_path, one in ((path, step), *checks_of(step, path)):
            if one.step_kind.on_hosts and one.targets:
                yield one_path, one


def _decided_pattern(step: Step, variables: Mapping[str, Any], templates: Templates) -> str | None:
    """The step's pattern when ``variables`` decide it, else None (left to the run)."""
    source = step.targets or ""
    try:
        if templates.template_names(source) - set(variables) - set(templates.env.globals):
            return None
        return templates.render_text(source, dict(variables))
    except TemplateError:
        return None  # validation names the broken template; the run fails the step


def _origin(
    step: Step,
    runbook: Runbook,
    variables: Mapping[str, Any],
    templates: Templates,
    secret_names: frozenset[str],
) -> str:
    """``from param server='app9'`` when params made the pattern."""
    read = sorted(templates.template_names(step.targets or "") & set(runbook.params))
    shown = [f"{n}={'***' if n in secret_names else variables.get(n)!r}" for n in read]
    if not shown:
        return ""
    return f"from param{'s' if len(shown) > 1 else ''} {', '.join(shown)}"
