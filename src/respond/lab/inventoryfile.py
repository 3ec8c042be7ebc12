"""The lab's inventory file: its marker, its removal by `lab down`, the "not running" check.

`respond lab up` writes ``<project>/inventory/lab.yaml`` with a marker line naming the lab
directory it belongs to (``# respond-lab: <home>/lab``). `respond lab down` removes that
file only when it carries the stopped lab's marker (an inventory a user wrote is never
touched). A run, plan or drill given a lab inventory while that lab is not running (the file
is gone, or its lab stopped without cleaning up) stops at once with :data:`NOT_RUNNING`
instead of retrying ports nothing listens on.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "# respond-lab: "
NOT_RUNNING = "the lab is not running (start it with `respond lab up`)"
_HEAD_BYTES = 4096  # the marker is in the header comment


def marker_line(lab_root: Path) -> str:
    return f"{MARKER}{lab_root}\n"


def lab_root_of(path: Path) -> Path | None:
    """The lab directory an inventory file was written for; None if it is not a lab's."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return None
    for line in head.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(MARKER):
            return Path(line[len(MARKER) :].strip())
    return None


def remove_if_lab(path: Path, lab_root: Path) -> bool:
    """Remove ``path`` if it is the inventory of the lab in ``lab_root``; True if removed."""
    if lab_root_of(path) != lab_root:
        return False
    path.unlink(missing_ok=True)
    return True


def check_running(path: Path, project_lab_inventory: Path | None) -> None:
    """Raise a ConfigError (exit 2) when ``path`` is a lab inventory whose lab is down."""
    from respond.errors import ConfigError

    if not path.exists():
        if project_lab_inventory is not None and _same(path, project_lab_inventory):
            raise ConfigError(NOT_RUNNING)
        return
    root = lab_root_of(path)
    if root is None:
        return
    from respond.lab.control import running_pid
    from respond.lab.paths import LabPaths

    if running_pid(LabPaths(root)) is None:
        raise ConfigError(NOT_RUNNING)


def _same(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()
