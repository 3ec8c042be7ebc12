"""Severity policy: each fault level's clocks, and when a fault escalates.

Level 1 is the worst. A fault not restored within its level's ``restore`` limit escalates
one level, once per level reached; level 1 cannot go higher. The engine asks this module
what to do and records and announces what it decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HIGHEST_LEVEL = 1


def next_level(level: int) -> int:
    """The level one step more severe (1 stays 1)."""
    return max(HIGHEST_LEVEL, level - 1)


@dataclass(kw_only=True)
class SeverityClock:
    """The severity of one run and its restore clock, started at ``started_at``."""

    policy: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    level: int
    started_at: datetime
    _escalated_at: set[int] = field(default_factory=set)

    def limits(self, level: int | None = None) -> dict[str, Any]:
        """The clocks of ``level`` (default: the current one), e.g. respond/restore seconds."""
        return dict(self.policy.get(self.level if level is None else level) or {})

    def overdue(self, now: datetime) -> str | None:
        """Why the fault must escalate now (its restore limit passed at this level and it
        has not escalated from this level yet), or None."""
        if self.level <= HIGHEST_LEVEL or self.level in self._escalated_at:
            return None
        limit = float(self.limits().get("restore", 0) or 0)
        if limit and (now - self.started_at).total_seconds() > limit:
            return f"not restored within {limit:.0f}s for level {self.level}"
        return None

    def escalate(self) -> tuple[int, int]:
        """Move one level up; returns (old, new)."""
        old = self.level
        self._escalated_at.add(old)
        self.level = next_level(old)
        return old, self.level
