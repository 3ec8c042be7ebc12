"""The project filters of the network runbook (filters/network.py), and the runbook's own
findings and verdicts built on them, on results shaped as the engine registers a netmiko
step's `facts:` (the same structure from every vendor): fast, without the lab (the lab runs
are in test_network_outage.py)."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest
import yaml
from labkit import REPO

from respond.runbook.templating import Registered, Templates


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


# ----------------------------------------------------------------------------- the runbook

RUNBOOK = yaml.safe_load((REPO / "runbooks" / "network-outage.yaml").read_text(encoding="utf-8"))
STEPS = {step["id"]: step for step in RUNBOOK["steps"]}
TEMPLATES = Templates(REPO)  # with the project's filters, as a run has them
PINGS = Registered({"oa1": {"ok": True}, "app1": {"ok": True}})


def diagnose(net: Registered, **params: str) -> list[tuple[str, str]]:
    """The runbook's `findings` values and `locate` rules over these results: every
    (verdict, message) that applies, or the `otherwise` one."""
    names = {name: spec["default"] for name, spec in RUNBOOK["params"].items()}
    variables: dict[str, Any] = {**names, **params, "net": net, "ping": PINGS}
    for name, expression in STEPS["findings"]["values"].items():
        variables[name] = TEMPLATES.evaluate(expression, variables)
    locate = STEPS["locate"]
    found = [
        (rule["verdict"], TEMPLATES.render_text(rule["message"], variables))
        for rule in locate["rules"]
        if TEMPLATES.evaluate(rule["when"], variables)
    ]
    otherwise = locate["otherwise"]
    return found or [(otherwise["verdict"], TEMPLATES.render_text(otherwise["message"], variables))]


def _core(*ports: dict[str, Any], default: bool = True) -> Registered:
    return Registered({"core-sw1": {"ok": True, "facts": _facts(list(ports), default=default)}})


BASELINE = (
    _port("GigabitEthernet0/0/1", "UPLINK-PRIMARY", "up", "up"),
    _port("GigabitEthernet0/0/2", "UPLINK-BACKUP", "down", "down"),
)


def test_every_finding_of_the_three_vendor_example_is_named() -> None:
    found = diagnose(NET, uplink="GE0/0/1", backup="GE0/0/2")
    assert [verdict for verdict, _ in found] == [
        "device-down",
        "uplink-down",
        "link-down",
        "no-access",
    ]
    messages = dict(found)
    assert messages["device-down"] == (
        "switch DOWN (unreachable): acc-sw2; core-sw1 GigabitEthernet0/0/4 "
        '"TRUNK acc-sw2" down (toward unreachable acc-sw2); servers cut off: none'
    )
    assert messages["uplink-down"] == (
        'core-sw1 GigabitEthernet0/0/1 "UPLINK-PRIMARY" down, 12 CRC errors; default route on'
        " core-sw1: MISSING; backup uplink GigabitEthernet0/0/2: administratively down;"
        " neighbours of core-sw1: acc-sw1 on GigabitEthernet0/0/3"
    )
    assert messages["link-down"] == 'link DOWN core-sw1 GigabitEthernet0/0/12 "TRUNK acc-sw10" down'


def test_a_healthy_core_is_no_fault_and_a_dead_one_unreachable() -> None:
    assert diagnose(_core(*BASELINE)) == [
        (
            "no-fault",
            "1 switch(es) answer, no cabled port down, default route on core-sw1: present via"
            " 10.0.0.1, servers reach 8.8.8.8",
        )
    ]
    dead = Registered({"core-sw1": {"ok": False, "failed": True, "error": "connection refused"}})
    assert diagnose(dead)[0] == ("unreachable", "no switch answers (core-sw1): connection refused")


def test_a_switch_whose_interfaces_did_not_parse_is_never_no_fault() -> None:
    net = Registered(
        {
            "core-sw1": {"ok": True, "facts": _facts(list(BASELINE))},
            "acc-sw1": {"ok": True, "facts": {"interfaces": None, "neighbors": None}},
        }
    )
    [(verdict, message)] = diagnose(net)
    assert verdict == "unlocated"
    assert message.endswith("; interfaces not read from: acc-sw1"), message
