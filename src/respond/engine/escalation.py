"""Escalation: the severity clock's decision made real. An escalation is recorded, announced
to observers and told to people through the ``notify.escalation`` chain of respond.yaml
(else the default chain); each channel tried is recorded, and a notice that cannot be sent
never stops the run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from respond import kinds
from respond.events import EventDraft, EventKind
from respond.kinds.notify import Notice

if TYPE_CHECKING:
    from respond.engine.journal import Journal
    from respond.engine.observer import Observers
    from respond.executors.base import Executor
    from respond.policy import SeverityClock
    from respond.runbook.model import Runbook, Step


class Escalations:
    def __init__(
        self,
        *,
        runbook: Runbook,
        run_id: str,
        clock: SeverityClock,
        journal: Journal,
        observers: Observers,
        executor_for: Callable[[str], Executor],
        channels: Sequence[str] | None,
    ) -> None:
        self.runbook = runbook
        self.run_id = run_id
        self.clock = clock
        self.journal = journal
        self.observers = observers
        self.executor_for = executor_for
        self.channels = tuple(channels) if channels else None

    def escalate(
        self,
        reason: str,
        *,
        automatic: bool,
        step_id: str | None,
        variables: Mapping[str, Any],
    ) -> None:
        """One level up: recorded, announced, and told to people."""
        masker = self.journal.masker
        old, new = self.clock.escalate()
        self.journal.record(
            EventDraft(
                kind=EventKind.ESCALATED,
                actor="respond" if automatic else self.journal.operator,
                data={
                    "from": old,
                    "to": new,
                    "reason": masker.mask(reason),
                    "automatic": automatic,
                    "clock": self.clock.limits(),
                },
            )
        )
        self.observers.severity_changed(old, new, reason)
        self._notify(old, new, reason, step_id, variables)

    def _notify(
        self, old: int, new: int, reason: str, step_id: str | None, variables: Mapping[str, Any]
    ) -> None:
        masker = self.journal.masker
        subject = f"[respond] {self.runbook.id}: severity {old} → {new}"
        notice = Notice(
            message=(
                f"{self.runbook.title}: escalated from level {old} to level {new} "
                f"(run {self.run_id}): {masker.mask(reason)}"
            ),
            subject=subject,
            channels=self.channels,
            required=False,
            variables=variables,
        )
        notify = kinds.get("notify")
        try:
            hr = self.executor_for("notify").run(
                escalation_step(), None, notice, notify.default_timeout
            )
        except Exception as exc:  # a notice that cannot be sent is recorded, never fatal
            self.journal.record(
                EventDraft(
                    kind=EventKind.NOTIFICATION_FAILED,
                    step_id=step_id,
                    data={"channel": None, "error": masker.mask(str(exc)), "subject": subject},
                )
            )
            return
        sent_subject, attempts = notify.notifications(hr)
        if attempts:
            self.journal.record(
                *self.journal.notifications(step_id, sent_subject, attempts, escalation=True)
            )


@cache
def escalation_step() -> Step:
    """The step an escalation notice is sent as (it is in no runbook)."""
    from respond.runbook.model import Step

    return Step.model_validate(
        {"id": "escalation", "name": "escalation notice", "kind": "notify", "message": ""}
    )
