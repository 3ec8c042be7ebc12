"""The incident a `respond run` works on: opened by the run, or the one `--incident` names.

Every run that is not a drill belongs to an incident. A new run opens one (detected at
``--detected-at``, reported by ``--reported-by`` at ``--site``); ``--incident ID`` attaches a
follow-up run to an open one; ``respond resume`` re-links the run's own. One live run per
incident: the incident's lock is held beside the run's for the whole run (exit 4 for a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from respond.errors import RunLocked, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

    from respond.clock import Clock
    from respond.config import ProjectConfig
    from respond.engine import RunOptions
    from respond.engine.deadlines import ClockView, IncidentLink
    from respond.results import RunResult
    from respond.secrets import Masker

# A detection time this far ahead of the clock is a typo (or a wrong offset), not a forecast.
FUTURE_SLACK = timedelta(minutes=5)
OPENING_OPTIONS = ("--detected-at", "--reported-by", "--site", "--description")


@dataclass(frozen=True, slots=True, kw_only=True)
class Intake:
    """What the operator said about the incident on the command line, checked."""

    detected_at: datetime | None = None
    reported_by: str | None = None
    site: str | None = None
    description: str | None = None
    incident: str | None = None  # --incident: an incident id, a prefix, or one of its runs

    def opening_given(self) -> list[str]:
        values = (self.detected_at, self.reported_by, self.site, self.description)
        return [name for name, v in zip(OPENING_OPTIONS, values, strict=True) if v is not None]


def intake(
    *,
    detected_at: str | None,
    reported_by: str | None,
    site: str | None,
    description: str | None,
    incident: str | None,
    severity: int | None,
    drill: bool,
    clock: Clock,
) -> Intake:
    """The incident options, checked before anything runs (exit 2 with one line)."""
    given = Intake(
        detected_at=_detected(detected_at, clock) if detected_at is not None else None,
        reported_by=_text(reported_by, "--reported-by"),
        site=_text(site, "--site"),
        description=_text(description, "--description"),
        incident=_text(incident, "--incident"),
    )
    named = given.opening_given() + (["--incident"] if incident is not None else [])
    if drill and named:
        raise UsageError(f"a drill opens no incident: {', '.join(named)} cannot go with --drill")
    if incident is not None and given.opening_given():
        raise UsageError(
            f"{', '.join(given.opening_given())} describe a new incident; "
            f"--incident {incident} attaches this run to one that already has them"
        )
    if incident is not None and severity is not None:
        raise UsageError(
            f"--severity cannot go with --incident: the incident's level stands "
            f"(re-classify it with `respond severity {incident} N --reason TEXT`)"
        )
    return given


def _detected(text: str, clock: Clock) -> datetime:
    from respond.clock import parse_time

    now = clock.now()
    try:
        when = parse_time(text, now)
    except ValueError as exc:
        raise UsageError(f"--detected-at: {exc}") from None
    if when - now > FUTURE_SLACK:
        ahead = int((when - now).total_seconds() // 60)
        raise UsageError(
            f"--detected-at {text}: that is {ahead} minutes in the future "
            "(a time without an offset is local time)"
        )
    return when


def _text(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UsageError(f"{option} cannot be empty")
    return cleaned


class IncidentRun:
    """The incident side of one run: opened or attached, locked while the run lives, told
    how the run ended."""

    def __init__(
        self,
        store: Any,
        config: ProjectConfig,
        clock: Clock,
        operator: str,
        *,
        masker: Masker | None = None,
        progress: Callable[[str], None] | None = None,
        channel_vars: Mapping[str, Any] | None = None,
    ) -> None:
        """The book tells people through the run's terminal (``progress``), masks with the
        run's masker, and renders channel URLs with the run's variables."""
        from respond.cli.output import incident_logs_on_one_line
        from respond.incidents import book_for

        incident_logs_on_one_line()  # a failed check or notice: one warning line, no traceback

        self.store = store
        self.clock = clock
        self.operator = operator
        self.book = book_for(
            store,
            config,
            clock=clock,
            channel_vars=channel_vars,
            masker=masker,
            progress=progress,
        )
        self.incident_id = ""

    @property
    def link(self) -> IncidentLink:
        from respond.engine.deadlines import IncidentLink

        return IncidentLink(self.book, self.incident_id)

    def level(self) -> int:
        return int(self.book.state(self.incident_id).summary()["level"])

    def open(self, rb: Any, given: Intake, level: int) -> str:
        """A new incident for this run (nothing is locked yet: nobody else knows it)."""
        now = self.clock.now()
        self.incident_id = self.book.open(
            title=rb.title,
            runbook=rb.id,
            version=rb.version,
            scenario=rb.scenario,
            severity=level,
            detected_at=given.detected_at or now,
            reported_by=given.reported_by or self.operator,
            site=given.site,
            description=given.description,
            operator=self.operator,
        )
        return self.incident_id

    def existing(self, text: str) -> str:
        """The incident ``--incident`` names, if a run may still join it (exit 2 if not)."""
        incident_id = str(self.store.resolve_incident(text))
        status = str(self.book.state(incident_id).summary().get("status"))
        if status in ("resolved", "no-fault"):
            raise UsageError(
                f"incident {incident_id} is {status}: a run cannot join it; "
                "leave out --incident to open a new one"
            )
        self.incident_id = incident_id
        return incident_id

    def hold(self, held: ExitStack, *, taken_from: Any = None) -> None:
        """The incident's lock, for as long as ``held`` is open: one live run per incident
        (exit 4 while another holds it). ``taken_from``: the process a resume took its run
        over from (--steal); the incident is taken from that same process, never from
        another live run of the incident."""
        holder = self.store.lock_holder(self.incident_id)
        steal = (
            taken_from is not None
            and holder is not None
            and (holder.hostname, holder.pid) == (taken_from.hostname, taken_from.pid)
        )
        try:
            held.enter_context(self.store.lock(self.incident_id, self.operator, steal=steal))
        except RunLocked as exc:
            holder = self.store.lock_holder(self.incident_id)
            who = holder.describe() if holder is not None else "another process"
            raise RunLocked(
                f"incident {self.incident_id} is being worked on by a live run ({who})",
                hint="wait for that run to end; `respond incident show "
                f"{self.incident_id}` shows its runs",
            ) from exc

    def attach(self, run_id: str, rb: Any) -> None:
        self.book.attach(
            self.incident_id, run_id, runbook=rb.id, version=rb.version, operator=self.operator
        )

    def ended(self, run_id: str, result: RunResult) -> ClockView | None:
        """Tell the incident how the run ended (an interrupted run has not ended: it is
        resumed); the incident's clocks after that, for the summary. The run's record is
        complete either way: a store that fails here is reported, never a traceback."""
        from respond.cli.output import warn
        from respond.errors import TimelineError

        try:
            if str(result.status) != "interrupted":
                self.book.run_ended(
                    self.incident_id,
                    run_id,
                    outcome=str(result.outcome),
                    status=str(result.status),
                    reason=result.reason,
                )
            return self.view()
        except TimelineError as exc:
            warn(
                f"incident {self.incident_id} was not told how run {run_id} ended "
                f"({exc.message}); the run's own record is complete"
            )
            return None

    def link_options(self, options: RunOptions) -> None:
        """The engine watches this incident's clocks during the run."""
        options.incident, options.clock = self.link, self.clock
        opened = self.book.state(self.incident_id).summary()
        options.reported_by, options.site = opened.get("reported_by"), opened.get("site")

    def view(self) -> ClockView:
        from respond.engine.deadlines import clock_view

        return clock_view(self.book.state(self.incident_id).summary(), self.clock.now())
