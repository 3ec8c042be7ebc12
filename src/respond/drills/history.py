"""Earlier runs of a drill, each scored again from its own record: the after-action
report's trend (times and objectives over the last quarters).

A run is scored with the definition its meta recorded when it ran (``drill_definition``)
and the level limits its ``run-started`` recorded, never with today's file: a drill whose
objectives were tightened since does not rewrite how earlier runs did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.clock import iso
from respond.drills.objectives import Scorecard, milestones, score
from respond.events import RunEvent
from respond.timeline.facts import parse_ts

if TYPE_CHECKING:
    from respond.drills.model import Drill
    from respond.timeline.store import RunInfo, Store


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One earlier run of the drill: when (its start, ISO UTC), how (mode), how it ended,
    its respond/diagnose/restore times (seconds from t0, None when not reached) and its
    objectives met of total (None when its recorded definition cannot be read)."""

    run_id: str
    date: str | None
    mode: str | None
    outcome: str | None
    respond_s: float | None
    diagnose_s: float | None
    restore_s: float | None
    met: int | None
    total: int | None
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def drill_history(
    store: Store,
    drill_name: str,
    *,
    before: str | None = None,
    limit: int = 8,
    levels: Mapping[Any, Any] | None = None,
) -> list[HistoryRow]:
    """The last ``limit`` runs of drill ``drill_name``, oldest first.

    ``before``: a run id (that run and every run that started at or after it are left out:
    the report of a run shows the runs before it) or an ISO time (runs that started at or
    after it are left out). ``levels``: see ``objectives.score`` (default: each run's
    recorded limits)."""
    runs = sorted(
        (r for r in store.runs(drill=True) if r.meta.get("drill_name") == drill_name),
        key=_started,
    )
    cutoff = _cutoff(store, runs, before)
    if cutoff is not None:
        runs = [r for r in runs if _started(r) < cutoff and r.run_id != before]
    chosen = runs[-limit:] if limit > 0 else []
    return [_row(store, info, store.events(info.run_id), levels) for info in chosen]


def _started(info: RunInfo) -> str:
    return info.started or info.created


def _cutoff(store: Store, runs: list[RunInfo], before: str | None) -> str | None:
    """The start time ``before`` names (a run id of this drill, a time, or any run id)."""
    if before is None:
        return None
    for info in runs:
        if info.run_id == before:
            return _started(info)
    try:
        return iso(parse_ts(before))
    except ValueError:
        pass
    return _started(store.run(before))  # UnknownRun: neither a time nor a run


def _row(
    store: Store, info: RunInfo, events: list[RunEvent], levels: Mapping[Any, Any] | None
) -> HistoryRow:
    card = _card(store, info, events, levels)
    marks = card.milestones if card else milestones(events, recorded_gated(store, info.run_id))
    started = events[0].data if events else {}
    mode = info.meta.get("drill_mode") or started.get("drill_mode")
    return HistoryRow(
        run_id=info.run_id,
        date=_started(info),
        mode=None if mode is None else str(mode),
        outcome=info.outcome,
        respond_s=marks.since_t0(marks.responded),
        diagnose_s=marks.since_t0(marks.diagnosed),
        restore_s=marks.since_t0(marks.restored),
        met=None if card is None else len(card.met),
        total=None if card is None else len(card.results),
        passed=None if card is None else card.passed,
    )


def _card(
    store: Store, info: RunInfo, events: list[RunEvent], levels: Mapping[Any, Any] | None
) -> Scorecard | None:
    drill = recorded_drill(info.meta)
    if drill is None:
        return None
    return score(drill, events, levels=levels, gated=recorded_gated(store, info.run_id))


def run_scorecard(
    store: Store, run_id: str, *, levels: Mapping[Any, Any] | None = None
) -> Scorecard | None:
    """A stored drill run's scorecard against the definition it recorded and the runbook it
    ran (None: the run recorded no definition this version can read)."""
    drill = recorded_drill(store.meta(run_id))
    if drill is None:
        return None
    gated = recorded_gated(store, run_id)
    return score(drill, store.events(run_id), levels=levels, gated=gated)


def recorded_gated(store: Store, run_id: str) -> frozenset[str]:
    """The gated steps of the runbook text the run recorded: a simulated gated step asks no
    gate, so only the runbook tells that it is gated (empty when the text cannot be read)."""
    from respond.errors import RespondError
    from respond.runbook.model import build_runbook
    from respond.yamlfile import parse_yaml

    text = store.runbook_text(run_id)
    if not text:
        return frozenset()
    shown = f"runbook of run {run_id}"
    data, positions, issues = parse_yaml(text, shown)
    if issues:
        return frozenset()
    try:
        runbook = build_runbook(data, positions, source=Path(shown), text=text)
    except RespondError:
        return frozenset()
    return frozenset(step.id for step in runbook.steps if step.gated)


def recorded_drill(meta: Mapping[str, Any]) -> Drill | None:
    """The drill definition a run recorded in its meta (None: none, or one this version
    cannot read)."""
    from respond.drills.model import Drill

    definition = meta.get("drill_definition")
    if not isinstance(definition, Mapping):
        return None
    try:
        return Drill.model_validate(dict(definition))
    except ValueError:  # pydantic's ValidationError is a ValueError
        return None
