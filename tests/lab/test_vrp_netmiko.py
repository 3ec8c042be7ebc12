"""netmiko's own ``huawei`` driver against the lab's Huawei core (core-sw1): login, paging off,
``display`` commands parsed by ntc-templates' huawei_vrp templates, a configuration change, and
``save`` with its [Y/N] question; the change shows in ``respond lab status``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ntc_templates
from labkit import Lab, netmiko_switch

from respond.executors.netmiko import CLI_ERROR

TEMPLATES = Path(ntc_templates.__file__).parent / "templates"

Rows = list[dict[str, Any]]


def _by(rows: Rows, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): row for row in rows}


# the command, and what its parsed rows must show about the baseline lab
PARSED: dict[str, Callable[[Rows], bool]] = {
    "display version": lambda rows: str(rows[0]["model"]).startswith("S5735-S24T4X"),
    "display interface brief": lambda rows: (
        _by(rows, "interface")["GigabitEthernet0/0/1"]["phy"] == "up"
        and _by(rows, "interface")["GigabitEthernet0/0/2"]["phy"] == "*down"
    ),
    "display interface": lambda rows: (
        _by(rows, "interface")["GigabitEthernet0/0/1"]["interface_description"] == "UPLINK-PRIMARY"
        and _by(rows, "interface")["GigabitEthernet0/0/1"]["ip_address"] == "10.0.0.2/30"
        and _by(rows, "interface")["GigabitEthernet0/0/3"]["speed"] == "1000"
    ),
    "display interface description": lambda rows: (
        _by(rows, "interface")["GE0/0/2"]["description"] == "UPLINK-BACKUP"
    ),
    "display ip routing-table verbose": lambda rows: (
        _by(rows, "destination")["0.0.0.0/0"]["next_hop"] == "10.0.0.1"
    ),
    "display lldp neighbor": lambda rows: (
        _by(rows, "local_interface")["GigabitEthernet0/0/1"]["neighbor_name"] == "wan-rtr1"
        and _by(rows, "local_interface")["GigabitEthernet0/0/3"]["neighbor_name"] == "acc-sw1"
    ),
    "display vlan": lambda rows: {"1", "10", "11", "12"} <= {str(r["vlan_id"]) for r in rows},
}


def _template(command: str) -> str:
    return str(TEMPLATES / f"huawei_vrp_{command.replace(' ', '_')}.textfsm")


def test_netmiko_huawei_drives_the_lab_core(lab: Lab) -> None:
    dev = netmiko_switch(lab, "core-sw1")  # ansible_network_os vrp → netmiko's huawei
    assert dev.device_type == "huawei"
    try:
        assert dev.find_prompt() == "<core-sw1>"
        for command, shows in PARSED.items():
            # netmiko looks templates up under its device type ("huawei"), which ntc-templates
            # files as huawei_vrp: name the template
            rows = dev.send_command(command, use_textfsm=True, textfsm_template=_template(command))
            assert isinstance(rows, list) and shows(rows), command
        full = dev.send_command("display interface")  # far longer than a page: paging is off
        assert "---- More ----" not in full
        assert (
            len(re.findall(r"^\S+ current state : ", full, re.M)) == 24 + 1 + 3
        )  # ports, NULL0, Vlanifs
        assert CLI_ERROR.search(dev.send_command("dis foo"))
        assert "shutdown: GE0/0/2" in lab.respond("lab", "status", check=True).stdout
        out = dev.send_config_set(["interface GigabitEthernet0/0/2", "undo shutdown"])
        assert not CLI_ERROR.search(out) and dev.find_prompt() == "<core-sw1>"
        assert lab.status()["switches"]["core-sw1"]["shutdown"] == []
        assert "shutdown: GE0/0/2" not in lab.respond("lab", "status", check=True).stdout
        assert "Info: Save the configuration successfully." in dev.save_config()
        assert lab.status()["switches"]["core-sw1"]["saved_at"] is not None
        saved = dev.send_command("display saved-configuration")
        assert (
            "interface GigabitEthernet0/0/2\n description UPLINK-BACKUP\n undo portswitch" in saved
        )
    finally:
        _shut_the_backup_uplink_again(dev)
        dev.disconnect()
    assert lab.status()["switches"]["core-sw1"]["shutdown"] == ["GE0/0/2"]
    logged = [e["command"] for e in lab.json("lab", "commands", "--host", "core-sw1")]
    assert {"screen-length 0 temporary", "system-view", "undo shutdown", "save"} <= set(logged)


def _shut_the_backup_uplink_again(dev: Any) -> None:
    """Back to the baseline for the next test sharing the lab (typed line by line: netmiko's
    huawei send_config_set spends seconds probing the mode)."""
    for line, prompt in (
        ("system-view", r"\]"),
        ("interface GigabitEthernet0/0/2", r"\]"),
        ("shutdown", r"\]"),
        ("return", ">"),
        ("save", r"Continue\?"),
        ("y", ">"),
    ):
        dev.send_command(line, expect_string=prompt)
