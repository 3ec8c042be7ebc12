"""The one strict reader for user-written YAML: runbooks, inventories and their ``group_vars/``
and ``host_vars/`` files, answers files, ``respond.yaml`` and drills.

PyYAML's ``safe_load`` keeps the last of duplicate keys silently, loses positions and expands
aliases without limit. Here the C composer (``yaml.compose`` with ``CSafeLoader``, fast and
still carrying marks) builds the node graph, which is checked before anything is built, and a
small walker turns it into plain data. A file is refused when

- it is larger than a size cap (checked before a byte is read; at most the cap is ever read);
- it is not UTF-8 (a BOM is fine), or is not YAML, or holds several documents;
- a tab stands where YAML expects indentation (named as such, not as a cryptic token error);
- its aliases would expand it beyond a cap of values (a "billion laughs" file is refused from
  the node graph, before anything is expanded), or an anchor contains itself;
- it uses a tag other than the safe YAML types (plus the few a caller names, such as the
  inventory's ``!vault``): no Python objects, no ``!!set``;
- a mapping, at any depth, has the same key twice (both places are named).

Every problem is an ``Issue`` with ``file:line:col``; no YAML exception escapes.

Two ways in: ``read_yaml``/``parse_yaml`` give data plus the position of every value and key;
``compose_yaml`` gives the checked node graph to a reader that walks the structure itself (the
inventory, whose messages name groups and hosts), with ``YamlNodes.build`` for the values.
``resolve_definition`` finds a definition file (a drill, an inspection) by name or path.
This module imports only ``respond.errors``, so every layer can use it.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from respond.errors import InvalidInput, Issue, Location

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_BYTES = 1024 * 1024  # a runbook is a page or two of YAML; 1 MiB is generous
MAX_NODES = 200_000  # values per file once aliases are expanded

Path_ = tuple[Any, ...]
#: Extra tags a caller accepts: tag → function of the plain value (str, list or dict).
Tags = Mapping[str, Callable[[Any], Any]]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL = "tag:yaml.org,2002:bool"
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
    #: How each boolean was written (``yes``, ``on``, ``True``...): YAML 1.1 reads all of
    #: these as booleans, and a reader that must not take ``on`` for ``yes`` can tell.
    words: dict[Path_, str] = field(default_factory=dict)

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


# ---------------------------------------------------------------------------------------------
# bytes → text


def read_source(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int = MAX_BYTES,
    shown: str | None = None,
) -> tuple[bytes, str]:
    """The file's bytes and its UTF-8 text; raise ``InvalidInput`` (``file:line:col``).

    The size cap is checked on the file's size before it is read, and no more than the cap is
    ever read (a FIFO or ``/dev/zero`` reports size 0)."""
    source = Path(path)
    shown = display_path(source) if shown is None else shown
    try:
        size = source.stat().st_size
        if size > max_bytes:
            raise _too_large(what, shown, max_bytes, size)
        with source.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {shown}",
            [Issue(f"cannot read {what}: {exc.strerror or exc}", Location(shown))],
        ) from None
    if len(raw) > max_bytes:  # grew between stat and read, or not a regular file
        raise _too_large(what, shown, max_bytes, None)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)  # after a BOM
        line = raw.count(b"\n", 0, bad) + 1
        column = bad - (raw.rfind(b"\n", 0, bad) + 1) + 1
        raise InvalidInput(
            f"{shown} is not UTF-8 text",
            [
                Issue(
                    f"{what} is not UTF-8 text: byte 0x{raw[bad]:02x} is not valid UTF-8",
                    Location(shown, line, column),
                )
            ],
        ) from None
    return raw, text


def _too_large(what: str, shown: str, max_bytes: int, size: int | None) -> InvalidInput:
    got = f": {size:,} bytes" if size is not None else ""
    return InvalidInput(
        f"{what} too large",
        [Issue(f"{what} too large{got} (the limit is {max_bytes:,} bytes)", Location(shown))],
    )


# ---------------------------------------------------------------------------------------------
# text → checked node graph


class _Fail(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _compose(text: str, file: str, max_nodes: int) -> Node | None:
    """The document's root node, its size checked; raise ``_Fail``."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _Fail(_syntax_issue(text, file, exc)) from None
    except yaml.reader.ReaderError as exc:  # a control character, a lone surrogate
        before = text[: exc.position]
        where = Location(file, before.count("\n") + 1, len(before) - before.rfind("\n"))
        raise _Fail(Issue(f"invalid YAML: {exc.reason}", where)) from None
    except yaml.YAMLError as exc:
        raise _Fail(Issue(f"invalid YAML: {exc}", Location(file))) from None
    except RecursionError:
        raise _Fail(Issue("invalid YAML: nested too deeply", Location(file))) from None
    if root is not None and "&" in text and "*" in text:  # else no anchor or no alias
        _check_expansion(root, file, max_nodes)
    return root


