"""Write docs/cli.md from the Click commands themselves, so the reference never drifts.

Run: .venv/bin/python scripts/gen_cli_docs.py   (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"


def _walk(cmd: click.Command, path: list[str], ctx: click.Context | None, out: list[str]) -> None:
    sub_ctx = click.Context(
        cmd, info_name=path[-1], parent=ctx, terminal_width=100, max_content_width=100
    )
    name = " ".join(path)
    if len(path) > 1:
        out.append(f"{'#' * min(len(path) + 1, 4)} `{name}`\n")
    help_text = cmd.get_help(sub_ctx)
    out.append("```text\n" + help_text.rstrip() + "\n```\n")
    if isinstance(cmd, click.Group):
        for sub in cmd.list_commands(sub_ctx):
            child = cmd.get_command(sub_ctx, sub)
            if child is not None and not child.hidden:
                _walk(child, [*path, sub], sub_ctx, out)


def render() -> str:
    from respond.cli import cli

    out = [
        "# Command reference\n",
        "Generated from the commands' own help by `scripts/gen_cli_docs.py`; do not edit by hand.\n",
        "Global options come before the command: `respond --home DIR --project DIR --json COMMAND`.\n",
    ]
    _walk(cli, ["respond"], None, out)
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        sys.exit(0 if current == text else 1)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
