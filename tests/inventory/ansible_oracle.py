"""Ask real Ansible (ansible-core, in a subprocess) how it resolves an inventory.

Run as ``python ansible_oracle.py REQUEST.json`` where the file holds a list of
``{"inventory": PATH, "patterns": [...]}``; prints a JSON list, one answer each, with groups (direct hosts, children,
vars incl. group_vars/), hostvars merged exactly as ``ansible-inventory --list`` shows them,
and the host names each pattern selects (``InventoryManager.list_hosts``, which is what
``ansible PATTERN --list-hosts`` prints), or the error Ansible raised.

It imports ansible, so it never runs inside the test process (respond must not import it).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        requests = json.load(fh)
    json.dump([answer(r) for r in requests], sys.stdout)


def answer(request):
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.vars import combine_vars
    from ansible.vars.manager import VariableManager
    from ansible.vars.plugins import get_vars_from_inventory_sources

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[request["inventory"]])
    variables = VariableManager(loader=loader, inventory=inventory)
    internal = set(C.INTERNAL_STATIC_VARS)

    def plain(value):
        return json.loads(json.dumps(value, default=str))

    hostvars = {}
    for host in inventory.get_hosts("all"):
        hv = variables.get_vars(host=host, include_hostvars=False, stage="all")
        hostvars[host.name] = plain({k: v for k, v in hv.items() if k not in internal})
    groups = {}
    for name, group in inventory.groups.items():
        gv = combine_vars(
            group.get_vars(),
            get_vars_from_inventory_sources(loader, inventory._sources, [group], "all"),
        )
        groups[name] = {
            "hosts": [h.name for h in group.hosts],
            "children": [g.name for g in group.child_groups],
            "vars": plain(gv),
            "depth": group.depth,
            "priority": group.priority,
        }
    group_names = {
        h.name: sorted(g.name for g in h.get_groups()) for h in inventory.get_hosts("all")
    }
    variants = {}
    for variant in ("real", "asc", "desc"):
        with _set_order(variant):
            for group in inventory.groups.values():
                group._hosts_cache = None
            variants[variant] = {
                "all_hosts": {
                    name: [h.name for h in g.get_hosts()] for name, g in inventory.groups.items()
                },
                "patterns": _patterns(inventory, request["patterns"]),
            }
    return {
        "hosts": list(inventory.hosts),
        "hostvars": hostvars,
        "groups": groups,
        "group_names": group_names,
        "variants": variants,
    }


def _patterns(inventory, patterns):
    results = {}
    for pattern in patterns:
        inventory.clear_pattern_cache()
        inventory._hosts_patterns_cache = {}
        try:
            results[pattern] = [h.name for h in inventory.get_hosts(pattern)]
        except Exception as exc:
            results[pattern] = {"error": str(exc)}
    return results


@contextlib.contextmanager
def _set_order(variant):
    """Ansible walks nested groups level by level through a *set* of Group objects, which
    hash by identity, so where two branches meet at one depth the order of their hosts is
    arbitrary (it changes from run to run). To tell those cases apart, the walk is repeated
    with the set iterated in ascending and in descending name order: where both agree, the
    order is well defined and must be matched exactly."""
    from ansible.inventory.group import Group

    if variant == "real":
        yield
        return
    original = Group._walk_relationship

    def walk(self, rel, include_self=False, preserve_ordering=False):
        # ansible-core 2.19 Group._walk_relationship, with sorted set iteration
        seen = set()
        unprocessed = set(getattr(self, rel))
        if include_self:
            unprocessed.add(self)
        if preserve_ordering:
            ordered = [self] if include_self else []
            ordered.extend(getattr(self, rel))
        while unprocessed:
            seen.update(unprocessed)
            new_unprocessed = set()
            level = sorted(unprocessed, key=lambda g: g.name, reverse=variant == "desc")
            for new_item in itertools.chain.from_iterable(getattr(g, rel) for g in level):
                new_unprocessed.add(new_item)
                if preserve_ordering and new_item not in seen:
                    ordered.append(new_item)
            new_unprocessed.difference_update(seen)
            unprocessed = new_unprocessed
        return ordered if preserve_ordering else seen

    Group._walk_relationship = walk
    try:
        yield
    finally:
        Group._walk_relationship = original


if __name__ == "__main__":
    main()
