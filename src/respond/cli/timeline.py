"""``respond timeline list|show|export|import|verify`` and ``respond note``: the auditor's views.

Data goes to stdout (tables, JSON, exports); messages to stderr. The store and rich are
imported inside the commands so ``respond timeline --help`` stays fast.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.cli import app_of, open_project_store

if TYPE_CHECKING:
    from respond.timeline import RunInfo, Store, VerifyResult
    from respond.timeline.configs import ConfigChange


def _want_json(ctx: click.Context, flag: bool) -> bool:
    return flag or bool(app_of(ctx).json)


@click.group("timeline")
def timeline_group() -> None:
    """List, show, export, import and verify run records; the device configuration archive."""


# ------------------------------------------------------------------------------ list


@timeline_group.command("list")
@click.option("--since", metavar="DATE", help="Runs started on or after DATE (YYYY-MM-DD[THH:MM]).")
@click.option("--until", metavar="DATE", help="Runs started on or before DATE.")
@click.option("--runbook", metavar="ID", help="Only runs of this runbook.")
@click.option(
    "--status",
    type=click.Choice(["running", "succeeded", "failed", "aborted", "interrupted"]),
    help="Only runs with this status.",
)
@click.option(
    "--outcome",
    type=click.Choice(["resolved", "no-fault", "unresolved", "aborted", "failed"]),
    help="Only runs that ended with this outcome.",
)
@click.option("--drill/--no-drill", default=None, help="Only drills / only real incidents.")
@click.option(
    "--inspection/--no-inspection",
    default=None,
    help="Only inspections (respond inspect run) / no inspections.",
)
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    runbook: str | None,
    status: str | None,
    outcome: str | None,
    drill: bool | None,
    inspection: bool | None,
    json_flag: bool,
) -> None:
    """Runs: id, runbook@version (an inspection: inspection:NAME@version), severity
    (initial→final), operator, started, duration, outcome."""
    from respond.errors import TimelineError, UsageError

    with open_project_store(ctx) as store:
        try:
            runs = store.runs(
                since=since,
                until=until,
                runbook=runbook,
                status=status,
                outcome=outcome,
                drill=drill,
                inspection=inspection,
            )
        except TimelineError as exc:
            if "not a date" in str(exc):
                raise UsageError(str(exc)) from None
            raise
    if _want_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json([r.to_dict() for r in runs])
        return
    if not runs:
        click.echo("no runs recorded", err=True)
        return
    _print_runs(runs)


def _print_runs(runs: list[Any]) -> None:
    """The runs as a table: one line each, its end in words and colour."""
    from rich.table import Table
    from rich.text import Text

    from respond.cli.output import END_STYLE, out
    from respond.cli.screen import printable
    from respond.timeline.export import fmt_duration, local_time, severity_text

    console = out()
    if not console.is_terminal:  # piped: never truncate ids to 80 columns
        from rich.console import Console

        console = Console(width=200, highlight=False, emoji=False)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("run id", "runbook", "severity", "operator", "started", "duration", "outcome"):
        table.add_column(col, no_wrap=col != "runbook")
    for r in runs:
        # the outcome in words; a run still going (or recorded before outcomes) its status
        said = r.outcome or r.status
        if r.outcome and r.status == "interrupted":
            said += " (interrupted)"
        shown = said + (" (drill)" if r.drill else "")
        # values are Text, never markup: an operator named "[bold]x" is shown as typed
        table.add_row(
            *(
                Text(printable(value))
                for value in (
                    r.run_id,
                    f"inspection:{r.inspection}@{r.version}"
                    if r.inspection
                    else f"{r.runbook}@{r.version}",
                    severity_text(r),
                    r.operator or "-",
                    local_time(r.started) if r.started else "-",
                    fmt_duration(r.duration_s),
                )
            ),
            Text(shown, style=END_STYLE.get(r.outcome or r.status, "cyan")),
        )
    console.print(table)


# ------------------------------------------------------------------------------ show


def _runbook_file(ctx: click.Context, info: RunInfo) -> Path | None:
    meta = info.meta
    for key in ("runbook_path", "source", "path"):
        if meta.get(key):
            p = Path(str(meta[key]))
            if p.is_file():
                return p
    try:
        runbooks_dir = app_of(ctx).config.runbooks_dir
    except Exception:
        return None
    for suffix in (".yaml", ".yml"):
        p = runbooks_dir / f"{info.runbook}{suffix}"
        if p.is_file():
            return p
    return None


def runbook_drift(ctx: click.Context, info: RunInfo) -> str | None:
    """A warning when the runbook file now differs from the revision that ran."""
    if not info.sha256 or not info.runbook:
        return None
    path = _runbook_file(ctx, info)
    if path is None:
        return f"the runbook file for {info.runbook!r} is gone; `--runbook` prints the revision that ran"
    current = hashlib.sha256(path.read_bytes()).hexdigest()
    if current != info.sha256:
        return (
            f"{path} has changed since this run (ran sha256 {info.sha256[:12]}, now "
            f"{current[:12]}); `--runbook` prints the revision that ran"
        )
    return None


@timeline_group.command("show")
@click.argument("run_id")
@click.option("--json", "json_flag", is_flag=True, help="The raw events as JSON.")
@click.option("--runbook", "show_runbook", is_flag=True, help="Print the runbook text that ran.")
@click.pass_context
def show_cmd(ctx: click.Context, run_id: str, json_flag: bool, show_runbook: bool) -> None:
    """The ordered events of a run: time (local and UTC), elapsed, actor, step, host, what happened."""
    from respond.cli.screen import printable
    from respond.timeline.configs import config_change
    from respond.timeline.export import (
        describe,
        fmt_duration,
        fmt_elapsed,
        local_time,
        outcome_text,
        parse_ts,
        severity_text,
        utc_time,
    )

    with open_project_store(ctx) as store:
        rid = store.resolve_run_id(run_id)
        if show_runbook:
            text = store.runbook_text(rid)
            if text is None:
                from respond.errors import TimelineError

                raise TimelineError(f"run {rid} has no stored runbook text")
            click.echo(text, nl=not text.endswith("\n"))
            return
        info = store.run(rid)
        events = store.events(rid)
        verified = _verified(store, rid)
    drift = runbook_drift(ctx, info)
    if _want_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json(
            {
                "run": info.to_dict(),
                "verify": verified.to_dict() if verified else None,
                "runbook_changed": drift,
                "events": [_event_dict(e) for e in events],
            }
        )
        return
    from respond.cli.output import warn

    if verified is not None and not verified.ok:  # what follows may show edited values
        warn(f"this record failed verification: {verified}")
    if drift:
        warn(drift)
    header = [
        f"run {info.run_id} · "
        f"{'inspection:' + info.inspection if info.inspection else info.runbook}@{info.version}"
        f" · severity {severity_text(info)} · "
        f"{info.status}{' (drill)' if info.drill else ''}",
        *([f"outcome {outcome_text(info)}"] if info.outcome else []),
        f"operator {info.operator or '-'} on {info.hostname or '-'} · started "
        f"{local_time(info.started) if info.started else '-'} · duration "
        f"{fmt_duration(info.duration_s)} · runbook sha256 {info.sha256 or '-'}",
        "",
        f"{'seq':>5}  {'local':<8}  {'UTC':<9}  {'elapsed':<13}  {'actor':<16}  {'step':<18}  "
        f"{'host':<14}  what happened",
    ]
    lines = [printable(line) for line in header]
    t0 = parse_ts(events[0].ts) if events else None
    colour = _colour()
    for ev in events:
        el = fmt_elapsed((parse_ts(ev.ts) - t0).total_seconds()) if t0 else ""
        line = (
            f"{ev.seq:>5}  {local_time(ev.ts)[11:19]:<8}  {utc_time(ev.ts)[11:]:<9}  {el:<13}  "
            f"{_cut(ev.actor, 16):<16}  {_cut(ev.step_id or '', 18):<18}  "
            f"{_cut(ev.host or '', 14):<14}  {describe(ev)}"
        )
        lines.append(printable(line))
        change = config_change(ev)
        if change is not None and change.diff:
            lines += _diff_lines(change.diff, colour, indent=" " * 7)
    # What hosts printed and operators typed is shown, never obeyed by the terminal
    # (each line made printable before the diff's own colours are added).
    click.echo("\n".join(lines), color=colour)


def _colour() -> bool:
    """Colour on stdout: a terminal, and NO_COLOR / TERM=dumb not set (rich decides)."""
    from respond.cli.output import out

    console = out()
    return console.is_terminal and console.color_system is not None


_DIFF_COLOURS = (("+++", "bright_black"), ("---", "bright_black"), ("@@", "cyan"), ("+", "green"))


def _diff_lines(diff: str, colour: bool, indent: str = "") -> list[str]:
    """A unified diff made printable, + green and - red when ``colour``."""
    from respond.cli.screen import printable

    out = []
    for raw in diff.splitlines():
        line = indent + printable(raw)
        style = next((c for p, c in _DIFF_COLOURS if raw.startswith(p)), None)
        if style is None and raw.startswith("-"):
            style = "red"
        out.append(click.style(line, fg=style) if colour and style else line)
    return out


def _verified(store: Store, run_id: str) -> VerifyResult | None:
    """The run's verification, or None when the configured signing key cannot be loaded
    (reading the record never needs the key)."""
    from respond.errors import ConfigError

    try:
        return store.verify(run_id)
    except ConfigError:
        return None


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _event_dict(e: Any) -> dict[str, Any]:
    return {
        "run_id": e.run_id,
        "seq": e.seq,
        "ts": e.ts,
        "kind": e.kind,
        "actor": e.actor,
        "step_id": e.step_id,
        "host": e.host,
        "data": e.data,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


# ------------------------------------------------------------------------------ configs


_CONFIGS_EPILOG = """\b
Examples:
  respond timeline configs --device core-sw1
  respond timeline configs --since 2026-12-01 --json
  respond timeline configs 20261202T061500Z-3fa2 --device core-sw1 --show diff
