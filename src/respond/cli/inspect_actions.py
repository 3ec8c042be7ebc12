"""What a CRITICAL finding sets off: an inspection's ``on_critical`` rules.

After the checks, each rule with at least one CRITICAL result among its check ids (on the
hosts its ``hosts`` pattern names, when it has one) acts once per inspection run:

- ``incident``: an incident is opened through the incident book, as `respond run` opens one
  (the runbook's title and scenario, the rule's severity, reported by ``inspection NAME``,
  detected when the first finding was read, the findings as its description); the book tells
  the people respond.yaml's levels name, and a notice with the findings goes through the
  rule's ``notify`` channels (a fallback chain; default respond.yaml's ``notify.default``),
  each attempt recorded on the incident. While an incident opened by the same inspection for
  the same runbook is still open (not resolved), it gets a note with the new findings
  instead: one problem pages people once, not at every inspection.
- ``run``: the runbook runs as `respond run RUNBOOK -p ... --severity N` would (an incident
  run with the findings as its description), its gates asked at a terminal or, unattended
  (the schedule, a pipe), refused: the run then stops at its first gate after the diagnosis
  steps, recorded as aborted (exit 3), for a person to resume. While the incident such a
  run opened is still open, a later inspection's findings are noted on it and the runbook
  is not started again.

Each action is recorded as a ``note`` event on the inspection run (``on_critical: ...``) and
returned for the caller's output. An action that cannot be taken (an unknown runbook, the lab
not running, a store error) is an ``error`` action with its reason; the other rules still act.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.inspections.model import CriticalRule, Inspection
    from respond.inventory import Inventory
    from respond.secrets import Masker
    from respond.timeline import Store

CRITICAL = "CRITICAL"
NOTICE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionTaken:
    """One rule's action: what it did (``incident`` / ``run`` / ``note`` / ``error``), the
    incident and run it touched, and a line for people."""

    rule: int  # index in on_critical
    action: str
    text: str
    incident: str | None = None
    run_id: str | None = None
    exit_code: int | None = None
    failed: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "action": self.action,
            "text": self.text,
            "incident": self.incident,
            "run_id": self.run_id,
            "exit_code": self.exit_code,
            "failed": self.failed,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One CRITICAL result: on which host, which check, what it said, when it was read."""

    host: str
    check_id: str
    check: str
    summary: str
    at: str | None = None  # ISO UTC

    def line(self) -> str:
        return f"{self.check_id} on {self.host}: {self.summary}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "check_id": self.check_id,
            "check": self.check,
            "summary": self.summary,
            "at": self.at,
        }


@dataclass(slots=True, kw_only=True)
class _Inspection:
    """What the rules need of the inspection run: its name, record, operator, inventory,
    and how to tell the person running it."""

    app: AppContext
    store: Store
    name: str
    run_id: str
    operator: str
    inventory_path: Path | None
    unattended: bool
    say: Callable[[str], None]
    masker: Masker
    _inventory: Inventory | None = None

    @property
    def inventory(self) -> Inventory | None:
        if self._inventory is None and self.inventory_path is not None:
            from respond.inventory import load_inventory

            if self.inventory_path.is_file():
                self._inventory = load_inventory(self.inventory_path)
        return self._inventory

    @property
    def reporter(self) -> str:
        return f"inspection {self.name}"


def on_critical(
    app: AppContext,
    inspection: Inspection,
    run_id: str,
    results: Sequence[Any],
    *,
    unattended: bool,
    say: Callable[[str], None],
) -> list[ActionTaken]:
    """Take each ``on_critical`` rule's action for the CRITICAL ``results`` of the run
    (per-host check results: dicts with ``host``, ``check_id``, ``state``, ``summary``, or
    objects with those attributes); each action is noted on the run ``run_id``."""
    rules = list(inspection.on_critical)
    criticals = [f for f in map(_finding, results) if f is not None]
    if not rules or not criticals:
        return []
    from respond.timeline import open_store

    with open_store(app.config) as store:
        context = _context(app, store, inspection, run_id, unattended, say)
        taken: list[ActionTaken] = []
        for index, rule in enumerate(rules):
            found = matching(rule, criticals, context.inventory)
            if not found:
                continue
            action = _act(context, index, rule, found)
            _note_on_run(context, action)
            say(action.text)
            taken.append(action)
    return taken


