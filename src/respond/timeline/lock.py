"""Run locks that survive crashes (RELIABILITY rule 10).

The lock is a row in the store's ``locks`` table (so it works for a shared PostgreSQL store
too) naming the holder, host, pid, the pid's start time and a heartbeat the holder refreshes.
A lock is *live* when its pid is alive on this host (and is the same process: the start
time guards against pid reuse), or, for a holder on another host, when its heartbeat is
fresh. A stale lock is taken over, and the take-over is journaled as a ``lock-taken`` event.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

HEARTBEAT_INTERVAL = 5.0  # seconds between heartbeats of a held lock
STALE_AFTER = 60.0  # a holder on another host is presumed dead after this long without one


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def this_host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int, start: str | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return True  # no /proc: trust kill(0)
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields and fields[0] in ("Z", "X"):
        return False  # a zombie holds nothing
    return not (start and len(fields) > 19 and fields[19] != start)


@dataclass(frozen=True, slots=True)
class LockInfo:
    holder: str
    hostname: str
    pid: int
    pid_start: str | None
    since: str
    heartbeat: str
    token: str

    def is_live(self, now: datetime | None = None) -> bool:
        if self.hostname == this_host():
            return pid_alive(self.pid, self.pid_start)
        age = ((now or datetime.now(UTC)) - parse_ts(self.heartbeat)).total_seconds()
        return age < STALE_AFTER

    def describe(self) -> str:
        return f"{self.holder} pid {self.pid} since {self.since}"

    def to_dict(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "hostname": self.hostname,
            "pid": self.pid,
            "since": self.since,
            "heartbeat": self.heartbeat,
        }


class Heartbeat:
    """Refreshes a held lock's heartbeat from a daemon thread until stopped."""

    def __init__(self, beat: Callable[[], bool], interval: float = HEARTBEAT_INTERVAL) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(
            target=self._loop, name="respond-lock-heartbeat", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._beat():
                    self.lost = True
                    return
            except Exception:  # a missed beat is retried; the lock stays ours meanwhile
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 1)


@dataclass
class LockHandle:
    run_id: str
    holder: str
    token: str
    taken_from: LockInfo | None
    heartbeat: Heartbeat | None = None

    @property
    def lost(self) -> bool:
        return bool(self.heartbeat and self.heartbeat.lost)
