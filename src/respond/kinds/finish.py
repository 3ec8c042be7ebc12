"""finish: end the run here with an outcome and a message in words (usually behind a
``when``); the steps after it are not run. The message is shown on the terminal, recorded,
and, given ``channels``, also sent as a notice through that fallback chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import (
    KindField,
    NotificationAttempt,
    Rendered,
    RenderEnv,
    StepKind,
    recorded_notice,
)
from respond.results import HostResult, RunOutcome

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

# A finish says what the run found; `aborted` is not among them: only a refused gate or a
# stopped run is aborted.
FINISH_OUTCOMES: tuple[str, ...] = (
    str(RunOutcome.RESOLVED),
    str(RunOutcome.NO_FAULT),
    str(RunOutcome.UNRESOLVED),
    str(RunOutcome.FAILED),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ending(Rendered):
    outcome: str
    message: str
    channels: tuple[str, ...] | None = None  # None: shown and recorded, not sent


class FinishKind(StepKind):
    name = "finish"
    executor = "respond.executors.finish:FinishExecutor"
    summary = "End the run here with an outcome and a message; later steps are not run."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "outcome",
            "text",
            "finish: how the run ends: resolved, no-fault, unresolved or failed.",
            template="none",
        ),
        KindField("message", "text", "finish: the reason in words (templated)."),
        KindField(
            "channels",
            "texts",
            "finish: also send the message as a notice through these channels, in order.",
            template="none",
        ),
    )
    default_timeout = 30.0
    result_keys = ("outcome", "message")
    required: ClassVar[tuple[tuple[str, ...], ...]] = (("outcome",), ("message",))

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        outcome = raw.get("outcome")  # a missing one is reported by `required`
        if outcome is None or outcome in FINISH_OUTCOMES:
            return []
        choices = ", ".join(FINISH_OUTCOMES)
        return [(f"'outcome' must be one of {choices}, got {outcome!r}", "outcome")]

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Ending:
        message = env.templates.render_text(step.message, variables)
        return Ending(
            outcome=str(step.outcome),
            message=message,
            channels=tuple(step.channels) if step.channels else None,
            commands=(f"finish the run: {step.outcome}: {message}",),
            variables=variables,
        )

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Ending)
        line = f"finish the run ({rendered.outcome}): {rendered.message}"
        if rendered.channels:
            line += f" — also sent via {', '.join(rendered.channels)}"
        return [line]

    def ends_run(self, result: HostResult) -> tuple[str, str] | None:
        outcome = result.data.get("outcome")
        if outcome not in FINISH_OUTCOMES:
            return None  # simulated in a drill: nothing was decided
        return str(outcome), str(result.data.get("message", ""))

    def notifications(self, result: HostResult) -> tuple[str | None, list[NotificationAttempt]]:
        return recorded_notice(result)

    def host_detail(self, step: Step, result: HostResult) -> str:
        return str(result.data.get("message", result.output))


KIND = FinishKind()
