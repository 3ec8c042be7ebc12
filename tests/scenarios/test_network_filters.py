"""The project filters of the network runbook (filters/network.py), on results shaped as the
engine registers a netmiko step's `facts:` (the same structure from every vendor): fast,
without the lab."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest
from labkit import REPO

from respond.runbook.templating import Registered


def _filters() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "network_filters", REPO / "filters" / "network.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


F = _filters()


def _port(name: str, description: str, admin: str, oper: str, crc: int = 0) -> dict[str, Any]:
    return {"name": name, "admin": admin, "oper": oper, "description": description,
            "speed_mbps": 1000, "in_errors": crc, "out_errors": 0, "crc": crc}  # fmt: skip


def _facts(ports: list[dict[str, Any]], default: bool = True, **more: Any) -> dict[str, Any]:
    routes = {"default": default, "next_hop": "10.0.0.1" if default else None,
              "interface": None, "entries": []}  # fmt: skip
    return {"interfaces": ports, "neighbors": more.get("neighbors", []), "routes": routes}


LLDP_ACC_SW1 = {"local_interface": "GigabitEthernet0/0/3", "name": "acc-sw1",
                "interface": "GigabitEthernet1/0/25", "protocol": "lldp",
                "platform": None, "address": None}  # fmt: skip

# A Huawei core with its primary uplink down, an H3C access switch that refused the login,
# a Cisco access switch that is dead; acc-sw10 (of a bigger lab) answers.
NET = Registered(
    {
        "core-sw1": {
            "ok": True,
            "facts": _facts(
                [
                    _port("GigabitEthernet0/0/1", "UPLINK-PRIMARY", "up", "down", crc=12),
                    _port("GigabitEthernet0/0/2", "UPLINK-BACKUP", "down", "down"),
                    _port("GigabitEthernet0/0/4", "TRUNK acc-sw2", "up", "down"),
                    _port("GigabitEthernet0/0/12", "TRUNK acc-sw10", "up", "down"),
                    _port("GigabitEthernet0/0/9", "", "up", "down"),
                ],
                default=False,
                neighbors=[LLDP_ACC_SW1],
            ),
        },
        "acc-sw1": {"ok": False, "failed": True, "error": "Authentication failed."},
        "acc-sw2": {"ok": False, "failed": True, "error": "connection refused"},
        "acc-sw10": {"ok": True, "facts": _facts([_port("Gi0/1", "UPLINK core-sw1", "up", "up")])},
    }
)


def test_refused_logins_are_not_dead_switches() -> None:
    assert F.refused_login(NET) == ["acc-sw1"]


def test_down_links_are_the_enabled_cabled_ports_without_link_with_errors_and_cause() -> None:
    links = F.down_links(NET, ["acc-sw2"])
    assert [link["text"] for link in links] == [
        'core-sw1 GigabitEthernet0/0/1 "UPLINK-PRIMARY" down, 12 CRC errors',
        'core-sw1 GigabitEthernet0/0/4 "TRUNK acc-sw2" down (toward unreachable acc-sw2)',
        'core-sw1 GigabitEthernet0/0/12 "TRUNK acc-sw10" down',
    ]
    # the shut backup uplink and the uncabled port are not down links; a dead acc-sw1 is not
    # what "TRUNK acc-sw10" points at
    assert [link["toward"] for link in links] == [[], ["acc-sw2"], []]
    assert links[0]["at"] == "core-sw1:GigabitEthernet0/0/1"
    assert F.down_links(NET, ["acc-sw1"])[2]["toward"] == []


def test_a_switch_without_facts_gives_no_links_and_no_route() -> None:
    empty = Registered({"core-sw1": {"ok": True, "facts": None}})
    assert F.down_links(empty, []) == []
    assert F.default_route(empty, "core-sw1")["present"] is False
    assert F.default_route(NET, "acc-sw2")["text"] == "default route on acc-sw2: MISSING"


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("GE0/0/1", "GigabitEthernet0/0/1"),  # Huawei
        ("ge0/0/1", "GigabitEthernet0/0/1"),
        ("GE1/0/25", "GigabitEthernet1/0/25"),  # H3C
        ("XGE1/0/49", "Ten-GigabitEthernet1/0/49"),
        ("Gi0/1", "GigabitEthernet0/1"),  # Cisco
        ("gig 0/1", "GigabitEthernet0/1"),
        ("Fa0/3", "FastEthernet0/3"),
        ("Te1/1/1", "TenGigabitEthernet1/1/1"),
        ("Eth1/1", "Ethernet1/1"),
        ("GigabitEthernet0/0/1", "GigabitEthernet0/0/1"),
    ],
)
def test_a_port_is_found_under_any_of_its_names(given: str, name: str) -> None:
    assert F.same_port(given, name)


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("GE0/0/1", "GigabitEthernet0/0/10"),
        ("GE0/0/1", "XGigabitEthernet0/0/1"),
        ("XGE0/0/1", "GigabitEthernet0/0/1"),
        ("Fa0/1", "GigabitEthernet0/1"),
        ("Gi0/1", "GigabitEthernet0/0/1"),
    ],
)
def test_a_port_is_not_confused_with_another(given: str, name: str) -> None:
    assert not F.same_port(given, name)


def test_the_uplink_param_in_short_form_names_the_core_port() -> None:
    assert F.port_name(NET, "core-sw1", "GE0/0/2") == "GigabitEthernet0/0/2"
    assert F.port_state(F.port_of(NET, "core-sw1", "GE0/0/2")) == "administratively down"
    assert F.port_state(F.port_of(NET, "core-sw1", "GE0/0/1")) == "down"
    assert F.port_state(F.port_of(NET, "acc-sw10", "GigabitEthernet0/1")) == "up"
    assert F.port_state(F.port_of(NET, "acc-sw2", "Gi0/1")) == "unknown"  # did not answer
    # a switch that did not answer: the usual long form, for the configuration line
    assert F.port_name(NET, "acc-sw2", "Gi0/2") == "GigabitEthernet0/2"
    assert F.long_port("XGE0/0/1") == "XGigabitEthernet0/0/1"
    assert F.long_port("Vlanif10") == "Vlanif10"


def test_neighbours_and_the_default_route_read_the_facts() -> None:
    assert F.neighbours(NET, "core-sw1") == ["acc-sw1 on GigabitEthernet0/0/3"]
    assert F.neighbours(NET, "acc-sw9") == []
    assert F.default_route(NET, "core-sw1")["text"] == "default route on core-sw1: MISSING"
    assert F.default_route(NET, "acc-sw10") == {
        "present": True,
        "next_hop": "10.0.0.1",
        "interface": None,
        "text": "default route on acc-sw10: present via 10.0.0.1",
    }
