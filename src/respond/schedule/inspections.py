"""The schedule's inspection job: run each inspection whose current occurrence nobody has
taken on.

The same rules as the drill job, read from the same record and shared with it
(``respond.schedule.occurrences``):

- *due*: the inspection's schedule has a current occurrence (the latest at or before now,
  ``respond.drills.schedule``), no process has claimed it, and no inspection run says it
  took it on (run meta ``inspection.occurrence``);
- taking it on is a claim in the drill occurrences table under the key
  ``inspection:NAME`` (``Store.claim_occurrence``), so of two schedule processes started at
  the same moment exactly one runs the inspection; the claim is never given back: a run that
  failed, or could not start, still fulfils its occurrence;
- only the current occurrence is ever run; older ones nobody took on were missed and are
  reported, never caught up one by one (a machine that was off for a week inspects once).

The job runs inspections through ``execute`` (injected by the CLI: an inspection run is the
CLI's composition of engine, executors, on_critical actions and reports), one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.clock import iso
from respond.schedule.occurrences import Kind, OccurrenceJob, OccurrenceState, Outcome, states

if TYPE_CHECKING:
    from datetime import datetime

    from respond.config import ProjectConfig
    from respond.inspections.model import Inspection
    from respond.timeline import RunInfo, Store

JOB = "inspections"
# an inspection's occurrences share the drills' claim table under this prefix
CLAIM_PREFIX = "inspection:"

# What running one inspection gave (``respond.cli.inspect_exec.InspectionRun``).
InspectionOutcome = Outcome

# execute(inspection, occurrence as ISO UTC) -> what the run gave; runs unattended
Execute = Callable[["Inspection", str], InspectionOutcome]


def claim_key(name: str) -> str:
    """The key an inspection's occurrences are claimed under (beside the drills' names)."""
    return CLAIM_PREFIX + name


class InspectionState(OccurrenceState["Inspection"]):
    """Where one inspection definition stands at ``now``, read from the record."""

    __slots__ = ()

    @property
    def inspection(self) -> Inspection | None:
        return self.definition

    def to_dict(self) -> dict[str, Any]:
        schedule = self.schedule
        return {
            "inspection": self.name,
            "path": str(self.path),
            "schedule": schedule.expression if schedule else None,
            "timezone": schedule.timezone if schedule else None,
            "zone": self.zone,
            "occurrence": iso(self.current) if self.current else None,
            "next_due": iso(self.next) if self.next else None,
            "due": self.due,
            "state": self.state,
            "run_id": self.run_id,
            "missed": [iso(m) for m in self.missed],
            "error": self.error,
        }


class InspectionKind(Kind["Inspection", InspectionState]):
    """Inspections: claimed under ``inspection:NAME``; a run's meta ``inspection`` section
    names the inspection and its occurrence."""

    job = JOB
    noun = "inspection"
    label = "inspection "
    ok_exits = (0, 1)  # exit 1 is a finding (the checks ran and found problems), not a failure
    state_type = InspectionState

    def find(self, config: ProjectConfig) -> list[Path]:
        from respond.inspections.loader import find_inspections

        return find_inspections(config)

    def load(self, path: Path, config: ProjectConfig) -> Inspection:
        from respond.inspections.loader import load_inspection

        return load_inspection(path, config)

    def claim_key(self, name: str) -> str:
        return claim_key(name)

    def claimed_name(self, key: str) -> str | None:
        return key[len(CLAIM_PREFIX) :] if key.startswith(CLAIM_PREFIX) else None

    def runs(self, store: Store) -> Iterable[tuple[str, object, RunInfo]]:
        for info in store.runs(drill=False):
            section = info.meta.get("inspection")
            if isinstance(section, Mapping) and section.get("name"):
                yield str(section["name"]), section.get("occurrence"), info

    def would_run(self, definition: Inspection) -> str:
        return "the inspection"

    def ran_note(self, result: Outcome) -> str:
        return f"exit {result.exit_code}; "

    def upcoming_what(self, definition: Inspection) -> str:
        return "inspection"

    def upcoming_detail(self, definition: Inspection) -> dict[str, Any]:
        schedule = definition.schedule
        assert schedule is not None
        return {
            "title": definition.title,
            "schedule": schedule.expression,
            "timezone": schedule.timezone,
        }


KIND = InspectionKind()


def inspection_states(store: Store, config: ProjectConfig, now: datetime) -> list[InspectionState]:
    """Every inspection definition of the project and where it stands at ``now``, by file
    name. One that does not load is a state with its error (the others still count)."""
    return states(KIND, store, config, now)


class InspectionJob(OccurrenceJob["Inspection", InspectionState]):
    """Due inspections as of ``now``: each due occurrence claimed, then run by ``execute``
    (``execute(inspection, occurrence_iso)``)."""

    name = JOB
    kind = KIND
