"""``respond drill list|due|install``: the drills, which are due, and the periodic entry."""

from __future__ import annotations

import click


@click.command("list")
def list_cmd() -> None:
    """List the drills (placeholder)."""
    raise click.UsageError("drill list is not implemented yet")


@click.command("due")
def due_cmd() -> None:
    """Which drills are due (placeholder)."""
    raise click.UsageError("drill due is not implemented yet")


@click.command("install")
def install_cmd() -> None:
    """Print the periodic entry (placeholder)."""
    raise click.UsageError("drill install is not implemented yet")
