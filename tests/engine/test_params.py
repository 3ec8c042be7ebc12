"""Run parameters: the one resolver the product uses (``respond run``, ``resume`` and ``plan``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from respond.engine.params import parse_assignments, resolve_params
from respond.errors import RunbookInvalid, UsageError
from respond.runbook import load_runbook

PARAMS = """\
params:
  site: {default: main}
  count: {type: int, default: 3}
  dry: {type: bool, default: false}
  mode: {choices: [fast, safe], default: safe}
  who: {required: true}
  token: {secret: true}
"""


def _runbook(tmp_path: Path, params: str = PARAMS):
    path = tmp_path / "rb.yaml"
    path.write_text(
        'runbook: rb\nversion: "1.0.0"\ntitle: t\nscenario: other\nseverity: 3\n'
        + textwrap.dedent(params)
        + "steps: [{id: a, kind: local, command: x}]\n",
        encoding="utf-8",
    )
    return load_runbook(path)


def test_values_are_typed_and_defaults_filled(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    resolved = resolve_params(rb, {"count": "5", "dry": "yes", "who": "me"}, env={})
    assert resolved.values == {
        "site": "main",
        "count": 5,
        "dry": True,
        "mode": "safe",
        "who": "me",
        "token": None,
    }


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    with pytest.raises(UsageError) as info:
        resolve_params(rb, {"cout": "1", "mode": "slow", "dry": "maybe"}, env={})
    err = info.value
    assert err.exit_code == 2
    lines = str(err).splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("error: ") for line in lines)
    text = str(err)
    assert "unknown parameter 'cout' (did you mean 'count'?)" in text
    assert "this runbook takes: site, count, dry, mode, who, token" in text
    assert "parameter 'mode' must be one of fast, safe, got 'slow'" in text
    assert "parameter 'dry' must be true or false, got 'maybe'" in text
    assert "missing required parameter 'who'" in text


def test_a_whole_number_is_checked(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    with pytest.raises(UsageError, match="parameter 'count' must be a whole number, got 'x'"):
        resolve_params(rb, {"count": "x", "who": "me"}, env={})


def test_unknown_parameter_of_a_runbook_without_params(tmp_path: Path) -> None:
    rb = _runbook(tmp_path, params="")
    with pytest.raises(UsageError, match="unknown parameter 'x'; this runbook takes: none"):
        resolve_params(rb, {"x": "1"}, env={})


def test_environment_fills_secrets_and_command_line_wins(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    env = {"RESPOND_PARAM_TOKEN": "s3cret", "RESPOND_PARAM_WHO": "env", "RESPOND_PARAM_COUNT": "7"}
    resolved = resolve_params(rb, {"who": "cli"}, env=env)
    assert resolved.values["token"] == "s3cret"
    assert resolved.values["who"] == "cli" and resolved.values["count"] == 7
    assert resolved.secret_names == {"token"}
    assert resolved.redacted()["token"] == "***" and resolved.secret_values == ["s3cret"]


def test_plan_shows_a_placeholder_for_a_missing_required_value(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    resolved = resolve_params(rb, {}, env={}, placeholder_for_missing="<missing>")
    assert resolved.values["who"] == "<missing>"


def test_assignments_must_be_key_equals_value() -> None:
    assert parse_assignments(["a=1", "b==2", "c="]) == {"a": "1", "b": "=2", "c": ""}
    with pytest.raises(UsageError, match="must be written KEY=VALUE"):
        parse_assignments(["novalue"])


# ----------------------------------------------------------------------------- pattern, choices

CHECKED = """\
params:
  site: {pattern: "[a-z][a-z0-9-]*", default: main}
  mode: {choices: [check, repair], default: check}
  token: {secret: true, pattern: "[A-Za-z0-9]{8,}"}
  pin: {secret: true, choices: [alpha-1, bravo-2]}
