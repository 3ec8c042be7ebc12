"""The INI inventory format, parsed like Ansible's ``ini`` inventory plugin (private).

Lines before the first section belong to ``[ungrouped]``. ``[g]`` lists hosts (``name[:port]
key=value ...``, tokenised with shlex, ``#`` starts a comment), ``[g:vars]`` lists ``key=value``
(split on the first ``=``, no shlex), ``[g:children]`` lists group names, which may be declared
by their own section later in the file. Values go through ``ast.literal_eval`` as in Ansible,
so ``1`` is an int, ``True`` a bool, ``[1, 2]`` a list and ``"a b"`` a string, while anything
that is not a Python literal stays a string.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from typing import Any

from ..errors import Issue, Location
from ._addresses import AddressError, expand_host_pattern
from ._builder import Builder, BuildError

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:\#.*)?$")
_GROUPNAME = re.compile(r"^([^:\]\s]+)\s*(?:\#.*)?$")
_COMMENT = ("#", ";")
# Words literal_eval would refuse anyway (a name, dotted name, path or dashed word): skip it.
_PLAIN_WORD = re.compile(r"[A-Za-z_][\w.\-/]*")
_CONSTANTS = frozenset({"True", "False", "None"})


def parse_value(text: str) -> Any:
    """Ansible's INI value conversion (``InventoryModule._parse_value``)."""
    if _PLAIN_WORD.fullmatch(text) and text not in _CONSTANTS:
        return text
    value: Any = text
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = text
    return _coerce(value)


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set):
        return [_coerce(v) for v in value]
    if isinstance(value, dict):
        return {_coerce(k): _coerce(v) for k, v in value.items()}
    if value is ...:
        return "..."
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value


def parse_ini(builder: Builder, text: str) -> None:
    """Fill ``builder`` from INI ``text``; problems go to ``builder.issues`` with line:col."""
    file = builder.file
    pending: dict[str, dict[str, Any]] = {}
    group = "ungrouped"
    state = "hosts"

    def issue(message: str, lineno: int, col: int = 1) -> None:
        builder.issues.append(Issue(message, Location(file, lineno, col)))

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in _COMMENT:
            continue
        col = len(raw) - len(raw.lstrip()) + 1
        m = _SECTION.match(line)
        if m:
            name, kind = m.groups()
            kind = kind or "hosts"
            if kind not in ("hosts", "children", "vars"):
                issue(
                    f"section [{name}:{kind}] has unknown type {kind!r} "
                    "(expected hosts, children or vars)",
                    lineno,
                    col,
                )
                # keep parsing the following lines as variables of nothing
                group, state = name, "skip"
                continue
            group, state = name, kind
            if name not in builder.groups:
                if kind == "vars" and name not in pending:
                    pending[name] = {"line": lineno, "col": col, "state": kind, "parents": []}
                builder.add_group(name, Location(file, lineno, col))
            if name in pending and kind != "vars":
                if pending[name]["state"] == "children":
                    _add_pending_children(builder, name, pending, issue)
                elif pending[name]["state"] == "vars":
                    del pending[name]
            continue
        if line.startswith("[") and line.endswith("]"):
            issue(
                f"invalid section header {line!r}: a section is [group], [group:vars] or "
                "[group:children], with no spaces",
                lineno,
                col,
            )
            group, state = "", "skip"
            continue
        if state == "skip":
            continue
        try:
            if state == "hosts":
                _host_line(builder, group, line, Location(file, lineno, col))
            elif state == "vars":
                if "=" not in line:
                    raise BuildError(f"expected key=value, got: {line}")
                key, value = (part.strip() for part in line.split("=", 1))
                if not key:
                    raise BuildError(f"missing variable name before '=': {line}")
                builder.set_group_var(group, key, parse_value(value), Location(file, lineno, col))
            else:  # children
                m = _GROUPNAME.match(line)
                if not m:
                    raise BuildError(f"expected a group name, got: {line}")
                child = m.group(1)
                if child not in builder.groups:
                    if child not in pending:
                        pending[child] = {
                            "line": lineno,
                            "col": col,
                            "state": "children",
                            "parents": [group],
                        }
                    else:
                        pending[child]["parents"].append(group)
                else:
                    builder.add_child(group, child)
        except BuildError as exc:
            issue(exc.message, lineno, col)

    for name, decl in pending.items():
        if decl["state"] == "vars":
            issue(
                f"section [{name}:vars] is for group {name!r}, which is not defined "
                f"(declare it with [{name}] or [{name}:children])",
                decl["line"],
                decl["col"],
            )
        else:
            issue(
                f"section [{decl['parents'][-1]}:children] includes undefined group {name!r}",
                decl["line"],
                decl["col"],
            )


def _add_pending_children(
    builder: Builder, group: str, pending: dict[str, dict[str, Any]], issue: Any
) -> None:
    decl = pending.pop(group)
    for parent in decl["parents"]:
        try:
            builder.add_child(parent, group)
        except BuildError as exc:
            issue(exc.message, decl["line"], decl["col"])
        if parent in pending and pending[parent]["state"] == "children":
            _add_pending_children(builder, parent, pending, issue)


def _host_line(builder: Builder, group: str, line: str, where: Location) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise BuildError(f"cannot parse host line {line!r}: {exc}") from None
    if not tokens:
        return
    pattern = tokens[0]
    try:
        names, port = expand_host_pattern(pattern)
    except AddressError as exc:
        raise BuildError(f"bad host {pattern!r}: {exc}") from None
    if pattern.strip().endswith(":") and port is None:
        raise BuildError(
            f"invalid host {pattern!r}: it ends in ':', which is reserved for a port number"
        )
    if "---" in (n.strip() for n in names):
        raise BuildError("invalid host '---': this looks like a YAML file read as INI")
    variables: dict[str, Any] = {}
    for token in tokens[1:]:
        if "=" not in token:
            raise BuildError(f"expected key=value host variable after the host name, got: {token}")
        key, value = token.split("=", 1)
        if not key:
            raise BuildError(f"missing variable name before '=' in {token!r}")
        variables[key] = parse_value(value)
    for name in names:
        builder.add_host(name, group, port, where)
        for key, value in variables.items():
            builder.set_host_var(name, key, value, where)
