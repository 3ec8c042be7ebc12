"""The lab's mutable state: one JSON file, shared by the daemon, every simulated tool and the CLI.

Readers take a shared ``fcntl`` lock, writers an exclusive one on a separate lock file, and a
write goes to a temporary file that is renamed over the state file, so a reader never sees a
half-written document. Timed things (a fault injected ``--for 30s``, the UPS battery draining,
a host booting) are stored as timestamps and computed lazily by :mod:`respond.lab.model`, so no
timer has to fire for the state to be right.

Stdlib only: the simulated tools import this module on every invocation.
"""

from __future__ import annotations

import fcntl
import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATE_VERSION = 1
MAX_MESSAGES = 2000
MAX_JOURNAL = 2000
MAX_EVENTS = 500

# name → (default target, allowed target kind, what it does)
FAULTS: dict[str, tuple[str, str, str]] = {
    "power-loss": (
        "ups1",
        "ups",
        "mains lost: the UPS runs on battery, runtime drains in real time",
    ),
    "ups-fault": ("ups1", "ups", "UPS alarm: battery needs replacing, runtime on battery is short"),
    "link-down": ("core-sw1:GE0/0/1", "port", "the core switch's primary WAN uplink goes down"),
    "switch-down": (
        "acc-sw2",
        "switch",
        "an access switch dies: unreachable, hosts behind it cut off",
    ),
    "disk-failure": (
        "file1",
        "server",
        "a disk fails: I/O errors, Drive 1 critical; a data disk (db1, file1) fails its service, "
        "elsewhere the system mirror runs degraded",
    ),
    "psu-failure": ("db1", "server", "one power supply fails: IPMI alarm, redundancy lost"),
    "server-down": (
        "app1",
        "server",
        "a server crashes and is powered off until powered on or healed",
    ),
    "service-down": (
        "db1",
        "service",
        "a service is killed (out of memory) and stays failed until restarted; target HOST or "
        "HOST/UNIT, the unit defaults to the host's own service (postgresql on db1, cron on app1)",
    ),
    "oa-down": ("oa1", "fixed", "the OA application (oa-web on oa1) fails; OA health returns 503"),
    "sms-down": (
        "sms1",
        "fixed",
        "the SMS gateway (sms-gateway on sms1) fails; SMS API returns 503",
    ),
    "high-load": ("app1", "server", "a runaway job: the load average climbs to 5 per CPU"),
    "memory-pressure": ("app1", "server", "memory runs out: 97% used, swap in use"),
    "disk-full": (
        "db1:/",
        "mount",
        "a filesystem fills up to 93% used; target SERVER[:MOUNT], the mount defaults to /",
    ),
    "inode-exhaustion": (
        "file1:/",
        "mount",
        "small files use up 96% of a filesystem's inodes; target SERVER[:MOUNT] (default /)",
    ),
    "time-drift": ("db1", "server", "the clock drifts: 2.5 s fast of NTP time"),
    "backup-stale": (
        "db1",
        "server",
        "the nightly backup stops: the backup files under ~/backup and the last run of"
        " backup.service are 72 hours old",
    ),
    "backup-failed": (
        "db1",
        "server",
        "the backup job fails: backup.service's last run ended with Result=exit-code, status 1"
        " (the backup file is left as it was)",
    ),
    "cert-expiring": (
        "oa1",
        "fixed",
        "OA's HTTPS certificate is replaced by one that expires in 5 days; heal renews it",
    ),
    "crc-errors": (
        "acc-sw1:GE1/0/1",
        "port",
        "a bad cable: the port's CRC and input error counters jump to 250",
    ),
}


