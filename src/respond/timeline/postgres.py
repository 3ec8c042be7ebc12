"""A shared store on PostgreSQL (``RESPOND_DB=postgresql://...``) through psycopg 3.

Same schema and queries as SQLite. Each session sets ``synchronous_commit = on`` (whatever
the server or role default), so a returned ``record()`` is on the server's disk, and a
``statement_timeout`` (30 s unless the URL's ``options`` or the server set one), so a wedged
server or a held row lock fails a write instead of hanging the run. Writers of one run are
serialised with ``SELECT ... FOR UPDATE`` on the run's row; migrators with an advisory lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from respond.errors import TimelineError, UnknownRun
from respond.timeline.chain import Signer
from respond.timeline.store import Store, Tx

_MIGRATION_LOCK = 0x7265_7370  # "resp"
_LEDGER_LOCK = 0x7265_6C67  # "relg"
STATEMENT_TIMEOUT = "30s"  # when neither the URL nor the server sets one


def redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PgTx(Tx):
    dialect = "postgresql"

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cursor.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql), tuple(params))
        return list(self.cursor.fetchall())

    def lock_run(self, run_id: str) -> tuple[Any, ...]:
        rows = self.query(
            "SELECT meta, runbook_text, record FROM runs WHERE run_id = ? FOR UPDATE", (run_id,)
        )
        if not rows:
            raise UnknownRun(f"no run {run_id!r} in the timeline")
        return rows[0]


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        signer: Signer | None = None,
        signer_error: Exception | None = None,
        migrate: bool = True,
    ) -> None:
        super().__init__(signer=signer, signer_error=signer_error)
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.location = redact_url(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise TimelineError(
                f"cannot connect to the timeline database {self.location}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
            ) from None
        try:
            self._session_settings()
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        if migrate:
            self.migrate()

    def _session_settings(self) -> None:
        """Durable commits always; a statement timeout unless one is configured already."""
        with self._conn.cursor() as cur:
            cur.execute("SET synchronous_commit = on")
            cur.execute("SHOW statement_timeout")
            row = cur.fetchone()
            if row is None or str(row[0]) in ("0", "0ms"):
                cur.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")

    def _translate(self, exc: Exception) -> TimelineError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return TimelineError(f"cannot write the run record in {self.location}: {first}")

    def _lock_schema(self, tx: Tx) -> None:
        tx.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")

    def _lock_ledger(self, tx: Tx) -> None:
        # the ledger has one head: writers of different runs take turns appending to it
        tx.execute(f"SELECT pg_advisory_xact_lock({_LEDGER_LOCK})")

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        psycopg = self._psycopg
        with self._mutex:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield PgTx(cur)
            except psycopg.Error as exc:
                raise self._translate(exc) from None

    def close(self) -> None:
        with suppress(Exception):
            self._conn.close()
