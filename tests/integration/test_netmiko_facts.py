"""Facts and per-OS commands in real runs against fake-switches, the independent Cisco peer
(its packaged `show` commands: `show running-config` answers, `show interfaces` and `show
lldp neighbors detail` print nothing, so those facts are empty lists)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import Cli
from switches import FakeSwitch, Interface, start_switch, write_known_hosts

HEAD = "runbook: facts\nversion: 1.0.0\ntitle: facts\nscenario: network\nseverity: 3\nsteps:\n"
FACTS = """\
  - id: read
    kind: netmiko
    targets: edge1
    facts: [interfaces, neighbors, config]
    register: edge
    expect:
      that:
        - "result.facts.interfaces == [] and result.facts.neighbors == []"
        - "'interface GigabitEthernet0/1' in result.facts.config"
  - id: say
    kind: notify
    message: "config of edge1: {{ edge.hosts['edge1'].facts.config | length > 0 }}"
"""
PER_OS = """\
  - id: table
    kind: netmiko
    targets: edge1
    commands:
      vrp: [display version]
      comware: [display version]
"""


@pytest.fixture(scope="module")
def switch() -> Iterator[FakeSwitch]:
    sw = start_switch("edge1", interfaces=[Interface("GigabitEthernet0/1", description="wan")])
    yield sw
    sw.stop()


def _project(root: Path, sw: FakeSwitch, steps: str) -> Cli:
    (root / "runbooks").mkdir(parents=True)
    known_hosts = write_known_hosts(root / "known_hosts", [sw])
    inventory = {"all": {"hosts": {sw.name: sw.inventory_vars()}}}
    (root / "hosts.yaml").write_text(json.dumps(inventory), encoding="utf-8")
    (root / "respond.yaml").write_text(
        f"default_inventory: hosts.yaml\nknown_hosts: {known_hosts}\n", encoding="utf-8"
    )
    (root / "runbooks" / "facts.yaml").write_text(HEAD + steps, encoding="utf-8")
    return Cli().bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})


def test_facts_reach_expect_and_later_steps_and_the_record(
    switch: FakeSwitch, tmp_path: Path
) -> None:
    cli = _project(tmp_path, switch, FACTS)
    out = cli("run", "facts", "--json")
    assert out.rc == 0, out
    data = cli("timeline", "show", out.json()["run_id"], "--json", check=True).json()
    events = data["events"] if isinstance(data, dict) else data
    assert "config of edge1: True" in json.dumps(events)  # the notice read REG.hosts[h].facts
    result = next(e["data"] for e in events if e["kind"] == "host-result")
    facts = result["data"]["facts"]
    assert (facts["interfaces"], facts["neighbors"]) == ([], [])
    assert "interface GigabitEthernet0/1" in facts["config"]
    sent = [c["command"] for c in result["commands"]]
    assert sent == ["show interfaces", "show lldp neighbors detail", "show running-config"]


def test_a_host_whose_os_has_no_entry_fails_with_a_clear_error(
    switch: FakeSwitch, tmp_path: Path
) -> None:
    cli = _project(tmp_path, switch, PER_OS)
    out = cli("run", "facts")
    assert out.rc == 1, out
    assert "no commands for network OS ios on edge1" in out.stderr, out
