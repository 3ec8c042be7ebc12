"""The schedule's drill job: run each drill whose current occurrence nobody has taken on.

A drill is *due* when its schedule has a current occurrence (the latest at or before now,
``respond.drills.schedule``), no process has claimed that occurrence, and no drill run says
it rehearsed it (run meta ``occurrence``). Taking it on is a claim in the store
(``Store.claim_occurrence``): a primary key decides, so of two schedule processes started at
the same moment exactly one runs the drill and the other finds it taken. The claim is made
before the run starts and is never given back: a run that fails, or that could not start at
all, still fulfils its occurrence (``drill list`` shows why), and the next call does not
retry it behind the operator's back: rehearsing it again is a decision, ``respond drill run``.

Only the current occurrence is ever run. Older ones nobody took on were missed: they are
reported (``drill list``, ``drill due``, the after-action report), never caught up one by
one, so a machine that was off for a week runs a daily drill once.

The job runs drills through ``execute`` (injected by the CLI: running a drill is the CLI's
composition of engine, executors and terminal), one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from respond.clock import iso, parse_iso
from respond.schedule import Action, Upcoming

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.drills.model import Drill, Schedule
    from respond.timeline import RunInfo, Store

JOB = "drills"
INTERRUPTED = 130  # the exit code of a run cut short by Ctrl-C or SIGTERM


class DrillOutcome(Protocol):
    """What running one drill gave (``respond.cli.drill_exec.DrillRun``)."""

    @property
    def run_id(self) -> str | None: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


# execute(drill, occurrence as ISO UTC) -> what the run gave; runs unattended
Execute = Callable[["Drill", str], DrillOutcome]


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillState:
    """Where one drill definition stands at ``now``, read from the record."""

    name: str
    path: Path
    drill: Drill | None
    error: str | None = None  # why the definition did not load
    zone: str | None = None  # the zone the schedule is read in (its own, the default, local)
    current: datetime | None = None  # the current occurrence (None: none yet, or no schedule)
    next: datetime | None = None  # the first occurrence after now
    claim: Mapping[str, Any] | None = None  # the claim on the current occurrence
    rehearsal: str | None = None  # a drill run whose meta names the current occurrence
    missed: tuple[datetime, ...] = ()  # older occurrences nobody took on (the latest few)
    last_run: RunInfo | None = None  # the latest run of this drill (scheduled or by hand)

    @property
    def due(self) -> bool:
        return (
            self.drill is not None
            and self.current is not None
            and self.claim is None
            and self.rehearsal is None
        )

    @property
    def run_id(self) -> str | None:
        """The run that took on the current occurrence, if one is known."""
        claimed = self.claim.get("run_id") if self.claim else None
        return str(claimed) if claimed else self.rehearsal

    @property
    def state(self) -> str:
        """The current occurrence in words: due / done by RUN / failed to start: ... ."""
        if self.drill is None:
            return f"invalid: {self.error}"
        if self.drill.schedule is None:
            return "by hand only (no schedule)"
        if self.current is None:
            return "not yet due"
        if self.due:
            return "due"
        if self.run_id:
            return f"done by {self.run_id}"
        assert self.claim is not None
        if self.claim.get("detail"):
            return f"failed to start: {self.claim['detail']}"
        return f"taken by {self.claim.get('claimed_by')} at {_local(self.claim.get('claimed_at'))}"

    @property
    def missed_text(self) -> str:
        """``missed N`` (older occurrences nobody took on), or empty."""
        if not self.missed:
            return ""
        from respond.drills.schedule import MISSED_LIMIT

        more = "+" if len(self.missed) >= MISSED_LIMIT else ""
        return f"missed {len(self.missed)}{more}"

    def to_dict(self) -> dict[str, Any]:
        return state_dict(self)


def state_dict(state: DrillState) -> dict[str, Any]:
    """A drill's state as JSON (``drill list --json``, ``drill due --json``)."""
    drill = state.drill
    schedule = drill.schedule if drill else None
    last = state.last_run
    return {
        "drill": state.name,
        "path": str(state.path),
        "title": drill.title if drill else None,
        "mode": drill.mode if drill else None,
        "runbook": drill.runbook if drill else None,
        "schedule": schedule.expression if schedule else None,
        "timezone": schedule.timezone if schedule else None,
        "zone": state.zone,
        "start": schedule.start if schedule else None,
        "occurrence": iso(state.current) if state.current else None,
        "next_due": iso(state.next) if state.next else None,
        "due": state.due,
        "state": state.state,
        "run_id": state.run_id,
        "claim": dict(state.claim) if state.claim else None,
        "missed": [iso(m) for m in state.missed],
        "last_run": _run_dict(last) if last else None,
        "error": state.error,
    }


def _run_dict(info: RunInfo) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "started": info.started or info.created,
        "mode": info.meta.get("drill_mode"),
        "occurrence": info.meta.get("occurrence"),
        "status": info.status,
        "outcome": info.outcome,
    }


