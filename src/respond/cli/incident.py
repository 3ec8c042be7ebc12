"""Incident commands: ``respond ack``, ``severity``, ``resolve`` and the ``incident`` group
(``list``, ``show``, ``vendor``, ``note``, ``export``).

Wherever an incident is named, its id, an unambiguous prefix of it, or the id (or prefix) of
any run attached to it works (``Store.resolve_incident``). What changes an incident goes
through the book (``respond.incidents``), which records it on the incident's own chain with
the operator as the event's actor; the terminal gets one line saying what was recorded and
what it did to the clocks. Times are read by ``respond.clock.parse_time``: local time unless
they carry an offset, never more than five minutes ahead of now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from respond.cli import app_of, open_project_store

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.incidents import IncidentBook
    from respond.timeline import RunInfo, Store

F = TypeVar("F", bound=Callable[..., Any])

# A time given on the command line may run this far ahead of this machine's clock (another
# machine's clock, a watch); further ahead is a typo, and a deadline met "in the future" would
# make the record say something that did not happen.
FUTURE_SLACK = timedelta(minutes=5)
LEVELS = (1, 2, 3, 4)


# ------------------------------------------------------------------------------ plumbing


def book_of(store: Store, config: ProjectConfig, now: datetime | None = None) -> IncidentBook:
    """The book over ``store`` with the project's policy; with ``now`` it acts as if it were
    that time (``schedule run --now``)."""
    from respond.cli.output import incident_logs_on_one_line
    from respond.incidents import book_for

    incident_logs_on_one_line()
    if now is None:
        return book_for(store, config)
    from respond.clock import ManualClock

    return book_for(store, config, clock=ManualClock(now))


def operator_of(config: ProjectConfig, given: str | None) -> str:
    """Who acts: ``--operator``, else RESPOND_OPERATOR, else respond.yaml ``operator``, else
    user@host (one rule for every command: ``respond.config.operator_name``)."""
    from respond.config import operator_name

    return operator_name(config, given)


def wants_json(ctx: click.Context, flag: bool = False) -> bool:
    return flag or bool(app_of(ctx).json)


def json_option(func: F) -> F:
    return click.option(
        "--json", "json_flag", is_flag=True, help="Machine-readable output on stdout."
    )(func)


def operator_option(func: F) -> F:
    return click.option(
        "--operator",
        metavar="NAME",
        help="Who does this (default: RESPOND_OPERATOR, respond.yaml operator:, user@host).",
    )(func)


def now_utc() -> datetime:
    from respond.clock import SYSTEM_CLOCK

    return SYSTEM_CLOCK.now()


def time_option(option: str, text: str | None, now: datetime) -> datetime | None:
    """A time given as ``option``: parsed (exit 2 with the accepted forms if it is not one)
    and refused when it lies more than five minutes ahead of ``now``."""
    if text is None:
        return None
    from respond.clock import parse_time
    from respond.errors import UsageError

    try:
        when = parse_time(text, now)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if when > now + FUTURE_SLACK:
        raise UsageError(
            f"{option} {text!r} is in the future ({local(when)}); give a time that has passed"
        )
    return when


def local(when: datetime | str | None) -> str:
    """A time as the operator's watch shows it (``2026-12-02 09:41:00 CST``)."""
    if when is None:
        return "-"
    from respond.clock import iso
    from respond.timeline.export import local_time

    return local_time(when if isinstance(when, str) else iso(when))


def span(seconds: float | None) -> str:
    """A duration for people: ``45s``, ``12m``, ``7h 12m``, ``2d 3h``."""
    if seconds is None:
        return "-"
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def emit(
    ctx: click.Context, flag: bool, data: Any, lines: Sequence[str], *, said: bool = False
) -> None:
    """JSON on stdout when asked, else the lines (shown, never obeyed by the terminal): on
    stdout when they are data (a listing, a record), on stderr when ``said`` (what a command
    did, a message for people)."""
    if wants_json(ctx, flag):
        from respond.cli.output import print_json

        print_json(data)
        return
    from respond.cli.screen import printable

    for line in lines:
        click.echo(printable(line), err=said)


