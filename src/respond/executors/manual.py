"""manual: ask the operator to do or observe something; record the answer verbatim."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.manual import Question
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


class ManualExecutor:
    kind: ClassVar[str] = "manual"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        if self.ctx.ask is None:
            return host_result(
                "operator", StepStatus.FAILED, started, error="no way to ask the operator"
            )
        assert isinstance(rendered, Question), "the manual kind renders a Question"
        choices = list(rendered.choices) if rendered.choices else None
        answer = self.ctx.ask(step.id, rendered.prompt, choices)
        return host_result(
            "operator", StepStatus.OK, started, output=answer, data={"answer": answer}
        )

    def close(self) -> None:
        pass
