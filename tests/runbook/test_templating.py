"""Templates: sandboxed, strict, and parameters are data in commands (RELIABILITY rule 4)."""

from __future__ import annotations

import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from respond.errors import Location, TemplateError
from respond.results import CommandResult, HostResult, StepStatus
from respond.runbook.templating import Registered, Templates

T = Templates()
HERE = Location("rb.yaml", 12, 14)


def test_render_text_and_strict_undefined() -> None:
    assert T.render_text("site {{ site }}", {"site": "机房 A"}) == "site 机房 A"
    with pytest.raises(TemplateError) as info:
        T.render_text("{{ nope }}", {}, HERE)
    assert "'nope' is undefined" in str(info.value)
    assert info.value.issues[0].location == HERE


def test_command_values_are_one_shell_word(tmp_path: Path) -> None:
    owned = tmp_path / "owned"
    hostile = f"x; touch {owned}; echo $(id) `id` 'q\" \n"
    command = T.render_command("printf '%s\\n' {{ value }}", {"value": hostile})
    assert shlex.split(command)[-1] == hostile
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert out.stdout == hostile + "\n"
    assert not owned.exists()


def test_every_expression_is_quoted_but_literals_are_not() -> None:
    cmd = T.render_command("ls {{ a }} {{ b }} | wc -l", {"a": "x y", "b": 3})
    assert cmd == "ls 'x y' 3 | wc -l"


def test_raw_applies_to_literals_only() -> None:
    assert T.render_command("cmd {{ '2>&1' | raw }}", {}) == "cmd 2>&1"
    with pytest.raises(TemplateError, match="raw"):
        T.render_command("cmd {{ site | raw }}", {"site": "; rm -rf /"})


def test_device_lines_refuse_control_characters() -> None:
    assert T.render_device_line("interface {{ i }}", {"i": "Gi0/1"}) == "interface Gi0/1"
    for bad in ("Gi0/1\nreload", "Gi0/1\r", "a\x1b[2J", "a\tb"):
        with pytest.raises(TemplateError, match="control character"):
            T.render_device_line("interface {{ i }}", {"i": bad})


def test_evaluate() -> None:
    assert T.evaluate("a > 2 and b == 'x'", {"a": 3, "b": "x"}) is True
    assert T.evaluate("items | length", {"items": [1, 2]}) == 2
    with pytest.raises(TemplateError, match="undefined"):
        T.evaluate("missing == 1", {})
    with pytest.raises(TemplateError, match="undefined"):
        T.evaluate("missing", {})
    with pytest.raises(TemplateError, match="syntax"):
        T.evaluate("a ==", {"a": 1}, HERE)


def test_sandbox_blocks_attribute_escapes() -> None:
    with pytest.raises(TemplateError, match=r"sandbox|unsafe"):
        T.render_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_render_value_renders_strings_once() -> None:
    value = {"a": ["{{ x }}", 1], "b": {"c": "{{ y }}"}}
    rendered = T.render_value(value, {"x": "{{ y }}", "y": "Y"})
    assert rendered == {"a": ["{{ y }}", 1], "b": {"c": "Y"}}


def test_syntax_errors_carry_the_location() -> None:
    with pytest.raises(TemplateError) as info:
        T.render_text("{{ x }", {"x": 1}, HERE)
    assert str(info.value.issues[0]).startswith("rb.yaml:12:14: error: Jinja template syntax error")


def test_names() -> None:
    assert T.template_names("{{ a }} {% for h in hosts %}{{ h }}{% endfor %}") == {"a", "hosts"}
    assert T.expression_names("ups.ok and site == 'x'") == {"ups", "site"}
    with pytest.raises(TemplateError, match="no filter named 'shout'"):
        T.template_names("{{ a | shout }}")


def _hr(host: str, status: StepStatus, stdout: str, rc: int) -> HostResult:
    now = datetime.now(UTC)
    cmd = CommandResult(command="x", exit_code=rc, stdout=stdout)
    return HostResult(host=host, status=status, started_at=now, ended_at=now, commands=(cmd,))


def test_registered() -> None:
    from respond.engine.expect import result_view
    from respond.kinds import get

    results = [_hr("a", StepStatus.OK, "fine\n", 0), _hr("b", StepStatus.FAILED, "bad\n", 1)]
    reg = Registered({r.host: result_view(r, get("ssh")) for r in results})
    assert reg.stdout == "fine\n" and reg.rc == 0  # first host when there is no current one
    assert reg.with_current("b").stdout == "bad\n"
    assert reg.ok is False and reg.failed is True and reg.skipped is False
    assert reg.ok_hosts == ["a"] and reg.failed_hosts == ["b"]
    assert reg.hosts["b"]["rc"] == 1
    assert reg["failed"] is True and "stdout" in reg and set(reg) >= {"ok", "hosts"}
    variables = {"r": reg.with_current("b")}
    assert T.evaluate("r.failed and r.rc == 1 and 'b' in r.failed_hosts", variables) is True
    assert T.render_text("{{ r.hosts['a'].stdout | trim }}/{{ r }}", variables) == "fine/bad\n"
    assert T.render_command("echo {{ r.stdout }}", variables) == "echo 'bad\n'"
    empty = Registered({})
    assert empty.skipped and not empty.ok and empty.stdout == ""
