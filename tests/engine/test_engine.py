from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from enginekit import FakeShell, events_of, write_runbook

from respond.events import EventKind


def _run_json(respond: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    """`respond run ARGS --json`: (exit code, the result document every run prints)."""
    result = respond("run", *args, "--json")
    return result.rc, result.json()


def test_fan_out_register_when_expect_chain(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "chain",
        """params:
  target: {default: web}
steps:
  - id: probe
    name: probe
    kind: ssh
    targets: "{{ target }}"
    command: uptime
    register: up
  - id: only-if-ok
    name: runs because all ok
    kind: ssh
    targets: db
    command: echo {{ up.ok_hosts | length }}
    when: up.ok
    expect:
      stdout: "db1: echo 6"
  - id: never
    name: skipped
    kind: ssh
    targets: db
    command: echo never
    when: up.failed
""",
    )
    code, out = _run_json(respond, "chain")
    assert code == 0, out
    statuses = {s["id"]: s["status"] for s in out["steps"]}
    assert statuses == {"probe": "ok", "only-if-ok": "ok", "never": "skipped"}
    assert ("db1", "echo 6") in FakeShell.calls
    assert not any(c == "echo never" for _, c in FakeShell.calls)
    kinds = [e.kind for e in events_of(project)]
    assert kinds[0] == EventKind.RUN_STARTED and kinds[-1] == EventKind.RUN_FINISHED
    assert kinds.count(EventKind.HOST_INTENT) == 7  # 6 web + 1 db, each before its result
    assert kinds.count(EventKind.HOST_RESULT) == 7


def test_intent_is_recorded_before_result_for_each_host(project: Path, respond: Cli) -> None:
    write_runbook(
        project, "order", "steps:\n  - {id: a, name: a, kind: ssh, targets: web, command: uptime}\n"
    )
    code, _ = _run_json(respond, "order")
    assert code == 0
    events = events_of(project)
    intents = [(e.host, e.seq) for e in events if e.kind == EventKind.HOST_INTENT]
    results = [(e.host, e.seq) for e in events if e.kind == EventKind.HOST_RESULT]
    web = [f"h{i}" for i in range(1, 7)]  # the inventory's web group
    # exactly one intent and one result per host of the group ...
    assert sorted(h for h, _ in intents) == web, intents
    assert sorted(h for h, _ in results) == web, results
    # ... and each host's intent is in the record before its result
    intent_at, result_at = dict(intents), dict(results)
    late = [h for h in web if not intent_at[h] < result_at[h]]
    assert not late, f"results recorded before their intents: {late}"


def test_max_errors_budget(project: Path, respond: Cli) -> None:
    body = """steps:
  - id: s
    name: s
    kind: ssh
    targets: web
    command: fail-on h1 h2
    max_errors: {n}
    concurrency: 1
"""
    write_runbook(project, "budget", body.replace("{n}", "2"))
    code, out = _run_json(respond, "budget")
    assert code == 0 and out["steps"][0]["failed"] == 2 and out["steps"][0]["status"] == "ok"
    write_runbook(project, "budget", body.replace("{n}", "0"))
    code, out = _run_json(respond, "budget")
    assert code == 1
    # with concurrency 1 and no budget, hosts after the first failure are not started
    step = out["steps"][0]
    assert step["status"] == "failed" and step["ok"] == 0
    hosts = [e for e in events_of(project) if e.kind == EventKind.HOST_RESULT]
    assert {e.data["status"] for e in hosts[1:]} == {"cancelled"}


def test_max_errors_percent(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "pct",
        "steps:\n  - {id: s, name: s, kind: ssh, targets: web, command: fail-on h1, max_errors: '20%'}\n",
    )
    code, out = _run_json(respond, "pct")
    assert code == 0 and out["steps"][0]["failed"] == 1


def test_retries(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "retry",
        "steps:\n  - {id: s, name: s, kind: ssh, targets: h1, command: flaky, retries: 2, "
        "retry_delay: 0, idempotent: true}\n",
    )
    code, _out = _run_json(respond, "retry")
    assert code == 0
    result = next(e for e in events_of(project) if e.kind == EventKind.HOST_RESULT)
    assert result.data["attempts"] == 2
    intents = [e for e in events_of(project) if e.kind == EventKind.HOST_INTENT]
    assert [i.data["attempt"] for i in intents] == [1, 2]


def test_timeout_marks_timed_out(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "slow",
        "steps:\n  - {id: s, name: s, kind: ssh, targets: h1, command: sleep 5, timeout: 0.2}\n",
    )
    code, out = _run_json(respond, "slow")
    assert code == 1 and out["steps"][0]["status"] == "timed_out"


def test_on_failure_continue_and_abort(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "onfail",
        """steps:
  - {id: a, name: a, kind: ssh, targets: h1, command: fail-on h1, on_failure: continue}
  - {id: b, name: b, kind: ssh, targets: h2, command: fail-on h2}
  - {id: c, name: c, kind: ssh, targets: h3, command: echo after}
""",
    )
    code, out = _run_json(respond, "onfail")
    assert code == 1
    assert [s["id"] for s in out["steps"]] == ["a", "b"]
    assert not any(c == "echo after" for _, c in FakeShell.calls)


def test_a_drill_escalation_raises_its_severity_and_tells_the_escalation_chain(
    project: Path, respond: Cli
) -> None:
    # a drill opens no incident: its run escalates itself and sends its own notice (a run on
    # an incident escalates the incident, whose announcer tells people: tests/engine/test_clocks)
    write_runbook(
        project,
        "esc",
        "steps:\n  - {id: a, name: a, kind: ssh, targets: h1, command: fail-on h1, on_failure: escalate, drill: run}\n  - {id: b, name: b, kind: ssh, targets: h2, command: echo b, drill: run}\n",
    )
    code, _out = _run_json(respond, "esc", "--drill")
    assert code == 1  # unresolved
    esc = [e for e in events_of(project) if e.kind == EventKind.ESCALATED]
    assert esc and esc[0].data["from"] == 3 and esc[0].data["to"] == 2
    notices = [
        e
        for e in events_of(project)
        if e.kind in (EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED)
        and e.data.get("escalation")
    ]
    # the default chain [dead, log]: the dead channel fails, the log file takes it
    assert [(e.kind, e.data["channel"]) for e in notices] == [
        (EventKind.NOTIFICATION_FAILED, "dead"),
        (EventKind.NOTIFICATION_SENT, "log"),
    ]
    assert "escalated from level 3 to level 2" in (project / "notes.log").read_text()
    assert ("h2", "echo b") in FakeShell.calls


GATED = """steps:
  - {id: look, name: look, kind: ssh, targets: h1, command: echo look}
  - id: shut
    name: shut down
    kind: ssh
    targets: web
    command: echo shutdown
    confirm: Shut down all web servers?
  - {id: after, name: after, kind: ssh, targets: h1, command: echo after}
"""


def test_gate_unattended_without_yes_fails_safe(project: Path, respond: Cli) -> None:
    write_runbook(project, "gated", GATED)
    code, _out = _run_json(respond, "gated")
    assert code == 3
    assert not any(c in ("echo shutdown", "echo after") for _, c in FakeShell.calls)
    kinds = [e.kind for e in events_of(project)]
    assert EventKind.GATE_REFUSED in kinds and kinds[-1] == EventKind.RUN_FINISHED


def test_gate_refused_by_answers_aborts(project: Path, respond: Cli, tmp_path: Path) -> None:
    write_runbook(project, "gated", GATED)
    answers = tmp_path / "a.yaml"
    answers.write_text("shut: no\n")
    code, _ = _run_json(respond, "gated", "--answers", str(answers))
    assert code == 3
    assert not any(c in ("echo shutdown", "echo after") for _, c in FakeShell.calls)


def test_gate_confirmed_with_yes(project: Path, respond: Cli) -> None:
    write_runbook(project, "gated", GATED)
    code, _ = _run_json(respond, "gated", "--yes")
    assert code == 0
    assert ("h3", "echo shutdown") in FakeShell.calls
    gate = next(e for e in events_of(project) if e.kind == EventKind.GATE_CONFIRMED)
    assert gate.data["by"] == "--yes"


def test_manual_prompt_unattended_and_answers(project: Path, respond: Cli, tmp_path: Path) -> None:
    write_runbook(
        project,
        "ask",
        """steps:
  - id: panel
    name: look at the UPS panel
    kind: manual
    prompt: 面板状态? / Panel state?
    choices: [green, red]
    register: panel
  - {id: act, name: act, kind: ssh, targets: h1, command: "echo {{ panel.answer }}", when: "panel.answer == 'red'"}
""",
    )
    code, _ = _run_json(respond, "ask")
    assert code == 3
    answers = tmp_path / "a.yaml"
    answers.write_text("panel: red\n")
    code, out = _run_json(respond, "ask", "--answers", str(answers))
    assert code == 0, out
    assert ("h1", "echo red") in FakeShell.calls
    answer = next(e for e in events_of(project) if e.kind == EventKind.ANSWER)
    assert answer.data["answer"] == "red"


def test_drill_simulates_gated_steps(project: Path, respond: Cli) -> None:
    write_runbook(project, "gated", GATED)
    code, out = _run_json(respond, "gated", "--drill")
    assert code == 0
    statuses = {s["id"]: s["status"] for s in out["steps"]}
    assert statuses["shut"] == "simulated"
    assert not any(c == "echo shutdown" for _, c in FakeShell.calls)
    started = events_of(project)[0]
    assert started.data["drill"] is True


def test_injection_through_param_stays_one_argument(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "inj",
        "params:\n  who: {default: x}\nsteps:\n  - {id: a, name: a, kind: ssh, targets: h1, command: 'echo {{ who }}'}\n",
    )
    code, _ = _run_json(respond, "inj", "-p", "who=x; touch /tmp/owned")
    assert code == 0
    assert ("h1", "echo 'x; touch /tmp/owned'") in FakeShell.calls


def test_secrets_never_reach_the_record(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "sec",
        """params:
  token: {secret: true, required: true}
steps:
  - {id: a, name: a, kind: ssh, targets: all, command: 'echo {{ token }}'}
""",
    )
    canary = "canary-Zq9-7731"
    code, _ = _run_json(respond, "sec", "-p", f"token={canary}")
    assert code == 0
    home = Path(__import__("os").environ["RESPOND_HOME"])
    blob = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert canary.encode() not in blob
    assert b"hunter2-canary" not in blob  # inventory password
    assert b"***" in blob


def _run_notices(log: Path) -> list[dict[str, Any]]:
    """The notices a run's steps wrote to a file channel (its incident's are there too)."""
    lines = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if not str(line["run_id"]).startswith("INC-")]


