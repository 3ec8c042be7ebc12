"""Project filters: Python functions in the project's ``filters/`` folder become Jinja
filters for the project's runbooks (the convention of Ansible's ``filter_plugins``).

A module gives its filters either as Ansible does, a ``class FilterModule`` whose
``filters()`` returns ``{name: function}``, or as a module-level ``FILTERS = {name:
function}``. Every problem (a syntax or import error, a value that is not callable, a name
that shadows a built-in filter, the same name in two files) is an ``Issue`` at
``filters/FILE.py:LINE``, all of them at once, never a traceback.

Loaded filters are kept per project and reloaded when a file under ``filters/`` changes.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from respond.errors import InvalidInput, Issue, Location
from respond.yamlfile import display_path

FOLDER = "filters"

Filters = dict[str, Callable[..., Any]]

_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], Filters]] = {}
_lock = threading.Lock()


class FiltersInvalid(InvalidInput):
    """A module under the project's ``filters/`` cannot give its filters."""


def filter_files(root: Path) -> list[Path]:
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.py") if p.is_file() and not p.name.startswith("_"))


def fingerprint(root: Path | None) -> tuple[tuple[str, int, int], ...]:
    """What the loaded filters depend on: each file's name, mtime and size."""
    if root is None:
        return ()
    out = []
    for path in filter_files(root):
        stat = path.stat()
        out.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def project_filters(root: Path | None) -> Filters:
    """The filters of the project at ``root`` (none without a ``filters/`` folder);
    raise ``FiltersInvalid`` with every problem found."""
    if root is None:
        return {}
    key = root.resolve()
    stamp = fingerprint(key)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return dict(cached[1])
    found = _load_all(key)
    with _lock:
        _cache[key] = (stamp, found)
    return dict(found)


def builtin_filter_names() -> frozenset[str]:
    """Jinja's filters and the ones respond adds: a project filter may not replace them."""
    from respond.runbook.templating import builtin_filters

    return builtin_filters()


def _load_all(root: Path) -> Filters:
    found: Filters = {}
    origin: dict[str, Path] = {}
    issues: list[Issue] = []
    builtins = builtin_filter_names()
    for path in filter_files(root):
        try:
            module = _import(root, path)
            given = _filters_of(module, path)
        except FiltersInvalid as exc:
            issues += exc.issues
            continue
        for name, function in given.items():
            where = _where(path, _line_of(function, path, name))
            problem = _problem(name, function, builtins, origin.get(name))
            if problem:
                issues.append(Issue(problem, where))
                continue
            found[name] = function
            origin[name] = path
    if issues:
        raise FiltersInvalid(f"{display_path(root / FOLDER)}: invalid project filters", issues)
    return found


def _problem(name: Any, function: Any, builtins: frozenset[str], seen_in: Path | None) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        return f"filter name {name!r} must be an identifier"
    if not callable(function):
        return f"filter {name!r} is not a function (got {type(function).__name__})"
    if name in builtins:
        return f"filter {name!r} shadows a built-in filter; choose another name"
    if seen_in is not None:
        return f"filter {name!r} is also defined in {display_path(seen_in)}; filter names must be unique"
    return ""


def _exec(root: Path, path: Path) -> Any:
    name = f"respond_project_filters_{abs(hash(str(root))):x}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FiltersInvalid("cannot load", [Issue("cannot be loaded", _where(path, 1))])
    module = importlib.util.module_from_spec(spec)
    # registered like any imported module: dataclasses, pickle and typing look it up there
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import(root: Path, path: Path) -> Any:
    """Run the module; its errors become an Issue at the line that raised."""
    try:
        return _exec(root, path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        msg = f"syntax error: {exc.msg}"
        raise FiltersInvalid(msg, [Issue(msg, _where(path, line, exc.offset))]) from None
    except Exception as exc:
        msg = f"import failed: {type(exc).__name__}: {exc}"
        line = _failing_line(exc, path)
        raise FiltersInvalid(msg, [Issue(msg, _where(path, line))]) from None


def _failing_line(exc: BaseException, path: Path) -> int:
    line = 1
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path and frame.lineno:
            line = frame.lineno
    return line


def _filters_of(module: Any, path: Path) -> dict[Any, Any]:
    holder = getattr(module, "FilterModule", None)
    if holder is not None:
        try:
            given = holder().filters()
        except Exception as exc:
            msg = f"FilterModule().filters() failed: {type(exc).__name__}: {exc}"
            raise FiltersInvalid(
                msg, [Issue(msg, _where(path, _failing_line(exc, path)))]
            ) from None
        what = "FilterModule().filters()"
    else:
        given = getattr(module, "FILTERS", None)
        what = "FILTERS"
        if given is None:
            msg = "defines neither FILTERS = {name: function} nor class FilterModule"
            raise FiltersInvalid(msg, [Issue(msg, _where(path, 1))])
    if not isinstance(given, dict):
        msg = f"{what} must be a dict of name → function, got {type(given).__name__}"
        raise FiltersInvalid(msg, [Issue(msg, _where(path, _line_of(None, path, what)))])
    return given


def _line_of(function: Any, path: Path, name: str) -> int:
    """The line defining ``function`` in ``path``, else the first line naming ``name``."""
    code = getattr(function, "__code__", None)
    if code is not None and Path(code.co_filename) == path:
        return int(code.co_firstlineno)
    word = re.compile(rf"\b{re.escape(name.split('(')[0])}\b")
    try:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if word.search(text):
                return number
    except OSError:
        pass
    return 1


def _where(path: Path, line: int, column: int | None = None) -> Location:
    return Location(display_path(path), line, column or 1)
