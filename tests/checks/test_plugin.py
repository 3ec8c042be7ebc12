"""The nagios check runs a plugin with every word quoted and takes its result unchanged."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from respond.checks.catalog import get
from respond.checks.result import State
from tests.checks.kit import commands, grade, problems, ssh


def test_every_word_is_quoted_so_no_shell_syntax_survives():
    line = commands("nagios", {"command": "check_dummy 0 'all good'; reboot | $(id) `id`"})[0]
    assert line == "check_dummy 0 'all good;' reboot '|' '$(id)' '`id`'"
    assert shlex.split(line) == ["check_dummy", "0", "all good;", "reboot", "|", "$(id)", "`id`"]


def test_the_plugin_result_is_taken_unchanged():
    out = "DISK WARNING - free space: / 3000 MB (15% inode=80%);| /=17000MB;16000;18000;0;20000\n"
    result = grade("nagios", ssh((1, out, "")), {"command": "check_disk -w 20% -c 10% -p /"})
    assert result.state is State.WARNING
    assert result.summary == "DISK WARNING - free space: / 3000 MB (15% inode=80%);"
    assert (result.value, result.unit, result.warn, result.crit) == (17000, "MB", "16000", "18000")
    assert result.advice
    crashed = grade(
        "nagios", ssh((127, "", "sh: check_nope: not found\n")), {"command": "check_nope"}
    )
    assert crashed.state is State.UNKNOWN
    assert crashed.summary == "plugin exit code 127: sh: check_nope: not found"
    never = grade("nagios", ssh((None, "", "")), {"command": "x"})
    assert never.state is State.UNKNOWN


def test_thresholds_are_the_plugins_own_and_bad_commands_refused():
    spec = get("nagios")
    assert spec is not None
    assert spec.accepts_thresholds is False
    assert get("disk").accepts_thresholds is True  # type: ignore[union-attr]
    assert problems("nagios", {}) == ["check nagios needs the argument 'command'"]
    assert problems("nagios", {"command": "check_x 'unbalanced"}) == [
        "argument 'command' cannot be split into words: No closing quotation"
    ]
    assert problems("nagios", {"command": "  "}) == ["argument 'command' is empty"]


def test_a_plugin_run_through_its_quoted_command_line(tmp_path: Path):
    plugin = tmp_path / "check_fire"
    plugin.write_text('#!/bin/sh\necho "CRITICAL: $1 | heat=99C;50;80"\nexit 2\n')
    plugin.chmod(0o755)
    line = commands("nagios", {"command": f"{plugin} 'on fire; rm -rf /'"})[0]
    done = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=10)
    result = grade("nagios", ssh((done.returncode, done.stdout, done.stderr)), {"command": "x"})
    assert result.state is State.CRITICAL
    assert result.summary == "CRITICAL: on fire; rm -rf /"
    assert (result.value, result.unit, result.crit) == (99, "C", "80")
