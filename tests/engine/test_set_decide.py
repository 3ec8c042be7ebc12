"""set and decide through the engine: values computed once and read by later steps,
verdicts from ordered rules, both recorded (masked) and restored by `respond resume`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import Cli
from enginekit import FakeShell, events_of, write_runbook

from respond.events import EventDraft, EventKind


def _run_json(respond: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = respond("run", *args, "--json")
    return result.rc, result.json()


def _store(project: Path) -> Any:
    from respond.config import load_config
    from respond.timeline import open_store

    return open_store(load_config(project))


def _commands() -> list[str]:
    return [command for _host, command in FakeShell.calls]


def _crashed_copy(project: Path, run_id: str, keep: int, new_id: str) -> str:
    """A copy of ``run_id`` whose record stops after its first ``keep`` events, as a
    kill -9 at that point would leave it."""
    store = _store(project)
    events = store.events(run_id)
    store.create_run(new_id, {**store.meta(run_id), "runbook_text": store.runbook_text(run_id)})
    store.append(
        new_id,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in events[:keep]
        ],
    )
    return new_id


FACTS = """steps:
  - {id: probe, kind: ssh, targets: h1, command: "OB DISCHRG", register: ups}
  - id: facts
    kind: set
    values:
      status: "ups.stdout.split(': ')[1]"
      on_battery: "'OB' in status.split()"
      where: "'h2' if on_battery else 'h3'"
      minutes: 40
  - id: act
    kind: ssh
    targets: "{{ where }}"
    when: on_battery
    confirm: "Shed load on {{ where }} ({{ status }})?"
    command: "shed {{ status }} {{ minutes }}"
  - {id: never, kind: ssh, targets: h1, when: not on_battery, command: never}
"""


def test_set_values_are_top_level_names_of_every_later_step(project: Path, respond: Cli) -> None:
    write_runbook(project, "facts", FACTS)
    code, out = _run_json(respond, "facts", "--yes")
    assert code == 0, out
    # `when`, `targets`, `confirm` and the command read the values; a value reads the ones
    # before it
    assert FakeShell.calls[-1] == ("h2", "shed 'OB DISCHRG' 40")
    gate = next(e for e in events_of(project) if e.kind == EventKind.GATE_CONFIRMED)
    assert gate.data["text"] == "Shed load on h2 (OB DISCHRG)?"
    assert {s["id"]: s["status"] for s in out["steps"]}["never"] == "skipped"
    result = next(
        e for e in events_of(project) if e.kind == EventKind.HOST_RESULT and e.step_id == "facts"
    )
    assert result.host == "localhost"
    assert result.data["data"]["values"] == {
        "status": "OB DISCHRG",
        "on_battery": True,
        "where": "h2",
        "minutes": 40,
    }


def test_the_terminal_shows_the_values_and_the_verdict(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "shown",
        """steps:
  - {id: facts, kind: set, values: {load: "7 * 6", state: "'hot' if load > 40 else 'ok'"}}
  - id: judge
    kind: decide
    register: diag
    rules:
      - {when: "state == 'hot'", verdict: overheated, message: "load {{ load }}"}
    otherwise: {verdict: fine}
""",
    )
    result = respond("run", "shown")
    assert result.rc == 0, result
    assert 'load=42, state="hot"' in result.stderr
    assert "overheated: load 42" in result.stderr


def test_a_value_that_cannot_be_computed_fails_the_step_naming_it(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "broken",
        """steps:
  - {id: facts, kind: set, values: {fine: "1", bad: "[fine][1]", later: "2"}}
  - {id: after, kind: ssh, targets: h1, command: "echo {{ fine }}"}
""",
    )
    code, out = _run_json(respond, "broken")
    assert code == 1, out
    facts = out["steps"][0]
    assert facts["status"] == "failed"
    assert facts["message"].startswith("value 'bad': ") and "no element 1" in facts["message"]
    assert FakeShell.calls == []  # the run stopped at the failed step


DIAGNOSE = """steps:
  - {id: facts, kind: set, values: {on_battery: "%s", runtime_min: "%s"}}
  - id: diagnose
    kind: decide
    register: diag
    rules:
      - when: on_battery
        verdict: on-battery
        message: "on battery, {{ runtime_min }} min left"
      - when: runtime_min < 30
        verdict: low-runtime
        message: "only {{ runtime_min }} min"
      - when: runtime_min > 1000
        verdict: unused
    otherwise:
      verdict: no-fault
      message: "UPS on line"
  - id: report
    kind: ssh
    targets: h1
    command: "say {{ diag.verdict }} {{ diag.verdicts | join(',') }} {{ diag.messages | join('|') }}"
