"""Statuses and result objects: failure is data, not an exception (STYLE rule 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    """Outcome of one step on one target.

    pending → running → ok | failed | timed_out | unknown | cancelled; or pending → skipped.
    ``unknown`` means the intent was recorded but no result (a crash mid-action).
    ``simulated`` is a drill step that was recorded but never sent to a host.
    """

    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"
    SIMULATED = "simulated"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def is_failure(self) -> bool:
        return self in (StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.UNKNOWN)


class RunStatus(StrEnum):
    """running → succeeded | failed | aborted | interrupted; interrupted → running (resume)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    INTERRUPTED = "interrupted"

    @property
    def exit_code(self) -> int:
        return {
            RunStatus.SUCCEEDED: 0,
            RunStatus.FAILED: 1,
            RunStatus.ABORTED: 3,
            RunStatus.INTERRUPTED: 130,
            RunStatus.RUNNING: 1,
        }[self]


class RunOutcome(StrEnum):
    """What a finished run means for the incident, in the words a report counts.

    ``resolved``: every step done (or a ``finish`` said so); ``no-fault``: nothing was wrong;
    ``unresolved``: work is left for people or a vendor; ``aborted``: a gate was refused or
    the run was stopped; ``failed``: a step failed and stopped the run.
    """

    RESOLVED = "resolved"
    NO_FAULT = "no-fault"
    UNRESOLVED = "unresolved"
    ABORTED = "aborted"
    FAILED = "failed"

    @property
    def run_status(self) -> RunStatus:
        """The status (and so the exit code) a ``finish`` step with this outcome gives."""
        if self in (RunOutcome.RESOLVED, RunOutcome.NO_FAULT):
            return RunStatus.SUCCEEDED
        if self is RunOutcome.ABORTED:
            return RunStatus.ABORTED
        return RunStatus.FAILED

    @property
    def headline(self) -> str:
        """The outcome in words, as the terminal's last lines say it."""
        return {
            RunOutcome.RESOLVED: "RESOLVED",
            RunOutcome.NO_FAULT: "NO FAULT FOUND",
            RunOutcome.UNRESOLVED: "UNRESOLVED",
            RunOutcome.ABORTED: "ABORTED",
            RunOutcome.FAILED: "FAILED",
        }[self]


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What one command on one target produced."""

    command: str
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    parsed: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostResult:
    """One step on one target (``host`` is ``"localhost"`` for local kinds)."""

    host: str
    status: StepStatus
    started_at: datetime
    ended_at: datetime
    commands: tuple[CommandResult, ...] = ()
    output: str = ""
    error: str = ""
    changed: bool = False
    attempts: int = 1
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    # Known not to have run anything on the target (refused connection, failed login,
    # rejected host key, never started): safe to try again, unlike a failure after sending.
    not_started: bool = False
    # netmiko `config` steps: the running configuration before and after
    config: ConfigSnapshot | None = None

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def rc(self) -> int | None:
        return self.commands[-1].exit_code if self.commands else None


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    """A device's running configuration read before and after a configuration change."""

    command: str  # what printed it: "show running-config", "display current-configuration"
    before: str
    after: str  # "" when it could not be read after the change


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    step_id: str
    status: StepStatus
    hosts: tuple[HostResult, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None
    message: str = ""

    @property
    def ok_count(self) -> int:
        return sum(1 for h in self.hosts if h.status is StepStatus.OK)

    @property
    def failed_count(self) -> int:
        return sum(1 for h in self.hosts if h.status.is_failure)

    @property
    def duration_s(self) -> float:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    run_id: str
    status: RunStatus
    steps: tuple[StepResult, ...] = ()
    message: str = ""
    outcome: RunOutcome = RunOutcome.RESOLVED
    reason: str = ""  # one line, masked: why the run ended with its outcome
    elapsed_s: float = 0.0
