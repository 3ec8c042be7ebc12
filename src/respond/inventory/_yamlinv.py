"""The YAML inventory format, parsed like Ansible's ``yaml`` inventory plugin (private).

Top-level keys are groups; a group is a mapping with ``hosts`` (host entry → vars mapping or
null), ``children`` (group name → group) and ``vars``; a section may also be a single string
(Ansible accepts ``hosts: web1``). Host entries may carry ``:port`` and ``[x:y]`` ranges.

Where Ansible only warns and skips (a group that is a list or a scalar, an unknown key in a
group), respond refuses the file: in an emergency a silently dropped host is worse than an
error at load time.
"""

from __future__ import annotations

import difflib
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from ..errors import Issue, Location
from ..yamlfile import YamlNodes
from ._addresses import AddressError, expand_host_pattern
from ._builder import Builder, BuildError

_SECTIONS = ("vars", "children", "hosts")
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, ScalarNode):
        if node.tag == _NULL:
            return "null"
        return f"a scalar ({node.value!r})"
    return "a list"


def parse_yaml(builder: Builder, doc: YamlNodes) -> None:
    root = doc.root
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL):
        where = doc.location(root) if root is not None else Location(builder.file)
        builder.issues.append(Issue("the inventory file is empty", where))
        return
    if not isinstance(root, MappingNode):
        builder.issues.append(
            Issue(
                f"a YAML inventory must be a mapping of group names, found {_kind(root)}",
                doc.location(root),
            )
        )
        return
    for key_node, _value in root.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "plugin":
            builder.issues.append(
                Issue(
                    "this is an inventory plugin configuration (it has a 'plugin' key); "
                    "respond reads only static YAML or INI inventories",
                    doc.location(key_node),
                )
            )
            return
    _Walker(builder, doc).groups(root)


class _Walker:
    def __init__(self, builder: Builder, doc: YamlNodes) -> None:
        self.b = builder
        self.doc = doc
        self.where = doc.location

    def error(self, message: str, node: Node) -> None:
        self.b.issues.append(Issue(message, self.where(node)))

    def value(self, node: Node) -> Any:
        """The plain value of a vars node (duplicate keys, tags and merges checked by the
        reader); None, with the issues recorded, when it has problems."""
        value, issues = self.doc.build(node)
        if issues:
            self.b.issues.extend(issues)
            return None
        return value

    def name(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != _STR:
            shown = node.value if isinstance(node, ScalarNode) else _kind(node)
            self.error(
                f"{what} name must be a string, got {shown!r}; quote it if it is a number",
                node,
            )
            return None
        if not node.value:
            self.error(f"empty {what} name", node)
            return None
        return str(node.value)

    def groups(self, mapping: MappingNode) -> None:
        seen: dict[str, Node] = {}
        for key_node, value_node in mapping.value:
            name = self.name(key_node, "group")
            if name is None:
                continue
            if name in seen:
                self.error(
                    f"duplicate group {name!r} (first at line {seen[name].start_mark.line + 1})",
                    key_node,
                )
                continue
            seen[name] = key_node
            self.group(name, key_node, value_node)

    def group(self, name: str, key_node: Node, node: Node) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            self.b.add_group(name, self.where(key_node))
            return name
        if not isinstance(node, MappingNode):
            self.error(
                f"group {name!r} must be a mapping with hosts, children and/or vars, "
                f"found {_kind(node)}",
                node,
            )
            return None
        self.b.add_group(name, self.where(key_node))
        keys: dict[str, Node] = {}
        for section_key, section in node.value:
            section_name = section_key.value if isinstance(section_key, ScalarNode) else None
            if section_name not in _SECTIONS:
                hint = difflib.get_close_matches(str(section_name), _SECTIONS, n=1)
                self.error(
                    f"unexpected key {section_name!r} in group {name!r}; only 'hosts', "
                    "'children' and 'vars' are allowed"
                    + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                    section_key,
                )
                continue
            if section_name in keys:
                self.error(f"duplicate key {section_name!r} in group {name!r}", section_key)
                continue
            keys[section_name] = section_key
            if isinstance(section, ScalarNode):
                if section.tag == _NULL:
                    continue
                if section.tag == _STR:  # "hosts: web1" means {"web1": None}
                    self.section(name, section_name, [(section, None)])
                    continue
            if not isinstance(section, MappingNode):
                self.error(
                    f"'{section_name}' of group {name!r} must be a mapping, found {_kind(section)}",
                    section,
                )
                continue
            if section_name == "vars":
                self.group_vars(name, section)
            else:
                self.section(name, section_name, section.value)
        return name

    def group_vars(self, group: str, section: MappingNode) -> None:
        loaded = self.value(section)  # duplicate keys, merge keys (<<) handled by the reader
        if not isinstance(loaded, dict):
            return
        names = {}
        for key_node, _ in section.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                names[key_node.value] = key_node
        for key, val in loaded.items():
            if not isinstance(key, str):
                self.error(f"variable name must be a string, got {key!r}", section)
                continue
            where = self.where(names[key]) if key in names else None
            try:
                self.b.set_group_var(group, key, val, where)
            except BuildError as exc:
                self.error(exc.message, names.get(key, section))

    def section(self, group: str, section: str, items: list[tuple[Node, Node | None]]) -> None:
        seen: dict[Any, Node] = {}
        for key_node, value_node in items:
            if section == "vars":  # the "vars: name" shorthand
                self.b.set_group_var(group, str(self.value(key_node)), None)
            elif section == "children":
                child = self.name(key_node, "group")
                if child is None:
                    continue
                if child in seen:
                    self.error(f"duplicate child group {child!r} in group {group!r}", key_node)
                    continue
                seen[child] = key_node
                if value_node is None:
                    self.b.add_group(child, self.where(key_node))
                elif self.group(child, key_node, value_node) is None:
                    continue
                try:
                    self.b.add_child(group, child)
                except BuildError as exc:
                    self.error(exc.message, key_node)
            else:
                self.host(group, key_node, value_node, seen)

    def host(
        self, group: str, key_node: Node, value_node: Node | None, seen: dict[Any, Node]
    ) -> None:
        entry = self.name(key_node, "host")
        if entry is None:
            return
        if entry in seen:
            self.error(f"duplicate host {entry!r} in group {group!r}", key_node)
            return
        seen[entry] = key_node
        variables: dict[str, Any] = {}
        var_where: dict[str, Location] = {}
        if value_node is not None and not (
            isinstance(value_node, ScalarNode) and value_node.tag == _NULL
        ):
            if not isinstance(value_node, MappingNode):
                self.error(
                    f"variables of host {entry!r} must be a mapping, found {_kind(value_node)}",
                    value_node,
                )
                return
            loaded = self.value(value_node)
            if not isinstance(loaded, dict):
                return
            for key_var, _ in value_node.value:
                if not isinstance(key_var, ScalarNode) or key_var.tag != _STR:
                    self.error("variable name must be a string", key_var)
            variables = loaded
            for key_var, _ in value_node.value:
                if isinstance(key_var, ScalarNode):
                    var_where[key_var.value] = self.where(key_var)
        try:
            names, port = expand_host_pattern(entry)
        except AddressError as exc:
            self.error(f"bad host {entry!r}: {exc}", key_node)
            return
        loc = self.where(key_node)
        for name in names:
            try:
                self.b.add_host(name, group, port, loc)
            except BuildError as exc:
                self.error(exc.message, key_node)
                return
            for key, val in variables.items():
                self.b.set_host_var(name, key, val, var_where.get(key))
