"""Network operating systems: which family a device is, and what each family is called
by netmiko and by ntc-templates.

A host's family comes from ``ansible_network_os`` (its last dotted part, so
``cisco.ios.ios`` and ``community.network.ce`` work) or ``netmiko_device_type``. Runbooks
key per-OS commands by family (``ios:``, ``vrp:``, ``comware:``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# alias (ansible_network_os last part or netmiko device type, lower case) → family
FAMILY_OF: dict[str, str] = {
    "ios": "ios",
    "iosxe": "ios",
    "cisco_ios": "ios",
    "cisco_xe": "ios",
    "nxos": "nxos",
    "cisco_nxos": "nxos",
    "iosxr": "iosxr",
    "cisco_xr": "iosxr",
    "eos": "eos",
    "arista_eos": "eos",
    "junos": "junos",
    "juniper_junos": "junos",
    "vrp": "vrp",
    "huawei": "vrp",
    "ce": "vrp",
    "vrpv8": "vrp",
    "huawei_vrpv8": "vrp",
    "comware": "comware",
    "h3c": "comware",
    "hp_comware": "comware",
    "linux": "linux",
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
