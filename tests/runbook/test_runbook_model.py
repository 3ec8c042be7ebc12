"""The runbook model: fields and defaults others rely on, and located issues."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from respond.errors import RunbookInvalid, RunbookNotFound
from respond.runbook import load_runbook
from respond.runbook.model import Runbook, Step

HEAD = """\
runbook: {name}
version: "1.2.3"
title: "机房停电 / Power outage"
scenario: power
severity: 1
"""


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD.format(name=name) + textwrap.dedent(body), encoding="utf-8")
    return path


def issues_of(path: Path) -> list[str]:
    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)
    return [str(i) for i in info.value.issues]


def test_a_valid_runbook(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rb",
        """\
        params:
          site: {description: room, default: main}
          count: {default: 3}
          token: {secret: true}
        steps:
          - id: check
            kind: ssh
            targets: ups
            command: "upsc {{ site }}"
            timeout: 5m
            retry_delay: 1h30m
            register: ups
            expect: {rc: [0, 1], that: "result.rc == 0", max_latency: 2s}
          - id: restart
            kind: ssh
            targets: servers
            commands: systemctl restart oa
            confirm: "Restart OA?"
          - id: switch
            kind: netmiko
            targets: [core, access]
            config: ["interface Gi0/1", shutdown]
            confirm: Shut it?
          - id: settle
            kind: wait
            timeout: 90
            interval: 5s
            check: {kind: http, url: "http://127.0.0.1/health", expect: {status: 200}}
        """,
    )
    rb = load_runbook(path)
    assert isinstance(rb, Runbook)
    assert (rb.id, rb.version, rb.scenario, rb.severity, rb.schema) == (
        "rb",
        "1.2.3",
        "power",
        1,
        1,
    )
    assert rb.source == path and rb.text == path.read_text(encoding="utf-8")
    assert rb.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rb.params["site"].name == "site" and rb.params["count"].type == "int"
    assert rb.secret_params == {"token"}
    check, restart, switch, settle = rb.steps
    assert check.timeout == 300.0 and check.retry_delay == 5400.0 and check.retries == 0
    assert check.register == "ups" and check.name == "check"
    assert (
        check.expect is not None
        and check.expect.rc == [0, 1]
        and check.expect.that == ("result.rc == 0",)
    )
    assert check.expect.max_latency == 2.0
    assert (check.drill_mode, restart.drill_mode, switch.drill_mode) == (
        "run",
        "simulate",
        "simulate",
    )
    assert check.drill is None  # not written: the mode follows from the gate
    assert restart.commands == ("systemctl restart oa",)
    assert switch.targets == "core:access" and switch.gated
    assert settle.timeout == 90.0 and settle.interval == 5.0
    assert settle.check is not None and settle.check.kind == "http" and settle.check.id == ""
    assert check.location is not None and check.location.line == 11
    assert rb.location(("steps", 0, "command")).line == 14
    assert rb.location(("steps", 0, "command")).file.endswith("rb.yaml")
    assert rb.location(("steps", 1, "retries")).line == rb.steps[1].location.line
    assert rb.step("switch") is switch and rb.step_index("settle") == 3
    with pytest.raises(Exception):  # frozen  # noqa: B017
        check.timeout = 1  # type: ignore[misc]


def test_load_by_name_uses_the_project(tmp_path: Path) -> None:
    from respond.config import load_config

    (tmp_path / "respond.yaml").write_text("runbooks: rb\n")
    (tmp_path / "rb").mkdir()
    write(tmp_path / "rb", "one", "steps: [{id: a, kind: local, command: 'true'}]\n")
    config = load_config(tmp_path)
    assert load_runbook("one", config).id == "one"
    with pytest.raises(RunbookNotFound) as info:
        load_runbook("onr", config)
    assert "one" in str(info.value)


def test_all_problems_of_a_file_are_reported_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many",
        """\
        steps:
          - id: a
            kind: ssh
            command: uptime
            timout: 5
          - id: a
            kind: local
            targets: web
            command: echo
          - id: c
            kind: netmiko
            targets: sw
            config: [shutdown]
            playbook: x.yml
        """,
    )
    found = issues_of(path)
    text = "\n".join(found)
    # steps counted from 1 and named by id, as `respond run` shows them
    assert "many.yaml:7:5: error: step 1 (a): an ssh step needs 'targets'" in text
    assert (
        "many.yaml:10:5: error: step 1 (a): unknown key 'timout' (did you mean 'timeout'?)" in text
    )
    assert (
        "many.yaml:11:9: error: step 2 (a) id: duplicate step id 'a' (first used by step 1, line 7)"
        in text
    )
    assert "many.yaml:13:5: error: step 2 (a): 'targets' is not allowed for a local step" in text
    assert "needs 'confirm'" in text
    assert "'playbook' is not a field of a netmiko step (it belongs to ansible steps)" in text
    assert len(found) == 6


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("steps: [{id: a, kind: ssh, targets: all}]", "needs 'command' or 'commands'"),
        ("steps: [{id: a, kind: ssh, targets: all, command: x, commands: [y]}]", "not both"),
        ("steps: [{id: a, kind: ansible, targets: all}]", "needs 'playbook'"),
        (
            "steps: [{id: a, kind: netmiko, targets: all, commands: [x], config: [y], confirm: c}]",
            "a netmiko step takes 'commands' or 'config', not both",
        ),
        ("steps: [{id: a, kind: http}]", "needs 'url'"),
        ("steps: [{id: a, kind: manual}]", "needs 'prompt'"),
        ("steps: [{id: a, kind: notify}]", "needs 'message'"),
        ("steps: [{id: a, kind: wait}]", "needs 'timeout'"),
        ("steps: [{id: a, kind: local}]", "needs 'command' or 'argv'"),
        ("steps: [{id: a, kind: notify, message: m, targets: all}]", "'targets' is not allowed"),
        ("steps: [{id: a, kind: local, command: x, max_errors: '200%'}]", "cannot exceed 100%"),
        (
            "steps: [{id: a, kind: local, command: x, on_failure: ignore}]",
            "'on_failure' must be one of",
        ),
        ("steps: [{id: 'a b', kind: local, command: x}]", "may use only letters"),
        ("steps: [{id: a, kind: local, command: x, register: 'my-var'}]", "plain identifier"),
        (
            "params: {site: {}}\nsteps: [{id: a, kind: local, command: x, register: site}]",
            "also a param",
        ),
        (
            "params: {n: {type: int, default: many}}\nsteps: [{id: a, kind: local, command: x}]",
            "expected an integer",
        ),
        (
            "params: {m: {choices: [a, b], default: c}}\nsteps: [{id: a, kind: local, command: x}]",
            "not one of",
        ),
        ("schema: 3\nsteps: [{id: a, kind: local, command: x}]", "unsupported runbook schema 3"),
        (
            "steps: [{id: a, kind: wait, timeout: 1m, check: {id: x, kind: ssh, command: y}}]",
            "has no 'id'",
        ),
    ],
)
def test_kind_rules(tmp_path: Path, body: str, fragment: str) -> None:
    found = "\n".join(issues_of(write(tmp_path, "rb", body + "\n")))
    assert fragment in found


def test_missing_key_points_at_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(
        'runbook: rb\nversion: "1.0.0"\nscenario: other\nseverity: 2\nsteps:\n  - kind: local\n    command: x\n'
    )
    found = [line.rsplit("/", 1)[-1] for line in issues_of(path)]
    assert found == [
        "rb.yaml:1:1: error: missing required key 'title'",
        "rb.yaml:6:5: error: step 1: missing required key 'id'",
    ]


def test_step_register_is_an_attribute_not_abc_register() -> None:
    step = Step.model_validate({"id": "a", "kind": "local", "command": "x", "register": "out"})
    assert step.register == "out"
    assert Step.model_validate({"id": "a", "kind": "local", "command": "x"}).register is None


def test_only_model_imports_pydantic() -> None:
    code = (
        "import sys\n"
        "import respond.runbook, respond.runbook.templating, respond.yamlfile, "
        "respond.runbook.loader\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_json_schema_is_the_committed_one(repo_root: Path) -> None:
    import json

    from respond.runbook.model import runbook_json_schema

    committed = json.loads(
        (repo_root / "schemas" / "runbook.schema.json").read_text(encoding="utf-8")
    )
    assert committed == runbook_json_schema(), "run: respond schema -o schemas/runbook.schema.json"
    assert "timout" not in committed["$defs"]["Step"]["properties"]
    assert committed["properties"]["runbook"]["type"] == "string"
    assert committed["$defs"]["Step"]["additionalProperties"] is False


def test_field_names_count_steps_from_one_and_name_them_by_id() -> None:
    from respond.runbook.model import field_name

    data = {"steps": [{"id": "probe"}, {"kind": "ssh"}, {"id": "wait"}]}
    assert field_name(("steps", 0, "timeout"), data) == "step 1 (probe) timeout"
    assert field_name(("steps", 1), data) == "step 2"  # no id yet: the number alone
    assert field_name(("steps", 2, "check", "expect", "that", 0), data) == (
        "step 3 (wait) check.expect.that #1"
    )
    assert field_name(("steps", 0, "commands", 1)) == "step 1 commands #2"
    assert field_name(("params", "site", "default"), data) == "params.site.default"
