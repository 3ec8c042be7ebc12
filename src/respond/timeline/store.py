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
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from respond.errors import LockLost, RunLocked, TimelineError, UnknownRun
from respond.events import EventDraft, EventKind, RunEvent
from respond.results import RunStatus
from respond.timeline import ledger
from respond.timeline.chain import (
    GENESIS,
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
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


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
        """Serialise writers of one run; returns the run row ``(meta, runbook_text)``."""
        rows = self.query("SELECT meta, runbook_text FROM runs WHERE run_id = ?", (run_id,))
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
        signer = self.signer  # a misconfigured key fails before the run exists
        created = utc_now()
        with self._transaction() as tx:
            if tx.query("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)):
                raise TimelineError(f"run {run_id} already exists")
            tx.execute(
                "INSERT INTO runs (run_id, created, meta, runbook_text, runbook, drill, operator) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    created,
                    json.dumps(meta, ensure_ascii=False, sort_keys=True),
                    text,
                    meta.get("runbook"),
                    1 if meta.get("drill") else 0,
                    meta.get("operator"),
                ),
            )
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
            events = self._append_tx(tx, run_id, drafts, masker)
            _note_outcome(tx, run_id, [(e.kind, e.data) for e in events])
            if events and self._needs_seal(tx, run_id, events):
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
        loads = json.loads
        return [
            {
                "run_id": r[0],
                "seq": int(r[1]),
                "ts": r[2],
                "kind": r[3],
                "actor": r[4],
                "step_id": r[5],
                "host": r[6],
                "data": loads(r[7]),
                "prev_hash": r[8],
                "hash": r[9],
            }
            for r in rows
        ]

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
        count, first_ts, _ = stats[0]
        return _derive(run_id, created, meta, rows, int(count or 0), first_ts, lock)

    def runs(
        self,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        runbook: str | None = None,
        status: str | None = None,
        drill: bool | None = None,
        outcome: str | None = None,
    ) -> list[RunInfo]:
        lo, hi = to_utc_iso(since), to_utc_iso(until, end=True)
        with self._read() as tx:
            runs = tx.query("SELECT run_id, created, meta FROM runs ORDER BY run_id")
            key: dict[str, list[tuple[Any, ...]]] = {}
            for run_id, seq, ts, kind, data in tx.query(
                "SELECT run_id, seq, ts, kind, data FROM events WHERE kind IN (?, ?, ?, ?, ?) "
                "ORDER BY run_id, seq",
                _KEY_KINDS,
            ):
                key.setdefault(run_id, []).append((seq, ts, kind, data))
            stats = {
                r[0]: (int(r[1]), r[2])
                for r in tx.query("SELECT run_id, count(*), min(ts) FROM events GROUP BY run_id")
            }
            locks = {
                r[0]: LockInfo(*r[1:])
                for r in tx.query(
                    "SELECT run_id, holder, hostname, pid, pid_start, since, heartbeat, token "
                    "FROM locks"
                )
            }
        out: list[RunInfo] = []
        for run_id, created, meta_text in runs:
            count, first_ts = stats.get(run_id, (0, None))
            info = _derive(
                run_id,
                created,
                json.loads(meta_text),
                key.get(run_id, []),
                count,
                first_ts,
                locks.get(run_id),
            )
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
            out.append(info)
        return out

    # -- verification -------------------------------------------------------------
    def verify(self, run_id: str, *, key: Signer | None = None) -> VerifyResult:
        """Verify one run: its record against the ledger, its chain, checkpoints and seals.
        ``key`` (e.g. an Ed25519 public key) checks seals instead of the configured key."""
        signer = key if key is not None else self.signer
        with self._read() as tx:
            created, meta, text = self._run_row(tx, run_id)
            columns = tx.query(
                "SELECT runbook, drill, operator FROM runs WHERE run_id = ?", (run_id,)
            )[0]
            rows = self._event_rows(tx, run_id)
            entries = ledger.entries(tx, run_id)
            lock = self._lock_info(tx, run_id)
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
        return verify_rows(
            run_id,
            rows,
            signer=signer,
            meta=meta,
            runbook_text=text,
            anchor=anchor,
            checkpoints=checkpoints,
            live=live,
        )

    def verify_all(self, *, key: Signer | None = None) -> list[VerifyResult]:
        """The ledger as a whole (deleted runs, a rewritten ledger), then every run."""
        signer = key if key is not None else self.signer
        with self._read() as tx:
            entries = ledger.entries(tx)
        ids = self.run_ids()
        return [*ledger.verify(entries, ids, signer), *(self.verify(r, key=key) for r in ids)]

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
            tx.lock_run(run_id)
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
                tx.execute("DELETE FROM locks WHERE run_id = ?", (run_id,))
                self._append_tx(
                    tx,
                    run_id,
                    [
                        EventDraft(
                            kind=EventKind.LOCK_TAKEN,
                            actor=holder,
                            data={
                                "from": current.to_dict(),
                                "reason": "forced (--steal)" if live else "stale: holder is gone",
                                "by": {"holder": holder, "hostname": this_host(), "pid": pid},
                            },
                        )
                    ],
                )
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
            tx.execute(
                "INSERT INTO runs (run_id, created, meta, runbook_text, runbook, drill, operator) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    created,
                    json.dumps(meta, ensure_ascii=False, sort_keys=True),
                    record.get("runbook_text"),
                    meta.get("runbook"),
                    1 if meta.get("drill") else 0,
                    meta.get("operator"),
                ),
            )
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


def _column_edit(meta: dict[str, Any], columns: Sequence[Any]) -> str | None:
    """The name of a ``runs`` column that no longer says what the run record says."""
    runbook, drill, operator = columns
    if runbook is not None and runbook != (meta.get("runbook") or meta.get("runbook_id")):
        return "runbook"
    if drill is not None and bool(drill) != bool(meta.get("drill")):
        return "drill"
    if operator is not None and operator != meta.get("operator"):
        return "operator"
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
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if _SHA_RE.match(value):
                found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for r in rows:
        if r["kind"] != EventKind.SEALED:
            walk(r["data"])
    return found


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
    )
