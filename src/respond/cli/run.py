"""`respond run` and `respond resume`: work an incident, recording every step."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from respond.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from respond.cli import AppContext
    from respond.cli.run_incident import IncidentRun, Intake
    from respond.config import ProjectConfig
    from respond.engine.deadlines import ClockView
    from respond.engine.params import ResolvedParams
    from respond.engine.resume import ResumeState
    from respond.errors import Issue
    from respond.inventory import Inventory
    from respond.runbook import Runbook

RUN_EPILOG = """\b
Examples:
  respond run power-outage -i inventory/lab.yaml
  respond run network-outage -p site=main --severity 2
  respond run power-outage --yes --answers answers.yaml     # unattended (cron, CI)
  respond run q4-check --drill                              # drill: gated steps simulated

\b
Unattended (no terminal): gates need --yes or an answer, prompts need --answers;
otherwise the run stops at once with exit 3 (a step with `on_refuse: skip` is
skipped instead). Secret params can come from the environment as
RESPOND_PARAM_<NAME>. The run ends with an outcome (resolved, no-fault, unresolved,
aborted, failed), said in the last lines. Exit codes: 0 resolved or no fault found,
1 failed or unresolved, 2 bad input, 3 aborted at a gate, 4 run held by another
process, 130 interrupted or the record could not be written (resumable).

