"""Two processes acting on one run, and commits that fail: against SQLite and a real
PostgreSQL server. A take-over fences the old holder's writes out in the same transaction
as the insert; a failed commit keeps what it carried and is retried, then stops the run."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clikit import wait_until
from timeline_helpers import sample_meta

from respond.engine.journal import Journal
from respond.errors import LockLost, RecordUnwritable
from respond.events import EventDraft, EventKind
from respond.secrets import Masker
from respond.timeline import Store, new_run_id


def _note(text: str) -> EventDraft:
    return EventDraft(kind=EventKind.NOTE, actor="op", data={"text": text})


def test_a_stolen_run_refuses_the_old_holders_writes(store: Store) -> None:
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    with store.lock(rid, "first") as first:
        mine = store.recorder(rid, lock=first)
        mine.record([_note("before")])
        with store.lock(rid, "second", steal=True) as second:
            theirs = store.recorder(rid, lock=second)
            with pytest.raises(LockLost) as lost:
                mine.record([_note("after the take-over")])
            assert f"run {rid} held by another process (second pid {os.getpid()}" in str(lost.value)
            assert str(lost.value).endswith(": stopping")
            assert lost.value.exit_code == 4
            theirs.record([_note("the new holder writes")])
        # released by its new holder: still not the old holder's again
        with pytest.raises(LockLost):
            mine.record([_note("after the release")])
    texts = [e.data.get("text") for e in store.events(rid) if e.kind == EventKind.NOTE]
    assert texts == ["before", "the new holder writes"]
    assert [e.kind for e in store.events(rid)].count(EventKind.LOCK_TAKEN) == 1
    assert store.verify(rid).ok


def test_the_old_holders_heartbeat_sees_the_loss(store: Store) -> None:
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    with store.lock(rid, "first", heartbeat=0.05) as first:
        assert not first.lost
        with store.lock(rid, "second", steal=True):
            wait_until(lambda: first.lost, "the first holder's heartbeat to notice the take-over")


# -- commits that fail -------------------------------------------------------------------------


class Blocker:
    """Makes the run's commits fail until released: on SQLite a trigger refuses host results;
    on PostgreSQL another session holds the run's row, so a write waits out the statement
    timeout."""

    def __init__(self, store: Store, backend: str, run_id: str) -> None:
        self.backend, self.run_id = backend, run_id
        self.conn: Any = None
        if backend == "sqlite":
            self.conn = sqlite3.connect(store.location, isolation_level=None)
        else:
            import psycopg

            self.conn = psycopg.connect(os.environ["RESPOND_DB"])

    def on(self) -> None:
        if self.backend == "sqlite":
            self.conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'host-result' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            self.conn.execute("SELECT 1 FROM runs WHERE run_id = %s FOR UPDATE", (self.run_id,))

    def off(self) -> None:
        if self.backend == "sqlite":
            self.conn.execute("DROP TRIGGER refuse")
        else:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def blocked(
    store: Store, backend: str, make_store: Callable[..., Store]
) -> Iterator[tuple[Store, Blocker, str]]:
    """A store whose writes wait at most 0.3 s, a run in it, and a blocker for that run."""
    if backend == "postgres":
        from respond.timeline.postgres import PostgresStore

        url = os.environ["RESPOND_DB"] + "?options=-c%20statement_timeout%3D300"
        store = PostgresStore(url)
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    blocker = Blocker(store, backend, rid)
    yield store, blocker, rid
    blocker.close()


def _host_result() -> EventDraft:
    return EventDraft(kind=EventKind.HOST_RESULT, step_id="s", host="h1", data={"status": "ok"})


def _intent() -> EventDraft:
    return EventDraft(kind=EventKind.HOST_INTENT, step_id="t", host="h1", data={"attempt": 1})


def test_a_failed_commit_is_retried_and_keeps_the_deferred_results(
    blocked: tuple[Store, Blocker, str],
) -> None:
    store, blocker, rid = blocked
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            blocker.off()  # the database is back before the third attempt

    journal = Journal(store.recorder(rid), Masker([]), "op", pause=pause)
    journal.record(_host_result(), defer=True)
    blocker.on()
    journal.record(_intent())
    assert pauses == [0.2, 0.4]
    assert [(e.kind, e.step_id) for e in store.events(rid)] == [
        (EventKind.HOST_RESULT, "s"),
        (EventKind.HOST_INTENT, "t"),
    ]
    assert journal.pending == 0


def test_a_commit_that_keeps_failing_stops_the_run_and_loses_nothing(
    blocked: tuple[Store, Blocker, str],
) -> None:
    store, blocker, rid = blocked
    pauses: list[float] = []
    journal = Journal(store.recorder(rid), Masker([]), "op", pause=pauses.append)
    journal.record(_host_result(), defer=True)
    blocker.on()
    with pytest.raises(RecordUnwritable) as stopped:
        journal.record(_intent())
    assert pauses == [0.2, 0.4, 0.8, 1.6]
    assert "could not be written after 5 attempts" in str(stopped.value)
    assert "run stopped before its next action" in str(stopped.value)
    assert stopped.value.exit_code == 130
    assert store.events(rid) == []  # the intent was never durable: its action never ran
    assert journal.pending == 1  # the host result is still held, not dropped
    blocker.off()
    journal.flush()
    assert [e.kind for e in store.events(rid)] == [EventKind.HOST_RESULT]


@pytest.mark.postgres
def test_postgres_sessions_commit_synchronously_with_a_statement_timeout(
    pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from respond.timeline.postgres import PostgresStore

    url = pg_server.create_db()
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            # a database that trades durability for speed must not weaken the record
            admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        with psycopg.connect(url) as plain:
            assert plain.execute("SHOW synchronous_commit").fetchone() == ("off",)
        store = PostgresStore(url)
        with store._transaction() as tx:  # the store's own session
            assert tx.query("SHOW synchronous_commit") == [("on",)]
            assert tx.query("SHOW statement_timeout") == [("30s",)]
        store.close()
        chosen = PostgresStore(url + "?options=-c%20statement_timeout%3D5min")
        with chosen._transaction() as tx:
            assert tx.query("SHOW statement_timeout") == [("5min",)]
        chosen.close()
    finally:
        pg_server.drop_db(url)
