"""Text without template syntax renders without Jinja2, to exactly what Jinja2 makes of it,
and a runbook without templates is loaded, checked and rendered without importing Jinja2."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from respond.runbook.templating import Templates

PIECES = [*"ab {}%#-\r\n\t'\"$;|&\\", "机房", "\u2028", "\x0b", "\r\n"]
PLAIN = (
    st.lists(st.sampled_from(PIECES), max_size=30)
    .map("".join)
    .filter(lambda s: "{{" not in s and "{%" not in s and "{#" not in s)
)


@given(PLAIN)
def test_plain_text_renders_as_jinja_renders_it(source: str) -> None:
    templates = Templates()
    for mode, render in (
        ("text", templates.render_text),
        ("command", templates.render_command),
        ("device", templates.render_device_line),
    ):
        expected = templates._env(mode).from_string(source).render({})
        if mode == "device" and ("\n" in expected or "\r" in expected):
            continue  # refused either way: a device line has no line breaks
        assert render(source, {}) == expected, (mode, source)


def test_a_runbook_without_templates_never_imports_jinja(tmp_path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            runbook: plain
            version: "1.0.0"
            title: Plain
            scenario: other
            severity: 4
            steps:
              - id: look
                kind: ssh
                targets: all
                command: "uptime; df -h /"
            """
        ),
        encoding="utf-8",
    )
    code = textwrap.dedent(
        f"""
        import sys
        from respond.runbook import load_runbook
        from respond.runbook.templating import Templates
        from respond.runbook.validate import check_runbook
        rb = load_runbook({str(path)!r})
        assert check_runbook(rb) == []
        t = Templates()
        assert t.render_text(rb.steps[0].targets, {{}}) == "all"
        assert t.render_command(rb.steps[0].command, {{}}) == "uptime; df -h /"
        print("jinja2" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "False", out.stderr
