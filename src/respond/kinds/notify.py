"""notify: a message through a chain of channels (terminal, file, any apprise URL); the
first channel that accepts it ends the chain, and every attempt is recorded."""

from __future__ import annotations

from collections.abc import Sequence
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
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

# prefixed to every notice of a drill that has no channels of its own: whoever receives it
# must see at once that nothing real happened
DRILL_MARK = "【演练 DRILL】 "


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Rendered):
    message: str
    subject: str | None = None
    channels: tuple[str, ...] | None = None  # None: the default chain of respond.yaml
    required: bool = False


class NotifyKind(StepKind):
    name = "notify"
    executor = "respond.executors.notify:NotifyExecutor"
    summary = "A message to people through a fallback chain of channels."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField("message", "text", "notify: the message."),
        KindField("subject", "text", "notify: the subject line."),
        KindField(
            "channels",
            "texts",
            "notify: channel names tried in order (default: notify.default).",
            template="none",
        ),
        KindField(
            "required", "flag", "notify: fail the step when no channel accepts it.", default=False
        ),
    )
    default_timeout = 30.0
    required = (("message",),)

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Notice:
        t = env.templates
        return Notice(
            message=t.render_text(step.message, variables),
            subject=t.render_text(step.subject, variables) if step.subject else None,
            channels=env.drill_channels
            or (tuple(step.channels) if step.channels else env.default_channels),
            required=bool(step.required),
            variables=variables,
        )

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Notice)
        channels = ", ".join(rendered.channels) if rendered.channels else "default channels"
        return [f"notify ({channels}): {rendered.message}"]

    def notifications(self, result: HostResult) -> tuple[str | None, list[NotificationAttempt]]:
        return recorded_notice(result)

    def host_detail(self, step: Step, result: HostResult) -> str:
        return result.output


KIND = NotifyKind()
