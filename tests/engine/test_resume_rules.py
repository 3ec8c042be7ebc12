"""What may be done twice: retries repeat only what is known not to have run (or an
idempotent step), resume continues host by host, and "run it again?" after an unknown
outcome is answered by a person or an explicit ``rerun:``, never by ``--yes``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from clikit import Cli
from enginekit import FakeShell, write_runbook

from respond.events import EventDraft, EventKind


def _run(respond: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = respond("run", *args, "--json")
    return result.rc, result.json()


def _store(project: Path) -> Any:
    from respond.config import load_config
    from respond.timeline import open_store

    return open_store(load_config(project))


def _calls(command: str) -> list[str]:
    return [host for host, c in FakeShell.calls if c == command]


# -- retries ------------------------------------------------------------------------------------


def test_retries_do_not_repeat_a_command_that_ran(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "r1",
        "steps:\n  - {id: s, kind: ssh, targets: h1, command: flaky, retries: 3, retry_delay: 0}\n",
    )
    code, out = _run(respond, "r1")
    assert code == 1, out
    assert _calls("flaky") == ["h1"]  # exit 1 means it ran: not ours to repeat


def test_retries_repeat_a_failure_before_anything_was_sent(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "r2",
        "steps:\n  - {id: s, kind: ssh, targets: h1, command: unreachable-first, retries: 2, "
        "retry_delay: 0}\n",
    )
    code, out = _run(respond, "r2")
    assert code == 0, out
    assert _calls("unreachable-first") == ["h1", "h1"]


def test_retries_repeat_an_unknown_outcome_only_when_idempotent(
    project: Path, respond: Cli
) -> None:
    step = (
        "  - {id: s, kind: ssh, targets: h1, command: lost-first, retries: 2, retry_delay: 0%s}\n"
    )
    write_runbook(project, "r3", "steps:\n" + step % "")
    code, out = _run(respond, "r3")
    assert code == 1 and out["steps"][0]["status"] == "failed", out
    assert _calls("lost-first") == ["h1"]

    FakeShell.calls.clear()
    FakeShell.flaky_seen.clear()
    write_runbook(project, "r4", "steps:\n" + step % ", idempotent: true")
    code, out = _run(respond, "r4")
    assert code == 0, out
    assert _calls("lost-first") == ["h1", "h1"]


# -- resume per host ----------------------------------------------------------------------------


def test_resume_continues_only_on_the_hosts_that_did_not_succeed(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "ph",
        """steps:
  - {id: fix, kind: ssh, targets: web, command: fail-once-on h3, register: fixed}
  - {id: count, kind: ssh, targets: h1, command: "echo {{ fixed.ok_hosts | length }}"}
