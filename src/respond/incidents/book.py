"""The incident book: every change to an incident's record goes through here.

Each change is decided from the record's own events inside the store transaction that
appends it (``Store.append_if``), so two processes acting on the same incident at the same
moment (cron's schedule, a run's deadline watcher, `respond ack`) cannot both record the same
escalation or acknowledgement. People are told (``announce``) only after the transaction
commits, and a failing announcer never loses or undoes what was recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from respond.clock import SYSTEM_CLOCK, Clock, iso
from respond.errors import TimelineError, UnknownRun, UsageError
from respond.events import EventDraft, EventKind, RunEvent
from respond.incident_state import (
    LEVELS,
    NO_FAULT,
    OPEN,
    RESOLVED,
    VENDOR_FIELDS,
    IncidentState,
    fold,
    overdue,
)
from respond.secrets import Masker
from respond.timeline.store import RECORD_INCIDENT, Store, new_incident_id

if TYPE_CHECKING:
    from respond.config import ProjectConfig

Announce = Callable[[IncidentState, RunEvent], None]
log = logging.getLogger("respond.incidents")

# the events people are told about (run-ended only when it restored the incident)
TOLD = frozenset(
    {
        EventKind.INCIDENT_OPENED,
        EventKind.ESCALATED,
        EventKind.DEADLINE_MISSED,
        EventKind.SEVERITY_CHANGED,
        EventKind.RESTORED,
        EventKind.RESOLVED,
    }
)


class DeadlineCheckFailed(TimelineError):
    """Some incidents' deadlines could not be checked; ``done`` holds what the others
    recorded, ``failed`` each failing incident and why."""

    def __init__(
        self, done: list[tuple[str, list[RunEvent]]], failed: list[tuple[str, Exception]]
    ) -> None:
        first_id, first_exc = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        super().__init__(
            f"could not check the deadlines of incident {first_id}{more}: {first_exc}",
            hint=f"respond timeline verify {first_id} shows whether its record is intact",
        )
        self.done = done
        self.failed = failed


def check_level(level: object) -> int:
    """A severity level 1-4, or ``UsageError`` (exit 2) naming what was given."""
    try:
        n = int(str(level))
    except ValueError:
        n = 0
    if isinstance(level, bool) or n not in LEVELS:
        raise UsageError(f"severity must be 1-4 (1 is the worst), got {level}")
    return n


def _state_of(incident_id: str, events: Sequence[RunEvent]) -> IncidentState:
    """The incident's state, or ``UnknownRun`` when the record is not an incident."""
    if not events or events[0].kind != EventKind.INCIDENT_OPENED:
        raise UnknownRun(f"{incident_id} is not an incident record")
    return fold(events, incident_id)