def _syntax_issue(text: str, file: str, exc: yaml.MarkedYAMLError) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Issue(f"invalid YAML: {exc.problem or exc}", Location(file))
    where = Location(file, mark.line + 1, mark.column + 1)
    lines = text.split("\n")
    at = lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""
    if at == "\t" or "tab character" in (exc.problem or ""):
        return Issue(
            "invalid YAML: a tab character where YAML expects spaces; indent with spaces", where
        )
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark and exc.problem_mark:
        cm = exc.context_mark
        problem += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
    elif exc.context:
        problem += f" ({exc.context})"
    return Issue(f"invalid YAML: {problem}", where)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: Node, file: str, max_nodes: int) -> None:
    """Refuse a graph whose aliases expand it beyond ``max_nodes`` values or into a loop,
    from the graph itself (each node is visited once, nothing is expanded)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose subtree is being sized: their ancestors on the path
    aliased = False
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        ident = id(node)
        if done:
            open_.discard(ident)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > max_nodes:
                raise _Fail(
                    Issue(
                        f"too many YAML aliases: the aliases expand to too many values "
                        f"(more than {max_nodes:,}); this looks like an alias bomb"
                        if aliased
                        else f"document too large (more than {max_nodes:,} YAML values)",
                        _loc(file, node),
                    )
                )
            sizes[ident] = total
            continue
        if ident in sizes:
            aliased = True
            continue
        if ident in open_:
            raise _Fail(
                Issue("recursive YAML alias (an anchor that contains itself)", _loc(file, node))
            )
        if isinstance(node, ScalarNode):
            sizes[ident] = 1
            continue
        open_.add(ident)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))


def _tag(node: Node) -> str:
    tag = str(node.tag)
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


# ---------------------------------------------------------------------------------------------
# node graph → data


class _Builder:
    def __init__(
        self, file: str, max_nodes: int, tags: Tags | None, positions: Positions | None
    ) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.tags = tags or {}
        self.positions = positions
        self.issues: list[Issue] = []
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > self.max_nodes:  # only reachable by a file without aliases
            raise _Fail(
                Issue(
                    f"document too large (more than {self.max_nodes:,} YAML values)",
                    _loc(self.file, node),
                )
            )
        if self.positions is not None:
            self.positions.values.setdefault(path, _loc(self.file, node))
            if node.tag == _BOOL:
                self.positions.words.setdefault(path, str(node.value))
        convert = self.tags.get(node.tag) if self.tags else None
        if isinstance(node, MappingNode):
            if node.tag != _MAP and convert is None:
                raise _Fail(
                    Issue(
                        f"unsupported YAML tag {_tag(node)} (only plain mappings)",
                        _loc(self.file, node),
                    )
                )
            value: Any = self.mapping(node, path)
        elif isinstance(node, SequenceNode):
            if node.tag != _SEQ and convert is None:
                raise _Fail(
                    Issue(
                        f"unsupported YAML tag {_tag(node)} (only safe YAML types)",
                        _loc(self.file, node),
                    )
                )
            value = [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        elif convert is not None:
            value = str(node.value)
        else:
            return self.scalar(node)
        if convert is None:
            return value
        try:
            return convert(value)
        except (TypeError, ValueError) as exc:
            raise _Fail(
                Issue(f"invalid {_tag(node)} value: {exc}", _loc(self.file, node))
            ) from None

    def scalar(self, node: Node) -> Any:
        if node.tag not in _SAFE_SCALARS:
            raise _Fail(
                Issue(
                    f"unsupported YAML tag {_tag(node)} (only safe YAML types)",
                    _loc(self.file, node),
                )
            )
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise _Fail(Issue(f"invalid YAML value: {problem}", _loc(self.file, node))) from None

    def mapping(self, node: MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: dict[Any, Location] = {}
        merged: list[tuple[Node, Node]] = []
        positions = self.positions
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.append((key_node, value_node))
                continue
            key_loc = _loc(self.file, key_node)
            if not isinstance(key_node, ScalarNode):
                self.issues.append(
                    Issue("a mapping key must be a plain value, not a list or mapping", key_loc)
                )
                continue
            key = self.scalar(key_node)
            if not isinstance(key, Hashable):
                self.issues.append(Issue(f"unusable mapping key {key!r}", key_loc))
                continue
            if key in explicit:
                first = explicit[key]
                self.issues.append(
                    Issue(
                        f"duplicate key {key!r} (first defined at line {first.line}, "
                        f"column {first.column})",
                        key_loc,
                    )
                )
                continue
            explicit[key] = key_loc
            child = (*path, key)
            if positions is not None:
                positions.keys[child] = key_loc
            result[key] = self.build(value_node, child)
        # ``<<: *defaults`` merges: explicit keys win; a later merge source does not override an earlier one
        for key_node, value_node in merged:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise _Fail(Issue("'<<' merges only mappings", _loc(self.file, source)))
                data = self.build(source, (*path, "<<"))
                for key, value in data.items():
                    if key not in result:
                        result[key] = value
                        if positions is not None:
                            positions.keys.setdefault((*path, key), _loc(self.file, key_node))
                            positions.values.setdefault((*path, key), _loc(self.file, source))
        return result


# ---------------------------------------------------------------------------------------------
# the API


def parse_yaml(
    text: str, file: str, *, max_nodes: int = MAX_NODES, tags: Tags | None = None
) -> tuple[Any, Positions, list[Issue]]:
    """Parse one YAML document. Returns (data, positions, issues); ``data`` is None when the
    document could not be parsed at all (the issues say why) or is empty."""
    positions = Positions(file)
    try:
        root = _compose(text, file, max_nodes)
    except _Fail as fail:
        return None, positions, [fail.issue]
    if root is None:
        return None, positions, []
    builder = _Builder(file, max_nodes, tags, positions)
    try:
        data = builder.build(root, ())
    except _Fail as fail:
        return None, positions, [*builder.issues, fail.issue]
    except RecursionError:
        return None, positions, [Issue("invalid YAML: nested too deeply", _loc(file, root))]
    return data, positions, builder.issues


def read_yaml(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
    tags: Tags | None = None,
    shown: str | None = None,
) -> YamlDocument:
    """Read and parse a YAML file; raise ``InvalidInput`` with every issue found.

    ``what`` names the file in messages ("runbook", "answers file"); ``shown`` is the name
    issues carry (default: the path relative to the current directory). An empty document
    gives ``data=None`` (the caller decides if that is wrong).
    """
    source = Path(path)
    shown = display_path(source) if shown is None else shown
    raw, text = read_source(source, what=what, max_bytes=max_bytes, shown=shown)
    data, positions, issues = parse_yaml(text, shown, max_nodes=max_nodes, tags=tags)
    if issues:
        raise InvalidInput(f"{shown}: invalid YAML", issues)
    return YamlDocument(
        data=data,
        positions=positions,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=source,
    )


class YamlNodes:
    """A checked node graph (syntax, one document, tabs, alias expansion) whose values are
    built on demand, for a reader that walks the structure itself."""

    def __init__(self, file: str, root: Node | None, builder: _Builder) -> None:
        self.file = file
        self.root = root
        self._builder = builder

    def location(self, node: Node) -> Location:
        return _loc(self.file, node)

    def build(self, node: Node) -> tuple[Any, list[Issue]]:
        """The plain value of ``node`` and the issues found in it (duplicate keys, tags); the
        value is None when it could not be built at all."""
        builder = self._builder
        builder.issues = []
        try:
            value = builder.build(node, ())
        except _Fail as fail:
            return None, [*builder.issues, fail.issue]
        except RecursionError:
            return None, [Issue("invalid YAML: nested too deeply", _loc(self.file, node))]
        return value, builder.issues


def compose_yaml(
    text: str, file: str, *, max_nodes: int = MAX_NODES, tags: Tags | None = None
) -> YamlNodes:
    """The checked node graph of one document; raise ``InvalidInput`` when it is not one."""
    try:
        root = _compose(text, file, max_nodes)
    except _Fail as fail:
        raise InvalidInput(f"{file}: invalid YAML", [fail.issue]) from None
    return YamlNodes(file, root, _Builder(file, max_nodes, tags, None))


# ---------------------------------------------------------------------------------------------
# definition files: a project folder of YAML files (drills/, inspections/), each named by its
# file name; the lookup, the "did you mean" and the refusal read the same for every kind

DEFINITION_SUFFIXES = (".yaml", ".yml")


def definition_files(directory: Path) -> list[Path]:
    """Every definition file of a folder (``*.yaml``, ``*.yml``), sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in DEFINITION_SUFFIXES and p.is_file())


