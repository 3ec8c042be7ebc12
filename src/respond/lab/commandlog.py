"""The lab's command log: what its hosts and switches were actually asked to do.

Each SSH ``exec`` command, each line typed into an SSH shell and each line a switch processes
is appended to ``<home>/lab/commands.log`` as one JSON object ``{"at", "host", "command"}``
(``at`` in epoch seconds, like the lab's other logs), written and flushed line by line so a
reader never waits for a buffer. It is the lab's own evidence, independent of respond's
record: a drill that simulates or walks a step can be checked against what really arrived.
The log starts empty with each ``respond lab up``; known secrets (the switch password) are
written as ``********``, and input typed while a device hides it (a password prompt) is not
written at all.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HIDDEN = "********"


class CommandLog:
    """Appends to the log from any thread of the lab daemon (SSH threads, the reactor)."""

    def __init__(self, path: Path, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 (daemon-long)

    def append(self, host: str, command: str) -> None:
        for secret in self._secrets:
            command = command.replace(secret, HIDDEN)
        line = json.dumps(
            {"at": round(time.time(), 6), "host": host, "command": command}, ensure_ascii=False
        )
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class LineSplitter:
    """Turns the bytes typed into a shell into whole lines (``\\r``, ``\\n`` or both end one)."""

    def __init__(self, host: str, log: CommandLog) -> None:
        self.host = host
        self.log = log
        self._pending = b""

    def feed(self, data: bytes) -> None:
        buffer = (self._pending + data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, self._pending = buffer.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if text:
                self.log.append(self.host, text)


def read(path: Path) -> list[dict[str, Any]]:
    """The log's entries, oldest first; a line being written (no newline yet) is left out."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in text.split("\n")[:-1]:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
