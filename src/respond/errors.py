"""The one exception tree of respond, plus source locations and validation issues.

Every user-facing error is a ``RespondError`` subclass carrying the exit code that the CLI
maps it to (docs/cli.md lists them): 1 failed, 2 bad input, 3 aborted at a gate, 4 held by
another process, 130 interrupted. Library code raises; only the CLI exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a user-written file; line and column are 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{max(self.column, 1)}"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a user-written file: ``path:line:col: error: message``."""

    message: str
    location: Location | None = None
    severity: Literal["error", "warning"] = "error"
    field: str = ""  # where in the file, for people: ``step 3 (probe) timeout`` (field_name)

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}{self.severity}: {what}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class RespondError(Exception):
    """Root of all errors respond reports to a user."""

    exit_code: int = 1

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(RespondError):
    """The command line was wrong."""

    exit_code = 2


class ConfigError(RespondError):
    """respond.yaml is missing or wrong, or RESPOND_HOME is unusable."""

    exit_code = 2


class InvalidInput(RespondError):
    """A user-written file has problems; carries every issue found, not just the first."""

    exit_code = 2

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues: list[Issue] = list(issues or [])

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        return "\n".join(str(i) for i in self.issues)


class RunbookError(InvalidInput):
    """A runbook could not be loaded."""


class RunbookNotFound(RunbookError):
    def __init__(self, name: str, known: list[str] | None = None) -> None:
        msg = f"no runbook named {name!r}"
        if known:
            msg += f" (known: {', '.join(sorted(known))})"
        super().__init__(msg)


class RunbookInvalid(RunbookError):
    """A runbook failed validation."""


class InventoryError(InvalidInput):
    """An inventory could not be loaded or a host pattern is wrong."""


class TemplateError(InvalidInput):
    """A template failed to render (undefined name, syntax error, sandbox violation)."""


class ExecutorError(RespondError):
    """A step kind could not do its work on a target."""


class UnknownStepKind(ExecutorError):
    exit_code = 2


class ExecutorUnavailable(ExecutorError):
    """The library a step kind needs is not installed."""

    exit_code = 2


class ConnectionFailed(ExecutorError):
    """The target could not be reached (refused, unreachable, DNS, banner timeout)."""


class AuthenticationFailed(ExecutorError):
    """The target refused our credentials."""


class HostKeyRejected(ExecutorError):
    """The target's host key is unknown or changed; never auto-accepted."""


class StepTimeout(ExecutorError, TimeoutError):
    """A command or connection exceeded respond's own deadline."""


class TimelineError(RespondError):
    """The record store failed or is unusable."""


class UnknownRun(TimelineError):
    exit_code = 2


class RunLocked(TimelineError):
    """Another live process drives this run."""

    exit_code = 4


class RecordTampered(TimelineError):
    """A run's record fails verification (or its stored runbook differs from the one it
    announced): nothing is done from it."""

    exit_code = 1


class LockLost(RunLocked):
    """This process no longer holds its run: another took it over (``--steal``, or after a
    missed heartbeat). Nothing more may be recorded or done for the run by this process."""


class RecordUnwritable(TimelineError):
    """Results could not be made durable after retrying: the run stops (resumable) rather
    than act further with results that are not on disk."""

    exit_code = 130


class GateRefused(RespondError):
    """An operator (or unattended mode) refused a gate or could not answer a prompt."""

    exit_code = 3


class RunInterrupted(RespondError):
    exit_code = 130


class DrillError(InvalidInput):
    """A drill definition is wrong."""


class InspectionError(InvalidInput):
    """An inspection definition that is unknown or does not load (exit 2)."""


class LabError(RespondError):
    """The embedded lab could not be started, found or changed."""
