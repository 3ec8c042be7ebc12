"""``respond inspect report RUN_ID`` (the inspection report in six formats) and ``respond
inspect log`` (the daily check record: every check result per device over a period)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.cli import app_of, open_project_store

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.secrets import Masker
    from respond.timeline import Store

REPORT_FORMATS = ("md", "html", "json", "xlsx", "docx", "pdf")
BINARY = frozenset({"xlsx", "docx", "pdf"})
LOG_FORMATS = ("table", "csv", "md", "json")

REPORT_EPILOG = """\b
Examples:
  respond inspect report 20261202T0000                 markdown on stdout
  respond inspect report RUN_ID --format html -o inspection.html
  respond inspect report RUN_ID --format xlsx          writes RUN_ID.xlsx here
"""

LOG_EPILOG = """\b
Examples:
  respond inspect log --from 2026-12-01 --to 2026-12-07
  respond inspect log --from 2026-12-01 --to 2026-12-31 --device db1 --format csv -o db1.csv
"""


@click.command("report", epilog=REPORT_EPILOG)
@click.argument("run_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default=None,
    help="Output format (default: md; json with --json). xlsx, docx and pdf are written to a file.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write to FILE (default: stdout; xlsx/docx/pdf: RUN_ID.EXT in this directory).",
)
@click.option("--json", "json_flag", is_flag=True, help="The same as --format json.")
@click.pass_context
def report_cmd(
    ctx: click.Context, run_id: str, fmt: str | None, output: Path | None, json_flag: bool
) -> None:
    """The inspection report (巡检报告) of an inspection run: scope, time, inspector, counts
    by state, every device's checks with value, threshold and grade, the problems found with
    advice, the trend against the previous run of the same inspection, record integrity."""
    app = app_of(ctx)
    fmt = fmt or ("json" if json_flag or app.json else "md")
    with open_project_store(ctx) as store:
        doc = report_document(store, app.config, run_id)
    rendered = render_report(doc, fmt)
    if isinstance(rendered, str):
        from respond.cli.output import write_document

        write_document(rendered, output)
        return
    _write_bytes(rendered, output or Path(f"{doc['run_id']}.{fmt}"))


def report_document(store: Store, config: ProjectConfig, run_id: str) -> dict[str, Any]:
    """The report document of the inspection run ``run_id`` (an id or a unique prefix),
    masked (``report_masker``); for callers that write reports themselves."""
    from respond.reports.inspection import inspection_report

    rid = store.resolve_run_id(run_id)
    masker = report_masker(store, config, [store.meta(rid).get("inventory")])
    return inspection_report(store, rid, masker=masker)


def render_report(doc: dict[str, Any], fmt: str) -> str | bytes:
    """The document in ``fmt``: text for md/html/json, bytes for xlsx/docx/pdf."""
    if fmt == "xlsx":
        from respond.reports.inspection_xlsx import render_xlsx

        return render_xlsx(doc)
    if fmt == "docx":
        from respond.reports.inspection_docx import render_docx

        return render_docx(doc)
    if fmt == "pdf":
        from respond.cli.output import warn
        from respond.reports.inspection_pdf import render_pdf

        data, warnings = render_pdf(doc)
        for line in warnings:
            warn(line)
        return data
    from respond.reports.inspection_render import render

    return render(doc, fmt)


def _write_bytes(data: bytes, output: Path) -> None:
    try:
        output.write_bytes(data)
    except OSError as exc:
        from respond.errors import RespondError

        raise RespondError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


def report_masker(store: Store, config: ProjectConfig, inventories: Sequence[Any]) -> Masker:
    """What a report must never show: the store's signing key and the secrets (passwords,
    tokens) of the inventories the runs used, should one have reached a check's output."""
    from respond.secrets import Masker

    masker = Masker(store.key_material())
    for recorded in dict.fromkeys(str(i) for i in inventories if i):
        for secret in _inventory_secrets(config, recorded):
            masker.add(secret)
    return masker


def _inventory_secrets(config: ProjectConfig, recorded: Any) -> list[str]:
    """The secrets of the inventory the run used, when it is still there to read."""
    from respond.cli.run import _secrets_of
    from respond.errors import RespondError

    if not recorded:
        return []
    path = Path(str(recorded))
    path = path if path.is_absolute() else config.root / path
    if not path.is_file():
        return []
    from respond.inventory import load_inventory

    try:
        return _secrets_of(load_inventory(path))
    except RespondError:
        return []


@click.command("log", epilog=LOG_EPILOG)
@click.option(
    "--from",
    "since",
    metavar="DATE",
    required=True,
    help="Results read on or after DATE: a local date (2026-12-01), a date in a zone "
    "(2026-12-01+08:00) or a time.",
)
@click.option(
    "--to",
    "until",
    metavar="DATE",
    required=True,
    help="Results read on or before DATE (a date: the whole day).",
)
@click.option("--device", metavar="HOST", help="Only this device.")
@click.option("--check", metavar="ID", help="Only this check (its id or built-in name).")
@click.option("--inspection", metavar="NAME", help="Only runs of this inspection.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(LOG_FORMATS),
    default=None,
    help="Output format (default: table; json with --json).",
)
@click.option("--json", "json_flag", is_flag=True, help="The same as --format json.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.pass_context
def log_cmd(
    ctx: click.Context,
    since: str,
    until: str,
    device: str | None,
    check: str | None,
    inspection: str | None,
    fmt: str | None,
    json_flag: bool,
    output: Path | None,
) -> None:
    """The daily check record (日常检查记录): every check result per device over a period,
    sorted by time then device: time, device, check, what is checked, state, value,
    threshold, the problem found, the inspection run."""
    from datetime import timedelta

    from respond.clock import SYSTEM_CLOCK
    from respond.errors import UsageError
    from respond.inspections.record import results_between
    from respond.reports.inspection_log import log_row, render_log
    from respond.reports.sla import window

    app = app_of(ctx)
    fmt = fmt or ("json" if json_flag or app.json else "table")
    try:
        span = window(since, until, SYSTEM_CLOCK.now())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    assert span.start is not None and span.end is not None
    with open_project_store(ctx) as store:
        found = results_between(
            store,
            span.start,
            span.end - timedelta(microseconds=1),  # the window's end is not in it
            host=device,
            check=check,
            inspection=inspection,
        )
        metas = [store.meta(rid) for rid in dict.fromkeys(r.run_id for r in found)]
        masker = report_masker(store, app.config, [m.get("inventory") for m in metas])
    period = f"{since} – {until}"
    if not found:
        from respond.cli.output import info

        info(f"no inspection results from {since} to {until}{_filters(device, check, inspection)}")
        if fmt in ("table", "md"):
            return
    rows = masker.mask([log_row(r) for r in found])
    _write_text(render_log(rows, fmt, period), fmt, output)


def _filters(device: str | None, check: str | None, inspection: str | None) -> str:
    parts = [
        f"{name} {value}"
        for name, value in (("device", device), ("check", check), ("inspection", inspection))
        if value
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _write_text(text: str, fmt: str, output: Path | None) -> None:
    from respond.cli.output import write_document

    if output is None and fmt == "table":
        from respond.cli.screen import printable

        text = printable(text)  # device names and summaries come from hosts: shown, not obeyed
    write_document(text, output, csv=fmt == "csv")
