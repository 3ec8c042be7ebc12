"""Caches of what validation found, so ``respond list``, ``show`` and ``validate`` answer
for unchanged files without importing pydantic or Jinja2 (like mypy's cache: keyed by
content, trusted for nothing else).

An entry is written right after a file has been checked in full, and used only when all
of these are unchanged:

- the file's bytes (sha256) and its path (absolute, and with symlinks resolved: a
  runbook's file name is its expected id);
- the code that checked it: every ``.py`` file of the respond package (path, size, mtime,
  inode) and the installed pydantic, pydantic-core, Jinja2, MarkupSafe and PyYAML;
- everything else the check read, named by the caller as the entry's *context*: for
  ``validate``, the current directory (messages show paths relative to it), the inventory
  the runbooks are checked against with its ``group_vars/`` and ``host_vars/``, the
  project's other inventories, and the tree of ``playbooks/``;
- this cache's format.

Anything else is a miss: the file is checked again and its entry replaced. Descriptions
(``list``/``show``) are written only for runbooks that load; ``validate`` keeps the issues
it found, errors included, so an unchanged broken file reports the same problems. Entries
live in ``<home>/cache/``, one per file and context. Writing is best effort (a read-only
home only means no cache), atomic (write, then rename) and owner-only (0600 in a 0700
directory); secret param defaults are stored as ``***``, as ``respond show`` prints them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.runbook.model import Runbook

FORMAT = 1
_DEPENDENCIES = ("pydantic", "pydantic_core", "jinja2", "markupsafe", "yaml")


# ---------------------------------------------------------------------------------------------
# list and show


def describe(rb: Runbook) -> dict[str, Any]:
    """What ``respond list`` and ``respond show`` need of a validated runbook: the JSON of
    ``respond show --json`` (``source`` left for the caller to fill, secret defaults as
    ``***``) plus what the text view asks of each step (``gated``, ``drill_mode``)."""
    data = rb.model_dump(by_alias=True, mode="json", exclude_defaults=False)
    for name, param in rb.params.items():
        if param.secret and param.default is not None:
            data["params"][name]["default"] = "***"
    data["source"] = None
    data["sha256"] = rb.sha256
    for i, step in enumerate(rb.steps):
        loc = step.location
        data["steps"][i]["line"] = loc.line if loc else None
    facts = [{"gated": bool(step.gated), "drill_mode": step.drill_mode} for step in rb.steps]
    return {"runbook": data, "steps": facts}


def load_description(path: Path, config: ProjectConfig | None) -> dict[str, Any]:
    """``describe(load_runbook(path))``, from the cache when the file and respond are
    unchanged since it last validated. Raises what ``load_runbook`` raises."""
    entries = Entries.of(config, "runbooks")
    if entries is not None:
        cached = entries.get(path, file_digest(path))
        if cached is not None:
            return cached  # type: ignore[no-any-return]

    from respond.runbook.loader import load_runbook

    rb = load_runbook(path, config)
    description = describe(rb)
    if entries is not None:
        entries.put(path, rb.sha256, description)  # the digest of the bytes validated
    return description


# ---------------------------------------------------------------------------------------------
# entries


class Entries:
    """One kind of entry (``runbooks``, ``validate``) under one context string."""

    def __init__(self, directory: Path, context: str = "") -> None:
        self.directory = directory
        self.context = context

    @classmethod
    def of(cls, config: ProjectConfig | None, kind: str, context: str = "") -> Entries | None:
        if config is None:
            return None
        return cls(config.home / "cache" / kind, context)

    def _file(self, path: Path) -> Path:
        key = f"{os.path.abspath(path)}\0{self.context}".encode()
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.json"

    def get(self, path: Path, digest: str | None) -> Any:
        """The value stored for ``path`` with these bytes, context and code; else None."""
        if digest is None:
            return None
        try:
            with open(self._file(path), encoding="utf-8") as fh:
                entry = json.load(fh)
        except (OSError, ValueError):
            return None
        if (
            isinstance(entry, dict)
            and entry.get("format") == FORMAT
            and entry.get("sha256") == digest
            and entry.get("path") == _identity(path)
            and entry.get("context") == self.context
            and entry.get("code") == code_fingerprint()
        ):
            return entry.get("value")
        return None

    def put(self, path: Path, digest: str | None, value: Any) -> None:
        if digest is None:
            return
        entry = {
            "format": FORMAT,
            "path": _identity(path),
            "sha256": digest,
            "context": self.context,
            "code": code_fingerprint(),
            "value": value,
        }
        _write(self._file(path), entry)


def _write(file: Path, entry: dict[str, Any]) -> None:
    import tempfile

    try:
        home = file.parents[2]
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        for directory in (file.parents[1], file.parent):
            directory.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".entry-", suffix=".tmp", dir=file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, ensure_ascii=False)
            os.replace(tmp, file)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, TypeError, ValueError):
        return  # a cache that cannot be written is no cache, not an error


def _identity(path: Path) -> str:
    try:
        resolved = str(path.resolve())
    except OSError:
        resolved = ""
    return f"{os.path.abspath(path)}\0{resolved}"


# ---------------------------------------------------------------------------------------------
# fingerprints


@functools.cache
def code_fingerprint() -> str:
    """Changes whenever the code that checks runbooks may have changed."""
    h = hashlib.sha256(f"{FORMAT}|{sys.implementation.cache_tag}".encode())
    package = Path(__file__).resolve().parent.parent
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                _stat_into(h, os.path.join(dirpath, name))
    from importlib.util import find_spec

    for name in _DEPENDENCIES:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        _stat_into(h, spec.origin if spec is not None and spec.origin else f"<no {name}>")
    return h.hexdigest()


def _stat_into(h: Any, path: str) -> None:
    try:
        st = os.stat(path)
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    except OSError:
        h.update(f"{path}\0-\n".encode())


def file_digest(path: str | os.PathLike[str]) -> str | None:
    """sha256 of the file's bytes; None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def tree_fingerprint(root: Path, *, contents: bool) -> str:
    """Every entry under ``root``, following symlinks: its path, its type, where a symlink
    points, and the bytes of each file (``contents``) or only that it is one."""
    h = hashlib.sha256(str(root).encode())
    if not root.is_dir():
        h.update(b"\0absent" if not root.exists() else b"\0not a directory")
        return h.hexdigest()
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            link = os.readlink(full) if os.path.islink(full) else ""
            if os.path.isdir(full):
                h.update(f"d\0{rel}\0{link}\n".encode())
            elif os.path.isfile(full):
                digest = file_digest(full) if contents else ""
                h.update(f"f\0{rel}\0{link}\0{digest}\n".encode())
            else:
                h.update(f"?\0{rel}\0{link}\n".encode())
    return h.hexdigest()


def inventory_fingerprint(path: Path) -> str:
    """Everything ``load_inventory(path)`` reads: the file and the ``group_vars/`` and
    ``host_vars/`` trees beside the file it resolves to."""
    try:
        base = path.resolve().parent
    except OSError:
        base = path.parent
    parts = [str(file_digest(path))] + [
        tree_fingerprint(base / name, contents=True) for name in ("group_vars", "host_vars")
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
