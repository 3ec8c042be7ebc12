"""Start, stop, inspect and change the lab: what ``respond lab ...`` (and drills) call.

Light imports only (no paramiko/Twisted): the daemon is a separate process.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from respond.errors import LabError, UsageError
from respond.lab import backups, model
from respond.lab import topology as topo_mod
from respond.lab.paths import LabPaths
from respond.lab.state import StateFile

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
_DETACHED: list[subprocess.Popen[bytes]] = []  # keep the daemon's Popen alive: no warning on GC


def paths_for(home: Path | str) -> LabPaths:
    return LabPaths.for_home(home)


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        if fields and fields[0] in ("Z", "X"):
            _reap(pid)
            return False
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _is_lab_daemon(pid: int, paths: LabPaths) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the pid file
    args = [a.decode("utf-8", "replace") for a in cmdline]
    if "respond.lab.daemon" not in args:
        return False
    try:
        home = args[args.index("--home") + 1]
    except (ValueError, IndexError):
        return False
    return LabPaths.for_home(home).root == paths.root


def running_pid(paths: LabPaths) -> int | None:
    try:
        pid = int(paths.pid.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if _pid_alive(pid) and _is_lab_daemon(pid, paths):
        return pid
    return None


def runtime(paths: LabPaths) -> dict[str, Any] | None:
    try:
        data = json.loads(paths.runtime.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _log_tail(paths: LabPaths, lines: int = 15) -> str:
    try:
        text = paths.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def up(
    home: Path,
    inventory: Path,
    *,
    hosts: int = 3,
    switches: int = topo_mod.MIN_SWITCHES,
    port_base: int | None = None,
    timeout: float = START_TIMEOUT,
) -> tuple[dict[str, Any], bool]:
    """Start the lab in the background; return (runtime info, started now?)."""
    paths = paths_for(home)
    pid = running_pid(paths)
    if pid is not None:
        info = runtime(paths) or {"pid": pid}
        if len(info.get("noncritical", [])) not in (0, hosts):
            raise LabError(
                f"the lab is already running with {len(info['noncritical'])} non-critical hosts",
                hint="run `respond lab down` first to change --hosts",
            )
        if len(info.get("switches", {})) not in (0, switches):
            raise LabError(
                f"the lab is already running with {len(info['switches'])} switches",
                hint="run `respond lab down` first to change --switches",
            )
        return info, False
    _check_importable()
    paths.root.mkdir(parents=True, exist_ok=True)
    for stale in (paths.runtime, paths.pid):
        stale.unlink(missing_ok=True)
    token = secrets.token_hex(8)
    argv = [
        sys.executable,
        "-m",
        "respond.lab.daemon",
        "--home",
        str(paths.root.parent),
        "--inventory",
        str(inventory),
        "--hosts",
        str(hosts),
        "--switches",
        str(switches),
        "--token",
        token,
    ]
    if port_base:
        argv += ["--port-base", str(port_base)]
    with open(paths.log, "ab") as log_file:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=paths.root,
            start_new_session=True,
            close_fds=True,
        )
    _DETACHED.append(proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            tail = _log_tail(paths)
            raise LabError(
                f"the lab failed to start (exit {code}); see {paths.log}"
                + (f":\n{tail}" if tail else ""),
            )
        started = runtime(paths)
        if started and started.get("token") == token:
            ports = [
                *started["hosts"].values(),
                *started["switches"].values(),
                *started["web"].values(),
            ]
            if all(_accepts(p) for p in ports):
                return started, True
        time.sleep(0.1)
    _kill_group(proc.pid)
    raise LabError(f"the lab did not become ready within {timeout:g}s; see {paths.log}")


def _check_importable() -> None:
    import importlib.util

    missing = [m for m in ("paramiko",) if importlib.util.find_spec(m) is None]
    if missing:
        raise LabError(
            f"the lab needs {', '.join(missing)}",
            hint="reinstall respond: pip install respond",
        )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _reap(pid)


def down(home: Path, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the lab; return the pid that was stopped (None if it was not running)."""
    paths = paths_for(home)
    pid = running_pid(paths)
    inventory = (runtime(paths) or {}).get("inventory")
    if pid is None:
        _forget_runtime(paths, inventory)
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        _reap(pid)
        time.sleep(0.05)
    if _pid_alive(pid):
        _kill_group(pid)
        end = time.monotonic() + 5
        while time.monotonic() < end and _pid_alive(pid):
            time.sleep(0.05)
        if _pid_alive(pid):
            raise LabError(f"could not stop the lab (pid {pid})")
    _forget_runtime(paths, inventory)
    return pid


