"""Validation of set and decide: names a set step binds (scope, collisions), a decide's
required parts, and a warning for a verdict compared later that no rule gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from respond.cli.validate import validate_paths
from respond.config import load_config

RUNBOOK = """\
runbook: {name}
version: "1.0.0"
title: t
scenario: power
severity: 1
params:
  site: {{default: main}}
steps:
{steps}
"""

DIAGNOSE = """\
- id: facts
  kind: set
  values:
    on_battery: "site == 'b'"
- id: diagnose
  kind: decide
  register: diag
  rules:
    - when: on_battery
      verdict: on-battery
      message: "on battery at {{ site }}"
  otherwise:
    verdict: no-fault
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n")
    (tmp_path / "runbooks").mkdir()
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the current directory
    return tmp_path


def messages(project: Path, name: str, steps: str) -> list[str]:
    path = project / "runbooks" / f"{name}.yaml"
    body = textwrap.indent(textwrap.dedent(steps), "  ")
    path.write_text(RUNBOOK.format(name=name, steps=body))
    return [str(i) for i in validate_paths([path], load_config(project))]


def test_set_values_are_known_to_later_steps_and_to_later_values(project: Path) -> None:
    found = messages(
        project,
        "fine",
        """\
        - id: facts
          kind: set
          values:
            status: "site ~ '-OB'"
            on_battery: "'OB' in status"
        - {id: tell, kind: notify, when: on_battery, message: "{{ status }}"}
        """,
    )
    assert found == []


def test_a_value_used_before_its_set_step_is_an_error_at_its_position(project: Path) -> None:
    found = messages(
        project,
        "early",
        """\
        - {id: tell, kind: notify, message: "{{ status }}"}
        - id: facts
          kind: set
          values: {status: "'OL'", later: "early_", early_: "1"}
        """,
    )
    assert found == [
        "runbooks/early.yaml:9:39: error: step 1 (tell) message: 'status' is set by a later "
        "step, step 2 (facts); a step can only use values set by earlier steps",
        "runbooks/early.yaml:12:37: error: step 2 (facts) values.later: 'early_' is set by this "
        "step itself and cannot be read here (a value reads only the values written before "
        "it; later steps read them all)",
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("site", "is also a param"),
        ("run_id", "is a built-in template name"),
        ("ups", "is also the register name of step 1 (probe)"),
        ("first", "is already set by step 2 (one)"),
    ],
)
def test_a_value_name_may_not_shadow_another_name(project: Path, name: str, problem: str) -> None:
    found = messages(
        project,
        "clash",
        f"""\
        - {{id: probe, kind: local, command: "true", register: ups}}
        - {{id: one, kind: set, values: {{first: "1"}}}}
        - id: two
          kind: set
          values:
            {name}: "2"
        """,
    )
    assert found == [
        f"runbooks/clash.yaml:14:7: error: step 3 (two) values.{name}: value "
        f"name {name!r} {problem}; choose another"
    ]


def test_a_value_name_must_be_an_identifier(project: Path) -> None:
    found = messages(
        project,
        "ident",
        """\
        - id: facts
          kind: set
          values: {"on-battery": "true"}
        """,
    )
    assert found == [
        "runbooks/ident.yaml:11:14: error: step 1 (facts) values.on-battery: value name "
        "'on-battery' is not a plain identifier (letters, digits, _); choose another"
    ]


def test_a_value_is_an_expression_a_number_or_a_boolean(project: Path) -> None:
    found = messages(
        project,
        "shapes",
        """\
        - id: facts
          kind: set
          values: {ok: [1, 2], fine: 5, also: true, empty: " "}
        """,
    )
    assert found == [
        "runbooks/shapes.yaml:11:5: error: step 1 (facts): value 'ok' must be an expression "
        "written as a string, e.g. \"['a', 'b']\" (got list)",
        "runbooks/shapes.yaml:11:5: error: step 1 (facts): value 'empty' has an empty expression",
    ]


def test_a_decide_needs_otherwise_and_register(project: Path) -> None:
    found = messages(
        project,
        "bare",
        """\
        - id: diagnose
          kind: decide
          rules:
            - {when: "true", verdict: On-Battery}
            - {verdict: x, if: "true"}
        """,
    )
    assert found == [
        "runbooks/bare.yaml:9:5: error: step 1 (diagnose): a decide step needs 'otherwise'",
        "runbooks/bare.yaml:9:5: error: step 1 (diagnose): a decide step needs 'register'",
        "runbooks/bare.yaml:11:5: error: step 1 (diagnose): rule 1: verdict 'On-Battery' must "
        "be a plain word of lower-case letters, digits and '-' (e.g. on-battery)",
        "runbooks/bare.yaml:11:5: error: step 1 (diagnose): rule 2: unknown key 'if' (a rule "
        "has when, verdict, message)",
        "runbooks/bare.yaml:11:5: error: step 1 (diagnose): rule 2 needs 'when' (an expression "
        "without braces)",
    ]


