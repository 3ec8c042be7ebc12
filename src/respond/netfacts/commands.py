"""Which command gives each fact on each network-OS family.

The names on the left are the facts a netmiko step asks for (``facts: [interfaces, ...]``);
each family's command is the one ntc-templates has a template for (``config`` is read as
text and needs none). A family missing here has no facts: the step says so in a note.
"""

from __future__ import annotations

# family → fact → the command whose output gives it
COMMANDS: dict[str, dict[str, str]] = {
    "ios": {
        "interfaces": "show interfaces",
        "neighbors": "show lldp neighbors detail",
        "routes": "show ip route",
        "config": "show running-config",
    },
    "nxos": {
        "interfaces": "show interface",
        "neighbors": "show lldp neighbors detail",
        "routes": "show ip route",
        "config": "show running-config",
    },
    "vrp": {
        "interfaces": "display interface",
        "neighbors": "display lldp neighbor",
        "routes": "display ip routing-table verbose",
        "config": "display current-configuration",
    },
    "comware": {
        "interfaces": "display interface",
        "neighbors": "display lldp neighbor-information verbose",
        "routes": "display ip routing-table",
        "config": "display current-configuration",
    },
}
FAMILIES_WITH_FACTS: tuple[str, ...] = tuple(COMMANDS)


def command_for(family: str | None, fact: str) -> str | None:
    """The command that gives ``fact`` on ``family`` (None: the family has no such fact)."""
    return COMMANDS.get(family or "", {}).get(fact)
