"""The schedule's inspection job: run each inspection whose current occurrence nobody has
taken on.

The same rules as the drill job (``respond.schedule.drills``), read from the same record:

- *due*: the inspection's schedule has a current occurrence (the latest at or before now,
  ``respond.drills.schedule``), no process has claimed it, and no inspection run says it
  took it on (run meta ``inspection.occurrence``);
- taking it on is a claim in the drill occurrences table under the key
  ``inspection:NAME`` (``Store.claim_occurrence``), so of two schedule processes started at
  the same moment exactly one runs the inspection; the claim is never given back: a run that
  failed, or could not start, still fulfils its occurrence;
- only the current occurrence is ever run; older ones nobody took on were missed and are
  reported, never caught up one by one (a machine that was off for a week inspects once).

The job runs inspections through ``execute`` (injected by the CLI: an inspection run is the
CLI's composition of engine, executors, on_critical actions and reports), one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from respond.clock import iso, parse_iso
from respond.schedule import Action, Upcoming
from respond.schedule.drills import (
    INTERRUPTED,
    claimer,
    default_zone,
    zone_name,
)

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.drills.model import Schedule
    from respond.inspections.model import Inspection
    from respond.timeline import RunInfo, Store

JOB = "inspections"
# an inspection's occurrences share the drills' claim table under this prefix
CLAIM_PREFIX = "inspection:"


class InspectionOutcome(Protocol):
    """What running one inspection gave (``respond.cli.inspect_exec.InspectionRun``)."""

    @property
    def run_id(self) -> str | None: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


# execute(inspection, occurrence as ISO UTC) -> what the run gave; runs unattended
Execute = Callable[["Inspection", str], InspectionOutcome]


def claim_key(name: str) -> str:
    """The key an inspection's occurrences are claimed under (beside the drills' names)."""
    return CLAIM_PREFIX + name


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionState:
    """Where one inspection definition stands at ``now``, read from the record."""

    name: str
    path: Path
    inspection: Inspection | None  # None: the definition did not load
    error: str | None = None  # why the definition did not load
    zone: str | None = None  # the zone the schedule is read in
    current: datetime | None = None  # the current occurrence (None: none yet, or no schedule)
    next: datetime | None = None  # the first occurrence after now
    claim: Mapping[str, Any] | None = None  # the claim on the current occurrence
    taken_by: str | None = None  # an inspection run whose meta names the current occurrence
    missed: tuple[datetime, ...] = ()  # older occurrences nobody took on (the latest few)
    last_run: RunInfo | None = None  # the latest run of this inspection

    @property
    def schedule(self) -> Schedule | None:
        return self.inspection.schedule if self.inspection else None

    @property
    def due(self) -> bool:
        return (
            self.inspection is not None
            and self.current is not None
            and self.claim is None
            and self.taken_by is None
        )

    @property
    def run_id(self) -> str | None:
        """The run that took on the current occurrence, if one is known."""
        claimed = self.claim.get("run_id") if self.claim else None
        return str(claimed) if claimed else self.taken_by

    @property
    def state(self) -> str:
        """The current occurrence in words: due / done by RUN / failed to start: ... ."""
        if self.inspection is None:
            return f"invalid: {self.error}"
        if self.schedule is None:
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

    def to_dict(self) -> dict[str, Any]:
        schedule = self.schedule
        return {
            "inspection": self.name,
            "path": str(self.path),
            "schedule": schedule.expression if schedule else None,
            "timezone": schedule.timezone if schedule else None,
            "zone": self.zone,
            "occurrence": iso(self.current) if self.current else None,
            "next_due": iso(self.next) if self.next else None,
            "due": self.due,
            "state": self.state,
            "run_id": self.run_id,
            "missed": [iso(m) for m in self.missed],
            "error": self.error,
        }


def _local(text: object) -> str:
    from respond.timeline.export import local_time

    return local_time(str(text)) if text else "-"


def _canonical(text: object) -> str:
    """An occurrence's ISO text in one spelling, whoever wrote it."""
    return iso(parse_iso(str(text)))


def _one_line(exc: BaseException) -> str:
    """An error as one line: a definition's several issues are joined."""
    issues = getattr(exc, "issues", None)
    if issues:
        return "; ".join(str(i) for i in issues)
    return " ".join(str(exc).split()) or type(exc).__name__