def event_dict(event: Any) -> dict[str, Any] | None:
    if event is None:
        return None
    return {
        "incident_id": event.run_id,
        "seq": event.seq,
        "ts": event.ts,
        "kind": str(event.kind),
        "actor": event.actor,
        "data": event.data,
        "hash": event.hash,
    }


def _text(option: str, value: str | None) -> str | None:
    """A free-text option, stripped; given but empty is a mistake (exit 2)."""
    if value is None:
        return None
    from respond.errors import UsageError

    stripped = value.strip()
    if not stripped:
        raise UsageError(f"{option} is empty")
    return stripped


# ------------------------------------------------------------------------------ ack


@click.command("ack")
@click.argument("incident")
@click.option("--at", "at_text", metavar="TIME", help="When it was acknowledged (default: now).")
@click.option("--note", metavar="TEXT", help="A word on who took it and how.")
@operator_option
@json_option
@click.pass_context
def ack_cmd(
    ctx: click.Context,
    incident: str,
    at_text: str | None,
    note: str | None,
    operator: str | None,
    json_flag: bool,
) -> None:
    """Acknowledge an incident: someone has it. The first acknowledgement (or the first run
    attached) meets the respond clock; a later one records nothing.

    TIME: now, -20m, 09:41 (today, local), 2026-12-02 09:41, or ISO-8601 with an offset."""
    config = app_of(ctx).config
    at = time_option("--at", at_text, now_utc())
    by = operator_of(config, operator)
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        book = book_of(store, config)
        not_before_detection(book.state(incident_id).summary(), at)
        event = book.ack(incident_id, by=by, at=at, note=_text("--note", note))
        summary = book.state(incident_id).summary()
    if event is None:
        lines = [
            f"{incident_id}: already acknowledged at {local(summary.get('acked_at'))} by "
            f"{summary.get('acked_by') or '-'}; nothing recorded"
        ]
    else:
        lines = [f"{incident_id}: acknowledged at {local(summary.get('acked_at'))} by {by}"]
        lines.append(f"respond clock: {_met_words(summary, 'respond')}")
    emit(ctx, json_flag, {"event": event_dict(event), "incident": summary}, lines, said=True)


def _met_words(summary: Mapping[str, Any], clock: str) -> str:
    """``met (12m of 1h)`` / ``missed by 3m (took 1h 3m of 1h)`` / ``pending``."""
    took = summary.get(f"{clock}_s")
    met = summary.get(f"{clock}_met")
    limit = (summary.get("limits") or {}).get(clock)
    if took is None or met is None:
        return "pending"
    of = f" of {span(limit)}" if limit is not None else ""
    if met:
        return f"met ({span(took)}{of})"
    over = float(took) - float(limit) if limit is not None else None
    return f"missed by {span(over)} (took {span(took)}{of})"


# ------------------------------------------------------------------------------ severity


def parse_level(text: str) -> int:
    """A fault level 1-4 as typed; anything else (0, 5, ``high``) is exit 2."""
    from respond.errors import UsageError

    try:
        level = int(text.strip())
    except ValueError:
        level = 0
    if level not in LEVELS or not text.strip().isdigit():
        raise UsageError(f"severity must be 1-4 (1 is the worst), got {text}")
    return level


@click.command("severity")
@click.argument("incident")
@click.argument("level", metavar="N")
@click.option("--reason", required=True, metavar="TEXT", help="Why the level changes (recorded).")
@operator_option
@json_option
@click.pass_context
def severity_cmd(
    ctx: click.Context,
    incident: str,
    level: str,
    reason: str,
    operator: str | None,
    json_flag: bool,
) -> None:
    """Re-classify an incident's fault level N (1 is the worst, 4 the least): it was that
    level all along, so its SLA deadlines are counted from detection at the new level's
    limits. Recorded and notified."""
    new_level = parse_level(level)
    why = _text("--reason", reason)
    assert why is not None
    config = app_of(ctx).config
    by = operator_of(config, operator)
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        book = book_of(store, config)
        event = book.set_severity(incident_id, new_level, reason=why, by=by)
        summary = book.state(incident_id).summary()
    lines = [
        # what was recorded (masked), not what was typed
        f"{incident_id}: level {event.data.get('from')} → {new_level} by {by} "
        f"({event.data.get('reason')})",
        f"respond due {local(summary.get('respond_due'))} · restore due "
        f"{local(summary.get('restore_due'))}",
    ]
    emit(ctx, json_flag, {"event": event_dict(event), "incident": summary}, lines, said=True)


