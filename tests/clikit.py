"""One way for tests to call the `respond` command, and one way to wait for something.

``respond(*args, cwd=..., env=..., input=..., timeout=...)`` runs the real command in a child
process (``python -m respond``, or the installed console script with ``entry_point=True``)
and returns a :class:`Result` with ``rc``, ``stdout`` and ``stderr``. ``Cli(in_process=True)``
calls ``respond.cli.main`` (the same error boundary as the console script) inside the test
process instead; use it only where a test needs that (in-process fakes, or many calls).
``Cli.spawn`` starts the command in the background for tests that interrupt or race it.

Stdin is empty unless ``input`` is given, as an unattended run would see it. The environment is
the test's (the autouse fixture in conftest.py points RESPOND_HOME at a temporary directory)
with ``env`` laid over it; a value of ``None`` removes that variable.

Waiting: :func:`wait_until` polls a condition until it holds, with a generous overall
deadline, and fails with a message naming what it waited for. The deadlines are long on
purpose: the suite runs on small shared machines next to other busy processes, and a
deadline only decides how long a *failing* test takes, never whether a passing one passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# How long a single `respond` command may take before the test fails (it is killed). Below
# pytest-timeout's 120 s per test (pyproject.toml), so that the failure shows the command's
# output rather than only a stack.
CLI_TIMEOUT = 100.0
# How long to wait for something that normally happens within a second or two.
DEADLINE = 60.0
# Upper bound for "this returns promptly instead of waiting out a long timeout": tests that
# use it make the wrong behaviour take far longer (ten minutes or more, or for ever), so a
# loaded machine cannot make a correct product fail and a hanging product still cannot pass.
PROMPTLY = 30.0


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail with
    ``what`` in the message if it still does not hold after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class Result:
    """What one `respond` command did: exit code and both streams (text)."""

    rc: int
    stdout: str
    stderr: str
    args: tuple[str, ...] = ()
    wall_s: float = 0.0  # wall-clock time of the command
    cpu_s: float = 0.0  # CPU time it used (user + system; in-process: of this process)

    def __str__(self) -> str:
        return (
            f"respond {' '.join(self.args)} -> exit {self.rc}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )

    def __iter__(self) -> Iterator[Any]:
        """``rc, stdout, stderr = respond(...)``."""
        return iter((self.rc, self.stdout, self.stderr))

    @property
    def exit_code(self) -> int:
        """``rc`` under Click's name, for tests written against CliRunner's Result."""
        return self.rc

    @property
    def output(self) -> str:
        """stdout then stderr, for assertions that do not care which stream."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout parsed as JSON; a clear failure (with both streams) if it is not JSON."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"stdout is not JSON ({exc}):\n{self}") from None


def _environ(env: Mapping[str, str | None] | None) -> dict[str, str]:
    merged = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def _argv(args: tuple[str, ...], entry_point: bool) -> list[str]:
    if entry_point:
        script = Path(sys.executable).with_name("respond")
        assert script.exists(), f"the console script {script} is not installed"
        return [str(script), *args]
    return [sys.executable, "-m", "respond", *args]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Running:
    """A `respond` command started in the background by :meth:`Cli.spawn`."""

    proc: subprocess.Popen[str]
    args: tuple[str, ...]
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT, as the terminal sends it."""
        self.proc.send_signal(signal.SIGINT)

    def kill(self) -> None:
        self.proc.kill()

    def wait(self, timeout: float = CLI_TIMEOUT) -> Result:
        """Wait for the command to end and collect its output (fail after ``timeout``)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(
                f"respond {' '.join(self.args)} did not end within {timeout:g}s\n"
                f"--- stdout\n{out}\n--- stderr\n{err}"
            ) from None
        return Result(self.proc.returncode, out, err, self.args, time.monotonic() - self.started)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


