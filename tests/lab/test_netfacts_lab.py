"""Vendor-neutral facts from the lab's switches through real runs (`facts:` on a netmiko
step), and a fact command a switch rejects."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from clikit import DEADLINE
from labkit import Lab

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
"""


def _facts_run(lab: Lab, targets: str) -> dict[str, dict[str, Any]]:
    """host → facts of one `facts: all` run over ``targets``."""
    runbooks = lab.project / "runbooks"
    runbooks.mkdir(exist_ok=True)
    (runbooks / "lab-facts.yaml").write_text(FACTS.format(targets=targets), encoding="utf-8")
    rc, result = lab.run("lab-facts", None, "-i", "inventory/lab.yaml")
    assert rc == 0, result
    return {
        e["host"]: e["data"]["data"]["facts"]
        for e in lab.events(result["run_id"])
        if e["kind"] == "host-result"
    }


def test_cisco_access_switch_facts(lab: Lab) -> None:
    facts = _facts_run(lab, "acc-sw2")["acc-sw2"]
    ports = {i["name"]: i for i in facts["interfaces"]}
    assert all(set(i) == INTERFACE_KEYS for i in facts["interfaces"])
    assert ports["GigabitEthernet0/1"]["description"] == "UPLINK core-sw1"
    assert ports["GigabitEthernet0/1"]["oper"] == "up"
    assert ports["FastEthernet0/1"] == {
        "name": "FastEthernet0/1", "admin": "up", "oper": "up", "description": "app1",
        "speed_mbps": 100, "in_errors": 0, "out_errors": 0, "crc": 0,
    }  # fmt: skip
    assert [(n["local_interface"], n["name"], n["interface"]) for n in facts["neighbors"]] == [
        ("GigabitEthernet0/1", "core-sw1", "GigabitEthernet0/0/4")
    ]
    assert facts["routes"]["default"] is True
    assert "hostname acc-sw2" in facts["config"]


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
