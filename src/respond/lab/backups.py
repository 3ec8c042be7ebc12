"""The backup files the lab keeps in every server's tree, with real modification times.

Each server has ``~/backup/<host>-full.tar.gz`` (a small real gzip file; ``~`` is the host's
tree, the directory its commands run in, so ``backup/<host>-full.tar.gz`` names it too). It is
written at ``lab up`` as made "last night at 01:30" (local time). The ``backup-stale`` fault sets
its mtime 72 hours before the fault; healing it sets last night's 01:30 again. Only a change
of the fault touches the file, so an operator who runs a backup by hand (``touch``) keeps it.
The simulated ``backup.service`` (``systemctl show``) ends its last run at the same time
(:func:`respond.lab.model.backup_job`); ``backup-failed`` fails that run and leaves the file.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

from respond.lab import model
from respond.lab.paths import LabPaths
from respond.lab.topology import Topology

BACKUP_DIR = "backup"


def backup_file(paths: LabPaths, host: str) -> Path:
    return paths.scratch / host / BACKUP_DIR / f"{host}-full.tar.gz"


def stale_hosts(state: dict[str, Any], topo: Topology, now: float) -> set[str]:
    return {h for h in topo.servers if model.fault_on(state, "backup-stale", h, now) is not None}


def write_all(paths: LabPaths, state: dict[str, Any], topo: Topology, now: float) -> None:
    """Create every server's backup file (``lab up``) with the time the state gives it."""
    for host in topo.servers:
        target = backup_file(paths, host)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(
                gzip.compress(f"{host} full backup (respond lab)\n".encode(), mtime=0)
            )
        stamp = model.backup_done_at(state, host, now)
        os.utime(target, (stamp, stamp))


def apply(
    paths: LabPaths, state: dict[str, Any], topo: Topology, hosts: set[str], now: float
) -> None:
    """Set the backup time of ``hosts`` (whose backup-stale fault just changed) from the state."""
    for host in hosts:
        target = backup_file(paths, host)
        if target.exists():
            stamp = model.backup_done_at(state, host, now)
            os.utime(target, (stamp, stamp))
