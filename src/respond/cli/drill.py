"""``respond drill list|run|due|install|report``: scheduled drills and after-action reports.

Each subcommand lives in its own module (``drill_run``, ``drill_due``, ``drill_report``);
this group only puts them together.
"""

from __future__ import annotations

import click

from respond.cli.drill_due import due_cmd, install_cmd, list_cmd
from respond.cli.drill_report import report_cmd
from respond.cli.drill_run import run_cmd

DRILL_EPILOG = """\b
Examples:
  respond drill list                    every drill, its mode, next due time, last result
  respond drill run q1-power --yes      rehearse now; prints the scorecard
  respond drill due --run               run what is due (cron does this via `schedule run`)
  respond drill report RUN_ID --format html -o aar.html
"""


@click.group("drill", epilog=DRILL_EPILOG)
def drill_group() -> None:
    """Scheduled drills (drills/*.yaml): rehearse a runbook in tabletop, simulate or lab
    mode, score it against its objectives, and write the after-action report."""


for command in (list_cmd, run_cmd, due_cmd, install_cmd, report_cmd):
    drill_group.add_command(command)
