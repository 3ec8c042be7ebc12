"""Vendor-neutral facts from the lab's switches through real runs (`facts:` on a netmiko
step), and a fact command a switch rejects."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from clikit import DEADLINE
from labkit import Lab

NEIGHBOR_KEYS = {"local_interface", "name", "interface", "protocol", "platform", "address"}
INTERFACE_KEYS = {
    "name", "admin", "oper", "description", "speed_mbps", "in_errors", "out_errors", "crc"
}  # fmt: skip
FACTS = """\
runbook: lab-facts
version: 1.0.0
title: Facts from the lab switches
scenario: network
severity: 3
steps:
  - id: read
    kind: netmiko
    targets: {targets}
    facts: all
  - id: clock
    kind: netmiko
    targets: {targets}
    commands:
      ios: [show clock]
      vrp: [display clock]
      comware: [display clock]
"""
# switch → (a port that is up and its description, a neighbour (local port, name, its port),
# the default route's next hop)
EXPECTED = {
    "core-sw1": (
        ("GigabitEthernet0/0/1", "UPLINK-PRIMARY"),
        ("GigabitEthernet0/0/3", "acc-sw1", "GigabitEthernet1/0/25"),
        "10.0.0.1",
    ),
    "acc-sw1": (
        ("GigabitEthernet1/0/1", "oa1"),
        ("GigabitEthernet1/0/25", "core-sw1", "GigabitEthernet0/0/3"),
        "10.10.0.1",
    ),
    "acc-sw2": (
        ("FastEthernet0/1", "app1"),
        ("GigabitEthernet0/1", "core-sw1", "GigabitEthernet0/0/4"),
        "10.10.0.1",
    ),
}


def _run(lab: Lab, targets: str) -> list[dict[str, Any]]:
    """The host-result events of one run of FACTS over ``targets``."""
    runbooks = lab.project / "runbooks"
    runbooks.mkdir(exist_ok=True)
    (runbooks / "lab-facts.yaml").write_text(FACTS.format(targets=targets), encoding="utf-8")
    rc, result = lab.run("lab-facts", None, "-i", "inventory/lab.yaml")
    assert rc == 0, result
    return [e for e in lab.events(result["run_id"]) if e["kind"] == "host-result"]


def test_facts_from_switches_of_each_vendor_have_one_structure(lab: Lab) -> None:
    results = _run(lab, "switches")
    facts = {e["host"]: e["data"]["data"]["facts"] for e in results if e["step_id"] == "read"}
    assert sorted(facts) == sorted(EXPECTED)
    for switch, ((port, description), neighbor, next_hop) in EXPECTED.items():
        got = facts[switch]
        assert all(set(i) == INTERFACE_KEYS for i in got["interfaces"]), switch
        ports = {i["name"]: i for i in got["interfaces"]}
        assert ports[port] == {
            "name": port, "admin": "up", "oper": "up", "description": description,
            "speed_mbps": ports[port]["speed_mbps"], "in_errors": 0, "out_errors": 0, "crc": 0,
        }, switch  # fmt: skip
        assert ports[port]["speed_mbps"] in (100, 1000), switch
        assert all(set(n) == NEIGHBOR_KEYS for n in got["neighbors"]), switch
        seen = [(n["local_interface"], n["name"], n["interface"]) for n in got["neighbors"]]
        assert neighbor in seen, (switch, seen)
        assert (got["routes"]["default"], got["routes"]["next_hop"]) == (True, next_hop), switch
        assert switch in got["config"], switch
    sent = {
        e["host"]: e["data"]["commands"][0]["command"] for e in results if e["step_id"] == "clock"
    }
    # per-OS commands: each host got its own OS's line
    assert sent == {
        "core-sw1": "display clock",
        "acc-sw1": "display clock",
        "acc-sw2": "show clock",
    }
    assert [e["data"]["commands"][0]["rc"] for e in results if e["step_id"] == "clock"] == [0, 0, 0]


def test_facts_show_a_link_down_on_the_huawei_core(lab: Lab) -> None:
    lab.inject("link-down")  # the core's primary uplink, GigabitEthernet0/0/1
    results = _run(lab, "core-sw1")
    facts = next(e["data"]["data"]["facts"] for e in results if e["step_id"] == "read")
    uplink = next(i for i in facts["interfaces"] if i["name"] == "GigabitEthernet0/0/1")
    assert (uplink["admin"], uplink["oper"]) == ("up", "down")
    assert "wan-rtr1" not in [n["name"] for n in facts["neighbors"]]
    assert facts["routes"]["default"] is False
    assert facts["routes"]["next_hop"] is None


def test_a_fact_command_the_switch_rejects_is_a_note_not_a_failure(
    lab: Lab, tmp_path: Path
) -> None:
    # Huawei's commands sent to the Cisco switch (as a wrong ansible_network_os would):
    # the switch rejects them, each fact is None with a note, the step's own command decides
    from respond.executors.base import RunContext
    from respond.executors.netmiko import NetmikoExecutor
    from respond.kinds import get
    from respond.kinds.netmiko import DeviceSession

    inv = yaml.safe_load((lab.project / "inventory" / "lab.yaml").read_text())["all"]
    switches = inv["children"]["switches"]
    vars_ = {**switches["vars"], **switches["hosts"]["acc-sw2"]}
    host = SimpleNamespace(
        name="acc-sw2", address="127.0.0.1", port=vars_["ansible_port"],
        user=vars_["ansible_user"], password=vars_["ansible_password"], key_file=None,
        network_os="ios", vars=vars_,
    )  # fmt: skip
    ctx = RunContext(
        run_id="r1",
        project_root=tmp_path,
        playbooks_dir=tmp_path,
        home=tmp_path / "home",
        known_hosts=(lab.lab_dir / "known_hosts",),
    )
    step = SimpleNamespace(id="s1", kind="netmiko", textfsm=False, timeout=None)
    session = DeviceSession(commands=("show clock",), facts=("interfaces",), family="vrp")
    executor = NetmikoExecutor(ctx)
    try:
        res = executor.run(step, host, session, DEADLINE)
    finally:
        executor.close()
    from respond.results import StepStatus

    assert res.status is StepStatus.OK, res.error
    assert [(c.command, c.exit_code) for c in res.commands] == [
        ("show clock", 0),
        ("display interface", 1),
    ]
    assert res.data["facts"] == {"interfaces": None}
    assert res.data["notes"] == [
        "facts: interfaces not read (the device rejected 'display interface')"
    ]
    assert get("netmiko").check(None, res) == (True, "")
