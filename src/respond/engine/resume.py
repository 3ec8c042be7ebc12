"""Rebuilding a run's state from its journal so ``respond resume`` continues where it stopped.

Resume continues per host: a step that ended (or stopped) with some hosts ok keeps those
results and acts only on the others. A host whose outcome is unknown (an intent with no
result, a result that timed out, was lost or was cut short) is *unsure*: the command may
have run, so a step that is not idempotent is repeated there only on a person's word.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from respond import kinds
from respond.engine.expect import result_view
from respond.errors import UsageError
from respond.events import EventKind, RunEvent
from respond.results import CommandResult, HostResult, StepStatus

if TYPE_CHECKING:
    from respond.kinds.base import StepKind


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
    drill_mode: str | None = None  # a drill resumes in the mode it started in
    drill_name: str | None = None
    finished: set[str] = field(default_factory=set)
    in_flight: str | None = None
    registered: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # of the set steps that finished
    final_status: str | None = None
    finished_by: str | None = None  # the finish step that ended the run: nothing is left
    # a finish step that ran before a crash cut the run short of its closing event:
    # (step id, outcome, message), so that resume closes the run as that step decided
    ended_by: tuple[str, str, str] | None = None
    # per step that was started but not finished: hosts already ok (kept, not repeated)
    # and hosts whose outcome is unknown
    kept: dict[str, dict[str, HostResult]] = field(default_factory=dict)
    unsure: dict[str, list[str]] = field(default_factory=dict)


# A host's result whose command may have run in part or in full (no outcome to go by).
_UNSURE = frozenset({StepStatus.UNKNOWN, StepStatus.TIMED_OUT, StepStatus.CANCELLED})
_DONE = frozenset({StepStatus.OK, StepStatus.SKIPPED, StepStatus.SIMULATED})


@dataclass
class _Open:
    """What the record says about one started step, host by host."""

    kind: str
    intents: list[str] = field(default_factory=list)
    results: dict[str, HostResult] = field(default_factory=dict)
    ended: str | None = None  # the step-finished status, once recorded
    stopped: bool = False  # the run finished (stopped) with this step not done


def runbook_digests(text: str) -> set[str]:
    """sha256 of the stored runbook text as it may have been on disk (LF or CRLF, with or
    without a byte-order mark): the run-started event records the file's hash."""
    forms = {text, text.replace("\n", "\r\n"), "\ufeff" + text}
    return {hashlib.sha256(f.encode("utf-8")).hexdigest() for f in forms}


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
        # a drill recorded before drill modes existed (`respond run --drill`) simulated
        drill_mode=first.get("drill_mode") or ("simulate" if first.get("drill") else None),
        drill_name=first.get("drill_name"),
    )
    steps: dict[str, _Open] = {}
    for ev in events[1:]:
        kind = ev.kind
        if kind == EventKind.RUN_FINISHED:
            state.final_status = ev.data.get("status")
            state.finished_by = ev.data.get("finished_by")
            for info in steps.values():
                info.stopped = True
        elif kind == EventKind.RUN_RESUMED:
            state.final_status = state.finished_by = None
        elif kind in (EventKind.ESCALATED, EventKind.SEVERITY_CHANGED):
            state.severity = int(ev.data.get("to", state.severity))
        elif kind == EventKind.STEP_STARTED and ev.step_id:
            _moved_past(state, steps, registers, ev.step_id)
            steps[ev.step_id] = _continued(steps.get(ev.step_id), str(ev.data.get("kind", "")))
        elif kind == EventKind.HOST_INTENT and ev.step_id in steps and ev.host:
            steps[ev.step_id].intents.append(ev.host)
        elif kind == EventKind.HOST_RESULT and ev.step_id in steps and ev.host:
            steps[ev.step_id].results[ev.host] = _result_from_event(ev)
        elif kind == EventKind.STEP_FINISHED and ev.step_id in steps:
            assert ev.step_id is not None
            status = str(ev.data.get("status"))
            info = steps[ev.step_id]
            info.ended = status
            if not info.results and ev.data.get("hosts") == 0:
                # closed before acting on any target (a prompt nobody could answer): the
                # intents announced nothing that happened, so nothing is unsure
                info.intents.clear()
            if status in _DONE or (status == "failed" and _tolerated(ev)):
                _finish(state, ev.step_id, steps.pop(ev.step_id), registers)
        elif kind == EventKind.STEP_SKIPPED and ev.step_id:
            state.finished.add(ev.step_id)
            steps.pop(ev.step_id, None)
            name = registers.get(ev.step_id)
            if name:
                state.registered[name] = {}
    for step_id, info in steps.items():
        if info.ended is None:
            state.in_flight = step_id
        # a step that only computes changed nothing: it is simply computed again
        step_kind = _kind_of(info)
        pure = step_kind is not None and step_kind.pure
        state.kept[step_id] = (
            {} if pure else {h: r for h, r in info.results.items() if r.status in _DONE}
        )
        state.unsure[step_id] = [] if pure else _unsure_hosts(info)
    return state


def _continued(before: _Open | None, kind: str) -> _Open:
    """A step started again (an earlier resume): what it already did on each host stands."""
    if before is None:
        return _Open(kind=kind)
    kept = {h: r for h, r in before.results.items() if r.status in _DONE}
    unsure = _unsure_hosts(before)
    opened = _Open(kind=kind, results=kept)
    # still unsure until this attempt records a result for them
    opened.intents = list(unsure)
    return opened


def _unsure_hosts(info: _Open) -> list[str]:
    out: list[str] = []
    for host in dict.fromkeys(info.intents):
        result = info.results.get(host)
        if result is None or (result.status in _UNSURE and not result.not_started):
            out.append(host)
    return out


def _moved_past(
    state: ResumeState, steps: dict[str, _Open], registers: dict[str, str], starting: str
) -> None:
    """A step that ended failed and was followed by another in the same run
    (``on_failure: continue`` or ``escalate``) is behind the run: resume does not go back
    to it. One the run stopped at is still ahead of it."""
    behind = [s for s, info in steps.items() if info.ended and not info.stopped and s != starting]
    for step_id in behind:
        _finish(state, step_id, steps.pop(step_id), registers)


def _finish(state: ResumeState, step_id: str, info: _Open, registers: dict[str, str]) -> None:
    step_kind = _kind_of(info)
    if step_kind is None:
        state.finished.add(step_id)  # a kind this version lacks: nothing to restore from it
        return
    if step_kind.pure and not all(step_kind.restorable(r) for r in info.results.values()):
        # a step that only computes, whose record lacks what later steps read (values kept
        # out by no_log, or holding a secret, recorded masked): resume runs it again rather
        # than give later steps less than the run had
        return
    state.finished.add(step_id)
    name = registers.get(step_id)
    if name:
        state.registered[name] = {h: result_view(r, step_kind) for h, r in info.results.items()}
    for result in info.results.values():
        state.values.update(step_kind.bound_values(result))
        ends = step_kind.ends_run(result)
        if ends is not None:
            state.ended_by = (step_id, ends[0], ends[1])


def _kind_of(info: _Open) -> StepKind | None:
    return kinds.get(info.kind) if info.kind in kinds.REGISTRY else None


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
        not_started=bool(data.get("not_started")),
    )


def _plain(value: Any) -> str:
    if isinstance(value, dict):  # stored as an artifact: the head is what we have at hand
        return str(value.get("head", ""))
    return str(value or "")