# ------------------------------------------------------------------------------ resolve


@click.command("resolve")
@click.argument("incident")
@click.option("--at", "at_text", metavar="TIME", help="When service came back (default: now).")
@click.option("--cause", metavar="TEXT", help="What caused it (with --prevention: closes it).")
@click.option("--prevention", metavar="TEXT", help="What keeps it from happening again.")
@operator_option
@json_option
@click.pass_context
def resolve_cmd(
    ctx: click.Context,
    incident: str,
    at_text: str | None,
    cause: str | None,
    prevention: str | None,
    operator: str | None,
    json_flag: bool,
) -> None:
    """Record an incident restored (service back: the restore clock stops) and, with
    --cause and --prevention, close its record. Without them it is restored but stays
    open on paper until they are given."""
    from respond.errors import UsageError

    cause, prevention = _text("--cause", cause), _text("--prevention", prevention)
    if (cause is None) != (prevention is None):
        raise UsageError(
            "give --cause and --prevention together: the incident record needs both to close"
        )
    config = app_of(ctx).config
    at = time_option("--at", at_text, now_utc())
    by = operator_of(config, operator)
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        book = book_of(store, config)
        _check_resolvable(incident_id, book.state(incident_id).summary(), at, cause)
        events = book.resolve(incident_id, by=by, at=at, cause=cause, prevention=prevention)
        summary = book.state(incident_id).summary()
    emit(
        ctx,
        json_flag,
        {"events": [event_dict(e) for e in events], "incident": summary},
        _resolve_lines(incident_id, summary),
        said=True,
    )


def _check_resolvable(
    incident_id: str, summary: Mapping[str, Any], at: datetime | None, cause: str | None
) -> None:
    from respond.errors import UsageError

    if summary.get("status") == "resolved":
        raise UsageError(
            f"incident {incident_id} is already resolved (at {local(summary.get('resolved_at'))})"
        )
    if summary.get("restored_at") and cause is None:
        raise UsageError(
            f"incident {incident_id} is already restored (at {local(summary.get('restored_at'))})",
            hint=f"close it with: respond resolve {incident_id} --cause TEXT --prevention TEXT",
        )
    not_before_detection(summary, at)


def not_before_detection(summary: Mapping[str, Any], at: datetime | None) -> None:
    """Nothing is acknowledged or restored before the incident was detected."""
    from respond.clock import parse_iso
    from respond.errors import UsageError

    detected = summary.get("detected_at")
    if at is not None and detected and at < parse_iso(str(detected)):
        raise UsageError(
            f"--at {local(at)} is before the incident was detected ({local(str(detected))})"
        )


def _resolve_lines(incident_id: str, summary: Mapping[str, Any]) -> list[str]:
    lines = [
        f"{incident_id}: restored at {local(summary.get('restored_at'))} by "
        f"{summary.get('restored_by') or '-'} · restore clock: {_met_words(summary, 'restore')}"
    ]
    if summary.get("status") == "resolved":
        lines.append(f"{incident_id}: resolved (record closed) by {summary.get('resolved_by')}")
    else:
        lines.append(
            f"still needed to close the record: respond resolve {incident_id} "
            "--cause TEXT --prevention TEXT"
        )
    return lines


# ------------------------------------------------------------------------------ incident group


@click.group("incident")
def incident_group() -> None:
    """Incidents: list, show, export; the vendor case and notes.

    INCIDENT is an incident id, an unambiguous prefix of it, or the id of any run of it."""


