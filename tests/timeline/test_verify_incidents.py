"""`timeline verify` over incident records and the columns beside the chain, on SQLite and
PostgreSQL: each edit made directly in SQL is found (and `respond timeline verify` exits 1);
a database written by schema 4 upgrades in place to incidents."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clikit import Cli
from timeline_helpers import record_legacy_run, record_sample_run, rows, sql

from respond.clock import ManualClock
from respond.config import load_config
from respond.incidents import IncidentBook
from respond.timeline import Store, open_store
from respond.timeline.migrations import LATEST

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
LIMITS = {level: {"respond": 3600.0, "restore": 3600.0 * 4 * level} for level in (1, 2, 3, 4)}


@pytest.fixture
def respond(project: Path) -> Cli:
    return Cli(in_process=True, cwd=project)


def incident(store: Store, *, resolve: bool = False) -> str:
    book = IncidentBook(store, clock=ManualClock(T0), limits=LIMITS)
    inc = book.open(
        title="UPS 告警",
        runbook="power-outage",
        version="1.2.0",
        scenario="power",
        severity=2,
        detected_at=T0,
        reported_by="guard",
        site="A栋",
        description="UPS on battery",
        operator="zhang",
    )
    book.ack(inc, by="li")
    book.note(inc, "电工已到 electrician on site", by="li")
    if resolve:
        book.resolve(inc, by="li", cause="mains cut", prevention="second feed")
    return inc


def assert_tampered(respond: Cli, record: str, problem: str, detail: str) -> None:
    code, out, _ = respond("timeline", "verify", record)
    assert code == 1, out
    assert f"{record}: TAMPERED — {problem}" in out and detail in out


def test_an_incident_record_verifies(store: Store, respond: Cli) -> None:
    open_one, closed = incident(store), incident(store, resolve=True)
    first, second = store.verify(open_one), store.verify(closed)
    assert (first.ok, first.verdict, first.failed) == (True, "in progress", False)
    assert "incident open" in first.detail
    assert (second.ok, second.verdict) == (True, "intact")
    code, out, _ = respond("timeline", "verify")
    assert code == 0, out
    assert f"{closed}: intact" in out and f"{open_one}: in progress" in out


def test_an_edited_summary_is_found(store: Store, respond: Cli) -> None:
    inc = incident(store)
    with store._read() as tx:
        summary = json.loads(tx.query("SELECT summary FROM incidents")[0][0])
    summary["respond_met"], summary["acked_by"] = True, "boss"
    sql(store, "UPDATE incidents SET summary = ?", json.dumps(summary))
    assert_tampered(respond, inc, "summary changed", "in: acked_by")


def test_an_edited_status_column_is_found(store: Store, respond: Cli) -> None:
    """Hiding an incident from the schedule (status) is an edit like any other."""
    inc = incident(store)
    sql(store, "UPDATE incidents SET status = 'resolved', next_due = NULL")
    assert_tampered(respond, inc, "summary changed", "incidents.status is 'resolved'")


def test_a_deleted_summary_row_is_found(store: Store, respond: Cli) -> None:
    inc = incident(store)
    sql(store, "DELETE FROM incidents")
    assert_tampered(respond, inc, "summary changed", "has no row for this incident")


def test_a_cut_tail_of_an_incident_is_found(store: Store, respond: Cli) -> None:
    """An incident never finishes; the ledger's checkpoint after each append holds its end."""
    inc = incident(store)
    last = rows(store, inc)[-1]["seq"]
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq = ?", inc, last)
    sql(store, "UPDATE incidents SET summary = summary")  # (the summary need not change)
    assert_tampered(respond, inc, "truncated", f"seq {last}")


def test_an_edited_outcome_column_is_found(store: Store, respond: Cli) -> None:
    rid = record_sample_run(store)
    sql(store, "UPDATE runs SET outcome = 'resolved' WHERE run_id = ?", rid)
    assert_tampered(
        respond, rid, "meta changed", "runs.outcome is 'resolved', the run's events give"
    )


@pytest.mark.parametrize(
    ("column", "value"), [("record", "incident"), ("incident", "INC-20261202T010000Z-0000")]
)
def test_edited_record_columns_are_found(
    store: Store, respond: Cli, column: str, value: str
) -> None:
    rid = record_sample_run(store)
    sql(store, f"UPDATE runs SET {column} = ? WHERE run_id = ?", value, rid)
    assert_tampered(respond, rid, "meta changed", f"runs.{column} differs from the run record")


def test_a_run_moved_to_another_incident_is_found(store: Store, respond: Cli) -> None:
    """A run's incident is in its anchored record: changing the column alone shows."""
    inc, other = incident(store), incident(store)
    rid = record_sample_run(store, incident=inc)
    assert store.run(rid).incident == inc and store.verify(rid).ok
    sql(store, "UPDATE runs SET incident = ? WHERE run_id = ?", other, rid)
    assert_tampered(respond, rid, "meta changed", "runs.incident differs")


