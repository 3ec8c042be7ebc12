"""The backup files the lab keeps in every server's tree, with real modification times.

Each server has ``~/backup/<host>-full.tar.gz`` (a small real gzip file; ``~`` is the host's
tree, the directory its commands run in, so ``backup/<host>-full.tar.gz`` names it too). It is
written at ``lab up`` as made "last night at 01:30" (local time). The ``backup-stale`` fault sets
its mtime 72 hours before the fault; healing it sets last night's 01:30 again. Only a change
of the fault touches the file, so an operator who runs a backup by hand (``touch``) keeps it.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

from respond.lab import model
from respond.lab.paths import LabPaths
from respond.lab.topology import Topology

BACKUP_DIR = "backup"
STALE_HOURS = 72
NIGHTLY = (1, 30)  # the nightly backup's local time, hour and minute


def backup_file(paths: LabPaths, host: str) -> Path:
    return paths.scratch / host / BACKUP_DIR / f"{host}-full.tar.gz"


def last_night(now: float) -> float:
    """The latest local 01:30 before ``now``."""
    local = time.localtime(now)
    hour, minute = NIGHTLY
    stamp = time.mktime((*local[:3], hour, minute, 0, 0, 0, -1))
    return (
        stamp
        if stamp <= now
        else time.mktime((*local[:2], local[2] - 1, hour, minute, 0, 0, 0, -1))
    )


def stale_hosts(state: dict[str, Any], topo: Topology, now: float) -> set[str]:
    return {h for h in topo.servers if model.fault_on(state, "backup-stale", h, now) is not None}


def _mtime(state: dict[str, Any], host: str, now: float) -> float:
    fault = model.fault_on(state, "backup-stale", host, now)
    if fault is None:
        return last_night(now)
    return float(fault["at"]) - STALE_HOURS * 3600


def write_all(paths: LabPaths, state: dict[str, Any], topo: Topology, now: float) -> None:
    """Create every server's backup file (``lab up``) with the time the state gives it."""
    for host in topo.servers:
        target = backup_file(paths, host)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(
                gzip.compress(f"{host} full backup (respond lab)\n".encode(), mtime=0)
            )
        stamp = _mtime(state, host, now)
        os.utime(target, (stamp, stamp))


def apply(
    paths: LabPaths, state: dict[str, Any], topo: Topology, hosts: set[str], now: float
) -> None:
    """Set the backup time of ``hosts`` (whose backup-stale fault just changed) from the state."""
    for host in hosts:
        target = backup_file(paths, host)
        if target.exists():
            stamp = _mtime(state, host, now)
            os.utime(target, (stamp, stamp))
