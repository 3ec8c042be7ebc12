"""A drill run's events → its scorecard: each objective met, missed or not reached, with the
measured figure, plus the run's milestones and the time each step took.

Pure functions over the run's ``RunEvent`` list (as ``store.events(run_id)`` returns it).
Every time is measured from *t0*, the moment the fault is taken to begin: the first
``drill-inject`` event, else ``run-started``.

- respond: the first ``step-started``;
- diagnose: the first ``step-finished`` of a ``decide`` step; with no decide step, the last
  ``step-finished`` before the first gated step was reached;
- restore: the run's last ``run-finished`` (a resumed run's earlier ends do not count), when
  its outcome is ``resolved`` or ``no-fault``;
- step X by T: the first ``step-finished`` of X with status ok or simulated;
- gates answered: every gate reached was decided by a person (the answers file and ``--yes``
  count as the operator's decision; an unattended "nobody could answer" refusal does not);
- skips reasoned: every ``step-skipped`` carries a non-empty reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from respond.events import EventKind, RunEvent
from respond.timeline.facts import human_span, last_end, parse_ts

if TYPE_CHECKING:
    from respond.drills.model import Drill, Objective

MET = "met"
MISSED = "missed"
NOT_REACHED = "not-reached"
# A run that ended with one of these outcomes restored the service (or found none to restore).
RESTORED_OUTCOMES = frozenset({"resolved", "no-fault"})
# Statuses with which a step counts as done for `step: X, by: T` (simulated: a drill's
# recorded-not-sent step, or a tabletop step walked and marked done).
DONE_STATUSES = frozenset({"ok", "simulated"})
GATE_KINDS = frozenset({EventKind.GATE_CONFIRMED, EventKind.GATE_REFUSED})
# What the gatekeeper records as the decider when nobody could answer (an unattended run).
UNATTENDED = "unattended"


@dataclass(frozen=True, slots=True)
class ObjectiveResult:
    """One objective judged: its label ("respond within 10m"), the target and the measured
    seconds (None where the objective is not a time, or nothing was measured), the status
    (met | missed | not-reached) and one line a person reads."""

    kind: str
    label: str
    target_s: float | None
    measured_s: float | None
    status: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Milestones:
    """When the fault began (t0), the first step started, the diagnosis was reached and the
    service was restored (ISO UTC, None when not reached)."""

    t0: str | None
    responded: str | None
    diagnosed: str | None
    restored: str | None

    def since_t0(self, at: str | None) -> float | None:
        """Seconds from t0 to ``at`` (None when either is unknown)."""
        if self.t0 is None or at is None:
            return None
        return (parse_ts(at) - parse_ts(self.t0)).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("responded", "diagnosed", "restored"):
            out[f"{name}_s"] = self.since_t0(getattr(self, name))
        return out


@dataclass(frozen=True, slots=True)
class StepTime:
    """One step's planned time beside its actual one. ``started``: its first start;
    ``finished``: its last finish; ``actual_s``: the time its attempts took (a step resumed
    after an interruption counts each attempt, not the pause between them). ``status``: its
    last status, ``skipped``, ``unfinished`` (started, never finished) or ``not reached``."""

    step_id: str
    name: str
    planned_s: float | None
    started: str | None
    finished: str | None
    actual_s: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A drill run measured against its drill's objectives."""

    run_id: str | None
    drill: str
    mode: str
    t0: str | None
    results: tuple[ObjectiveResult, ...]
    severity: int | None = None
    outcome: str | None = None  # the last run-finished's outcome (None: not finished)
    milestones: Milestones = field(default_factory=lambda: Milestones(None, None, None, None))
    steps: tuple[StepTime, ...] = ()

    @property
    def met(self) -> tuple[ObjectiveResult, ...]:
        return tuple(r for r in self.results if r.status == MET)

    @property
    def missed(self) -> tuple[ObjectiveResult, ...]:
        return tuple(r for r in self.results if r.status == MISSED)

    @property
    def not_reached(self) -> tuple[ObjectiveResult, ...]:
        return tuple(r for r in self.results if r.status == NOT_REACHED)

    @property
    def passed(self) -> bool:
        """No objective missed and none not reached."""
        return not self.missed and not self.not_reached

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "drill": self.drill,
            "mode": self.mode,
            "severity": self.severity,
            "t0": self.t0,
            "outcome": self.outcome,
            "passed": self.passed,
            "met": len(self.met),
            "missed": len(self.missed),
            "not_reached": len(self.not_reached),
            "total": len(self.results),
            "results": [r.to_dict() for r in self.results],
            "milestones": self.milestones.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }


# --------------------------------------------------------------------------- reading events


