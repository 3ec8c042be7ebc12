"""Engine tests drive real runbooks, a real inventory and the real SQLite journal, with
the remote step kinds replaced by in-process fakes (no network in unit tests)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from respond.executors.base import host_result, utcnow
from respond.results import CommandResult, StepStatus


class FakeShell:
    """Stands in for the ssh kind: ``fail-on HOST`` fails there, ``sleep N`` sleeps,
    ``flaky`` fails the first time per host (exit 1: it ran), ``unreachable-first`` cannot
    connect the first time per host (nothing ran), ``lost-first`` loses the connection
    mid-command the first time per host (outcome unknown), ``fail-once-on HOST`` fails there
    the first time only, anything else echoes."""

    kind: ClassVar[str] = "ssh"
    calls: ClassVar[list[tuple[str, str]]] = []
    lock = threading.Lock()
    flaky_seen: ClassVar[set[tuple[str, str]]] = set()

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def run(self, step: Any, host: Any, rendered: Any, timeout: float) -> Any:
        started = utcnow()
        results = []
        for command in rendered.commands:
            with self.lock:
                FakeShell.calls.append((host.name, command))
            rc, out = 0, f"{host.name}: {command}"
            if command.startswith("fail-once-on") and host.name in command.split()[1:]:
                if self._first(host.name, command):
                    rc, out = 1, "boom"
            elif command.startswith("fail-on ") and host.name in command.split()[1:]:
                rc, out = 1, "boom"
            elif command.startswith("sleep"):
                seconds = float(command.split()[1])
                if self.ctx.cancel.wait(min(seconds, timeout)):
                    return host_result(
                        host.name, StepStatus.CANCELLED, started, error="interrupted"
                    )
                if seconds > timeout:
                    return host_result(
                        host.name,
                        StepStatus.TIMED_OUT,
                        started,
                        error=f"timed out after {timeout}s",
                    )
            elif command == "flaky":
                rc = 1 if self._first(host.name, command) else 0
            elif command == "unreachable-first" and self._first(host.name, command):
                return host_result(
                    host.name,
                    StepStatus.FAILED,
                    started,
                    error="cannot connect: Connection refused",
                    not_started=True,
                )
            elif command == "lost-first" and self._first(host.name, command):
                return host_result(
                    host.name, StepStatus.UNKNOWN, started, error="connection lost mid-command"
                )
            results.append(
                CommandResult(command=command, exit_code=rc, stdout=out, duration_s=0.001)
            )
            if rc != 0:
                break
        return host_result(host.name, StepStatus.OK, started, commands=tuple(results))

    def _first(self, host: str, command: str) -> bool:
        with self.lock:
            first = (host, command) not in FakeShell.flaky_seen
            FakeShell.flaky_seen.add((host, command))
        return first

    def close(self) -> None:
        pass


def write_runbook(root: Path, name: str, body: str) -> Path:
    path = root / "runbooks" / f"{name}.yaml"
    path.write_text(
        f"runbook: {name}\nversion: 1.0.0\ntitle: {name}\nscenario: other\nseverity: 3\n" + body,
        encoding="utf-8",
    )
    return path


def events_of(root: Path, run_id: str | None = None) -> list[Any]:
    from respond.config import load_config
    from respond.timeline import open_store

    store = open_store(load_config(root))
    if run_id is None:
        run_id = max(store.runs(), key=lambda r: r.created).run_id
    return store.events(run_id)


_ = time
