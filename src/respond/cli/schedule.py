"""``respond schedule run|status|install``: the one periodic entry point, for cron or a
systemd timer (see ``respond.schedule``). ``install`` only prints what to install."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from respond.cli import app_of, open_project_store
from respond.cli.incident import (
    book_of,
    emit,
    json_option,
    local,
    now_utc,
    span,
    wants_json,
)

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.config import ProjectConfig
    from respond.incidents import IncidentBook
    from respond.inspections.model import Inspection
    from respond.schedule import Action, Job
    from respond.schedule.inspections import Execute as InspectionExecute
    from respond.schedule.inspections import InspectionOutcome
    from respond.timeline import Store


@click.group("schedule")
def schedule_group() -> None:
    """The periodic entry point: run it from cron or a systemd timer (`schedule install`
    prints the line). Each call escalates overdue incidents and runs due drills and
    inspections, each thing once; a second call finds it done."""


def now_of(option_text: str | None) -> datetime:
    """Now, or the time ``--now`` names (it may be ahead: "what happens at 09:00")."""
    if option_text is None:
        return now_utc()
    from respond.clock import parse_time
    from respond.errors import UsageError

    try:
        return parse_time(option_text, now_utc())
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def _not_before_recorded(store: Store, now: datetime, text: str) -> None:
    """Acting as if it were before a deadline already acted on would make the record go
    back in time: refused."""
    from respond.errors import UsageError
    from respond.schedule.incidents import latest_recorded_deadline

    latest = latest_recorded_deadline(store)
    if latest is not None and now < latest[1]:
        raise UsageError(
            f"--now {text!r} ({local(now)}) is earlier than a deadline already recorded "
            f"({latest[0]}, due {local(latest[1])}); the schedule never goes back in time"
        )


def _jobs(
    app: AppContext, store: Store, config: ProjectConfig, now: datetime, fixed: bool
) -> list[Job]:
    """The schedule's jobs, as of ``now``, in order: overdue incident clocks first (they
    are about real faults), then due drills, then due inspections."""
    from respond.cli.drill_due import drill_executor
    from respond.schedule.drills import DrillJob
    from respond.schedule.incidents import IncidentJob
    from respond.schedule.inspections import InspectionJob

    return [
        IncidentJob(store, lambda: book_of(store, config, now if fixed else None), now),
        DrillJob(store, config, now, drill_executor(app)),
        InspectionJob(store, config, now, inspection_executor(app)),
    ]


def inspection_executor(app: AppContext) -> InspectionExecute:
    """How the schedule runs an inspection: unattended (an on_critical runbook's gates
    refuse without an answer), as a run that names its occurrence, printing nothing of its
    own on stdout: the caller's one line per inspection, or its JSON, is all that goes
    there."""

    def execute(inspection: Inspection, occurrence: str) -> InspectionOutcome:
        from respond.cli.inspect_exec import execute_inspection

        return execute_inspection(
            app,
            inspection,
            occurrence=occurrence,
            unattended=True,
            quiet=True,
            json_output=True,
        )

    return execute


@schedule_group.command("run")
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="Act as if it were TIME (a dry run of what is due then; tests). Never earlier than "
    "a deadline already recorded.",
)
@click.option("--dry-run", is_flag=True, help="Say what is due; record and notify nothing.")
@json_option
@click.pass_context
def run_cmd(ctx: click.Context, now_text: str | None, dry_run: bool, json_flag: bool) -> None:
    """Check every open incident and escalate what is due, exactly once per passed
    deadline (a deadline at level 1 is recorded as missed and reported up), then run each
    due drill, then each due inspection, unattended, exactly once per occurrence (an
    inspection's on_critical runbooks refuse their gates; its reports go to its
    report.to); one line per action, then a count. Exit 0 (also when an inspection found
    problems: its line says so), or 1 when a record could not be checked, a drill failed
    or an inspection could not run."""
    from respond.clock import iso
    from respond.schedule import run_jobs

    now = now_of(now_text)
    app = app_of(ctx)
    config = app.config
    with open_project_store(ctx) as store:
        if now_text is not None:
            _not_before_recorded(store, now, now_text)
        jobs = _jobs(app, store, config, now, now_text is not None)
        actions = run_jobs(jobs, dry_run=dry_run)
    failed = [a for a in actions if a.failed]
    done = len(actions) - len(failed)
    data = {
        "now": iso(now),
        "dry_run": dry_run,
        "actions": [a.to_dict() for a in actions],
        "count": done,
        "failed": len(failed),
    }
    emit(ctx, json_flag, data, [a.text for a in actions])
    if not wants_json(ctx, json_flag):
        # the time leads: in cron's log file this line is what says when each call ran
        click.echo(f"{local(now)}: {_count_line(done, failed, dry_run)}", err=True)
    if failed:
        ctx.exit(1)


def _count_line(done: int, failed: Sequence[Action], dry_run: bool) -> str:
    if dry_run:
        text = f"dry run: {done} action(s) due, nothing recorded"
    else:
        text = f"{done} action(s) recorded" if done else "nothing due"
    records = sum(1 for a in failed if a.job == "incidents")
    drills = sum(1 for a in failed if a.job == "drills")
    inspections = sum(1 for a in failed if a.job == "inspections")
    if records:
        text += f"; {records} record(s) could not be checked"
    if drills:
        text += f"; {drills} drill(s) failed"
    return text + (f"; {inspections} inspection(s) failed" if inspections else "")


def _no_book() -> IncidentBook:
    raise AssertionError("schedule status reads the summaries only")


@schedule_group.command("status")
@click.option("--now", "now_text", metavar="TIME", help="As if it were TIME.")
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, now_text: str | None, json_flag: bool) -> None:
    """What falls due next: each open incident's next deadline (which clock, when), from
    the stored summaries, and each scheduled drill's and inspection's next occurrence (a
    due one: when it fell due)."""
    from respond.schedule import upcoming
    from respond.schedule.drills import DrillJob
    from respond.schedule.incidents import IncidentJob
    from respond.schedule.inspections import InspectionJob

    now = now_of(now_text)
    config = app_of(ctx).config
    with open_project_store(ctx) as store:
        jobs: list[Job] = [
            IncidentJob(store, _no_book, now),
            DrillJob(store, config, now),
            InspectionJob(store, config, now),
        ]
        items = upcoming(jobs)
    if wants_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo(
            "nothing is due: no open incident has a pending deadline, no drill or inspection "
            "a schedule",
            err=True,
        )
        return
    lines = []
    for item in items:
        left = (item.due - now).total_seconds()
        when = f"in {span(left)}" if left >= 0 else f"overdue by {span(-left)}"
        lines.append(
            f"{local(item.due)}  ({when})  {item.subject}  {item.what}  "
            f"{item.detail.get('title') or ''}"
        )
    emit(ctx, json_flag, [], lines)


# ------------------------------------------------------------------------------ install


@schedule_group.command("install")
@click.option(
    "--every",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="How often: minutes that divide an hour, or hours that divide a day.",
)
@click.option("--systemd", is_flag=True, help="A systemd .service and .timer instead of cron.")
@json_option
@click.pass_context
def install_cmd(ctx: click.Context, every: str, systemd: bool, json_flag: bool) -> None:
    """Print the crontab line (or the systemd units) that runs `respond schedule run`
    periodically for this project. Nothing is installed: that is your move."""
    from respond.durations import parse_duration
    from respond.errors import UsageError
    from respond.schedule import install

    try:
        period = install.Every.parse(parse_duration(every))
    except ValueError as exc:
        message = str(exc)
        raise UsageError(
            message if message.startswith("--every") else f"--every: {message}"
        ) from None
    app = app_of(ctx)
    config = app.config
    argv = install.command_line(_respond_argv(), config.root, config.home if app.home else None)
    if systemd:
        text = install.systemd_units(period, argv, config.root)
    else:
        text = install.crontab(period, argv, config.root, config.home / "schedule.log")
    _warn_environment(config.raw.get("db"))
    emit(
        ctx,
        json_flag,
        {
            "format": "systemd" if systemd else "cron",
            "every": period.text,
            "argv": argv,
            "text": text,
        },
        [text.rstrip("\n")],
    )


def _respond_argv() -> list[str]:
    """The absolute command that starts this respond: its console script when installed
    beside this interpreter, else this interpreter with ``-m respond``."""
    script = Path(sys.executable).with_name("respond")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "respond"]


def _warn_environment(db_in_config: object) -> None:
    """Cron and systemd start with an almost empty environment: a store chosen by this
    shell's RESPOND_DB would not be the one they write to."""
    if os.environ.get("RESPOND_DB") and not db_in_config:
        from respond.cli.output import warn

        warn(
            "RESPOND_DB is set in this shell but cron/systemd will not see it: set db: in "
            "respond.yaml, or add RESPOND_DB=... to the crontab (Environment= in the service)"
        )
