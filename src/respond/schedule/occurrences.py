"""Scheduled definitions (drills, inspections) and the job that takes their occurrences on.

A definition is *due* when its schedule has a current occurrence (the latest at or before
now, ``respond.drills.schedule``), no process has claimed that occurrence, and no run of it
says it took it on. Taking it on is a claim in the store (``Store.claim_occurrence``): a
primary key decides, so of two schedule processes started at the same moment exactly one
runs it and the other finds it taken. The claim is made before the run starts and is never
given back: a run that fails, or that could not start at all, still fulfils its occurrence,
and the next call does not retry it behind the operator's back.

Only the current occurrence is ever run. Older ones nobody took on were missed: they are
reported, never caught up one by one, so a machine that was off for a week runs once.

What differs between drills and inspections (where definitions live, the claim key, how a
run names its occurrence, the words of the actions) is a small ``Kind``; the rules, the
record reading and the job loop are here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from respond.clock import iso, parse_iso
from respond.schedule import Action, Upcoming

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.drills.model import Schedule
    from respond.timeline import RunInfo, Store

INTERRUPTED = 130  # the exit code of a run cut short by Ctrl-C or SIGTERM


class Scheduled(Protocol):
    """A definition with a schedule: a drill or an inspection."""

    @property
    def id(self) -> str: ...
    @property
    def schedule(self) -> Schedule | None: ...


class Outcome(Protocol):
    """What running one definition gave (``DrillRun``, ``InspectionRun`` in the CLI)."""

    @property
    def run_id(self) -> str | None: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


D = TypeVar("D", bound=Scheduled)


@dataclass(frozen=True, slots=True, kw_only=True)
class OccurrenceState(Generic[D]):
    """Where one definition stands at ``now``, read from the record."""

    name: str
    path: Path
    definition: D | None  # None: the definition did not load
    error: str | None = None  # why the definition did not load
    zone: str | None = None  # the zone the schedule is read in (its own, the default, local)
    current: datetime | None = None  # the current occurrence (None: none yet, or no schedule)
    next: datetime | None = None  # the first occurrence after now
    claim: Mapping[str, Any] | None = None  # the claim on the current occurrence
    taken_by: str | None = None  # a run whose meta names the current occurrence
    missed: tuple[datetime, ...] = ()  # older occurrences nobody took on (the latest few)
    last_run: RunInfo | None = None  # the latest run of this definition (scheduled or by hand)

    @property
    def schedule(self) -> Schedule | None:
        return self.definition.schedule if self.definition is not None else None

    @property
    def due(self) -> bool:
        return (
            self.definition is not None
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
        if self.definition is None:
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
        return f"taken by {self.claim.get('claimed_by')} at {local(self.claim.get('claimed_at'))}"

    @property
    def missed_text(self) -> str:
        """``missed N`` (older occurrences nobody took on), or empty."""
        if not self.missed:
            return ""
        from respond.drills.schedule import MISSED_LIMIT

        more = "+" if len(self.missed) >= MISSED_LIMIT else ""
        return f"missed {len(self.missed)}{more}"


S = TypeVar("S", bound="OccurrenceState[Any]")


class Kind(Generic[D, S]):
    """What one kind of scheduled definition does its own way; the rest is shared."""

    job: str  # the job's name: "drills", "inspections"
    noun: str  # "drill": action kinds "drill-due", "drill-run"; "drill run RUN ..."
    label: str = ""  # before "failed to start" and "not loaded" ("inspection ")
    ok_exits: tuple[int, ...] = (0,)  # a run that ended so did not fail the job
    state_type: type[S]

    def find(self, config: ProjectConfig) -> list[Path]:
        raise NotImplementedError

    def load(self, path: Path, config: ProjectConfig) -> D:
        raise NotImplementedError

    def claim_key(self, name: str) -> str:
        """The key this definition's occurrences are claimed under."""
        return name

    def claimed_name(self, key: str) -> str | None:
        """The definition a claim's key names, None when it is another kind's."""
        return key

    def runs(self, store: Store) -> Iterable[tuple[str, object, RunInfo]]:
        """Each run of a definition: (its name, the occurrence it took on or None, run)."""
        raise NotImplementedError

    def would_run(self, definition: D) -> str:
        """What a due occurrence runs, after "would run": "the inspection"."""
        raise NotImplementedError

    def ran_note(self, result: Outcome) -> str:
        """Said before the occurrence in a run's line, e.g. its exit code."""
        return ""

    def action_detail(self, definition: D) -> dict[str, Any]:
        return {}

    def upcoming_what(self, definition: D) -> str:
        raise NotImplementedError

    def upcoming_detail(self, definition: D) -> dict[str, Any]:
        return {}


def local(text: object) -> str:
    from respond.timeline.export import local_time

    return local_time(str(text)) if text else "-"


def canonical(text: object) -> str:
    """An occurrence's ISO text in one spelling, whoever wrote it."""
    return iso(parse_iso(str(text)))


