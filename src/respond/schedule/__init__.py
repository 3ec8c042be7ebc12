"""The one periodic entry point: ``respond schedule run``, called by cron or a systemd timer.

There is no daemon. Each call looks at the record as of "now" and does what is due, and the
record itself makes every action happen once: a second call, or two calls at the same time,
find the action already recorded and do nothing.

The work is split into *jobs*, each a small object that knows one kind of due work: overdue
incident clocks (``respond.schedule.incidents``), then due drills
(``respond.schedule.drills``), then due inspections (``respond.schedule.inspections``); those
two share one set of occurrence rules (``respond.schedule.occurrences``). A job answers two
questions:

- ``run(dry_run=...)``: do what is due now (or, dry, say what would be done) → actions;
- ``upcoming()``: what falls due next and when (``respond schedule status``), cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One thing a job did (or, in a dry run, would do)."""

    job: str  # "incidents", "drills", "inspections"
    subject: str  # what it was done to: an incident id, a drill or inspection name
    kind: str  # what was done: "escalated", "deadline-missed", "error", ...
    at: str | None  # when it took effect (ISO UTC), e.g. an escalation's deadline
    text: str  # one line for people
    data: dict[str, Any] = field(default_factory=dict)
    failed: bool = False  # the job could not do this (the others still ran)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "subject": self.subject,
            "kind": self.kind,
            "at": self.at,
            "text": self.text,
            "data": self.data,
            "failed": self.failed,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Upcoming:
    """Something that falls due later: which subject, which clock, when."""

    job: str
    subject: str
    what: str  # "respond", "restore (level 2)", a drill's name
    due: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from respond.clock import iso

        return {
            "job": self.job,
            "subject": self.subject,
            "what": self.what,
            "due": iso(self.due),
            **self.detail,
        }


class Job(Protocol):
    name: str

    def run(self, *, dry_run: bool) -> list[Action]:
        """Do what is due now, each thing once; with ``dry_run`` record nothing."""
        ...

    def upcoming(self) -> list[Upcoming]:
        """What falls due next, earliest first."""
        ...


def run_jobs(jobs: Sequence[Job], *, dry_run: bool = False) -> list[Action]:
    """Every job's actions, job by job in the order given."""
    actions: list[Action] = []
    for job in jobs:
        actions.extend(job.run(dry_run=dry_run))
    return actions


def upcoming(jobs: Sequence[Job]) -> list[Upcoming]:
    """What falls due next across the jobs, earliest first."""
    items = [item for job in jobs for item in job.upcoming()]
    return sorted(items, key=lambda item: (item.due, item.subject))
