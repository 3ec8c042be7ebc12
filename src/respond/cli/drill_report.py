"""``respond drill report RUN_ID``: the after-action report of a drill run.

The report is built from the run's record (``respond.reports.drill``), hashed (sha256 of its
canonical JSON, the same whatever format is printed) and the hash appended to the run's
record as a ``drill-report`` event, signed when respond.yaml has a signing key: a report
handed to an auditor can be matched to the record, and the record shows every report made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.cli import app_of, open_project_store

if TYPE_CHECKING:
    from respond.timeline import Store

REPORT_EPILOG = """\b
Fields the record cannot fill (observations, critical findings, hotwash, sign-off)
come from the drill lead's findings file; it is recorded on the run, so later
reports without --findings use it. See docs/drills.md.
\b
Examples:
  respond drill report RUN_ID                          markdown on stdout
  respond drill report RUN_ID --format html -o aar.html
  respond drill report RUN_ID --format pdf --findings findings.yaml
"""


@click.command("report", epilog=REPORT_EPILOG)
@click.argument("run_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "pdf"]),
    default="md",
    show_default=True,
    help="Output format (pdf is written to a file).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write to FILE (default: stdout; pdf: drill-RUN_ID.pdf).",
)
@click.option(
    "--findings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The drill lead's findings (YAML: observations, critical, hotwash, actions, "
    "plan_updates, signoff, distribution).",
)
@click.pass_context
def report_cmd(
    ctx: click.Context, run_id: str, fmt: str, output: Path | None, findings: Path | None
) -> None:
    """The after-action report of a drill run: the 19 fields of the drill record, filled
    from the record; its hash is appended to the run's record."""
    from respond.config import operator_name
    from respond.reports.drill_findings import load_findings

    given = load_findings(findings) if findings is not None else None
    config = app_of(ctx).config
    actor = operator_name(config)
    now = datetime.now(UTC)
    with open_project_store(ctx) as store:
        doc, stamp = make_report(store, run_id, config, given, fmt, actor=actor, now=now)
        rendered = _render(doc, stamp, fmt)  # a report that cannot be rendered is not recorded
        record_stamp(store, doc["run_id"], stamp, actor)
    _write(rendered, fmt, output or _default_output(doc, fmt))


def make_report(
    store: Store,
    run_id: str,
    config: Any,
    findings: dict[str, Any] | None,
    fmt: str,
    *,
    actor: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record the findings (when new), build the document and its stamp (hash, version,
    signature); ``record_stamp`` appends the stamp once the report is rendered."""
    from respond.reports import drill

    record = drill.read_record(store, run_id)  # DrillError: not a drill (exit 2)
    rid = record.info.run_id
    if findings is not None:
        _record_findings(store, record, findings, actor)
    doc = drill.drill_document(store, rid, config, now=now)
    return doc, _stamp(store, rid, doc, fmt, now)


def _record_findings(store: Store, record: Any, findings: dict[str, Any], actor: str) -> None:
    """DRILL_FINDINGS, masked, unless the last recorded findings are the same."""
    from respond.events import EventDraft, EventKind
    from respond.reports import drill

    masker = drill.report_masker(store, record)
    masked = masker.mask(findings)
    if masked == drill.recorded_findings(record.events):
        return
    draft = EventDraft(kind=EventKind.DRILL_FINDINGS, actor=actor, data={"findings": masked})
    store.append(record.info.run_id, [draft], masker=masker)


def _stamp(
    store: Store, run_id: str, doc: dict[str, Any], fmt: str, now: datetime
) -> dict[str, Any]:
    """{sha256, format, version, generated_at, signature, key_id} and the verify result."""
    from respond.clock import iso
    from respond.reports import drill

    sha = drill.document_sha256(doc)
    version = int(doc["fields"]["identification"]["report_version"])
    signer = store.signer
    signature, key_id = "unsigned", None
    if signer is not None and signer.can_sign:
        signature = signer.sign(drill.stamp_payload(run_id, sha, version))
        key_id = signer.key_id
    return {
        "sha256": sha,
        "format": fmt,
        "version": version,
        "generated_at": iso(now),
        "signature": signature,
        "key_id": key_id,
        "verify": doc["fields"]["integrity"]["verify_text"],
    }


def record_stamp(store: Store, run_id: str, stamp: dict[str, Any], actor: str) -> None:
    """The DRILL_REPORT event: the report's stamp, without the verify text it shows."""
    from respond.events import EventDraft, EventKind

    data = {k: v for k, v in stamp.items() if k != "verify"}
    store.append(run_id, [EventDraft(kind=EventKind.DRILL_REPORT, actor=actor, data=data)])


def _render(doc: dict[str, Any], stamp: dict[str, Any], fmt: str) -> str | bytes:
    if fmt != "pdf":
        from respond.reports.drill_render import render

        return render(doc, stamp, fmt)
    from respond.cli.output import warn
    from respond.reports.drill_pdf import render_pdf

    data, warnings = render_pdf(doc, stamp)
    for line in warnings:
        warn(line)
    return data


def _default_output(doc: dict[str, Any], fmt: str) -> Path | None:
    """Text goes to stdout; a PDF is never written to a terminal."""
    return Path(f"drill-{doc['run_id']}.pdf") if fmt == "pdf" else None


def _write(rendered: str | bytes, fmt: str, output: Path | None) -> None:
    from respond.cli.output import write_document

    if isinstance(rendered, str):
        write_document(rendered, output)
        return
    assert output is not None
    try:
        output.write_bytes(rendered)
    except OSError as exc:
        from respond.errors import RespondError

        raise RespondError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)
