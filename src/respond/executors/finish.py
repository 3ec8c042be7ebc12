"""finish: the run's end decided on the control host; the message goes out as a notice
too when the step names channels (a notice nobody accepts is recorded, and the run still
ends with the step's outcome)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.executors.notify import NotifyExecutor
from respond.kinds.finish import Ending
from respond.kinds.notify import Notice
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


class FinishExecutor:
    kind: ClassVar[str] = "finish"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Ending), "the finish kind renders an Ending"
        masker = self.ctx.masker
        message = masker.mask(rendered.message) if masker else rendered.message
        data: dict[str, Any] = {"outcome": rendered.outcome, "message": message}
        error = ""
        if rendered.channels:
            notice = Notice(
                message=rendered.message,
                channels=rendered.channels,
                variables=rendered.variables,
            )
            sent = NotifyExecutor(self.ctx).run(step, None, notice, timeout)
            data.update(
                {k: sent.data[k] for k in ("channel", "attempts", "subject") if k in sent.data}
            )
            error = sent.error
        return host_result(
            "localhost", StepStatus.OK, started, output=message, error=error, data=data
        )

    def close(self) -> None:
        pass