def span(seconds: float) -> str:
    """A measured time as a stopwatch reads: ``45s``, ``2m 05s``, ``1h 02m 05s``."""
    s = round(abs(seconds))
    sign = "-" if seconds < 0 and s else ""
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m {s % 60:02d}s"
    return f"{sign}{s // 3600}h {s % 3600 // 60:02d}m {s % 60:02d}s"


def drill_start(events: Sequence[RunEvent]) -> str | None:
    """t0: the first fault injected (``drill-inject``), else the run's start."""
    inject = _first(events, EventKind.DRILL_INJECT)
    start = inject or _first(events, EventKind.RUN_STARTED)
    return start.ts if start is not None else None


def gated_steps(events: Sequence[RunEvent], gated: Collection[str] = ()) -> set[str]:
    """The steps known to be gated: ``gated`` (from the runbook, when the caller has it), a
    ``gated`` list ``run-started`` may carry, and every step a gate decision was recorded for
    (a simulated gated step asks no gate, so only the runbook knows it)."""
    found = set(gated)
    started = _first(events, EventKind.RUN_STARTED)
    recorded = started.data.get("gated") if started is not None else None
    if isinstance(recorded, list):
        found.update(str(s) for s in recorded)
    # a step's own gate; not the question whether to repeat a step on resume, nor a prompt
    found.update(
        e.step_id
        for e in events
        if e.kind in GATE_KINDS and e.step_id and e.data.get("question", "confirm") == "confirm"
    )
    return found


def responded_at(events: Sequence[RunEvent]) -> str | None:
    first = _first(events, EventKind.STEP_STARTED)
    return first.ts if first is not None else None


def diagnosed_at(events: Sequence[RunEvent], gated: Collection[str] = ()) -> str | None:
    """The first ``decide`` step's finish; without a decide step in the run, the last step
    finished before the first gated step was reached (its gate asked or the step started)."""
    decides = _decide_steps(events)
    if decides:
        done = next(
            (e for e in events if e.kind == EventKind.STEP_FINISHED and e.step_id in decides),
            None,
        )
        return done.ts if done is not None else None
    gates = gated_steps(events, gated)
    last: RunEvent | None = None
    for e in events:
        reached = e.kind == EventKind.STEP_STARTED or (
            e.kind in GATE_KINDS and e.data.get("question", "confirm") == "confirm"
        )
        if reached and e.step_id in gates:
            return last.ts if last is not None else None
        if e.kind == EventKind.STEP_FINISHED:
            last = e
    return None


def restored_at(events: Sequence[RunEvent]) -> str | None:
    end = last_end(events)
    if end is not None and end.data.get("outcome") in RESTORED_OUTCOMES:
        return end.ts
    return None


def milestones(events: Sequence[RunEvent], gated: Collection[str] = ()) -> Milestones:
    return Milestones(
        t0=drill_start(events),
        responded=responded_at(events),
        diagnosed=diagnosed_at(events, gated),
        restored=restored_at(events),
    )


def _first(events: Iterable[RunEvent], kind: EventKind) -> RunEvent | None:
    return next((e for e in events if e.kind == kind), None)


def _decide_steps(events: Sequence[RunEvent]) -> set[str]:
    return {
        e.step_id
        for e in events
        if e.kind == EventKind.STEP_STARTED and e.step_id and e.data.get("kind") == "decide"
    }


# --------------------------------------------------------------------------- step times


def step_times(events: Sequence[RunEvent], planned: Mapping[str, float | None]) -> list[StepTime]:
    """Each step of the run (in the runbook's order, as ``run-started`` lists them; then any
    other step seen, then planned steps the run never reached) with planned and actual time."""
    started = _first(events, EventKind.RUN_STARTED)
    order = [str(s) for s in (started.data.get("steps") or [])] if started else []
    order += [e.step_id for e in events if e.step_id and e.kind == EventKind.STEP_STARTED]
    order += [e.step_id for e in events if e.step_id and e.kind == EventKind.STEP_SKIPPED]
    order += list(planned)
    seen: dict[str, None] = dict.fromkeys(order)
    return [_step_time(step_id, events, planned.get(step_id)) for step_id in seen]


def _step_time(step_id: str, events: Sequence[RunEvent], planned_s: float | None) -> StepTime:
    name = step_id
    first_start: str | None = None
    last_finish: str | None = None
    open_at: str | None = None
    actual: float | None = None
    status = "not reached"
    for e in events:
        if e.step_id != step_id:
            continue
        if e.kind == EventKind.STEP_STARTED:
            name = str(e.data.get("name") or name)
            first_start = first_start or e.ts
            open_at, status = e.ts, "unfinished"
        elif e.kind == EventKind.STEP_FINISHED:
            last_finish, status = e.ts, str(e.data.get("status") or "unknown")
            if open_at is not None:
                took = (parse_ts(e.ts) - parse_ts(open_at)).total_seconds()
                actual, open_at = (actual or 0.0) + took, None
        elif e.kind == EventKind.STEP_SKIPPED:
            name, status = str(e.data.get("name") or name), "skipped"
    return StepTime(step_id, name, planned_s, first_start, last_finish, actual, status)


