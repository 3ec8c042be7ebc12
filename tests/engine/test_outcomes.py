"""Run outcomes (resolved, no-fault, unresolved, aborted, failed) with their exit codes,
`kind: finish`, a gate's `on_refuse`, and durations templated from params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clikit import Cli
from enginekit import FakeShell, events_of, write_runbook

from respond.events import EventKind


def _run(respond: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = respond("run", *args, "--json")
    return result.rc, result.json()


def _finished(project: Path, run_id: str) -> dict[str, Any]:
    last = events_of(project, run_id)[-1]
    assert last.kind == EventKind.RUN_FINISHED
    return dict(last.data)


def test_all_steps_done_is_resolved(project: Path, respond: Cli) -> None:
    write_runbook(project, "ok", "steps:\n  - {id: a, kind: ssh, targets: h1, command: echo a}\n")
    code, out = _run(respond, "ok")
    assert code == 0
    assert (out["outcome"], out["reason"]) == ("resolved", "all steps done")
    data = _finished(project, out["run_id"])
    assert (data["status"], data["outcome"], data["reason"]) == (
        "succeeded",
        "resolved",
        "all steps done",
    )


FINISHING = """params:
  verdict: {default: no-fault}
steps:
  - {id: look, kind: ssh, targets: h1, command: echo UPS on line, register: ups}
  - id: all-clear
    kind: finish
    when: verdict == 'no-fault'
    outcome: no-fault
    message: "no fault at {{ hostvars['h1'].site }}: {{ ups.stdout }}"
  - id: still-broken
    kind: finish
    when: verdict == 'vendor'
    outcome: unresolved
    message: "waiting for the vendor"
  - {id: repair, kind: ssh, targets: h2, command: echo repair}
"""


def test_finish_ends_the_run_with_its_outcome_and_skips_the_rest(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "fin", FINISHING)
    result = respond("run", "fin")
    assert result.rc == 0, result
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "NO FAULT FOUND — no fault at main: h1: echo UPS on line"
    assert lines[-1].startswith("run ") and lines[-1].endswith(" · exit 0")
    assert ("h2", "echo repair") not in FakeShell.calls
    events = events_of(project)
    skipped = {e.step_id: e.data["reason"] for e in events if e.kind == EventKind.STEP_SKIPPED}
    assert skipped == {
        "still-broken": "run finished at step 2 (all-clear)",
        "repair": "run finished at step 2 (all-clear)",
    }
    assert events[-1].data["outcome"] == "no-fault"
    assert events[-1].data["reason"] == "no fault at main: h1: echo UPS on line"


def test_finish_unresolved_exits_1(project: Path, respond: Cli) -> None:
    write_runbook(project, "fin", FINISHING)
    code, out = _run(respond, "fin", "-p", "verdict=vendor")
    assert code == 1
    assert (out["status"], out["outcome"], out["reason"]) == (
        "failed",
        "unresolved",
        "waiting for the vendor",
    )
    assert [s["status"] for s in out["steps"]] == ["ok", "skipped", "ok", "skipped"]
    assert _finished(project, out["run_id"])["finished_by"] == "still-broken"
    # the finish decided: resuming would run nothing and could only misreport the end
    again = respond("resume", out["run_id"])
    assert again.rc == 2
    assert f"run {out['run_id']} was ended by its finish step 'still-broken'" in again.stderr


def test_a_crash_after_finish_ran_resumes_to_the_ending_it_decided(
    project: Path, respond: Cli
) -> None:
    from respond.config import load_config
    from respond.events import EventDraft
    from respond.timeline import open_store

    write_runbook(project, "fin", FINISHING)
    code, out = _run(respond, "fin", "-p", "verdict=vendor")
    assert code == 1, out
    # the record as kill -9 would leave it right after the finish step's step-finished
    store = open_store(load_config(project))
    events = store.events(out["run_id"])
    cut = next(
        i
        for i, e in enumerate(events)
        if e.kind == EventKind.STEP_FINISHED and e.step_id == "still-broken"
    )
    crashed = "20261202T000000Z-f1a1"
    store.create_run(
        crashed, {**store.meta(out["run_id"]), "runbook_text": store.runbook_text(out["run_id"])}
    )
    store.append(
        crashed,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in events[: cut + 1]
        ],
    )
    FakeShell.calls.clear()
    again = respond("resume", crashed, "--json")
    assert again.rc == 1, again
    result = again.json()
    assert (result["outcome"], result["reason"]) == ("unresolved", "waiting for the vendor")
    assert ("h2", "echo repair") not in FakeShell.calls  # the finish decided: nothing after it
    assert _finished(project, crashed)["finished_by"] == "still-broken"


def test_finish_failed_exits_1(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "fin",
        "steps:\n  - {id: f, kind: finish, outcome: failed, message: UPS does not answer}\n",
    )
    code, out = _run(respond, "fin")
    assert (code, out["outcome"], out["reason"]) == (1, "failed", "UPS does not answer")


def test_escalated_failure_is_unresolved(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "esc",
        """steps:
  - {id: a, kind: ssh, targets: h1, command: fail-on h1, on_failure: escalate}
  - {id: b, kind: ssh, targets: h2, command: echo b}