\b
If the terminal goes away during a run (a closed pipe such as `| head`, a quit
pager, SIGHUP from a dropped SSH session or a closed window), respond stops
writing to it and the run goes on unattended: the next gate or prompt that
--yes/--answers does not decide is refused and recorded with the reason, the run
ends aborted (exit 3), and `respond resume RUN_ID` continues it.
"""


def _common_options(fn: Any) -> Any:
    fn = click.option(
        "--json", "json_output", is_flag=True, help="Print the result as JSON on stdout."
    )(fn)
    fn = click.option(
        "--answers",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="YAML file: step id → answer (prompts) or yes/no (gates).",
    )(fn)
    fn = click.option(
        "--yes", "-y", "assume_yes", is_flag=True, help="Confirm every gate (recorded as --yes)."
    )(fn)
    fn = click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="KEY=VALUE",
        help="A runbook parameter (repeatable).",
    )(fn)
    fn = click.option(
        "-i",
        "--inventory",
        type=click.Path(path_type=Path),
        help="Ansible-format inventory (default: default_inventory in respond.yaml).",
    )(fn)
    return fn


@click.command("run", epilog=RUN_EPILOG)
@click.argument("runbook")
@_common_options
@click.option(
    "--severity",
    type=click.IntRange(1, 4),
    help="Fault level 1 (highest) to 4; default: the runbook's.",
)
@click.option(
    "--drill",
    is_flag=True,
    help="A simulate drill: gated steps are simulated, the others follow their `drill:` "
    "(run/simulate/skip); no incident is opened.",
)
@click.option(
    "--detected-at",
    metavar="TIME",
    help="When the fault was detected (default: now): 'now', '-20m' (ago), 'HH:MM' or "
    "'YYYY-MM-DD HH:MM' (local time), or ISO-8601 with an offset. The clocks start here.",
)
@click.option(
    "--reported-by", metavar="NAME", help="Who reported the fault (default: the operator)."
)
@click.option("--site", metavar="PLACE", help="Where the fault is (machine room, site).")
@click.option("--description", metavar="TEXT", help="The fault as it was reported.")
@click.option(
    "--incident",
    metavar="ID",
    help="Attach this run to an open incident (its id, a prefix, or one of its runs) "
    "instead of opening a new one.",
)
@click.option(
    "--operator",
    metavar="NAME",
    help="Who runs it (default: RESPOND_OPERATOR, respond.yaml `operator`, user@host).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the summary.")
@click.pass_obj
def run_cmd(
    app: AppContext,
    runbook: str,
    inventory: Path | None,
    params: tuple[str, ...],
    assume_yes: bool,
    answers: Path | None,
    json_output: bool,
    severity: int | None,
    drill: bool,
    detected_at: str | None,
    reported_by: str | None,
    site: str | None,
    description: str | None,
    incident: str | None,
    operator: str | None,
    quiet: bool,
) -> None:
    """Run RUNBOOK (a name in runbooks/ or a path): diagnose, gate, recover, record.

    A run that is not a drill opens an incident (detected at --detected-at, default now)
    whose respond and restore clocks run until it is restored, or joins the open one that
    --incident names. A deadline that passes during the run escalates the incident then,
    even while a step or a prompt is waiting.
    """
    from respond.cli.run_incident import intake
    from respond.clock import SYSTEM_CLOCK
    from respond.config import operator_name
    from respond.engine.params import parse_assignments, resolve_params
    from respond.runbook import load_runbook

    given_incident = intake(
        detected_at=detected_at,
        reported_by=reported_by,
        site=site,
        description=description,
        incident=incident,
        severity=severity,
        drill=drill,
        clock=SYSTEM_CLOCK,
    )
    config = app.config
    who = operator_name(config, operator)
    rb = load_runbook(runbook, config)
    given = parse_assignments(params)
    resolved = resolve_params(rb, given)
    _warn_secrets_on_the_command_line(rb, given)
    inv, inv_path, loaded_answers = _prepare(config, rb, inventory, answers, resolved)
    level = severity or rb.severity
    sys.exit(
        _execute(
            app,
            config,
            rb,
            inv,
            inv_path,
            resolved,
            level=level,
            assume_yes=assume_yes,
            answers=loaded_answers,
            json_output=json_output or app.json,
            drill=drill,
            quiet=quiet,
            resume=None,
            run_id=None,
            operator=who,
            given=given_incident,
        )
    )


@click.command(
    "resume",
    epilog="\b\nExamples:\n  respond resume 20261123T051200Z-3fa2\n  respond resume 20261123T05 --yes --answers answers.yaml",
)
@click.argument("run_id")
@_common_options
@click.option(
    "--steal",
    is_flag=True,
    help="Take over the run even if another live process holds it (journaled).",
)
@click.option(
    "--operator",
    metavar="NAME",
    help="Who resumes it (default: RESPOND_OPERATOR, respond.yaml `operator`, user@host).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the summary.")
@click.pass_obj
def resume_cmd(
    app: AppContext,
    run_id: str,
    inventory: Path | None,
    params: tuple[str, ...],
    assume_yes: bool,
    answers: Path | None,
    json_output: bool,
    steal: bool,
    operator: str | None,
    quiet: bool,
) -> None:
    """Continue RUN_ID where it stopped (after a crash, kill -9, lost terminal or Ctrl-C).

    The record is checked first: a run whose record fails verification, or whose stored
    runbook is not the one it started with, is refused (exit 1). Finished steps are not
    repeated; a step that stopped part-way continues only on the hosts that had not
    succeeded. Where the outcome on a host is unknown (the step was in flight), the step
    runs there again only if it is marked `idempotent: true`; otherwise the operator is
    asked, or --answers decides with `rerun: {STEP_ID: yes}`. --yes never answers that
    question: without a terminal the run stops there (exit 3, resumable), naming the step
    and hosts. A process that still drove the run (see --steal) stops before its next
    action (exit 4). Secret parameters must be given again (-p or environment).
    """
    from respond.config import operator_name
    from respond.engine.params import parse_assignments, resolve_params
    from respond.timeline import open_store

    config = app.config
    store = open_store(config)
    run_id = store.resolve_run_id(run_id)
    _not_an_inspection(store, run_id)
    # refuse a tampered record before writing anything to it
    _trusted_runbook(store, run_id, config.root)
    operator = operator_name(config, operator)
    # Hold the run before reading where it stopped: a process still driving it could
    # otherwise add to the record after this resume has decided what to continue.
    with store.lock(run_id, operator, steal=steal) as lock:
        rb, state = _resume_state(store, run_id, config.root)
        given = dict(state.params)
        for name in list(given):
            if name in rb.params and rb.params[name].secret:
                given.pop(name)  # secrets were never stored: they must be given again
        given = {
            k: (list(map(str, v)) if isinstance(v, list) else str(v))
            for k, v in given.items()
            if v is not None
        }
        recorded = dict(given)
        new = parse_assignments(params)
        given.update(new)
        resolved = resolve_params(rb, given, recorded=recorded)
        _warn_secrets_on_the_command_line(rb, new)
        inv_path = inventory or (Path(state.inventory) if state.inventory else None)
        inv, inv_path, loaded_answers = _prepare(config, rb, inv_path, answers, resolved)
        code = _execute(
            app,
            config,
            rb,
            inv,
            inv_path,
            resolved,
            level=state.severity,
            assume_yes=assume_yes,
            answers=loaded_answers,
            json_output=json_output or app.json,
            drill=state.drill,
            quiet=quiet,
            resume=state,
            run_id=run_id,
            store=store,
            lock=lock,
            operator=operator,
            steal=steal,
            drill_setup=_resumed_drill(store, run_id, state),
        )
    sys.exit(code)


def _not_an_inspection(store: Any, run_id: str) -> None:
    """An inspection is not resumed: its record is whole as it is, and a new round is a new
    run (exit 2)."""
    inspection = store.meta(run_id).get("inspection")
    if isinstance(inspection, dict):
        name = inspection.get("name")
        raise UsageError(
            f"run {run_id} is an inspection ({name}); inspections are not resumed: "
            f"run it again with `respond inspect run {name}`"
        )


def _resumed_drill(store: Any, run_id: str, state: ResumeState) -> DrillSetup | None:
    """A drill resumes as it started: in its mode, to its own channels (its recorded
    definition's ``notify``). Faults are not injected again."""
    if state.drill_mode is None:
        return None
    definition = store.meta(run_id).get("drill_definition")
    notify = definition.get("notify") if isinstance(definition, dict) else None
    channels = tuple(str(c) for c in notify) if notify else None
    return DrillSetup(mode=state.drill_mode, name=state.drill_name, channels=channels)


def _trusted_runbook(store: Any, run_id: str, root: Path | None = None) -> Runbook:
    """The runbook a run ran, from its stored copy, once the record proves it: the chain
    verifies and the text is the one whose sha256 the run-started event announced.
    Raises ``RecordTampered`` (exit 1) naming what differs."""
    from respond.engine.resume import runbook_digests
    from respond.errors import RecordTampered
    from respond.runbook.loader import load_runbook_text

    verdict = store.verify(run_id)
    if not verdict.ok:
        raise RecordTampered(
            f"run {run_id} cannot be resumed: its record fails verification ({verdict})",
            hint=f"respond timeline verify {run_id} shows the details",
        )
    events = store.events(run_id)
    if not events:
        raise UsageError(f"run {run_id} has no run-started event; it cannot be resumed")
    text = store.runbook_text(run_id)
    if text is None:
        raise UsageError(f"run {run_id} has no stored runbook text; it cannot be resumed")
    announced = str(events[0].data.get("sha256") or "")
    if announced not in runbook_digests(text):
        raise RecordTampered(
            f"run {run_id} cannot be resumed: the stored runbook text (sha256 "
            f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}) is not the runbook the "
            f"run started with (sha256 {announced[:12] or 'missing'})",
            hint=f"respond timeline verify {run_id}",
        )
    return load_runbook_text(text, shown=f"runbook of run {run_id}", sha256=announced, root=root)