"""


def test_decide_takes_the_first_true_rule_and_lists_every_match(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "both", DIAGNOSE % ("true", "20"))
    code, out = _run_json(respond, "both")
    assert code == 0, out
    assert _commands() == [
        "say on-battery on-battery,low-runtime 'on battery, 20 min left|only 20 min'"
    ]
    result = next(
        e for e in events_of(project) if e.kind == EventKind.HOST_RESULT and e.step_id == "diagnose"
    )
    assert result.data["data"]["verdict"] == "on-battery"
    assert result.data["data"]["message"] == "on battery, 20 min left"


def test_decide_falls_back_to_otherwise_only_when_no_rule_is_true(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "none", DIAGNOSE % ("false", "90"))
    code, out = _run_json(respond, "none")
    assert code == 0, out
    assert _commands() == ["say no-fault no-fault 'UPS on line'"]


def test_a_rule_that_cannot_be_evaluated_fails_the_step_naming_the_rule(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "badrule",
        """steps:
  - id: diagnose
    kind: decide
    register: diag
    rules:
      - {when: "false", verdict: a}
      - {when: "{}.nosuch > 1", verdict: b}
    otherwise: {verdict: c}
""",
    )
    code, out = _run_json(respond, "badrule")
    assert code == 1, out
    assert out["steps"][0]["message"].startswith("rule 2 (b): "), out


def test_resume_restores_set_values_and_verdicts(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "again",
        """steps:
  - {id: facts, kind: set, values: {status: "'OB'", minutes: "6 * 7"}}
  - id: diagnose
    kind: decide
    register: diag
    rules: [{when: "status == 'OB'", verdict: on-battery, message: "{{ minutes }} min"}]
    otherwise: {verdict: no-fault}
  - {id: act, kind: ssh, targets: h1, command: "act {{ status }} {{ minutes }} {{ diag.verdict }}"}
""",
    )
    code, out = _run_json(respond, "again")
    assert code == 0, out
    events = _store(project).events(out["run_id"])
    # crash while `act` was in flight: its step-started and intent are durable, nothing more
    cut = next(
        i for i, e in enumerate(events) if e.kind == EventKind.STEP_STARTED and e.step_id == "act"
    )
    crashed = _crashed_copy(project, out["run_id"], cut + 1, "20261201T000000Z-b1a1")
    FakeShell.calls.clear()
    result = respond("resume", crashed, "--json")
    assert result.rc == 0, result.stdout + result.stderr
    # the values and the verdict came from the record: set and decide did not run again
    assert FakeShell.calls == [("h1", "act OB 42 on-battery")]
    started = [e.step_id for e in _store(project).events(crashed) if e.kind == "step-started"]
    assert started.count("facts") == 1 and started.count("diagnose") == 1


def test_a_set_step_in_flight_is_computed_again_without_asking(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "inflight",
        """steps:
  - {id: facts, kind: set, values: {n: "41 + 1"}}
  - {id: act, kind: ssh, targets: h1, command: "act {{ n }}"}
""",
    )
    code, out = _run_json(respond, "inflight")
    assert code == 0, out
    events = _store(project).events(out["run_id"])
    intent = next(
        i for i, e in enumerate(events) if e.kind == EventKind.HOST_INTENT and e.step_id == "facts"
    )
    crashed = _crashed_copy(project, out["run_id"], intent + 1, "20261201T000001Z-b1a2")
    FakeShell.calls.clear()
    # unattended and without --answers: a step that changes nothing needs no "run again?"
    result = respond("resume", crashed, "--json")
    assert result.rc == 0, result.stdout + result.stderr
    assert FakeShell.calls == [("h1", "act 42")]


def test_a_secret_param_in_a_set_value_is_masked_in_the_record(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "secretive",
        """params:
  token: {secret: true}
steps:
  - {id: facts, kind: set, values: {url: "'https://api:' ~ token ~ '@oa.example/'"}}
  - {id: use, kind: ssh, targets: h1, command: "fetch {{ url }}"}
""",
    )
    result = respond("run", "secretive", env={"RESPOND_PARAM_TOKEN": "s3cret-canary-77"})
    assert result.rc == 0, result
    # the step itself got the real value
    assert FakeShell.calls == [("h1", "fetch https://api:s3cret-canary-77@oa.example/")]
    recorded = json.dumps([e.data for e in events_of(project)])
    assert "s3cret-canary-77" not in recorded
    assert "https://api:***@oa.example/" in recorded
    assert "s3cret-canary-77" not in result.stdout + result.stderr


def _crash_before(project: Path, run_id: str, step_id: str, new_id: str) -> str:
    """A copy of ``run_id`` stopped as a crash at the start of ``step_id`` leaves it."""
    events = _store(project).events(run_id)
    cut = next(
        i for i, e in enumerate(events) if e.kind == EventKind.STEP_STARTED and e.step_id == step_id
    )
    return _crashed_copy(project, run_id, cut + 1, new_id)


def test_resume_computes_again_a_value_the_record_keeps_masked(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "masked",
        """params:
  token: {secret: true}