# --------------------------------------------------------------------------- objectives


@dataclass(frozen=True, slots=True)
class _Run:
    """What the objectives read from one run, computed once."""

    events: Sequence[RunEvent]
    marks: Milestones
    severity: int | None
    levels: Mapping[Any, Any]


def _target(run: _Run, given: float | str, clock: str) -> tuple[float | None, str]:
    """An objective's target seconds and how it reads: ``10m``, or for ``level``: the
    severity level's limit (``1h (level 1 limit)``); None when there is no such limit."""
    if given != "level":
        return float(given), human_span(float(given))
    limit = _level_limit(run.levels, run.severity, clock)
    if limit is None:
        return None, f"the level {run.severity if run.severity is not None else '?'} limit"
    return limit, f"{human_span(limit)} (level {run.severity} limit)"


def _level_limit(levels: Mapping[Any, Any], severity: int | None, clock: str) -> float | None:
    if severity is None:
        return None
    policy = levels.get(severity, levels.get(str(severity)))
    value = policy.get(clock) if isinstance(policy, Mapping) else getattr(policy, clock, None)
    return float(value) if value else None


def _timed(
    kind: str, label: str, target: float | None, run: _Run, at: str | None, why_not: str
) -> ObjectiveResult:
    """A time objective: met when reached within the target, missed when reached later,
    not reached otherwise (``why_not`` says why)."""
    measured = run.marks.since_t0(at)
    if target is None:
        why = (
            f"no {kind} limit for level {run.severity} in respond.yaml"
            if run.severity is not None
            else "the run records no severity level"
        )
        return ObjectiveResult(
            kind, label, None, measured, NOT_REACHED, f"{label}: not reached ({why})"
        )
    if measured is None:
        return ObjectiveResult(
            kind, label, target, None, NOT_REACHED, f"{label}: not reached ({why_not})"
        )
    status = MET if measured <= target else MISSED
    return ObjectiveResult(
        kind, label, target, round(measured, 6), status, f"{label}: {status} ({span(measured)})"
    )


def _respond(run: _Run, given: float | str) -> ObjectiveResult:
    target, reads = _target(run, given, "respond")
    label = f"respond within {reads}"
    return _timed("respond", label, target, run, run.marks.responded, "no step started")


def _diagnose(run: _Run, given: float | str) -> ObjectiveResult:
    target, reads = _target(run, given, "diagnose")
    label = f"diagnose within {reads}"
    why = "no decide step finished" if _decide_steps(run.events) else "no diagnosis reached"
    return _timed("diagnose", label, target, run, run.marks.diagnosed, why)


def _restore(run: _Run, given: float | str) -> ObjectiveResult:
    target, reads = _target(run, given, "restore")
    label = f"restore within {reads}"
    end = last_end(run.events)
    if end is None:
        why = "the run did not finish"
    else:
        why = f"run ended {end.data.get('outcome') or end.data.get('status') or 'unknown'}"
    return _timed("restore", label, target, run, run.marks.restored, why)


def _step(run: _Run, step_id: str, by: float) -> ObjectiveResult:
    label = f"step {step_id} by {human_span(by)}"
    done = next(
        (
            e
            for e in run.events
            if e.kind == EventKind.STEP_FINISHED
            and e.step_id == step_id
            and e.data.get("status") in DONE_STATUSES
        ),
        None,
    )
    return _timed("step", label, by, run, done.ts if done else None, _why_not_done(run, step_id))


def _why_not_done(run: _Run, step_id: str) -> str:
    last = None
    for e in run.events:
        if e.step_id == step_id and e.kind in (
            EventKind.STEP_STARTED,
            EventKind.STEP_FINISHED,
            EventKind.STEP_SKIPPED,
        ):
            last = e
    if last is None:
        return f"step {step_id} was not reached"
    if last.kind == EventKind.STEP_SKIPPED:
        reason = str(last.data.get("reason") or "").strip()
        return f"step {step_id} was skipped" + (f": {reason}" if reason else "")
    if last.kind == EventKind.STEP_STARTED:
        return f"step {step_id} did not finish"
    return f"step {step_id} ended {last.data.get('status') or 'unknown'}"