def _context(
    app: AppContext,
    store: Store,
    inspection: Inspection,
    run_id: str,
    unattended: bool,
    say: Callable[[str], None],
) -> _Inspection:
    from respond.config import operator_name
    from respond.secrets import Masker

    meta = store.meta(run_id)
    inventory = meta.get("inventory")
    context = _Inspection(
        app=app,
        store=store,
        name=inspection.id,
        run_id=run_id,
        operator=str(meta.get("operator") or operator_name(app.config)),
        inventory_path=Path(str(inventory)) if inventory else None,
        unattended=unattended,
        say=say,
        masker=Masker(),
    )
    for secret in [*_inventory_secrets(context.inventory), *store.key_material()]:
        context.masker.add(secret)
    return context


def _inventory_secrets(inventory: Inventory | None) -> list[str]:
    from respond.cli.run import _secrets_of

    return _secrets_of(inventory)


def _finding(result: Any) -> Finding | None:
    """A per-host result as a finding when it is CRITICAL, else None."""

    def get(key: str) -> Any:
        if isinstance(result, Mapping):
            return result.get(key)
        return getattr(result, key, None)

    graded = get("result")  # a record (CheckRecord) keeps the grade in its result
    state = get("state") if graded is None else getattr(graded, "state", None)
    if str(getattr(state, "name", state)) != CRITICAL:
        return None
    summary = get("summary") if graded is None else getattr(graded, "summary", "")
    return Finding(
        host=str(get("host")),
        check_id=str(get("check_id") or get("check")),
        check=str(get("check") or get("check_id")),
        summary=" ".join(str(summary or "").split()),
        at=str(get("at") or get("ended") or "") or None,
    )


def matching(
    rule: CriticalRule, criticals: Iterable[Finding], inventory: Inventory | None
) -> list[Finding]:
    """The CRITICAL findings a rule counts: among its check ids, on its hosts."""
    ids = set(rule.checks)
    found = [f for f in criticals if f.check_id in ids]
    pattern = rule.hosts
    if not pattern or not found:
        return found
    hosts = _hosts_of(str(pattern), inventory, {f.host for f in found})
    return [f for f in found if f.host in hosts]


def _hosts_of(pattern: str, inventory: Inventory | None, candidates: set[str]) -> set[str]:
    """The hosts a pattern names: through the inventory (groups, ranges, exclusions), else
    among ``candidates`` by name (``ups1,ups2``, ``ups*``, ``all``)."""
    if inventory is not None:
        return {host.name for host in inventory.select(pattern)}
    import fnmatch

    words = [w.strip() for w in pattern.replace(":", ",").split(",") if w.strip()]
    if "all" in words:
        return set(candidates)
    return {h for h in candidates if any(fnmatch.fnmatchcase(h, w) for w in words)}


def _act(context: _Inspection, index: int, rule: CriticalRule, found: list[Finding]) -> ActionTaken:
    """The rule's action, or an ``error`` action saying why it could not be taken."""
    from respond.errors import RespondError, RunInterrupted

    try:
        if rule.action == "incident":
            return _incident_action(context, index, rule, found)
        return _run_action(context, index, rule, found)
    except RunInterrupted:
        raise
    except RespondError as exc:
        return _failed(index, rule, found, exc.message)
    except Exception as exc:  # one rule that cannot act does not keep the others from acting
        return _failed(index, rule, found, f"{type(exc).__name__}: {exc}")


def _failed(index: int, rule: CriticalRule, found: list[Finding], reason: str) -> ActionTaken:
    verb = "open an incident for" if rule.action == "incident" else "run"
    return ActionTaken(
        rule=index,
        action="error",
        text=f"on_critical: could not {verb} {rule.runbook}: {' '.join(reason.split())}",
        failed=True,
        data={"runbook": rule.runbook, "findings": [f.to_dict() for f in found]},
    )


