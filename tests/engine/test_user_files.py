"""The answers file and respond.yaml go through the one strict YAML reader: a duplicated key,
bad YAML or a wrong shape is ``file:line:col: error: ...`` and exit 2 before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli, Result
from enginekit import FakeShell, write_runbook

GATED = """steps:
  - {id: look, name: look, kind: ssh, targets: h1, command: echo look}
  - id: shut
    name: shut down
    kind: ssh
    targets: web
    command: echo shutdown
    confirm: Shut down all web servers?
"""


ONLY = "is confirmed only by yes or true and refused only by no or false, got "


def _refused(result: Result, *fragments: str) -> None:
    assert result.rc == 2, result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _nothing_ran(respond: Cli) -> None:
    assert FakeShell.calls == []
    listed = respond("timeline", "list", "--json")
    assert listed.rc == 0, listed
    assert listed.json() == []  # no run was recorded


@pytest.mark.parametrize("command", ["run", "resume"])
def test_a_duplicated_key_in_the_answers_file_refuses_the_run(
    project: Path, respond: Cli, tmp_path: Path, command: str
) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text("shut: no\nlook: yes\nshut: yes\n")  # which one decides the gate?
    if command == "run":
        result = respond("run", "gated", "--answers", str(answers))
        _refused(result, "answers.yaml:3:1: error: duplicate key 'shut' (first defined at line 1")
        _nothing_ran(respond)
    else:
        assert respond("run", "gated").rc == 3  # unattended: stops at the gate
        calls = list(FakeShell.calls)
        (run,) = respond("timeline", "list", "--json", check=True).json()
        run_id = run["run_id"]
        result = respond("resume", run_id, "--answers", str(answers))
        _refused(result, "answers.yaml:3:1: error: duplicate key 'shut'")
        assert FakeShell.calls == calls  # the resume did nothing and recorded nothing
        (after,) = respond("timeline", "list", "--json", check=True).json()
        assert after["events"] == run["events"] and after["status"] == run["status"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("shut: [yes\n", "answers.yaml:2:1: error: invalid YAML"),
        ("shut:\n\tconfirm: yes\n", "answers.yaml:2:1: error: invalid YAML: a tab character"),
        ("- shut\n", "answers.yaml:1:1: error: the answers file must map step ids to answers"),
        (
            "shut: {confrim: no}\n",
            "answers.yaml:1:8: error: unknown key 'confrim' for step 'shut' "
            "(did you mean 'confirm'?)",
        ),
        ("shut: [no]\n", "answers.yaml:1:7: error: the answer for step 'shut' must be yes/no"),
        ("shut:\n", "answers.yaml:1:6: error: the answer for step 'shut' must be yes/no"),
        ("rerun: [shut]\n", "answers.yaml:1:8: error: 'rerun' must map step ids to yes or no"),
        ("rerun: {shut: [1]}\n", "answers.yaml:1:15: error: rerun of step 'shut' must be yes"),
        ("shut: !!python/name:os.system\n", "answers.yaml:1:7: error: unsupported YAML tag"),
        # YAML 1.1 reads on/off as booleans: a gate is never confirmed (nor refused) by them
        ("look: yes\nshut: on\n", f"answers.yaml:2:7: error: the gate of step 'shut' {ONLY}'on'"),
        ("shut: {confirm: On}\n", f"answers.yaml:1:17: error: the gate of step 'shut' {ONLY}'On'"),
        ("shut: off\n", f"answers.yaml:1:7: error: the gate of step 'shut' {ONLY}'off'"),
        ("shut: y\n", f"answers.yaml:1:7: error: the gate of step 'shut' {ONLY}'y'"),
        ("shut: 1\n", f"answers.yaml:1:7: error: the gate of step 'shut' {ONLY}1"),
        ("shut: 'ok'\n", f"answers.yaml:1:7: error: the gate of step 'shut' {ONLY}'ok'"),
        ("rerun: {shut: ON}\n", f"answers.yaml:1:15: error: rerun of step 'shut' {ONLY}'ON'"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e]\n",
            "error: too many YAML aliases: the aliases expand to too many values",
        ),
        ("shut: yes\n" + "# padding\n" * 110_000, "error: answers file too large"),
    ],
)
def test_a_bad_answers_file_is_located_and_nothing_runs(
    project: Path, respond: Cli, tmp_path: Path, text: str, fragment: str
) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text(text)
    _refused(respond("run", "gated", "--yes", "--answers", str(answers)), fragment)
    _nothing_ran(respond)


def test_an_answers_file_that_is_not_utf8(project: Path, respond: Cli, tmp_path: Path) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_bytes(b"look: yes\nshut: caf\xe9\n")
    result = respond("run", "gated", "--answers", str(answers))
    _refused(result, "answers.yaml:2:10: error: answers file is not UTF-8 text")
    _nothing_ran(respond)


@pytest.mark.parametrize("word", ["yes", "YES", "true", "True", "'yes'", "'TRUE'"])
def test_a_gate_is_confirmed_by_yes_or_true(
    project: Path, respond: Cli, tmp_path: Path, word: str
) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"shut: {word}\n")
    assert respond("run", "gated", "--answers", str(answers)).rc == 0
    assert ("h3", "echo shutdown") in FakeShell.calls


def test_a_prompt_answered_on_gets_the_text_on(project: Path, respond: Cli, tmp_path: Path) -> None:
    """A prompt's answer is text: `breaker: on` answers "on" (YAML alone would say "yes")."""
    write_runbook(
        project,
        "breaker",
        "steps:\n  - {id: breaker, kind: manual, prompt: 'Breaker?', choices: ['on', 'off']}\n",
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("breaker: on\n")
    result = respond("run", "breaker", "--answers", str(answers), "--json")
    assert result.rc == 0, result
    events = respond("timeline", "show", result.json()["run_id"], "--json").json()["events"]
    (answer,) = [e for e in events if e["kind"] == "answer"]
    assert answer["data"]["answer"] == "on"


def test_well_formed_answers_still_decide(project: Path, respond: Cli, tmp_path: Path) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text("shut: {confirm: yes}\nlook: 'ok'\nrerun: {shut: no}\n")
    result = respond("run", "gated", "--answers", str(answers))
    assert result.rc == 0, result.stderr
    assert ("h3", "echo shutdown") in FakeShell.calls


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "runbooks: runbooks\ndefault_inventory: inventory/hosts.yaml\nrunbooks: elsewhere\n",
            "respond.yaml:3:1: error: duplicate key 'runbooks' (first defined at line 1",
        ),
        (
            "runbooks: runbooks\nnotify:\n  default: [dead\n",
            "respond.yaml:4:1: error: invalid YAML",
        ),
        ("- runbooks\n", "respond.yaml:1:1: error: respond.yaml must be a mapping"),
        (
            "runbooks: runbooks\nrunbok: x\n",
            "respond.yaml:2:1: error: unknown key 'runbok' (did you mean 'runbooks'?)",
        ),
        ("runbooks: [a, b]\n", "respond.yaml:1:11: error: 'runbooks' must be a path"),
        (
            "runbooks: runbooks\nnotify: {default: log}\n",
            "respond.yaml:2:19: error: notify.default must be a list of channel names",
        ),
        (
            "runbooks: runbooks\nnotify: {escalaton: [log]}\n",
            "respond.yaml:2:10: error: unknown key 'escalaton' in notify "
            "(did you mean 'escalation'?)",
        ),
        (
            "runbooks: runbooks\nchannels:\n  log: file\n",
            "respond.yaml:3:8: error: channel 'log' must be a mapping",
        ),
        (
            "runbooks: runbooks\nknown_hosts: [~/.ssh/known_hosts, 22]\n",
            "respond.yaml:2:35: error: known_hosts[1] must be a path, got 22",
        ),
        (
            "runbooks: runbooks\nseverity:\n  2: {respond: soon}\n",
            "respond.yaml:3:16: error: severity.2.respond: expected a duration",
        ),
        (
            "lab: {a: &a [x, x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a],"
            " c: &c [*b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c],"
            " e: &e [*d, *d, *d, *d, *d, *d, *d, *d], f: [*e, *e, *e, *e, *e, *e, *e, *e]}\n",
            "error: too many YAML aliases: the aliases expand to too many values",
        ),
        ("runbooks: runbooks\n" + "# padding\n" * 110_000, "error: respond.yaml too large"),
    ],
)
def test_a_bad_respond_yaml_is_located_and_nothing_runs(
    project: Path, respond: Cli, text: str, fragment: str
) -> None:
    write_runbook(project, "gated", GATED)
    (project / "respond.yaml").write_text(text, encoding="utf-8")
    _refused(respond("run", "gated", "--yes"), fragment)
    assert FakeShell.calls == []
    _refused(respond("list"), fragment)


def test_the_shipped_respond_yaml_is_accepted(repo_root: Path) -> None:
    from respond.config import load_config

    config = load_config(repo_root)
    assert config.raw["notify"]["default"] == ["oncall", "sms", "console"]