def _gates(run: _Run) -> ObjectiveResult:
    """Every gate reached was decided by a person; a step's gate asked again (a resumed run)
    counts as answered once anyone decided it."""
    label = "every gate answered"
    decided: dict[str, bool] = {}
    for e in run.events:
        if e.kind in GATE_KINDS and e.step_id and e.data.get("question") != "answer":
            by_person = e.data.get("by") != UNATTENDED
            decided[e.step_id] = decided.get(e.step_id, False) or by_person
    unanswered = [step for step, answered in decided.items() if not answered]
    n = len(decided)
    if unanswered:
        text = f"{len(unanswered)} of {n} gate{'s' if n != 1 else ''} unanswered: " + ", ".join(
            unanswered
        )
        return ObjectiveResult("gates", label, None, None, MISSED, f"{label}: missed ({text})")
    detail = f" ({n} of {n} gate{'s' if n != 1 else ''} answered)" if n else " (no gate reached)"
    return ObjectiveResult("gates", label, None, None, MET, f"{label}: met{detail}")


def _skips(run: _Run) -> ObjectiveResult:
    label = "no step skipped without a reason"
    skips = [e for e in run.events if e.kind == EventKind.STEP_SKIPPED]
    bare = [str(e.step_id) for e in skips if not str(e.data.get("reason") or "").strip()]
    n = len(skips)
    if bare:
        text = f"{len(bare)} of {n} skip{'s' if n != 1 else ''} without a reason: " + ", ".join(
            bare
        )
        return ObjectiveResult("skips", label, None, None, MISSED, f"{label}: missed ({text})")
    detail = f" ({n} skip{'s' if n != 1 else ''}, each with a reason)" if n else ""
    return ObjectiveResult("skips", label, None, None, MET, f"{label}: met{detail}")


def _judge(objective: Objective, run: _Run) -> ObjectiveResult:
    """One objective against the run."""
    if objective.respond is not None:
        return _respond(run, objective.respond)
    if objective.diagnose is not None:
        return _diagnose(run, objective.diagnose)
    if objective.restore is not None:
        return _restore(run, objective.restore)
    if objective.step is not None and objective.by is not None:
        return _step(run, objective.step, objective.by)
    if objective.gates is not None:
        return _gates(run)
    return _skips(run)


def score(
    drill: Drill,
    events: Sequence[RunEvent],
    *,
    levels: Mapping[Any, Any] | None = None,
    severity: int | None = None,
    gated: Collection[str] = (),
) -> Scorecard:
    """The drill run's scorecard against ``drill``'s objectives.

    ``levels``: severity level → its limits (``respond``/``restore`` seconds), as
    ``config.severity_policy`` or ``config.levels`` holds them; a level it lacks falls back
    to the limits the run recorded when it started. ``severity``: default the run's
    (``run-started``). ``gated``: the runbook's gated step ids, when the caller has the
    runbook (steps whose gate was asked are known to be gated without it)."""
    started = _first(events, EventKind.RUN_STARTED)
    data = started.data if started is not None else {}
    recorded_level = _as_int(data.get("severity"))
    level = severity if severity is not None else recorded_level
    # the limits the run recorded are its own level's: they stand in for no other level
    recorded = data.get("clock") if level == recorded_level else None
    run = _Run(events, milestones(events, gated), level, _limits(levels, level, recorded))
    end = last_end(events)
    return Scorecard(
        run_id=events[0].run_id if events else None,
        drill=drill.id,
        mode=str(data.get("drill_mode") or drill.mode),
        t0=run.marks.t0,
        results=tuple(_judge(o, run) for o in drill.objectives),
        severity=level,
        outcome=None if end is None else _as_str(end.data.get("outcome")),
        milestones=run.marks,
        steps=tuple(step_times(events, drill.planned)),
    )


def _limits(given: Mapping[Any, Any] | None, level: int | None, recorded: Any) -> dict[Any, Any]:
    """Level → limits, with levels keyed by number; the run's recorded limits fill in the
    run's level when ``given`` has none for it."""
    out: dict[Any, Any] = {}
    for key, value in (given or {}).items():
        out[_as_int(key) if _as_int(key) is not None else key] = value
    if level is not None and level not in out and isinstance(recorded, Mapping):
        out[level] = recorded
    return out


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _as_str(value: Any) -> str | None:
    return None if value is None else str(value)


def scorecard_lines(card: Scorecard) -> list[str]:
    """The scorecard for the terminal: a heading, one line per objective, the verdict."""
    total = len(card.results)
    count = f"{len(card.met)} of {total} objective{'s' if total != 1 else ''} met"
    if not total:
        count = "no objectives set"
    lines = [f"scorecard: drill {card.drill} ({card.mode}) — {count}"]
    lines += [f"  {_MARKS[r.status]} {r.text}" for r in card.results]
    if card.passed:
        lines.append("PASSED")
    else:
        why = [f"{len(card.missed)} missed"] if card.missed else []
        why += [f"{len(card.not_reached)} not reached"] if card.not_reached else []
        lines.append(f"NOT PASSED ({', '.join(why)})")
    return lines


_MARKS = {MET: "✓", MISSED: "✗", NOT_REACHED: "–"}
