"""The operator's terminal going away must not kill the incident: a closed pipe (``| head -3``)
or SIGHUP ends the display only; the run goes on unattended, a gate nobody can answer is
refused and recorded with the reason (exit 3), and ``respond resume`` continues it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

from clikit import DEADLINE, Cli, wait_until
from enginekit import events_of, write_runbook

# A local step that holds the run until the test creates the file ``go`` (at most 60 s).
WAIT_FOR_GO = (
    "    kind: local\n"
    "    timeout: 90s\n"
    "    argv: [sh, -c, 'i=0; while [ ! -e go ] && [ $i -lt 1200 ]; do sleep 0.05; "
    "i=$((i+1)); done; test -e go']\n"
)


def _respond(*args: str) -> list[str]:
    return [sys.executable, "-m", "respond", *args]


def _last(events: list[Any], kind: str) -> Any:
    return [e for e in events if e.kind == kind][-1]


def test_head_closing_the_pipe_does_not_fail_the_run(project: Path) -> None:
    """`respond run x 2>&1 | head -3`: the pipe closes after three lines while the run is
    in a step; the run goes on and ends as the incident did, not as a crash of respond."""
    write_runbook(
        project,
        "piped",
        "steps:\n"
        "  - {id: first, kind: local, argv: [echo, one]}\n"
        "  - id: hold\n" + WAIT_FOR_GO + "  - {id: after, kind: local, argv: [seq, '1', '50']}\n"
        "  - {id: last, kind: local, argv: [echo, done]}\n",
    )
    run = subprocess.Popen(
        _respond("run", "piped"),
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert run.stdout is not None
    head = subprocess.Popen(["head", "-3"], stdin=run.stdout, stdout=subprocess.PIPE)
    run.stdout.close()  # head is the pipe's only reader
    try:
        shown, _ = head.communicate(timeout=DEADLINE)
        assert len(shown.splitlines()) == 3
        (project / "go").touch()  # only now can the run write again: into a closed pipe
        rc = run.wait(timeout=DEADLINE)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    finished = _last(events_of(project), "run-finished")
    assert finished.data["status"] == "succeeded", finished.data
    assert "internal error" not in str(finished.data)
    assert rc == 0
    steps = [e.step_id for e in events_of(project) if e.kind == "step-finished"]
    assert steps == ["first", "hold", "after", "last"]


class _Terminal:
    """respond on a pseudo-terminal, as an operator's SSH session gives it."""

    def __init__(self, project: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            _respond(*args),
            cwd=project,
            env={**os.environ, "COLUMNS": "120"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = b""

    def read_until(self, marker: bytes) -> None:
        deadline = time.monotonic() + DEADLINE
        while marker not in self.screen:
            assert time.monotonic() < deadline, f"no {marker!r} in {self.screen!r}"
            if select.select([self.master], [], [], 0.5)[0]:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:  # EIO: respond closed the terminal
                    raise AssertionError(f"no {marker!r} in {self.screen!r}") from None

    def wait(self) -> int:
        return self.proc.wait(timeout=DEADLINE)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def _gated_after_hold(project: Path) -> None:
    write_runbook(
        project,
        "hup",
        "steps:\n  - id: hold\n"
        + WAIT_FOR_GO
        + "  - {id: restart, kind: local, argv: [echo, restarted], confirm: 'Restart OA?'}\n",
    )


def test_sighup_during_a_step_goes_on_unattended_and_resume_finishes(project: Path) -> None:
    _gated_after_hold(project)
    term = _Terminal(project, "run", "hup")
    try:
        term.read_until(b"1/2 hold")
        term.proc.send_signal(signal.SIGHUP)  # the SSH session to the jump box dropped
        (project / "go").touch()
        rc = term.wait()
    finally:
        term.close()
    assert rc == 3  # the gate nobody can answer any more: refused, as unattended
    events = events_of(project)
    hold = [e for e in events if e.kind == "step-finished" and e.step_id == "hold"]
    assert hold and hold[0].data["status"] == "ok", "the step in progress finished"
    refused = _last(events, "gate-refused")
    assert refused.step_id == "restart" and refused.data["by"] == "unattended"
    assert "terminal went away (SIGHUP: the terminal hung up)" in refused.data["reason"]
    assert f"respond resume {events[0].run_id}" in refused.data["reason"]
    finished = _last(events, "run-finished")
    assert finished.data["status"] == "aborted"

    resumed = Cli(cwd=project)("resume", events[0].run_id, "--yes")
    assert resumed.rc == 0, resumed
    events = events_of(project, events[0].run_id)
    assert _last(events, "run-finished").data["status"] == "succeeded"
    ran = [e.step_id for e in events if e.kind == "step-finished"]
    assert ran == ["hold", "restart"]  # hold is not run again


def test_sighup_while_a_gate_waits_for_a_key_refuses_it(project: Path) -> None:
    (project / "go").touch()
    _gated_after_hold(project)
    term = _Terminal(project, "run", "hup")
    try:
        term.read_until(b"Proceed with restart?")
        wait_until(lambda: not termios.tcgetattr(term.master)[3] & termios.ICANON, "raw mode")
        term.proc.send_signal(signal.SIGHUP)
        rc = term.wait()
    finally:
        term.close()
    assert rc == 3
    events = events_of(project)
    refused = _last(events, "gate-refused")
    assert refused.step_id == "restart" and "SIGHUP" in refused.data["reason"]
    assert _last(events, "run-finished").data["status"] == "aborted"
    assert not [e for e in events if e.kind == "step-started" and e.step_id == "restart"]
