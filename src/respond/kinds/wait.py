"""wait: poll a check (an inline ssh/local/http/netmiko/check step) every ``interval`` until it
passes or ``timeout`` runs out; without a check, a plain pause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


@dataclass(frozen=True, slots=True, kw_only=True)
class Poll(Rendered):
    interval: float
    pause: float  # without a check: how long to wait
    check: Step | None = None  # rendered per attempt, with the variables of the wait step


class WaitKind(StepKind):
    name = "wait"
    executor = "respond.executors.wait:WaitExecutor"
    summary = "Wait until a check passes (or a plain pause)."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "check",
            "check",
            "wait: the step (without id) polled until it succeeds.",
            template="none",
        ),
        KindField("interval", "duration", "wait: time between checks.", default=10.0),
    )
    default_timeout = 600.0
    result_keys = ("http_status", "body", "latency", "json")  # from the check that passed
    required = (("timeout",),)  # the total limit: a wait without one could last forever

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Poll:
        interval = float(step.interval or 10.0)
        return Poll(
            interval=interval,
            pause=float(step.timeout) if step.timeout else interval,
            check=step.check,
            variables=variables,
        )

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Poll)
        if rendered.check is None:
            return [f"pause {rendered.pause:g}s"]
        return [
            f"every {rendered.interval:g}s until a {rendered.check.kind} check passes "
            f"(at most {step.timeout or self.default_timeout:g}s)"
        ]


KIND = WaitKind()
