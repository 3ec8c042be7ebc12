"""The schedule's incident job: escalate every open incident whose deadline passed.

Run for real, it is the book's ``check_all``: for each due incident the book computes what is
overdue and appends it inside one transaction that holds the incident's row
(``Store.append_if``), so two schedule processes, a run's own watcher and a ``respond ack``
at the same moment still record each passed deadline once. Dry, it computes the same from
the folded state and records nothing.

One incident that cannot be checked is reported as a failed action and the others are still
checked: a cron job that stopped at the first bad record would leave every later incident
un-escalated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from respond.clock import parse_iso
from respond.schedule import Action, Upcoming

if TYPE_CHECKING:
    from respond.incidents import IncidentBook
    from respond.timeline import Store

JOB = "incidents"


class IncidentJob:
    """Overdue incident clocks as of ``now`` (the book's clock reads the same time). The
    book is made only when something is due: ``upcoming`` reads the summaries alone."""

    name = JOB

    def __init__(self, store: Store, book: Callable[[], IncidentBook], now: datetime) -> None:
        self.store = store
        self._make_book = book
        self._book: IncidentBook | None = None
        self.now = now

    @property
    def book(self) -> IncidentBook:
        if self._book is None:
            self._book = self._make_book()
        return self._book

    def run(self, *, dry_run: bool) -> list[Action]:
        if dry_run:
            return [a for i in self.store.due_incidents(self.now) for a in self._would(i)]
        from respond.incidents.book import DeadlineCheckFailed

        try:
            done, failed = self.book.check_all(), []
        except DeadlineCheckFailed as exc:  # the others were checked all the same
            done, failed = exc.done, exc.failed
        wanted = {"escalated", "deadline-missed"}
        actions = [
            action(incident_id, e.kind, e.data)
            for incident_id, events in done
            for e in events
            if e.kind in wanted
        ]
        return actions + [not_checked(incident_id, exc) for incident_id, exc in failed]

    def _would(self, incident_id: str) -> list[Action]:
        """What checking the incident would record, from its folded state: nothing."""
        from respond.errors import RespondError
        from respond.incident_state import overdue

        try:
            drafts = overdue(self.book.state(incident_id), self.now)
        except RespondError as exc:
            return [not_checked(incident_id, exc)]
        return [action(incident_id, d.kind, d.data, would=True) for d in drafts]

    def upcoming(self) -> list[Upcoming]:
        """The next deadline of each open incident, from the stored summaries only."""
        items = []
        for summary in self.store.incident_summaries(status="open"):
            due = summary.get("next_due")
            if not due:
                continue
            items.append(
                Upcoming(
                    job=JOB,
                    subject=str(summary["incident_id"]),
                    what=clock_of(summary),
                    due=parse_iso(str(due)),
                    detail={
                        "level": summary.get("level"),
                        "title": summary.get("title"),
                        "site": summary.get("site"),
                    },
                )
            )
        return sorted(items, key=lambda item: (item.due, item.subject))


def not_checked(incident_id: str, exc: Exception) -> Action:
    return Action(
        job=JOB,
        subject=incident_id,
        kind="error",
        at=None,
        text=f"{incident_id}: not checked: {exc}",
        failed=True,
    )


def clock_of(summary: Mapping[str, Any]) -> str:
    """Which clock the summary's ``next_due`` belongs to: the respond deadline while nobody
    has acknowledged, else the restore deadline of the current level."""
    due = summary.get("next_due")
    if summary.get("acked_at") is None and due == summary.get("respond_due"):
        return "respond"
    return f"restore (level {summary.get('level')})"


def action(incident_id: str, kind: str, data: Mapping[str, Any], *, would: bool = False) -> Action:
    """An incident event (or, dry, the draft of one) as the line the schedule prints."""
    from respond.timeline.export import local_time

    verb = "would be " if would else ""
    at = str(data.get("at") or data.get("due") or "") or None
    when = local_time(at) if at else "-"
    if kind == "escalated":
        text = (
            f"{incident_id}: {verb}escalated level {data.get('from')} → {data.get('to')} "
            f"({data.get('reason')}; due {when})"
        )
    elif data.get("clock") == "respond":
        text = (
            f"{incident_id}: respond deadline {verb}missed at level {data.get('level')} "
            f"(due {when}, nobody acknowledged)"
        )
    else:
        text = (
            f"{incident_id}: restore deadline {verb}missed at level {data.get('level')} "
            f"(due {when}; no level above, reported up)"
        )
    return Action(job=JOB, subject=incident_id, kind=kind, at=at, text=text, data=dict(data))


def latest_recorded_deadline(store: Store) -> tuple[str, datetime] | None:
    """The latest deadline already acted on among open incidents (incident id, time): the
    schedule is never run as if it were earlier than that."""
    latest: tuple[str, datetime] | None = None
    for summary in store.incident_summaries(status="open"):
        times = [e.get("at") for e in summary.get("escalations") or [] if e.get("automatic")]
        times += [m.get("due") for m in summary.get("missed") or []]
        for text in times:
            if not text:
                continue
            when = parse_iso(str(text))
            if latest is None or when > latest[1]:
                latest = (str(summary["incident_id"]), when)
    return latest