@incident_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only incidents still open.")
@click.option("--from", "from_text", metavar="DATE", help="Detected on or after (local date/time).")
@click.option("--to", "to_text", metavar="DATE", help="Detected on or before (a date: that day).")
@json_option
@click.pass_context
def list_cmd(
    ctx: click.Context,
    open_only: bool,
    from_text: str | None,
    to_text: str | None,
    json_flag: bool,
) -> None:
    """Incidents by detection time: id, level, status, detected (local time), site, title,
    runs, whether the respond and restore deadlines were met."""
    since, until = date_bound("--from", from_text), date_bound("--to", to_text, end=True)
    with open_project_store(ctx) as store:
        summaries = store.incident_summaries(
            since=since, until=until, status="open" if open_only else None
        )
    if wants_json(ctx, json_flag):
        from respond.cli.output import print_json

        print_json(summaries)
        return
    if not summaries:
        click.echo("no incidents recorded" + (" that are open" if open_only else ""), err=True)
        return
    _print_incidents(summaries)


def date_bound(option: str, text: str | None, *, end: bool = False) -> datetime | None:
    """A ``--from``/``--to`` bound: a date means that whole local day; a time as
    ``parse_time`` reads it."""
    if text is None:
        return None
    from datetime import date

    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is not None:
        from datetime import UTC

        start = datetime(day.year, day.month, day.day).astimezone()
        bound = start + timedelta(days=1) - timedelta(microseconds=1) if end else start
        return bound.astimezone(UTC)
    from respond.clock import parse_time
    from respond.errors import UsageError

    try:
        return parse_time(text, now_utc())
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def met_mark(value: bool | None) -> str:
    """A deadline's verdict in the list: met, missed, or pending (not decided yet)."""
    if value is None:
        return "pending"
    return "met" if value else "missed"


