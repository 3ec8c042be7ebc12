"""An incident's clocks while a run works on it: a watcher that acts at each deadline.

Between steps is too late: a step or a prompt can wait for hours, and a fault not restored in
time must escalate at its deadline, not when the operator next answers. ``DeadlineWatch`` is a
thread that sleeps on the injectable clock until the incident's next deadline, then asks the
incident book to record what passed (``check_deadlines``: each deadline exactly once, even
when the schedule's cron entry point checks at the same moment) and hands the new events to
the engine, which records them in the run's timeline too.

``clock_view`` turns an incident's summary into the terminal's clocks line:
``level 2 · respond: met (4m) · restore: 7h 12m left (due 09:41)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from respond.clock import parse_iso
from respond.events import EventKind

if TYPE_CHECKING:
    from respond.clock import Clock
    from respond.events import RunEvent

log = logging.getLogger("respond.engine")

# Re-read the incident at least this often, even with no deadline near: another process
# (`respond severity`, `respond ack`) may have moved its deadlines.
RECHECK_S = 60.0
# After a failed check (the database away for a moment), try again this much later.
RETRY_S = 30.0
# What of the incident's record the run records and shows as it happens.
TOLD_TO_THE_RUN = frozenset({EventKind.ESCALATED, EventKind.DEADLINE_MISSED})


class IncidentClocks(Protocol):
    """What the engine reads of an incident's state (``respond.incident_state``)."""

    def next_due(self) -> datetime | None: ...

    def summary(self) -> dict[str, Any]: ...


class Book(Protocol):
    """What the engine needs of the incident book (``respond.incidents.IncidentBook``)."""

    @property
    def store(self) -> Any: ...

    def state(self, incident_id: str) -> IncidentClocks: ...

    def check_deadlines(self, incident_id: str) -> list[RunEvent]: ...

    def escalate(
        self,
        incident_id: str,
        *,
        reason: str,
        by: str,
        run_id: str | None = None,
        step_id: str | None = None,
    ) -> RunEvent | None: ...


@dataclass(frozen=True, slots=True)
class IncidentLink:
    """The incident a run works on, and the book that keeps its record."""

    book: Book
    incident_id: str


# -- the clocks line ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockView:
    """An incident's clocks as the terminal shows them."""

    incident_id: str
    level: int
    respond: str  # "met (4m)", "12m left (due 09:41)", "missed by 3m"
    restore: str  # "7h 12m left (due 09:41)", "missed by 12m", "met (2h 5m)"

    def line(self) -> str:
        return f"level {self.level} · respond: {self.respond} · restore: {self.restore}"


def span(seconds: float) -> str:
    """A stretch of time in words a tired operator reads at a glance: ``45s``, ``12m``,
    ``7h 12m``, ``2d 3h`` (rounded down: time left is never overstated)."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def local_time(when: datetime, now: datetime) -> str:
    """A deadline in the operator's local time; the date too when it is not today."""
    local, today = when.astimezone(), now.astimezone()
    return local.strftime("%H:%M" if local.date() == today.date() else "%m-%d %H:%M")


def _time(summary: Mapping[str, Any], key: str) -> datetime | None:
    value = summary.get(key)
    return parse_iso(str(value)) if value else None


