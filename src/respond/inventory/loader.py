"""``load_inventory``: read an Ansible inventory file (YAML or INI) and its ``group_vars/`` and
``host_vars/`` directories, and resolve every host's variables as Ansible does.

Variable precedence, lowest first (Ansible's defaults for ``ansible-inventory --list`` and
for plays; later wins, dictionaries are replaced, not merged):

1. ``all`` vars from the inventory file;
2. the vars of every other group of the host from the inventory file, ordered by depth (a
   child beats its parent), then ``ansible_group_priority``, then name;
3. ``group_vars/all``;
4. ``group_vars/<group>`` in that same group order;
5. host vars from the inventory file (a later line or entry beats an earlier one);
6. ``host_vars/<host>``.

So ``group_vars/all`` beats a group's vars written in the inventory file itself: that is
Ansible's rule, kept so the same file means the same thing to respond and to playbooks.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import InvalidInput, InventoryError, Issue, Location
from ..sshopts import host_key_var_problem
from ..yamlfile import YamlNodes, compose_yaml, parse_yaml, read_source
from ._builder import Builder
from ._ini import parse_ini
from ._yamlinv import parse_yaml as parse_inventory_yaml
from .model import Group, Host, Inventory, VaultedValue

YAML_SUFFIXES = (".yml", ".yaml", ".json")
_VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
_PORT_VARS = ("ansible_port", "ansible_ssh_port")

#: Caps for an inventory file and each of its vars files: a site of thousands of hosts is a
#: few MiB; aliases may expand a file to at most MAX_NODES values.
MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 2_000_000


def _vault(value: object) -> VaultedValue:
    if not isinstance(value, str):
        raise ValueError("it holds encrypted text, not a list or mapping")
    return VaultedValue(value)


#: Ansible's own tags: ``!vault`` (kept encrypted) and ``!unsafe`` (a value Ansible does not
#: template; to respond it is plain data).
TAGS = {"!vault": _vault, "!unsafe": lambda value: value}


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Load an inventory file; raise InventoryError with every issue found (file:line:col)."""
    source = Path(path)
    file = str(path)
    if not source.exists():
        raise InventoryError(
            f"inventory not found: {file}", [Issue("inventory file not found", Location(file))]
        )
    if source.is_dir():
        raise InventoryError(
            f"{file} is a directory; give the inventory file itself",
            [Issue("is a directory; give the inventory file itself", Location(file))],
        )
    try:
        data, text = read_source(source, what="inventory", max_bytes=MAX_BYTES, shown=file)
    except InvalidInput as exc:
        raise InventoryError(exc.message, exc.issues) from None

    builder = Builder(file)
    _parse(builder, source, text)
    if builder.issues:
        raise InventoryError(f"invalid inventory {file}", builder.issues)
    builder.reconcile()

    digest = hashlib.sha256(data)
    base = source.resolve().parent
    vars_files = _VarsFiles(base, digest)
    inventory = _resolve(builder, source, vars_files)
    issues = builder.issues + vars_files.issues
    if issues:
        raise InventoryError(f"invalid inventory {file}", issues)
    return inventory


def _parse(builder: Builder, source: Path, text: str) -> None:
    suffix = source.suffix.lower()
    if suffix in YAML_SUFFIXES:
        _parse_yaml(builder, text)
        return
    if suffix:
        parse_ini(builder, text)
        return
    # No extension (Ansible's classic "hosts"): YAML when it is a YAML mapping, else INI.
    try:
        doc: YamlNodes | None = _compose(builder.file, text)
    except InvalidInput:
        doc = None
    if doc is not None:
        from yaml.nodes import MappingNode

        if isinstance(doc.root, MappingNode):
            parse_inventory_yaml(builder, doc)
            return
    parse_ini(builder, text)


def _compose(file: str, text: str) -> YamlNodes:
    return compose_yaml(text, file, max_nodes=MAX_NODES, tags=TAGS)


def _parse_yaml(builder: Builder, text: str) -> None:
    try:
        doc = _compose(builder.file, text)
    except InvalidInput as exc:
        builder.issues.extend(exc.issues)
        return
    parse_inventory_yaml(builder, doc)