""",
    )
    code, out = _run(respond, "esc")
    assert code == 1
    assert out["outcome"] == "unresolved"
    assert out["reason"].startswith("step(s) a failed and were escalated")
    assert _finished(project, out["run_id"])["outcome"] == "unresolved"


def test_a_failed_step_that_stops_the_run_is_failed(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "bad",
        """steps:
  - {id: a, kind: ssh, targets: h1, command: fail-on h1}
  - {id: b, kind: ssh, targets: h2, command: echo b}
""",
    )
    result = respond("run", "bad")
    assert result.rc == 1
    assert result.stdout.strip().splitlines()[-2].startswith("FAILED — step 1 (a) failed: ")
    code, out = _run(respond, "bad")
    assert (code, out["outcome"]) == (1, "failed")


GATED = """steps:
  - {id: a, kind: ssh, targets: h1, command: echo a}
  - {id: promote, kind: ssh, targets: h2, command: echo promote, confirm: "promote h2?"}
  - {id: c, kind: ssh, targets: h3, command: echo c}
"""


def test_a_refused_gate_aborts_and_resume_offers_it_again(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(project, "gate", GATED)
    refuse = tmp_path / "no.yaml"
    refuse.write_text("promote: no\n", encoding="utf-8")
    code, out = _run(respond, "gate", "--answers", str(refuse))
    run_id = out["run_id"]
    assert (code, out["status"], out["outcome"]) == (3, "aborted", "aborted")
    assert out["message"] == (
        f"gate refused at step 2 (promote): promote h2?; `respond resume {run_id}` offers "
        "the gate again"
    )
    assert _finished(project, run_id)["resumable"] is True
    assert ("h2", "echo promote") not in FakeShell.calls

    # resuming asks the gate again: still refused (unattended) → exit 3, then yes → exit 0
    again = respond("resume", run_id, "--json")
    assert again.rc == 3, again
    assert again.json()["outcome"] == "aborted"
    assert again.json()["message"].endswith(f"; `respond resume {run_id}` offers the gate again")
    resumed = respond("resume", run_id, "--yes", "--json")
    assert resumed.rc == 0, resumed
    assert resumed.json()["outcome"] == "resolved"
    assert ("h2", "echo promote") in FakeShell.calls and ("h3", "echo c") in FakeShell.calls
    events = events_of(project, run_id)
    gates = [e.kind for e in events if e.step_id == "promote" and "gate" in str(e.kind)]
    assert gates == [EventKind.GATE_REFUSED, EventKind.GATE_REFUSED, EventKind.GATE_CONFIRMED]


def test_on_refuse_skip_goes_on_without_the_step(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project,
        "skip",
        """steps:
  - id: promote
    kind: ssh
    targets: h2
    command: echo promote
    confirm: "promote h2?"
    on_refuse: skip
    register: promoted
  - {id: tell, kind: ssh, targets: h3, command: echo not promoted, when: promoted.skipped}