def one_line(exc: BaseException) -> str:
    """An error as one line: a definition's several issues are joined."""
    issues = getattr(exc, "issues", None)
    if issues:
        return "; ".join(str(i) for i in issues)
    return " ".join(str(exc).split()) or type(exc).__name__


def default_zone(config: ProjectConfig) -> str | None:
    """respond.yaml ``timezone``: the zone of schedules that name none."""
    return config.timezone


def zone_name(schedule: Schedule, default: str | None) -> str:
    """The name of the zone a schedule is read in: its own, respond.yaml's, else this
    machine's (as its abbreviation, e.g. ``CST``, with "local")."""
    from respond.drills.schedule import zone_of

    named = schedule.timezone or default
    return named if named else f"local: {zone_of(schedule).tzname(None) or '?'}"


def claimer(config: ProjectConfig) -> str:
    """Who takes an occurrence on: the operator, and the machine when the name lacks it."""
    import socket

    from respond.config import operator_name

    operator = operator_name(config)
    host = socket.gethostname()
    return operator if operator.endswith(f"@{host}") else f"{operator}@{host}"


@dataclass(slots=True)
class Record:
    """What the record says about one kind, read once: claims, and runs by name with the
    occurrence each took on."""

    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, list[tuple[str | None, RunInfo]]] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store, kind: Kind[Any, Any]) -> Record:
        record = cls()
        for row in store.drill_occurrences():
            name = kind.claimed_name(str(row["drill"]))
            if name is not None:
                record.claims[(name, canonical(row["occurrence"]))] = row
        for name, taken, info in kind.runs(store):
            occurrence = canonical(taken) if taken else None
            record.runs.setdefault(name, []).append((occurrence, info))
        return record

    def taken_by(self, name: str, occurrence: str) -> str | None:
        for taken, info in self.runs.get(name, []):
            if taken == occurrence:
                return info.run_id
        return None

    def last_taken(self, name: str, before: datetime) -> datetime | None:
        """The latest occurrence before ``before`` that was claimed or run."""
        taken = [parse_iso(occ) for (claimed, occ) in self.claims if claimed == name]
        taken += [parse_iso(occ) for occ, _ in self.runs.get(name, []) if occ]
        earlier = [t for t in taken if t < before]
        return max(earlier) if earlier else None

    def last_run(self, name: str) -> RunInfo | None:
        runs = [info for _, info in self.runs.get(name, [])]
        return max(runs, key=lambda r: r.started or r.created) if runs else None


def states(kind: Kind[Any, S], store: Store, config: ProjectConfig, now: datetime) -> list[S]:
    """Every definition of the kind in the project and where it stands at ``now``. One that
    does not load is a state with its error (the others still count)."""
    record = Record.read(store, kind)
    zone = default_zone(config)
    return [_state_of(kind, path, config, record, now, zone) for path in kind.find(config)]


def _state_of(
    kind: Kind[Any, S],
    path: Path,
    config: ProjectConfig,
    record: Record,
    now: datetime,
    zone: str | None,
) -> S:
    from respond.errors import RespondError

    try:
        definition = kind.load(path, config)
    except (RespondError, OSError, ValueError) as exc:
        return kind.state_type(name=path.stem, path=path, definition=None, error=one_line(exc))
    name = definition.id
    if definition.schedule is None:
        return kind.state_type(
            name=name, path=path, definition=definition, last_run=record.last_run(name)
        )
    return _scheduled_state(kind, definition, path, record, now, zone)


def _scheduled_state(
    kind: Kind[Any, S],
    definition: Scheduled,
    path: Path,
    record: Record,
    now: datetime,
    zone: str | None,
) -> S:
    from respond.drills.schedule import current_occurrence, missed_occurrences, next_occurrence

    name, schedule = definition.id, definition.schedule
    assert schedule is not None
    try:
        current = current_occurrence(schedule, now, zone)
        following = next_occurrence(schedule, now, zone)
    except (ValueError, KeyError) as exc:  # a bad expression or zone: validate says where
        return kind.state_type(name=name, path=path, definition=None, error=one_line(exc))
    occurrence = iso(current) if current else None
    since = record.last_taken(name, current) if current else None
    return kind.state_type(
        name=name,
        path=path,
        definition=definition,
        zone=zone_name(schedule, zone),
        current=current,
        next=following,
        claim=record.claims.get((name, occurrence)) if occurrence else None,
        taken_by=record.taken_by(name, occurrence) if occurrence else None,
        missed=tuple(missed_occurrences(schedule, since, now, zone)),
        last_run=record.last_run(name),
    )