def _resume_state(store: Any, run_id: str, root: Path | None = None) -> tuple[Runbook, ResumeState]:
    """Where the run stopped, read while holding its lock (and proven again under it)."""
    from respond.engine.resume import state_from_events

    rb = _trusted_runbook(store, run_id, root)
    events = store.events(run_id)
    registers = {s.id: s.register for s in rb.steps if s.register}
    state = state_from_events(run_id, events, registers)
    if state.final_status == "succeeded":
        raise UsageError(f"run {run_id} already succeeded; nothing to resume")
    if state.finished_by:
        raise UsageError(
            f"run {run_id} was ended by its finish step {state.finished_by!r}; nothing to resume"
        )
    return rb, state


def _prepare(
    config: ProjectConfig,
    rb: Runbook,
    inventory: Path | None,
    answers: Path | None,
    params: ResolvedParams,
) -> tuple[Inventory | None, Path | None, dict[str, Any]]:
    """Inventory and answers for a run or resume, checked against the runbook."""
    inv, inv_path = _load_inventory(config, inventory, rb)
    loaded = _load_answers(answers, rb)
    _preflight(rb, inv, config, loaded, params)
    return inv, inv_path, loaded


def _load_inventory(
    config: ProjectConfig, given: Path | None, rb: Runbook
) -> tuple[Inventory | None, Path | None]:
    path = given or config.default_inventory
    needs = any(s.step_kind.on_hosts for s in _steps_and_checks(rb))
    if path is None:
        if needs:
            raise UsageError(
                f"runbook {rb.id} has steps on inventory hosts; give an inventory with -i FILE "
                "(or default_inventory in respond.yaml)"
            )
        return None, None
    from respond.lab.inventoryfile import check_running

    if given is not None or needs:
        check_running(Path(path), config.inventory_dir / "lab.yaml")
    if not Path(path).exists():
        if given is None and not needs:
            return None, None
        hint = "start the lab with `respond lab up`" if "lab" in Path(path).name else None
        raise ConfigError(f"inventory {path} does not exist", hint=hint)
    from respond.inventory import load_inventory

    return load_inventory(Path(path)), Path(path).resolve()


def _preflight(
    rb: Runbook,
    inventory: Inventory | None,
    config: ProjectConfig,
    answers: dict[str, Any],
    params: ResolvedParams,
) -> None:
    """Check the runbook against the inventory before anything runs: an undefined name
    or a broken target must not surface mid-incident (exit 2 instead, with file:line:col)."""
    from respond.cli.output import warn
    from respond.errors import RunbookInvalid
    from respond.runbook.validate import check_runbook

    issues = check_runbook(rb, inventory=inventory, config=config)
    issues += [i for i in _unmatched_targets(rb, inventory, config, params) if i not in issues]
    errors = [i for i in issues if i.is_error]
    if errors:
        raise RunbookInvalid(f"{rb.id}: not run", issues)
    for issue in issues:
        warn(str(issue).replace("warning: ", "", 1))
    ids = {s.id for s in rb.steps}
    for key in answers:
        if key not in ("rerun", "steps") and key not in ids:
            warn(f"the answers file names {key!r}, which is not a step of {rb.id}")
    for section in ("rerun", "steps"):
        for key in answers.get(section) or {}:
            if key not in ids:
                warn(f"the answers file's {section} names {key!r}, which is not a step of {rb.id}")


def _unmatched_targets(
    rb: Runbook, inventory: Inventory | None, config: ProjectConfig, params: ResolvedParams
) -> list[Issue]:
    """Targets the params already decide, resolved against the inventory: one that matches
    no host (``-p server=app9``) stops the run here, before anything is recorded."""
    from respond.engine.prepare import preflight_targets
    from respond.engine.variables import base_variables
    from respond.runbook.validate import templates_for
    from respond.secrets import Masker

    variables = base_variables(
        runbook=rb,
        params=params.values,
        run_id="<run-id>",
        severity=rb.severity,
        drill=False,
        operator="<operator>",
        inventory=inventory,
        now="<now>",
    )
    found = preflight_targets(
        rb, inventory, variables, templates_for(config.root), params.secret_names
    )
    masker = Masker(params.secret_values)  # a pattern made from a secret param shows ***
    return [
        dataclasses.replace(issue, message=masker.mask(issue.message))
        for issues in found.values()
        for issue in issues
    ]


def _load_answers(path: Path | None, rb: Runbook | None = None) -> dict[str, Any]:
    """The answers file through the one strict YAML reader, its shape checked before anything
    runs: a duplicated key, a misspelt ``confirm`` or a gate "confirmed" by ``on`` must not
    silently decide a gate. Every gate decision comes back as a real ``bool``."""
    if path is None:
        return {}
    from respond.errors import InvalidInput, Issue
    from respond.yamlfile import read_yaml

    doc = read_yaml(path, what="answers file")  # InvalidInput: file:line:col, exit 2
    data = doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        issue = Issue("the answers file must map step ids to answers", doc.positions.nearest(()))
        raise InvalidInput(f"{doc.positions.file}: not an answers file", [issue])
    issues = _answers_issues(data, doc.positions)
    if not issues:
        gates = {s.id for s in rb.steps if s.gated} if rb is not None else None
        data, issues = _decisions(data, doc.positions, gates)
    if issues:
        raise InvalidInput(f"{doc.positions.file}: invalid answers file", issues)
    return {str(k): v for k, v in data.items()}