def test_a_schema_4_database_upgrades_in_place(make_store: Callable[..., Store]) -> None:
    old = make_store(migrate=False)
    assert old.migrate(target=4) == [1, 2, 3, 4]
    rid = "20261101T010000Z-0a0a"
    finished = {"status": "succeeded", "outcome": "resolved"}
    record_legacy_run(old, rid, [("run-started", {}), ("run-finished", finished)])
    old.close()
    new = make_store()
    assert new.schema_version() == LATEST >= 5
    (info,) = new.runs()
    assert (info.run_id, info.outcome, info.incident) == (rid, "resolved", None)
    with new._read() as tx:
        assert tx.query("SELECT record, incident FROM runs") == [("run", None)]
    assert all(not r.failed for r in new.verify_all())
    inc = incident(new)  # and the upgraded store keeps incidents
    assert [s["incident_id"] for s in new.incident_summaries()] == [inc]
    assert new.verify(inc).ok


def test_timeline_list_shows_runs_and_show_takes_an_incident(store: Store, respond: Cli) -> None:
    inc = incident(store)
    rid = record_sample_run(store, incident=inc)
    listed = respond("timeline", "list", "--json", check=True).json()
    assert [r["run_id"] for r in listed] == [rid] and listed[0]["incident"] == inc
    shown = respond("timeline", "show", inc, "--json", check=True).json()
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds[:2] == ["incident-opened", "acknowledged"]
    assert shown["run"]["status"] == "open"  # not "interrupted": it never finishes like a run


def test_with_a_key_incidents_pass_and_a_rechained_one_is_found(
    make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incidents are not sealed: the signed ledger checkpoints hold them instead, so a
    configured key neither fails an incident nor lets a recomputed chain pass."""
    from timeline_helpers import rehash_from, rewrite_ledger

    monkeypatch.setenv("RESPOND_INCIDENT_KEY", "incident-key-" + "7" * 32)
    store = make_store("hmac:RESPOND_INCIDENT_KEY")
    closed, edited = incident(store, resolve=True), incident(store)
    code, out, _ = respond("timeline", "verify", closed)
    assert code == 0 and out.startswith(f"{closed}: intact (")
    sql(store, "UPDATE events SET actor = 'mallory' WHERE run_id = ? AND seq = 2", edited)
    rehash_from(store, edited, 2)
    rewrite_ledger(store, edited)  # the attacker has no key: the signatures go
    code, out, _ = respond("timeline", "verify", edited)
    assert code == 1, out
    assert out.startswith(f"{edited}: not sealed (") and "no signed ledger checkpoint" in out


def test_a_lock_taken_over_on_an_incident_keeps_it_verifying(
    make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of the incident holds the incident's lock; a take-over is journaled in the
    incident and its signed checkpoint moves with it."""
    monkeypatch.setenv("RESPOND_INCIDENT_KEY", "incident-key-" + "8" * 32)
    store = make_store("hmac:RESPOND_INCIDENT_KEY")
    inc = incident(store)
    with store.lock(inc), make_store("hmac:RESPOND_INCIDENT_KEY").lock(inc, steal=True):
        assert [e.kind for e in store.events(inc)][-1] == "lock-taken"
    code, out, _ = respond("timeline", "verify", inc)
    assert code == 0 and out.startswith(f"{inc}: in progress ("), out


def test_an_exported_incident_imports_with_its_summary(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    source = make_store()
    inc = incident(source, resolve=True)
    exported = source.export_run(inc)
    other_project = tmp_path / "elsewhere"
    other_project.mkdir()
    (other_project / "respond.yaml").write_text("project: other\n", encoding="utf-8")
    target = open_store(load_config(other_project), db_url=f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert target.import_run(exported).ok
        assert target.incident_summaries() == source.incident_summaries()
        assert target.runs() == [] and target.verify(inc).verdict == "intact"
    finally:
        target.close()


def test_a_summary_without_an_incident_is_found(store: Store, respond: Cli) -> None:
    """A row slipped into the incidents table would be counted by every report."""
    inc = incident(store)
    with store._read() as tx:
        detected, summary = tx.query("SELECT detected, summary FROM incidents")[0]
    fake = "INC-20261202T000000Z-f00d"
    sql(
        store,
        "INSERT INTO incidents (incident_id, detected, status, next_due, summary) "
        "VALUES (?, ?, 'resolved', NULL, ?)",
        fake,
        detected,
        summary.replace(inc, fake),
    )
    code, out, _ = respond("timeline", "verify")
    assert code == 1, out
    assert f"{fake}: TAMPERED — summary inserted" in out and f"{inc}: in progress" in out
