"""Incidents over the journal store: open one, attach runs, keep its clocks, close it.

``book_for(store, config)`` is how the CLI, the engine's deadline watcher and the schedule
get the project's ``IncidentBook``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from respond.clock import SYSTEM_CLOCK, Clock
from respond.incidents.book import IncidentBook
from respond.incidents.notices import Announcer

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.secrets import Masker
    from respond.timeline.store import Store

__all__ = ["IncidentBook", "book_for"]


def book_for(
    store: Store,
    config: ProjectConfig,
    *,
    clock: Clock = SYSTEM_CLOCK,
    channel_vars: Mapping[str, Any] | None = None,
    masker: Masker | None = None,
    progress: Callable[[str], None] | None = None,
) -> IncidentBook:
    """The project's book: its severity policy, its vendor, its announcer (respond.yaml's
    recipients and messages). A run passes its variables (channel URLs are rendered with
    them), its masker and its terminal; without a run, URLs are rendered with the default
    inventory's ``all`` vars and the terminal channel writes to standard error."""
    book = IncidentBook.from_config(store, config, clock=clock)
    if masker is not None:  # the run's secrets and the book's (the signing key) in one
        for secret in book.masker.secrets:
            masker.add(secret)
        book.masker = masker
    # one masker for the record and the notices: a channel's URL token is masked in both
    book.announce = Announcer(
        config, store, channel_vars=channel_vars, masker=book.masker, progress=progress
    )
    return book
