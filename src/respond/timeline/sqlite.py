"""The embedded default: one SQLite file, WAL, ``synchronous=FULL`` (every commit fsync'd).

Several processes may write at once (``respond note`` while a run is going): SQLite
serialises writers, ``BEGIN IMMEDIATE`` takes the write lock up front and ``busy_timeout``
waits for it instead of failing.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from respond.errors import TimelineError
from respond.timeline.chain import Signer
from respond.timeline.store import Store, Tx

BUSY_TIMEOUT_MS = 30_000
_PROBE_BYTES = 64 * 1024


def ensure_writable(home: Path) -> None:
    """Fail before any action when the record cannot be written (read-only, full disk)."""
    probe = home / f".write-probe-{os.getpid()}"
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            block = memoryview(b"\0" * _PROBE_BYTES)
            while block:  # a short write is how a nearly full disk first shows itself
                block = block[os.write(fd, block) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise TimelineError(
            f"cannot write the run record in {home}: {exc.strerror or exc}",
            hint="free some space or point RESPOND_HOME (--home) at a writable directory",
        ) from None
    finally:
        with suppress(OSError):
            probe.unlink()


class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        signer: Signer | None = None,
        signer_error: Exception | None = None,
        migrate: bool = True,
    ) -> None:
        super().__init__(signer=signer, signer_error=signer_error)
        self.path = Path(path)
        self.location = str(self.path)
        ensure_writable(self.path.parent)
        try:
            if not self.path.exists():
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
                os.close(fd)
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            # Closed by close(), else when the store is collected or at exit (atexit), so
            # the last connection checkpoints the WAL into respond.db even when the CLI
            # leaves without tearing the interpreter down (respond.cli._leave).
            self._closer = weakref.finalize(self, self._conn.close)
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise TimelineError(f"cannot use WAL journal mode on {self.path} (got {mode})")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        except OSError as exc:
            raise TimelineError(
                f"cannot write the run record in {self.path.parent}: {exc.strerror or exc}"
            ) from None
        if migrate:
            self.migrate()

    def _translate(self, exc: sqlite3.Error) -> TimelineError:
        text = str(exc)
        lower = text.lower()
        if "readonly" in lower or "read-only" in lower:
            reason = os.strerror(errno.EROFS)
        elif "disk is full" in lower or "disk i/o" in lower:
            reason = os.strerror(errno.ENOSPC) if "full" in lower else text
        elif "locked" in lower or "busy" in lower:
            return TimelineError(
                f"the timeline database {self.path} stayed locked for "
                f"{BUSY_TIMEOUT_MS // 1000}s ({text})"
            )
        elif "malformed" in lower or "not a database" in lower:
            return TimelineError(f"the timeline database {self.path} is damaged: {text}")
        else:
            reason = text
        return TimelineError(f"cannot write the run record in {self.path.parent}: {reason}")

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._mutex:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._translate(exc) from None
            try:
                yield Tx(conn.cursor())
            except BaseException as exc:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from None
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise self._translate(exc) from None

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with self._mutex:
            conn = self._conn
            try:
                conn.execute("BEGIN")
            except sqlite3.Error as exc:
                raise self._translate(exc) from None
            try:
                yield Tx(conn.cursor())
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise self._translate(exc) from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self._closer()

    def files(self) -> list[Path]:
        """Every file the store writes (for the secrets canary test)."""
        base = str(self.path)
        return [Path(p) for p in (base, base + "-wal", base + "-shm") if os.path.exists(p)]
