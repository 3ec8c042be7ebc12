"""What a CRITICAL finding sets off (an inspection's ``on_critical`` rules): run a runbook
or open an incident and notify. Placeholder until the rules are built: takes no action."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from respond.cli import AppContext


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionTaken:
    """One rule's action: what it did (``incident`` / ``run`` / ``note`` / ``error``), the
    incident and run it touched, and a line for people."""

    rule: int  # index in on_critical
    action: str
    text: str
    incident: str | None = None
    run_id: str | None = None
    exit_code: int | None = None
    failed: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "action": self.action,
            "text": self.text,
            "incident": self.incident,
            "run_id": self.run_id,
            "exit_code": self.exit_code,
            "failed": self.failed,
            "data": self.data,
        }


def on_critical(
    app: AppContext,
    inspection: Any,
    run_id: str,
    results: Sequence[Any],
    *,
    unattended: bool,
    say: Callable[[str], None],
) -> list[ActionTaken]:
    """Take each ``on_critical`` rule's action for the CRITICAL ``results`` of the run."""
    return []
