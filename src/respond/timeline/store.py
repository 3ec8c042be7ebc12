"""The journal store: runs, chained events, artifacts and locks over SQL.

One ``Store`` class holds every query; ``SqliteStore`` and ``PostgresStore`` only supply a
connection, transactions and error translation. SQL is written with ``?`` placeholders.
Events are append-only: the store never updates or deletes one.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from respond.clock import iso
from respond.errors import LockLost, RunLocked, TimelineError, UnknownRun
from respond.events import EventDraft, EventKind, RunEvent
from respond.incident_state import fold
from respond.results import RunStatus
from respond.timeline import ledger
from respond.timeline.chain import (
    GENESIS,
    IN_PROGRESS,
    INTACT,
    NOT_SEALED,
    TAMPERED,
    Signer,
    VerifyResult,
    event_hash,
    is_finished,
    meta_hash,
    normalise,
    run_digest,
    verify_rows,
)
from respond.timeline.configs import ConfigChange, config_change
from respond.timeline.lock import (
    Heartbeat,
    LockHandle,
    LockInfo,
    parse_ts,
    process_start,
    this_host,
    utc_now,
)
from respond.timeline.migrations import LATEST, MIGRATIONS, outcome_after

if TYPE_CHECKING:
    from respond.secrets import Masker

EVENT_COLUMNS = "run_id, seq, ts, kind, actor, step_id, host, data, prev_hash, hash"
_EVENT_FIELDS = EVENT_COLUMNS.split(", ")
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _event_dict(r: Sequence[Any]) -> dict[str, Any]:
    """An event's fields from a row whose first columns are ``EVENT_COLUMNS``."""
    return {
        "run_id": r[0],
        "seq": int(r[1]),
        "ts": r[2],
        "kind": r[3],
        "actor": r[4],
        "step_id": r[5],
        "host": r[6],
        "data": json.loads(r[7]),
        "prev_hash": r[8],
        "hash": r[9],
    }


def _run_status(raw: Any) -> str:
    """A run-finished event's status; one the vocabulary does not know is shown as written
    (a record from another tool or a later version), never silently turned into another."""
    try:
        return str(RunStatus(str(raw)))
    except ValueError:
        return str(raw or "unknown")


def new_run_id(now: datetime | None = None) -> str:
    """Sortable run id: UTC time plus 4 hex digits, e.g. ``20261123T051200Z-3fa2``."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def new_incident_id(now: datetime) -> str:
    """Sortable incident id: ``INC-`` + UTC opening time + 4 hex digits."""
    return f"INC-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


RECORD_RUN = "run"
RECORD_INCIDENT = "incident"
# A builder of drafts from a record's events, called with the record locked (``append_if``).
DraftBuilder = Callable[[list[RunEvent]], Sequence[EventDraft]]


def operator_identity() -> str:
    env = os.environ.get("RESPOND_OPERATOR")
    if env:
        return env
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{this_host()}"


def to_utc_iso(value: str | date | datetime | None, *, end: bool = False) -> str | None:
    """A bound for ``runs(since=, until=)``: a date means that whole day (UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise TimelineError(f"not a date or time: {text!r} (use YYYY-MM-DD[THH:MM])") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    suffix = "T23:59:59.999999Z" if end else "T00:00:00.000000Z"
    return value.isoformat() + suffix


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    run_id: str
    runbook: str | None
    version: str | None
    sha256: str | None
    title: str | None
    operator: str | None
    hostname: str | None
    drill: bool
    severity_initial: int | None
    severity_final: int | None
    severity_changes: tuple[dict[str, Any], ...]
    status: str
    outcome: str | None  # resolved | no-fault | unresolved | aborted | failed; None while running
    reason: str | None
    started: str | None
    ended: str | None
    duration_s: float | None
    events: int
    created: str
    meta: dict[str, Any] = field(default_factory=dict)
    lock: dict[str, Any] | None = None
    incident: str | None = None  # the incident this run belongs to (None: a drill, or older)
    inspection: str | None = None  # the inspection this run is (None: a runbook run or drill)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "runbook": self.runbook,
            "version": self.version,
            "sha256": self.sha256,
            "title": self.title,
            "operator": self.operator,
            "hostname": self.hostname,
            "drill": self.drill,
            "severity_initial": self.severity_initial,
            "severity_final": self.severity_final,
            "severity_changes": list(self.severity_changes),
            "status": self.status,
            "outcome": self.outcome,
            "reason": self.reason,
            "started": self.started,
            "ended": self.ended,
            "duration_s": self.duration_s,
            "events": self.events,
            "created": self.created,
            "lock": self.lock,
            "incident": self.incident,
            "inspection": self.inspection,
            "meta": self.meta,
        }