def _forget_runtime(paths: LabPaths, inventory: str | None) -> None:
    """What a stopped lab leaves behind: its runtime files and its own inventory file."""
    from respond.lab.inventoryfile import remove_if_lab

    for stale in (paths.runtime, paths.pid):
        stale.unlink(missing_ok=True)
    if inventory:
        remove_if_lab(Path(inventory), paths.root)


def _state_file(paths: LabPaths, must_run: bool = True) -> StateFile:
    if must_run and running_pid(paths) is None:
        raise LabError("the lab is not running", hint="start it with `respond lab up`")
    sf = StateFile(paths.state)
    if not sf.exists():
        raise LabError(f"no lab state in {paths.root}", hint="start the lab with `respond lab up`")
    return sf


def _topology(state: dict[str, Any]) -> topo_mod.Topology:
    return topo_mod.for_state(state)


def status(home: Path) -> dict[str, Any]:
    paths = paths_for(home)
    pid = running_pid(paths)
    info = runtime(paths) if pid else None
    result: dict[str, Any] = {"running": pid is not None, "pid": pid, "home": str(paths.root)}
    if info:
        result.update(
            {
                "started_at": info.get("started_at"),
                "inventory": info.get("inventory"),
                "known_hosts": info.get("known_hosts"),
                "client_key": info.get("client_key"),
                "log": info.get("log"),
                "ports": {**info["hosts"], **info["switches"], **info["web"]},
                "urls": info.get("urls"),
            }
        )
    sf = StateFile(paths.state)
    if pid is not None and sf.exists():
        state = sf.read()
        result.update(model.summary(state, _topology(state), time.time()))
    return result


def inject(
    home: Path,
    fault: str,
    *,
    duration: float | None = None,
    target: str | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    paths = paths_for(home)
    sf = _state_file(paths)
    with sf.update() as state, _BackupTimes(paths, state) as now:
        try:
            return model.inject(state, _topology(state), fault, target, duration, now, params)
        except model.LabActionError as exc:
            raise UsageError(str(exc)) from None


def heal(home: Path, fault: str | None = None) -> list[str]:
    paths = paths_for(home)
    sf = _state_file(paths)
    with sf.update() as state, _BackupTimes(paths, state) as now:
        try:
            return model.heal(state, _topology(state), fault, now)
        except model.LabActionError as exc:
            raise UsageError(str(exc)) from None


class _BackupTimes:
    """Around a change of the state: the backup files of the servers whose backup-stale fault
    came or went get their new modification time (see :mod:`respond.lab.backups`)."""

    def __init__(self, paths: LabPaths, state: dict[str, Any]) -> None:
        self.paths = paths
        self.state = state
        self.topo = _topology(state)
        self.now = time.time()
        self.before = backups.stale_hosts(state, self.topo, self.now)

    def __enter__(self) -> float:
        return self.now

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            after = backups.stale_hosts(self.state, self.topo, self.now)
            backups.apply(self.paths, self.state, self.topo, after ^ self.before, self.now)


def messages(home: Path) -> list[dict[str, Any]]:
    paths = paths_for(home)
    sf = StateFile(paths.state)
    if not sf.exists():
        raise LabError(f"no lab state in {paths.root}", hint="start the lab with `respond lab up`")
    return list(sf.read().get("messages", []))


def power_log(home: Path) -> list[dict[str, Any]]:
    sf = StateFile(paths_for(home).state)
    return list(sf.read().get("power_log", [])) if sf.exists() else []


def command_log(home: Path, host: str | None = None) -> list[dict[str, Any]]:
    """What the lab's hosts executed and its switches processed since the lab started, oldest
    first: ``{"at": epoch seconds, "host", "command"}`` (only ``host``'s with one)."""
    from respond.lab import commandlog

    paths = paths_for(home)
    sf = StateFile(paths.state)
    if not sf.exists():
        raise LabError(f"no lab state in {paths.root}", hint="start the lab with `respond lab up`")
    if host is not None:
        topo = _topology(sf.read())
        known = [*topo.servers, *topo.switches]
        if host not in known:
            raise UsageError(f"unknown lab host {host!r} (known: {', '.join(known)})")
    entries = commandlog.read(paths.commands)
    return [e for e in entries if host is None or e.get("host") == host]