def _local(text: object) -> str:
    from respond.timeline.export import local_time

    return local_time(str(text)) if text else "-"


def default_zone(config: ProjectConfig) -> str | None:
    """respond.yaml ``timezone``: the zone of drill schedules that name none."""
    return config.timezone


@dataclass(slots=True)
class _Record:
    """What the record says about drills, read once: claims and drill runs by drill."""

    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, list[RunInfo]] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store) -> _Record:
        record = cls()
        for row in store.drill_occurrences():
            record.claims[(str(row["drill"]), _canonical(row["occurrence"]))] = row
        for info in store.runs(drill=True):
            name = info.meta.get("drill_name")
            if name:
                record.runs.setdefault(str(name), []).append(info)
        return record

    def rehearsal(self, name: str, occurrence: str) -> str | None:
        for info in self.runs.get(name, []):
            taken = info.meta.get("occurrence")
            if taken and _canonical(taken) == occurrence:
                return info.run_id
        return None

    def last_taken(self, name: str, before: datetime) -> datetime | None:
        """The latest occurrence before ``before`` that was claimed or rehearsed."""
        taken = [parse_iso(occ) for (drill, occ) in self.claims if drill == name]
        taken += [
            parse_iso(str(info.meta["occurrence"]))
            for info in self.runs.get(name, [])
            if info.meta.get("occurrence")
        ]
        earlier = [t for t in taken if t < before]
        return max(earlier) if earlier else None

    def last_run(self, name: str) -> RunInfo | None:
        runs = self.runs.get(name, [])
        return max(runs, key=lambda r: r.started or r.created) if runs else None


def _canonical(text: object) -> str:
    """An occurrence's ISO text in one spelling, whoever wrote it."""
    return iso(parse_iso(str(text)))


def drill_states(store: Store, config: ProjectConfig, now: datetime) -> list[DrillState]:
    """Every drill definition of the project and where it stands at ``now``, by name.
    A definition that does not load is a state with its error (the others still count)."""
    from respond.drills.loader import find_drills

    record = _Record.read(store)
    zone = default_zone(config)
    return [_state_of(path, config, record, now, zone) for path in find_drills(config)]


def _state_of(
    path: Path, config: ProjectConfig, record: _Record, now: datetime, zone: str | None
) -> DrillState:
    from respond.drills.loader import load_drill
    from respond.errors import RespondError

    try:
        drill = load_drill(path, config)
    except (RespondError, OSError, ValueError) as exc:
        return DrillState(name=path.stem, path=path, drill=None, error=_one_line(exc))
    if drill.schedule is None:
        return DrillState(name=drill.id, path=path, drill=drill, last_run=record.last_run(drill.id))
    return _scheduled_state(drill, path, record, now, zone)


def _scheduled_state(
    drill: Drill, path: Path, record: _Record, now: datetime, zone: str | None
) -> DrillState:
    from respond.drills.schedule import current_occurrence, missed_occurrences, next_occurrence

    assert drill.schedule is not None
    try:
        current = current_occurrence(drill.schedule, now, zone)
        following = next_occurrence(drill.schedule, now, zone)
    except (ValueError, KeyError) as exc:  # a bad expression or zone: validate says where
        return DrillState(name=drill.id, path=path, drill=None, error=_one_line(exc))
    occurrence = iso(current) if current else None
    since = record.last_taken(drill.id, current) if current else None
    return DrillState(
        name=drill.id,
        path=path,
        drill=drill,
        zone=zone_name(drill.schedule, zone),
        current=current,
        next=following,
        claim=record.claims.get((drill.id, occurrence)) if occurrence else None,
        rehearsal=record.rehearsal(drill.id, occurrence) if occurrence else None,
        missed=tuple(missed_occurrences(drill.schedule, since, now, zone)),
        last_run=record.last_run(drill.id),
    )


def zone_name(schedule: Schedule, default: str | None) -> str:
    """The name of the zone a schedule is read in: its own, respond.yaml's, else this
    machine's (as its abbreviation, e.g. ``CST``, with "local")."""
    from respond.drills.schedule import zone_of

    named = schedule.timezone or default
    return named if named else f"local: {zone_of(schedule).tzname(None) or '?'}"


def _one_line(exc: BaseException) -> str:
    """An error as one line: a definition's several issues are joined."""
    issues = getattr(exc, "issues", None)
    if issues:
        return "; ".join(str(i) for i in issues)
    return " ".join(str(exc).split()) or type(exc).__name__


def claimer(config: ProjectConfig) -> str:
    """Who takes an occurrence on: the operator, and the machine when the name lacks it."""
    import socket

    from respond.config import operator_name

    operator = operator_name(config)
    host = socket.gethostname()
    return operator if operator.endswith(f"@{host}") else f"{operator}@{host}"


