"""Targets that match no host: stopped before the run when params decide them (exit 2,
nothing recorded), failed or skipped (`allow_empty: true`) when an earlier result does;
`validate` and `plan` say the same, and a plan never shows such a step on the control host."""

from __future__ import annotations

from pathlib import Path

from clikit import Cli
from enginekit import FakeShell, write_runbook

from respond.results import StepStatus

BY_PARAM = """params:
  server: {default: h1}
steps:
  - {id: probe, kind: ssh, targets: "{{ server }}", command: uptime}
"""

FROM_A_RESULT = """steps:
  - {id: find, kind: local, argv: [echo, nosuch], register: found}
  - id: probe
    kind: ssh
    targets: "{{ found.stdout | trim }}"
    command: uptime
ALLOW
  - {id: after, kind: local, argv: [echo, after]}
"""


def test_a_param_naming_no_host_stops_the_run_before_anything_is_recorded(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "byparam", BY_PARAM)
    result = respond("run", "byparam", "-p", "server=app9")
    assert result.rc == 2, result
    assert (
        "runbooks/byparam.yaml:9:37: error: step 1 (probe) targets 'app9' match no host in "
        "inventory/hosts.yaml (from param server='app9')" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert FakeShell.calls == []
    assert respond("timeline", "list", "--json").json() == []


def test_a_secret_param_is_not_shown_in_the_message(project: Path, respond: Cli) -> None:
    write_runbook(project, "secret", BY_PARAM.replace("{default: h1}", "{secret: true}"))
    result = respond("run", "secret", "-p", "server=hunter2-canary")
    assert result.rc == 2, result
    assert "(from param server='***')" in result.stderr
    assert "hunter2-canary" not in result.stdout + result.stderr


def test_a_misspelled_group_stops_run_and_is_an_error_in_validate_and_plan(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "typo",
        "steps:\n  - {id: db, kind: ssh, targets: databases, command: uptime}\n",
    )
    expected = (
        "runbooks/typo.yaml:7:34: error: step 1 (db) targets 'databases' match no host in "
        "inventory/hosts.yaml"
    )
    run = respond("run", "typo")
    assert run.rc == 2 and expected in run.stderr, run
    validate = respond("validate", "runbooks/typo.yaml")
    assert validate.rc == 2 and expected in validate.stdout + validate.stderr, validate
    plan = respond("plan", "typo", "--json")
    assert plan.rc == 0, plan
    (step,) = plan.json()["steps"]
    assert expected in step["error"]
    assert step["hosts"] == [] and step["commands"] == {}  # never on localhost
    text = respond("plan", "typo")
    assert expected in text.stdout and "localhost" not in text.stdout


def test_allow_empty_skips_the_step_before_the_run(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "maybe",
        """steps:
  - {id: db, kind: ssh, targets: databases, command: uptime, allow_empty: true}
  - {id: web, kind: ssh, targets: web, command: uptime}
""",
    )
    assert respond("validate", "runbooks/maybe.yaml").rc == 0
    plan = respond("plan", "maybe", "--json").json()
    assert plan["steps"][0]["skipped"] == "no host matched 'databases' (allow_empty)"
    result = respond("run", "maybe", "--json")
    assert result.rc == 0, result
    db, web = result.json()["steps"]
    assert db["status"] == StepStatus.SKIPPED and db["message"] == "no host matched 'databases'"
    assert web["status"] == StepStatus.OK


def test_an_empty_target_at_run_time_fails_the_step(project: Path, respond: Cli) -> None:
    write_runbook(project, "late", FROM_A_RESULT.replace("ALLOW\n", ""))
    result = respond("run", "late", "--json")
    assert result.rc == 1, result
    probe = result.json()["steps"][1]
    assert probe["status"] == StepStatus.FAILED
    assert probe["message"] == "targets 'nosuch' match no host in inventory/hosts.yaml"


def test_an_empty_target_at_run_time_with_allow_empty_is_skipped(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "late", FROM_A_RESULT.replace("ALLOW", "    allow_empty: true"))
    result = respond("run", "late", "--json")
    assert result.rc == 0, result
    _find, probe, after = result.json()["steps"]
    assert probe["status"] == StepStatus.SKIPPED
    assert probe["message"] == "no host matched 'nosuch'"
    assert after["status"] == StepStatus.OK
    assert FakeShell.calls == []


def test_allow_empty_belongs_to_steps_with_targets(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "odd",
        "steps:\n  - {id: say, kind: notify, message: hi, allow_empty: true}\n",
    )
    result = respond("validate", "runbooks/odd.yaml")
    assert result.rc == 2
    assert "'allow_empty' is not allowed for a notify step (it has no targets)" in (
        result.stdout + result.stderr
    )


def test_plan_leaves_targets_from_a_result_to_the_run(project: Path, respond: Cli) -> None:
    write_runbook(project, "late", FROM_A_RESULT.replace("ALLOW\n", ""))
    plan = respond("plan", "late", "--json")
    assert plan.rc == 0, plan
    probe = plan.json()["steps"][1]
    assert "error" not in probe and probe["commands"] == {}  # not on the control host
    assert probe["targets_later"] == "(rendered at run time from the result of 'found')"
    text = respond("plan", "late").stdout
    assert "hosts: (rendered at run time from the result of 'found')" in text


EMPTY_LIST = """steps:
  - {id: find, kind: local, argv: [printf, ""], register: found, parse: {regex: '(?P<h>h\\d)', all: true}}
  - id: probe
    kind: ssh
    targets: "{{ found.data | map(attribute='h') | join(':') }}"
    command: uptime
ALLOW
  - {id: bad, kind: ssh, targets: "{{ found.stdout ~ 'h1[' }}", command: uptime, on_failure: continue}
  - {id: after, kind: local, argv: [echo, after]}
"""


def test_targets_joined_from_an_empty_list_are_no_host_not_a_broken_run(
    project: Path, respond: Cli
) -> None:
    # nothing found → an empty pattern: the step has no host (allow_empty may accept it)
    write_runbook(project, "none", EMPTY_LIST.replace("ALLOW", "    allow_empty: true"))
    result = respond("run", "none", "--json")
    assert result.rc == 0, result
    steps = {s["id"]: s for s in result.json()["steps"]}
    assert steps["probe"]["status"] == StepStatus.SKIPPED
    assert steps["probe"]["message"] == "no host matched ''"
    # a malformed pattern made at run time fails its step instead of ending the run (exit 2)
    assert steps["bad"]["status"] == StepStatus.FAILED
    assert "bad host pattern 'h1['" in steps["bad"]["message"]
    assert steps["after"]["status"] == StepStatus.OK
    assert FakeShell.calls == []

    write_runbook(project, "none", EMPTY_LIST.replace("ALLOW\n", ""))
    result = respond("run", "none", "--json")
    assert result.rc == 1, result
    probe = result.json()["steps"][1]
    assert probe["status"] == StepStatus.FAILED
    assert (
        probe["message"]
        == "targets \"{{ found.data | map(attribute='h') | join(':') }}\" gave no host pattern"
    )
