"""A small project for the drill-definition tests (MODEL part): one runbook with a probe, a
gated step and params, respond.yaml with a channel, and a helper that writes a drill."""

from __future__ import annotations

import textwrap
from pathlib import Path

RUNBOOK = """\
runbook: power-outage
version: 1.0.0
title: Power outage
scenario: power
severity: 2
params:
  site: {required: true}
  min_runtime: {type: int, default: 60}
steps:
  - id: ups-status
    kind: local
    command: echo ok
  - id: shed-load
    kind: local
    command: echo shed
    confirm: Shed the non-critical load?
"""

RESPOND_YAML = """\
runbooks: runbooks
inventory: inventory
drills: drills
timezone: Asia/Shanghai
organisation: 信息管理科
channels:
  drill-sms: {type: file}
"""


def make_project(root: Path) -> Path:
    """The project at ``root``: respond.yaml, runbooks/power-outage.yaml, an empty drills/,
    a production inventory and an answers file."""
    for folder in ("runbooks", "drills", "inventory", "answers"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "respond.yaml").write_text(RESPOND_YAML, encoding="utf-8")
    (root / "runbooks" / "power-outage.yaml").write_text(RUNBOOK, encoding="utf-8")
    (root / "inventory" / "prod.yaml").write_text(
        "all:\n  hosts:\n    app1: {ansible_host: 10.0.0.5}\n", encoding="utf-8"
    )
    (root / "answers" / "power.yaml").write_text("gates: {shed-load: yes}\n", encoding="utf-8")
    return root


def write_drill(root: Path, name: str, text: str) -> Path:
    path = root / "drills" / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
