"""A cache of validated runbooks' descriptions, so ``respond list`` and ``respond show``
answer without importing pydantic or Jinja2 (like mypy's cache: keyed by content, trusted
for nothing else).

An entry is written right after a runbook has loaded and validated in full
(``load_runbook``). It is used only when all of these are unchanged:

- the file's bytes (sha256), its path (absolute, and with symlinks resolved: the file
  name is the runbook's expected id);
- the code that validated it: every ``.py`` file of the respond package (path, size,
  mtime) and the installed pydantic, pydantic-core, Jinja2, MarkupSafe and PyYAML;
- this cache's format.

Anything else is a miss, and the file is loaded and validated again. Runbooks that fail to
load are never cached, so their errors always come from a fresh validation. Entries live in
``<home>/cache/runbooks/``, one per runbook path (an edited runbook overwrites its entry);
writing is best effort (a read-only home only means no cache), atomic (write, then
rename), owner-only (0600 in a 0700 directory), and secret param defaults are stored as
``***``, as ``respond show`` prints them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.runbook.model import Runbook

FORMAT = 1
_DEPENDENCIES = ("pydantic", "pydantic_core", "jinja2", "markupsafe", "yaml")


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
    cache_file = _entry_file(path, config)
    digest = None
    if cache_file is not None:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        entry = _read(cache_file) if digest is not None else None
        if (
            entry is not None
            and entry.get("format") == FORMAT
            and entry.get("sha256") == digest
            and entry.get("path") == _identity(path)
            and entry.get("code") == code_fingerprint()
        ):
            return entry["description"]

    from respond.runbook.loader import load_runbook

    rb = load_runbook(path, config)
    description = describe(rb)
    if cache_file is not None:
        _write(
            cache_file,
            {
                "format": FORMAT,
                "path": _identity(path),
                "sha256": rb.sha256,  # of the bytes that were validated
                "code": code_fingerprint(),
                "description": description,
            },
        )
    return description


@cache
def code_fingerprint() -> str:
    """Changes whenever the code that validates runbooks may have changed."""
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


def _identity(path: Path) -> str:
    try:
        resolved = str(path.resolve())
    except OSError:
        resolved = ""
    return f"{os.path.abspath(path)}\0{resolved}"


def _entry_file(path: Path, config: ProjectConfig | None) -> Path | None:
    if config is None:
        return None
    name = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:32]
    return config.home / "cache" / "runbooks" / f"{name}.json"


def _read(file: Path) -> dict[str, Any] | None:
    try:
        with open(file, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