def test_notify_falls_back_to_next_channel(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "tell",
        "steps:\n  - {id: n, name: n, kind: notify, message: 停电通知 power is out}\n",
    )
    code, _ = _run_json(respond, "tell")
    assert code == 0
    evs = events_of(project)
    failed = [e for e in evs if e.kind == EventKind.NOTIFICATION_FAILED]
    sent = [e for e in evs if e.kind == EventKind.NOTIFICATION_SENT]
    assert failed and failed[0].data["channel"] == "dead"
    assert sent and sent[0].data["channel"] == "log"
    (line,) = _run_notices(project / "notes.log")
    assert line["message"] == "停电通知 power is out"


def test_unknown_param_and_missing_required(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "p",
        "params:\n  site: {required: true}\nsteps:\n  - {id: a, name: a, kind: ssh, targets: h1, command: uptime}\n",
    )
    result = respond("run", "p", "-p", "sit=x")
    assert result.rc == 2
    assert "unknown parameter 'sit'" in result.stderr and "did you mean 'site'" in result.stderr
    assert "missing required parameter 'site'" in result.stderr


def test_target_matching_no_host_stops_the_run_before_it_starts(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "none",
        "steps:\n  - {id: a, name: a, kind: ssh, targets: nosuch, command: uptime}\n",
    )
    result = respond("run", "none")
    assert result.rc == 2, result
    assert (
        "runbooks/none.yaml:7:42: error: step 1 (a) targets 'nosuch' match no host in "
        "inventory/hosts.yaml" in result.stderr
    )
    assert respond("timeline", "list", "--json").json() == []  # nothing was recorded


