"""manual: ask the operator (a choice or free text); the answer is recorded with who gave
it and when, and later steps can read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


@dataclass(frozen=True, slots=True, kw_only=True)
class Question(Rendered):
    prompt: str
    choices: tuple[str, ...] | None = None


class ManualKind(StepKind):
    name = "manual"
    executor = "respond.executors.manual:ManualExecutor"
    summary = "Ask the operator; the answer is recorded."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField("prompt", "text", "manual: what to ask the operator."),
        KindField("choices", "texts", "manual: the answers to choose from."),
    )
    default_timeout = 0.0  # a person answers in their own time
    control_target = "operator"
    result_keys = ("answer",)
    required = (("prompt",),)

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Question:
        return Question(
            prompt=env.templates.render_text(step.prompt, variables),
            choices=tuple(step.choices) if step.choices else None,
            variables=variables,
        )

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Question)
        choices = f" [{' / '.join(rendered.choices)}]" if rendered.choices else ""
        return [f"ask: {rendered.prompt}{choices}"]

    def host_detail(self, step: Step, result: HostResult) -> str:
        answer = result.data.get("answer")
        return f"answer: {answer}" if answer is not None else ""


KIND = ManualKind()