def description(name: str, found: Sequence[Finding]) -> str:
    """The incident's description: the inspection and every finding (host, check, summary)."""
    return f"巡检 {name} found CRITICAL: " + "; ".join(f.line() for f in found)


def _detected_at(found: Sequence[Finding]) -> datetime | None:
    from respond.clock import parse_iso

    times = []
    for finding in found:
        if not finding.at:
            continue
        try:
            times.append(parse_iso(finding.at))
        except ValueError:  # a result without a readable time counts from now
            continue
    return min(times) if times else None


# ------------------------------------------------------------------------- incident


def _incident_action(
    context: _Inspection, index: int, rule: CriticalRule, found: list[Finding]
) -> ActionTaken:
    from respond.cli.output import incident_logs_on_one_line
    from respond.runbook import load_runbook

    incident_logs_on_one_line()  # a failed notice: one warning line, never a traceback
    book = _book(context)
    text = description(context.name, found)
    data = {"runbook": rule.runbook, "findings": [f.to_dict() for f in found]}
    already = open_incident(context.store, context.reporter, rule.runbook)
    if already is not None:
        return _noted(context, book, index, already, text, data)
    rb = load_runbook(rule.runbook, context.app.config)
    level = rule.severity or rb.severity
    incident_id = book.open(
        title=rb.title,
        runbook=rb.id,
        version=rb.version,
        scenario=rb.scenario,
        severity=level,
        detected_at=_detected_at(found) or book.clock.now(),
        reported_by=context.reporter,
        site=None,
        description=text,
        operator=context.operator,
    )
    sent = _notify(context, rule, incident_id, level, text, found)
    return ActionTaken(
        rule=index,
        action="incident",
        text=f"on_critical: opened {incident_id} ({rb.id}, level {level}); {sent}",
        incident=incident_id,
        data={**data, "level": level, "notice": sent},
    )


def _noted(
    context: _Inspection, book: Any, index: int, incident_id: str, text: str, data: dict[str, Any]
) -> ActionTaken:
    """The findings as a note on the incident this inspection opened and nobody resolved."""
    book.note(
        incident_id, f"{context.reporter} (run {context.run_id}): {text}", by=context.operator
    )
    return ActionTaken(
        rule=index,
        action="note",
        text=f"on_critical: {incident_id} is still open: noted the findings of {context.run_id}",
        incident=incident_id,
        data=data,
    )


def _book(context: _Inspection) -> Any:
    from respond.incidents import book_for

    return book_for(
        context.store,
        context.app.config,
        channel_vars=_channel_vars(context),
        masker=context.masker,
        progress=None,  # the terminal channel writes to stderr, also when the caller is quiet
    )


def _channel_vars(context: _Inspection) -> dict[str, Any] | None:
    """What channel URLs are rendered with: the inspection's inventory ``all`` vars (None:
    the default inventory's)."""
    if context.inventory is None:
        return None
    from respond.engine.variables import all_group_vars

    return dict(all_group_vars(context.inventory))


def open_incident(store: Store, reporter: str, runbook: str) -> str | None:
    """The latest incident not yet resolved that this inspection opened for ``runbook``."""
    from respond.incident_state import NO_FAULT, RESOLVED

    found = [
        s
        for s in store.incident_summaries()
        if s.get("reported_by") == reporter
        and s.get("runbook") == runbook
        and s.get("status") not in (RESOLVED, NO_FAULT)
    ]
    return str(found[-1]["incident_id"]) if found else None


def _notify(
    context: _Inspection,
    rule: CriticalRule,
    incident_id: str,
    level: int,
    text: str,
    found: list[Finding],
) -> str:
    """The findings through the rule's channels (a fallback chain), each attempt recorded
    on the incident; says how it went."""
    from respond.events import EventDraft, EventKind

    chain = _chain(context, rule)
    subject = f"[respond] {incident_id} level {level}: 巡检 {context.name} CRITICAL"
    message = context.masker.mask(
        f"{text}\n{incident_id} · respond incident show {incident_id} · "
        f"respond timeline show {context.run_id}"
    )
    attempts = _channels(context, incident_id).send_chain(
        chain, subject, message, _channel_vars(context) or {}, NOTICE_TIMEOUT_S
    )
    drafts = [
        EventDraft(
            kind=EventKind.NOTIFICATION_SENT if a.get("ok") else EventKind.NOTIFICATION_FAILED,
            data={
                "event": "inspection",
                "recipient": None,
                "channel": a.get("channel"),
                "subject": subject,
                "message": message,
                "level": level,
                **({} if a.get("ok") else {"error": a.get("error") or "failed"}),
            },
        )
        for a in attempts
    ]
    context.store.append(incident_id, drafts, context.masker)
    if attempts and attempts[-1].get("ok"):
        return f"findings sent via {attempts[-1]['channel']}"
    return "findings NOT sent: " + "; ".join(f"{a['channel']}: {a.get('error')}" for a in attempts)


