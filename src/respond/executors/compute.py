"""set and decide: expressions evaluated on the control host with the step's variables.

Nothing is sent anywhere. A value that cannot be computed (an undefined name, a failed
conversion) fails the target with the value's name (or the rule's number) in the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from respond.errors import TemplateError
from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.decide import Decision
from respond.kinds.set import Assignments
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step
    from respond.runbook.templating import Templates


class _Computing:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def templates(self) -> Templates:
        if self.ctx.templates is None:
            from respond.runbook.templating import Templates

            self.ctx.templates = Templates(self.ctx.project_root)
        return self.ctx.templates

    def close(self) -> None:
        pass


class SetExecutor(_Computing):
    kind: ClassVar[str] = "set"

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Assignments), "the set kind renders Assignments"
        scope = dict(rendered.variables)
        values: dict[str, Any] = {}
        for name, expression in rendered.values:
            if isinstance(expression, str):
                try:
                    value = plain(self.templates.evaluate(expression, scope))
                except TemplateError as exc:
                    return host_result(
                        "localhost",
                        StepStatus.FAILED,
                        started,
                        error=f"value {name!r}: {exc.message}",
                        data={"values": values},
                    )
            else:
                value = expression  # a number or true/false written as it is
            values[name] = scope[name] = value
        data: dict[str, Any] = {"values": values}
        masked = self._masked(values)
        if masked:
            data["masked"] = masked  # the record keeps these masked: resume computes them again
        return host_result("localhost", StepStatus.OK, started, data=data)

    def _masked(self, values: dict[str, Any]) -> list[str]:
        """The names of the values that hold a secret (the record keeps them masked)."""
        masker = self.ctx.masker
        if masker is None:
            return []
        return [name for name, value in values.items() if masker.mask(value) != value]


class DecideExecutor(_Computing):
    kind: ClassVar[str] = "decide"

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Decision), "the decide kind renders a Decision"
        variables = rendered.variables
        verdicts: list[str] = []
        messages: list[str] = []
        for number, rule in enumerate(rendered.rules, start=1):
            label = f"rule {number}" if rule.when is not None else "otherwise"
            try:
                if rule.when is not None and not self.templates.evaluate(rule.when, variables):
                    continue
                if rule.when is None and verdicts:
                    break
                message = self.templates.render_text(rule.message, variables)
            except TemplateError as exc:
                return host_result(
                    "localhost",
                    StepStatus.FAILED,
                    started,
                    error=f"{label} ({rule.verdict}): {exc.message}",
                )
            verdicts.append(rule.verdict)
            messages.append(message)
        data = {
            "verdict": verdicts[0],
            "message": messages[0],
            "verdicts": verdicts,
            "messages": messages,
        }
        return host_result(
            "localhost", StepStatus.OK, started, output=f"{verdicts[0]}: {messages[0]}", data=data
        )


def plain(value: Any) -> Any:
    """A computed value as plain data (str, number, bool, None, list, dict): what the record
    keeps and `respond resume` restores, so a resumed run sees the same value. A generator
    from a filter (``select``, ``map``) becomes the list it yields."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value)  # Markup and other str subclasses become plain text
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [plain(v) for v in value]
    return str(value)