def _decisions(
    data: dict[Any, Any], pos: Any, gates: set[str] | None
) -> tuple[dict[Any, Any], list[Any]]:
    """``data`` with every gate decision (``confirm``, ``rerun``, the short form for a gated
    step) as a bool, and a located issue for each one that is not yes/true or no/false.
    ``gates`` are the ids of the runbook's gated steps (None: treat every short form whose
    value reads as a boolean as a decision). An answer to a prompt written ``on`` is the
    text ``on``."""
    from respond.engine.gates import CONFIRM_WORDS, REFUSE_WORDS
    from respond.errors import Issue

    # YAML 1.1 also reads on/off (and y-less variants) as booleans; a gate is too important
    # to be confirmed by a slip like that, so the word as written decides.
    issues: list[Issue] = []

    def decide(path: tuple[Any, ...], value: Any, what: str) -> Any:
        word = pos.words.get(path) if isinstance(value, bool) else value
        if isinstance(word, str) and word.strip().lower() in CONFIRM_WORDS:
            return True
        if isinstance(word, str) and word.strip().lower() in REFUSE_WORDS:
            return False
        shown = word if isinstance(word, str) else value
        issues.append(
            Issue(
                f"{what} is confirmed only by yes or true and refused only by no or false, "
                f"got {shown!r}",
                pos.value(path),
            )
        )
        return value

    def as_text(path: tuple[Any, ...], value: Any) -> Any:
        word = pos.words.get(path)
        if isinstance(value, bool) and word and word.lower() not in CONFIRM_WORDS | REFUSE_WORDS:
            return word  # `panel: on` answers "on", not "yes"
        return value

    out: dict[Any, Any] = {}
    for key, value in data.items():
        if key == "steps":  # a tabletop drill's done/skip, checked by _answers_issues
            out[key] = value
        elif key == "rerun":
            out[key] = {
                step: decide((key, step), answer, f"rerun of step {step!r}")
                for step, answer in value.items()
            }
        elif isinstance(value, dict):
            out[key] = {
                sub: decide((key, sub), answer, f"the gate of step {key!r}")
                if sub == "confirm"
                else as_text((key, sub), answer)
                for sub, answer in value.items()
            }
        elif (key in gates) if gates is not None else isinstance(value, bool):
            out[key] = decide((key,), value, f"the gate of step {key!r}")
        else:
            out[key] = as_text((key,), value)
    return out, issues


def _steps_and_checks(rb: Any) -> list[Any]:
    """Every step of the runbook and every inline check (a wait step's) inside one."""
    out = []
    for step in rb.steps:
        out.append(step)
        out.extend(step.checks)
    return out


