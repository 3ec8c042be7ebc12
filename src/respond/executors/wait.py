"""wait: re-run a check every ``interval`` until it passes or ``timeout`` runs out.

Without a ``check`` it is a plain pause of ``timeout`` seconds (or ``interval`` when no
timeout is given). Ctrl-C ends the wait at once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.wait import Poll
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


class WaitExecutor:
    kind: ClassVar[str] = "wait"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Poll), "the wait kind renders a Poll"
        interval = rendered.interval
        check = rendered.check
        if check is None:
            pause = rendered.pause
            if self.ctx.cancel.wait(pause):
                return host_result("localhost", StepStatus.CANCELLED, started, error="interrupted")
            return host_result("localhost", StepStatus.OK, started, output=f"waited {pause:g}s")
        run_check = self.ctx.run_check
        if run_check is None:
            return host_result(
                "localhost", StepStatus.FAILED, started, error="no engine to run the check"
            )
        deadline = time.monotonic() + timeout
        checks = 0
        last_error = ""
        progress = self.ctx.progress
        while True:
            checks += 1
            remaining = max(deadline - time.monotonic(), 0.5)
            result: HostResult = run_check(check, dict(rendered.variables), remaining)
            if result.status is StepStatus.OK:
                return host_result(
                    "localhost",
                    StepStatus.OK,
                    started,
                    commands=result.commands,
                    output=result.output or f"check passed after {checks} attempt(s)",
                    data={
                        "checks": checks,
                        **{k: v for k, v in result.data.items() if k != "hosts"},
                    },
                )
            last_error = result.error or str(result.status)
            if progress is not None:
                progress(f"waiting for {step.id}: check {checks} not yet passing ({last_error})")
            if time.monotonic() + interval > deadline:
                return host_result(
                    "localhost",
                    StepStatus.TIMED_OUT,
                    started,
                    commands=result.commands,
                    error=f"still not passing after {checks} check(s) in {timeout:g}s: {last_error}",
                    data={"checks": checks},
                )
            if self.ctx.cancel.wait(interval):
                return host_result("localhost", StepStatus.CANCELLED, started, error="interrupted")

    def close(self) -> None:
        pass