"""


@timeline_group.command("configs", epilog=_CONFIGS_EPILOG)
@click.argument("run_id", required=False)
@click.option("--device", metavar="NAME", help="Only this device (inventory host name).")
@click.option("--since", metavar="TIME", help="Only changes on or after TIME (YYYY-MM-DD[THH:MM]).")
@click.option("--step", "step_id", metavar="ID", help="Only this step (with RUN_ID).")
@click.option(
    "--show",
    type=click.Choice(["before", "after", "diff"]),
    help="Print one configuration (with RUN_ID): before or after the step, or the diff.",
)
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output.")
@click.pass_context
def configs_cmd(
    ctx: click.Context,
    run_id: str | None,
    device: str | None,
    since: str | None,
    step_id: str | None,
    show: str | None,
    json_flag: bool,
) -> None:
    """The device archive: every config step's running configuration before and after,
    across runs (run, time, step, device, operator, lines changed, artifact ids)."""
    from respond.errors import TimelineError, UsageError

    if show and not run_id:
        raise UsageError("--show needs a RUN_ID (the list without one shows which runs)")
    if step_id and not run_id:
        raise UsageError("--step goes with a RUN_ID")
    with open_project_store(ctx) as store:
        rid = store.resolve_run_id(run_id) if run_id else None
        try:
            changes = store.config_changes(device=device, since=since, run_id=rid)
        except TimelineError as exc:
            if "not a date" in str(exc):
                raise UsageError(str(exc)) from None
            raise
        changes = [c for c in changes if not step_id or c.step_id == step_id]
        if show:
            _print_config(store, _one_change(changes, rid or "", device, step_id), show)
            return
    if _want_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json([c.to_dict() for c in changes])
        return
    if not changes:
        click.echo("no configuration changes recorded", err=True)
        return
    _print_changes(changes)


def _one_change(
    changes: list[ConfigChange], run_id: str, device: str | None, step: str | None
) -> ConfigChange:
    """The one config step ``--show`` prints; exit 2 naming the choices otherwise."""
    from respond.errors import UsageError

    if len(changes) == 1:
        return changes[0]
    where = (
        f"run {run_id}" + (f" on {device}" if device else "") + (f" step {step}" if step else "")
    )
    if not changes:
        raise UsageError(f"{where}: no configuration recorded")
    choices = ", ".join(sorted({f"{c.device} (step {c.step_id})" for c in changes}))
    option = "--step" if device else "--device"
    raise UsageError(
        f"{where}: {len(changes)} configurations ({choices}): choose one with {option}"
    )


def _print_config(store: Store, change: ConfigChange, what: str) -> None:
    from respond.errors import TimelineError

    if what == "diff":
        text = change.diff
        if change.diff_artifact:
            text = store.get_artifact(change.diff_artifact).decode("utf-8", "replace")
        if not text:
            click.echo(f"{change.device}: no change in step {change.step_id}", err=True)
            return
        colour = _colour()
        click.echo("\n".join(_diff_lines(text, colour)), color=colour)
        return
    sha = change.before if what == "before" else change.after
    if sha is None:
        raise TimelineError(
            f"{change.device}: the configuration {what} step {change.step_id} was not recorded "
            "(it could not be read)"
        )
    from respond.cli.screen import printable

    text = store.get_artifact(sha).decode("utf-8", "replace")
    click.echo(printable(text), nl=not text.endswith("\n"))


def _print_changes(changes: list[ConfigChange]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from respond.cli.output import out
    from respond.cli.screen import printable
    from respond.timeline.export import local_time

    console = out()
    if not console.is_terminal:  # piped: never truncate ids to 80 columns
        console = Console(width=220, highlight=False, emoji=False)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("run id", "time", "step", "device", "operator", "change", "before", "after"):
        table.add_column(col, no_wrap=True)
    for c in changes:
        style = "yellow" if c.changed else None
        table.add_row(
            *(
                Text(printable(value))
                for value in (c.run_id, local_time(c.ts), c.step_id, c.device, c.operator or "-")
            ),
            Text(c.summary, style=style or ""),
            Text((c.before or "-")[:12]),
            Text((c.after or "-")[:12]),
        )
    console.print(table)


# ------------------------------------------------------------------------------ export


def render(store: Store, run_id: str, fmt: str) -> str:
    from respond.timeline import export

    info = store.run(run_id)
    events = store.events(run_id)
    verify = store.verify(run_id)
    if fmt == "csv":
        return export.to_csv(info, events)
    incident = export.incident_summary(store, info)
    if fmt == "json":
        return export.to_json(info, events, verify, store.export_run(run_id), incident)
    if fmt == "md":
        return export.to_markdown(info, events, verify, incident)
    return export.to_html(info, events, verify, incident)


@timeline_group.command("export")
@click.argument("run_id", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "md", "html", "csv"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.option(
    "--all", "all_runs", is_flag=True, help="Every run (json only), for `timeline import`."
)
@click.pass_context
def export_cmd(
    ctx: click.Context, run_id: str | None, fmt: str, output: Path | None, all_runs: bool
) -> None:
    """Export a run as a report (md, html), a spreadsheet (csv) or the raw record (json)."""
    from respond.errors import UsageError

    if all_runs == bool(run_id):
        raise UsageError("give a RUN_ID or --all")
    if all_runs and fmt != "json":
        raise UsageError("--all exports json only (the format `respond timeline import` reads)")
    with open_project_store(ctx) as store:
        if all_runs:
            from respond.timeline.lock import utc_now

            doc = {
                "format": "respond-timeline-all",
                "version": 1,
                "exported": utc_now(),
                "source": store.location.rsplit("/", 1)[-1]
                if store.dialect == "sqlite"
                else store.location,
                "runs": [store.export_run(rid) for rid in store.run_ids()],
            }
            text = json.dumps(doc, ensure_ascii=False, indent=1)
        else:
            assert run_id is not None
            text = render(store, store.resolve_run_id(run_id), fmt)
    from respond.cli.output import write_document

    write_document(text, output, csv=fmt == "csv")


@timeline_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_cmd(ctx: click.Context, file: Path) -> None:
    """Import runs from `timeline export --all --format json` (or one run's json export),
    keeping their hashes, then verify them here."""
    from respond.errors import InvalidInput, TimelineError

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{file}: not a respond timeline export: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
        records = doc["runs"]
    elif isinstance(doc, dict) and isinstance(doc.get("record"), dict):
        records = [doc["record"]]
    else:
        raise InvalidInput(f"{file}: not a respond timeline export (no 'runs')")
    bad = 0
    with open_project_store(ctx) as store:
        existing = set(store.run_ids())
        for rec in records:
            rid = str(rec.get("run_id"))
            if rid in existing:
                click.echo(f"{rid}: already in this store, skipped", err=True)
                continue
            try:
                result = store.import_run(rec)
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidInput(f"{file}: run {rid}: malformed record ({exc})") from None
            except TimelineError as exc:
                click.echo(f"{rid}: {exc}", err=True)
                bad += 1
                continue
            click.echo(f"imported {result}")
            bad += 0 if result.ok else 1  # an unfinished or unsealed run imports fine
    if bad:
        ctx.exit(1)


# ------------------------------------------------------------------------------ verify


_VERIFY_EPILOG = """\b
Verdicts (exit code):
  intact        finished, and its seal checked with the key (0)
  in progress   no end yet, a live process holds the run; chain intact so far (0)
  not sealed    finished, but no seal, or no key given to check it (0; 1 with a key)
  not finished  no end and no live holder: crashed, killed or cut short (1)
  TAMPERED      changed, deleted, inserted, reordered, truncated, re-chained,
                meta changed, seal mismatch, run deleted, run inserted,
                artifact changed, artifact missing (1)
\b
The ledger line (`ledger: intact (N entries; signed; head HASH)`) covers the
store as a whole; keep its head somewhere the store's writers cannot change.
--json gives one object per record with `verdict`. See docs/trust.md.
\b
Examples:
  respond timeline verify --all
  respond timeline verify 20261123T051200Z-3fa2 --public-key seal.pub
"""


@timeline_group.command("verify", epilog=_VERIFY_EPILOG)
@click.argument("run_id", required=False)
@click.option(
    "--all", "all_runs", is_flag=True, help="Verify every run (the default without RUN_ID)."
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Check Ed25519 seals with this public key (PEM or OpenSSH) instead of signing_key.",
)
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output.")
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    run_id: str | None,
    all_runs: bool,
    public_key: Path | None,
    json_flag: bool,
) -> None:
    """Check the record: each run's chain, its run record, its end and its seal, against
    the store's ledger; without RUN_ID also the ledger itself and the runs it lists."""
    from respond.errors import UsageError

    if run_id and all_runs:
        raise UsageError("give a RUN_ID or --all, not both")
    key = None
    if public_key is not None:
        from respond.timeline.chain import load_public_key

        key = load_public_key(public_key)
    with open_project_store(ctx) as store:
        if run_id:
            results = [store.verify(store.resolve_run_id(run_id), key=key)]
        else:
            results = store.verify_all(key=key)
    if _want_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json([r.to_dict() for r in results])
    else:
        from respond.cli.screen import printable

        for r in results:
            click.echo(printable(str(r)))  # a tampered record can hold anything
        if not any(r.scope == "run" for r in results):
            click.echo("no runs recorded", err=True)
    runs = [r for r in results if r.scope == "run"]
    failed = [r for r in runs if r.failed]
    if failed:
        click.echo(f"{len(failed)} of {len(runs)} run(s) failed verification", err=True)
    if any(r.failed for r in results if r.scope == "ledger"):
        click.echo("the store's ledger failed verification", err=True)
    if any(r.failed for r in results):
        ctx.exit(1)


@timeline_group.command("public-key")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pem", "openssh"]),
    default="pem",
    show_default=True,
    help="PEM (SubjectPublicKeyInfo) or one OpenSSH ssh-ed25519 line.",
)
@click.pass_context
def public_key_cmd(ctx: click.Context, fmt: str) -> None:
    """Print the public key of the Ed25519 signing key, for auditors who verify seals with
    `timeline verify --public-key FILE` (they need no secret)."""
    from respond.errors import ConfigError
    from respond.timeline.chain import load_signer

    config = app_of(ctx).config
    signer = load_signer(config.raw.get("signing_key"), config.root)
    if signer is None:
        raise ConfigError(
            "no signing_key in respond.yaml: there is no key to print",
            hint="generate one and set 'signing_key: ed25519:PATH' (see docs/trust.md)",
        )
    click.echo(signer.public_key_text(fmt), nl=False)