def test_resume_after_interruption_skips_finished_steps(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    from respond.config import load_config
    from respond.events import EventDraft
    from respond.timeline import open_store

    write_runbook(
        project,
        "res",
        """steps:
  - {id: one, name: one, kind: ssh, targets: h1, command: echo one, register: first}
  - {id: two, name: two, kind: ssh, targets: h1, command: 'echo {{ first.stdout }}'}
  - {id: three, name: three, kind: ssh, targets: h2, command: echo three, idempotent: true}
""",
    )
    code, out = _run_json(respond, "res")
    assert code == 0
    run_id = out["run_id"]
    # Simulate a crash while step three was in flight: rebuild a run whose journal stops there.
    store = open_store(load_config(project))
    evs = store.events(run_id)
    cut = next(
        i for i, e in enumerate(evs) if e.kind == EventKind.STEP_STARTED and e.step_id == "three"
    )
    crashed = "20261123T000000Z-dead"
    store.create_run(crashed, {**store.meta(run_id), "runbook_text": store.runbook_text(run_id)})
    store.append(
        crashed,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in evs[: cut + 2]
        ],
    )
    FakeShell.calls.clear()
    result = respond("resume", crashed, "--json")
    assert result.rc == 0, result.stdout + result.stderr
    assert FakeShell.calls == [("h2", "echo three")]
    kinds = [e.kind for e in store.events(crashed)]
    assert EventKind.RUN_RESUMED in kinds and kinds[-1] == EventKind.RUN_FINISHED
    assert store.verify(crashed).ok


