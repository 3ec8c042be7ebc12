"""Versioned schema migrations, the same for SQLite and PostgreSQL.

``schema_version`` holds one row per applied migration. Opening a store applies every
pending migration, each in its own transaction, so a database written by an older respond
is upgraded in place and never lost; a database written by a *newer* respond is refused.
A migration is a function of a ``MigrationContext`` (SQL with ``?`` placeholders and the
dialect's type names), so data migrations (backfills) are ordinary Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class MigrationContext(Protocol):
    dialect: str  # "sqlite" | "postgresql"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[MigrationContext], None]


def _types(ctx: MigrationContext) -> dict[str, str]:
    if ctx.dialect == "postgresql":
        return {"BLOB": "BYTEA", "INT": "BIGINT"}
    return {"BLOB": "BLOB", "INT": "INTEGER"}


def _m1_initial(ctx: MigrationContext) -> None:
    t = _types(ctx)
    ctx.execute(
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            meta TEXT NOT NULL,
            runbook_text TEXT
        )"""
    )
    ctx.execute(
        f"""CREATE TABLE events (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            seq {t["INT"]} NOT NULL,
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            step_id TEXT,
            host TEXT,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        )"""
    )
    ctx.execute(
        f"""CREATE TABLE artifacts (
            sha256 TEXT PRIMARY KEY,
            size {t["INT"]} NOT NULL,
            created TEXT NOT NULL,
            data {t["BLOB"]} NOT NULL
        )"""
    )
    ctx.execute(
        f"""CREATE TABLE locks (
            run_id TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            hostname TEXT NOT NULL,
            pid {t["INT"]} NOT NULL,
            pid_start TEXT,
            since TEXT NOT NULL,
            heartbeat TEXT NOT NULL,
            token TEXT NOT NULL
        )"""
    )


def _m2_run_columns(ctx: MigrationContext) -> None:
    """Columns the listing filters on, backfilled from each run's meta, plus indexes."""
    t = _types(ctx)
    ctx.execute("ALTER TABLE runs ADD COLUMN runbook TEXT")
    ctx.execute(f"ALTER TABLE runs ADD COLUMN drill {t['INT']}")
    ctx.execute("ALTER TABLE runs ADD COLUMN operator TEXT")
    for run_id, meta_text in ctx.query("SELECT run_id, meta FROM runs"):
        try:
            meta = json.loads(meta_text)
        except ValueError:
            meta = {}
        ctx.execute(
            "UPDATE runs SET runbook = ?, drill = ?, operator = ? WHERE run_id = ?",
            (
                meta.get("runbook") or meta.get("runbook_id"),
                1 if meta.get("drill") else 0,
                meta.get("operator"),
                run_id,
            ),
        )
    ctx.execute("CREATE INDEX runs_runbook ON runs (runbook)")
    ctx.execute("CREATE INDEX events_kind ON events (run_id, kind)")


