"""A small position-aware, strict YAML reader for inventory files (private).

PyYAML's ``safe_load`` keeps the last of duplicate keys silently and loses positions. Here the
document is composed into nodes (libyaml when available), the inventory structure is walked on
the nodes so every issue names ``file:line:col``, and only variable values are constructed,
with duplicate keys refused and alias expansion capped (RELIABILITY rule 6).

``respond.runbook.yamlpos`` may replace this later; the inventory only needs ``parse``,
``construct`` and ``where``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Issue, Location

if TYPE_CHECKING:
    _Base = yaml.SafeLoader  # CSafeLoader has the same interface
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Cap on the expanded size (in nodes) of one document, against "billion laughs" aliases.
MAX_EXPANDED_NODES = 2_000_000


class VaultedValue(str):
    """An ``!vault`` value kept encrypted: respond cannot decrypt it, Ansible can.

    It is a ``str`` (the ciphertext) so it can be handed on to ansible-runner unchanged; its
    ``repr`` never shows the ciphertext and ``to_dict`` redacts it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "VaultedValue(<encrypted>)"


class YamlIssue(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


class _Loader(_Base):
    file = "<inventory>"

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: PyYAML reports it below
                    continue
                if first is not None:
                    raise YamlIssue(
                        Issue(
                            f"duplicate key {key!r} (first defined at line "
                            f"{first.start_mark.line + 1})",
                            where(self.file, key_node),
                        )
                    )
                seen[key] = key_node
        # Any other node: PyYAML raises its own "expected a mapping node" with the position.
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _construct_vault(loader: _Loader, node: Node) -> VaultedValue:
    if not isinstance(node, ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!vault needs the encrypted text as a string", node.start_mark
        )
    return VaultedValue(loader.construct_scalar(node))


def _construct_unsafe(loader: _Loader, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("!unsafe", _construct_unsafe)


def where(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class Document:
    """One composed YAML document whose values can be constructed on demand."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self._loader = _Loader(text)
        self._loader.file = file
        try:
            self.root: Node | None = self._loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            self._loader.dispose()
            raise YamlIssue(_marked_issue(file, exc)) from None
        except yaml.YAMLError as exc:
            self._loader.dispose()
            raise YamlIssue(Issue(f"invalid YAML: {exc}", Location(file))) from None
        if self.root is not None:
            _check_expansion(file, self.root)

    def construct(self, node: Node) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except YamlIssue:
            raise
        except yaml.MarkedYAMLError as exc:
            raise YamlIssue(_marked_issue(self.file, exc)) from None
        except yaml.YAMLError as exc:  # pragma: no cover - defensive
            raise YamlIssue(Issue(f"invalid YAML: {exc}", where(self.file, node))) from None

    def close(self) -> None:
        self._loader.dispose()


def _marked_issue(file: str, exc: yaml.MarkedYAMLError) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    parts = [p for p in (exc.context, exc.problem) if p]
    message = "invalid YAML: " + (", ".join(parts) if parts else str(exc))
    if mark is None:
        return Issue(message, Location(file))
    return Issue(message, Location(file, mark.line + 1, mark.column + 1))


def _check_expansion(file: str, root: Node) -> None:
    """Refuse documents whose aliases would expand to more than MAX_EXPANDED_NODES."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        if isinstance(node, ScalarNode):
            sizes[key] = 1
            continue
        children: list[Node]
        if isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = list(node.value)
        if done:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            if total > MAX_EXPANDED_NODES:
                raise YamlIssue(
                    Issue(
                        "YAML aliases expand to too many values (more than "
                        f"{MAX_EXPANDED_NODES:,}); refusing to load",
                        where(file, node),
                    )
                )
            sizes[key] = total
            continue
        sizes[key] = 0  # in progress (also stops recursive aliases)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def load_plain(file: str, text: str) -> tuple[Any, Node | None]:
    """Load a whole document (group_vars/host_vars files); returns (value, root node)."""
    doc = Document(file, text)
    try:
        if doc.root is None:
            return None, None
        return doc.construct(doc.root), doc.root
    finally:
        doc.close()
