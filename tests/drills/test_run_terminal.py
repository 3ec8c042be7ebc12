"""A tabletop drill at a terminal: the people in the room mark each step done or skipped,
and a skip needs a reason."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from clikit import DEADLINE, wait_until
from runkit import DrillProject


class Terminal:
    """`respond` on a pseudo-terminal, as the drill lead's laptop gives it."""

    def __init__(self, project: DrillProject, *args: str) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("RESPOND_DB", "RESPOND_PROJECT")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "respond", "--project", str(project.root), *args],
            cwd=project.root,
            env={**env, "COLUMNS": "120", "RESPOND_HOME": str(project.root / ".respond")},
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
                except OSError:
                    raise AssertionError(f"no {marker!r} in {self.screen!r}") from None

    def key(self, key: bytes) -> None:
        """One keypress, once respond reads keys (raw mode)."""
        wait_until(lambda: not termios.tcgetattr(self.master)[3] & termios.ICANON, "raw mode")
        os.write(self.master, key)

    def line(self, text: bytes) -> None:
        """A line of text, once respond reads lines again."""
        wait_until(lambda: termios.tcgetattr(self.master)[3] & termios.ICANON, "line mode")
        os.write(self.master, text + b"\n")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=DEADLINE)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_each_step_is_marked_done_or_skipped_with_a_reason(tmp_path: Path) -> None:
    project = DrillProject(tmp_path / "proj")
    marker = tmp_path / "ran"
    project.runbook(
        "room",
        f"""\
  - {{id: look, kind: local, command: "touch {marker}"}}
  - {{id: spare, kind: local, command: "touch {marker}"}}
""",
    )
    project.drill("walk", runbook="room", mode="tabletop")
    term = Terminal(project, "drill", "run", "walk")
    try:
        term.read_until(b"look: done, or skip with a reason? [D/s]")
        term.key(b"d")
        term.read_until(b"spare: done, or skip with a reason? [D/s]")
        term.key(b"s")
        term.read_until(b"reason for skipping")
        term.line(b"   ")  # blank: not a reason
        term.read_until(b"a skipped step needs a reason")
        term.read_until(b"spare: done, or skip with a reason? [D/s]")
        term.key(b"s")
        term.line(b"no spare disk on site")
        rc = term.close()
    finally:
        if term.proc.poll() is None:
            term.close()
    assert rc == 0, term.screen.decode(errors="replace")
    assert not marker.exists()
    [run_id] = project.drill_runs()
    events = project.events(run_id)
    done = [e for e in events if e["kind"] == "step-finished"]
    assert [(e["step_id"], e["data"]["walked"], e["data"]["by"]) for e in done] == [
        ("look", "done", "operator")
    ]
    [skipped] = [e for e in events if e["kind"] == "step-skipped"]
    assert skipped["step_id"] == "spare"
    assert skipped["data"]["reason"] == "no spare disk on site"
    assert skipped["data"]["by"] == "operator"
