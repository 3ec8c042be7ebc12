"""The seam between the engine and the step kinds.

The engine owns ordering, conditions, retries, gates, fan-out and the record. An executor
only does one step on one target and reports what happened as a ``HostResult``; it never
raises for an expected failure (refused login, timeout, non-zero exit): those are data.
It translates its library's exceptions at its own boundary and imports its library
lazily, inside the method that first connects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from respond.kinds.base import Rendered as Rendered  # re-exported for executors
from respond.results import CommandResult, ConfigSnapshot, HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step
    from respond.runbook.templating import Templates
    from respond.secrets import Masker


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class RunContext:
    """What every executor may use during one run. Shared across threads: read-only but
    for ``cancel`` (set on Ctrl-C) and the executors' own connection caches."""

    run_id: str
    project_root: Path
    playbooks_dir: Path
    home: Path
    inventory_path: Path | None = None
    known_hosts: tuple[Path, ...] = ()
    drill: bool = False
    # a drill's own channels (its `notify:`): every notice of the drill goes there instead
    # of the runbook's; without them each notice is marked as a drill's
    drill_channels: tuple[str, ...] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    # ask(step, text, choices) -> answer; raises GateRefused when unattended with no answer.
    ask: Callable[[str, str, list[str] | None], str] | None = None
    # emit a human progress line (terminal observer); never used for the record.
    progress: Callable[[str], None] | None = None
    secrets: tuple[str, ...] = ()
    notify_file: Path | None = None
    # respond.yaml's notification channels (name → spec), for the notify kind
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # renders channel URLs with the run's variables (notify); set by the CLI
    templates: Templates | None = None
    masker: Masker | None = None
    # runs a wait step's check once, like a step of its own: set by the engine
    run_check: Callable[[Step, Mapping[str, Any], float], HostResult] | None = None


class Executor(Protocol):
    """One step kind. Subclassing is not needed: match this shape."""

    kind: ClassVar[str]

    def __init__(self, ctx: RunContext) -> None: ...

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        """Do the step once on one target within ``timeout`` seconds; never raise for
        failures of the target (return a failed/timed_out HostResult instead)."""
        ...

    def close(self) -> None:
        """Release connections at the end of the run."""
        ...


def host_result(
    host: str,
    status: StepStatus,
    started: datetime,
    *,
    commands: tuple[CommandResult, ...] = (),
    output: str = "",
    error: str = "",
    changed: bool = False,
    data: dict[str, Any] | None = None,
    artifacts: tuple[str, ...] = (),
    not_started: bool = False,
    config: ConfigSnapshot | None = None,
) -> HostResult:
    return HostResult(
        host=host,
        status=status,
        started_at=started,
        ended_at=utcnow(),
        commands=commands,
        output=output,
        error=error,
        changed=changed,
        data=data or {},
        artifacts=artifacts,
        not_started=not_started,
        config=config,
    )