def test_resume_in_flight_non_idempotent_asks(project: Path, respond: Cli, tmp_path: Path) -> None:
    from respond.config import load_config
    from respond.events import EventDraft
    from respond.timeline import open_store

    write_runbook(
        project,
        "res2",
        "steps:\n  - {id: one, name: one, kind: ssh, targets: h1, command: echo one}\n",
    )
    _code, out = _run_json(respond, "res2")
    store = open_store(load_config(project))
    evs = store.events(out["run_id"])
    crashed = "20261123T000001Z-beef"
    store.create_run(
        crashed, {**store.meta(out["run_id"]), "runbook_text": store.runbook_text(out["run_id"])}
    )
    store.append(
        crashed,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in evs[:3]
        ],
    )
    FakeShell.calls.clear()
    assert respond("resume", crashed).rc == 3  # unattended: not re-run without a decision
    assert FakeShell.calls == []
    answers = tmp_path / "a.yaml"
    answers.write_text("rerun:\n  one: yes\n")
    assert respond("resume", crashed, "--answers", str(answers)).rc == 0
    assert FakeShell.calls == [("h1", "echo one")]


def test_large_output_goes_to_a_content_addressed_artifact(project: Path, respond: Cli) -> None:
    import hashlib

    from respond.config import load_config
    from respond.timeline import open_store

    write_runbook(
        project,
        "big",
        "steps:\n  - id: a\n    name: a\n    kind: local\n"
        "    command: python3 -c \"print('停' * 40000)\"\n",
    )
    code, out = _run_json(respond, "big")
    assert code == 0, out
    result = next(e for e in events_of(project) if e.kind == EventKind.HOST_RESULT)
    stored = result.data["commands"][0]["stdout"]
    assert isinstance(stored, dict) and stored["bytes"] > 64 * 1024
    body = open_store(load_config(project)).get_artifact(stored["artifact"])
    assert hashlib.sha256(body).hexdigest() == stored["artifact"]
    assert body.decode("utf-8") == "停" * 40000 + "\n"


def test_preflight_refuses_an_undefined_name_before_anything_runs(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "typo",
        "steps:\n  - {id: a, name: a, kind: ssh, targets: h1, command: uptime}\n"
        "  - {id: b, name: b, kind: ssh, targets: h1, command: 'echo {{ sitee }}'}\n",
    )
    result = respond("run", "typo")
    assert result.rc == 2
    assert "typo.yaml:" in result.stderr and "unknown name 'sitee'" in result.stderr
    assert "did you mean 'site'" in result.stderr  # `site` is an inventory variable
    assert FakeShell.calls == []  # not even the first step ran
    listed = respond("timeline", "list", "--json")
    assert listed.rc == 0, listed
    assert listed.json() == []  # and no run was recorded


def test_answers_naming_no_step_are_warned_about(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project, "w", "steps:\n  - {id: a, name: a, kind: ssh, targets: h1, command: uptime}\n"
    )
    answers = tmp_path / "a.yaml"
    answers.write_text("aa: yes\nrerun: {zz: yes}\n")
    result = respond("run", "w", "--answers", str(answers))
    assert result.rc == 0
    assert "'aa', which is not a step of w" in result.stderr
    assert "'zz', which is not a step of w" in result.stderr


def test_the_file_channel_masks_secrets_and_is_private(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "tell-secret",
        """params:
  token: {secret: true, required: true}
steps:
  - id: n
    name: n
    kind: notify
    channels: [log]
    subject: "token {{ token | upper }}"
    message: "rotated {{ token }} on {{ groups.db | join(',') }}: {{ token | urlencode }}"
""",
    )
    log = project / "notes.log"
    log.write_text("", encoding="utf-8")
    log.chmod(0o644)  # an existing file readable by others is tightened, not trusted
    canary = "canary/Zq9 7731"
    code, _ = _run_json(respond, "tell-secret", "-p", f"token={canary}")
    assert code == 0
    assert log.stat().st_mode & 0o777 == 0o600
    (line,) = _run_notices(log)
    assert line["message"] == "rotated *** on db1: ***" and line["subject"] == "token ***"
    assert canary not in log.read_text(encoding="utf-8")  # nor in the incident's notices
    (project / "notes.log").unlink()
    code, _ = _run_json(respond, "tell-secret", "-p", f"token={canary}")
    assert code == 0 and log.stat().st_mode & 0o777 == 0o600  # created private