class IncidentBook:
    """Opens incidents and records what happens to them, through ``store``. ``limits`` is the
    severity policy (level → ``{"respond": s, "restore": s}``), ``vendor`` the vendor's
    promised limits; both are snapshotted into each incident when it opens.
    ``masker`` (e.g. a run's, with its secret parameters) masks what is recorded."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = SYSTEM_CLOCK,
        limits: Mapping[int, Mapping[str, float]],
        vendor: Mapping[str, Any] | None = None,
        announce: Announce | None = None,
        masker: Masker | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # what people type (titles, notes, causes) passes the masker on its way to the
        # record; the signing key never reaches it either
        self.masker = masker if masker is not None else Masker()
        for secret in store.key_material():
            self.masker.add(secret)
        self.limits = {int(k): dict(v) for k, v in limits.items()}
        self.vendor = dict(vendor) if vendor else None
        self.announce = announce

    @classmethod
    def from_config(
        cls, store: Store, config: ProjectConfig, *, clock: Clock = SYSTEM_CLOCK
    ) -> IncidentBook:
        """The book of a project: its severity policy and (when configured) its vendor.
        Announcements are wired in by the notification layer."""
        vendor = vendor_snapshot(getattr(config, "vendor", None))
        return cls(store, clock=clock, limits=config.severity_policy, vendor=vendor)

    # -- opening ------------------------------------------------------------------
    def open(
        self,
        *,
        title: str | None,
        runbook: str | None,
        version: str | None,
        scenario: str | None,
        severity: int,
        detected_at: datetime,
        reported_by: str | None,
        site: str | None,
        description: str | None,
        operator: str,
    ) -> str:
        """Open an incident; returns its id. Its policy is snapshotted into the record."""
        level = check_level(severity)
        incident_id = self._free_id()
        fields = {
            "title": title,
            "runbook": runbook,
            "version": version,
            "site": site,
            "reported_by": reported_by,
            "description": description,
        }
        meta = {
            "record": RECORD_INCIDENT,
            **fields,
            "scenario": scenario,
            "operator": operator,
            "detected_at": iso(detected_at),
            "severity": level,
        }
        self.store.create_run(incident_id, self.masker.mask(meta))
        data = {
            "detected_at": iso(detected_at),
            "severity": level,
            **fields,
            "limits": {str(k): dict(v) for k, v in sorted(self.limits.items())},
            "vendor": self.vendor,
        }
        draft = EventDraft(kind=EventKind.INCIDENT_OPENED, actor=operator, data=data)
        self._record(incident_id, lambda state: [draft], opening=True)
        return incident_id

    def attach(
        self,
        incident_id: str,
        run_id: str,
        *,
        runbook: str | None,
        version: str | None,
        operator: str,
    ) -> None:
        """Attach a run; the first acknowledges the incident if nobody did. A resolved or
        no-fault incident takes no more runs (``UsageError``)."""

        def build(state: IncidentState) -> list[EventDraft]:
            if state.status in (RESOLVED, NO_FAULT):
                raise UsageError(f"incident {incident_id} is {state.status}")
            if any(r["run_id"] == run_id for r in state.runs):
                return []
            data = {
                "run_id": run_id,
                "runbook": runbook,
                "version": version,
                "at": iso(self.clock.now()),
            }
            return [EventDraft(kind=EventKind.RUN_ATTACHED, actor=operator, data=data)]

        self._record(incident_id, build)

    # -- people -------------------------------------------------------------------
    def ack(
        self, incident_id: str, *, by: str, at: datetime | None = None, note: str | None = None
    ) -> RunEvent | None:
        """Acknowledge (the respond clock); None when it was acknowledged already."""
        when = self._when(at)

        def build(state: IncidentState) -> list[EventDraft]:
            if state.acked_at is not None:
                return []
            data: dict[str, Any] = {"at": iso(when), "by": by}
            if note:
                data["note"] = note
            return [EventDraft(kind=EventKind.ACKNOWLEDGED, actor=by, data=data)]

        return _first(self._record(incident_id, build))

    def set_severity(self, incident_id: str, level: int, *, reason: str, by: str) -> RunEvent:
        """Re-classify: the incident was ``level`` all along (its SLA level changes)."""
        new = check_level(level)

        def build(state: IncidentState) -> list[EventDraft]:
            if state.level == new and state.sla_level == new:
                raise UsageError(f"incident {incident_id} is already level {new}")
            data = {
                "from": state.level,
                "to": new,
                "reason": reason,
                "at": iso(self.clock.now()),
            }
            return [EventDraft(kind=EventKind.SEVERITY_CHANGED, actor=by, data=data)]

        found = _first(self._record(incident_id, build))
        assert found is not None  # build always returns one draft or raises
        return found

    def escalate(
        self,
        incident_id: str,
        *,
        reason: str,
        by: str,
        run_id: str | None = None,
        step_id: str | None = None,
    ) -> RunEvent | None:
        """Escalate one level now (a runbook's ``on_failure: escalate``); None at level 1
        or when the incident is no longer open."""

        def build(state: IncidentState) -> list[EventDraft]:
            if state.level <= 1 or state.status != OPEN:
                return []
            data: dict[str, Any] = {
                "from": state.level,
                "to": state.level - 1,
                "reason": reason,
                "at": iso(self.clock.now()),
                "automatic": False,
                "deadline": None,
            }
            if run_id is not None:
                data["run_id"] = run_id
            if step_id is not None:
                data["step_id"] = step_id
            return [EventDraft(kind=EventKind.ESCALATED, actor=by, step_id=step_id, data=data)]

        return _first(self._record(incident_id, build))

    # -- clocks -------------------------------------------------------------------
    def check_deadlines(self, incident_id: str) -> list[RunEvent]:
        """Record every deadline of the incident that passed, exactly once."""
        now = self.clock.now()
        return self._record(incident_id, lambda state: overdue(state, now))

    def check_all(self) -> list[tuple[str, list[RunEvent]]]:
        """Check every incident with a deadline due (the schedule's work). One incident that
        cannot be checked does not keep the others from escalating: they are all checked,
        then ``DeadlineCheckFailed`` names the ones that failed (what was done stays done)."""
        done: list[tuple[str, list[RunEvent]]] = []
        failed: list[tuple[str, Exception]] = []
        for incident_id in self.store.due_incidents(self.clock.now()):
            try:
                events = self.check_deadlines(incident_id)
            except Exception as exc:
                log.exception("checking the deadlines of %s failed", incident_id)
                failed.append((incident_id, exc))
                continue
            if events:
                done.append((incident_id, events))
        if failed:
            raise DeadlineCheckFailed(done, failed)
        return done

    # -- endings ------------------------------------------------------------------
    def run_ended(
        self, incident_id: str, run_id: str, *, outcome: str | None, status: str, reason: str | None
    ) -> list[RunEvent]:
        """A run of the incident ended; outcome ``resolved`` restores the incident."""
        data = {
            "run_id": run_id,
            "outcome": outcome,
            "status": status,
            "reason": reason,
            "at": iso(self.clock.now()),
        }
        draft = EventDraft(kind=EventKind.RUN_ENDED, data=data)
        return self._record(incident_id, lambda state: [draft])

    def resolve(
        self,
        incident_id: str,
        *,
        by: str,
        at: datetime | None = None,
        cause: str | None = None,
        prevention: str | None = None,
    ) -> list[RunEvent]:
        """With cause and prevention: close the record (``resolved``, which also restores it
        if nobody had). Without: record that service is back (``restored``)."""
        if bool(cause) != bool(prevention):
            raise UsageError(
                "give both a cause and a prevention to close the incident (or neither, to "
                "record only that service is restored)"
            )
        when = self._when(at)

        def build(state: IncidentState) -> list[EventDraft]:
            _check_restore_time(incident_id, state, when)
            if state.status == RESOLVED:
                raise UsageError(f"incident {incident_id} is resolved")
            if not cause:
                if state.restored_at is not None:
                    raise UsageError(
                        f"incident {incident_id} was restored at {iso(state.restored_at)}",
                        hint="give --cause and --prevention to close the record",
                    )
                data: dict[str, Any] = {"at": iso(when), "by": by, "via": "resolve"}
                return [EventDraft(kind=EventKind.RESTORED, actor=by, data=data)]
            data = {"at": iso(when), "by": by, "cause": cause, "prevention": prevention}
            return [EventDraft(kind=EventKind.RESOLVED, actor=by, data=data)]

        return self._record(incident_id, build)

    # -- the rest of the record ---------------------------------------------------
    def vendor_case(self, incident_id: str, *, by: str, **fields: Any) -> RunEvent:
        """Record (or correct) the vendor case: any of ``VENDOR_FIELDS``; times may be
        datetimes."""
        unknown = sorted(set(fields) - set(VENDOR_FIELDS))
        if unknown:
            raise UsageError(f"unknown vendor case field(s): {', '.join(unknown)}")
        data = {
            k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items() if v is not None
        }
        if not data:
            raise UsageError("nothing to record: give the case reference or a time")
        draft = EventDraft(kind=EventKind.VENDOR_CASE, actor=by, data=data)
        found = _first(self._record(incident_id, lambda state: [draft]))
        assert found is not None
        return found

    def note(self, incident_id: str, text: str, *, by: str) -> RunEvent:
        draft = EventDraft(kind=EventKind.NOTE, actor=by, data={"text": text})
        found = _first(self._record(incident_id, lambda state: [draft]))
        assert found is not None
        return found

    def state(self, incident_id: str) -> IncidentState:
        return _state_of(incident_id, self.store.events(incident_id))

    # -- internals ----------------------------------------------------------------
    def _free_id(self) -> str:
        """A new incident id not in the store yet: ids opened in the same second differ
        only in 4 random hex digits, which a busy second (or a test's clock standing
        still) can repeat."""
        for _ in range(64):
            candidate = new_incident_id(self.clock.now())
            try:
                self.store.meta(candidate)
            except UnknownRun:
                return candidate
        raise TimelineError("no free incident id in this second; try again")

    def _when(self, at: datetime | None) -> datetime:
        return self.clock.now() if at is None else at

    def _record(
        self,
        incident_id: str,
        build: Callable[[IncidentState], Sequence[EventDraft]],
        *,
        opening: bool = False,
    ) -> list[RunEvent]:
        """Append what ``build`` decides from the incident's current state (in the store's
        locked transaction), then announce what tells people."""

        def decide(events: list[RunEvent]) -> Sequence[EventDraft]:
            if opening:
                if events:
                    raise UnknownRun(f"incident {incident_id} is open already")
                return build(IncidentState(incident_id=incident_id))
            return build(_state_of(incident_id, events))

        recorded = self.store.append_if(incident_id, decide, masker=self.masker)
        if recorded and self.announce is not None:
            self._announce(incident_id, recorded)
        return recorded

    def _announce(self, incident_id: str, recorded: list[RunEvent]) -> None:
        everything = self.store.events(incident_id)
        for event in recorded:
            state = fold(everything[: event.seq], incident_id)
            if not _tells(event, fold(everything[: event.seq - 1], incident_id), state):
                continue
            try:
                assert self.announce is not None
                self.announce(state, event)
            except Exception as exc:  # the event stands; the failure goes on the record
                log.exception("announcing %s of %s failed", event.kind, incident_id)
                self._record_announce_failure(incident_id, state, event, exc)

    def _record_announce_failure(
        self, incident_id: str, state: IncidentState, event: RunEvent, exc: Exception
    ) -> None:
        data = {
            "event": event.kind,
            "recipient": None,
            "channel": None,
            "subject": None,
            "message": None,
            "level": state.level,
            "error": f"announcing failed: {type(exc).__name__}: {exc}",
        }
        try:
            self.store.append(
                incident_id, [EventDraft(kind=EventKind.NOTIFICATION_FAILED, data=data)]
            )
        except Exception:
            log.exception("recording the failed announcement of %s failed", incident_id)


def _tells(event: RunEvent, before: IncidentState, after: IncidentState) -> bool:
    """Whether people hear of ``event``: the told kinds, and a run's end that restored it."""
    if event.kind in TOLD:
        return True
    restored = before.restored_at is None and after.restored_at is not None
    return event.kind == EventKind.RUN_ENDED and restored


def _first(events: list[RunEvent]) -> RunEvent | None:
    return events[0] if events else None


def _check_restore_time(incident_id: str, state: IncidentState, when: datetime) -> None:
    if state.detected_at is not None and when < state.detected_at:
        raise UsageError(
            f"{iso(when)} is before incident {incident_id} was detected ({iso(state.detected_at)})"
        )


def vendor_snapshot(policy: Any) -> dict[str, Any] | None:
    """The vendor's promised limits as stored in an incident: ``{"name", "accept",
    "on_site", "restore": {"1": s, ...}}`` (from a mapping or a policy object)."""
    if policy is None:
        return None

    def get(key: str) -> Any:
        return policy.get(key) if isinstance(policy, Mapping) else getattr(policy, key, None)

    restore = get("restore") or {}
    return {
        "name": get("name"),
        "accept": get("accept"),
        "on_site": get("on_site"),
        "restore": {str(k): v for k, v in dict(restore).items()},
    }