def _occurrence_of(info: RunInfo) -> str | None:
    section = info.meta.get("inspection")
    taken = section.get("occurrence") if isinstance(section, Mapping) else None
    return _canonical(taken) if taken else None


@dataclass(slots=True)
class _Record:
    """What the record says about inspections, read once: claims and runs by name."""

    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, list[RunInfo]] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store) -> _Record:
        record = cls()
        for row in store.drill_occurrences():
            key = str(row["drill"])
            if key.startswith(CLAIM_PREFIX):
                name = key[len(CLAIM_PREFIX) :]
                record.claims[(name, _canonical(row["occurrence"]))] = row
        for info in store.runs(drill=False):
            section = info.meta.get("inspection")
            if isinstance(section, Mapping) and section.get("name"):
                record.runs.setdefault(str(section["name"]), []).append(info)
        return record

    def taken_by(self, name: str, occurrence: str) -> str | None:
        for info in self.runs.get(name, []):
            if _occurrence_of(info) == occurrence:
                return info.run_id
        return None

    def last_taken(self, name: str, before: datetime) -> datetime | None:
        """The latest occurrence before ``before`` that was claimed or run."""
        taken = [parse_iso(occ) for (claimed, occ) in self.claims if claimed == name]
        taken += [
            parse_iso(occ) for info in self.runs.get(name, []) if (occ := _occurrence_of(info))
        ]
        earlier = [t for t in taken if t < before]
        return max(earlier) if earlier else None

    def last_run(self, name: str) -> RunInfo | None:
        runs = self.runs.get(name, [])
        return max(runs, key=lambda r: r.started or r.created) if runs else None


def inspection_states(store: Store, config: ProjectConfig, now: datetime) -> list[InspectionState]:
    """Every inspection definition of the project and where it stands at ``now``, by file
    name. One that does not load is a state with its error (the others still count)."""
    from respond.inspections.loader import find_inspections

    record = _Record.read(store)
    zone = default_zone(config)
    return [_state_of(path, config, record, now, zone) for path in find_inspections(config)]


def _state_of(
    path: Path, config: ProjectConfig, record: _Record, now: datetime, zone: str | None
) -> InspectionState:
    from respond.errors import RespondError
    from respond.inspections.loader import load_inspection

    try:
        inspection = load_inspection(path, config)
    except (RespondError, OSError, ValueError) as exc:
        return InspectionState(name=path.stem, path=path, inspection=None, error=_one_line(exc))
    if inspection.schedule is None:
        return InspectionState(
            name=inspection.id,
            path=path,
            inspection=inspection,
            last_run=record.last_run(inspection.id),
        )
    return _scheduled_state(inspection, path, record, now, zone)


def _scheduled_state(
    inspection: Inspection, path: Path, record: _Record, now: datetime, zone: str | None
) -> InspectionState:
    from respond.drills.schedule import current_occurrence, missed_occurrences, next_occurrence

    name = inspection.id
    schedule = inspection.schedule
    assert schedule is not None
    try:
        current = current_occurrence(schedule, now, zone)
        following = next_occurrence(schedule, now, zone)
    except (ValueError, KeyError) as exc:  # a bad expression or zone: validate says where
        return InspectionState(name=name, path=path, inspection=None, error=_one_line(exc))
    occurrence = iso(current) if current else None
    since = record.last_taken(name, current) if current else None
    return InspectionState(
        name=name,
        path=path,
        inspection=inspection,
        zone=zone_name(schedule, zone),
        current=current,
        next=following,
        claim=record.claims.get((name, occurrence)) if occurrence else None,
        taken_by=record.taken_by(name, occurrence) if occurrence else None,
        missed=tuple(missed_occurrences(schedule, since, now, zone)),
        last_run=record.last_run(name),
    )