class _VarsFiles:
    """``group_vars/`` and ``host_vars/`` next to the inventory file (host_group_vars plugin)."""

    def __init__(self, base: Path, digest: Any) -> None:
        self.base = base
        self.digest = digest
        self.issues: list[Issue] = []
        self.warnings: list[Issue] = []
        self._dirs = {
            kind: (base / kind) if (base / kind).is_dir() else None
            for kind in ("group_vars", "host_vars")
        }
        self._names = {
            kind: (set(os.listdir(d)) if d is not None else set()) for kind, d in self._dirs.items()
        }

    def load(self, kind: str, name: str) -> dict[str, Any]:
        directory = self._dirs[kind]
        if directory is None or not name or name[0] == os.sep:
            return {}
        names = self._names[kind]
        data: dict[str, Any] = {}
        for ext in _VARS_EXTENSIONS:
            if name + ext not in names:
                continue
            path = directory / (name + ext)
            files = _dir_files(path) if path.is_dir() else [path]
            subject = f"{kind.removesuffix('_vars')} {name}"
            for f in files:
                data.update(self._read(f, subject))
            break
        return data

    def _read(self, path: Path, subject: str) -> dict[str, Any]:
        shown = _shown(path)
        try:
            raw, text = read_source(path, what="variables file", max_bytes=MAX_BYTES, shown=shown)
        except InvalidInput as exc:
            self.issues.extend(exc.issues)
            return {}
        self.digest.update(b"\0" + str(path).encode() + b"\0" + raw)
        if text.lstrip().startswith("$ANSIBLE_VAULT"):
            self.warnings.append(
                Issue(
                    "vault-encrypted variables file skipped (respond cannot decrypt it; "
                    "encrypt single values with !vault instead)",
                    Location(shown),
                    severity="warning",
                )
            )
            return {}
        value, positions, issues = parse_yaml(text, shown, max_nodes=MAX_NODES, tags=TAGS)
        if issues:
            self.issues.extend(issues)
            return {}
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.issues.append(
                Issue(
                    f"a variables file must be a mapping of names to values, found "
                    f"{type(value).__name__}",
                    positions.nearest(()),
                )
            )
            return {}
        for key, val in value.items():
            problem = host_key_var_problem(str(key), val)
            if problem is not None:
                self.issues.append(
                    Issue(
                        f"{subject} sets {key}: {problem}",
                        positions.keys.get((key,)) or positions.nearest((key,)),
                    )
                )
        return value


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _dir_files(path: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(os.listdir(path)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        full = path / entry
        ext = os.path.splitext(entry)[1]
        if full.is_dir() and not ext:
            found.extend(_dir_files(full))
        elif full.is_file() and (not ext or ext in _VARS_EXTENSIONS):
            found.append(full)
    return found


def _ordered_descendants(builder: Builder, name: str) -> list[str]:
    """Ansible's Group.get_descendants(include_self=True, preserve_ordering=True): the group,
    its children, then level by level. (Ansible walks each level as a set, so its order
    between sibling branches can vary from run to run; this walks them in list order.)"""
    groups = builder.groups
    ordered = [name, *groups[name].children]
    seen = set(ordered)
    level = ordered[:]
    while level:
        nxt: list[str] = []
        for g in level:
            for child in groups[g].children:
                if child not in seen:
                    seen.add(child)
                    nxt.append(child)
        ordered.extend(nxt)
        level = nxt
    return ordered


def _depths(builder: Builder) -> dict[str, int]:
    depth: dict[str, int] = {}

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        parents = builder.groups[name].parents
        d = max((visit(p) + 1 for p in parents), default=0)
        depth[name] = d
        return d

    for name in builder.groups:
        visit(name)
    return depth


def _resolve(builder: Builder, source: Path, vars_files: _VarsFiles) -> Inventory:
    depth = _depths(builder)
    group_all_hosts: dict[str, tuple[str, ...]] = {}
    for name in builder.groups:
        seen: dict[str, None] = {}
        for g in _ordered_descendants(builder, name):
            for h in builder.groups[g].hosts:
                seen.setdefault(h)
        group_all_hosts[name] = tuple(seen)

    group_dir_vars = {name: vars_files.load("group_vars", name) for name in builder.groups}
    variable_names: set[str] = set()
    groups: dict[str, Group] = {}
    for name, group in builder.groups.items():
        merged = {**group.vars, **group_dir_vars[name]}
        variable_names.update(merged)
        groups[name] = Group(
            name=name,
            vars=MappingProxyType(merged),
            hosts=tuple(group.hosts),
            children=tuple(group.children),
            parents=tuple(group.parents),
            depth=depth[name],
            priority=group.priority,
            all_hosts=group_all_hosts[name],
        )

    ancestors: dict[str, frozenset[str]] = {}

    def with_ancestors(group: str) -> frozenset[str]:
        if group not in ancestors:
            ancestors[group] = frozenset({group}) | builder.ancestors(group)
        return ancestors[group]

    group_layer_cache: dict[frozenset[str], tuple[tuple[str, ...], dict[str, Any]]] = {}
    all_file_vars = builder.groups["all"].vars
    all_dir_vars = group_dir_vars["all"]
    hosts: dict[str, Host] = {}
    base_dir = source.resolve().parent
    for name, host in builder.hosts.items():
        member: frozenset[str] = frozenset({"all"})
        for g in host.groups:
            member |= with_ancestors(g)
        cached = group_layer_cache.get(member)
        if cached is None:
            ordered = sorted(
                member - {"all"},
                key=lambda n: (depth[n], builder.groups[n].priority, n),
            )
            layer: dict[str, Any] = dict(all_file_vars)
            for g in ordered:
                layer.update(builder.groups[g].vars)
            layer.update(all_dir_vars)
            for g in ordered:
                layer.update(group_dir_vars[g])
            cached = ("all", *sorted(member - {"all"})), layer
            group_layer_cache[member] = cached
        group_names, layer = cached
        host_dir_vars = vars_files.load("host_vars", name)
        merged = {**layer, **host.vars, **host_dir_vars}
        variable_names.update(host.vars)
        variable_names.update(host_dir_vars)
        _check_ports(builder, host.name, host.location, merged, vars_files)
        hosts[name] = Host(name, MappingProxyType(merged), group_names, base_dir)

    return Inventory(
        source,
        hosts,
        groups,
        variable_names=frozenset(variable_names),
        warnings=tuple(builder.warnings + vars_files.warnings),
        sha256=vars_files.digest.hexdigest(),
    )


def _check_ports(
    builder: Builder,
    host: str,
    where: Location | None,
    merged: dict[str, Any],
    vars_files: _VarsFiles,
) -> None:
    for var in _PORT_VARS:
        if var not in merged or merged[var] is None:
            continue
        value = merged[var]
        ok = False
        if isinstance(value, int) and not isinstance(value, bool):
            ok = 0 < value < 65536
        elif isinstance(value, str) and value.strip().isdigit():
            ok = 0 < int(value) < 65536
        if not ok:
            vars_files.issues.append(
                Issue(
                    f"{var} of host {host!r} must be a port number (1-65535), got {value!r}",
                    where or Location(builder.file),
                )
            )