""",
    )
    code, out = _run(respond, "ph")
    assert code == 1, out
    first = _calls("fail-once-on h3")
    succeeded = set(first) - {"h3"}  # the others were not started: the error budget was spent
    assert "h1" in succeeded and "h3" in first
    FakeShell.calls.clear()

    result = respond("resume", out["run_id"], "--json")
    assert result.rc == 0, result.stdout
    # only the hosts that had not succeeded were acted on; none that had was repeated
    again = _calls("fail-once-on h3")
    assert sorted(again) == sorted({f"h{i}" for i in range(1, 7)} - succeeded)
    assert "h3" in again and not succeeded & set(again)
    # and their kept results count in the step's verdict and its register
    assert _calls("echo 6") == ["h1"]
    fix = next(s for s in result.json()["steps"] if s["id"] == "fix")
    assert fix["status"] == "ok" and fix["ok"] == 6 and fix["hosts"] == 6
    store = _store(project)
    finished = [e for e in store.events(out["run_id"]) if e.kind == EventKind.STEP_FINISHED]
    assert finished[-2].step_id == "fix" and finished[-2].data["ok"] == 6
    assert store.verify(out["run_id"]).ok


def _crashed_mid_step(project: Path, respond: Cli, run_id: str, crashed: str) -> Any:
    """A copy of ``run_id`` whose record stops as a kill -9 would leave it: both hosts'
    intents are durable, h1's result is, h2's is not."""
    store = _store(project)
    events = store.events(run_id)
    cut = next(i for i, e in enumerate(events) if e.kind == EventKind.STEP_FINISHED)
    kept = [e for e in events[:cut] if not (e.kind == EventKind.HOST_RESULT and e.host == "h2")]
    store.create_run(crashed, {**store.meta(run_id), "runbook_text": store.runbook_text(run_id)})
    store.append(
        crashed,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in kept
        ],
    )
    return store


def test_yes_never_answers_run_again_after_an_unknown_outcome(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project,
        "uk",
        "steps:\n  - {id: push, kind: ssh, targets: 'h1:h2', command: echo pushed, "
        "confirm: Push the change?}\n",
    )
    code, out = _run(respond, "uk", "--yes")
    assert code == 0, out
    crashed = "20261123T000002Z-c0de"
    store = _crashed_mid_step(project, respond, out["run_id"], crashed)
    FakeShell.calls.clear()

    result = respond("resume", crashed, "--yes")
    assert result.rc == 3, result  # stopped at the question, as at a gate
    assert FakeShell.calls == []  # nothing ran: neither h2 (unknown) nor h1 (done)
    message = " ".join(result.output.split())
    assert "step 1 (push) may already have run on h2 (outcome unknown)" in message
    assert "'rerun: {push: yes}'" in message and f"respond resume {crashed} --answers" in message
    last = store.events(crashed)[-1]
    assert last.kind == EventKind.RUN_FINISHED and last.data["resumable"] is True

    answers = tmp_path / "rerun.yaml"
    answers.write_text("rerun:\n  push: yes\n")
    result = respond("resume", crashed, "--yes", "--answers", str(answers), "--json")
    assert result.rc == 0, result
    assert FakeShell.calls == [("h2", "echo pushed")]  # h1 had finished: kept, not repeated
    decisions = [e for e in store.events(crashed) if e.kind == EventKind.GATE_CONFIRMED]
    assert [d.data["by"] for d in decisions if d.data["question"] == "rerun"] == ["answers file"]
    assert store.verify(crashed).ok


def test_an_idempotent_step_is_repeated_on_unsure_hosts_without_asking(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "ik",
        "steps:\n  - {id: look, kind: ssh, targets: 'h1:h2', command: echo look, "
        "idempotent: true}\n",
    )
    code, out = _run(respond, "ik")
    assert code == 0, out
    _crashed_mid_step(project, respond, out["run_id"], "20261123T000003Z-1dem")
    FakeShell.calls.clear()
    result = respond("resume", "20261123T000003Z-1dem")
    assert result.rc == 0, result
    assert FakeShell.calls == [("h2", "echo look")]


# -- resume trusts only what the record proves ---------------------------------------------


def test_resume_refuses_a_run_whose_stored_runbook_was_changed(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "tm",
        "steps:\n  - {id: a, kind: ssh, targets: h1, command: fail-on h1}\n",
    )
    code, out = _run(respond, "tm")
    assert code == 1
    store = _store(project)
    text = store.runbook_text(out["run_id"])
    db = sqlite3.connect(store.location)
    with db:
        db.execute(
            "UPDATE runs SET runbook_text = ? WHERE run_id = ?",
            (text.replace("fail-on h1", "rm -rf /srv"), out["run_id"]),
        )
    db.close()
    FakeShell.calls.clear()
    result = respond("resume", out["run_id"])
    assert result.rc == 1, result
    assert f"run {out['run_id']} cannot be resumed: its record fails verification" in (
        result.stderr
    )
    assert "TAMPERED" in result.stderr and "runbook" in result.stderr
    assert FakeShell.calls == []
    assert not any(e.kind == EventKind.RUN_RESUMED for e in store.events(out["run_id"]))


def test_resume_refuses_a_run_whose_events_were_changed(project: Path, respond: Cli) -> None:
    write_runbook(
        project, "te", "steps:\n  - {id: a, kind: ssh, targets: h1, command: fail-on h1}\n"
    )
    code, out = _run(respond, "te")
    assert code == 1
    store = _store(project)
    db = sqlite3.connect(store.location)
    with db:
        db.execute(
            "UPDATE events SET data = replace(data, 'fail-on', 'all-fine') "
            "WHERE run_id = ? AND kind = 'host-intent'",
            (out["run_id"],),
        )
    db.close()
    FakeShell.calls.clear()
    result = respond("resume", out["run_id"])
    assert result.rc == 1, result
    assert "cannot be resumed: its record fails verification" in result.stderr
    assert "TAMPERED" in result.stderr and FakeShell.calls == []


def test_resume_builds_no_path_from_stored_data(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project, "np", "steps:\n  - {id: a, kind: ssh, targets: h1, command: fail-once-on h1}\n"
    )
    code, out = _run(respond, "np")
    assert code == 1
    store = _store(project)
    escape = tmp_path / "escaped"
    escape.mkdir()
    # a crafted runbook name in the run's record must never become a file path: the
    # record is refused (its run record is part of the chain) and nothing is written
    meta = store.meta(out["run_id"])
    meta["runbook"] = "../" * 12 + str(escape / "pwned").lstrip("/")
    db = sqlite3.connect(store.location)
    with db:
        db.execute("UPDATE runs SET meta = ? WHERE run_id = ?", (json.dumps(meta), out["run_id"]))
    db.close()
    FakeShell.calls.clear()
    result = respond("resume", out["run_id"], "--json")
    assert result.rc == 1, result
    assert "its record fails verification" in result.stderr
    assert list(escape.iterdir()) == [] and FakeShell.calls == []


# -- nothing recorded is lost --------------------------------------------------------------


def test_a_run_whose_results_cannot_be_recorded_stops_and_resumes(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project,
        "rw",
        "steps:\n  - {id: one, kind: ssh, targets: h1, command: echo one}\n"
        "  - {id: two, kind: ssh, targets: h1, command: echo two}\n",
    )
    store = _store(project)
    db = sqlite3.connect(store.location, isolation_level=None)
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'host-result' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    result = respond("run", "rw")
    assert result.rc == 130, result
    message = " ".join(result.stderr.split())
    assert "the run record could not be written after 5 attempts" in message
    assert "disk says no" in message and "run stopped before its next action" in message
    assert "respond resume" in message and "Traceback" not in message
    assert FakeShell.calls == [("h1", "echo one")]  # step two never started

    db.execute("DROP TRIGGER refuse")
    db.close()
    (run,) = store.runs()
    answers = tmp_path / "a.yaml"
    answers.write_text("rerun:\n  one: yes\n")  # its result never reached the disk: unknown
    resumed = respond("resume", run.run_id, "--answers", str(answers))
    assert resumed.rc == 0, resumed
    assert FakeShell.calls == [("h1", "echo one"), ("h1", "echo one"), ("h1", "echo two")]
    assert store.verify(run.run_id).ok