def _pending(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "no limit"
    if now < due:
        return f"{span((due - now).total_seconds())} left (due {local_time(due, now)})"
    return f"missed by {span((now - due).total_seconds())}"


def _respond_text(summary: Mapping[str, Any], now: datetime) -> str:
    due = _time(summary, "respond_due")
    met = summary.get("respond_met")
    if met is None:
        return _pending(due, now)
    if met:
        return f"met ({span(float(summary.get('respond_s') or 0))})"
    acked = _time(summary, "acked_at") or now
    return f"missed by {span((acked - due).total_seconds())}" if due else "missed"


def _restore_text(summary: Mapping[str, Any], now: datetime) -> str:
    restored = _time(summary, "restored_at")
    if restored is None:  # still open: the live deadline, the one that escalates
        return _pending(_time(summary, "clock_due") or _time(summary, "restore_due"), now)
    if summary.get("restore_met") is not False:
        return f"met ({span(float(summary.get('restore_s') or 0))})"
    due = _time(summary, "restore_due")
    return f"missed by {span((restored - due).total_seconds())}" if due else "missed"


def clock_view(summary: Mapping[str, Any], now: datetime) -> ClockView:
    """The clocks line of an incident from its summary (``IncidentState.summary()``)."""
    return ClockView(
        incident_id=str(summary.get("incident_id") or ""),
        level=int(summary.get("level") or 0),
        respond=_respond_text(summary, now),
        restore=_restore_text(summary, now),
    )


# -- the watcher ------------------------------------------------------------------------------


class DeadlineWatch:
    """A thread that acts on the incident's deadlines for as long as a run works on it.

    ``on_events`` receives the incident's escalations and missed deadlines recorded since
    the watch began, each once, whoever recorded them: this watcher at a deadline, or the
    schedule's cron entry point that got there first (the book records each deadline once,
    so the run hears of it either way). ``on_error`` receives an exception a check raised
    (the watcher goes on and tries again later, unless ``on_error`` returns True: stop)."""

    def __init__(
        self,
        link: IncidentLink,
        clock: Clock,
        *,
        on_events: Callable[[list[RunEvent]], None],
        on_error: Callable[[Exception], bool],
    ) -> None:
        self.link = link
        self.clock = clock
        self._on_events = on_events
        self._on_error = on_error
        self._wake = threading.Event()  # set by poke() and stop(): re-read the incident
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._checked: datetime | None = None  # a due that a check found nothing for
        # the incident's last event already passed on or from before the run (None: not
        # read yet, and then the first read only sets it)
        self._seen: int | None = None
        self._reading = threading.Lock()  # the start's check and the thread's never mix

    def begin(self) -> None:
        """Remember where the incident's record stands: what comes later is the run's news
        (what came before is in the level the run starts at)."""
        with self._reading:
            events = self.link.book.store.events(self.link.incident_id)
            self._seen = events[-1].seq if events else 0

    def check(self) -> list[RunEvent]:
        """Record every deadline that passed (each once), then hand on what is new."""
        self.link.book.check_deadlines(self.link.incident_id)
        return self.news()

    def news(self) -> list[RunEvent]:
        """The incident's escalations and missed deadlines not yet passed on, passed on."""
        with self._reading:
            events = self.link.book.store.events(self.link.incident_id)
            if self._seen is None:
                self._seen = events[-1].seq if events else 0
                return []
            fresh = [e for e in events if e.seq > self._seen]
            if not fresh:
                return []
            self._seen = fresh[-1].seq
            told = [e for e in fresh if e.kind in TOLD_TO_THE_RUN]
            if told:
                self._on_events(told)
            return fresh

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"deadlines-{self.link.incident_id}", daemon=True
        )
        self._thread.start()

    def poke(self) -> None:
        """The incident changed (an escalation by the run): its next deadline moved."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop and join the thread; True once it has ended."""
        self._stopping.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                due = self._next_due()
            except Exception as exc:
                if self._failed(exc):
                    return
                self._sleep(self.clock.now() + timedelta(seconds=RETRY_S))
                continue
            if due is not None and due == self._checked:
                due = None  # checked already and nothing was due: do not spin on it
            recheck = self.clock.now() + timedelta(seconds=RECHECK_S)
            if self._sleep(recheck if due is None else min(due, recheck)):
                continue  # poked or stopping: read the incident again (or leave)
            try:
                if due is not None and self.clock.now() >= due:
                    self._checked = None if self.check() else due
                else:
                    self.news()  # what another process recorded meanwhile
            except Exception as exc:
                if self._failed(exc):
                    return
                self._sleep(self.clock.now() + timedelta(seconds=RETRY_S))

    def _next_due(self) -> datetime | None:
        due: datetime | None = self.link.book.state(self.link.incident_id).next_due()
        return due

    def _sleep(self, until: datetime) -> bool:
        """Wait on the clock until ``until``; True when woken (poked or stopping)."""
        return self.clock.wait(self._wake, until)

    def _failed(self, exc: Exception) -> bool:
        log.warning("deadline check of %s failed: %s", self.link.incident_id, exc)
        try:
            return self._on_error(exc)
        except Exception:  # the handler's own failure must not end the watch silently
            log.exception("deadline watch error handler failed")
            return False