steps:
  - {id: facts, kind: set, values: {url: "'https://api:' ~ token ~ '@oa/'", plain: "'x'"}}
  - {id: use, kind: ssh, targets: h1, command: "fetch {{ url }} {{ plain }}"}
""",
    )
    secret = {"RESPOND_PARAM_TOKEN": "s3cret-canary-78"}
    run = respond("run", "masked", "--json", env=secret)
    assert run.rc == 0, run
    crashed = _crash_before(project, run.json()["run_id"], "use", "20261201T000002Z-b1a3")
    FakeShell.calls.clear()
    result = respond("resume", crashed, "--json", env=secret)
    assert result.rc == 0, result.stdout + result.stderr
    # the recorded value is "https://api:***@oa/": the resumed run computed the real one again
    assert FakeShell.calls == [("h1", "fetch https://api:s3cret-canary-78@oa/ x")]
    started = [e.step_id for e in _store(project).events(crashed) if e.kind == "step-started"]
    assert started.count("facts") == 2


def test_resume_computes_again_the_values_of_a_no_log_set_step(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "hidden",
        """steps:
  - {id: facts, kind: set, no_log: true, values: {n: "6 * 7"}}
  - {id: use, kind: ssh, targets: h1, command: "act {{ n }}"}
""",
    )
    code, out = _run_json(respond, "hidden")
    assert code == 0, out
    recorded = next(
        e for e in events_of(project) if e.kind == EventKind.HOST_RESULT and e.step_id == "facts"
    )
    assert "data" not in recorded.data  # no_log: the values stay out of the record
    crashed = _crash_before(project, out["run_id"], "use", "20261201T000003Z-b1a4")
    FakeShell.calls.clear()
    result = respond("resume", crashed, "--json")
    assert result.rc == 0, result.stdout + result.stderr
    assert FakeShell.calls == [("h1", "act 42")]


def test_a_set_step_cut_before_its_end_is_computed_again(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "cut",
        """params:
  token: {secret: true}
steps:
  - {id: facts, kind: set, values: {auth: "'Bearer ' ~ token"}}
  - {id: use, kind: ssh, targets: h1, command: "call {{ auth }}"}
""",
    )
    secret = {"RESPOND_PARAM_TOKEN": "s3cret-canary-79"}
    run = respond("run", "cut", "--json", env=secret)
    assert run.rc == 0, run
    events = _store(project).events(run.json()["run_id"])
    # the crash came after the host result (recorded masked), before step-finished
    result = next(
        i for i, e in enumerate(events) if e.kind == EventKind.HOST_RESULT and e.step_id == "facts"
    )
    crashed = _crashed_copy(project, run.json()["run_id"], result + 1, "20261201T000004Z-b1a5")
    FakeShell.calls.clear()
    resumed = respond("resume", crashed, "--json", env=secret)
    assert resumed.rc == 0, resumed.stdout + resumed.stderr
    assert FakeShell.calls == [("h1", "call 'Bearer s3cret-canary-79'")]


def test_rules_test_a_result_with_is_failed_and_is_succeeded(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "tests",
        """steps:
  - {id: probe, kind: ssh, targets: h1, command: fail-on h1, register: ups, on_failure: continue}
  - id: diagnose
    kind: decide
    register: diag
    rules:
      - {when: ups is succeeded, verdict: answered}
      - {when: ups is failed, verdict: no-access, message: "no answer: {{ ups.error }}"}
      - {when: ups is skipped, verdict: not-asked}
    otherwise: {verdict: unknown}
  - {id: say, kind: ssh, targets: h2, command: "say {{ diag.verdicts | join(',') }}"}
""",
    )
    code, out = _run_json(respond, "tests")
    assert code == 0, out
    assert FakeShell.calls[-1] == ("h2", "say no-access")


def test_the_result_tests_refuse_what_is_not_a_result() -> None:
    import pytest

    from respond.errors import TemplateError
    from respond.runbook.templating import Templates

    templates = Templates()
    with pytest.raises(TemplateError, match="the test 'failed' applies to a step result"):
        templates.evaluate("'text' is failed", {})
    with pytest.raises(TemplateError, match="'ups' is undefined"):
        templates.evaluate("ups is failed", {})
    assert templates.evaluate("r is skipped", {"r": {"skipped": True}}) is True