def test_a_rule_reads_names_like_any_expression(project: Path) -> None:
    found = messages(
        project,
        "rulenames",
        """\
        - id: diagnose
          kind: decide
          register: diag
          rules: [{when: "sitte == 'b'", verdict: b, message: "{{ nosuch }}"}]
          otherwise: {verdict: a, message: "{{ diag }}"}
        """,
    )
    assert len(found) == 3, found
    assert "rules #1.when: unknown name 'sitte' (did you mean 'site'?)" in found[0]
    assert "rules #1.message: unknown name 'nosuch'" in found[1]
    assert "otherwise.message: 'diag' is registered by this step itself" in found[2]


@pytest.mark.parametrize(
    ("expression", "warning"),
    [
        (
            "diag.verdict == 'on-batery'",
            "'on-batery' is never diag.verdict (did you mean 'on-battery'?)",
        ),
        (
            "'nofault' != diag['verdict']",
            "'nofault' is never diag.verdict (did you mean 'no-fault'?)",
        ),
        ("diag.verdict in ['no-fault', 'broken']", "'broken' is never diag.verdict"),
        ("'broken' not in diag.verdicts", "'broken' is never in diag.verdicts"),
    ],
)
def test_a_verdict_no_rule_gives_is_warned_about(
    project: Path, expression: str, warning: str
) -> None:
    found = messages(
        project,
        "words",
        DIAGNOSE + f'- {{id: tell, kind: notify, when: "{expression}", message: hi}}\n',
    )
    assert len(found) == 1, found
    assert found[0].startswith("runbooks/words.yaml:22:")
    assert f"warning: step 3 (tell) when: {warning}: step 2 (diagnose) gives only " in found[0]
    assert found[0].endswith("gives only on-battery, no-fault")


def test_verdicts_the_rules_give_are_not_warned_about(project: Path) -> None:
    found = messages(
        project,
        "known",
        DIAGNOSE
        + textwrap.dedent(
            """\
        - id: tell
          kind: notify
          when: "diag.verdict != 'no-fault' and 'on-battery' in diag.verdicts"
          message: "{% if diag.verdict in ('on-battery', 'no-fault') %}{{ diag.message }}{% endif %}"
        - {id: part, kind: notify, when: "'battery' in diag.verdict", message: a substring}
            """
        ),
    )
    assert found == []


def test_a_verdict_in_a_message_template_is_checked_too(project: Path) -> None:
    found = messages(
        project,
        "inmsg",
        DIAGNOSE
        + textwrap.dedent(
            """\
        - id: tell
          kind: notify
          message: "{% if diag.verdict == 'on_battery' %}shed load{% endif %}"
            """
        ),
    )
    assert len(found) == 1 and "warning: step 3 (tell) message: 'on_battery' is never" in found[0]


def test_a_register_reused_by_another_step_is_no_longer_checked(project: Path) -> None:
    found = messages(
        project,
        "reused",
        DIAGNOSE
        + textwrap.dedent(
            """\
        - {id: again, kind: local, command: "true", register: diag}
        - {id: tell, kind: notify, when: "diag.verdict == 'anything'", message: hi}
            """
        ),
    )
    assert found == []


def test_a_set_value_may_not_transform_a_secret_beyond_masking(project: Path) -> None:
    path = project / "runbooks" / "leak.yaml"
    path.write_text(
        RUNBOOK.format(name="leak", steps="").replace(
            "  site: {default: main}\n", "  site: {default: main}\n  token: {secret: true}\n"
        )
        + "  - {id: facts, kind: set, values: {tail: 'token[2:]', whole: \"'Bearer ' ~ token\"}}\n"
        + "  - {id: check, kind: set, when: \"token[2:] == 'x'\", values: {n: '1'}}\n"
    )
    found = [str(i) for i in validate_paths([path], load_config(project))]
    # the value is recorded and shown, so a slice would leak what masking cannot find;
    # whole, it is masked; in a condition nothing of it is shown
    assert len(found) == 1, found
    assert found[0].startswith("runbooks/leak.yaml:11:43: error: step 1 (facts) values.tail: ")
    assert "secret param 'token' is transformed by an index or slice" in found[0]
