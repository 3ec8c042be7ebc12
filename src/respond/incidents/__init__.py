"""Incidents over the journal store: open one, attach runs, keep its clocks, close it.

``book_for(store, config)`` is how the CLI, the engine's deadline watcher and the schedule
get the project's ``IncidentBook``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respond.clock import SYSTEM_CLOCK, Clock
from respond.incidents.book import IncidentBook

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.timeline.store import Store

__all__ = ["IncidentBook", "book_for"]


def book_for(store: Store, config: ProjectConfig, *, clock: Clock = SYSTEM_CLOCK) -> IncidentBook:
    """The project's book: its severity policy, its vendor, its announcer."""
    return IncidentBook.from_config(store, config, clock=clock)