class InspectionJob:
    """Due inspections as of ``now``: each due occurrence claimed, then run by ``execute``
    (``execute(inspection, occurrence_iso)``)."""

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

    def states(self) -> list[InspectionState]:
        return inspection_states(self.store, self.config, self.now)

    def run(self, *, dry_run: bool) -> list[Action]:
        actions: list[Action] = []
        for state in self.states():
            if state.inspection is None:
                actions.append(not_loaded(state))
            elif state.due:
                taken = would_run(state) if dry_run else self._take(state)
                actions.extend([taken] if taken else [])
                if taken and taken.data.get("exit_code") == INTERRUPTED:
                    break  # Ctrl-C (or SIGTERM) ends this call, not just one inspection
        return actions

    def _take(self, state: InspectionState) -> Action | None:
        """Claim the occurrence and run it; None when another process claimed it first."""
        assert state.inspection is not None and state.current is not None
        from respond.errors import RunInterrupted

        if self.execute is None:
            raise RuntimeError("InspectionJob.run needs an execute callable to run inspections")
        occurrence = iso(state.current)
        key = claim_key(state.name)
        if not self.store.claim_occurrence(key, occurrence, self.by or claimer(self.config)):
            return None
        try:
            result = self.execute(state.inspection, occurrence)
        except RunInterrupted:
            self.store.occurrence_run(key, occurrence, None, "interrupted")
            raise
        except Exception as exc:  # one inspection that cannot start does not stop the others
            detail = _one_line(exc)
            self.store.occurrence_run(key, occurrence, None, detail)
            return not_started(state, occurrence, detail)
        self.store.occurrence_run(key, occurrence, result.run_id, result.error)
        if result.run_id is None:
            detail = result.error or f"exit {result.exit_code}"
            return not_started(state, occurrence, detail, result.exit_code)
        return ran(state, occurrence, result)

    def upcoming(self) -> list[Upcoming]:
        """Each scheduled inspection's pending occurrence: the current one while it is due
        (it runs at the next call), else the next one."""
        items = []
        for state in self.states():
            if state.schedule is None:
                continue
            due = state.current if state.due else state.next
            if due is not None:
                items.append(upcoming_of(state, due))
        return sorted(items, key=lambda item: (item.due, item.subject))


def upcoming_of(state: InspectionState, due: datetime) -> Upcoming:
    schedule = state.schedule
    assert state.inspection is not None and schedule is not None
    return Upcoming(
        job=JOB,
        subject=state.name,
        what="inspection",
        due=due,
        detail={
            "title": state.inspection.title,
            "schedule": schedule.expression,
            "timezone": schedule.timezone,
            "missed": [iso(m) for m in state.missed],
        },
    )


def _missed_words(state: InspectionState) -> str:
    if not state.missed:
        return ""
    from respond.drills.schedule import MISSED_LIMIT

    more = "+" if len(state.missed) >= MISSED_LIMIT else ""
    return f"; missed {len(state.missed)}{more} earlier, not run"


def would_run(state: InspectionState) -> Action:
    assert state.current is not None
    occurrence = iso(state.current)
    return Action(
        job=JOB,
        subject=state.name,
        kind="inspection-due",
        at=occurrence,
        text=f"{state.name}: would run the inspection (occurrence {_local(occurrence)}"
        f"{_missed_words(state)})",
        data=_action_data(state, occurrence),
    )


def ran(state: InspectionState, occurrence: str, result: InspectionOutcome) -> Action:
    ended = result.outcome or f"exit {result.exit_code}"
    return Action(
        job=JOB,
        subject=state.name,
        kind="inspection-run",
        at=occurrence,
        text=f"{state.name}: inspection run {result.run_id} {ended} (exit {result.exit_code}; "
        f"occurrence {_local(occurrence)}{_missed_words(state)})",
        data={
            **_action_data(state, occurrence),
            "run_id": result.run_id,
            "outcome": result.outcome,
            "exit_code": result.exit_code,
            "error": result.error,
        },
        # exit 1 is a finding (the checks ran and found problems), not a failed job
        failed=result.exit_code not in (0, 1),
    )


def not_started(
    state: InspectionState, occurrence: str, detail: str, exit_code: int | None = None
) -> Action:
    return Action(
        job=JOB,
        subject=state.name,
        kind="error",
        at=occurrence,
        text=f"{state.name}: inspection failed to start (occurrence {_local(occurrence)}): "
        f"{detail}",
        data={
            **_action_data(state, occurrence),
            "run_id": None,
            "exit_code": exit_code,
            "error": detail,
        },
        failed=True,
    )


def not_loaded(state: InspectionState) -> Action:
    return Action(
        job=JOB,
        subject=state.name,
        kind="error",
        at=None,
        text=f"{state.name}: inspection not loaded: {state.error}",
        data={"path": str(state.path), "error": state.error},
        failed=True,
    )


def _action_data(state: InspectionState, occurrence: str) -> dict[str, Any]:
    return {"occurrence": occurrence, "missed": [iso(m) for m in state.missed]}
