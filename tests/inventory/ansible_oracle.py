"""Ask real Ansible (ansible-core, in a subprocess) how it resolves an inventory.

Run as ``python ansible_oracle.py REQUEST.json`` where the file holds a list of
``{"inventory": PATH, "patterns": [...]}``; prints a JSON list, one answer each, with groups (direct hosts, children,
vars incl. group_vars/), hostvars merged exactly as ``ansible-inventory --list`` shows them,
and the host names each pattern selects (``InventoryManager.list_hosts``, which is what
``ansible PATTERN --list-hosts`` prints), or the error Ansible raised.

It imports ansible, so it never runs inside the test process (respond must not import it).
"""

from __future__ import annotations

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
            "all_hosts": [h.name for h in group.get_hosts()],
            "vars": plain(gv),
            "depth": group.depth,
            "priority": group.priority,
            "group_names": None,
        }
    group_names = {
        h.name: sorted(g.name for g in h.get_groups()) for h in inventory.get_hosts("all")
    }
    results = {}
    for pattern in request["patterns"]:
        inventory.clear_pattern_cache()
        inventory._hosts_patterns_cache = {}
        try:
            results[pattern] = [h.name for h in inventory.get_hosts(pattern)]
        except Exception as exc:
            results[pattern] = {"error": str(exc)}
    return {
        "hosts": list(inventory.hosts),
        "hostvars": hostvars,
        "groups": groups,
        "group_names": group_names,
        "patterns": results,
    }


if __name__ == "__main__":
    main()
