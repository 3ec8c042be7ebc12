"""Rebuilding a run's state from its journal so ``respond resume`` continues where it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from respond import kinds
from respond.engine.expect import result_view
from respond.errors import UsageError
from respond.events import EventKind, RunEvent
from respond.results import CommandResult, HostResult, StepStatus


@dataclass(kw_only=True)
class ResumeState:
    run_id: str
    runbook_id: str
    sha256: str
    params: dict[str, Any]
    severity: int
    drill: bool
    inventory: str | None
    started_at: datetime
    finished: set[str] = field(default_factory=set)
    in_flight: str | None = None
    registered: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    final_status: str | None = None


def _parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def state_from_events(
    run_id: str, events: list[RunEvent], registers: dict[str, str]
) -> ResumeState:
    """``registers`` maps step id → register name (from the runbook revision that ran)."""
    if not events or events[0].kind != EventKind.RUN_STARTED:
        raise UsageError(f"run {run_id} has no run-started event; it cannot be resumed")
    first = events[0].data
    state = ResumeState(
        run_id=run_id,
        runbook_id=first["runbook"],
        sha256=first.get("sha256", ""),
        params=dict(first.get("params") or {}),
        severity=int(first.get("severity", 3)),
        drill=bool(first.get("drill")),
        inventory=first.get("inventory"),
        started_at=_parse_ts(events[0].ts),
    )
    open_steps: dict[str, dict[str, dict[str, Any]]] = {}
    step_kinds: dict[str, str] = {}
    for ev in events[1:]:
        kind = ev.kind
        if kind == EventKind.RUN_FINISHED:
            state.final_status = ev.data.get("status")
        elif kind == EventKind.RUN_RESUMED:
            state.final_status = None
        elif kind in (EventKind.ESCALATED, EventKind.SEVERITY_CHANGED):
            state.severity = int(ev.data.get("to", state.severity))
        elif kind == EventKind.STEP_STARTED and ev.step_id:
            open_steps[ev.step_id] = {}
            step_kinds[ev.step_id] = str(ev.data.get("kind", ""))
        elif kind == EventKind.HOST_RESULT and ev.step_id in open_steps and ev.host:
            step_kind = kinds.get(step_kinds[ev.step_id])
            open_steps[ev.step_id][ev.host] = result_view(_result_from_event(ev), step_kind)
        elif kind == EventKind.STEP_FINISHED and ev.step_id:
            per_host = open_steps.pop(ev.step_id, {})
            status = ev.data.get("status")
            if status in ("ok", "skipped", "simulated") or (status == "failed" and _tolerated(ev)):
                state.finished.add(ev.step_id)
                name = registers.get(ev.step_id)
                if name:
                    state.registered[name] = per_host
        elif kind == EventKind.STEP_SKIPPED and ev.step_id:
            state.finished.add(ev.step_id)
            name = registers.get(ev.step_id)
            if name:
                state.registered[name] = {}
    if open_steps:
        state.in_flight = list(open_steps)[-1]
    return state


def _tolerated(ev: RunEvent) -> bool:
    return bool(ev.data.get("tolerated"))


def _result_from_event(ev: RunEvent) -> HostResult:
    """The host result a host-result event recorded, as far as the record keeps it (large
    outputs by their head)."""
    data = ev.data
    commands = tuple(
        CommandResult(
            command=str(c.get("command", "")),
            exit_code=c.get("rc"),
            stdout=_plain(c.get("stdout", "")),
            stderr=_plain(c.get("stderr", "")),
            duration_s=float(c.get("duration_s", 0.0)),
            parsed=c.get("parsed"),
        )
        for c in data.get("commands") or []
    )
    if not commands and "rc" in data:  # no_log: the exit code is kept, the output is not
        commands = (
            CommandResult(
                command="<no_log>", exit_code=data["rc"], stdout=_plain(data.get("output"))
            ),
        )
    try:
        status = StepStatus(str(data.get("status")))
    except ValueError:
        status = StepStatus.UNKNOWN
    ts = _parse_ts(ev.ts)
    started = _parse_ts(data["started"]) if data.get("started") else ts
    ended = _parse_ts(data["ended"]) if data.get("ended") else ts
    return HostResult(
        host=ev.host or "",
        status=status,
        started_at=started,
        ended_at=ended,
        commands=commands,
        output=_plain(data.get("output", "")),
        error=str(data.get("error", "")),
        changed=bool(data.get("changed")),
        attempts=int(data.get("attempts", 1)),
        data=dict(data.get("data") or {}),
    )


def _plain(value: Any) -> str:
    if isinstance(value, dict):  # stored as an artifact: the head is what we have at hand
        return str(value.get("head", ""))
    return str(value or "")
