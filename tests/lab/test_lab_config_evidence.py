"""Configuration evidence on the lab's own switches: a config step on the H3C access switch
(Comware, `display current-configuration`) and on the Cisco one (IOS, `show
running-config`) records each device's configuration before and after and the diff, through
netmiko's own drivers and the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit import Lab

from respond.netfacts.configdiff import config_diff

RUNBOOK = """\
runbook: lab-cfg
version: 1.0.0
title: configuration evidence on the lab switches
scenario: network
severity: 3
steps:
  - id: label-h3c
    kind: netmiko
    targets: acc-sw1
    confirm: label a spare port on acc-sw1
    config: [interface GigabitEthernet1/0/20, description SPARE-EVIDENCE]
    save: true
  - id: label-cisco
    kind: netmiko
    targets: acc-sw2
    confirm: label a spare port on acc-sw2
    config: [interface FastEthernet0/20, description SPARE-EVIDENCE]
  # the lab is shared by the session's tests: put both ports back as they were
  - id: undo-h3c
    kind: netmiko
    targets: acc-sw1
    confirm: undo
    config: [interface GigabitEthernet1/0/20, undo description]
    save: true
  - id: undo-cisco
    kind: netmiko
    targets: acc-sw2
    confirm: undo
    config: [interface FastEthernet0/20, no description]
"""


def _shown(lab: Lab, run_id: str, step: str, which: str) -> str:
    out = lab.respond("timeline", "configs", run_id, "--step", step, "--show", which)
    assert out.rc == 0, out
    return out.stdout


def _config(events: list[dict[str, Any]], step: str) -> dict[str, object]:
    (ev,) = [e for e in events if e["kind"] == "host-result" and e["step_id"] == step]
    assert ev["data"]["status"] == "ok", ev
    return dict(ev["data"]["config"])


def test_config_steps_on_the_h3c_and_cisco_switches_record_the_diff(
    lab: Lab, tmp_path: Path
) -> None:
    runbook = tmp_path / "lab-cfg.yaml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    inventory = str(lab.project / "inventory" / "lab.yaml")
    rc, result = lab.run(str(runbook), None, "-i", inventory)
    assert rc == 0, result
    run_id = result["run_id"]
    events = lab.events(run_id)
    h3c = _config(events, "label-h3c")
    assert h3c["command"] == "display current-configuration"
    assert h3c["changed"] is True
    diff = str(h3c["diff"])
    assert diff.startswith("--- acc-sw1 before\n+++ acc-sw1 after\n@@"), diff
    assert "+ description SPARE-EVIDENCE" in diff

    cisco = _config(events, "label-cisco")
    assert cisco["command"] == "show running-config"
    assert "+ description SPARE-EVIDENCE" in str(cisco["diff"])

    archive = lab.json("timeline", "configs", run_id)
    assert [(c["device"], c["step_id"], c["added"], c["removed"]) for c in archive] == [
        ("acc-sw1", "label-h3c", 1, 0),
        ("acc-sw2", "label-cisco", 1, 0),
        ("acc-sw1", "undo-h3c", 0, 1),
        ("acc-sw2", "undo-cisco", 0, 1),
    ]
    # undone: acc-sw1 ends with the very configuration it started with (one artifact)...
    assert archive[2]["after"] == archive[0]["before"]
    # ...and acc-sw2 with one that differs only in the lines IOS rewrites by itself
    # ("Current configuration : N bytes", "! Last configuration change at ...")
    first, last = (
        _shown(lab, run_id, *which)
        for which in (("label-cisco", "before"), ("undo-cisco", "after"))
    )
    assert first != last
    assert config_diff(first, last) == ""
    assert lab.respond("timeline", "verify", run_id).rc == 0
