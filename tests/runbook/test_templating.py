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


# ----------------------------------------------------------------------------- raw


HOSTILE = "x; touch /tmp/owned"


def _str_results(value: str) -> list[tuple[str, object]]:
    """Every str method that returns a str, called on ``value`` with a hostile argument
    where it takes one (found by trying argument shapes, so a new method is not missed)."""
    shapes: list[tuple[object, ...]] = [
        (),
        (HOSTILE,),
        (HOSTILE, HOSTILE),
        ([HOSTILE],),
        ({"a": HOSTILE},),
        (3,),
        (3, HOSTILE[0]),
        ("{}",),
        ("",),
    ]
    found = []
    for name in dir(str):
        if name in ("__new__", "__init_subclass__", "__class__", "__init__", "__setattr__"):
            continue
        method = getattr(value, name)
        if not callable(method):
            continue
        for args in shapes:
            try:
                result = method(*args)
            except (TypeError, ValueError, LookupError, OverflowError, AttributeError):
                continue
            if isinstance(result, str):
                found.append((name, result))
    return found


def test_no_str_method_of_a_raw_literal_returns_a_raw_value() -> None:
    from respond.runbook.templating import Raw

    results = [r for text in ("{} %s", "{a}") for r in _str_results(Raw.literal(text))]
    names = {name for name, _ in results}
    # the enumeration reached the methods that build a new string from arguments
    assert {"format", "format_map", "join", "replace", "__add__", "__mod__", "__mul__"} <= names
    assert {"upper", "strip", "__getitem__", "__format__", "__str__"} <= names
    raw_results = [name for name, result in results if isinstance(result, Raw)]
    assert raw_results == []
    assert not isinstance(Raw(HOSTILE), Raw)  # only the raw filter makes one


@pytest.mark.parametrize(
    "template",
    [
        "{{ ('{}'|raw).format(p) }}",
        "{{ ('{x}'|raw).format_map({'x': p}) }}",
        "{{ ('%s'|raw) % p }}",
        "{{ ('%s'|raw) % (p,) }}",
        "{{ ('a'|raw) ~ p }}",
        "{{ ('a'|raw) + p }}",
        "{{ ('a'|raw).join([p]) }}",
        "{{ ('a'|raw).replace('a', p) }}",
        "{{ ((('{}'|raw) * 2).format(p, p)) }}",
        "{{ ('{}'|raw).format(p).upper() }}",
        "{{ ('{}'|raw).format(p) | string }}",
        "{{ ('{}'|raw).format(p) | trim }}",
    ],
)
def test_a_string_built_from_a_raw_literal_is_quoted(template: str, tmp_path: Path) -> None:
    owned = tmp_path / "owned"
    value = f"x; touch {owned}"
    command = T.render_command(f"echo {template}", {"p": value})
    subprocess.run(["sh", "-c", command], capture_output=True, check=True)
    assert not owned.exists(), command
    assert len(shlex.split(command)) == 2, command  # echo and one quoted word


def test_raw_literals_still_pass_unquoted() -> None:
    assert T.render_command("ls {{ '2>&1' | raw }} {{ p }}", {"p": "a b"}) == "ls 2>&1 'a b'"


# ----------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("template", "how"),
    [
        ("{{ tok | reverse }}", "the filter 'reverse'"),
        ("{{ tok[1:] }}", "an index or slice"),
        ("{{ tok[0] }}", "an index or slice"),
        ("{{ tok.split('-') }}", "its attribute or method 'split'"),
        ("{{ tok.swapcase() }}", "its attribute or method 'swapcase'"),
        ("{{ '%.3s' % tok }}", "the % operator"),
        ("{{ '{:.3}'.format(tok) }}", "a call that takes it as an argument"),
        ("{{ params.tok | replace('a', 'b') }}", "the filter 'replace'"),
        ("{{ params['tok'] | list }}", "the filter 'list'"),
        ("{{ 'x' | replace('x', tok[2:]) }}", "an index or slice"),
        ("{% for c in tok %}{{ c }}{% endfor %}", "a loop over it"),
    ],
)
def test_a_secret_transformed_in_a_template_is_refused(template: str, how: str) -> None:
    found = T.secret_misuse(template, frozenset({"tok"}))
    assert len(found) == 1, found
    assert found[0].startswith(f"secret param 'tok' is transformed by {how},")


@pytest.mark.parametrize(
    "template",
    [
        "{{ tok }}",
        "a{{ 'b' ~ tok ~ 'c' }}",
        "{{ tok | quote }} {{ tok | urlencode }} {{ tok | upper }} {{ tok | lower }}",
        "{{ tok | title }} {{ tok | capitalize }} {{ tok | tojson }} {{ tok | length }}",
        "{{ x | default(tok) }} {{ tok if x else 'none' }}",
        "{% if tok[:2] == 'ab' and tok | reverse %}y{% endif %}",
        "{{ other | reverse }} {{ params.other[1:] }}",
    ],
)
def test_a_secret_used_whole_is_fine(template: str) -> None:
    assert T.secret_misuse(template, frozenset({"tok"})) == []
