"""Strict ``int``/``float`` and list values in templates: conversions fail loudly on garbage
(unless the author writes a default), a list is several shell words or argv items."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from clikit import Cli

from respond.errors import TemplateError
from respond.runbook.templating import Templates

T = Templates()


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("'42' | int", 42),
        ("' 42\n' | int", 42),
        ("'42.9' | int", 42),
        ("'0x1A' | int(base=16)", 26),
        ("3.7 | int", 3),
        ("'2.5' | float", 2.5),
        ("7 | float", 7.0),
    ],
)
def test_numbers_convert(expression: str, value: object) -> None:
    assert T.evaluate(expression, {}) == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [("ERROR: could not connect\n", "'ERROR: could not connect'"), (None, "None"), ("", "''")],
)
def test_int_fails_on_anything_but_a_number(value: object, shown: str) -> None:
    with pytest.raises(TemplateError) as info:
        T.evaluate("lag | int <= 5", {"lag": value})
    assert f"int: cannot convert {shown} to an integer" in info.value.message
    with pytest.raises(TemplateError, match=f"float: cannot convert {shown} to a number"):
        T.render_text("{{ lag | float }}", {"lag": value})


def test_a_default_the_author_writes_is_honoured() -> None:
    garbage = {"lag": "ERROR: could not connect"}
    assert T.evaluate("lag | int(default=0)", garbage) == 0
    assert T.evaluate("lag | int(-1)", garbage) == -1
    assert T.evaluate("lag | float(default=1.5)", garbage) == 1.5
    assert T.evaluate("None | int(default=0)", {}) == 0


def test_a_list_is_one_quoted_word_per_item_in_a_command() -> None:
    flags = ["-v", "--color", "a b", "$(id)"]
    command = T.render_command("printf '%s\\n' {{ flags }}", {"flags": flags})
    assert command == "printf '%s\\n' -v --color 'a b' '$(id)'"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == flags
    assert shlex.split(T.render_command("x {{ flags }}", {"flags": []})) == ["x"]


def test_a_list_elsewhere_renders_as_a_list() -> None:
    assert T.render_text("flags: {{ flags }}", {"flags": ["-v", "x"]}) == "flags: ['-v', 'x']"


def test_an_argv_item_that_is_exactly_a_list_gives_one_item_each() -> None:
    variables = {"flags": ["-v", "a b"], "name": "x y"}
    argv = T.render_argv(
        ["prog", "{{ flags }}", "{{name}}", "--f={{ flags }}", "{{ flags | length }}"], variables
    )
    assert argv == ["prog", "-v", "a b", "x y", "--f=['-v', 'a b']", "2"]


LAG_RUNBOOK = """\
runbook: promote
version: 1.0.0
title: Promote the replica
scenario: application
severity: 2
params:
  max_lag: {type: int, default: 5}
steps:
  - id: lag
    kind: local
    argv: [echo, "ERROR: could not connect"]
    register: lag
  - id: promote
    kind: local
    when: lag.stdout | int <= max_lag
    confirm: "promote the replica (lag {{ lag.stdout }})?"
    argv: [touch, promoted]
"""


def test_garbage_in_a_condition_fails_the_run_instead_of_promoting(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "respond.yaml").write_text("project: p\n", encoding="utf-8")
    (tmp_path / "runbooks" / "promote.yaml").write_text(LAG_RUNBOOK, encoding="utf-8")
    cli = Cli().bind(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    out = cli("run", "promote", "--yes")
    assert out.rc == 1, out
    assert (
        "cannot evaluate 'lag.stdout | int <= max_lag': "
        "int: cannot convert 'ERROR: could not connect' to an integer" in out.stderr
    ), out
    assert not (tmp_path / "promoted").exists()