"""


def _steps_runbook(tmp_path: Path, params: str, steps: str) -> Any:
    path = tmp_path / "rb.yaml"
    path.write_text(
        'runbook: rb\nversion: "1.0.0"\ntitle: t\nscenario: other\nseverity: 3\n'
        + textwrap.dedent(params)
        + "steps:\n"
        + textwrap.dedent(steps),
        encoding="utf-8",
    )
    return load_runbook(path)


def test_pattern_and_choices_are_checked_and_secrets_are_not_shown(tmp_path: Path) -> None:
    rb = _runbook(tmp_path, CHECKED)
    given = {"site": "Main Room", "mode": "fix", "token": "short!", "pin": "charlie-3"}
    with pytest.raises(UsageError) as info:
        resolve_params(rb, given, env={})
    text = str(info.value)
    assert info.value.exit_code == 2
    assert "parameter 'site' must match the pattern [a-z][a-z0-9-]*, got 'Main Room'" in text
    assert "parameter 'mode' must be one of check, repair, got 'fix'" in text
    assert (
        "parameter 'token' must match the pattern [A-Za-z0-9]{8,}, "
        "got a value that is not shown (secret)" in text
    )
    assert "parameter 'pin' must be one of alpha-1, bravo-2, got a value that is not shown" in text
    assert "short!" not in text and "charlie-3" not in text
    ok = resolve_params(rb, {"site": "dc-2", "token": "Abcdefgh1", "pin": "bravo-2"}, env={})
    assert ok.values["site"] == "dc-2" and ok.values["mode"] == "check"


def test_a_secret_too_short_to_mask_is_refused(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    with pytest.raises(UsageError) as info:
        resolve_params(rb, {"who": "me", "token": "ab"}, env={})
    assert "secret parameter 'token' is shorter than 3 characters" in str(info.value)
    assert "'ab'" not in str(info.value)


def test_an_invalid_pattern_is_a_validation_error_at_its_position(tmp_path: Path) -> None:
    with pytest.raises(RunbookInvalid) as info:
        _runbook(tmp_path, "params:\n  site: {pattern: '[a-z'}\n")
    issue = info.value.issues[0]
    assert "params.site.pattern: not a valid regular expression" in str(issue)
    assert (issue.location.line, issue.location.column) == (7, 19)


# ----------------------------------------------------------------------------- option-like values

DASHED = """\
params:
  host: {default: localhost}
  flag: {pattern: "-[a-z]", default: "-q"}
  mode: {choices: ["-n", fast], default: fast}
  count: {type: int, default: 1}
  note: {default: x}
  token: {secret: true}
"""

COMMAND_STEPS = {
    "ssh command": "  - {id: a, kind: ssh, targets: all, command: 'ping {{ host }}'}\n",
    "ssh commands": "  - {id: a, kind: ssh, targets: all, commands: [uptime, 'ping {{ host }}']}\n",
    "local command": "  - {id: a, kind: local, command: 'ping -c1 {{ host }}'}\n",
    "local argv": "  - {id: a, kind: local, argv: [ping, '{{ host }}']}\n",
    "params mapping": "  - {id: a, kind: local, argv: [ping, '{{ params.host }}']}\n",
    "wait check": "  - {id: a, kind: wait, timeout: 1m, check: {kind: local, command: 'ping {{ host }}'}}\n",
}


@pytest.mark.parametrize("where", sorted(COMMAND_STEPS))
def test_a_value_like_an_option_is_refused_where_it_reaches_a_command(
    tmp_path: Path, where: str
) -> None:
    rb = _steps_runbook(tmp_path, DASHED, COMMAND_STEPS[where])
    with pytest.raises(UsageError) as info:
        resolve_params(rb, {"host": "-oProxyCommand=touch /tmp/owned"}, env={})
    assert info.value.exit_code == 2
    assert str(info.value) == (
        "error: parameter 'host' value '-oProxyCommand=touch /tmp/owned' starts with '-' and "
        "would reach a command as an option (step a); give a value without a leading '-', or "
        "declare 'pattern:' or 'choices:' for 'host' in the runbook that admit it"
    )
    with pytest.raises(UsageError, match="parameter 'host' value '--help'"):
        resolve_params(rb, {}, env={"RESPOND_PARAM_HOST": "--help"})


def test_values_like_options_that_the_runbook_admits_pass(tmp_path: Path) -> None:
    steps = "  - {id: a, kind: local, command: 'x {{ flag }} {{ mode }} {{ count }} {{ note }}'}\n"
    steps += "  - {id: b, kind: notify, message: '{{ note }} {{ host }}'}\n"
    rb = _steps_runbook(tmp_path, DASHED, steps)
    given = {"flag": "-v", "mode": "-n", "count": "-5", "host": "-not-in-a-command"}
    resolved = resolve_params(rb, given, env={})
    assert resolved.values["flag"] == "-v" and resolved.values["count"] == -5
    # a default is the runbook author's own text, like the command around it
    assert resolve_params(rb, {}, env={}).values["flag"] == "-q"
    with pytest.raises(UsageError, match="parameter 'note' value '-rf'"):
        resolve_params(rb, {"note": "-rf"}, env={})


def test_a_secret_value_like_an_option_is_not_shown(tmp_path: Path) -> None:
    steps = "  - {id: a, kind: ssh, targets: all, command: 'login {{ token }}'}\n"
    rb = _steps_runbook(tmp_path, DASHED, steps)
    with pytest.raises(UsageError) as info:
        resolve_params(rb, {"token": "-hunter2"}, env={})
    assert "parameter 'token' value *** starts with '-'" in str(info.value)
    assert "hunter2" not in str(info.value)


# ----------------------------------------------------------------------------- list params

LISTS = """\
params:
  flags: {type: list, default: [-l, --color], pattern: "--?[a-z]+"}
  hosts: {default: [db1, db2]}
  mode: {type: list, choices: [fast, safe], default: []}
