"""local step kind: one program on the operator's machine (ping, curl, ipmitool to a BMC).

The local kind renders the command word by word into ``LocalCommand.argv``; it runs with
no shell (``shell=False``), so a parameter is always exactly one argument and can never
become code (RELIABILITY rule 4). The child gets its own process group
(``start_new_session``); on timeout or cancel the whole group gets SIGTERM and, after a
grace period, SIGKILL, so nothing it started outlives the step. Output is captured like the
ssh kind's: bounded per stream, decoded as UTF-8 with replacement. The exit code is
recorded, not judged: the engine applies ``expect``.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from typing import IO, TYPE_CHECKING, Any, ClassVar

from respond.executors._output import CappedBuffer
from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.local import KIND as LOCAL_KIND
from respond.kinds.local import LocalCommand
from respond.results import CommandResult, HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

KILL_GRACE_S = 2.0
POLL_S = 0.2  # how often the wait looks at ctx.cancel


def _pump(stream: IO[bytes], sink: CappedBuffer) -> None:
    try:
        while chunk := os.read(stream.fileno(), 65536):
            sink.feed(chunk)
    except (OSError, ValueError):
        pass  # the pipe was closed under us at shutdown
    finally:
        stream.close()


class LocalExecutor:
    kind: ClassVar[str] = "local"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        name = host.name if host is not None else "localhost"
        # a step that says `timeout: 0` gets its kind's default, never no deadline
        timeout = float(timeout) if timeout and timeout > 0 else LOCAL_KIND.default_timeout
        env: dict[str, str] | None = None
        if isinstance(rendered, LocalCommand):
            argv = list(rendered.argv)
            env = {**os.environ, **dict(rendered.env)} if rendered.env else None
        else:  # a bare Rendered (a caller without the local kind): one shell-split command
            argv = shlex.split(rendered.commands[0]) if rendered.commands else []
        if not argv:
            return host_result(
                name, StepStatus.FAILED, started, error="no command to run", not_started=True
            )
        shown = shlex.join(argv)
        if self.ctx.cancel.is_set():
            return host_result(
                name, StepStatus.CANCELLED, started, error="cancelled", not_started=True
            )

        t0 = time.monotonic()
        deadline = t0 + timeout
        proc = self._spawn(argv, env)
        if isinstance(proc, str):
            return host_result(name, StepStatus.FAILED, started, error=proc, not_started=True)

        out, err = CappedBuffer(), CappedBuffer()
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True),
        ]
        for pump in pumps:
            pump.start()

        status, error = self._wait(proc, argv[0], deadline, timeout)
        if status is not StepStatus.OK:
            self._stop(proc)
        for pump in pumps:
            # The group is gone, so the pipes close; a child that escaped into its own
            # session could hold them open: do not wait for it.
            pump.join(timeout=1.0)
        code = proc.returncode
        data: dict[str, Any] = {"pid": proc.pid}
        if out.dropped or err.dropped:
            data["output_truncated_bytes"] = out.dropped + err.dropped
        exit_code: int | None = code if status is StepStatus.OK and code is not None else None
        if exit_code is not None and exit_code < 0:
            err.feed(f"\n[respond: killed by signal {-exit_code}]".encode())
            exit_code = None
        result = CommandResult(
            command=shown,
            exit_code=exit_code,
            stdout=out.text(),
            stderr=err.text(),
            duration_s=time.monotonic() - t0,
        )
        return host_result(
            name, status, started, commands=(result,), output=result.stdout, error=error, data=data
        )

    def _spawn(self, argv: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes] | str:
        """The program started in its own session (so a timeout stops all of it), or why
        it could not start (nothing ran: safe to retry)."""
        try:
            return subprocess.Popen(
                argv,
                shell=False,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                cwd=self.ctx.project_root if self.ctx.project_root.is_dir() else None,
                env=env,
            )
        except FileNotFoundError:
            return f"command not found: {argv[0]!r} (not on PATH of the respond process)"
        except PermissionError:
            return f"cannot execute {argv[0]!r}: not executable"
        except OSError as exc:
            return f"cannot start {argv[0]!r}: {exc.strerror}"

    def _wait(
        self, proc: subprocess.Popen[bytes], program: str, deadline: float, timeout: float
    ) -> tuple[StepStatus, str]:
        """Wait for the program until it ends, the deadline passes or the run is cancelled."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return (
                    StepStatus.TIMED_OUT,
                    f"{program} did not finish within the step timeout of {timeout:g}s; stopped it",
                )
            if self.ctx.cancel.is_set():
                return StepStatus.CANCELLED, f"cancelled; stopped {program}"
            try:
                proc.wait(timeout=min(left, POLL_S))
                return StepStatus.OK, ""
            except subprocess.TimeoutExpired:
                continue

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the child's process group, SIGKILL it after a grace period."""
        for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            except PermissionError:
                proc.send_signal(sig)
            try:
                proc.wait(timeout=wait)
                # the leader is gone; make sure nothing else of its group lingers
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self) -> None:
        """Nothing is kept between steps."""