def _chain(context: _Inspection, rule: CriticalRule) -> list[str]:
    given = rule.notify
    if given:
        return [str(c) for c in given]
    notify = context.app.config.raw.get("notify")
    default = notify.get("default") if isinstance(notify, Mapping) else None
    return [str(c) for c in default] if default else ["terminal", "file"]


def _channels(context: _Inspection, incident_id: str) -> Any:
    from respond.executors.notify import Channels
    from respond.runbook.templating import Templates

    config = context.app.config
    raw = config.raw.get("channels")
    return Channels(
        specs={str(k): dict(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {},
        home=config.home,
        project_root=config.root,
        templates=Templates(config.root),
        masker=context.masker,
        progress=None,  # stderr, as the book's own notices
        record_id=incident_id,
    )


# ------------------------------------------------------------------------------ run


def _run_action(
    context: _Inspection, index: int, rule: CriticalRule, found: list[Finding]
) -> ActionTaken:
    from respond.cli.run import Launch, run_for_incident
    from respond.cli.run_incident import Intake

    # The runbook already ran for an incident nobody has resolved: people are on it, and a
    # recovery runbook started again by every inspection would work against them.
    already = open_incident(context.store, context.reporter, rule.runbook)
    if already is not None:
        data = {"runbook": rule.runbook, "findings": [f.to_dict() for f in found]}
        return _noted(
            context, _book(context), index, already, description(context.name, found), data
        )
    launch = Launch(unattended=context.unattended, summary=False)
    code = run_for_incident(
        context.app,
        rule.runbook,
        params=given_params(rule.params),
        severity=rule.severity,
        given=Intake(
            detected_at=_detected_at(found),
            reported_by=context.reporter,
            description=description(context.name, found),
        ),
        inventory=context.inventory_path,
        operator=context.operator,
        launch=launch,
    )
    ended = launch.outcome or f"exit {code}"
    if launch.reason:
        ended += f": {' '.join(launch.reason.split())}"
    return ActionTaken(
        rule=index,
        action="run",
        text=f"on_critical: ran {launch.run_id} ({rule.runbook}) for {launch.incident_id}: "
        f"{ended} (exit {code})",
        incident=launch.incident_id,
        run_id=launch.run_id,
        exit_code=code,
        failed=launch.run_id is None,
        data={
            "runbook": rule.runbook,
            "outcome": launch.outcome,
            "reason": launch.reason,
            "findings": [f.to_dict() for f in found],
        },
    )


def given_params(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """A rule's params as a command line gives them (the runbook converts them)."""
    from respond.cli.drill_exec import _word

    out: dict[str, str | list[str]] = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            out[str(name)] = [_word(v) for v in value]
        elif value is not None:
            out[str(name)] = _word(value)
    return out


# ----------------------------------------------------------------------------- record


def _note_on_run(context: _Inspection, action: ActionTaken) -> None:
    """The action as a note on the inspection run (as `respond note` records one)."""
    from respond.errors import TimelineError
    from respond.events import EventDraft, EventKind

    data = {"text": action.text, "by": context.operator, "on_critical": action.to_dict()}
    draft = EventDraft(kind=EventKind.NOTE, actor=context.operator, data=data)
    try:
        context.store.append(context.run_id, [draft], context.masker)
    except TimelineError as exc:  # the action stands; the person is told it is not noted
        context.say(f"on_critical: not noted on {context.run_id}: {exc.message}")