class Tx:
    """One transaction's cursor with ``?`` placeholders."""

    dialect = "sqlite"

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cursor.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql, [tuple(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, tuple(params))
        return list(self.cursor.fetchall())

    def lock_run(self, run_id: str) -> tuple[Any, ...]:
        """Serialise writers of one run; returns the run row ``(meta, runbook_text, record)``."""
        rows = self.query("SELECT meta, runbook_text, record FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise UnknownRun(f"no run {run_id!r} in the timeline")
        return rows[0]


class JournalRecorder:
    """The engine's route to the record (``respond.timeline.recorder.Recorder``).

    With a ``lease`` (the token of the run's lock this process took) every append checks,
    in its own transaction, that the lock is still ours: a process whose run was taken
    over gets ``LockLost`` instead of writing, and so stops before its next action."""

    def __init__(
        self, store: Store, run_id: str, masker: Masker | None = None, lease: str | None = None
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.masker = masker
        self.lease = lease

    def record(self, drafts: list[EventDraft]) -> list[RunEvent]:
        return self.store.append(self.run_id, drafts, masker=self.masker, lease=self.lease)

    def put_artifact(self, data: bytes) -> str:
        if self.masker is not None and self.masker.secrets:
            text = data.decode("utf-8", errors="surrogateescape")
            data = self.masker.mask(text).encode("utf-8", errors="surrogateescape")
        return self.store.put_artifact(data)


class Store:
    """The journal store. Subclasses provide ``_transaction``, ``_read`` and ``_translate``."""

    dialect = "sqlite"
    location = ""  # where the record lives, for messages

    def __init__(self, *, signer: Signer | None = None, signer_error: Exception | None = None):
        self._signer = signer
        self._signer_error = signer_error
        self._mutex = threading.RLock()

    # -- backend hooks ------------------------------------------------------------
    def _transaction(self) -> AbstractContextManager[Tx]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Tx]:
        return self._transaction()

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------
    def schema_version(self) -> int:
        with self._read() as tx:
            rows = tx.query("SELECT max(version) FROM schema_version")
        return int(rows[0][0] or 0)

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to ``target`` (default: all); returns those applied."""
        target = LATEST if target is None else target
        applied: list[int] = []
        with self._transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL, description TEXT)"
            )
        for migration in MIGRATIONS:
            if migration.version > target:
                break
            with self._transaction() as tx:
                self._lock_schema(tx)
                current = int(tx.query("SELECT max(version) FROM schema_version")[0][0] or 0)
                if current > LATEST:
                    raise TimelineError(
                        f"the timeline database at {self.location} has schema version {current}, "
                        f"newer than this respond understands ({LATEST})",
                        hint="upgrade respond to read it",
                    )
                if current >= migration.version:
                    continue
                migration.apply(tx)
                tx.execute(
                    "INSERT INTO schema_version (version, applied, description) VALUES (?, ?, ?)",
                    (migration.version, utc_now(), migration.description),
                )
                applied.append(migration.version)
        return applied

    def _lock_schema(self, tx: Tx) -> None:
        """Serialise concurrent migrators (SQLite's BEGIN IMMEDIATE already does)."""

    # -- signing ------------------------------------------------------------------
    @property
    def signer(self) -> Signer | None:
        if self._signer_error is not None:
            raise self._signer_error
        return self._signer

    # -- runs ---------------------------------------------------------------------
    def create_run(self, run_id: str, meta: dict[str, Any]) -> None:
        if not _RUN_ID_RE.match(run_id):
            raise TimelineError(f"invalid run id {run_id!r}")
        meta = dict(meta)
        text = meta.pop("runbook_text", None)
        if text is None:
            text = meta.pop("text", None)
        meta.setdefault("operator", operator_identity())
        meta.setdefault("hostname", this_host())
        meta = normalise(meta)
        _record_kind(meta)
        signer = self.signer  # a misconfigured key fails before the run exists
        created = utc_now()
        with self._transaction() as tx:
            if tx.query("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)):
                raise TimelineError(f"run {run_id} already exists")
            _insert_run(tx, run_id, created, meta, text)
            # The run's identity and record enter the chain: its first event chains to
            # this digest, and the ledger remembers it (see ``verify``).
            digest = run_digest(run_id, created, meta, text)
            self._lock_ledger(tx)
            ledger.append(
                tx,
                ts=created,
                kind="created",
                run_id=run_id,
                anchor=digest,
                meta_digest=digest,
                signer=signer,
            )

    def recorder(
        self, run_id: str, masker: Masker | None = None, lock: LockHandle | None = None
    ) -> JournalRecorder:
        """The engine's recorder; given the run's ``lock``, every write is fenced by it."""
        _ = self.signer  # a misconfigured signing key fails before any action
        with self._read() as tx:
            tx.lock_run(run_id)
        return JournalRecorder(self, run_id, masker, lease=lock.token if lock else None)

    def append(
        self,
        run_id: str,
        drafts: Sequence[EventDraft],
        masker: Masker | None = None,
        lease: str | None = None,
    ) -> list[RunEvent]:
        """Append ``drafts`` in one durable transaction; seals the run when it finishes
        and a signing key is configured. With ``lease`` (a lock token) the append happens
        only while that lock is still the run's, checked in the same transaction."""
        signer = self.signer
        with self._transaction() as tx:
            meta_row = tx.lock_run(run_id)
            if lease is not None:
                self._check_lease(tx, run_id, lease)
            return self._append_locked(tx, run_id, drafts, masker, meta_row, signer)

    def append_if(
        self, record_id: str, build: DraftBuilder, masker: Masker | None = None
    ) -> list[RunEvent]:
        """Append what ``build(events)`` returns for the record's events, in one transaction
        with the record locked: two processes deciding from the same events cannot both
        append (the second sees the first's events). ``build`` returning nothing appends
        nothing; raising rolls everything back."""
        signer = self.signer
        with self._transaction() as tx:
            meta_row = tx.lock_run(record_id)
            current = [RunEvent(**r) for r in self._event_rows(tx, record_id)]
            drafts = list(build(current))
            if not drafts:
                return []
            return self._append_locked(tx, record_id, drafts, masker, meta_row, signer)

    def _append_locked(
        self,
        tx: Tx,
        run_id: str,
        drafts: Sequence[EventDraft],
        masker: Masker | None,
        meta_row: tuple[Any, ...],
        signer: Signer | None,
    ) -> list[RunEvent]:
        events = self._append_tx(tx, run_id, drafts, masker)
        if not events:
            return events
        if meta_row[2] == RECORD_INCIDENT:
            # the summary moves with the events; the ledger learns where the record now
            # ends, so a cut tail of an incident (which never "finishes") still shows
            _write_summary(tx, run_id)
            self._checkpoint_tx(tx, run_id, events[-1], signer)
            return events
        _note_outcome(tx, run_id, [(e.kind, e.data) for e in events])
        if self._needs_seal(tx, run_id, events):
            if signer is not None:
                events += self._seal_tx(tx, run_id, signer, meta_row)
            self._checkpoint_tx(tx, run_id, events[-1], signer)
        return events

    def _checkpoint_tx(self, tx: Tx, run_id: str, last: RunEvent, signer: Signer | None) -> None:
        """Tell the ledger where a finished run stands, so a cut tail shows."""
        self._lock_ledger(tx)
        ledger.append(
            tx,
            ts=utc_now(),
            kind="checkpoint",
            run_id=run_id,
            last_seq=last.seq,
            last_hash=last.hash,
            sealed=last.kind == EventKind.SEALED,
            signer=signer,
        )

    def _lock_ledger(self, tx: Tx) -> None:
        """Serialise ledger writers (SQLite's BEGIN IMMEDIATE already does)."""

    def _append_tx(
        self,
        tx: Tx,
        run_id: str,
        drafts: Sequence[EventDraft],
        masker: Masker | None = None,
    ) -> list[RunEvent]:
        last = tx.query(
            "SELECT seq, hash FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
        )
        seq, prev = (int(last[0][0]), last[0][1]) if last else (0, ledger.anchor_of(tx, run_id))
        out: list[RunEvent] = []
        rows: list[tuple[Any, ...]] = []
        for d in drafts:
            seq += 1
            data: Any = d.data if d.data is not None else {}
            actor, step_id, host = d.actor, d.step_id, d.host
            if masker is not None:
                data = masker.mask(data)
                actor, step_id, host = (masker.mask(x) for x in (actor, step_id, host))
            data = normalise(data)
            row = {
                "run_id": run_id,
                "seq": seq,
                "ts": utc_now(),
                "kind": str(d.kind),
                "actor": str(actor),
                "step_id": step_id,
                "host": host,
                "data": data,
            }
            h = event_hash(prev, row)
            out.append(RunEvent(**row, prev_hash=prev, hash=h))
            rows.append(
                (
                    run_id,
                    seq,
                    row["ts"],
                    row["kind"],
                    row["actor"],
                    step_id,
                    host,
                    json.dumps(data, ensure_ascii=False),
                    prev,
                    h,
                )
            )
            prev = h
        if rows:
            tx.executemany(
                f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        return out

    def _needs_seal(self, tx: Tx, run_id: str, new: list[RunEvent]) -> bool:
        kinds = [e.kind for e in new]
        if EventKind.RUN_FINISHED in kinds:
            return kinds.index(EventKind.RUN_FINISHED) > _last_index(kinds, EventKind.RUN_RESUMED)
        if EventKind.RUN_RESUMED in kinds:
            return False
        rows = tx.query(
            "SELECT kind FROM events WHERE run_id = ? AND kind IN (?, ?) AND seq < ? "
            "ORDER BY seq DESC LIMIT 1",
            (run_id, str(EventKind.RUN_FINISHED), str(EventKind.RUN_RESUMED), new[0].seq),
        )
        return bool(rows) and rows[0][0] == EventKind.RUN_FINISHED

    def _seal_tx(
        self, tx: Tx, run_id: str, signer: Signer, meta_row: tuple[Any, ...]
    ) -> list[RunEvent]:
        last = tx.query(
            "SELECT seq, hash FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
        )
        seq, last_hash = int(last[0][0]), last[0][1]
        digest = meta_hash(json.loads(meta_row[0]), meta_row[1])
        signature = signer.sign(signer.payload(run_id, seq, last_hash, digest))
        draft = EventDraft(
            kind=EventKind.SEALED,
            data={
                "alg": signer.alg,
                "key_id": signer.key_id,
                "seq": seq,
                "hash": last_hash,
                "signature": signature,
            },
        )
        return self._append_tx(tx, run_id, [draft])

    def seal(self, run_id: str) -> RunEvent:
        """Seal a run now (normally automatic when it finishes)."""
        signer = self.signer
        if signer is None:
            raise TimelineError("no signing_key in respond.yaml: cannot seal")
        with self._transaction() as tx:
            meta_row = tx.lock_run(run_id)
            return self._seal_tx(tx, run_id, signer, meta_row)[0]

    # -- artifacts ----------------------------------------------------------------
    def put_artifact(self, data: bytes) -> str:
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        with self._transaction() as tx:
            if not tx.query("SELECT 1 FROM artifacts WHERE sha256 = ?", (sha,)):
                tx.execute(
                    "INSERT INTO artifacts (sha256, size, created, data) VALUES (?, ?, ?, ?)",
                    (sha, len(data), utc_now(), data),
                )
        return sha

    def get_artifact(self, sha: str) -> bytes:
        with self._read() as tx:
            rows = tx.query("SELECT data FROM artifacts WHERE sha256 = ?", (sha,))
        if not rows:
            raise TimelineError(f"no artifact {sha}")
        data = bytes(rows[0][0])
        if hashlib.sha256(data).hexdigest() != sha:
            raise TimelineError(f"artifact {sha} is corrupt (content does not match its hash)")
        return data

    def _damaged_artifact(self, rows: Sequence[dict[str, Any]]) -> tuple[str, str] | None:
        """(problem, detail) for the first artifact the events name (large outputs, the
        configurations before and after a config step) that is gone or no longer matches
        its sha256; the chain covers the sha256, this covers the bytes."""
        shas = sorted(_named_artifacts(rows))
        with self._read() as tx:
            for sha in shas:
                found = tx.query("SELECT data FROM artifacts WHERE sha256 = ?", (sha,))
                if not found:
                    return "artifact missing", f"artifact {sha[:12]} named by the record is gone"
                if hashlib.sha256(bytes(found[0][0])).hexdigest() != sha:
                    return "artifact changed", f"artifact {sha[:12]} no longer matches its sha256"
        return None

    def has_artifacts(self, shas: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._read() as tx:
            for sha in shas:
                if tx.query("SELECT 1 FROM artifacts WHERE sha256 = ?", (sha,)):
                    found.add(sha)
        return found

    # -- reading ------------------------------------------------------------------
    def resolve_run_id(self, prefix: str) -> str:
        prefix = prefix.strip()
        if not prefix:
            raise UnknownRun("empty run id")
        with self._read() as tx:
            exact = tx.query("SELECT run_id FROM runs WHERE run_id = ?", (prefix,))
            if exact:
                return str(exact[0][0])
            rows = tx.query(
                "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id",
                (prefix, prefix + "\U0010ffff"),
            )
        ids = [r[0] for r in rows if str(r[0]).startswith(prefix)]
        if not ids:
            raise UnknownRun(
                f"no run {prefix!r} in the timeline at {self.location}",
                hint="respond timeline list shows the runs",
            )
        if len(ids) > 1:
            shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
            raise UnknownRun(f"run id prefix {prefix!r} is ambiguous: {shown}")
        return str(ids[0])

    def _run_row(self, tx: Tx, run_id: str) -> tuple[str, dict[str, Any], str | None]:
        rows = tx.query("SELECT created, meta, runbook_text FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise UnknownRun(f"no run {run_id!r} in the timeline at {self.location}")
        created, meta, text = rows[0]
        return created, json.loads(meta), text

    def meta(self, run_id: str) -> dict[str, Any]:
        with self._read() as tx:
            return self._run_row(tx, run_id)[1]

    def runbook_text(self, run_id: str) -> str | None:
        with self._read() as tx:
            return self._run_row(tx, run_id)[2]

    def _event_rows(self, tx: Tx, run_id: str) -> list[dict[str, Any]]:
        rows = tx.query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        return [_event_dict(r) for r in rows]

    def events(self, run_id: str) -> list[RunEvent]:
        with self._read() as tx:
            self._run_row(tx, run_id)
            rows = self._event_rows(tx, run_id)
        return [RunEvent(**r) for r in rows]

    def run(self, run_id: str) -> RunInfo:
        with self._read() as tx:
            created, meta, _ = self._run_row(tx, run_id)
            rows = tx.query(
                "SELECT seq, ts, kind, data FROM events WHERE run_id = ? AND kind IN "
                "(?, ?, ?, ?, ?) ORDER BY seq",
                (run_id, *_KEY_KINDS),
            )
            stats = tx.query(
                "SELECT count(*), min(ts), max(ts) FROM events WHERE run_id = ?", (run_id,)
            )
            lock = self._lock_info(tx, run_id)
            status = tx.query("SELECT status FROM incidents WHERE incident_id = ?", (run_id,))
        count, first_ts, _ = stats[0]
        info = _derive(run_id, created, meta, rows, int(count or 0), first_ts, lock)
        if status:  # an incident has no run-finished: its own status says where it stands
            info = replace(info, status=str(status[0][0]))
        return info

    def runs(
        self,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        runbook: str | None = None,
        status: str | None = None,
        drill: bool | None = None,
        outcome: str | None = None,
        inspection: bool | None = None,
    ) -> list[RunInfo]:
        """The runs (never incident records), oldest first, filtered; ``inspection``: only
        inspection runs (True) or none of them (False)."""
        lo, hi = to_utc_iso(since), to_utc_iso(until, end=True)
        where = "record = ?"
        if drill:  # a drill never belongs to an incident: derive only runs of none
            where += " AND incident IS NULL"
        with self._read() as tx:
            infos = self._run_infos(tx, where, (RECORD_RUN,))
        out: list[RunInfo] = []
        for info in infos:
            started = info.started or info.created
            if (lo and started < lo) or (hi and started > hi):
                continue
            if runbook and info.runbook != runbook:
                continue
            if status and info.status != status:
                continue
            if outcome and info.outcome != outcome:
                continue
            if drill is not None and info.drill != drill:
                continue
            if inspection is not None and (info.inspection is not None) != inspection:
                continue
            out.append(info)
        return out

    def _run_infos(self, tx: Tx, where: str, params: Sequence[Any]) -> list[RunInfo]:
        """``RunInfo`` of the records ``where`` selects (a condition on ``runs``)."""
        runs = tx.query(
            f"SELECT run_id, created, meta FROM runs WHERE {where} ORDER BY run_id", params
        )
        inner = f"SELECT run_id FROM runs WHERE {where}"
        key: dict[str, list[tuple[Any, ...]]] = {}
        for run_id, seq, ts, kind, data in tx.query(
            "SELECT run_id, seq, ts, kind, data FROM events WHERE kind IN (?, ?, ?, ?, ?) "
            f"AND run_id IN ({inner}) ORDER BY run_id, seq",
            (*_KEY_KINDS, *params),
        ):
            key.setdefault(run_id, []).append((seq, ts, kind, data))
        stats = {
            r[0]: (int(r[1]), r[2])
            for r in tx.query(
                "SELECT run_id, count(*), min(ts) FROM events "
                f"WHERE run_id IN ({inner}) GROUP BY run_id",
                params,
            )
        }
        locks = {
            r[0]: LockInfo(*r[1:])
            for r in tx.query(
                "SELECT run_id, holder, hostname, pid, pid_start, since, heartbeat, token "
                "FROM locks"
            )
        }
        return [
            _derive(
                run_id,
                created,
                json.loads(meta_text),
                key.get(run_id, []),
                *stats.get(run_id, (0, None)),
                locks.get(run_id),
            )
            for run_id, created, meta_text in runs
        ]

    # -- configuration archive ------------------------------------------------------
    def config_changes(
        self,
        *,
        device: str | None = None,
        since: str | date | datetime | None = None,
        run_id: str | None = None,
    ) -> list[ConfigChange]:
        """The device archive: every config step's evidence across runs (or in one run),
        oldest first, with the run's operator; ``since`` bounds the event time."""
        clauses = ["e.kind = ?", "e.data LIKE ?"]
        params: list[Any] = [str(EventKind.HOST_RESULT), '%"config"%']
        lo = to_utc_iso(since)
        for clause, value in (("e.host = ?", device), ("e.ts >= ?", lo), ("e.run_id = ?", run_id)):
            if value:
                clauses.append(clause)
                params.append(value)
        with self._read() as tx:
            if run_id:
                self._run_row(tx, run_id)
            rows = tx.query(
                f"SELECT {', '.join('e.' + c for c in _EVENT_FIELDS)}, r.operator "
                "FROM events e JOIN runs r ON r.run_id = e.run_id "
                f"WHERE {' AND '.join(clauses)} ORDER BY e.ts, e.run_id, e.seq",
                params,
            )
        found = []
        for row in rows:
            change = config_change(RunEvent(**_event_dict(row)), row[-1] or "")
            if change is not None:
                found.append(change)
        return found

    # -- incidents ------------------------------------------------------------------
    def incident_summaries(
        self,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        status: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every incident's summary (``respond.incident_state``), by detection time;
        ``since``/``until`` bound the detection time (a date is that whole UTC day)."""
        clauses, params = [], []
        lo, hi = to_utc_iso(since), to_utc_iso(until, end=True)
        if lo:
            clauses.append("detected >= ?")
            params.append(lo)
        if hi:
            clauses.append("detected <= ?")
            params.append(hi)
        if status:
            clauses.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as tx:
            rows = tx.query(
                f"SELECT summary FROM incidents{where} ORDER BY detected, incident_id", params
            )
        loads = json.loads
        return [loads(r[0]) for r in rows]

    def due_incidents(self, now: datetime) -> list[str]:
        """Open incidents with a deadline at or before ``now`` that has no event yet."""
        with self._read() as tx:
            rows = tx.query(
                "SELECT incident_id FROM incidents WHERE status = 'open' "
                "AND next_due IS NOT NULL AND next_due <= ? ORDER BY next_due, incident_id",
                (iso(now),),
            )
        return [str(r[0]) for r in rows]

    # -- drill occurrences --------------------------------------------------------
    def claim_occurrence(self, drill: str, occurrence: str, by: str) -> bool:
        """Take on one scheduled occurrence of a drill (``occurrence``: its ISO UTC time).
        True for exactly one caller, also when several claim at the same moment."""
        token = uuid.uuid4().hex
        with self._transaction() as tx:
            tx.execute(
                "INSERT INTO drill_occurrences (drill, occurrence, claimed_at, claimed_by, token) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (drill, occurrence) DO NOTHING",
                (drill, occurrence, utc_now(), by, token),
            )
            rows = tx.query(
                "SELECT token FROM drill_occurrences WHERE drill = ? AND occurrence = ?",
                (drill, occurrence),
            )
        return bool(rows) and rows[0][0] == token

    def occurrence_run(
        self, drill: str, occurrence: str, run_id: str | None, detail: str | None = None
    ) -> None:
        """Say what became of a claimed occurrence: the run that rehearsed it, or (no run)
        why none could start."""
        with self._transaction() as tx:
            tx.execute(
                "UPDATE drill_occurrences SET run_id = ?, detail = ? "
                "WHERE drill = ? AND occurrence = ?",
                (run_id, detail, drill, occurrence),
            )

    def drill_occurrences(self, drill: str | None = None) -> list[dict[str, Any]]:
        """Claimed occurrences (drill, occurrence, claimed_at, claimed_by, run_id, detail),
        oldest occurrence first."""
        sql = (
            "SELECT drill, occurrence, claimed_at, claimed_by, run_id, detail "
            "FROM drill_occurrences"
        )
        params: tuple[Any, ...] = ()
        if drill is not None:
            sql += " WHERE drill = ?"
            params = (drill,)
        with self._read() as tx:
            rows = tx.query(sql + " ORDER BY occurrence, drill", params)
        names = ("drill", "occurrence", "claimed_at", "claimed_by", "run_id", "detail")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def incident_runs(self, incident_id: str) -> list[RunInfo]:
        """The runs attached to an incident, oldest first."""
        with self._read() as tx:
            return self._run_infos(tx, "record = ? AND incident = ?", (RECORD_RUN, incident_id))

    def resolve_incident(self, text: str) -> str:
        """An incident id from what a user typed: the id, an unambiguous prefix, or the
        id/prefix of a run attached to it."""
        wanted = text.strip()
        if not wanted:
            raise UnknownRun("empty incident id")
        with self._read() as tx:
            found = self._matching(tx, RECORD_INCIDENT, wanted)
            if found:
                return self._one(found, wanted, "incident")
            runs = self._matching(tx, RECORD_RUN, wanted)
            if not runs:
                raise UnknownRun(
                    f"no incident {wanted!r} in the timeline at {self.location}",
                    hint="respond incident list shows the incidents (a run's id works too)",
                )
            run_id = self._one(runs, wanted, "run")
            drill, incident = tx.query(
                "SELECT drill, incident FROM runs WHERE run_id = ?", (run_id,)
            )[0]
        if drill:
            raise UnknownRun(f"run {run_id} is a drill: drills are not incidents")
        if incident is None:
            raise UnknownRun(
                f"run {run_id} belongs to no incident",
                hint="it was recorded before incidents existed; respond timeline show "
                f"{run_id} shows it",
            )
        return str(incident)

    def _matching(self, tx: Tx, record: str, prefix: str) -> list[str]:
        exact = tx.query(
            "SELECT run_id FROM runs WHERE run_id = ? AND record = ?", (prefix, record)
        )
        if exact:
            return [str(exact[0][0])]
        rows = tx.query(
            "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? AND record = ? "
            "ORDER BY run_id",
            (prefix, prefix + "\U0010ffff", record),
        )
        return [str(r[0]) for r in rows if str(r[0]).startswith(prefix)]

    @staticmethod
    def _one(ids: list[str], prefix: str, what: str) -> str:
        if len(ids) > 1 and prefix not in ids:
            shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
            raise UnknownRun(f"{what} id prefix {prefix!r} is ambiguous: {shown}")
        return prefix if prefix in ids else ids[0]

    # -- verification -------------------------------------------------------------
    def verify(self, run_id: str, *, key: Signer | None = None) -> VerifyResult:
        """Verify one run: its record against the ledger, its chain, checkpoints and seals.
        ``key`` (e.g. an Ed25519 public key) checks seals instead of the configured key."""
        signer = key if key is not None else self.signer
        with self._read() as tx:
            created, meta, text = self._run_row(tx, run_id)
            *columns, outcome = tx.query(
                "SELECT runbook, drill, operator, record, incident, outcome FROM runs "
                "WHERE run_id = ?",
                (run_id,),
            )[0]
            rows = self._event_rows(tx, run_id)
            entries = ledger.entries(tx, run_id)
            lock = self._lock_info(tx, run_id)
            stored = tx.query(
                "SELECT detected, status, next_due, summary FROM incidents WHERE incident_id = ?",
                (run_id,),
            )
        n = len(rows)

        def bad(problem: str, detail: str) -> VerifyResult:
            return VerifyResult(False, run_id, n, None, problem, detail, verdict=TAMPERED)

        opening = next((e for e in entries if e.kind in ledger.OPENING_KINDS), None)
        if opening is None:
            return bad("run inserted", "the run is not in the store's ledger")
        for e in entries:
            why = ledger.check_entry(e, signer)
            if why is not None:
                return bad(*why)
        digest = run_digest(run_id, created, meta, text)
        anchor = opening.anchor or GENESIS
        if digest != opening.meta_digest or anchor not in (GENESIS, digest):
            return bad(
                "meta changed",
                "the run record (runbook, drill flag, operator, params, inventory snapshot, "
                "runbook text) differs from the one the run was recorded with",
            )
        changed = _column_edit(meta, columns)
        if changed:
            return bad("meta changed", f"runs.{changed} differs from the run record")
        checkpoints = [cp for cp in (e.checkpoint() for e in entries) if cp is not None]
        live = lock.describe() if lock is not None and lock.is_live() else None
        result = verify_rows(
            run_id,
            rows,
            signer=signer,
            meta=meta,
            runbook_text=text,
            anchor=anchor,
            checkpoints=checkpoints,
            live=live,
        )
        if not result.ok:
            return result
        damaged = self._damaged_artifact(rows)
        if damaged is not None:
            return bad(*damaged)
        result = _check_derived(result, meta, rows, stored[0] if stored else None, outcome)
        if result.ok and _record_kind(meta) == RECORD_INCIDENT and signer is not None:
            return _incident_signed(result, entries)
        return result

    def verify_all(self, *, key: Signer | None = None) -> list[VerifyResult]:
        """The ledger as a whole (deleted runs, a rewritten ledger), then every run."""
        signer = key if key is not None else self.signer
        with self._read() as tx:
            entries = ledger.entries(tx)
            orphans = tx.query(
                "SELECT incident_id FROM incidents WHERE incident_id NOT IN "
                "(SELECT run_id FROM runs WHERE record = ?) ORDER BY incident_id",
                (RECORD_INCIDENT,),
            )
        ids = self.run_ids()
        stray = [
            VerifyResult(
                False,
                str(r[0]),
                0,
                None,
                "summary inserted",
                "an incident summary with no incident record (reports would count it)",
                verdict=TAMPERED,
            )
            for r in orphans
        ]
        checked = [self.verify(r, key=key) for r in ids]
        return [*ledger.verify(entries, ids, signer), *stray, *checked]

    def key_material(self) -> tuple[str, ...]:
        """The signing key's secret texts, for the run's masker (empty without a key)."""
        return self._signer.secrets if self._signer is not None else ()

    def run_ids(self) -> list[str]:
        with self._read() as tx:
            return [str(r[0]) for r in tx.query("SELECT run_id FROM runs ORDER BY run_id")]

    # -- locks --------------------------------------------------------------------
    def _lock_info(self, tx: Tx, run_id: str) -> LockInfo | None:
        rows = tx.query(
            "SELECT holder, hostname, pid, pid_start, since, heartbeat, token FROM locks "
            "WHERE run_id = ?",
            (run_id,),
        )
        return LockInfo(*rows[0]) if rows else None

    def _check_lease(self, tx: Tx, run_id: str, lease: str) -> None:
        """Raise ``LockLost`` unless the run's lock is still the one taken with ``lease``
        (the run's row is locked by the caller, so no take-over can slip in between)."""
        current = self._lock_info(tx, run_id)
        if current is not None and current.token == lease:
            return
        who = current.describe() if current is not None else "its lock was taken over"
        raise LockLost(
            f"run {run_id} held by another process ({who}): stopping",
            hint=f"see `respond timeline show {run_id}`; resume it only when no other "
            "process drives it",
        )

    def _take_over(
        self,
        tx: Tx,
        run_id: str,
        row: tuple[Any, ...],
        current: LockInfo,
        holder: str,
        live: bool,
    ) -> None:
        """Remove ``current``'s lock and journal who took it over (an incident's ledger
        checkpoint moves with it, like after any append to an incident)."""
        tx.execute("DELETE FROM locks WHERE run_id = ?", (run_id,))
        by = {"holder": holder, "hostname": this_host(), "pid": os.getpid()}
        data = {
            "from": current.to_dict(),
            "reason": "forced (--steal)" if live else "stale: holder is gone",
            "by": by,
        }
        draft = EventDraft(kind=EventKind.LOCK_TAKEN, actor=holder, data=data)
        events = self._append_tx(tx, run_id, [draft])
        if row[2] == RECORD_INCIDENT:
            self._checkpoint_tx(tx, run_id, events[-1], self.signer)

    def lock_holder(self, run_id: str) -> LockInfo | None:
        with self._read() as tx:
            return self._lock_info(tx, run_id)

    @contextmanager
    def lock(
        self,
        run_id: str,
        holder: str | None = None,
        *,
        steal: bool = False,
        heartbeat: float | None = None,
    ) -> Iterator[LockHandle]:
        """Hold ``run_id`` exclusively. A live holder → ``RunLocked``; a stale one (dead pid
        on this host, or no heartbeat for a while from another host) is taken over and the
        take-over journaled; ``steal=True`` takes over even a live one (journaled too)."""
        holder = holder or operator_identity()
        token = uuid.uuid4().hex
        pid = os.getpid()
        now = utc_now()
        taken: LockInfo | None = None
        with self._transaction() as tx:
            row = tx.lock_run(run_id)
            current = self._lock_info(tx, run_id)
            if current is not None:
                live = current.is_live()
                if live and not steal:
                    raise RunLocked(
                        f"run {run_id} is held by {current.describe()}",
                        hint="wait for that process to finish; if it is gone for good, "
                        "take over with --steal",
                    )
                taken = current
                self._take_over(tx, run_id, row, current, holder, live)
            tx.execute(
                "INSERT INTO locks (run_id, holder, hostname, pid, pid_start, since, heartbeat, "
                "token) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, holder, this_host(), pid, process_start(pid), now, now, token),
            )

        def beat() -> bool:
            with self._transaction() as btx:
                cur = btx.execute(
                    "UPDATE locks SET heartbeat = ? WHERE run_id = ? AND token = ?",
                    (utc_now(), run_id, token),
                )
                return bool(getattr(cur, "rowcount", 1))

        hb = Heartbeat(beat, heartbeat) if heartbeat else Heartbeat(beat)
        handle = LockHandle(run_id, holder, token, taken, hb)
        hb.start()
        try:
            yield handle
        finally:
            hb.stop()
            try:
                with self._transaction() as tx:
                    tx.execute("DELETE FROM locks WHERE run_id = ? AND token = ?", (run_id, token))
            except TimelineError:
                pass  # a lock we cannot remove is stale once we exit

    # -- export / import ----------------------------------------------------------
    def export_run(self, run_id: str, *, artifacts: bool = True) -> dict[str, Any]:
        import base64

        with self._read() as tx:
            created, meta, text = self._run_row(tx, run_id)
            rows = self._event_rows(tx, run_id)
        record: dict[str, Any] = {
            "run_id": run_id,
            "created": created,
            "meta": meta,
            "runbook_text": text,
            "events": rows,
        }
        if artifacts:
            wanted = sorted(_artifact_refs(rows))
            found = self.has_artifacts(wanted)
            record["artifacts"] = {
                sha: base64.b64encode(self.get_artifact(sha)).decode("ascii")
                for sha in wanted
                if sha in found
            }
        return record

    def import_run(self, record: dict[str, Any]) -> VerifyResult:
        """Insert an exported run as it was (hashes preserved), then verify it here."""
        import base64

        run_id = str(record["run_id"])
        if not _RUN_ID_RE.match(run_id):
            raise TimelineError(f"invalid run id {run_id!r} in import")
        rows = record.get("events") or []
        meta = record.get("meta") or {}
        created = str(record.get("created") or utc_now())
        with self._transaction() as tx:
            if tx.query("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)):
                raise TimelineError(f"run {run_id} already exists in this store")
            _insert_run(tx, run_id, created, meta, record.get("runbook_text"))
            tx.executemany(
                f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        int(r["seq"]),
                        r["ts"],
                        r["kind"],
                        r["actor"],
                        r.get("step_id"),
                        r.get("host"),
                        json.dumps(r.get("data") or {}, ensure_ascii=False),
                        r["prev_hash"],
                        r["hash"],
                    )
                    for r in rows
                ],
            )
            for sha, b64 in (record.get("artifacts") or {}).items():
                data = base64.b64decode(b64)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise TimelineError(f"artifact {sha} in the import does not match its hash")
                if not tx.query("SELECT 1 FROM artifacts WHERE sha256 = ?", (sha,)):
                    tx.execute(
                        "INSERT INTO artifacts (sha256, size, created, data) VALUES (?, ?, ?, ?)",
                        (sha, len(data), utc_now(), data),
                    )
            self._ledger_import(tx, run_id, created, rows)
            _note_outcome(tx, run_id, [(r["kind"], r.get("data") or {}) for r in rows])
            if _record_kind(meta) == RECORD_INCIDENT:
                _write_summary(tx, run_id)
        return self.verify(run_id)

    def _ledger_import(self, tx: Tx, run_id: str, created: str, rows: list[Any]) -> None:
        """An imported run enters the ledger as it arrived: where its chain starts (the
        export's anchor) and, when it is finished, where it ends."""
        meta_text, text = tx.query(
            "SELECT meta, runbook_text FROM runs WHERE run_id = ?", (run_id,)
        )[0]
        digest = run_digest(run_id, created, json.loads(meta_text), text)
        done = is_finished(rows)
        self._lock_ledger(tx)
        ledger.append(
            tx,
            ts=utc_now(),
            kind="imported",
            run_id=run_id,
            last_seq=int(rows[-1]["seq"]) if done else None,
            last_hash=str(rows[-1]["hash"]) if done else None,
            anchor=str(rows[0]["prev_hash"]) if rows else digest,
            meta_digest=digest,
            sealed=done and rows[-1]["kind"] == EventKind.SEALED,
            signer=self._signer,
        )


def _record_kind(meta: dict[str, Any]) -> str:
    """What a record is: a ``run`` (the default) or an ``incident``."""
    kind = str(meta.get("record") or RECORD_RUN)
    if kind not in (RECORD_RUN, RECORD_INCIDENT):
        raise TimelineError(f"unknown record kind {kind!r} (run or incident)")
    return kind


def _run_incident(meta: dict[str, Any]) -> str | None:
    """The incident a run belongs to (an incident record belongs to none)."""
    if _record_kind(meta) != RECORD_RUN or meta.get("incident") is None:
        return None
    return str(meta["incident"])


def _insert_run(tx: Tx, run_id: str, created: str, meta: dict[str, Any], text: str | None) -> None:
    tx.execute(
        "INSERT INTO runs (run_id, created, meta, runbook_text, runbook, drill, operator, "
        "record, incident) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            created,
            json.dumps(meta, ensure_ascii=False, sort_keys=True),
            text,
            meta.get("runbook"),
            1 if meta.get("drill") else 0,
            meta.get("operator"),
            _record_kind(meta),
            _run_incident(meta),
        ),
    )


def _summary_row(incident_id: str, rows: Sequence[dict[str, Any]]) -> tuple[Any, ...] | None:
    """``(detected, status, next_due, summary JSON)`` the incident's events give (None: no
    events yet). The summary goes through ``normalise`` so it compares with a stored one."""
    if not rows:
        return None
    summary = normalise(fold(rows, incident_id).summary())
    detected = summary.get("detected_at") or rows[0]["ts"]
    text = json.dumps(summary, ensure_ascii=False, sort_keys=True)
    return detected, summary["status"], summary.get("next_due"), text


def _event_dicts(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.query(
        "SELECT run_id, ts, kind, actor, data FROM events WHERE run_id = ? ORDER BY seq",
        (run_id,),
    )
    return [
        {"run_id": r[0], "ts": r[1], "kind": r[2], "actor": r[3], "data": json.loads(r[4])}
        for r in rows
    ]


def _write_summary(tx: Tx, incident_id: str) -> None:
    """Keep the incident's summary row with its events (called in the appending transaction)."""
    row = _summary_row(incident_id, _event_dicts(tx, incident_id))
    if row is None:
        return
    tx.execute(
        "INSERT INTO incidents (incident_id, detected, status, next_due, summary) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
        "detected = excluded.detected, status = excluded.status, "
        "next_due = excluded.next_due, summary = excluded.summary",
        (incident_id, *row),
    )


def _check_derived(
    result: VerifyResult,
    meta: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    summary: tuple[Any, ...] | None,
    outcome: str | None,
) -> VerifyResult:
    """What is kept beside a record's chain must be what its events say: an incident's
    summary row, a run's ``runs.outcome`` (neither is in the anchor)."""

    def bad(problem: str, detail: str) -> VerifyResult:
        checked = result.checked
        return VerifyResult(False, result.run_id, checked, None, problem, detail, verdict=TAMPERED)

    if _record_kind(meta) == RECORD_INCIDENT:
        edit = _summary_edit(result.run_id, rows, summary)
        return bad("summary changed", edit) if edit else _incident_verdict(result, rows)
    if summary is not None:
        return bad("summary changed", "the incidents table has a row for this run")
    expected = outcome_after([(r["kind"], r["data"]) for r in rows])[1]
    if outcome != expected:
        detail = f"runs.outcome is {outcome!r}, the run's events give {expected!r}"
        return bad("meta changed", detail)
    return result


def _summary_edit(
    incident_id: str, rows: Sequence[dict[str, Any]], stored: tuple[Any, ...] | None
) -> str | None:
    """How an incident's stored summary row differs from the one its events give."""
    expected = _summary_row(incident_id, rows)
    if expected is None and stored is None:
        return None
    if expected is None or stored is None:
        return (
            "the incidents table has "
            + ("no row" if stored is None else "a row")
            + (" for this incident, its events " + ("give one" if expected else "give none"))
        )
    names = ("detected", "status", "next_due")
    for name, have, want in zip(names, stored[:3], expected[:3], strict=True):
        if have != want:
            return f"incidents.{name} is {have!r}, the incident's events give {want!r}"
    have_summary = json.loads(stored[3])
    want_summary = json.loads(expected[3])
    if have_summary != want_summary:
        keys = sorted(
            k for k in {*have_summary, *want_summary} if have_summary.get(k) != want_summary.get(k)
        )
        return f"incidents.summary differs from the incident's events in: {', '.join(keys)}"
    return None


def _incident_signed(result: VerifyResult, entries: Sequence[ledger.Entry]) -> VerifyResult:
    """With a key, an incident's last event must be held by a signed ledger checkpoint (its
    stand-in for a seal, which a writer without the key cannot make)."""
    signed = [e for e in entries if e.kind == "checkpoint" and e.signature is not None]
    if signed and signed[-1].last_seq == result.checked:
        return result
    held = f"seq {signed[-1].last_seq}" if signed else "no event"
    detail = (
        f"no signed ledger checkpoint holds the incident's last event (seq {result.checked}); "
        f"the last signed one holds {held}"
    )
    return replace(result, verdict=NOT_SEALED, detail=detail, sealed=False, strict=True)


def _incident_verdict(result: VerifyResult, rows: Sequence[dict[str, Any]]) -> VerifyResult:
    """An incident never "finishes" like a run: open, it is in progress; closed (resolved,
    no-fault), intact. Its tail is held by the ledger's checkpoint after every append."""
    status = fold(rows).status
    if status in ("open", "restored"):
        detail = f"incident {status}: chain intact so far"
        return replace(result, verdict=IN_PROGRESS, detail=detail, sealed=None, strict=False)
    detail = f"incident {status}: chain intact (the ledger holds its last event)"
    return replace(result, verdict=INTACT, detail=detail, sealed=None, strict=False)


def _column_edit(meta: dict[str, Any], columns: Sequence[Any]) -> str | None:
    """The name of a ``runs`` column that no longer says what the run record says."""
    runbook, drill, operator, record, incident = columns
    if runbook is not None and runbook != (meta.get("runbook") or meta.get("runbook_id")):
        return "runbook"
    if drill is not None and bool(drill) != bool(meta.get("drill")):
        return "drill"
    if operator is not None and operator != meta.get("operator"):
        return "operator"
    if record != (meta.get("record") or RECORD_RUN):
        return "record"
    if incident != _run_incident(meta):
        return "incident"
    return None


_KEY_KINDS = (
    str(EventKind.RUN_STARTED),
    str(EventKind.RUN_RESUMED),
    str(EventKind.RUN_FINISHED),
    str(EventKind.SEVERITY_CHANGED),
    str(EventKind.ESCALATED),
)

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _artifact_refs(rows: Sequence[dict[str, Any]]) -> set[str]:
    """Every sha256-shaped string in the events' data (the seal's own data left out)."""
    return {
        value
        for r in rows
        if r["kind"] != EventKind.SEALED
        for value in _nested(r["data"])
        if isinstance(value, str) and _SHA_RE.match(value)
    }


def _named_artifacts(rows: Sequence[dict[str, Any]]) -> set[str]:
    """The sha256 of every ``{"artifact": sha, ...}`` reference in the events' data."""
    return {
        value["artifact"]
        for r in rows
        for value in _nested(r["data"])
        if isinstance(value, dict)
        and isinstance(value.get("artifact"), str)
        and _SHA_RE.match(value["artifact"])
    }


def _nested(value: Any) -> Iterator[Any]:
    """``value`` and every value inside its dicts and lists, at any depth."""
    yield value
    if isinstance(value, dict):
        for inner in value.values():
            yield from _nested(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _nested(inner)


def _last_index(items: list[str], value: str) -> int:
    for i in range(len(items) - 1, -1, -1):
        if items[i] == value:
            return i
    return -1


def _note_outcome(tx: Tx, run_id: str, events: Sequence[tuple[str, Any]]) -> None:
    """Keep ``runs.outcome`` with the run's last end: set by run-finished, cleared by
    run-resumed (the resumed run's end decides). Not part of the run's anchor."""
    changed, outcome = outcome_after(events)
    if changed:
        tx.execute("UPDATE runs SET outcome = ? WHERE run_id = ?", (outcome, run_id))


def _severity_of(data: dict[str, Any]) -> int | None:
    for key in ("to", "severity", "new", "level"):
        value = data.get(key)
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def _derive(
    run_id: str,
    created: str,
    meta: dict[str, Any],
    key_rows: Sequence[tuple[Any, ...]],
    count: int,
    first_ts: str | None,
    lock: LockInfo | None,
) -> RunInfo:
    status = "running"
    outcome: str | None = None
    reason: str | None = None
    ended: str | None = None
    sev0 = meta.get("severity")
    try:
        severity_initial = int(sev0) if sev0 is not None else None
    except (TypeError, ValueError):
        severity_initial = None
    severity = severity_initial
    changes: list[dict[str, Any]] = []
    finished = False
    for _seq, ts, kind, data_text in key_rows:
        data = json.loads(data_text) if isinstance(data_text, str) else data_text
        if kind == EventKind.RUN_FINISHED:
            status = _run_status(data.get("status"))
            outcome, reason = data.get("outcome"), data.get("reason")
            ended = ts
            finished = True
        elif kind == EventKind.RUN_RESUMED:
            status, ended, finished = "running", None, False
            outcome = reason = None
        elif kind == EventKind.RUN_STARTED:
            if severity_initial is None:
                severity_initial = severity = _severity_of(data)
        else:
            new = _severity_of(data)
            if new is not None:
                changes.append({"ts": ts, "from": severity, "to": new, "kind": kind})
                severity = new
    live = lock is not None and lock.is_live()
    if not finished:
        status = "running" if live else ("interrupted" if count else "running")
    started = first_ts
    duration = None
    if started and ended:
        duration = (parse_ts(ended) - parse_ts(started)).total_seconds()
    return RunInfo(
        run_id=run_id,
        runbook=meta.get("runbook"),
        version=None if meta.get("version") is None else str(meta.get("version")),
        sha256=meta.get("sha256") or meta.get("runbook_sha256"),
        title=meta.get("title"),
        operator=meta.get("operator"),
        hostname=meta.get("hostname"),
        drill=bool(meta.get("drill")),
        severity_initial=severity_initial,
        severity_final=severity,
        severity_changes=tuple(changes),
        status=status,
        outcome=None if outcome is None else str(outcome),
        reason=None if reason is None else str(reason),
        started=started,
        ended=ended,
        duration_s=duration,
        events=count,
        created=created,
        meta=meta,
        lock=lock.to_dict() if (lock is not None and live) else None,
        incident=_run_incident(meta),
        inspection=_run_inspection(meta),
    )


def _run_inspection(meta: dict[str, Any]) -> str | None:
    """The inspection a run is (``respond inspect run``): its name from the run's meta."""
    inspection = meta.get("inspection")
    if isinstance(inspection, dict) and inspection.get("name"):
        return str(inspection["name"])
    return None
