"""Facts from real-looking device output of each family: ntc-templates parses the captured
outputs in tests/fixtures/netfacts/, the normaliser maps them to one structure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from respond.netfacts import command_for, facts_from_outputs, family
from respond.netfacts.normalise import long_name
from respond.netfacts.parse import parse_device_output

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "netfacts"
INTERFACE_KEYS = {
    "name", "admin", "oper", "description", "speed_mbps", "in_errors", "out_errors", "crc"
}  # fmt: skip
NEIGHBOR_KEYS = {"local_interface", "name", "interface", "protocol", "platform", "address"}


def _facts(fam: str, *names: str) -> tuple[dict[str, Any], list[str]]:
    outputs = {n: (FIXTURES / f"{fam}_{n}.txt").read_text(encoding="utf-8") for n in names}
    return facts_from_outputs(fam, outputs)


# family → (an up interface with errors, an admin-down interface, its neighbour, default hop)
EXPECTED: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = {
    "ios": (
        {"name": "GigabitEthernet0/1", "admin": "up", "oper": "up",
         "description": "UPLINK core-sw1", "speed_mbps": 1000, "in_errors": 3,
         "out_errors": 0, "crc": 2},
        {"name": "FastEthernet0/2", "admin": "down", "oper": "down"},
        {"local_interface": "GigabitEthernet0/1", "name": "core-sw1",
         "interface": "GigabitEthernet0/0/4", "protocol": "lldp", "address": "10.0.0.2",
         "platform": "Huawei Versatile Routing Platform Software"},
        "10.0.20.1",
    ),
    "nxos": (
        {"name": "Ethernet1/1", "admin": "up", "oper": "up", "description": "UPLINK core-sw1",
         "speed_mbps": 10000, "in_errors": 6, "out_errors": 1, "crc": 4},
        {"name": "Ethernet1/2", "admin": "down", "oper": "down"},
        {"local_interface": "Ethernet1/1", "name": "core-sw1",
         "interface": "GigabitEthernet0/0/5", "address": "10.0.0.2"},
        "10.0.50.1",
    ),
    "vrp": (
        {"name": "GigabitEthernet0/0/1", "admin": "up", "oper": "up",
         "description": "UPLINK-PRIMARY", "speed_mbps": 1000, "in_errors": 7,
         "out_errors": 1, "crc": 5},
        {"name": "GigabitEthernet0/0/2", "admin": "down", "oper": "down",
         "description": "UPLINK-BACKUP"},
        {"local_interface": "GigabitEthernet0/0/3", "name": "acc-sw1",
         "interface": "GigabitEthernet1/0/25", "address": "10.0.0.3"},
        "10.0.0.1",
    ),
    "comware": (
        {"name": "GigabitEthernet1/0/1", "admin": "up", "oper": "up", "description": "oa1",
         "speed_mbps": 1000, "in_errors": 4, "out_errors": 2, "crc": 3},
        {"name": "GigabitEthernet1/0/2", "admin": "down", "oper": "down", "description": ""},
        {"local_interface": "GigabitEthernet1/0/25", "name": "core-sw1",
         "interface": "GigabitEthernet0/0/3", "address": "10.0.0.2", "platform": None},
        "10.0.0.2",
    ),
}  # fmt: skip


@pytest.mark.parametrize("fam", sorted(EXPECTED))
def test_each_family_gives_the_same_structure(fam: str) -> None:
    up, down, neighbor, hop = EXPECTED[fam]
    facts, notes = _facts(fam, "interfaces", "neighbors", "routes")
    assert notes == []
    by_name = {i["name"]: i for i in facts["interfaces"]}
    assert all(set(i) == INTERFACE_KEYS for i in facts["interfaces"])
    assert by_name[up["name"]] == up
    assert by_name[down["name"]].items() >= down.items()
    assert len(facts["neighbors"]) == 1  # ports without a neighbour are left out
    assert set(facts["neighbors"][0]) == NEIGHBOR_KEYS
    assert facts["neighbors"][0].items() >= neighbor.items()
    routes = facts["routes"]
    assert (routes["default"], routes["next_hop"]) == (True, hop)
    assert routes["entries"][0]["prefix"] == "0.0.0.0/0"
    assert {e["protocol"] for e in routes["entries"]} <= {"static", "direct", "local"}


def test_vrp_inactive_routes_are_left_out_and_direct_routes_name_their_interface() -> None:
    routes = _facts("vrp", "routes")[0]["routes"]
    assert [e["next_hop"] for e in routes["entries"] if e["prefix"] == "0.0.0.0/0"] == ["10.0.0.1"]
    assert routes["interface"] == "Vlanif10"


def test_comware_short_interface_names_become_long_names() -> None:
    routes = _facts("comware", "routes")[0]["routes"]
    assert routes["interface"] == "Vlan-interface10"
    assert {e["interface"] for e in routes["entries"]} == {"Vlan-interface10", "InLoopBack0"}


@pytest.mark.parametrize(
    ("short", "fam", "long"),
    [
        ("GE0/0/1", None, "GigabitEthernet0/0/1"),
        ("Gi0/1", "ios", "GigabitEthernet0/1"),
        ("Fa0/24", "ios", "FastEthernet0/24"),
        ("XGE1/0/49", "comware", "Ten-GigabitEthernet1/0/49"),
        ("Vlan10", "comware", "Vlan-interface10"),
        ("Vlan10", "ios", "Vlan10"),
        ("Vlanif10", "vrp", "Vlanif10"),
        ("GigabitEthernet0/0/1", "vrp", "GigabitEthernet0/0/1"),
        ("NULL0", "comware", "NULL0"),
    ],
)
def test_long_name(short: str, fam: str | None, long: str) -> None:
    assert long_name(short, fam) == long


def test_config_is_the_output_as_it_is() -> None:
    text = "#\nsysname core-sw1\n#\nreturn\n"
    assert facts_from_outputs("vrp", {"config": text}) == ({"config": text}, [])


def test_output_that_does_not_fit_the_template_is_a_note_and_none() -> None:
    broken = (FIXTURES / "vrp_neighbors.txt").read_text(encoding="utf-8")
    broken = broken.replace("Power pairs                 :Signal", "Power pairs :Signal Pair")
    facts, notes = facts_from_outputs("vrp", {"neighbors": broken, "config": "x"})
    assert facts == {"neighbors": None, "config": "x"}
    assert len(notes) == 1
    assert notes[0].startswith("facts: neighbors not read from 'display lldp neighbor' (")


def test_a_family_without_fact_commands_gives_notes() -> None:
    facts, notes = facts_from_outputs("eos", {"interfaces": "Ethernet1 is up"})
    assert facts == {"interfaces": None}
    assert notes == ["facts: interfaces not read (no interfaces command for network OS eos)"]


def test_family_of_an_inventory_host() -> None:
    class Host:
        def __init__(self, **vars_: str) -> None:
            self.vars = vars_

    assert family(Host(ansible_network_os="community.network.ce")) == "vrp"
    assert family(Host(ansible_network_os="comware")) == "comware"
    assert family(Host(netmiko_device_type="cisco_ios")) == "ios"
    assert family(Host()) is None
    assert command_for("comware", "neighbors") == "display lldp neighbor-information verbose"


def test_textfsm_true_finds_huawei_templates_by_the_ntc_platform() -> None:
    # netmiko's own converter looked for platform "huawei" (its device type) and found none
    text = (FIXTURES / "vrp_interfaces.txt").read_text(encoding="utf-8")
    rows, note = parse_device_output("huawei", "display interface", text)
    assert note == ""
    assert [r["interface"] for r in rows] == ["GigabitEthernet0/0/1", "GigabitEthernet0/0/2"]
    rows, note = parse_device_output("huawei", "display nothing", text)
    assert rows is None
    assert note.startswith("textfsm: output not parsed (")


@pytest.mark.parametrize("fam", sorted(EXPECTED))
def test_empty_output_gives_empty_lists(fam: str) -> None:
    facts, notes = facts_from_outputs(fam, {"interfaces": "", "neighbors": ""})
    assert (facts, notes) == ({"interfaces": [], "neighbors": []}, [])


@pytest.mark.parametrize(
    ("fam", "replace", "by", "descriptions"),
    [
        ("vrp", "Description:UPLINK-BACKUP",
         "Description:HUAWEI, S5735 Series, GigabitEthernet0/0/2 Interface",
         ["UPLINK-PRIMARY", ""]),
        ("comware", "Description: oa1", "Description: GigabitEthernet1/0/1 Interface", ["", ""]),
    ],
)  # fmt: skip
def test_the_default_description_of_a_port_is_no_description(
    fam: str, replace: str, by: str, descriptions: list[str]
) -> None:
    text = (FIXTURES / f"{fam}_interfaces.txt").read_text(encoding="utf-8").replace(replace, by)
    facts, _ = facts_from_outputs(fam, {"interfaces": text})
    assert [i["description"] for i in facts["interfaces"]] == descriptions


def test_the_terminal_line_of_a_facts_step_sums_the_facts_up() -> None:
    from respond.kinds.netmiko import facts_summary

    facts, _ = _facts("vrp", "interfaces", "routes")
    facts["neighbors"] = None
    facts["config"] = "#\nsysname core-sw1\nreturn\n"
    assert facts_summary(facts) == (
        "interfaces 2 (1 down), default route via 10.0.0.1, config 3 lines, not read: neighbors"
    )
