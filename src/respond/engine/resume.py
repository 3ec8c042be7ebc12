"""Rebuilding a run's state from its journal so ``respond resume`` continues where it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from respond.errors import UsageError
from respond.events import EventKind, RunEvent


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
        elif kind == EventKind.HOST_RESULT and ev.step_id in open_steps and ev.host:
            open_steps[ev.step_id][ev.host] = _view_from_event(ev)
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


def _view_from_event(ev: RunEvent) -> dict[str, Any]:
    data = ev.data
    commands = data.get("commands") or []
    stdout = (
        "\n".join(_plain(c.get("stdout", "")) for c in commands)
        if commands
        else _plain(data.get("output", ""))
    )
    stderr = "\n".join(_plain(c.get("stderr", "")) for c in commands if c.get("stderr"))
    parsed = [c["parsed"] for c in commands if c.get("parsed") is not None]
    view: dict[str, Any] = {
        "host": ev.host,
        "status": data.get("status"),
        "ok": data.get("status") == "ok",
        "failed": data.get("status") in ("failed", "timed_out", "unknown"),
        "skipped": data.get("status") == "skipped",
        "changed": bool(data.get("changed")),
        "stdout": stdout,
        "stdout_lines": stdout.splitlines(),
        "stderr": stderr,
        "rc": commands[-1].get("rc") if commands else data.get("rc"),
        "parsed": parsed[0] if len(parsed) == 1 else (parsed or None),
        "error": data.get("error", ""),
        "duration": data.get("duration_s", 0.0),
        "attempts": data.get("attempts", 1),
    }
    view.update(data.get("data") or {})
    return view


def _plain(value: Any) -> str:
    if isinstance(value, dict):  # stored as an artifact: the head is what we have at hand
        return str(value.get("head", ""))
    return str(value or "")
