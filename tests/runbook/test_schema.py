"""The JSON Schema of runbooks (`respond schema`): each kind's required fields, checked by
a real validator, a description for every key, and a top level an editor can show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from respond.kinds import all_kinds
from respond.runbook.model import runbook_json_schema

REPO = Path(__file__).resolve().parent.parent.parent

HEAD = {"runbook": "rb", "version": "1.0.0", "title": "t", "scenario": "other", "severity": 3}


def _errors(steps: list[dict[str, Any]]) -> list[str]:
    validator = jsonschema.Draft202012Validator(runbook_json_schema())
    return [e.message for e in validator.iter_errors({**HEAD, "steps": steps})]


def test_a_complete_step_is_valid() -> None:
    assert _errors([{"id": "a", "kind": "ssh", "targets": "all", "command": "uptime"}]) == []


@pytest.mark.parametrize(
    "step",
    [
        {"id": "a", "kind": "ssh", "targets": "all"},  # no command
        {"id": "a", "kind": "ssh", "targets": "all", "command": "x", "commands": ["y"]},
        {"id": "a", "kind": "ssh", "command": "uptime"},  # no targets
        {"id": "a", "kind": "http"},
        {"id": "a", "kind": "wait"},  # no timeout
        {"id": "a", "kind": "wait", "timeout": "1m", "check": {"kind": "local"}},
        {"id": "a", "kind": "netmiko", "targets": "all"},  # no commands, config or facts
    ],
)
def test_a_step_missing_what_its_kind_requires_is_invalid(step: dict[str, Any]) -> None:
    assert _errors([step]), f"the schema accepts {step}"


def test_every_kind_states_its_required_fields() -> None:
    rules = runbook_json_schema()["$defs"]["Step"]["allOf"]
    by_kind = {r["if"]["properties"]["kind"]["const"]: r["then"] for r in rules}
    for kind in all_kinds():
        then = by_kind.get(kind.name, {})
        singles = {g[0] for g in kind.required if len(g) == 1} | (
            {"targets"} if kind.on_hosts else set()
        )
        assert set(then.get("required", [])) == singles, kind.name
        rules_ = then.get("allOf", [])
        groups = [sorted(one["required"][0] for one in r["oneOf"]) for r in rules_ if "oneOf" in r]
        assert groups == [sorted(g) for g in kind.required if len(g) > 1], kind.name
        any_of = [sorted(one["required"][0] for one in r["anyOf"]) for r in rules_ if "anyOf" in r]
        assert any_of == ([sorted(kind.required_any)] if kind.required_any else []), kind.name


def _properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((f"{path}.{name}", prop))
        for key, value in node.items():
            found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{path}[{i}]")
    return found


def test_every_key_has_a_description() -> None:
    schema = runbook_json_schema()
    props = [(p, v) for p, v in _properties(schema) if "/allOf" not in p]
    assert len(props) > 50  # top level, step, params, expect and every kind field
    missing = [path for path, prop in props if not prop.get("description")]
    assert missing == []


def test_the_descriptions_are_for_people_not_python() -> None:
    schema = runbook_json_schema()
    texts = [schema["description"]] + [d["description"] for d in schema["$defs"].values()]
    for text in texts:
        assert "``" not in text and "\n" not in text, text
        assert re.match(r"^[A-Z].*\.$", text), text


def test_the_shipped_runbooks_are_valid_by_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(runbook_json_schema())
    paths = sorted((REPO / "runbooks").glob("*.yaml"))
    assert paths
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert [e.message for e in validator.iter_errors(data)] == [], path.name


def test_no_comment_points_to_a_document_outside_the_repository() -> None:
    files = [REPO / "respond.yaml", *(REPO / "runbooks").glob("*.yaml")]
    files += [f for f in (REPO / "src").rglob("*") if f.is_file() and "__pycache__" not in f.parts]
    naming = [str(f.relative_to(REPO)) for f in files if b"DESIGN.md" in f.read_bytes()]
    assert naming == []


@pytest.mark.parametrize(
    "fields",
    [
        {"commands": ["show ip route"]},
        {"commands": {"ios": ["show ip route"], "vrp": "display ip routing-table"}},
        {"commands": {"default": ["show version"]}, "facts": ["interfaces", "routes"]},
        {"facts": "all"},
    ],
)
def test_netmiko_commands_as_a_list_or_per_os_and_facts_are_valid(fields: dict[str, Any]) -> None:
    step = {"id": "a", "kind": "netmiko", "targets": "switches", **fields}
    assert _errors([step]) == []