# ------------------------------------------------------------------------------ note


@click.command("note")
@click.argument("run_id")
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--operator",
    "given",
    metavar="NAME",
    help="Who writes it (default: RESPOND_OPERATOR, respond.yaml `operator`, user@host).",
)
@click.option(
    "--action",
    is_flag=True,
    help="A corrective action (a drill report lists it with status open).",
)
@click.option("--owner", metavar="NAME", help="Who owns the action (with --action).")
@click.option("--due", metavar="DATE", help="When the action is due, YYYY-MM-DD (with --action).")
@click.pass_context
def note_cmd(
    ctx: click.Context,
    run_id: str,
    text: tuple[str, ...],
    given: str | None,
    action: bool,
    owner: str | None,
    due: str | None,
) -> None:
    """Add an operator note to a run, during it or after it; with --action, a corrective
    action with its owner and due date."""
    from respond.config import operator_name
    from respond.errors import UsageError
    from respond.events import EventDraft, EventKind

    body = " ".join(text).strip()
    if not body:
        raise UsageError("the note is empty")
    data: dict[str, Any] = {"text": body}
    if action:
        data["action"] = {"owner": owner, "due": _due_date(due)}
    elif owner is not None or due is not None:
        raise UsageError("--owner and --due go with --action")
    operator = operator_name(ctx.obj.config, given)
    data["by"] = operator
    with open_project_store(ctx) as store:
        rid = store.resolve_run_id(run_id)
        (ev, *_) = store.append(rid, [EventDraft(kind=EventKind.NOTE, actor=operator, data=data)])
    what = "corrective action" if action else "note"
    click.echo(f"{rid}: {what} recorded as event {ev.seq}", err=True)


def _due_date(due: str | None) -> str | None:
    """``--due`` as an ISO date; exit 2 for anything else."""
    if due is None:
        return None
    from datetime import date

    from respond.errors import UsageError

    try:
        return date.fromisoformat(due.strip()).isoformat()
    except ValueError:
        raise UsageError(f"--due: not a date (YYYY-MM-DD): {due}") from None
