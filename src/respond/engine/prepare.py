"""Preparing a step for its targets, the same way for `run` and `plan` (so a plan shows
exactly what a run sends): which hosts the targets select, and the step rendered for each
target by its kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from respond.errors import RespondError, TemplateError

if TYPE_CHECKING:
    from respond.inventory import Host, Inventory
    from respond.kinds.base import Rendered, RenderEnv, StepKind
    from respond.runbook.model import Step
    from respond.runbook.templating import Templates


class NoTargets(RespondError):
    """The step's targets select nothing it can act on."""


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
    hosts = tuple(inventory.select(pattern))
    if not hosts:
        raise NoTargets(f"target pattern {pattern!r} matches no host in the inventory")
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