class DrillJob:
    """Due drills as of ``now``: each due occurrence claimed, then run by ``execute``."""

    name = JOB

    def __init__(
        self,
        store: Store,
        config: ProjectConfig,
        now: datetime,
        execute: Execute | None = None,
        *,
        by: str | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.now = now
        self.execute = execute
        self.by = by

    def states(self) -> list[DrillState]:
        return drill_states(self.store, self.config, self.now)

    def run(self, *, dry_run: bool) -> list[Action]:
        actions: list[Action] = []
        for state in self.states():
            if state.drill is None:
                actions.append(not_loaded(state))
            elif state.due:
                taken = would_run(state) if dry_run else self._take(state)
                actions.extend([taken] if taken else [])
                if taken and taken.data.get("exit_code") == INTERRUPTED:
                    break  # Ctrl-C (or SIGTERM) ends this call, not just one drill
        return actions

    def _take(self, state: DrillState) -> Action | None:
        """Claim the occurrence and run it; None when another process claimed it first."""
        assert state.drill is not None and state.current is not None
        from respond.errors import RunInterrupted

        if self.execute is None:
            raise RuntimeError("DrillJob.run needs an execute callable to run drills")
        occurrence = iso(state.current)
        by = self.by or claimer(self.config)
        if not self.store.claim_occurrence(state.name, occurrence, by):
            return None
        try:
            result = self.execute(state.drill, occurrence)
        except RunInterrupted:
            self.store.occurrence_run(state.name, occurrence, None, "interrupted")
            raise
        except Exception as exc:  # one drill that cannot start does not stop the others
            detail = _one_line(exc)
            self.store.occurrence_run(state.name, occurrence, None, detail)
            return not_started(state, occurrence, detail)
        self.store.occurrence_run(state.name, occurrence, result.run_id, result.error)
        if result.run_id is None:
            detail = result.error or f"exit {result.exit_code}"
            return not_started(state, occurrence, detail, result.exit_code)
        return ran(state, occurrence, result)

    def upcoming(self) -> list[Upcoming]:
        """Each scheduled drill's pending occurrence: the current one while it is due (it
        runs at the next call), else the next one."""
        items = []
        for state in self.states():
            if state.drill is None or state.drill.schedule is None:
                continue
            due = state.current if state.due else state.next
            if due is not None:
                items.append(upcoming_of(state, due))
        return sorted(items, key=lambda item: (item.due, item.subject))


def upcoming_of(state: DrillState, due: datetime) -> Upcoming:
    drill = state.drill
    assert drill is not None and drill.schedule is not None
    return Upcoming(
        job=JOB,
        subject=state.name,
        what=f"{drill.mode} drill of {drill.runbook}",
        due=due,
        detail={
            "title": drill.title,
            "mode": drill.mode,
            "runbook": drill.runbook,
            "schedule": drill.schedule.expression,
            "timezone": drill.schedule.timezone,
            "missed": [iso(m) for m in state.missed],
        },
    )


def _missed_words(state: DrillState) -> str:
    return f"; {state.missed_text} earlier, not run" if state.missed else ""


def would_run(state: DrillState) -> Action:
    drill = state.drill
    assert drill is not None and state.current is not None
    occurrence = iso(state.current)
    return Action(
        job=JOB,
        subject=state.name,
        kind="drill-due",
        at=occurrence,
        text=f"{state.name}: would run the {drill.mode} drill of {drill.runbook} "
        f"(occurrence {_local(occurrence)}{_missed_words(state)})",
        data=_action_data(state, occurrence),
    )


def ran(state: DrillState, occurrence: str, result: DrillOutcome) -> Action:
    drill = state.drill
    assert drill is not None
    ended = result.outcome or f"exit {result.exit_code}"
    return Action(
        job=JOB,
        subject=state.name,
        kind="drill-run",
        at=occurrence,
        text=f"{state.name}: drill run {result.run_id} {ended} (occurrence "
        f"{_local(occurrence)}{_missed_words(state)})",
        data={
            **_action_data(state, occurrence),
            "run_id": result.run_id,
            "outcome": result.outcome,
            "exit_code": result.exit_code,
            "error": result.error,
        },
        failed=result.exit_code != 0,
    )


def not_started(
    state: DrillState, occurrence: str, detail: str, exit_code: int | None = None
) -> Action:
    return Action(
        job=JOB,
        subject=state.name,
        kind="error",
        at=occurrence,
        text=f"{state.name}: failed to start (occurrence {_local(occurrence)}): {detail}",
        data={
            **_action_data(state, occurrence),
            "run_id": None,
            "exit_code": exit_code,
            "error": detail,
        },
        failed=True,
    )


def not_loaded(state: DrillState) -> Action:
    return Action(
        job=JOB,
        subject=state.name,
        kind="error",
        at=None,
        text=f"{state.name}: not loaded: {state.error}",
        data={"path": str(state.path), "error": state.error},
        failed=True,
    )


def _action_data(state: DrillState, occurrence: str) -> dict[str, Any]:
    drill = state.drill
    assert drill is not None
    return {
        "occurrence": occurrence,
        "mode": drill.mode,
        "runbook": drill.runbook,
        "missed": [iso(m) for m in state.missed],
    }
