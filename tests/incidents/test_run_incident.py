"""`respond run` opens an incident (or joins one with --incident), keeps its clocks during the
run, and tells it how the run ended; `respond resume` re-links it. Through the real command,
on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clikit import Cli, wait_until

from respond.config import load_config
from respond.incidents import IncidentBook
from respond.timeline import open_store

QUICK = """runbook: quick
version: 1.0.0
title: 机房断电 power out
scenario: power
severity: 3
steps:
  - {id: look, name: look, kind: local, argv: [echo, look]}
"""

ASKS = """runbook: asks
version: 1.0.0
title: UPS
scenario: power
severity: 3
steps:
  - {id: look, name: look, kind: local, argv: [echo, look]}
  - {id: ups, name: UPS back?, kind: manual, prompt: "Is the UPS back? 电源恢复了吗"}
"""


def _events(project: Path, record_id: str) -> list[Any]:
    store = open_store(load_config(project))
    try:
        return list(store.events(record_id))
    finally:
        store.close()


def _cli(project: Path, respond: Cli) -> Cli:
    # RESPOND_DB (the PostgreSQL backend) comes from the test's environment
    return respond.bind(cwd=project, env={"RESPOND_HOME": str(project / ".respond")})


def test_a_run_detected_5h_ago_at_level_1_misses_its_deadline_at_once_and_resumes_linked(
    project: Path, backend: str, respond: Cli, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESPOND_HOME", str(project / ".respond"))
    (project / "runbooks" / "asks.yaml").write_text(ASKS, encoding="utf-8")
    cli = _cli(project, respond)
    first = cli(
        "run",
        "asks",
        "--detected-at",
        "-5h",
        "--severity",
        "1",
        "--operator",
        "Zhang Wei (on-call)",
        "--reported-by",
        "保安 guard",
        "--site",
        "A栋机房",
        "--description",
        "UPS alarm",
    )
    assert first.rc == 3, first  # unattended: the prompt has no answer
    assert "internal error" not in first.stderr
    run_id = first.stderr.split("run id: ", 1)[1].split()[0]
    incident = first.stderr.split("incident: ", 1)[1].split()[0]
    assert incident.startswith("INC-")

    run_events = _events(project, run_id)
    started = run_events[0].data
    assert (started["incident"], started["operator"], started["reported_by"], started["site"]) == (
        incident,
        "Zhang Wei (on-call)",
        "保安 guard",
        "A栋机房",
    )
    assert run_events[0].actor == "Zhang Wei (on-call)"
    missed = [e.data for e in run_events if e.kind == "deadline-missed"]
    # before the first step: the respond deadline (1 h) passed before the run acknowledged
    # the incident by attaching, 5 h after detection (late is missed, and reported); and
    # level 1's restore deadline (4 h) passed, with nothing above to escalate to
    assert [(m["clock"], m["level"], m["incident"]) for m in missed] == [
        ("respond", 1, incident),
        ("restore", 1, incident),
    ]
    kinds = [e.kind for e in run_events]
    assert kinds.index("deadline-missed") < kinds.index("step-started")
    assert "!! restore deadline missed at level 1" in first.stderr
    assert "!! respond deadline missed" in first.stderr
    assert "level 1 · respond: missed by 4h · restore: missed by 1h" in first.stderr

    answers = project / "answers.yaml"
    answers.write_text("ups: 'yes'\n", encoding="utf-8")
    resumed = cli("resume", run_id, "--answers", str(answers), "--json")
    assert resumed.rc == 0, resumed
    out = resumed.json()
    assert out["incident"]["id"] == incident
    assert out["incident"]["restore"] == "missed by 1h"
    resumed_event = next(e for e in _events(project, run_id) if e.kind == "run-resumed")
    assert resumed_event.data["incident"] == incident
    # nothing was due again: no second record of the same deadline
    assert len([e for e in _events(project, run_id) if e.kind == "deadline-missed"]) == 2

    in_incident = _events(project, incident)
    told = [(e.kind, e.data["event"]) for e in in_incident if e.kind.startswith("notification")]
    # people were told (the default chain: the run's terminal) when it opened, when the
    # deadlines were missed, and when the resumed run restored service
    assert told == [
        ("notification-sent", "opened"),
        ("notification-sent", "missed"),
        ("notification-sent", "missed"),
        ("notification-sent", "restored"),
    ]
    in_incident = [e for e in in_incident if not e.kind.startswith("notification")]
    assert [e.kind for e in in_incident] == [
        "incident-opened",
        "run-attached",
        "deadline-missed",  # respond: acknowledged 4 h late
        "deadline-missed",  # restore at level 1
        "run-ended",  # aborted at the prompt
        "run-ended",  # resumed: resolved, which restores the incident
    ]
    assert [e.data["outcome"] for e in in_incident if e.kind == "run-ended"] == [
        "aborted",
        "resolved",
    ]
    store = open_store(load_config(project))
    try:
        assert IncidentBook(store, limits={}).state(incident).summary()["status"] == "restored"
    finally:
        store.close()
    cli("timeline", "verify", run_id, check=True)


def _long_runbook(project: Path) -> Path:
    fifo = project / "release.fifo"
    os.mkfifo(fifo)
    (project / "runbooks" / "long.yaml").write_text(
        QUICK.replace("quick", "long").replace(
            "argv: [echo, look]", f'argv: [cat, "{fifo}"], timeout: 5m'
        ),
        encoding="utf-8",
    )
    return fifo


def test_incident_attaches_a_second_run_and_refuses_a_live_or_closed_one(
    project: Path, respond: Cli, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESPOND_HOME", str(project / ".respond"))
    (project / "runbooks" / "quick.yaml").write_text(QUICK, encoding="utf-8")
    fifo = _long_runbook(project)
    cli = _cli(project, respond)

    first = cli("run", "quick", "--json")
    assert first.rc == 0, first
    incident = first.json()["incident"]["id"]
    # by one of its runs' ids: the follow-up run joins the same incident
    second = cli("run", "quick", "--incident", first.json()["run_id"][:13], "--json")
    assert second.rc == 0, second
    assert second.json()["incident"]["id"] == incident
    attached = [e.data["run_id"] for e in _events(project, incident) if e.kind == "run-attached"]
    assert attached == [first.json()["run_id"], second.json()["run_id"]]
    assert _events(project, second.json()["run_id"])[0].data["incident"] == incident

    with cli.spawn("run", "long", "--incident", incident) as live:
        wait_until(
            lambda: (
                live.poll() is not None
                or len([e for e in _events(project, incident) if e.kind == "run-attached"]) == 3
            ),
            "the long run to attach",
        )
        assert live.poll() is None, live.wait()
        held = cli("run", "quick", "--incident", incident)
        assert held.rc == 4, held
        assert f"incident {incident} is being worked on by a live run" in held.stderr
        with open(fifo, "w", encoding="utf-8") as writer:
            writer.write("done\n")
        assert live.wait().rc == 0
    # the refused run left no run behind in the incident
    attached = [e for e in _events(project, incident) if e.kind == "run-attached"]
    assert len(attached) == 3

    store = open_store(load_config(project))
    try:
        IncidentBook(store, limits={}).resolve(
            incident, by="tester", cause="UPS module", prevention="spare module on site"
        )
    finally:
        store.close()
    closed = cli("run", "quick", "--incident", incident)
    assert closed.rc == 2, closed
    assert f"incident {incident} is resolved" in closed.stderr
    assert "Traceback" not in closed.stderr


def test_bad_incident_options_are_exit_2_before_anything_is_recorded(
    project: Path, respond: Cli, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESPOND_HOME", str(project / ".respond"))
    (project / "runbooks" / "quick.yaml").write_text(QUICK, encoding="utf-8")
    cli = _cli(project, respond)

    bad = cli("run", "quick", "--detected-at", "yesterday evening")
    assert bad.rc == 2, bad
    assert "--detected-at: not a time: 'yesterday evening'" in bad.stderr
    for form in ("'now'", "'-20m' (ago)", "'HH:MM'", "'YYYY-MM-DD HH:MM'", "offset"):
        assert form in bad.stderr
    assert len(bad.stderr.strip().splitlines()) <= 2  # the error (and a hint), no traceback

    ahead = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    future = cli("run", "quick", "--detected-at", ahead)
    assert future.rc == 2, future
    assert "in the future" in future.stderr

    drill = cli("run", "quick", "--drill", "--detected-at", "-5m")
    assert drill.rc == 2 and "a drill opens no incident" in drill.stderr, drill
    both = cli("run", "quick", "--incident", "INC-2026", "--site", "B")
    assert both.rc == 2 and "describe a new incident" in both.stderr, both
    unknown = cli("run", "quick", "--incident", "INC-1999")
    assert unknown.rc == 2, unknown
    assert "Traceback" not in unknown.stderr

    listed = cli("timeline", "list", "--json", check=True).json()
    assert listed == []  # nothing was recorded by any of them
