"""``respond validate`` and ``respond schema``: the runbook author's checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from respond.cli import AppContext


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-i",
    "--inventory",
    metavar="INVENTORY",
    envvar="RESPOND_INVENTORY",
    show_envvar=True,
    help="Inventory that resolves host variables and target patterns "
    "(default: default_inventory of respond.yaml).",
)
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def validate_cmd(
    ctx: click.Context, paths: tuple[str, ...], inventory: str | None, json_flag: bool
) -> None:
    """Check runbooks, drills and inventories.

    Without PATH: every runbook, drill and inventory of the project. Each problem is printed
    as `path:line:col: error: message`; the exit status is 2 when there is any error.
    """
    from respond.cli import output
    from respond.runbook.validate import validate_files

    app: AppContext = ctx.obj
    report = validate_files(list(paths), app.config, inventory)
    if json_flag or app.json:
        output.print_json(
            {
                "ok": not report.errors,
                "runbooks": report.runbooks,
                "inventories": report.inventories,
                "drills": report.drills,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "issues": [
                    {
                        "file": i.location.file if i.location else None,
                        "line": i.location.line if i.location else None,
                        "column": i.location.column if i.location else None,
                        "severity": i.severity,
                        "field": i.field or None,
                        "message": i.message,
                    }
                    for i in report.issues
                ],
            }
        )
    else:
        for issue in report.issues:
            click.echo(str(issue))
        if report.errors:
            n = len(report.errors)
            output.info(f"{n} error{'s' if n > 1 else ''}; checked {report.summary()}")
        else:
            click.echo(f"ok: {report.summary()}")
    if report.errors:
        ctx.exit(2)


@click.command("schema")
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE (default: stdout).",
)
def schema_cmd(output_file: Path | None) -> None:
    """Write the JSON Schema of runbooks, for editors (yaml-language-server) and CI.

    Runbooks point to it with `# yaml-language-server: $schema=../schemas/runbook.schema.json`.
    """
    from respond.runbook.model import runbook_json_schema

    text = json.dumps(runbook_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output_file is None:
        click.echo(text, nl=False)
        return
    from respond.cli import output

    output_file.parent.mkdir(parents=True, exist_ok=True)
    output_file.write_text(text, encoding="utf-8")
    output.info(f"wrote {output_file}")