def definition_stem(path: Path) -> str:
    """A definition's name: its file name without the suffix."""
    stem = path.name
    for suffix in DEFINITION_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem


def resolve_definition(
    name_or_path: str | os.PathLike[str],
    *,
    root: Path,
    directory: Path,
    what: str,
    error: Callable[[str], Exception],
) -> Path:
    """A definition's name (``daily``) or a file path → the file; ``error`` (a message naming
    the known ``what``s of ``directory``, with the closest) otherwise."""
    text = os.fspath(name_or_path)
    candidate = Path(text)
    if candidate.suffix in DEFINITION_SUFFIXES or os.sep in text or "/" in text:
        for path in (candidate, root / candidate):
            if path.is_file():
                return path
        raise error(f"no {what} file {text}")
    for suffix in DEFINITION_SUFFIXES:
        path = directory / f"{text}{suffix}"
        if path.is_file():
            return path
    known = [p.stem for p in definition_files(directory)]
    raise error(unknown_definition(text, known, what=what))


def unknown_definition(name: str, known: Sequence[str], *, what: str) -> str:
    """``no drill named 'x' (did you mean 'y'?); known: ...``"""
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = f"known: {', '.join(known)}" if known else f"there are none in {what}s/ yet"
    return f"no {what} named {name!r}{hint}; {listing}"
