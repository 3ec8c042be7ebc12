"""``respond drill run NAME``: rehearse one drill now and print its scorecard."""

from __future__ import annotations

import click


@click.command("run")
@click.argument("name")
def run_cmd(name: str) -> None:
    """Run the drill NAME (placeholder until the drill runner lands)."""
    raise click.UsageError("drill run is not implemented yet")
