"""The JSON Schema of drills (`respond schema drill`, schemas/drill.schema.json): it accepts
the sample drill of the definition, refuses what the loader refuses about shape, describes
every key, and the committed file is the one the command writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from respond.drills.model import drill_json_schema

REPO = Path(__file__).resolve().parent.parent.parent

SAMPLE = """\
drill: q1-power                 # = file stem
title: "Q1 power outage drill / 一季度机房停电演练"
runbook: power-outage
scenario: "Mains lost at 09:00 ..."
schedule: {cron: "0 9 15 3 *", timezone: Asia/Shanghai, start: 2026-01-01}
mode: lab
severity: 1
inventory: inventory/lab.yaml
params: {site: main}
answers: examples/answers/power-outage.yaml
inject: [power-loss, {fault: link-down, target: "core-sw1:GE0/0/1", duration: 30s}]
objectives:
  - respond: 10m
  - diagnose: 20m
  - restore: level
  - {step: shed-load, by: 30m}
  - gates: answered
  - skips: reasoned
participants: [{name: 张伟, role: lead, organisation: 信息管理科, contact: "138..."}]
notify: [drill-sms]
planned: {ups-status: 1m, shed-load: 5m}
scope: "..."
safety: "..."
"""


def _as_json(text: str) -> Any:
    # An editor's YAML language server reads 2026-01-01 as a string (YAML 1.2); PyYAML reads a
    # date. JSON Schema is about JSON data: compare as JSON.
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def _errors(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(drill_json_schema())
    return [e.message for e in validator.iter_errors(data)]


def test_the_sample_drill_is_valid() -> None:
    assert _errors(_as_json(SAMPLE)) == []


def test_the_shorthands_are_valid() -> None:
    data = {"drill": "x", "runbook": "r", "schedule": "quarterly", "inject": ["power-loss"]}
    assert _errors(data) == []


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "labb"},
        {"schedul": "weekly"},
        {"objectives": [{"respond": "10m", "diagnose": "20m"}]},
        {"objectives": [{"step": "shed-load"}]},
        {"objectives": [{"restore": "soon"}]},
        {"participants": [{"name": "x", "role": "boss"}]},
        {"severity": 7},
        {"schedule": {"cron": "quarterly", "start": "2026-1-5"}},
    ],
)
def test_what_the_loader_refuses_by_shape_the_schema_refuses(change: dict[str, Any]) -> None:
    assert _errors({"drill": "x", "runbook": "r", **change}), change


def test_every_key_has_a_description() -> None:
    schema = drill_json_schema()
    objects = [schema, *schema["$defs"].values()]
    missing = [
        name
        for obj in objects
        for name, prop in obj.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []
    for text in [schema["description"]] + [d["description"] for d in schema["$defs"].values()]:
        assert re.match(r"^[A-Z].*\.$", text) and "\n" not in text, text


def test_the_committed_schema_is_current() -> None:
    committed = (REPO / "schemas" / "drill.schema.json").read_text(encoding="utf-8")
    assert committed == json.dumps(drill_json_schema(), ensure_ascii=False, indent=2) + "\n", (
        "schemas/drill.schema.json is stale: run respond schema drill -o schemas/drill.schema.json"
    )
