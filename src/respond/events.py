"""The timeline vocabulary shared by the engine, the journal store and the reports.

An event is what the engine *announces*; the store gives it a sequence number, a UTC time
and a hash chained to the previous event of the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    RUN_STARTED = "run-started"
    RUN_RESUMED = "run-resumed"
    RUN_FINISHED = "run-finished"
    STEP_STARTED = "step-started"
    STEP_SKIPPED = "step-skipped"
    STEP_FINISHED = "step-finished"
    HOST_INTENT = "host-intent"  # about to act on a host (attempt n): durable before the action
    HOST_RESULT = "host-result"  # what the action produced on that host
    PROMPT = "prompt"
    ANSWER = "answer"
    GATE_CONFIRMED = "gate-confirmed"
    GATE_REFUSED = "gate-refused"
    NOTIFICATION_SENT = "notification-sent"
    NOTIFICATION_FAILED = "notification-failed"
    SEVERITY_CHANGED = "severity-changed"
    ESCALATED = "escalated"
    NOTE = "note"
    LOCK_TAKEN = "lock-taken"
    SEALED = "sealed"
    # an incident's record (its own chain; see respond.incident_state)
    INCIDENT_OPENED = "incident-opened"
    RUN_ATTACHED = "run-attached"
    ACKNOWLEDGED = "acknowledged"
    DEADLINE_MISSED = "deadline-missed"
    RUN_ENDED = "run-ended"
    RESTORED = "restored"
    RESOLVED = "resolved"
    VENDOR_CASE = "vendor-case"
    # drills: a lab fault injected (durable before the injection) and healed; the
    # after-action report's hash; the drill lead's findings file as the report used it
    DRILL_INJECT = "drill-inject"
    DRILL_HEAL = "drill-heal"
    DRILL_REPORT = "drill-report"
    DRILL_FINDINGS = "drill-findings"


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDraft:
    """An event before the store has numbered and chained it."""

    kind: EventKind
    actor: str = "respond"
    step_id: str | None = None
    host: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvent:
    """A stored, chained event. ``hash`` = sha256(prev_hash + canonical JSON of the rest)."""

    run_id: str
    seq: int
    ts: str  # UTC ISO-8601 with microseconds and 'Z'
    kind: str
    actor: str
    step_id: str | None
    host: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