def new_state(
    noncritical: list[str], now: float | None = None, switches: int = 3
) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "version": STATE_VERSION,
        "started_at": now,
        "noncritical": list(noncritical),
        "switches": switches,  # how many: core-sw1, acc-sw1, acc-sw2, acc-sw3 …
        "faults": [],  # {name, target, at, until|None, params}
        "power": {},  # host → {state: off|on, at, up_at|None, by}
        "services": {},  # "host/unit" → {state, at}
        "ports": {},  # "switch/PortName" → {shutdown: bool, at, by}
        "descriptions": {},  # switch → {PortName: text} set through a switch's CLI
        "saved": {},  # switch → {at, ports: {PortName: {shutdown, description}}} (startup config)
        "power_log": [],  # {host, action: shutdown|power-on|crash, at, by}
        "journal": [],  # {host, unit, at, text}
        "messages": [],  # {id, at, channel, to, title, message, type, via}
        "events": [],  # {at, text}: lab-level history (inject, heal, failover)
        "ups": {"checkpoint": None, "restored": None},
    }


class _Lock:
    def __init__(self, path: str, mode: int) -> None:
        self.path = path
        self.mode = mode
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, self.mode)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


class _Update:
    def __init__(self, owner: StateFile) -> None:
        self.owner = owner
        self.lock = _Lock(owner.lock_path, fcntl.LOCK_EX)
        self.data: dict[str, Any] = {}

    def __enter__(self) -> dict[str, Any]:
        self.lock.__enter__()
        try:
            self.data = self.owner._load()
        except BaseException:
            self.lock.__exit__()
            raise
        return self.data

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self.owner._write(self.data)
        finally:
            self.lock.__exit__()


class StateFile:
    """Locked, atomic access to one state file (a path string or ``os.PathLike``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.lock_path = os.path.join(os.path.dirname(self.path), "state.lock")
        # (inode, mtime, size) of the file snapshot() read last, and what it held: every writer
        # replaces the file, so a change anywhere (lab inject, a switch's CLI) is seen at once
        self._snapshot: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def read(self) -> dict[str, Any]:
        with _Lock(self.lock_path, fcntl.LOCK_SH):
            return self._load()

    def snapshot(self) -> dict[str, Any]:
        """The state, re-read only when the file changed since the last snapshot: one document
        shared by every caller (the daemon's threads), which must not modify it."""
        try:
            st = os.stat(self.path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = (0, 0, 0)  # missing: read() says why
        cached = self._snapshot  # one attribute, swapped whole: safe across threads
        if cached is None or cached[0] != key:
            cached = (key, self.read())
            self._snapshot = cached
        return cached[1]

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise LabStateMissing(f"no lab state at {self.path} (is the lab up?)") from None
        except ValueError as exc:
            raise LabStateMissing(f"lab state {self.path} is unreadable: {exc}") from None
        if not isinstance(data, dict):
            raise LabStateMissing(f"lab state {self.path} is not a JSON object")
        return data

    def update(self) -> _Update:
        """``with sf.update() as data:`` read-modify-write under the exclusive lock;
        written (atomically) only if the block succeeds."""
        return _Update(self)

    def replace(self, data: dict[str, Any]) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with _Lock(self.lock_path, fcntl.LOCK_EX):
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".state-{os.getpid()}-{time.monotonic_ns()}.json")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self._snapshot = None
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


class LabStateMissing(Exception):
    """The state file does not exist or is unreadable."""


def trim(items: list[Any], limit: int) -> None:
    if len(items) > limit:
        del items[: len(items) - limit]


def add_event(state: dict[str, Any], text: str, now: float) -> None:
    state.setdefault("events", []).append({"at": now, "text": text})
    trim(state["events"], MAX_EVENTS)


def add_journal(state: dict[str, Any], host: str, unit: str, text: str, now: float) -> None:
    state.setdefault("journal", []).append({"host": host, "unit": unit, "at": now, "text": text})
    trim(state["journal"], MAX_JOURNAL)


def add_message(state: dict[str, Any], message: dict[str, Any], now: float) -> dict[str, Any]:
    messages = state.setdefault("messages", [])
    record = {"id": (messages[-1]["id"] + 1) if messages else 1, "at": now, **message}
    messages.append(record)
    trim(messages, MAX_MESSAGES)
    return record
