"""Finding and loading runbooks: a name or a path in, a validated ``Runbook`` out."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import InvalidInput, RunbookInvalid, RunbookNotFound
from respond.yamlfile import parse_yaml, read_yaml

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.runbook.model import Runbook

SUFFIXES = (".yaml", ".yml")

_cache: dict[tuple[Any, ...], Runbook] = {}
_cache_lock = threading.Lock()


def find_runbooks(config: ProjectConfig) -> list[Path]:
    """Every runbook file of the project, sorted by name."""
    directory = config.runbooks_dir
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def resolve_runbook(
    name_or_path: str | os.PathLike[str], config: ProjectConfig | None = None
) -> Path:
    """A runbook name (``power-outage``) or a file path → the file; RunbookNotFound otherwise."""
    text = os.fspath(name_or_path)
    candidate = Path(text)
    looks_like_path = candidate.suffix in SUFFIXES or os.sep in text or "/" in text
    if looks_like_path:
        if candidate.is_file():
            return candidate
        if config is None or not (config.root / candidate).is_file():
            raise RunbookNotFound(text)
        return config.root / candidate
    if config is None:
        from respond.config import load_config

        config = load_config()
    for suffix in SUFFIXES:
        path = config.runbooks_dir / f"{text}{suffix}"
        if path.is_file():
            return path
    raise RunbookNotFound(text, [p.stem for p in find_runbooks(config)])


def load_runbook(
    path_or_name: str | os.PathLike[str], config: ProjectConfig | None = None
) -> Runbook:
    """Load and validate one runbook; raise ``RunbookInvalid`` with every issue of the file.

    Loads are cached on (path, mtime, size): a runbook is immutable once loaded. The path
    is the one given as well as the file it resolves to: a symlink under another name is
    checked under that name (the file name is the runbook's id).
    """
    from respond.runbook.filters import fingerprint

    path = resolve_runbook(path_or_name, config)
    root = config.root if config is not None else None
    try:
        stat = path.stat()
        # the project's filters are part of what a load checked (templates may use them)
        key = (
            os.path.abspath(path),
            str(path.resolve()),
            stat.st_mtime_ns,
            stat.st_size,
            str(root),
            fingerprint(root),
        )
    except OSError:
        key = None
    if key is not None:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
    runbook = _load(path, root)
    if key is not None:
        with _cache_lock:
            _cache[key] = runbook
    return runbook


def _load(path: Path, root: Path | None) -> Runbook:
    from respond.runbook.model import build_runbook

    try:
        doc = read_yaml(path, what="runbook")
    except InvalidInput as exc:
        raise RunbookInvalid(exc.message, exc.issues) from None
    stem = path.name
    for suffix in SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    runbook = build_runbook(
        doc.data,
        doc.positions,
        source=path,
        text=doc.text,
        sha256=doc.sha256,
        expected_id=stem,
    )
    from respond.runbook.validate import template_issues

    issues = template_issues(runbook, root)
    if issues:
        raise RunbookInvalid(f"{doc.positions.file}: invalid templates", issues)
    return runbook


def load_runbook_text(text: str, *, shown: str, sha256: str, root: Path | None = None) -> Runbook:
    """A runbook from text held elsewhere (a run's stored copy), never written to a file.

    ``shown`` names it in messages; ``sha256`` is the hash recorded for it (checked by the
    caller). No file name is involved, so the id is the one the text declares. ``root``
    is the project's folder, whose filters its templates may use."""
    from respond.runbook.model import build_runbook
    from respond.runbook.validate import template_issues

    data, positions, issues = parse_yaml(text, shown)
    if issues:
        raise RunbookInvalid(f"{shown}: invalid YAML", issues)
    runbook = build_runbook(data, positions, source=Path(shown), text=text, sha256=sha256)
    template_problems = template_issues(runbook, root)
    if template_problems:
        raise RunbookInvalid(f"{shown}: invalid templates", template_problems)
    return runbook