def _m3_ledger(ctx: MigrationContext) -> None:
    """The store's ledger (see ``respond.timeline.ledger``). Runs already in the store are
    entered once, as ``migrated``, with where they stand now: the ledger can vouch for them
    only from this moment on, and these entries are not signed (a migration has no key)."""
    from respond.timeline import ledger
    from respond.timeline.chain import is_finished, run_digest
    from respond.timeline.lock import utc_now

    t = _types(ctx)
    ctx.execute(
        f"""CREATE TABLE ledger (
            seq {t["INT"]} PRIMARY KEY,
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            run_id TEXT NOT NULL,
            last_seq {t["INT"]},
            last_hash TEXT,
            anchor TEXT,
            meta_digest TEXT,
            sealed {t["INT"]} NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            key_id TEXT,
            signature TEXT
        )"""
    )
    ctx.execute("CREATE INDEX ledger_run ON ledger (run_id)")
    runs = ctx.query(
        "SELECT run_id, created, meta, runbook_text FROM runs ORDER BY created, run_id"
    )
    for run_id, created, meta_text, text in runs:
        try:
            meta = json.loads(meta_text)
        except ValueError:
            meta = {}
        rows = [
            {"seq": int(r[0]), "kind": r[1], "prev_hash": r[2], "hash": r[3]}
            for r in ctx.query(
                "SELECT seq, kind, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        digest = run_digest(run_id, created, meta, text)
        done = is_finished(rows)
        ledger.append(
            ctx,
            ts=utc_now(),
            kind="migrated",
            run_id=run_id,
            last_seq=rows[-1]["seq"] if done else None,
            last_hash=rows[-1]["hash"] if done else None,
            anchor=rows[0]["prev_hash"] if rows else digest,
            meta_digest=digest,
            sealed=done and rows[-1]["kind"] == "sealed",
        )


def _m4_run_outcome(ctx: MigrationContext) -> None:
    """``runs.outcome``: what the run's last end said (resolved, no-fault, unresolved,
    aborted, failed), for listings and reports. Like a run's status it is not part of the
    run's anchor: it changes when a run is resumed. Backfilled from each run's last
    run-finished event (runs recorded before outcomes existed keep none)."""
    ctx.execute("ALTER TABLE runs ADD COLUMN outcome TEXT")
    rows = ctx.query(
        "SELECT run_id, kind, data FROM events WHERE kind IN (?, ?) ORDER BY run_id, seq",
        ("run-finished", "run-resumed"),
    )
    by_run: dict[str, list[tuple[str, Any]]] = {}
    for run_id, kind, data_text in rows:
        try:
            data = json.loads(data_text) if isinstance(data_text, str) else dict(data_text)
        except (ValueError, TypeError):
            data = {}
        by_run.setdefault(run_id, []).append((kind, data))
    for run_id, events in by_run.items():
        _, outcome = outcome_after(events)
        if outcome is not None:
            ctx.execute("UPDATE runs SET outcome = ? WHERE run_id = ?", (outcome, run_id))


def _m5_incidents(ctx: MigrationContext) -> None:
    """Incident records (issue 11). ``runs.record`` says what a record is (``run`` or
    ``incident``; every existing one is a run), ``runs.incident`` which incident a run belongs
    to. ``incidents`` holds each incident's summary, rewritten in the transaction of every
    append to it, so reports and the schedule read one row per incident, never the events."""
    ctx.execute("ALTER TABLE runs ADD COLUMN record TEXT")
    ctx.execute("ALTER TABLE runs ADD COLUMN incident TEXT")
    ctx.execute("UPDATE runs SET record = 'run'")
    ctx.execute("CREATE INDEX runs_record ON runs (record)")
    ctx.execute("CREATE INDEX runs_incident ON runs (incident)")
    ctx.execute(
        """CREATE TABLE incidents (
            incident_id TEXT PRIMARY KEY,
            detected TEXT NOT NULL,
            status TEXT NOT NULL,
            next_due TEXT,
            summary TEXT NOT NULL
        )"""
    )
    ctx.execute("CREATE INDEX incidents_detected ON incidents (detected)")
    ctx.execute("CREATE INDEX incidents_due ON incidents (status, next_due)")


def _m6_drill_occurrences(ctx: MigrationContext) -> None:
    # One row per scheduled occurrence of a drill that some process took on: the primary key
    # is what makes two `drill due --run` at once run an occurrence once.
    ctx.execute(
        """CREATE TABLE drill_occurrences (
            drill TEXT NOT NULL,
            occurrence TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            token TEXT NOT NULL,
            run_id TEXT,
            detail TEXT,
            PRIMARY KEY (drill, occurrence)
        )"""
    )


def outcome_after(events: Sequence[tuple[str, Any]]) -> tuple[bool, str | None]:
    """(changed, outcome): what ``runs.outcome`` becomes after ``events`` (kind, data) of
    one run: the outcome of its last run-finished, or None after a run-resumed (the resumed
    run's end decides); ``changed`` is false when no event touches it."""
    changed, outcome = False, None
    for kind, data in events:
        if kind == "run-finished":
            found = (data or {}).get("outcome")
            changed, outcome = True, None if found is None else str(found)
        elif kind == "run-resumed":
            changed, outcome = True, None
    return changed, outcome


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, events, artifacts, locks", _m1_initial),
    Migration(2, "runs.runbook/drill/operator columns (backfilled) and indexes", _m2_run_columns),
    Migration(3, "the store's ledger of runs (existing runs entered as migrated)", _m3_ledger),
    Migration(4, "runs.outcome column (backfilled from run-finished events)", _m4_run_outcome),
    Migration(5, "incident records: runs.record/incident columns, incidents table", _m5_incidents),
    Migration(
        6, "drill_occurrences: which scheduled drill occurrence was taken on", _m6_drill_occurrences
    ),
)
LATEST = MIGRATIONS[-1].version
