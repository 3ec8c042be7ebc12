"""YAML with positions: plain Python data plus ``{field path → Location}`` for every node.

PyYAML's ``safe_load`` loses positions, keeps the last of duplicate keys silently and
expands aliases without limit. Here the C composer (``yaml.compose`` with ``CSafeLoader``,
fast and still carrying marks) builds the node graph, and a small walker turns it into
data: duplicate keys are errors naming both places, alias expansions are capped (a
"billion laughs" file is refused, not expanded), only the safe YAML tags are allowed, and
files over a size cap are refused before a byte is parsed. Every problem is an ``Issue``
with ``file:line:col``; nothing here lets a YAML exception escape.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from respond.errors import InvalidInput, Issue, Location

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_BYTES = 1024 * 1024  # a runbook is a page or two of YAML; 1 MiB is generous
MAX_ALIASES = 100  # alias expansions per file
MAX_NODES = 200_000  # nodes built per file, aliases included

Path_ = tuple[Any, ...]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SAFE_SCALARS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:value",
}


def display_path(path: str | os.PathLike[str]) -> str:
    """The path as a user should see it: relative to the current directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


@dataclass(frozen=True, slots=True)
class Positions:
    """Where each node of a document was written: values and mapping keys by field path."""

    file: str
    values: dict[Path_, Location] = field(default_factory=dict)
    keys: dict[Path_, Location] = field(default_factory=dict)

    def value(self, path: Path_) -> Location | None:
        return self.values.get(tuple(path))

    def key(self, path: Path_) -> Location | None:
        """The position of the key that introduces ``path`` (falls back to its value)."""
        path = tuple(path)
        return self.keys.get(path) or self.values.get(path)

    def nearest(self, path: Path_) -> Location:
        """The position of ``path`` or of its closest ancestor that exists in the file."""
        path = tuple(path)
        while path:
            loc = self.values.get(path) or self.keys.get(path)
            if loc is not None:
                return loc
            path = path[:-1]
        return self.values.get((), Location(self.file, 1, 1))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    positions: Positions
    text: str
    sha256: str
    source: Path


def _tag(node: yaml.Node) -> str:
    tag = str(node.tag)
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


class _Fail(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class _Builder:
    def __init__(self, file: str, max_aliases: int) -> None:
        self.file = file
        self.max_aliases = max_aliases
        self.positions = Positions(file)
        self.issues: list[Issue] = []
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.aliases = 0
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        ident = id(node)
        if ident in self.active:
            raise _Fail(
                Issue("recursive YAML alias (an anchor that contains itself)", self.loc(node))
            )
        if ident in self.seen:
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _Fail(
                    Issue(
                        f"too many YAML aliases (more than {self.max_aliases} expansions); "
                        "this looks like an alias bomb",
                        self.loc(node),
                    )
                )
        self.seen.add(ident)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Fail(
                Issue(f"document too large (more than {MAX_NODES} YAML nodes)", self.loc(node))
            )
        self.positions.values.setdefault(path, self.loc(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise _Fail(
                    Issue(
                        f"unsupported YAML tag {_tag(node)} (only plain mappings)", self.loc(node)
                    )
                )
            self.active.add(ident)
            try:
                return self.mapping(node, path)
            finally:
                self.active.discard(ident)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _Fail(
                    Issue(
                        f"unsupported YAML tag {_tag(node)} (only safe YAML types)", self.loc(node)
                    )
                )
            self.active.add(ident)
            try:
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            finally:
                self.active.discard(ident)
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SAFE_SCALARS:
            raise _Fail(
                Issue(f"unsupported YAML tag {_tag(node)} (only safe YAML types)", self.loc(node))
            )
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise _Fail(Issue(f"invalid YAML value: {problem}", self.loc(node))) from None

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: dict[Any, Location] = {}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.append((key_node, value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    Issue(
                        "a mapping key must be a plain value, not a list or mapping",
                        self.loc(key_node),
                    )
                )
                continue
            key = self.scalar(key_node)
            if not isinstance(key, Hashable):
                self.issues.append(Issue(f"unusable mapping key {key!r}", self.loc(key_node)))
                continue
            key_loc = self.loc(key_node)
            if key in explicit:
                first = explicit[key]
                self.issues.append(
                    Issue(
                        f"duplicate key {key!r} (first defined at line {first.line}, column {first.column})",
                        key_loc,
                    )
                )
                continue
            explicit[key] = key_loc
            child = (*path, key)
            self.positions.keys[child] = key_loc
            result[key] = self.build(value_node, child)
        # ``<<: *defaults`` merges: explicit keys win; a later merge source does not override an earlier one
        for key_node, value_node in merged:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise _Fail(Issue("'<<' merges only mappings", self.loc(source)))
                data = self.build(source, (*path, "<<"))
                for key, value in data.items():
                    if key not in result:
                        result[key] = value
                        self.positions.keys.setdefault((*path, key), self.loc(key_node))
                        self.positions.values.setdefault((*path, key), self.loc(source))
        return result


def parse_yaml(
    text: str, file: str, *, max_aliases: int = MAX_ALIASES
) -> tuple[Any, Positions, list[Issue]]:
    """Parse one YAML document. Returns (data, positions, issues); ``data`` is None when the
    document could not be parsed at all (the issues say why)."""
    builder = _Builder(file, max_aliases)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark:
            cm = exc.context_mark
            problem += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        elif exc.context:
            problem += f" ({exc.context})"
        return None, builder.positions, [Issue(f"invalid YAML: {problem}", where)]
    except yaml.YAMLError as exc:
        return None, builder.positions, [Issue(f"invalid YAML: {exc}", Location(file))]
    except RecursionError:
        return None, builder.positions, [Issue("invalid YAML: nested too deeply", Location(file))]
    if node is None:
        return None, builder.positions, []
    try:
        data = builder.build(node, ())
    except _Fail as fail:
        return None, builder.positions, [*builder.issues, fail.issue]
    except RecursionError:
        return None, builder.positions, [Issue("invalid YAML: nested too deeply", Location(file))]
    return data, builder.positions, builder.issues


def read_yaml(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_BYTES,
    max_aliases: int = MAX_ALIASES,
    what: str = "file",
) -> YamlDocument:
    """Read and parse a YAML file; raise ``InvalidInput`` with every issue found.

    The size cap is checked on the file's size before it is read, so a huge file costs
    nothing. An empty document gives ``data=None`` (the caller decides if that is wrong).
    """
    source = Path(path)
    shown = display_path(source)
    try:
        size = source.stat().st_size
        if size > max_bytes:
            raise InvalidInput(
                f"{what} too large",
                [
                    Issue(
                        f"{what} too large: {size:,} bytes (the limit is {max_bytes:,} bytes)",
                        Location(shown),
                    )
                ],
            )
        raw = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {shown}",
            [Issue(f"cannot read {what}: {exc.strerror or exc}", Location(shown))],
        ) from None
    if len(raw) > max_bytes:  # grew between stat and read
        raise InvalidInput(
            f"{what} too large",
            [Issue(f"{what} too large (limit {max_bytes:,} bytes)", Location(shown))],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            "not UTF-8",
            [Issue(f"{what} is not valid UTF-8 text (byte {exc.start})", Location(shown, line, 1))],
        ) from None
    data, positions, issues = parse_yaml(text, shown, max_aliases=max_aliases)
    if issues:
        raise InvalidInput(f"{shown}: invalid YAML", issues)
    return YamlDocument(
        data=data,
        positions=positions,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=source,
    )
