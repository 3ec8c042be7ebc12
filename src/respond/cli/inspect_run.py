"""``respond inspect list|checks|run``: the inspections, the built-in checks, and running one
now with its graded table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.cli import app_of, open_project_store

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.cli.inspect_exec import InspectionRun
    from respond.inspections.model import Inspection

COLUMNS = ("device", "check", "state", "value", "threshold", "summary")
STATE_STYLE = {"OK": "green", "WARNING": "yellow", "CRITICAL": "bold red", "UNKNOWN": "magenta"}
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")

RUN_EPILOG = """\b
Examples:
  respond inspect run daily
  respond inspect run monthly -i inventory/prod.yaml --report-to /srv/reports
  respond inspect run pre-holiday --json | jq '.counts'

\b
Exit codes: 0 every check OK; 1 problems found (any WARNING, CRITICAL or UNKNOWN);
2 bad input, unknown inspection or the lab not running; 130 interrupted.
"""


def _json_flag(fn: Any) -> Any:
    return click.option("--json", "json_flag", is_flag=True, help="Print JSON on stdout.")(fn)


# ------------------------------------------------------------------------------ list


@click.command("list")
@_json_flag
@click.pass_context
def list_cmd(ctx: click.Context, json_flag: bool) -> None:
    """Every inspection: title, checks, hosts, schedule and when it is next due, and its
    last run (id, time, worst state)."""
    from respond.inspections.loader import find_inspections, load_inspection

    app = app_of(ctx)
    config = app.config
    inspections = [load_inspection(path, config) for path in find_inspections(config)]
    with open_project_store(ctx) as store:
        rows = [_listing(store, config, i) for i in inspections]
    if json_flag or app.json:
        from respond.cli.output import print_json

        print_json(rows)
        return
    if not rows:
        click.echo(
            f"no inspections: {config.inspections_dir} has no definitions "
            "(see docs/inspections.md)",
            err=True,
        )
        return
    header = ("inspection", "title", "checks", "hosts", "schedule", "next due", "last run")
    _print_rows(header, [_listing_row(r) for r in rows], styles={})


def _listing(store: Any, config: Any, inspection: Inspection) -> dict[str, Any]:
    targets = list(dict.fromkeys(c.targets for c in inspection.checks))
    schedule = inspection.schedule
    return {
        "name": inspection.id,
        "title": inspection.title,
        "version": inspection.version,
        "checks": [c.id for c in inspection.checks],
        "hosts": targets,
        "schedule": schedule.model_dump() if schedule else None,
        "next_due": _next_due(config, inspection),
        "last_run": _last_run(store, inspection.id),
    }


def _next_due(config: Any, inspection: Inspection) -> str | None:
    if inspection.schedule is None:
        return None
    from respond.clock import SYSTEM_CLOCK
    from respond.drills.schedule import next_occurrence

    when = next_occurrence(inspection.schedule, SYSTEM_CLOCK.now(), config.timezone)
    return when.isoformat()


def _last_run(store: Any, name: str) -> dict[str, Any] | None:
    """The latest run of the inspection: id, start, outcome, and its worst result state."""
    from respond.checks.result import State, worst

    runs = [r for r in store.runs(inspection=True) if r.inspection == name]
    if not runs:
        return None
    last = runs[-1]
    states = []
    for event in store.events(last.run_id):
        check = (event.data.get("data") or {}).get("check") if event.kind == "host-result" else None
        if isinstance(check, dict) and check.get("state") in STATES:
            states.append(State.from_word(str(check["state"])))
    return {
        "run_id": last.run_id,
        "started": last.started,
        "outcome": last.outcome,
        "worst": worst(states).word if states else None,
    }


def _listing_row(row: dict[str, Any]) -> tuple[str, ...]:
    from respond.timeline.export import local_time

    schedule = row["schedule"]
    last = row["last_run"]
    last_text = "-"
    if last is not None:
        when = local_time(last["started"]) if last["started"] else "-"
        last_text = f"{last['run_id']} {when} {last['worst'] or last['outcome'] or '-'}"
    return (
        row["name"],
        row["title"] or "-",
        str(len(row["checks"])),
        ", ".join(row["hosts"]),
        schedule["cron"] if schedule else "by hand",
        local_time(row["next_due"]) if row["next_due"] else "-",
        last_text,
    )


# ------------------------------------------------------------------------------ checks


@click.command("checks")
@_json_flag
@click.pass_obj
def checks_cmd(app: AppContext, json_flag: bool) -> None:
    """The built-in checks: name, transport, what it runs or reads, the value it grades,
    default thresholds, arguments (* required)."""
    from respond.checks.catalog import docs_table

    rows = docs_table()
    if json_flag or app.json:
        from respond.cli.output import print_json

        print_json(rows)
        return
    header = ("check", "transport", "runs / reads", "value", "warn", "crit", "args")
    table = [
        (
            r["name"],
            r["transport"],
            r["reads"].replace("`", ""),
            r["value"] + (f" ({r['unit']})" if r["unit"] else ""),
            (r["warn"] or "-") if r["accepts_thresholds"] else "plugin's",
            (r["crit"] or "-") if r["accepts_thresholds"] else "plugin's",
            ", ".join(a["name"] + ("*" if a["required"] else "") for a in r["args"]) or "-",
        )
        for r in rows
    ]
    _print_rows(header, table, styles={})


# ------------------------------------------------------------------------------ run


@click.command("run", epilog=RUN_EPILOG)
@click.argument("name")
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    help="Inventory (default: the inspection's `inventory`, else default_inventory).",
)
@_json_flag
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the table.")
@click.option(
    "--no-actions",
    is_flag=True,
    help="Take none of the on_critical actions (no runbook run, no incident).",
)
@click.option(
    "--report-to",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the inspection report here (formats: the inspection's `report`, else html).",
)
@click.pass_obj
def run_cmd(
    app: AppContext,
    name: str,
    inventory: Path | None,
    json_flag: bool,
    quiet: bool,
    no_actions: bool,
    report_to: Path | None,
) -> None:
    """Run inspection NAME (a name in inspections/ or a path) now: every check on every
    host it targets, a graded table per device and check, then the actions its on_critical
    rules took. Recorded in the timeline as an inspection (never an incident)."""
    from respond.cli.inspect_exec import execute_inspection
    from respond.inspections.loader import load_inspection

    inspection = load_inspection(name, app.config)
    as_json = json_flag or app.json
    run = execute_inspection(
        app,
        inspection,
        inventory_path=inventory,
        quiet=quiet,
        json_output=as_json,
        actions=not no_actions,
        unattended=not sys.stdin.isatty(),
        report_to=report_to,
    )
    if run.exception is not None and run.run_id is None:
        raise run.exception  # nothing ran: one line (file:line:col for a file), exit 2
    if as_json:
        _print_json(inspection, run)
    else:
        _print_table(run)
        _print_footer(run)
    sys.exit(run.exit_code)


def _print_json(inspection: Inspection, run: InspectionRun) -> None:
    from respond.cli.output import print_json

    print_json(
        {
            "run_id": run.run_id,
            "inspection": inspection.id,
            "version": inspection.version,
            "outcome": run.outcome,
            "exit_code": run.exit_code,
            "error": run.error,
            "counts": run.counts(),
            "results": run.results,
            "actions": [a.to_dict() for a in run.actions],
        }
    )


def result_row(result: dict[str, Any]) -> tuple[str, ...]:
    """One result as the table shows it: device, check, state, value+unit, threshold,
    summary."""
    from respond.checks.result import CheckResult

    graded = CheckResult.from_dict(result)
    value = "" if graded.value is None else f"{_number(graded.value)}{graded.unit}"
    return (
        str(result["host"]),
        str(result["check_id"]),
        graded.state.word,
        value or "-",
        graded.threshold or "-",
        " ".join(graded.summary.split()),
    )


def _number(value: float) -> str:
    """Two decimals at most, but a small non-zero value keeps two significant digits."""
    shown = round(value, 2)
    return f"{value:.2g}" if shown == 0 and value != 0 else f"{shown:g}"


def _print_table(run: InspectionRun) -> None:
    rows = [result_row(r) for r in run.results]
    _print_rows(COLUMNS, rows, styles={2: STATE_STYLE})


def _print_footer(run: InspectionRun) -> None:
    """What a reader at 3 a.m. needs last: each problem with what to do, the counts, where
    the record is and how to get the report."""
    from respond.cli.screen import printable

    lines: list[str] = []
    problems = [r for r in run.results if r["state"] != "OK"]
    if problems:
        lines.append("")
        lines.append(f"Problems found ({len(problems)}):")
        for r in problems:
            lines.append(f"  {r['state']:<8} {r['host']} {r['check_id']}: {r['summary']}")
            if r.get("advice"):
                lines.append(f"           → {r['advice']}")
    for action in run.actions:
        lines.append(f"on_critical: {action.text}")
    counts = run.counts()
    said = " · ".join(f"{counts[s]} {s}" for s in STATES)
    lines.append(f"{said} · {len(run.results)} results · outcome {run.outcome or '-'}")
    if run.error:
        lines.append(f"error: {run.error}")
    lines.append(f"run {run.run_id} · report: respond inspect report {run.run_id} --format html")
    click.echo("\n".join(printable(line) for line in lines))


def _print_rows(
    header: Sequence[str],
    rows: Sequence[tuple[str, ...]],
    *,
    styles: dict[int, dict[str, str]],
) -> None:
    """A rich table on a terminal; plain aligned columns in a pipe (every value kept)."""
    from respond.cli.output import out
    from respond.cli.screen import printable

    console = out()
    clean = [tuple(printable(v) for v in row) for row in rows]
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(header_style="bold")
        for col in header:
            table.add_column(col, overflow="fold")
        for row in clean:
            cells = []
            for i, value in enumerate(row):
                style = styles.get(i, {}).get(value, "")
                cells.append(Text(value, style=style))
            table.add_row(*cells)
        console.print(table)
        return
    _print_plain(header, clean)


def _print_plain(header: Sequence[str], rows: Sequence[tuple[str, ...]]) -> None:
    from rich.cells import cell_len

    widths = [max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def render(values: Sequence[str]) -> str:
        cells = [v + " " * (w - cell_len(v)) for v, w in zip(values, widths, strict=True)]
        return "  ".join(cells).rstrip()

    click.echo("\n".join([render(header), *(render(r) for r in rows)]))
