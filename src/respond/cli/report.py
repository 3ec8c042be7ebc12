"""`respond report sla`: the SLA figures over the record, in five formats."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from respond.cli import AppContext

FORMAT_CHOICES = ("table", "md", "html", "csv", "json")


@click.group("report")
def report_group() -> None:
    """SLA and other reports over the record."""


@report_group.command("sla")
@click.option(
    "--from",
    "since",
    metavar="DATE",
    help="Incidents detected on or after DATE: a local date (2026-11-01), a date in a zone "
    "(2026-11-01+08:00) or a time.",
)
@click.option(
    "--to",
    "until",
    metavar="DATE",
    help="Incidents detected on or before DATE (a date: the whole day).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default=None,
    help="Output format (default: table; json with --json).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.pass_context
def sla_cmd(
    ctx: click.Context, since: str | None, until: str | None, fmt: str | None, output: Path | None
) -> None:
    """SLA figures of the incidents detected in a range.

    Per SLA level: incidents, respond and restore clocks met / missed / pending, mean and
    worst times, escalations; the vendor's performance against its promised limits; drills
    listed apart; open incidents with their next deadline; the formulas used. Times are in
    local time (TZ) with the zone.

    \b
    Examples:
      respond report sla --from 2026-10-01 --to 2026-12-31
      respond report sla --from 2026-11-01+08:00 --format html -o nov.html
    """
    from respond.clock import SYSTEM_CLOCK
    from respond.errors import UsageError
    from respond.reports import sla, sla_render
    from respond.timeline import open_store

    app: AppContext = ctx.obj
    fmt = fmt or ("json" if app.json else "table")
    now = SYSTEM_CLOCK.now()
    try:
        span = sla.window(since, until, now)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with open_store(app.config) as store:
        report = sla.collect(store, span, now)
    text = sla_render.render(report, fmt)
    _write(text, fmt, output)


def _write(text: str, fmt: str, output: Path | None) -> None:
    from respond.cli.output import write_document

    if output is None and fmt == "table":
        from respond.cli.screen import printable

        text = printable(text)  # titles and sites are people's text: shown, never obeyed

    write_document(text, output, csv=fmt == "csv")
