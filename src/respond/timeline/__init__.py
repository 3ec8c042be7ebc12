"""The journal: an append-only, hash-chained, durable record of every run.

``open_store(config)`` gives the SQLite store at ``config.home / "respond.db"``, or the
PostgreSQL one when ``RESPOND_DB`` / ``db:`` is a ``postgresql://`` URL. The engine records
through ``Store.recorder(run_id, masker)``; auditors read through ``events``, ``run``,
``runs`` and ``verify``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from respond.errors import ConfigError
from respond.timeline.chain import VerifyResult
from respond.timeline.store import (
    JournalRecorder,
    RunInfo,
    Store,
    new_run_id,
    operator_identity,
)

if TYPE_CHECKING:
    from respond.config import ProjectConfig

__all__ = [
    "JournalRecorder",
    "RunInfo",
    "Store",
    "VerifyResult",
    "new_run_id",
    "open_store",
    "operator_identity",
]


def open_store(config: ProjectConfig, *, db_url: str | None = None, migrate: bool = True) -> Store:
    """Open (creating and migrating as needed) the journal store the config names."""
    from respond.timeline.chain import load_signer

    signer: Any = None
    signer_error: Exception | None = None
    try:
        signer = load_signer(config.raw.get("signing_key"), config.root)
    except ConfigError as exc:  # raised when the key is first needed, not for read-only use
        signer_error = exc
    url = db_url or config.db_url
    if url:
        if url.startswith(("postgresql://", "postgres://")):
            from respond.timeline.postgres import PostgresStore

            return PostgresStore(url, signer=signer, signer_error=signer_error, migrate=migrate)
        if url.startswith("sqlite:///"):
            from pathlib import Path

            from respond.timeline.sqlite import SqliteStore

            return SqliteStore(
                Path(url[len("sqlite:///") :]),
                signer=signer,
                signer_error=signer_error,
                migrate=migrate,
            )
        raise ConfigError(
            f"unsupported timeline database URL scheme in {url.split('://')[0]}://...",
            hint="use postgresql://user@host/db, or leave RESPOND_DB unset for SQLite",
        )
    from respond.timeline.sqlite import SqliteStore

    return SqliteStore(
        config.home / "respond.db", signer=signer, signer_error=signer_error, migrate=migrate
    )
