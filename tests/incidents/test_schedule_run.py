"""`respond schedule run`: an incident left open with no process escalates from the periodic
entry point, exactly once per passed deadline, on SQLite and on a real PostgreSQL server,
through the real command in a child process. The incident is opened by the book in the test
process; `--now` moves the command's time instead of a sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clikit import Cli

from respond.clock import ManualClock, iso
from respond.config import load_config
from respond.incidents import book_for
from respond.timeline import Store

# Opened ten minutes ago, so every deadline below lies ahead of the real clock: the command
# only reaches it through --now.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


def at(hours: float) -> str:
    return iso(T0 + timedelta(hours=hours))


def open_incident(store: Store, project: Path, *, title: str = "UPS 告警 / UPS alarm") -> str:
    book = book_for(store, load_config(project), clock=ManualClock(T0))
    return book.open(
        title=title,
        runbook="power-outage",
        version="1.0.0",
        scenario="power",
        severity=2,
        detected_at=T0,
        reported_by="值班员 Li",
        site="机房 A",
        description="UPS on battery",
        operator="Zhang Wei",
    )


def kinds(store: Store, incident_id: str) -> list[str]:
    return [str(e.kind) for e in store.events(incident_id)]


def test_an_open_incident_escalates_once_per_deadline(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incident = open_incident(store, project)
    cli = respond.bind(cwd=project)

    # 1 h: nobody acknowledged → the respond deadline is missed (level 2 has a level above,
    # but a missed respond clock is recorded, not escalated)
    first = cli("schedule", "run", "--now", at(2), "--json")
    assert first.rc == 0, first
    (missed,) = first.json()["actions"]
    assert (missed["subject"], missed["kind"]) == (incident, "deadline-missed")
    assert missed["data"]["clock"] == "respond" and missed["data"]["due"] == at(1)

    # 8 h at level 2 without restore → escalated to level 1, at the deadline's own time
    second = cli("schedule", "run", "--now", at(9))
    assert second.rc == 0, second
    (line,) = second.stdout.splitlines()
    assert line.startswith(f"{incident}: escalated level 2 → 1 (not restored within 8h")
    # the new level is told (the default policy's terminal channel here), then the count
    told, count = second.stderr.splitlines()
    assert told.startswith("NOTIFY [terminal]") and "escalated from level 2" in told
    assert count == f"{_local(at(9))}: 1 action(s) recorded"
    again = cli("schedule", "run", "--now", at(9))
    assert (again.rc, again.stdout, again.stderr) == (0, "", f"{_local(at(9))}: nothing due\n")

    # level 1's own 4 h run from the escalation: at 12 h the last deadline is missed, reported up
    third = cli("schedule", "run", "--now", at(13), "--json").json()
    (last,) = third["actions"]
    assert last["kind"] == "deadline-missed" and last["data"]["clock"] == "restore"
    assert (last["data"]["level"], last["data"]["due"]) == (1, at(12))
    assert cli("schedule", "run", "--now", at(30), "--json").json()["actions"] == []

    recorded = kinds(store, incident)
    assert recorded.count("escalated") == 1 and recorded.count("deadline-missed") == 2
    sent = [e.data["event"] for e in store.events(incident) if e.kind == "notification-sent"]
    assert sent.count("escalated") == 1 and sent.count("missed") == 2, sent
    escalated = next(e for e in store.events(incident) if e.kind == "escalated")
    assert escalated.actor == "respond" and escalated.data["automatic"] is True
    assert escalated.data["at"] == at(8) and (escalated.data["from"], escalated.data["to"]) == (
        2,
        1,
    )
    cli("timeline", "verify", incident, check=True)


def test_two_schedules_at_once_record_one_escalation(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incidents = [open_incident(store, project, title=f"fault {n}") for n in range(3)]
    cli = respond.bind(cwd=project)
    with (
        cli.spawn("schedule", "run", "--now", at(9), "--json") as one,
        cli.spawn("schedule", "run", "--now", at(9), "--json") as two,
    ):
        results = [one.wait(), two.wait()]
    assert all(r.rc == 0 for r in results), results
    done = [a for r in results for a in r.json()["actions"]]
    # per incident: the respond deadline missed once, one escalation: whoever came first
    assert len(done) == 2 * len(incidents), done
    for incident in incidents:
        recorded = kinds(store, incident)
        assert (recorded.count("escalated"), recorded.count("deadline-missed")) == (1, 1)
    cli("timeline", "verify", check=True)


def test_dry_run_records_nothing(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incident = open_incident(store, project)
    cli = respond.bind(cwd=project)
    before = kinds(store, incident)
    dry = cli("schedule", "run", "--now", at(9), "--dry-run")
    assert dry.rc == 0, dry
    assert dry.stdout.splitlines() == [
        f"{incident}: respond deadline would be missed at level 2 (due "
        f"{_local(at(1))}, nobody acknowledged)",
        f"{incident}: would be escalated level 2 → 1 (not restored within 8h at level 2; due "
        f"{_local(at(8))})",
    ]
    assert dry.stderr == f"{_local(at(9))}: dry run: 2 action(s) due, nothing recorded\n"
    assert kinds(store, incident) == before
    real = cli("schedule", "run", "--now", at(9), "--json").json()
    assert [a["kind"] for a in real["actions"]] == ["deadline-missed", "escalated"]


def test_now_is_never_before_a_recorded_deadline(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incident = open_incident(store, project)
    cli = respond.bind(cwd=project)
    cli("schedule", "run", "--now", at(9), check=True)
    back = cli("schedule", "run", "--now", at(5))
    assert back.rc == 2, back
    assert f"is earlier than a deadline already recorded ({incident}, due" in back.stderr
    assert "Traceback" not in back.stderr
    bad = cli("schedule", "run", "--now", "soon")
    assert bad.rc == 2 and bad.stderr.startswith("error: --now: not a time"), bad


def test_status_names_the_next_clock(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incident = open_incident(store, project)
    cli = respond.bind(cwd=project)
    (due,) = cli("schedule", "status", "--json", check=True).json()
    assert (due["subject"], due["what"], due["due"]) == (incident, "respond", at(1))
    cli("ack", incident, "--at", iso(T0 + timedelta(minutes=5)), check=True)
    (due,) = cli("schedule", "status", "--json", check=True).json()
    assert (due["what"], due["due"]) == ("restore (level 2)", at(8))
    shown = cli("schedule", "status", "--now", at(9), check=True)
    assert shown.stdout.startswith(f"{_local(at(8))}  (overdue by 1h)  {incident}  restore")


def test_a_record_that_cannot_be_checked_leaves_the_others_checked(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    store = make_store()
    incident = open_incident(store, project)
    # a summary row whose incident record is missing: the check of it fails, the rest runs
    with store._transaction() as tx:
        tx.execute(
            "INSERT INTO incidents (incident_id, detected, status, next_due, summary) "
            "VALUES (?, ?, 'open', ?, '{}')",
            ("INC-00000000T000000Z-0000", at(-1), at(-1)),
        )
    ran = respond("schedule", "run", "--now", at(9), "--json", cwd=project)
    assert ran.rc == 1, ran
    actions = ran.json()["actions"]
    failed = [a for a in actions if a["failed"]]
    assert [a["subject"] for a in failed] == ["INC-00000000T000000Z-0000"]
    assert failed[0]["text"].startswith("INC-00000000T000000Z-0000: not checked: ")
    assert [a["kind"] for a in actions if a["subject"] == incident] == [
        "deadline-missed",
        "escalated",
    ]
    assert "Traceback" not in ran.stderr, ran
    shown = respond("schedule", "run", "--now", at(9), cwd=project)
    assert shown.rc == 1, shown
    assert shown.stdout.startswith("INC-00000000T000000Z-0000: not checked: ")
    assert shown.stderr.endswith("nothing due; 1 record(s) could not be checked\n"), shown
    assert "warning: checking the deadlines of INC-00000000T000000Z-0000 failed\n" in shown.stderr


def _local(ts: str) -> str:
    from respond.timeline.export import local_time

    return local_time(ts)
