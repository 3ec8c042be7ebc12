"""A `respond` command on a pseudo-terminal: what it prints, and keys and lines typed to it
once it reads them (raw mode for a keypress, line mode for a line)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path

from clikit import DEADLINE, wait_until


class Terminal:
    def __init__(self, args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "respond", *args],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def read_until(self, text: str, timeout: float = DEADLINE) -> str:
        """Everything printed so far, once ``text`` is among it (or the command ended)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never appeared; the terminal shows:\n{self.shown}"
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            self.seen += chunk
        return self.shown

    @property
    def shown(self) -> str:
        return self.seen.decode("utf-8", "replace")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def key(self, key: str) -> None:
        """One keypress, once respond reads keys (raw mode)."""
        wait_until(lambda: not termios.tcgetattr(self.master)[3] & termios.ICANON, "raw mode")
        self.type(key)

    def line(self, text: str) -> None:
        """A line of text, once respond reads lines again."""
        wait_until(lambda: termios.tcgetattr(self.master)[3] & termios.ICANON, "line mode")
        self.type(text + "\n")

    def wait(self) -> int:
        """The command's exit code, once it ended by itself."""
        return self.proc.wait(timeout=DEADLINE)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.master)
