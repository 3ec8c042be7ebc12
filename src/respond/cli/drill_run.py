"""``respond drill run NAME``: rehearse one drill now and print its scorecard."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.config import ProjectConfig
    from respond.drills.model import Drill
    from respond.drills.objectives import Scorecard

RUN_EPILOG = """\b
Examples:
  respond drill run q1-power-outage                 at a terminal: gates, prompts, walks asked
  respond drill run q1-power-outage --yes           every gate confirmed (recorded as --yes)
  respond drill run tabletop-power --answers room.yaml --json

\b
The drill's mode decides what runs: tabletop walks every step (nothing executes),
simulate runs diagnostics and records gated steps as simulated, lab runs everything
against `respond lab` with the drill's faults injected first and healed after. A
scheduled drill's current occurrence is taken on by this run when nobody has yet.
Exit codes: those of `respond run` (0 resolved, 1 failed or unresolved, 2 bad input,
3 aborted at a gate, 4 held by another process, 130 interrupted).
"""


@click.command("run", epilog=RUN_EPILOG)
@click.argument("name")
@click.option(
    "--yes", "-y", "assume_yes", is_flag=True, help="Confirm every gate; a walked step is done."
)
@click.option(
    "--answers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answers file (gates, prompts, `steps:` of a tabletop drill); overrides the drill's.",
)
@click.option("--json", "json_output", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the summary.")
@click.option(
    "--operator",
    metavar="NAME",
    help="Who runs it (default: RESPOND_OPERATOR, respond.yaml `operator`, user@host).",
)
@click.pass_obj
def run_cmd(
    app: AppContext,
    name: str,
    assume_yes: bool,
    answers: Path | None,
    json_output: bool,
    quiet: bool,
    operator: str | None,
) -> None:
    """Run the drill NAME (drills/NAME.yaml, or a path) now, as a drill run: recorded and
    listed by `timeline list --drill`, never an incident. Then print its scorecard."""
    from respond.cli.drill_exec import drill_setup, error_text, prepare_drill, run_prepared
    from respond.errors import RespondError
    from respond.timeline import open_store

    json_output = json_output or app.json
    drill = load_definition(name, app.config)
    prepared = prepare_drill(app, drill, answers_file=answers, operator=operator)
    occurrence = _take_occurrence(app, drill, prepared.operator)
    setup = drill_setup(
        app, prepared, occurrence=occurrence, quiet=quiet or json_output, unattended=False
    )
    try:
        code = run_prepared(
            app, prepared, setup, assume_yes=assume_yes, quiet=quiet, json_output=json_output
        )
    except RespondError as exc:
        if occurrence is not None:  # taken on, but no run could finish: say why
            detail = f"not run: {error_text(exc)}"
            open_store(app.config).occurrence_run(drill.id, occurrence, setup.run_id, detail)
        raise
    _report(app, drill, setup.run_id, code, occurrence, json_output)
    sys.exit(code)


def load_definition(name: str, config: ProjectConfig) -> Drill:
    """The drill NAME (or a path): a missing or broken definition is exit 2 naming what is
    wrong (the known drills, ``file:line:col``)."""
    from respond.drills.loader import load_drill

    return load_drill(name, config)


def _take_occurrence(app: AppContext, drill: Drill, operator: str) -> str | None:
    """A scheduled drill's current occurrence, when nobody has taken it on yet: this run
    rehearses it (a manual rehearsal counts). None otherwise."""
    if drill.schedule is None:
        return None
    from datetime import UTC, datetime

    from respond.clock import iso
    from respond.drills.schedule import current_occurrence
    from respond.timeline import open_store

    current = current_occurrence(drill.schedule, datetime.now(UTC), app.config.timezone)
    if current is None:
        return None
    occurrence = iso(current)
    if not open_store(app.config).claim_occurrence(drill.id, occurrence, operator):
        return None
    return occurrence


def _report(
    app: AppContext,
    drill: Drill,
    run_id: str | None,
    code: int,
    occurrence: str | None,
    json_output: bool,
) -> None:
    """The occurrence taken on is linked to the run; then the scorecard (or the JSON)."""
    from respond.cli.drill_exec import run_ending
    from respond.timeline import open_store

    store = open_store(app.config)
    ending = run_ending(app, run_id)
    outcome = ending.get("outcome")
    if occurrence is not None:
        store.occurrence_run(drill.id, occurrence, run_id, f"respond drill run: {outcome}")
    card = scorecard(app, run_id) if run_id else None
    if json_output:
        from respond.cli.output import print_json

        print_json(
            {
                "run_id": run_id,
                "drill": drill.id,
                "mode": drill.mode,
                "outcome": outcome,
                "reason": ending.get("reason"),
                "exit_code": code,
                "scorecard": card.to_dict() if card is not None else None,
            }
        )
        return
    if card is not None:
        from respond.cli.output import out
        from respond.drills.objectives import scorecard_lines

        for line in scorecard_lines(card):
            out().print(line, markup=False, highlight=False)


def scorecard(app: AppContext, run_id: str) -> Scorecard | None:
    """The run's scorecard, from its record alone: the definition and runbook it recorded
    (what `respond drill report` and the history score too)."""
    from respond.drills.history import run_scorecard
    from respond.timeline import open_store

    return run_scorecard(open_store(app.config), run_id, levels=app.config.severity_policy)
