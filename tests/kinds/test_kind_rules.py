"""What the kinds declare reaches every place that needs it: gates, drill modes, defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from respond import kinds
from respond.runbook import load_runbook

RUNBOOK = """runbook: rules
version: 1.0.0
title: rules
scenario: network
severity: 3
steps:
  - {id: look, kind: netmiko, targets: core, commands: [show version]}
  - {id: change, kind: netmiko, targets: core, config: [interface Gi0/2, no shutdown], confirm: Bring up the backup uplink?}
  - {id: probe, kind: http, url: "http://127.0.0.1:9/health"}
  - {id: pinned, kind: local, command: "true", confirm: sure?, drill: run}
"""


def test_gates_and_drill_modes_follow_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RUNBOOK, encoding="utf-8")
    rb = load_runbook(path)
    look, change, probe, pinned = rb.steps
    assert (look.gated, change.gated, probe.gated, pinned.gated) == (False, True, False, True)
    assert [s.drill_mode for s in rb.steps] == ["run", "simulate", "run", "run"]
    assert look.step_kind is kinds.get("netmiko") and look.step_kind.on_hosts
    assert probe.step_kind.default_timeout == 10.0 and not probe.step_kind.on_hosts


def test_show_prints_the_drill_mode_each_step_will_have(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "rules.yaml").write_text(RUNBOOK, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    env = {**os.environ, "RESPOND_HOME": str(tmp_path / ".respond"), "COLUMNS": "200"}
    shown = subprocess.run(
        [sys.executable, "-m", "respond", "show", "rules"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    modes = [
        line.split("drill: ")[1].strip() for line in shown.stdout.splitlines() if "drill: " in line
    ]
    assert modes == ["run", "simulate", "run", "run"], shown.stdout
    assert "None" not in shown.stdout


def test_every_registered_kind_declares_a_transport_and_a_summary() -> None:
    for kind in kinds.all_kinds():
        assert kind.name in kinds.REGISTRY
        module, _, attr = kind.executor.partition(":")
        assert module.startswith("respond.executors.") and attr, kind.name
        assert kind.summary, kind.name
        assert kind.default_timeout >= 0, kind.name
