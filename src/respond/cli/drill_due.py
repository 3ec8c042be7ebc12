"""``respond drill list|due|install``: the drills, which are due, and the periodic entry.

What is due is read from the record (``respond.schedule.drills``); running what is due is
the schedule's drill job, the same one ``respond schedule run`` runs after the incidents'
clocks. ``drill install`` prints that one entry point: drills get no timer of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from respond.cli import app_of, open_project_store
from respond.cli.incident import emit, json_option, local, wants_json

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.drills.model import Drill
    from respond.schedule.drills import DrillOutcome, DrillState, Execute


def drill_executor(app: AppContext) -> Execute:
    """How the schedule runs a drill: unattended, as a drill run that names its occurrence
    (``respond.cli.drill_exec``), printing nothing of its own on stdout (no progress, no
    summary): the caller's one line per drill, or its JSON, is all that goes there."""

    def execute(drill: Drill, occurrence: str) -> DrillOutcome:
        from respond.cli.drill_exec import execute_drill

        return execute_drill(
            app, drill, unattended=True, occurrence=occurrence, quiet=True, json_output=True
        )

    return execute


# ------------------------------------------------------------------------------ list


@click.command("list")
@click.option("--now", "now_text", metavar="TIME", help="As if it were TIME.")
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, now_text: str | None, json_flag: bool) -> None:
    """Every drill: mode, runbook, schedule (expression and zone), when it is next due
    (local time), its last run (id, date, outcome) and its current occurrence: due, done by
    RUN, failed to start: ..., with the older occurrences nobody ran (missed N)."""
    from respond.cli.schedule import now_of
    from respond.schedule.drills import drill_states

    now = now_of(now_text)
    with open_project_store(ctx) as store:
        states = drill_states(store, app_of(ctx).config, now)
    if wants_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json([s.to_dict() for s in states])
        return
    if not states:
        folder = app_of(ctx).config.drills_dir
        click.echo(f"no drills: {folder} has no definitions (see docs/drills.md)", err=True)
        return
    _print_states(states)


def _print_states(states: Sequence[DrillState]) -> None:
    from rich.table import Table
    from rich.text import Text

    from respond.cli.output import out
    from respond.cli.screen import printable

    console = out()
    if not console.is_terminal:  # piped: never truncate names to 80 columns
        from rich.console import Console

        console = Console(width=200, highlight=False, emoji=False)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("drill", "mode", "runbook", "schedule", "next due", "last run", "occurrence"):
        table.add_column(col, no_wrap=col in ("drill", "next due"))
    for state in states:
        # values are Text, never markup: a title with "[bold]" is shown as written
        table.add_row(*(Text(printable(value)) for value in _row(state)))
    console.print(table)


def _row(state: DrillState) -> tuple[str, ...]:
    drill = state.drill
    if drill is None:
        return (state.name, "-", "-", "-", "-", "-", state.state)
    schedule = drill.schedule
    shown = "-"
    if schedule is not None:
        shown = f"{schedule.expression} ({state.zone})"
    occurrence = state.state
    if state.missed:
        occurrence += f"; {state.missed_text}"
    return (
        state.name,
        drill.mode,
        drill.runbook,
        shown,
        local(state.next) if state.next else "-",
        _last_run(state),
        occurrence,
    )


def _last_run(state: DrillState) -> str:
    last = state.last_run
    if last is None:
        return "never"
    when = local(last.started or last.created)[:10]  # the date on the operator's calendar
    return f"{last.run_id} {when} {last.outcome or last.status}"


# ------------------------------------------------------------------------------ due


@click.command("due")
@click.option("--run", "run_them", is_flag=True, help="Run each due drill now, unattended.")
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="As if it were TIME (what is due then; with --run, run it as that occurrence).",
)
@json_option
@click.pass_context
def due_cmd(ctx: click.Context, run_them: bool, now_text: str | None, json_flag: bool) -> None:
    """Which drills are due now: their current occurrence passed and no run took it on
    (older ones nobody ran are shown as missed, never run). With --run each is claimed and
    run unattended, one after another, one line per drill with its run id and outcome; an
    occurrence runs once, also when two of these start at the same moment. Exit 0, or 1
    when a drill failed (or could not start, or its definition does not load)."""
    from respond.cli.schedule import now_of
    from respond.schedule.drills import DrillJob

    now = now_of(now_text)
    app = app_of(ctx)
    with open_project_store(ctx) as store:
        job = DrillJob(store, app.config, now, drill_executor(app))
        actions = job.run(dry_run=not run_them)
    failed = [a for a in actions if a.failed]
    data = _due_data(now, run_them, actions)
    emit(ctx, json_flag, data, [a.text for a in actions])
    if not wants_json(ctx, json_flag):
        click.echo(f"{local(now)}: {_due_count(actions, run_them)}", err=True)
    if failed:
        ctx.exit(1)


def _due_data(now: datetime, ran: bool, actions: Sequence[Any]) -> dict[str, Any]:
    from respond.clock import iso

    return {
        "now": iso(now),
        "run": ran,
        "actions": [a.to_dict() for a in actions],
        "count": sum(1 for a in actions if not a.failed),
        "failed": sum(1 for a in actions if a.failed),
    }


def _due_count(actions: Sequence[Any], ran: bool) -> str:
    if not actions:
        return "no drill is due"
    failed = sum(1 for a in actions if a.failed)
    if ran:
        text = f"{sum(1 for a in actions if a.kind == 'drill-run')} drill(s) run"
    else:
        due = sum(1 for a in actions if a.kind == "drill-due")
        text = f"{due} drill(s) due (run them with --run; cron does: `respond schedule run`)"
    return text + (f"; {failed} failed" if failed else "")


# ------------------------------------------------------------------------------ install


@click.command("install")
@click.option("--cron", "cron_flag", is_flag=True, help="A crontab line (the default).")
@click.option("--systemd", is_flag=True, help="A systemd .service and .timer instead of cron.")
@click.option(
    "--every",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="How often: minutes that divide an hour, or hours that divide a day.",
)
@json_option
@click.pass_context
def install_cmd(
    ctx: click.Context, cron_flag: bool, systemd: bool, every: str, json_flag: bool
) -> None:
    """Print the crontab line (or systemd units) of `respond schedule run`, exactly as
    `respond schedule install` does: due drills run from that one periodic entry point,
    after the incidents' clocks. Nothing is installed: that is your move."""
    from respond.cli.schedule import install_cmd as schedule_install
    from respond.errors import UsageError

    if cron_flag and systemd:
        raise UsageError("--cron and --systemd exclude each other: give one")
    ctx.invoke(schedule_install, every=every, systemd=systemd, json_flag=json_flag)
    if not wants_json(ctx, json_flag):
        click.echo(
            "note: drills have no timer of their own: `respond schedule run` runs the due "
            "drills after checking the incidents' clocks (one entry point for everything "
            "periodic)",
            err=True,
        )
