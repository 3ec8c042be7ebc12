"""Incident events as dicts (the form ``fold`` accepts besides stored events), for the pure
tests of the clock rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from respond.clock import ManualClock, iso
from respond.events import EventDraft
from respond.incidents import IncidentBook
from respond.timeline import Store

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
H = 3600.0
# DESIGN.md section 2's defaults: respond within 1 h at every level; restore 4/8/12/24 h
LIMITS = {
    "1": {"respond": 1 * H, "restore": 4 * H},
    "2": {"respond": 1 * H, "restore": 8 * H},
    "3": {"respond": 1 * H, "restore": 12 * H},
    "4": {"respond": 1 * H, "restore": 24 * H},
}
VENDOR = {
    "name": "Vendor Co.",
    "accept": 1 * H,
    "on_site": 2 * H,
    "restore": {"1": 4 * H, "2": 8 * H, "3": 12 * H, "4": 24 * H},
}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(kind: str, when: datetime, actor: str = "respond", **data: Any) -> dict[str, Any]:
    return {"run_id": "INC-1", "kind": kind, "ts": iso(when), "actor": actor, "data": data}


def opened(severity: int = 4, detected: datetime = T0, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "detected_at": iso(detected),
        "severity": severity,
        "title": "机房断电 power out",
        "runbook": "power-outage",
        "version": "1.2.0",
        "site": "A栋机房",
        "reported_by": "保安 guard",
        "description": "UPS alarm",
        "limits": LIMITS,
        "vendor": None,
    }
    data.update(over)
    return ev("incident-opened", detected, actor="zhang", **data)


def as_event(draft: EventDraft, when: datetime) -> dict[str, Any]:
    """A draft as the store would have recorded it at ``when``."""
    return ev(str(draft.kind), when, draft.actor, **draft.data)


# -- the book over a real store ----------------------------------------------
BOOK_LIMITS = {1: {"respond": H, "restore": 4 * H}, 2: {"respond": H, "restore": 8 * H},
          3: {"respond": H, "restore": 12 * H}, 4: {"respond": H, "restore": 24 * H}}  # fmt: skip


def new_book(store: Store, clock: ManualClock, **kw: Any) -> IncidentBook:
    return IncidentBook(store, clock=clock, limits=BOOK_LIMITS, **kw)


def open_incident(book: IncidentBook, severity: int = 3, **over: Any) -> str:
    fields: dict[str, Any] = {
        "title": "核心交换机故障 core switch down",
        "runbook": "network-outage",
        "version": "2.0.0",
        "scenario": "network",
        "severity": severity,
        "detected_at": T0,
        "reported_by": "王五 (help desk)",
        "site": "B栋机房",
        "description": "intranet down on floor 3",
        "operator": "zhang",
    }
    fields.update(over)
    return book.open(**fields)


def add_run(store: Store, incident: str | None, run_id: str, *, drill: bool = False) -> None:
    meta = {"runbook": "network-outage", "version": "2.0.0", "drill": drill, "operator": "z"}
    if incident is not None:
        meta["incident"] = incident
    store.create_run(run_id, meta)