class Cli:
    """``Cli(...)(*args)`` runs `respond *args`; ``cwd``/``env`` given here are defaults for
    every call, and each call may add to or override them."""

    def __init__(
        self,
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str | None] | None = None,
        in_process: bool = False,
        entry_point: bool = False,
        timeout: float = CLI_TIMEOUT,
    ) -> None:
        self.cwd = cwd
        self.env = dict(env or {})
        self.in_process = in_process
        self.entry_point = entry_point
        self.timeout = timeout

    def bind(self, **defaults: Any) -> Cli:
        """A copy with other defaults (``env`` is merged with the current one)."""
        env = {**self.env, **(defaults.pop("env", None) or {})}
        options = {
            "cwd": self.cwd,
            "in_process": self.in_process,
            "entry_point": self.entry_point,
            "timeout": self.timeout,
        }
        options.update(defaults)
        return Cli(env=env, **options)

    def __call__(
        self,
        *args: str,
        cwd: Path | str | None = None,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        timeout: float | None = None,
        check: bool = False,
    ) -> Result:
        where = cwd if cwd is not None else self.cwd
        overlay = {**self.env, **(env or {})}
        if self.in_process:
            result = _invoke_in_process(args, where, overlay, input)
        else:
            result = self._run(args, where, overlay, input, timeout or self.timeout)
        if check:
            assert result.rc == 0, str(result)
        return result

    def _run(
        self,
        args: tuple[str, ...],
        cwd: Path | str | None,
        env: Mapping[str, str | None],
        input: str | None,
        timeout: float,
    ) -> Result:
        cpu0, t0 = _children_cpu(), time.monotonic()
        try:
            proc = subprocess.run(
                _argv(args, self.entry_point),
                cwd=cwd,
                env=_environ(env),
                input=input,
                stdin=subprocess.DEVNULL if input is None else None,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"respond {' '.join(args)} did not end within {timeout:g}s (killed)\n"
                f"--- stdout\n{_text(exc.stdout)}\n--- stderr\n{_text(exc.stderr)}"
            ) from None
        return Result(
            proc.returncode,
            proc.stdout,
            proc.stderr,
            args,
            time.monotonic() - t0,
            _children_cpu() - cpu0,
        )

    def spawn(
        self,
        *args: str,
        cwd: Path | str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Running:
        """Start `respond *args` in the background (stdin empty, both streams captured)."""
        assert not self.in_process, "spawn runs a child process"
        proc = subprocess.Popen(
            _argv(args, self.entry_point),
            cwd=cwd if cwd is not None else self.cwd,
            env=_environ({**self.env, **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_takes_ctrl_c,
        )
        return Running(proc, args)


def _takes_ctrl_c() -> None:
    """In the child: SIGINT does what it does for a terminal's foreground job. A test run
    started in the background (``cmd &`` in a script, nohup, some CI runners) hands its
    children SIGINT ignored, and Python then keeps ignoring it: Ctrl-C would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


@contextlib.contextmanager
def _chdir_and_env(cwd: Path | str | None, env: Mapping[str, str | None]) -> Iterator[None]:
    saved_cwd = os.getcwd()
    saved_env = {key: os.environ.get(key) for key in env}
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _invoke_in_process(
    args: tuple[str, ...],
    cwd: Path | str | None,
    env: Mapping[str, str | None],
    input: str | None,
) -> Result:
    """``respond.cli.main(args)`` with stdin/stdout/stderr captured (Click's runner)."""
    from click.testing import CliRunner

    from respond.cli import main

    t0, cpu0 = time.monotonic(), time.process_time()
    with _chdir_and_env(cwd, env), CliRunner().isolation(input=input) as streams:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        stdout = streams[0].getvalue().decode("utf-8", "replace")
        stderr = streams[1].getvalue().decode("utf-8", "replace")
    return Result(code, stdout, stderr, args, time.monotonic() - t0, time.process_time() - cpu0)


respond = Cli()


class Journal:
    """Read the journal of a project and home from the test process while `respond` runs in
    another: the store is the product's own, opened read-only (never created or migrated
    here, so it never races the command that creates it)."""

    def __init__(self, project: Path, home: Path) -> None:
        self.project = project
        self.home = home
        # Runs recorded before this journal was made: "the newest run" is one started
        # after, never an earlier test's run that already holds the awaited events.
        self._earlier = {r.run_id for r in self._runs()}

    def _runs(self) -> list[Any]:
        import sqlite3

        from respond.errors import TimelineError

        if not (self.home / "respond.db").exists():
            return []
        try:
            store = self._store()
            try:
                return list(store.runs())
            finally:
                store.close()
        except (sqlite3.OperationalError, TimelineError):  # the schema is still being made
            return []

    def _store(self) -> Any:
        from respond.config import load_config
        from respond.timeline import open_store

        return open_store(load_config(self.project, home=str(self.home)), migrate=False)

    def events(self, run_id: str | None = None) -> list[Any]:
        """Events of ``run_id`` (default: the newest run started since this journal was
        made); ``[]`` while there is none yet."""
        import sqlite3

        from respond.errors import TimelineError

        if not (self.home / "respond.db").exists():
            return []
        try:
            store = self._store()
            try:
                if run_id is None:
                    runs = [r for r in store.runs() if r.run_id not in self._earlier]
                    if not runs:
                        return []
                    run_id = max(runs, key=lambda r: r.created).run_id
                return list(store.events(run_id))
            finally:
                store.close()
        except (sqlite3.OperationalError, TimelineError):  # the schema is still being made
            return []

    def wait_for(
        self,
        what: str,
        condition: Callable[[list[Any]], bool],
        *,
        running: Running | None = None,
        run_id: str | None = None,
        timeout: float = DEADLINE,
    ) -> list[Any]:
        """Wait until ``condition(events)`` holds for the run; fail early and clearly if the
        ``running`` command ends before that."""
        seen: list[Any] = []

        def check() -> bool:
            nonlocal seen
            if running is not None and running.poll() is not None:
                raise AssertionError(
                    f"respond ended before {what}:\n{running.wait()}\nevents: "
                    + ", ".join(f"{e.kind}:{e.step_id or ''}" for e in seen)
                )
            seen = self.events(run_id)
            return condition(seen)

        wait_until(check, what, timeout=timeout, interval=0.2)
        return seen