def _answers_issues(data: dict[Any, Any], pos: Any) -> list[Any]:
    """``step: yes|no|text``, ``step: {confirm: yes|no, answer: text}``, ``rerun: {step: yes|no}``,
    ``steps: {step: done | "skip: REASON"}`` (a tabletop drill)."""
    import difflib

    from respond.errors import Issue

    scalar = bool | str | int | float
    issues: list[Issue] = []
    for key, value in data.items():
        if key == "steps":
            issues += _walk_issues(value, pos)
        elif key == "rerun":
            if not isinstance(value, dict):
                issues.append(Issue("'rerun' must map step ids to yes or no", pos.value((key,))))
                continue
            for step, answer in value.items():
                if not isinstance(answer, bool | str):
                    issues.append(
                        Issue(
                            f"rerun of step {step!r} must be yes or no, got {answer!r}",
                            pos.value((key, step)),
                        )
                    )
        elif isinstance(value, dict):
            for sub, answer in value.items():
                if sub not in ("confirm", "answer"):
                    close = difflib.get_close_matches(str(sub), ["confirm", "answer"], n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    issues.append(
                        Issue(
                            f"unknown key {sub!r} for step {key!r}{hint}; "
                            "use 'confirm' (a gate) or 'answer' (a prompt)",
                            pos.key((key, sub)),
                        )
                    )
                elif not isinstance(answer, scalar):
                    issues.append(
                        Issue(
                            f"{sub} of step {key!r} must be yes/no or a text, got {answer!r}",
                            pos.value((key, sub)),
                        )
                    )
        elif not isinstance(value, scalar):
            issues.append(
                Issue(
                    f"the answer for step {key!r} must be yes/no (a gate), a text (a prompt) "
                    f"or a mapping with 'confirm'/'answer', got {value!r}",
                    pos.value((key,)),
                )
            )
    return issues


def _walk_issues(value: Any, pos: Any) -> list[Any]:
    """``steps:`` of an answers file: each step walked in a tabletop drill ``done``, or
    ``skip: REASON`` (a bare ``skip`` is recorded without a reason, and scored so)."""
    from respond.engine.drill import walk_decision
    from respond.errors import Issue

    if not isinstance(value, dict):
        return [Issue("'steps' must map step ids to done or 'skip: REASON'", pos.value(("steps",)))]
    return [
        Issue(
            f"steps: {step!r} must be done or 'skip: REASON', got {answer!r}",
            pos.value(("steps", step)),
        )
        for step, answer in value.items()
        if walk_decision(answer) is None
    ]


def _warn_secrets_on_the_command_line(rb: Runbook, given: Mapping[str, Any]) -> None:
    """respond's own command line is readable by every user of the machine (ps)."""
    from respond.cli.output import warn

    for name in given:
        if name in rb.params and rb.params[name].secret:
            warn(
                f"secret parameter {name!r} given with -p: every user of this machine can "
                f"read it in respond's command line (ps); set RESPOND_PARAM_{name.upper()} "
                "instead"
            )


def _secrets_of(inventory: Inventory | None) -> list[str]:
    """Password-like inventory values (also those resolved from the environment)."""
    from respond.inventory import is_secret_name

    out: list[str] = []
    if inventory is None:
        return out
    for host in inventory.hosts.values():
        for key, value in host.vars.items():
            if isinstance(value, str) and value and is_secret_name(key):
                out.append(value)
        for value in (host.password, host.become_password):
            if value:
                out.append(str(value))
    return out


def _inventory_snapshot(inventory: Inventory | None, rb: Runbook) -> dict[str, Any] | None:
    """The inventory entries the run can touch (static target patterns), secrets redacted."""
    from respond.errors import RespondError

    if inventory is None:
        return None
    touched: set[str] = set()
    for s in _steps_and_checks(rb):
        if not s.step_kind.on_hosts or not s.targets:
            continue
        if "{" in s.targets:  # templated: could be any host
            touched.update(inventory.hosts)
            continue
        try:
            touched.update(h.name for h in inventory.select(s.targets))
        except RespondError:
            pass
    snap = inventory.to_dict(redact=True)
    snap["hosts"] = {k: v for k, v in snap["hosts"].items() if k in touched}
    return snap


def _execute(
    app: AppContext,
    config: ProjectConfig,
    rb: Any,
    inventory: Any,
    inv_path: Path | None,
    resolved: Any,
    *,
    level: int,
    assume_yes: bool,
    answers: dict[str, Any],
    json_output: bool,
    drill: bool,
    quiet: bool,
    resume: Any,
    run_id: str | None,
    operator: str,
    given: Intake | None = None,
    store: Any = None,
    lock: Any = None,
    steal: bool = False,
    drill_setup: DrillSetup | None = None,
    launch: Launch | None = None,
) -> int:
    """The run (new or resumed) driven to its end; its exit code. ``drill_setup``: a drill
    run's mode, meta, channels and start/end actions (``respond drill run``, resume).
    ``launch``: a run another command starts (an inspection's on_critical rule)."""
    from respond.cli.hangup import TerminalWatch
    from respond.cli.output import err, out
    from respond.cli.progress import ConsoleProgress
    from respond.engine import RunEngine
    from respond.runbook.templating import Templates
    from respond.timeline import open_store

    store = store or open_store(config)
    masker = _run_masker(store, resolved, inventory)
    console = err()
    progress = ConsoleProgress(console, masker, quiet=quiet or json_output)
    with contextlib.ExitStack() as held:
        incident, run_id, lock, level = _hold_run(
            store,
            config,
            held,
            rb,
            operator,
            _IncidentSetup(masker, progress.progress, _channel_vars(inventory, resolved)),
            functools.partial(
                _create_run,
                store,
                rb,
                inventory,
                inv_path,
                resolved,
                masker,
                operator,
                drill=drill,
                drill_setup=drill_setup,
            ),
            level=level,
            drill=drill,
            given=given,
            resumed=resume is not None,
            run_id=run_id,
            lock=lock,
            steal=steal,
        )
        watch = TerminalWatch()
        unattended = (drill_setup is not None and drill_setup.unattended) or (
            launch is not None and launch.unattended
        )
        if launch is not None:
            launch.run_id = run_id
            launch.incident_id = incident.incident_id if incident is not None else None
        asker = _asker(console, watch, rb, run_id, unattended=unattended)
        templates = Templates(config.root)
        _remove_stale_ansible_dirs(config.home)
        ctx = _run_context(config, run_id, inv_path, masker, templates, drill=drill)
        options = _run_options(
            config, resolved, level, operator, assume_yes=assume_yes, answers=answers, drill=drill
        )
        if drill_setup is not None:
            drill_setup.apply(run_id, ctx, options)
        if incident is not None:
            incident.link_options(options)
        # A closed pipe or terminal, or SIGHUP, ends only the display: the run goes on
        # unattended, and its summary and exit code are those of the incident.
        watch.install()
        try:
            if not json_output:
                _announce(console, run_id, incident)
            # every write is fenced by the lock: a process whose run was taken over stops
            recorder = store.recorder(run_id, masker, lock=lock)
            engine = RunEngine(
                runbook=rb,
                inventory=inventory,
                ctx=ctx,
                recorder=recorder,
                templates=templates,
                options=options,
                asker=asker,
                masker=masker,
                observers=[progress],
                resume=resume,
            )
            result = _drive_drill(engine, ctx, drill_setup)
            view = incident.ended(run_id, result) if incident is not None else None
            if launch is not None:
                launch.ended(result)
            # a drill's or another command's caller prints its own JSON or summary
            if not (json_output and drill_setup is not None) and (launch is None or launch.summary):
                _summary(result, rb, store, run_id, json_output, out(), console, masker, view)
            return int(result.status.exit_code)
        finally:
            watch.remove()


def _announce(console: Any, run_id: str, incident: IncidentRun | None) -> None:
    console.print(f"run id: {run_id}", markup=False, highlight=False)
    if incident is not None:
        console.print(f"incident: {incident.incident_id}", markup=False, highlight=False)


def _run_masker(store: Any, resolved: Any, inventory: Any) -> Any:
    """What is masked in every sink of the run: secret params, inventory secrets and the
    store's signing key."""
    from respond.secrets import Masker

    masker = Masker([*resolved.secret_values, *_secrets_of(inventory)])
    for secret in store.key_material():
        masker.add(secret)
    return masker


def _drive_drill(engine: Any, ctx: Any, drill_setup: DrillSetup | None) -> Any:
    """The engine run to its end under SIGTERM-as-Ctrl-C; a drill's end actions (a lab
    drill heals its faults) follow however the run ends."""
    with _sigterm_cancels(ctx):
        try:
            return _drive(engine, ctx)
        finally:
            if drill_setup is not None and drill_setup.after is not None:
                drill_setup.after(engine.journal)


def _hold_run(
    store: Any,
    config: ProjectConfig,
    held: contextlib.ExitStack,
    rb: Any,
    operator: str,
    setup: _IncidentSetup,
    create: Callable[..., str],  # create(level=, incident=) → the new run's id
    *,
    level: int,
    drill: bool,
    given: Intake | None,
    resumed: bool,
    run_id: str | None,
    lock: Any,
    steal: bool,
) -> tuple[IncidentRun | None, str, Any, int]:
    """The run and its incident, both held for as long as ``held`` is: the incident first
    (a second live run of it is refused before anything is recorded), then the run, created
    here for a new run and attached to the incident. Returns the level the run starts at:
    an incident it joins or resumes keeps its own (escalations, re-classification)."""
    incident = None
    if not drill:
        taken_from = lock.taken_from if (steal and lock is not None) else None
        incident = _incident(
            store, config, operator, setup, held, rb, level, given, run_id, taken_from
        )
    if incident is not None and (resumed or (given is not None and given.incident)):
        level = incident.level()
    if run_id is None:
        run_id = create(level=level, incident=incident.incident_id if incident else None)
    if lock is None:
        lock = held.enter_context(store.lock(run_id, operator))
    if incident is not None and not resumed:
        incident.attach(run_id, rb)
    return incident, run_id, lock, level


@dataclasses.dataclass(frozen=True)
class _IncidentSetup:
    """How the incident's book reaches people during a run: the run's masker, its terminal,
    and its variables for channel URLs."""

    masker: Any
    progress: Callable[[str], None]
    channel_vars: dict[str, Any] | None


def _channel_vars(inventory: Any, resolved: Any) -> dict[str, Any] | None:
    """What the incident's channel URLs are rendered with: the run's inventory ``all`` vars
    and params, as the run's own notices see them (None: the default inventory's)."""
    if inventory is None:
        return None
    from respond.engine.variables import all_group_vars

    return {**all_group_vars(inventory), **resolved.values}


def _incident(
    store: Any,
    config: ProjectConfig,
    operator: str,
    setup: _IncidentSetup,
    held: contextlib.ExitStack,
    rb: Any,
    level: int,
    given: Intake | None,
    run_id: str | None,
    taken_from: Any,
) -> IncidentRun | None:
    """The incident this run works on, held for the run: the resumed run's own, the one
    --incident names, or a new one. None for a run recorded before incidents existed."""
    from respond.cli.run_incident import IncidentRun, Intake
    from respond.clock import SYSTEM_CLOCK

    incident = IncidentRun(
        store,
        config,
        SYSTEM_CLOCK,
        operator,
        masker=setup.masker,
        progress=setup.progress,
        channel_vars=setup.channel_vars,
    )
    if run_id is not None:  # resumed
        linked = store.meta(run_id).get("incident")
        if not linked:
            return None
        incident.incident_id = str(linked)
    elif given is not None and given.incident is not None:
        incident.existing(given.incident)
    else:
        incident.open(rb, given or Intake(), level)
    incident.hold(held, taken_from=taken_from)
    return incident


def _run_options(
    config: ProjectConfig,
    resolved: Any,
    level: int,
    operator: str,
    *,
    assume_yes: bool,
    answers: dict[str, Any],
    drill: bool,
) -> Any:
    """The engine's options: the run's inputs, and the project's severity policy and
    notification channels."""
    from respond.engine import RunOptions

    notify_cfg = config.raw.get("notify")
    notify = notify_cfg if isinstance(notify_cfg, dict) else {}
    return RunOptions(
        params=resolved,
        severity=level,
        operator=operator,
        assume_yes=assume_yes,
        answers=answers,
        drill=drill,
        severity_policy=config.severity_policy,
        default_channels=list(notify.get("default") or []) or None,
        escalation_channels=list(notify.get("escalation") or []) or None,
    )


def _asker(console: Any, watch: Any, rb: Any, run_id: str, *, unattended: bool = False) -> Any:
    """Who answers gates and prompts: the operator at a terminal (until it goes away), or
    nobody (only --yes and the answers file decide; always so for a scheduled drill)."""
    from respond.cli.progress import TerminalAsker, UnattendedAsker, stdin_is_terminal

    if stdin_is_terminal() and not unattended:
        return TerminalAsker(console, watch, rb, run_id)
    return UnattendedAsker(rb)


def _create_run(
    store: Any,
    rb: Any,
    inventory: Any,
    inv_path: Path | None,
    resolved: Any,
    masker: Any,
    operator: str,
    *,
    level: int,
    drill: bool,
    incident: str | None = None,
    drill_setup: DrillSetup | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A new run in the store, with the record its reports show (chained from its start).
    Its incident is in the anchored meta: a run cannot be moved to another incident unseen.
    A drill's meta says which drill, in which mode, as defined when it ran; ``extra`` is
    what another caller adds (an inspection's definition)."""
    from respond import __version__
    from respond.timeline import new_run_id

    run_id = new_run_id()
    inv_snapshot = _inventory_snapshot(inventory, rb)
    store.create_run(
        run_id,
        {
            "runbook": rb.id,
            "version": rb.version,
            "title": rb.title,
            "sha256": rb.sha256,
            "source": str(rb.source),
            "runbook_text": rb.text,
            "params": resolved.redacted(),
            "operator": operator,
            "severity": level,
            "drill": drill,
            "respond_version": __version__,
            "inventory": str(inv_path) if inv_path else None,
            "inventory_snapshot": masker.mask(inv_snapshot) if inv_snapshot else None,
            **({"incident": incident} if incident else {}),
            **(_drill_meta(drill_setup) if drill else {}),
            **(extra or {}),
        },
    )
    return str(run_id)


@dataclasses.dataclass(kw_only=True)
class DrillSetup:
    """What a drill run adds to a run: its mode and definition's name, the run meta that
    describes the drill, its own channels, what happens once the run started (a lab drill's
    injects) and after the engine returned (its heal), and whether nobody may be asked.
    ``run_id`` is set once the run exists."""

    mode: str
    name: str | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    channels: tuple[str, ...] | None = None
    on_start: Callable[[Any], None] | None = None
    after: Callable[[Any], None] | None = None
    unattended: bool = False
    run_id: str | None = None

    def apply(self, run_id: str, ctx: Any, options: Any) -> None:
        self.run_id = run_id
        ctx.drill = True
        ctx.drill_channels = self.channels
        options.drill = True
        options.drill_mode = self.mode
        options.drill_name = self.name
        options.on_start = self.on_start


def _drill_meta(setup: DrillSetup | None) -> dict[str, Any]:
    """A drill run's meta: its mode (``respond run --drill`` simulates), and what the drill
    executor says of its definition (name, sha256, definition, text, occurrence)."""
    if setup is None:
        return {"drill_mode": "simulate", "drill_name": None}
    return {"drill_mode": setup.mode, "drill_name": setup.name, **setup.meta}


@dataclasses.dataclass(kw_only=True)
class Launch:
    """A run another command starts (an inspection's on_critical rule runs a runbook):
    whether anybody may be asked and whether its summary is printed; what became of it
    (run, incident, outcome, the step it stopped at) is filled in as the run goes."""

    unattended: bool = False
    summary: bool = True
    run_id: str | None = None
    incident_id: str | None = None
    outcome: str | None = None
    reason: str | None = None
    exit_code: int | None = None

    def ended(self, result: Any) -> None:
        self.outcome = str(result.outcome)
        self.reason = result.reason
        self.exit_code = int(result.status.exit_code)


def run_for_incident(
    app: AppContext,
    runbook: str,
    *,
    params: Mapping[str, str | list[str]],
    severity: int | None,
    given: Intake,
    inventory: Path | None,
    operator: str,
    launch: Launch,
) -> int:
    """Run ``runbook`` as `respond run RUNBOOK -p ... --severity N -i INVENTORY` would: an
    incident run (a new incident described by ``given``, or the open one it names), its
    gates decided by the operator at a terminal or, ``launch.unattended``, refused. Bad
    input raises before anything is recorded; the exit code of the run otherwise."""
    from respond.engine.params import resolve_params
    from respond.runbook import load_runbook

    config = app.config
    rb = load_runbook(runbook, config)
    resolved = resolve_params(rb, dict(params))
    inv, inv_path, answers = _prepare(config, rb, inventory, None, resolved)
    return _execute(
        app,
        config,
        rb,
        inv,
        inv_path,
        resolved,
        level=severity or rb.severity,
        assume_yes=False,
        answers=answers,
        json_output=False,
        drill=False,
        quiet=not launch.summary,
        resume=None,
        run_id=None,
        operator=operator,
        given=given,
        launch=launch,
    )


def _run_context(
    config: ProjectConfig,
    run_id: str,
    inv_path: Path | None,
    masker: Any,
    templates: Any,
    *,
    drill: bool,
) -> Any:
    from respond.executors.base import RunContext

    return RunContext(
        run_id=run_id,
        project_root=config.root,
        playbooks_dir=config.playbooks_dir,
        home=config.home,
        inventory_path=inv_path,
        known_hosts=tuple(config.known_hosts),
        drill=drill,
        secrets=masker.secrets,
        channels=dict(config.raw.get("channels") or {}),
        templates=templates,
        masker=masker,
    )


@contextlib.contextmanager
def _sigterm_cancels(ctx: Any) -> Iterator[None]:
    """SIGTERM is treated as Ctrl-C: the run is cancelled, recorded, and exits 130."""

    def on_term(signum: int, frame: Any) -> None:
        ctx.cancel.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drive(engine: Any, ctx: Any) -> Any:
    from respond.errors import RecordUnwritable

    try:
        return engine.run()
    except KeyboardInterrupt:  # a second Ctrl-C while finishing up
        ctx.cancel.set()
        raise
    except RecordUnwritable as exc:
        raise RecordUnwritable(
            exc.message,
            hint=f"once the record can be written again: respond resume {ctx.run_id}",
        ) from exc


def _summary(
    result: Any,
    rb: Any,
    store: Any,
    run_id: str,
    json_output: bool,
    console: Any,
    errc: Any,
    masker: Any,
    incident: ClockView | None = None,
) -> None:
    from respond.cli.output import print_json

    where = getattr(store, "location", "")
    if json_output:
        print_json(
            {
                "run_id": run_id,
                "incident": _incident_data(incident),
                "runbook": rb.id,
                "version": rb.version,
                "status": str(result.status),
                "outcome": str(result.outcome),
                "reason": masker.mask(result.reason),
                "exit_code": result.status.exit_code,
                "message": masker.mask(result.message),
                "record": where,
                "steps": [
                    {
                        "id": s.step_id,
                        "status": str(s.status),
                        "ok": s.ok_count,
                        "failed": s.failed_count,
                        "hosts": len(s.hosts),
                        "duration_s": round(s.duration_s, 3),
                        "message": masker.mask(s.message),
                    }
                    for s in result.steps
                ],
            }
        )
        return
    numbers = {step.id: i for i, step in enumerate(rb.steps, start=1)}
    rows: list[tuple[str, ...]] = [
        (
            str(numbers.get(s.step_id, "")),
            s.step_id,
            str(s.status),
            str(s.ok_count),
            str(s.failed_count),
            f"{s.duration_s:.2f}s",
            _note(s, masker),
        )
        for s in result.steps
    ]
    title = f"{rb.id}@{rb.version} · run {run_id}"
    if not console.is_terminal or not _summary_table(console, title, rows):
        _summary_text(console, title, rows)
    if incident is not None:
        console.print(
            f"incident {incident.incident_id} · {incident.line()}", markup=False, highlight=False
        )
    _closing_lines(result, run_id, where, console, errc, masker)


def _incident_data(view: ClockView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "id": view.incident_id,
        "level": view.level,
        "respond": view.respond,
        "restore": view.restore,
    }


def _closing_lines(
    result: Any, run_id: str, where: str, console: Any, errc: Any, masker: Any
) -> None:
    """The run's last lines: the outcome in words with its reason, then how long it took
    and the exit code; where the record is (and how to resume) on stderr."""
    from rich.text import Text

    from respond.cli.output import END_STYLE
    from respond.cli.screen import printable
    from respond.durations import format_duration

    outcome = result.outcome
    line = Text(outcome.headline, style=f"bold {END_STYLE[str(outcome)]}")
    if result.reason:
        line.append(f" — {printable(masker.mask(result.reason))}")
    console.print(line, highlight=False)
    console.print(
        f"run {run_id} finished in {format_duration(result.elapsed_s)} · "
        f"exit {result.status.exit_code}",
        markup=False,
        highlight=False,
    )
    errc.print(f"record: {where} · respond timeline show {run_id}", markup=False, highlight=False)
    if str(result.status) == "interrupted":
        errc.print(f"resume with: respond resume {run_id}", markup=False, highlight=False)


SUMMARY_COLUMNS = ("#", "step", "status", "hosts ok", "failed", "duration", "note")
NOTE_MIN_WIDTH = 16
_RIGHT = frozenset({"#", "hosts ok", "failed", "duration"})
_STATUS_STYLE = {
    "ok": "green",
    "failed": "red",
    "timed_out": "red",
    "skipped": "dim",
    "simulated": "cyan",
    "cancelled": "yellow",
}


def _note(step: Any, masker: Any) -> str:
    if str(step.status) == "skipped" and step.message.startswith("condition is false"):
        return "condition false"  # the expression is on the progress line and in the record
    from respond.cli.screen import printable

    return " ".join(printable(str(masker.mask(step.message))).split())


def _summary_table(console: Any, title: str, rows: Sequence[tuple[str, ...]]) -> bool:
    """A terminal: the rich table, its notes wrapped onto more lines. False (nothing
    printed) when the terminal is too narrow for it to show every value."""
    from rich.table import Table
    from rich.text import Text

    widths = _widths(rows)
    borders = 3 * len(SUMMARY_COLUMNS) + 1  # a space either side of each value, and the rules
    if sum(widths[:-1]) + min(widths[-1], NOTE_MIN_WIDTH) + borders > console.width:
        return False
    table = Table(title=title, title_justify="left")
    for col, width in zip(SUMMARY_COLUMNS, widths, strict=True):
        note = col == "note"
        table.add_column(
            col,
            justify="right" if col in _RIGHT else "left",
            overflow="fold",
            no_wrap=not note,  # only the note may wrap; every other value fits on its line
            min_width=None if note else width,
        )
    for row in rows:
        cells = [Text(value) for value in row]
        cells[2].stylize(_STATUS_STYLE.get(row[2], ""))
        table.add_row(*cells)
    console.print(table)
    return True


def _widths(rows: Sequence[tuple[str, ...]]) -> list[int]:
    """Terminal cells each column needs for its widest value (wide characters count two)."""
    from rich.cells import cell_len

    return [
        max([cell_len(col), *(cell_len(row[i]) for row in rows)])
        for i, col in enumerate(SUMMARY_COLUMNS)
    ]


def _summary_text(console: Any, title: str, rows: Sequence[tuple[str, ...]]) -> None:
    """No terminal (cron mail, CI logs, a pipe): plain aligned columns that keep every
    value, whatever the width."""
    from rich.cells import cell_len

    widths = _widths(rows)

    def render(values: tuple[str, ...]) -> str:
        cells = []
        for col, value, width in zip(SUMMARY_COLUMNS, values, widths, strict=True):
            pad = " " * (width - cell_len(value))
            cells.append(pad + value if col in _RIGHT else value + pad)
        return "  ".join(cells).rstrip()

    lines = [title, render(SUMMARY_COLUMNS), *(render(row) for row in rows)]
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


__all__ = ["resume_cmd", "run_cmd"]


def _remove_stale_ansible_dirs(home: Path) -> None:
    """What a crashed respond left of its playbook runs (processes, private data
    directories) goes before this run starts, whether or not it runs a playbook."""
    from respond.executors.ansible import remove_stale

    remove_stale(Path(home) / "ansible")
