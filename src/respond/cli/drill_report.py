"""``respond drill report RUN_ID``: the after-action report of a drill run."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("run_id")
def report_cmd(run_id: str) -> None:
    """The after-action report (placeholder)."""
    raise click.UsageError("drill report is not implemented yet")
