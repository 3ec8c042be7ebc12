"""Network operating systems: which family a device is, and what each family is called
by netmiko and by ntc-templates.

A host's family comes from ``ansible_network_os`` (its last dotted part, so
``cisco.ios.ios`` and ``community.network.ce`` work) or ``netmiko_device_type``. Runbooks
key per-OS commands by family (``ios:``, ``vrp:``, ``comware:``…).

Interface names too: devices print short names in tables (``Gi0/1``, ``GE1/0/1``) and long
ones elsewhere; ``interface_long_name`` gives the one long name that network facts and the
built-in checks compare by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# ansible_network_os (last dotted part of a collection name, lower case) → netmiko device type
DEVICE_TYPES: dict[str, str] = {
    "ios": "cisco_ios",
    "iosxe": "cisco_xe",
    "nxos": "cisco_nxos",
    "iosxr": "cisco_xr",
    "eos": "arista_eos",
    "junos": "juniper_junos",
    "vrp": "huawei",
    "huawei": "huawei",
    "ce": "huawei_vrpv8",
    "vrpv8": "huawei_vrpv8",
    "huawei_vrpv8": "huawei_vrpv8",
    "comware": "hp_comware",
    "h3c": "hp_comware",
    "hp_comware": "hp_comware",
    "linux": "linux",
}
# netmiko device type → family
_FAMILY_OF_DEVICE_TYPE: dict[str, str] = {
    "cisco_ios": "ios",
    "cisco_xe": "ios",
    "cisco_nxos": "nxos",
    "cisco_xr": "iosxr",
    "arista_eos": "eos",
    "juniper_junos": "junos",
    "huawei": "vrp",
    "huawei_vrpv8": "vrp",
    "hp_comware": "comware",
    "linux": "linux",
}
# alias (ansible_network_os last part or netmiko device type, lower case) → family
FAMILY_OF: dict[str, str] = {
    **_FAMILY_OF_DEVICE_TYPE,
    **{alias: _FAMILY_OF_DEVICE_TYPE[t] for alias, t in DEVICE_TYPES.items()},
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(FAMILY_OF.values()))
# family → ntc-templates platform (None: no templates used)
NTC_PLATFORM: dict[str, str] = {
    "ios": "cisco_ios",
    "nxos": "cisco_nxos",
    "iosxr": "cisco_xr",
    "eos": "arista_eos",
    "junos": "juniper_junos",
    "vrp": "huawei_vrp",
    "comware": "hp_comware",
    "linux": "linux",
}
_NTC_NAMES = frozenset(NTC_PLATFORM.values())
# family → the command that prints the running configuration
RUNNING_CONFIG: dict[str, str] = {
    "ios": "show running-config",
    "nxos": "show running-config",
    "iosxr": "show running-config",
    "eos": "show running-config",
    "junos": "show configuration",
    "vrp": "display current-configuration",
    "comware": "display current-configuration",
}


def family(network_os: str | None = None, device_type: str | None = None) -> str | None:
    """The family of a device named by its ``ansible_network_os`` or netmiko device type."""
    for name in (device_type, network_os):
        if not name:
            continue
        key = str(name).lower()
        if key in FAMILY_OF:
            return FAMILY_OF[key]
        key = key.rsplit(".", 1)[-1]
        if key in FAMILY_OF:
            return FAMILY_OF[key]
    return None


def host_family(host_vars: Mapping[str, Any]) -> str | None:
    """The family of an inventory host from its variables."""
    return family(host_vars.get("ansible_network_os"), host_vars.get("netmiko_device_type"))


def ntc_platform_of(name: str) -> str | None:
    """The ntc-templates platform of an ``ansible_network_os`` or netmiko device type: an
    ntc platform name is itself, an alias its family's (``huawei`` → ``huawei_vrp``,
    ``cisco.ios.ios`` → ``cisco_ios``); None when unknown."""
    key = name.lower()
    if key in _NTC_NAMES:
        return key
    return NTC_PLATFORM.get(family(network_os=key) or "")


def ntc_platform(device_type: str) -> str:
    """The ntc-templates platform for a netmiko device type (``huawei`` → ``huawei_vrp``);
    a device type of no known family is passed through."""
    return ntc_platform_of(device_type) or device_type


# Short interface prefixes (as devices print them in tables) → the long name.
_LONG_PREFIX: dict[str, str] = {
    "gi": "GigabitEthernet",
    "ge": "GigabitEthernet",
    "fa": "FastEthernet",
    "te": "TenGigabitEthernet",
    "xge": "Ten-GigabitEthernet",
    "eth": "Ethernet",
    "et": "Ethernet",
    "po": "Port-channel",
    "bagg": "Bridge-Aggregation",
    "ragg": "Route-Aggregation",
    "inloop": "InLoopBack",
    "meth": "M-GigabitEthernet",
    "lo": "Loopback",
    "vl": "Vlan",
}
# Comware names its SVIs Vlan-interfaceN and abbreviates them VlanN.
_FAMILY_PREFIX: dict[str, dict[str, str]] = {"comware": {"vlan": "Vlan-interface"}}
_SPLIT_NAME = re.compile(r"^([A-Za-z][A-Za-z-]*?)(\d[\d/.:]*)$")


def interface_long_name(name: str, family: str | None = None) -> str:
    """``GE0/1`` → ``GigabitEthernet0/1`` (``Vlan10`` → ``Vlan-interface10`` on Comware);
    a long or unknown name is returned as it is."""
    name = name.strip()
    match = _SPLIT_NAME.match(name)
    if not match:
        return name
    prefix, number = match.group(1).lower(), match.group(2)
    long = _FAMILY_PREFIX.get(family or "", {}).get(prefix) or _LONG_PREFIX.get(prefix)
    return long + number if long else name
