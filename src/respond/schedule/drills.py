"""The schedule's drill job: run each drill whose current occurrence nobody has taken on.

A drill is *due* when its schedule has a current occurrence (the latest at or before now,
``respond.drills.schedule``), no process has claimed that occurrence, and no drill run says
it rehearsed it (run meta ``occurrence``). Taking it on is a claim in the store
(``Store.claim_occurrence``): a primary key decides, so of two schedule processes started at
the same moment exactly one runs the drill and the other finds it taken. The claim is made
before the run starts and is never given back: a run that fails, or that could not start at
all, still fulfils its occurrence (``drill list`` shows why), and the next call does not
retry it behind the operator's back: rehearsing it again is a decision, ``respond drill run``.

Only the current occurrence is ever run. Older ones nobody took on were missed: they are
reported (``drill list``, ``drill due``, the after-action report), never caught up one by
one, so a machine that was off for a week runs a daily drill once.

The job runs drills through ``execute`` (injected by the CLI: running a drill is the CLI's
composition of engine, executors and terminal), one after another. The rules, the record
reading and the job loop are shared with inspections (``respond.schedule.occurrences``);
here is what is a drill's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.clock import iso
from respond.schedule.occurrences import (
    INTERRUPTED,
    Kind,
    OccurrenceJob,
    OccurrenceState,
    Outcome,
    claimer,
    default_zone,
    states,
    zone_name,
)

if TYPE_CHECKING:
    from datetime import datetime

    from respond.config import ProjectConfig
    from respond.drills.model import Drill
    from respond.timeline import RunInfo, Store

__all__ = [
    "INTERRUPTED",
    "JOB",
    "DrillJob",
    "DrillOutcome",
    "DrillState",
    "Execute",
    "claimer",
    "default_zone",
    "drill_states",
    "state_dict",
    "zone_name",
]

JOB = "drills"

# What running one drill gave (``respond.cli.drill_exec.DrillRun``).
DrillOutcome = Outcome

# execute(drill, occurrence as ISO UTC) -> what the run gave; runs unattended
Execute = Callable[["Drill", str], DrillOutcome]


class DrillState(OccurrenceState["Drill"]):
    """Where one drill definition stands at ``now``, read from the record."""

    __slots__ = ()

    @property
    def drill(self) -> Drill | None:
        return self.definition

    @property
    def rehearsal(self) -> str | None:
        """A drill run whose meta names the current occurrence."""
        return self.taken_by

    def to_dict(self) -> dict[str, Any]:
        return state_dict(self)


def state_dict(state: DrillState) -> dict[str, Any]:
    """A drill's state as JSON (``drill list --json``, ``drill due --json``)."""
    drill = state.drill
    schedule = drill.schedule if drill else None
    last = state.last_run
    return {
        "drill": state.name,
        "path": str(state.path),
        "title": drill.title if drill else None,
        "mode": drill.mode if drill else None,
        "runbook": drill.runbook if drill else None,
        "schedule": schedule.expression if schedule else None,
        "timezone": schedule.timezone if schedule else None,
        "zone": state.zone,
        "start": schedule.start if schedule else None,
        "occurrence": iso(state.current) if state.current else None,
        "next_due": iso(state.next) if state.next else None,
        "due": state.due,
        "state": state.state,
        "run_id": state.run_id,
        "claim": dict(state.claim) if state.claim else None,
        "missed": [iso(m) for m in state.missed],
        "last_run": _run_dict(last) if last else None,
        "error": state.error,
    }


def _run_dict(info: RunInfo) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "started": info.started or info.created,
        "mode": info.meta.get("drill_mode"),
        "occurrence": info.meta.get("occurrence"),
        "status": info.status,
        "outcome": info.outcome,
    }


class DrillKind(Kind["Drill", DrillState]):
    """Drills: claimed under their own name; a drill run's meta names its occurrence."""

    job = JOB
    noun = "drill"
    state_type = DrillState

    def find(self, config: ProjectConfig) -> list[Path]:
        from respond.drills.loader import find_drills

        return find_drills(config)

    def load(self, path: Path, config: ProjectConfig) -> Drill:
        from respond.drills.loader import load_drill

        return load_drill(path, config)

    def runs(self, store: Store) -> Iterable[tuple[str, object, RunInfo]]:
        for info in store.runs(drill=True):
            name = info.meta.get("drill_name")
            if name:
                yield str(name), info.meta.get("occurrence"), info

    def would_run(self, definition: Drill) -> str:
        return f"the {definition.mode} drill of {definition.runbook}"

    def action_detail(self, definition: Drill) -> dict[str, Any]:
        return {"mode": definition.mode, "runbook": definition.runbook}

    def upcoming_what(self, definition: Drill) -> str:
        return f"{definition.mode} drill of {definition.runbook}"

    def upcoming_detail(self, definition: Drill) -> dict[str, Any]:
        schedule = definition.schedule
        assert schedule is not None
        return {
            "title": definition.title,
            "mode": definition.mode,
            "runbook": definition.runbook,
            "schedule": schedule.expression,
            "timezone": schedule.timezone,
        }


KIND = DrillKind()


def drill_states(store: Store, config: ProjectConfig, now: datetime) -> list[DrillState]:
    """Every drill definition of the project and where it stands at ``now``, by name.
    A definition that does not load is a state with its error (the others still count)."""
    return states(KIND, store, config, now)


class DrillJob(OccurrenceJob["Drill", DrillState]):
    """Due drills as of ``now``: each due occurrence claimed, then run by ``execute``."""

    name = JOB
    kind = KIND