def test_the_gate_preview_of_a_no_log_step_hides_its_commands(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "hidden",
        """steps:
  - id: rotate
    name: rotate
    kind: ssh
    targets: db
    no_log: true
    confirm: Rotate the database password?
    command: "set-password db-Quiet-8812"
""",
    )
    refused = respond("run", "hidden")  # unattended: the gate is shown, then refused
    assert refused.rc == 3, refused
    assert "Rotate the database password?" in refused.stderr
    assert "(commands hidden: the step is no_log)" in refused.stderr
    assert "db-Quiet-8812" not in refused.output
    answers = project / "answers.yaml"
    answers.write_text("rotate: yes\n", encoding="utf-8")
    code, _ = _run_json(respond, "hidden", "--answers", str(answers))
    assert code == 0
    gate = next(e for e in events_of(project) if e.kind == EventKind.GATE_CONFIRMED)
    assert gate.data["preview"] == ["(commands hidden: the step is no_log)"]


def test_a_secret_reaches_a_local_program_through_env_only(project: Path, respond: Cli) -> None:
    body = """params:
  token: {secret: true, required: true}
steps:
  - id: use
    name: use
    kind: local
    argv: [sh, -c, 'test "$TOKEN" = "$1" && echo "got $TOKEN"', sh, expected-Env-4242]
    env: {TOKEN: "{{ token }}"}
    register: used
    expect: {stdout: got}
"""
    write_runbook(project, "env-secret", body)
    code, out = _run_json(respond, "env-secret", "-p", "token=expected-Env-4242")
    assert code == 0, out
    result = next(e for e in events_of(project) if e.kind == EventKind.HOST_RESULT)
    assert result.data["commands"][0]["stdout"] == "got ***\n"
    assert "Env-4242" not in json.dumps(result.data)


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ("{id: a, kind: local, command: 'login {{ token }}'}", "command"),
        ("{id: a, kind: local, argv: [login, '--pw={{ token | upper }}']}", "argv #2"),
        ("{id: a, kind: local, argv: [login, '{{ params.token }}']}", "argv #2"),
        (
            "{id: a, kind: wait, timeout: 1m, check: {kind: local, command: 'x {{ token }}'}}",
            "check.command",
        ),
    ],
)
def test_a_secret_in_a_local_command_line_is_a_validation_error(
    project: Path, respond: Cli, step: str, field: str
) -> None:
    path = write_runbook(
        project, "argv-secret", f"params:\n  token: {{secret: true}}\nsteps:\n  - {step}\n"
    )
    out = respond("validate", str(path))
    assert out.rc == 2, out
    assert "runbooks/argv-secret.yaml:9:" in out.stdout, out
    assert (
        f"step 1 (a) {field}: secret param 'token' would be visible to every user of this "
        "machine in the program's command line (ps); hand it over in env:"
    ) in out.output, out
    run = respond("run", "argv-secret", "-p", "token=abcdef")
    assert run.rc == 2 and "would be visible to every user" in run.stderr, run


def test_a_secret_given_with_p_is_warned_about(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "warned",
        "params:\n  token: {secret: true}\nsteps:\n  - {id: a, kind: ssh, targets: h1, command: 'echo {{ token }}'}\n",
    )
    said = respond("run", "warned", "-p", "token=Warn-6021", "--json")
    assert said.rc == 0, said
    assert (
        "warning: secret parameter 'token' given with -p: every user of this machine can read "
        "it in respond's command line (ps); set RESPOND_PARAM_TOKEN instead"
    ) in " ".join(said.stderr.split())
    quiet = respond("run", "warned", "--json", env={"RESPOND_PARAM_TOKEN": "Warn-6021"})
    assert quiet.rc == 0 and "warning" not in quiet.stderr, quiet


def test_resume_keeps_a_default_that_looks_like_an_option(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "quiet-flag",
        """params:
  flag: {default: "-q"}
steps:
  - {id: a, name: a, kind: ssh, targets: h1, command: 'grep {{ flag }} x'}
  - {id: ask, name: ask, kind: manual, prompt: "go on?"}
""",
    )
    first = respond("run", "quiet-flag", "--json")
    assert first.rc == 3, first  # unattended: the prompt has no answer
    answers = project / "answers.yaml"
    answers.write_text("ask: yes\n", encoding="utf-8")
    resumed = respond("resume", first.json()["run_id"], "--answers", str(answers), "--json")
    assert resumed.rc == 0, resumed
    refused = respond("run", "quiet-flag", "-p", "flag=-r")  # given now: checked
    assert refused.rc == 2 and "parameter 'flag' value '-r' starts with '-'" in refused.stderr
