"""Run parameters: the one resolver the product uses (``respond run``, ``resume`` and ``plan``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from respond.engine.params import parse_assignments, resolve_params
from respond.errors import UsageError
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
