"""Files a runbook names inside a project folder (a playbook, a TextFSM template)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

FileProblem = Literal["outside", "missing"]


def file_in(folder: Path, name: str) -> tuple[Path, FileProblem | None]:
    """``name`` resolved inside ``folder``, and what is wrong with it: ``outside`` when it
    is absolute or leads out of the folder (``..``, a symlink), ``missing`` when no file is
    there."""
    base = folder.resolve()
    path = (base / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base):
        return path, "outside"
    if not path.is_file():
        return path, "missing"
    return path, None
