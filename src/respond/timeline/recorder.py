"""The engine's only route to the record: a ``Recorder`` makes events durable."""

from __future__ import annotations

from typing import Protocol

from respond.events import EventDraft, RunEvent


class Recorder(Protocol):
    run_id: str

    def record(self, drafts: list[EventDraft]) -> list[RunEvent]:
        """Append ``drafts`` in order, in one transaction, durably (fsync'd / committed)
        before returning. Secrets are masked before anything is written."""
        ...

    def put_artifact(self, data: bytes) -> str:
        """Store a large output content-addressed; return its sha256 hex."""
        ...
