"""Configuration evidence on the lab's own switches: one config step with per-OS lines on
the Huawei core (VRP, `undo shutdown` of the backup uplink), the H3C access switch (Comware)
and the Cisco one (IOS, `show running-config`) records each device's configuration before
and after and the diff, through netmiko's own drivers and the real CLI.

netmiko's huawei driver spends about 9 s on a config set here (its config-mode checks wait
for 2 s of quiet each), so the three vendors share one step each way: the hosts run at once.
"""

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
  - id: change
    kind: netmiko
    targets: core-sw1:acc-sw1:acc-sw2
    confirm: bring up the core's backup uplink, label a spare port on each access switch
    config:
      vrp: [interface GigabitEthernet0/0/2, undo shutdown]
      comware: [interface GigabitEthernet1/0/20, description SPARE-EVIDENCE]
      ios: [interface FastEthernet0/20, description SPARE-EVIDENCE]
    save: true
  # the lab is shared by the session's tests: put the ports back as they were
  - id: undo
    kind: netmiko
    targets: core-sw1:acc-sw1:acc-sw2
    confirm: undo
    config:
      vrp: [interface GigabitEthernet0/0/2, shutdown]
      comware: [interface GigabitEthernet1/0/20, undo description]
      ios: [interface FastEthernet0/20, no description]
    save: true
"""


def _shown(lab: Lab, run_id: str, device: str, step: str, which: str) -> str:
    out = lab.respond(
        "timeline", "configs", run_id, "--device", device, "--step", step, "--show", which
    )
    assert out.rc == 0, out
    return out.stdout


def _config(events: list[dict[str, Any]], step: str, host: str) -> dict[str, object]:
    (ev,) = [
        e
        for e in events
        if e["kind"] == "host-result" and e["step_id"] == step and e["host"] == host
    ]
    assert ev["data"]["status"] == "ok", ev
    return dict(ev["data"]["config"])


def _changed(diff: object) -> list[str]:
    """The + and - lines of a unified diff (its ---/+++ file lines left out)."""
    hunks = str(diff).split("\n@@", 1)[1].splitlines()
    return [line for line in hunks if line.startswith(("+", "-"))]


def test_config_steps_on_the_huawei_h3c_and_cisco_switches_record_the_diff(
    lab: Lab, tmp_path: Path
) -> None:
    runbook = tmp_path / "lab-cfg.yaml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    inventory = str(lab.project / "inventory" / "lab.yaml")
    rc, result = lab.run(str(runbook), None, "-i", inventory)
    assert rc == 0, result
    run_id = result["run_id"]
    events = lab.events(run_id)

    huawei = _config(events, "change", "core-sw1")
    assert huawei["command"] == "display current-configuration"
    diff = str(huawei["diff"])
    assert diff.startswith("--- core-sw1 before\n+++ core-sw1 after\n@@"), diff
    assert _changed(diff) == ["- shutdown"], diff
    assert "\n interface GigabitEthernet0/0/2\n  description UPLINK-BACKUP\n- shutdown\n" in diff

    h3c = _config(events, "change", "acc-sw1")
    assert h3c["command"] == "display current-configuration"
    assert _changed(h3c["diff"]) == ["+ description SPARE-EVIDENCE"], h3c["diff"]

    cisco = _config(events, "change", "acc-sw2")
    assert cisco["command"] == "show running-config"
    assert _changed(cisco["diff"]) == ["+ description SPARE-EVIDENCE"], cisco["diff"]

    archive = lab.json("timeline", "configs", run_id)
    summary = {(c["step_id"], c["device"]): (c["added"], c["removed"]) for c in archive}
    assert summary == {
        ("change", "core-sw1"): (0, 1),
        ("change", "acc-sw1"): (1, 0),
        ("change", "acc-sw2"): (1, 0),
        ("undo", "core-sw1"): (1, 0),
        ("undo", "acc-sw1"): (0, 1),
        ("undo", "acc-sw2"): (0, 1),
    }
    first = {c["device"]: c for c in archive if c["step_id"] == "change"}
    last = {c["device"]: c for c in archive if c["step_id"] == "undo"}
    # undone: the Huawei and H3C switches end with the very configuration they started
    # with (one artifact each)...
    for device in ("core-sw1", "acc-sw1"):
        assert last[device]["after"] == first[device]["before"], device
    # ...and the Cisco one with one that differs only in the lines IOS rewrites by itself
    # ("Current configuration : N bytes", "! Last configuration change at ...")
    before = _shown(lab, run_id, "acc-sw2", "change", "before")
    after = _shown(lab, run_id, "acc-sw2", "undo", "after")
    assert before != after
    assert config_diff(before, after) == ""
    assert lab.respond("timeline", "verify", run_id).rc == 0