""",
    )
    refuse = tmp_path / "no.yaml"
    refuse.write_text("promote: no\n", encoding="utf-8")
    code, out = _run(respond, "skip", "--answers", str(refuse))
    assert (code, out["outcome"]) == (0, "resolved")
    assert [s["status"] for s in out["steps"]] == ["skipped", "ok"]
    assert out["steps"][0]["message"] == "gate refused: promote h2?"
    assert ("h2", "echo promote") not in FakeShell.calls
    assert ("h3", "echo not promoted") in FakeShell.calls
    events = events_of(project)
    kinds = [e.kind for e in events if e.step_id == "promote"]
    assert kinds == [EventKind.GATE_REFUSED, EventKind.STEP_SKIPPED]
    # unattended (nobody to ask) is a refusal too
    code, out = _run(respond, "skip")
    assert (code, out["steps"][0]["status"]) == (0, "skipped")


def test_finish_sends_its_notice_through_the_fallback_chain(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "tell",
        """steps:
  - {id: done, kind: finish, outcome: resolved, message: "fixed it", channels: [dead, log]}
""",
    )
    code, out = _run(respond, "tell")
    assert (code, out["outcome"], out["reason"]) == (0, "resolved", "fixed it")
    assert "fixed it" in (project / "notes.log").read_text(encoding="utf-8")
    assert _notices(project) == [("dead", False), ("log", True)]


def test_a_finish_notice_nobody_accepts_does_not_change_the_outcome(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "tell",
        """steps:
  - {id: done, kind: finish, outcome: no-fault, message: "all fine", channels: [dead]}
""",
    )
    code, out = _run(respond, "tell")
    assert (code, out["outcome"]) == (0, "no-fault")
    assert _notices(project) == [("dead", False)]


def _notices(project: Path) -> list[tuple[str, bool]]:
    sent = (EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED)
    return [
        (e.data["channel"], e.kind == EventKind.NOTIFICATION_SENT)
        for e in events_of(project)
        if e.kind in sent
    ]


TIMED = """params:
  t: {default: 5s}
steps:
  - {id: slow, kind: ssh, targets: h1, command: sleep 2, timeout: "{{ t }}"}
"""


def test_a_timeout_templated_from_a_param(project: Path, respond: Cli) -> None:
    write_runbook(project, "timed", TIMED)
    code, out = _run(respond, "timed", "-p", "t=0.1")
    assert (code, out["steps"][0]["status"]) == (1, "timed_out")
    code, out = _run(respond, "timed", "-p", "t=1m")
    assert (code, out["steps"][0]["status"]) == (0, "ok")


def test_a_templated_timeout_that_is_no_duration_fails_the_step(
    project: Path, respond: Cli
) -> None:
    write_runbook(project, "timed", TIMED)
    code, out = _run(respond, "timed", "-p", "t=abc")
    assert code == 1
    assert out["steps"][0]["message"] == (
        "step 1 (slow) timeout: expected a duration like 30s, 5m or 1h, got 'abc'"
    )
    assert not FakeShell.calls


def test_sigterm_mid_run_is_aborted_exit_130(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    write_runbook(
        root,
        "term",
        """steps:
  - {id: stop, kind: local, argv: [sh, -c, 'kill -TERM $PPID; sleep 30'], timeout: 60}
  - {id: never, kind: local, argv: [echo, never]}
""",
    )
    result = Cli(cwd=root)("run", "term", "--json")
    assert result.rc == 130, result
    assert (result.json()["status"], result.json()["outcome"]) == ("interrupted", "aborted")
    assert _finished(root, result.json()["run_id"])["outcome"] == "aborted"


def test_a_kind_duration_field_is_templated_too(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "poll",
        """params:
  every: {default: 1s}
steps:
  - id: settle
    kind: wait
    timeout: 5s
    interval: "{{ every }}"
    check: {kind: ssh, targets: h1, command: echo up}
""",
    )
    code, out = _run(respond, "poll", "-p", "every=0.05")
    assert (code, out["steps"][0]["status"]) == (0, "ok")
    code, out = _run(respond, "poll", "-p", "every=soon")
    assert code == 1
    assert out["steps"][0]["message"] == (
        "step 1 (settle) interval: expected a duration like 30s, 5m or 1h, got 'soon'"
    )