class OccurrenceJob(Generic[D, S]):
    """Due definitions as of ``now``: each due occurrence claimed, then run by ``execute``
    (``execute(definition, occurrence_iso)``), one after another."""

    kind: Kind[D, S]

    def __init__(
        self,
        store: Store,
        config: ProjectConfig,
        now: datetime,
        execute: Callable[[D, str], Outcome] | None = None,
        *,
        by: str | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.now = now
        self.execute = execute
        self.by = by

    def states(self) -> list[S]:
        return states(self.kind, self.store, self.config, self.now)

    def run(self, *, dry_run: bool) -> list[Action]:
        actions: list[Action] = []
        for state in self.states():
            if state.definition is None:
                actions.append(not_loaded(self.kind, state))
            elif state.due:
                taken = would_run(self.kind, state) if dry_run else self._take(state)
                actions.extend([taken] if taken else [])
                if taken and taken.data.get("exit_code") == INTERRUPTED:
                    break  # Ctrl-C (or SIGTERM) ends this call, not just one definition
        return actions

    def _take(self, state: S) -> Action | None:
        """Claim the occurrence and run it; None when another process claimed it first."""
        assert state.definition is not None and state.current is not None
        from respond.errors import RunInterrupted

        if self.execute is None:
            raise RuntimeError(
                f"{type(self).__name__}.run needs an execute callable to run {self.kind.job}"
            )
        occurrence = iso(state.current)
        key = self.kind.claim_key(state.name)
        if not self.store.claim_occurrence(key, occurrence, self.by or claimer(self.config)):
            return None
        try:
            result = self.execute(state.definition, occurrence)
        except RunInterrupted:
            self.store.occurrence_run(key, occurrence, None, "interrupted")
            raise
        except Exception as exc:  # one that cannot start does not stop the others
            detail = one_line(exc)
            self.store.occurrence_run(key, occurrence, None, detail)
            return not_started(self.kind, state, occurrence, detail)
        self.store.occurrence_run(key, occurrence, result.run_id, result.error)
        if result.run_id is None:
            detail = result.error or f"exit {result.exit_code}"
            return not_started(self.kind, state, occurrence, detail, result.exit_code)
        return ran(self.kind, state, occurrence, result)

    def upcoming(self) -> list[Upcoming]:
        """Each scheduled definition's pending occurrence: the current one while it is due
        (it runs at the next call), else the next one."""
        items = []
        for state in self.states():
            if state.schedule is None:
                continue
            due = state.current if state.due else state.next
            if due is not None:
                items.append(upcoming_of(self.kind, state, due))
        return sorted(items, key=lambda item: (item.due, item.subject))


def upcoming_of(kind: Kind[D, Any], state: OccurrenceState[D], due: datetime) -> Upcoming:
    definition = state.definition
    assert definition is not None and definition.schedule is not None
    return Upcoming(
        job=kind.job,
        subject=state.name,
        what=kind.upcoming_what(definition),
        due=due,
        detail={**kind.upcoming_detail(definition), "missed": [iso(m) for m in state.missed]},
    )


def _missed_words(state: OccurrenceState[Any]) -> str:
    return f"; {state.missed_text} earlier, not run" if state.missed else ""


def would_run(kind: Kind[D, Any], state: OccurrenceState[D]) -> Action:
    assert state.definition is not None and state.current is not None
    occurrence = iso(state.current)
    return Action(
        job=kind.job,
        subject=state.name,
        kind=f"{kind.noun}-due",
        at=occurrence,
        text=f"{state.name}: would run {kind.would_run(state.definition)} "
        f"(occurrence {local(occurrence)}{_missed_words(state)})",
        data=_action_data(kind, state, occurrence),
    )


def ran(kind: Kind[D, Any], state: OccurrenceState[D], occurrence: str, result: Outcome) -> Action:
    ended = result.outcome or f"exit {result.exit_code}"
    return Action(
        job=kind.job,
        subject=state.name,
        kind=f"{kind.noun}-run",
        at=occurrence,
        text=f"{state.name}: {kind.noun} run {result.run_id} {ended} ({kind.ran_note(result)}"
        f"occurrence {local(occurrence)}{_missed_words(state)})",
        data={
            **_action_data(kind, state, occurrence),
            "run_id": result.run_id,
            "outcome": result.outcome,
            "exit_code": result.exit_code,
            "error": result.error,
        },
        failed=result.exit_code not in kind.ok_exits,
    )


def not_started(
    kind: Kind[D, Any],
    state: OccurrenceState[D],
    occurrence: str,
    detail: str,
    exit_code: int | None = None,
) -> Action:
    return Action(
        job=kind.job,
        subject=state.name,
        kind="error",
        at=occurrence,
        text=f"{state.name}: {kind.label}failed to start (occurrence {local(occurrence)}): "
        f"{detail}",
        data={
            **_action_data(kind, state, occurrence),
            "run_id": None,
            "exit_code": exit_code,
            "error": detail,
        },
        failed=True,
    )


def not_loaded(kind: Kind[Any, Any], state: OccurrenceState[Any]) -> Action:
    return Action(
        job=kind.job,
        subject=state.name,
        kind="error",
        at=None,
        text=f"{state.name}: {kind.label}not loaded: {state.error}",
        data={"path": str(state.path), "error": state.error},
        failed=True,
    )


def _action_data(kind: Kind[D, Any], state: OccurrenceState[D], occurrence: str) -> dict[str, Any]:
    assert state.definition is not None
    return {
        "occurrence": occurrence,
        **kind.action_detail(state.definition),
        "missed": [iso(m) for m in state.missed],
    }
