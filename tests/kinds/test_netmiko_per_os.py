"""The netmiko kind's `facts` field and per-OS `commands`/`config`, through `respond
validate` and `respond plan` on a project whose inventory has a Cisco, a Huawei and an H3C
switch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import Cli

INVENTORY = """\
all:
  children:
    switches:
      hosts:
        acc-sw2: {ansible_host: 127.0.0.1, ansible_network_os: ios}
        core-sw1: {ansible_host: 127.0.0.1, ansible_network_os: vrp}
        acc-sw1: {ansible_host: 127.0.0.1, ansible_network_os: comware}
"""
HEAD = """\
runbook: routes
version: 1.0.0
title: Routes
scenario: network
severity: 3
steps:
"""


def _project(root: Path, steps: str) -> Cli:
    (root / "runbooks").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "respond.yaml").write_text(
        "project: per-os\ndefault_inventory: inventory/hosts.yaml\n", encoding="utf-8"
    )
    (root / "inventory" / "hosts.yaml").write_text(INVENTORY, encoding="utf-8")
    (root / "runbooks" / "routes.yaml").write_text(HEAD + steps, encoding="utf-8")
    return Cli(cwd=root)


PER_OS = """\
  - id: table
    kind: netmiko
    targets: switches
    commands:
      ios: [show ip route]
      vrp: [display ip routing-table]
"""


def test_validate_warns_for_a_host_whose_os_has_no_entry(tmp_path: Path) -> None:
    cli = _project(tmp_path, PER_OS)
    res = cli("validate", "runbooks/routes.yaml")
    assert res.rc == 0, res
    assert (
        "runbooks/routes.yaml:10:5: warning: step 1 (table) commands: no entry for network OS "
        "comware of acc-sw1 and no 'default': the step fails on that host"
    ) in res.stdout + res.stderr, res
    assert "acc-sw2" not in res.stdout + res.stderr and "core-sw1" not in res.stdout + res.stderr


def test_a_default_entry_covers_every_other_os(tmp_path: Path) -> None:
    cli = _project(tmp_path, PER_OS + "      default: [display ip routing-table]\n")
    res = cli("validate", "runbooks/routes.yaml")
    assert res.rc == 0, res
    assert "warning" not in res.stdout + res.stderr, res


def test_plan_shows_each_host_its_own_commands_and_warns_for_the_missing_os(
    tmp_path: Path,
) -> None:
    cli = _project(tmp_path, PER_OS)
    res = cli("plan", "routes", "--json")
    assert res.rc == 0, res
    step = json.loads(res.stdout)["steps"][0]
    assert step["commands"]["acc-sw2"] == ["show ip route"]
    assert step["commands"]["core-sw1"] == ["display ip routing-table"]
    assert step["commands"]["acc-sw1"] == [
        "(fails at run time: no commands for network OS comware on acc-sw1)"
    ]
    assert step["warnings"] == [
        "commands: no entry for network OS comware of acc-sw1 and no 'default': "
        "the step fails on that host"
    ]
    shown = cli("plan", "routes")
    assert "warning: commands: no entry for network OS comware of acc-sw1" in shown.stdout


def test_plan_lists_the_facts_a_step_reads(tmp_path: Path) -> None:
    cli = _project(tmp_path, "  - {id: facts, kind: netmiko, targets: core-sw1, facts: all}\n")
    res = cli("plan", "routes", "--json")
    assert res.rc == 0, res
    assert json.loads(res.stdout)["steps"][0]["commands"]["core-sw1"] == [
        "(facts) interfaces",
        "(facts) neighbors",
        "(facts) routes",
        "(facts) config",
    ]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "  - {id: f, kind: netmiko, targets: switches, facts: [interfaces, route]}\n",
            "routes.yaml:7:47: error: step 1 (f): facts: unknown fact 'route' (did you mean 'routes'?) "
            "(known: interfaces, neighbors, routes, config, all)",
        ),
        (
            "  - {id: f, kind: netmiko, targets: switches, commands: {vrpp: [display version]}}\n",
            "routes.yaml:7:47: error: step 1 (f): commands: unknown network OS 'vrpp' "
            "(did you mean 'vrp'?)",
        ),
        (
            "  - {id: f, kind: netmiko, targets: switches}\n",
            "error: step 1 (f): a netmiko step needs 'commands', 'config' or 'facts'",
        ),
        (
            "  - {id: f, kind: ssh, targets: switches, commands: {ios: [uptime]}}\n",
            "error: step 1 (f): 'commands' of an ssh step is a list "
            "(per-OS mappings are for netmiko steps)",
        ),
    ],
)
def test_bad_fields_are_errors_at_their_place(tmp_path: Path, step: str, message: str) -> None:
    cli = _project(tmp_path, step)
    res = cli("validate", "runbooks/routes.yaml")
    assert res.rc == 2, res
    assert message in res.stdout + res.stderr, res