"""
LIST_STEPS = "  - {id: a, kind: local, argv: [ls, '{{ flags }}', '{{ hosts }}', '{{ mode }}']}\n"


def test_list_params_from_yaml_repeated_p_and_json(tmp_path: Path) -> None:
    rb = _steps_runbook(tmp_path, LISTS, LIST_STEPS)
    assert rb.params["hosts"].type == "list"  # a list default makes a list param
    assert resolve_params(rb, {}, env={}).values == {
        "flags": ["-l", "--color"],
        "hosts": ["db1", "db2"],
        "mode": [],
    }
    given = parse_assignments(["flags=-v", "flags=--color", "hosts=web1", 'mode=["safe"]'])
    assert given == {"flags": ["-v", "--color"], "hosts": "web1", "mode": '["safe"]'}
    values = resolve_params(rb, given, env={}).values
    assert values == {"flags": ["-v", "--color"], "hosts": ["web1"], "mode": ["safe"]}
    from_env = resolve_params(rb, {}, env={"RESPOND_PARAM_HOSTS": '["a", "b c"]'})
    assert from_env.values["hosts"] == ["a", "b c"]


def test_a_param_given_again_keeps_its_last_value_unless_it_is_a_list(tmp_path: Path) -> None:
    rb = _runbook(tmp_path)
    given = parse_assignments(["who=a", "who=b"])
    assert resolve_params(rb, given, env={}).values["who"] == "b"


def test_each_list_item_is_checked(tmp_path: Path) -> None:
    rb = _steps_runbook(tmp_path, LISTS, LIST_STEPS)
    with pytest.raises(UsageError) as info:
        resolve_params(rb, {"mode": ["fast", "slow"], "flags": '["-v", "x y"]'}, env={})
    assert "parameter 'mode': 'slow' is not one of fast, safe" in str(info.value)
    assert "parameter 'flags': 'x y' does not match the pattern --?[a-z]+" in str(info.value)
    with pytest.raises(UsageError, match="expected a JSON list of strings"):
        resolve_params(rb, {"hosts": "[db1"}, env={})


def test_a_list_item_like_an_option_is_refused_unless_admitted(tmp_path: Path) -> None:
    rb = _steps_runbook(tmp_path, LISTS, LIST_STEPS)
    with pytest.raises(UsageError, match="parameter 'hosts' value '-oProxyCommand=x'"):
        resolve_params(rb, {"hosts": ["db1", "-oProxyCommand=x"]}, env={})
    assert resolve_params(rb, {"flags": ["-v"]}, env={}).values["flags"] == ["-v"]


def test_a_list_default_is_checked_and_a_list_cannot_be_secret(tmp_path: Path) -> None:
    with pytest.raises(RunbookInvalid, match="default of param 'mode'"):
        _steps_runbook(
            tmp_path, "params:\n  mode: {type: list, choices: [a], default: [b]}\n", LIST_STEPS
        )
    with pytest.raises(RunbookInvalid, match="of type 'list' cannot be secret"):
        _steps_runbook(tmp_path, "params:\n  k: {type: list, secret: true}\n", LIST_STEPS)
