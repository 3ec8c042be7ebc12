"""Mutable inventory data while a file is parsed (private): Ansible's InventoryData rules.

The parsers call ``add_group``, ``add_host``, ``add_child`` and ``set_var`` in file order;
``reconcile`` then applies Ansible's rules for ``all`` and ``ungrouped``. Insertion order is
kept everywhere because host-pattern results depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Issue, Location
from ..sshopts import host_key_var_problem


@dataclass(slots=True)
class GroupData:
    name: str
    location: Location | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    host_set: set[str] = field(default_factory=set)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    priority: int = 1


@dataclass(slots=True)
class HostData:
    name: str
    location: Location | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # direct memberships, in order


class BuildError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.groups: dict[str, GroupData] = {}
        self.hosts: dict[str, HostData] = {}
        self.issues: list[Issue] = []
        self.warnings: list[Issue] = []
        self._refused: set[tuple[Location | None, str]] = set()
        self.add_group("all")
        self.add_group("ungrouped")
        self.add_child("all", "ungrouped")

    # -- primitives -------------------------------------------------------------------
    def add_group(self, name: str, location: Location | None = None) -> GroupData:
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = GroupData(name, location)
        elif group.location is None:
            group.location = location
        return group

    def add_host(
        self, name: str, group: str | None, port: int | None, location: Location | None
    ) -> HostData:
        if not name:
            raise BuildError("empty host name")
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = HostData(name, location)
            if port:  # Ansible: only when the host is first seen, and port 0 means none
                host.vars["ansible_port"] = port
        if group is not None:
            g = self.groups[group]
            if name not in g.host_set:
                g.hosts.append(name)
                g.host_set.add(name)
                host.groups.append(group)
        return host

    def add_child(self, parent: str, child: str) -> None:
        if parent == child:
            raise BuildError(f"group {child!r} cannot be a child of itself")
        p = self.groups[parent]
        if child in p.children:
            return
        if parent in self._descendants(child):
            raise BuildError(
                f"adding group {child!r} as a child of {parent!r} creates a dependency loop"
            )
        p.children.append(child)
        c = self.groups[child]
        if parent not in c.parents:
            c.parents.append(parent)

    def set_group_var(
        self, group: str, key: Any, value: Any, where: Location | None = None
    ) -> None:
        self.check_var(f"group {group}", key, value, where or self.groups[group].location)
        if key == "ansible_group_priority":
            try:
                self.groups[group].priority = int(value)
            except (TypeError, ValueError):
                raise BuildError(
                    f"ansible_group_priority of group {group!r} must be an integer, got {value!r}"
                ) from None
            return
        self.groups[group].vars[key] = value

    def set_host_var(self, host: str, key: Any, value: Any, where: Location | None = None) -> None:
        self.check_var(f"host {host}", key, value, where or self.hosts[host].location)
        self.hosts[host].vars[key] = value

    def check_var(self, subject: str, key: Any, value: Any, where: Location | None) -> None:
        """Refuse a variable that would switch off host-key checking for playbooks (once per
        place: a host range on one line is reported at its first host)."""
        problem = host_key_var_problem(str(key), value)
        if problem is None:
            return
        place = (where, str(key))
        if place in self._refused:
            return
        self._refused.add(place)
        self.issues.append(Issue(f"{subject} sets {key}: {problem}", where or Location(self.file)))

    # -- relations --------------------------------------------------------------------
    def _descendants(self, name: str) -> set[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for child in self.groups[todo.pop()].children:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for parent in self.groups[todo.pop()].parents:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def reconcile(self) -> None:
        """Ansible's reconcile_inventory: top-level groups under ``all``; ``ungrouped`` holds
        exactly the hosts that are in no other group."""
        for name, group in self.groups.items():
            if name != "all" and not group.parents:
                self.add_child("all", name)
        ungrouped = self.groups["ungrouped"]
        for name, host in self.hosts.items():
            member_of: set[str] = set()
            for g in host.groups:
                member_of.add(g)
                member_of |= self.ancestors(g)
            if "ungrouped" in member_of:
                if member_of - {"all", "ungrouped"}:
                    ungrouped.hosts.remove(name)
                    ungrouped.host_set.discard(name)
                    host.groups.remove("ungrouped")
            elif not (member_of - {"all"}):
                self.add_host(name, "ungrouped", None, None)
        both = self.groups.keys() & self.hosts.keys()
        for name in sorted(both):
            self.warnings.append(
                Issue(
                    f"found both a group and a host named {name!r}",
                    self.hosts[name].location,
                    severity="warning",
                )
            )