def _print_incidents(summaries: Sequence[Mapping[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from respond.cli.output import out
    from respond.cli.screen import printable

    console = out()
    if not console.is_terminal:  # piped: never truncate ids
        console = Console(width=200, highlight=False, emoji=False)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("incident", "level", "status", "detected", "site", "title", "runs"):
        table.add_column(column, no_wrap=column not in ("title", "site"))
    table.add_column("respond/restore", no_wrap=True)
    for s in summaries:
        cells = (
            s.get("incident_id"),
            s.get("level"),
            s.get("status"),
            local(s.get("detected_at")),
            s.get("site") or "-",
            s.get("title") or "-",
            len(s.get("runs") or []),
            f"{met_mark(s.get('respond_met'))}/{met_mark(s.get('restore_met'))}",
        )
        # values are Text, never markup: a title like "[bold]x" is shown as typed
        table.add_row(*(Text(printable(str(c))) for c in cells))
    console.print(table)


# ------------------------------------------------------------------------------ show


@incident_group.command("show")
@click.argument("incident")
@json_option
@click.pass_context
def show_cmd(ctx: click.Context, incident: str, json_flag: bool) -> None:
    """The incident record: time, place, reporter, description, cause, actions (its runs
    and their steps), result, prevention; the clocks with their deadlines, met or missed by
    how much; escalations, the vendor case, notifications and notes."""
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        record = incident_record(store, incident_id)
    emit(ctx, json_flag, record, render_record(record, now_utc()))


def incident_record(store: Store, incident_id: str) -> dict[str, Any]:
    """Everything ``incident show`` shows, as data: the summary (folded from the incident's
    events), the runbook it opened with, its runs with their steps, and the notes, vendor
    case entries and notifications in full."""
    from respond.incident_state import fold

    events = store.events(incident_id)
    meta = store.meta(incident_id)
    runbook = {key: meta.get(key) for key in ("runbook", "version", "scenario")}
    runs = [_run_record(store, info) for info in store.incident_runs(incident_id)]
    pick = {"note", "notification-sent", "notification-failed", "vendor-case"}
    told = [event_dict(e) for e in events if str(e.kind) in pick]
    return {"incident": fold(events).summary(), "runbook": runbook, "runs": runs, "log": told}


def _run_record(store: Store, info: RunInfo) -> dict[str, Any]:
    """One action of the incident: a run, its end and its steps."""
    from respond.timeline.export import step_spans

    steps = [
        {"step_id": s.step_id, "name": s.name, "status": s.status, "start": s.start,
         "end": s.end, "ok": s.hosts_ok, "failed": s.hosts_failed}
        for s in step_spans(store.events(info.run_id))
    ]  # fmt: skip
    keys = ("run_id", "runbook", "version", "operator", "started", "ended", "status", "outcome")
    return {**{key: getattr(info, key) for key in keys}, "reason": info.reason, "steps": steps}


def render_record(record: Mapping[str, Any], now: datetime) -> list[str]:
    s = record["incident"]
    return [
        *_head_lines(s, record.get("runbook") or {}),
        "",
        *_clock_lines(s, now),
        "",
        *_action_lines(record["runs"]),
        "",
        *_result_lines(s),
        *_history_lines(s),
        *_vendor_lines(s),
        *_log_lines(s, record["log"]),
    ]


def _head_lines(s: Mapping[str, Any], runbook: Mapping[str, Any]) -> list[str]:
    level = f"level {s.get('level')}"
    if s.get("sla_level") != s.get("level"):
        level += f" (classified {s.get('sla_level')})"
    return [
        f"incident {s.get('incident_id')} · {level} · {s.get('status')}",
        f"title        {s.get('title') or '-'}",
        f"detected     {local(s.get('detected_at'))} · opened {local(s.get('opened_at'))}",
        f"place        {s.get('site') or '-'}",
        f"reported by  {s.get('reported_by') or '-'} · operator {s.get('operator') or '-'}",
        f"description  {s.get('description') or '-'}",
        f"runbook      {_runbook_words(runbook)}",
    ]


def _runbook_words(runbook: Mapping[str, Any]) -> str:
    """``power-outage@1.2.0 (power)``: the runbook the incident was opened with."""
    if not runbook.get("runbook"):
        return "-"
    version = f"@{runbook['version']}" if runbook.get("version") else ""
    scenario = f" ({runbook['scenario']})" if runbook.get("scenario") else ""
    return f"{runbook['runbook']}{version}{scenario}"


def _clock_lines(s: Mapping[str, Any], now: datetime) -> list[str]:
    limits = s.get("limits") or {}
    lines = [
        f"clocks (level {s.get('sla_level')}: respond within {span(limits.get('respond'))}, "
        f"restore within {span(limits.get('restore'))})",
        f"  respond    {_deadline(s.get('respond_due'), s.get('acked_at'), now)}",
        f"  restore    {_deadline(s.get('restore_due'), s.get('restored_at'), now)}",
    ]
    if s.get("status") == "open" and s.get("clock_due"):
        lines.append(
            f"  now        level {s.get('level')} restore deadline "
            f"{_deadline(s.get('clock_due'), None, now)}"
        )
    return lines


def _deadline(due: str | None, done: str | None, now: datetime) -> str:
    """``due 09:41 · met at 09:12 (29m to spare)`` / ``missed by 12m`` / ``7h 12m left``."""
    if not due:
        return "-"
    from respond.clock import parse_iso

    deadline = parse_iso(due)
    head = f"due {local(due)}"
    if done:
        late = (parse_iso(done) - deadline).total_seconds()
        if late <= 0:
            return f"{head} · met at {local(done)} ({span(-late)} to spare)"
        return f"{head} · missed by {span(late)} (at {local(done)})"
    left = (deadline - now).total_seconds()
    if left >= 0:
        return f"{head} · {span(left)} left"
    return f"{head} · missed by {span(-left)} (still pending)"


def _action_lines(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    if not runs:
        return ["actions      no run attached"]
    lines = ["actions"]
    for run in runs:
        outcome = run.get("outcome") or run.get("status")
        why = f" — {run['reason']}" if run.get("reason") else ""
        lines.append(
            f"  run {run['run_id']} · {run.get('runbook')}@{run.get('version')} · {outcome}{why}"
            f" · {local(run.get('started'))} → {local(run.get('ended'))}"
            f" · by {run.get('operator') or '-'}"
        )
        for step in run.get("steps") or []:
            hosts = f" ({step['ok']} ok, {step['failed']} failed)" if step.get("failed") else ""
            lines.append(f"      {step['step_id']:<20} {step['status']}{hosts}  {step['name']}")
    return lines


def _result_lines(s: Mapping[str, Any]) -> list[str]:
    via = f" via {s['restored_via']}" if s.get("restored_via") else ""
    restored = (
        f"restored {local(s.get('restored_at'))} by {s.get('restored_by') or '-'}{via}"
        if s.get("restored_at")
        else "not restored"
    )
    closed = (
        f" · resolved {local(s.get('resolved_at'))} by {s.get('resolved_by') or '-'}"
        if s.get("resolved_at")
        else ""
    )
    return [
        f"result       {restored}{closed}",
        f"cause        {s.get('cause') or '- (not recorded yet)'}",
        f"prevention   {s.get('prevention') or '- (not recorded yet)'}",
    ]


def _history_lines(s: Mapping[str, Any]) -> list[str]:
    lines = []
    for c in s.get("severity_changes") or []:
        lines.append(
            f"  {local(c.get('at'))}  re-classified level {c.get('from')} → {c.get('to')} by "
            f"{c.get('by') or '-'}: {c.get('reason')}"
        )
    for e in s.get("escalations") or []:
        how = "automatic" if e.get("automatic") else "by hand"
        lines.append(
            f"  {local(e.get('at'))}  escalated level {e.get('from')} → {e.get('to')} ({how}): "
            f"{e.get('reason')}"
        )
    for m in s.get("missed") or []:
        lines.append(
            f"  {local(m.get('due'))}  {m.get('clock')} deadline missed at level {m.get('level')}"
        )
    return ["levels", *sorted(lines)] if lines else []


def _vendor_lines(s: Mapping[str, Any]) -> list[str]:
    """The vendor case measured against its promises; the restore time is the vendor's own
    if recorded, else the incident's."""
    vendor = s.get("vendor")
    if not vendor:
        return []
    limits = vendor.get("limits") or {}
    lines = [f"vendor case  {vendor.get('case') or '-'} · {vendor.get('name') or '-'}"]
    lines.append(f"  reported   {local(vendor.get('reported_at'))}")
    measures = (
        ("accept", vendor.get("accepted_at")),
        ("on site", vendor.get("on_site_at")),
        ("restore", vendor.get("restored_at") or s.get("restored_at")),
    )
    for words, at in measures:
        limit = limits.get(words.replace(" ", "_"))
        lines.append(f"  {words:<10} {_vendor_measure(vendor.get('reported_at'), at, limit)}")
    return lines


def _vendor_measure(reported: str | None, at: str | None, limit: float | None) -> str:
    from respond.clock import parse_iso

    promised = f"promised {span(limit)}" if limit is not None else "no promise"
    if not at:
        return f"- ({promised})"
    if not reported:
        return f"{local(at)} ({promised})"
    took = (parse_iso(str(at)) - parse_iso(str(reported))).total_seconds()
    verdict = "" if limit is None else (": met" if took <= float(limit) else ": missed")
    return f"{local(at)} (took {span(took)}; {promised}{verdict})"


def _log_lines(s: Mapping[str, Any], log: Sequence[Mapping[str, Any]]) -> list[str]:
    counts = s.get("notifications") or {}
    lines = [f"notifications {counts.get('sent', 0)} sent, {counts.get('failed', 0)} failed"]
    for e in log:
        d = e.get("data") or {}
        when = local(e.get("ts"))
        if e["kind"] == "note":
            lines.append(f"  {when}  note by {e.get('actor')}: {d.get('text')}")
        elif e["kind"].startswith("notification-"):
            failed = f" FAILED: {d.get('error')}" if e["kind"] == "notification-failed" else ""
            lines.append(
                f"  {when}  {d.get('event')} → {d.get('recipient')} via {d.get('channel')}"
                f"{failed}: {d.get('message') or d.get('subject') or ''}"
            )
    return lines


# ------------------------------------------------------------------------------ vendor, note


@incident_group.command("vendor")
@click.argument("incident")
@click.option("--case", metavar="REF", help="The vendor's case reference.")
@click.option("--name", metavar="NAME", help="The vendor (default: respond.yaml vendor.name).")
@click.option("--reported-at", "reported", metavar="TIME", help="When the case was reported.")
@click.option("--accepted-at", "accepted", metavar="TIME", help="When the vendor accepted it.")
@click.option("--on-site-at", "on_site", metavar="TIME", help="When their engineer arrived.")
@click.option("--restored-at", "restored", metavar="TIME", help="When they restored service.")
@click.option("--note", metavar="TEXT", help="A word on the case.")
@operator_option
@json_option
@click.pass_context
def vendor_cmd(
    ctx: click.Context,
    incident: str,
    case: str | None,
    name: str | None,
    reported: str | None,
    accepted: str | None,
    on_site: str | None,
    restored: str | None,
    note: str | None,
    operator: str | None,
    json_flag: bool,
) -> None:
    """Record the vendor case of an incident; each call adds to what was recorded before,
    so times are entered as they happen. Measured against the vendor's promised limits."""
    from respond.clock import iso
    from respond.errors import UsageError

    now = now_utc()
    times = {
        "reported_at": time_option("--reported-at", reported, now),
        "accepted_at": time_option("--accepted-at", accepted, now),
        "on_site_at": time_option("--on-site-at", on_site, now),
        "restored_at": time_option("--restored-at", restored, now),
    }
    fields: dict[str, Any] = {k: iso(v) for k, v in times.items() if v is not None}
    texts = {"case": ("--case", case), "name": ("--name", name), "note": ("--note", note)}
    fields.update({k: _text(o, v) for k, (o, v) in texts.items() if v is not None})
    if not fields:
        raise UsageError("nothing to record: give --case REF and/or the times of the case")
    config = app_of(ctx).config
    by = operator_of(config, operator)
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        book = book_of(store, config)
        if not book.state(incident_id).summary().get("vendor") and "case" not in fields:
            raise UsageError("the first vendor record of an incident needs --case REF")
        event = book.vendor_case(incident_id, by=by, **fields)
        summary = book.state(incident_id).summary()
    said = ", ".join(f"{k}={v}" for k, v in event.data.items())  # as recorded (masked)
    lines = [f"{incident_id}: vendor case recorded by {by} ({said})"]
    lines += _vendor_lines(summary)
    emit(ctx, json_flag, {"event": event_dict(event), "incident": summary}, lines, said=True)


@incident_group.command("note")
@click.argument("incident")
@click.argument("text", nargs=-1, required=True)
@operator_option
@json_option
@click.pass_context
def note_cmd(
    ctx: click.Context,
    incident: str,
    text: tuple[str, ...],
    operator: str | None,
    json_flag: bool,
) -> None:
    """Add a note to an incident's record."""
    from respond.errors import UsageError

    body = " ".join(text).strip()
    if not body:
        raise UsageError("the note is empty")
    config = app_of(ctx).config
    by = operator_of(config, operator)
    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        event = book_of(store, config).note(incident_id, body, by=by)
    emit(
        ctx,
        json_flag,
        {"event": event_dict(event)},
        [f"{incident_id}: note recorded as event {event.seq} by {by}"],
        said=True,
    )


# ------------------------------------------------------------------------------ export


@incident_group.command("export")
@click.argument("incident")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.pass_context
def export_cmd(ctx: click.Context, incident: str, fmt: str, output: Path | None) -> None:
    """The incident document an auditor receives: who, what, when, where, runbook@version,
    outcome and SLA first; then the runs, vendor case, notifications and integrity."""
    from respond.reports.incident import export_incident

    with open_project_store(ctx) as store:
        incident_id = store.resolve_incident(incident)
        text = export_incident(store, incident_id, fmt)
    from respond.cli.output import write_document

    write_document(text, output)
