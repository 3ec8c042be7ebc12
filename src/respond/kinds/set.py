"""set: named values computed once on the control host from Jinja expressions; each name
is a top-level variable of every later step, like a param."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind, TemplateMode
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignments(Rendered):
    """The values to compute, in order: (name, expression or a literal number/boolean)."""

    values: tuple[tuple[str, Any], ...]


class SetKind(StepKind):
    name = "set"
    executor = "respond.executors.compute:SetExecutor"
    summary = "Compute named values once; later steps read them like params."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "values",
            "mapping",
            "set: name → Jinja expression (no braces), evaluated in order on the control host; "
            "a value sees the ones before it, and every later step sees them all by name.",
            template="none",
        ),
    )
    default_timeout = 10.0
    required: ClassVar[tuple[tuple[str, ...], ...]] = (("values",),)
    pure = True

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        values = raw.get("values")
        if values is None:
            return []  # required (see `required`)
        if not isinstance(values, Mapping) or not values:
            return [
                (
                    "'values' maps names to expressions, e.g. values: {on_battery: \"'OB' in status\"}",
                    "values",
                )
            ]
        found: list[tuple[str, str | None]] = []
        for name, expression in values.items():
            # a name that is no identifier is reported at its key by validation
            if isinstance(expression, str) and not expression.strip():
                found.append((f"value {name!r} has an empty expression", "values"))
            elif not isinstance(expression, str | int | float | bool):
                found.append(
                    (
                        f"value {name!r} must be an expression written as a string, e.g. "
                        f"\"['a', 'b']\" (got {type(expression).__name__})",
                        "values",
                    )
                )
        return found

    def template_fields(self, step: Step) -> Iterator[tuple[tuple[Any, ...], str, TemplateMode]]:
        for name, expression in (step.values or {}).items():
            if isinstance(expression, str):
                yield ("values", name), expression, "value"

    def bound_names(self, step: Step) -> dict[str, tuple[Any, ...]]:
        return {str(name): ("values", name) for name in step.values or {}}

    def local_names(self, step: Step, sub: tuple[Any, ...]) -> frozenset[str]:
        if len(sub) < 2 or sub[0] != "values":
            return frozenset()
        names = list(step.values or {})
        return frozenset(names[: names.index(sub[1])]) if sub[1] in names else frozenset()

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Assignments:
        values = tuple((str(k), v) for k, v in (step.values or {}).items())
        return Assignments(values=values, variables=variables)

    def actions(self, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Assignments)
        return [f"{name} = {_literal(value)}" for name, value in rendered.values]

    def bound_values(self, result: HostResult) -> dict[str, Any]:
        if result.status is not StepStatus.OK:
            return {}
        return dict(result.data.get("values") or {})

    def restorable(self, result: HostResult) -> bool:
        return "values" in result.data and not result.data.get("masked")

    def host_detail(self, step: Step, result: HostResult) -> str:
        if step.no_log:
            return ""
        values = result.data.get("values") or {}
        return ", ".join(f"{k}={_shown(v)}" for k, v in values.items())


def _literal(value: Any) -> str:
    """A value as written in the runbook: expressions as they are, literals as Jinja reads them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


KIND = SetKind()
