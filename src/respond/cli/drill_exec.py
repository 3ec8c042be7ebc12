"""Running one drill: its runbook, params, inventory, answers and severity from the
definition, then the run itself through ``respond run``'s own path (``run._execute``) in the
drill's mode, recorded as a drill run (never an incident).

A lab drill runs only against the lab (its inventory, every host on loopback), starts the lab
when it is not running (and stops it after only if it started it), injects the drill's faults
once the run has started (each recorded before it is applied) and heals the lab after the run
(recorded before it heals). In tabletop and simulate mode the faults are narrated: recorded,
never applied.

``execute_drill`` does not claim scheduled occurrences: its callers do (``respond drill run``,
the periodic job).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import DrillError, RespondError

if TYPE_CHECKING:
    from collections.abc import Callable

    from respond.cli import AppContext
    from respond.cli.run import DrillSetup
    from respond.config import ProjectConfig
    from respond.drills.model import Drill, Inject
    from respond.engine.journal import Journal
    from respond.engine.params import ResolvedParams
    from respond.inventory import Inventory
    from respond.runbook import Runbook
    from respond.secrets import Masker

NARRATED = "narrated: only lab drills inject faults"


@dataclasses.dataclass(frozen=True)
class DrillRun:
    """How a drill run went: its run (None when none could start), exit code, outcome, and
    the error that stopped it from starting or finishing (None: it ran to its end)."""

    run_id: str | None
    exit_code: int
    outcome: str | None
    error: str | None


@dataclasses.dataclass(frozen=True)
class PreparedDrill:
    """A drill's run inputs, checked before anything is recorded."""

    drill: Drill
    runbook: Runbook
    params: ResolvedParams
    inventory: Inventory | None
    inventory_path: Path | None
    answers: dict[str, Any]
    level: int
    operator: str


def execute_drill(
    app: AppContext,
    drill: Drill,
    *,
    answers_file: Path | None = None,
    assume_yes: bool = False,
    occurrence: str | None = None,
    operator: str | None = None,
    quiet: bool = False,
    json_output: bool = False,
    unattended: bool = False,
) -> DrillRun:
    """Run ``drill`` now. ``occurrence``: the scheduled occurrence (ISO UTC) the run takes on,
    recorded in its meta. ``unattended``: nobody is asked (only --yes and answers decide).
    ``json_output``: nothing on stdout (the caller prints its own JSON). A run that could not
    start (bad input, the lab) comes back with its error and exit code, never raised."""
    setup = None
    try:
        prepared = prepare_drill(app, drill, answers_file=answers_file, operator=operator)
        setup = drill_setup(
            app, prepared, occurrence=occurrence, quiet=quiet or json_output, unattended=unattended
        )
        code = run_prepared(
            app, prepared, setup, assume_yes=assume_yes, quiet=quiet, json_output=json_output
        )
    except RespondError as exc:
        run_id = setup.run_id if setup is not None else None
        return DrillRun(run_id, exc.exit_code, _outcome(app, run_id), error_text(exc))
    return DrillRun(setup.run_id, code, _outcome(app, setup.run_id), None)


def prepare_drill(
    app: AppContext,
    drill: Drill,
    *,
    answers_file: Path | None = None,
    operator: str | None = None,
) -> PreparedDrill:
    """The runbook, params (the drill's over the runbook's defaults), inventory, answers
    (``answers_file`` over the drill's own) and severity, each checked; a lab drill's
    inventory must be the lab's (``DrillError``, exit 2). A lab drill's inventory is loaded
    once the lab runs (``run_prepared``)."""
    from respond.cli.run import _load_answers, _load_inventory, _preflight
    from respond.config import operator_name
    from respond.engine.params import resolve_params
    from respond.runbook import load_runbook

    config = app.config
    _checked(drill, config)
    rb = load_runbook(drill.runbook, config)
    resolved = resolve_params(rb, _given_params(drill))
    answers = _load_answers(answers_file, rb) if answers_file else _drill_answers(config, drill, rb)
    inventory, inv_path = None, None
    if drill.mode == "lab":
        inv_path = lab_inventory(config, drill)
    else:
        given = _project_path(config, drill.inventory) if drill.inventory else None
        inventory, inv_path = _load_inventory(config, given, rb)
        _preflight(rb, inventory, config, answers, resolved)
    return PreparedDrill(
        drill=drill,
        runbook=rb,
        params=resolved,
        inventory=inventory,
        inventory_path=inv_path,
        answers=answers,
        level=drill.severity or rb.severity,
        operator=operator_name(config, operator),
    )


def drill_setup(
    app: AppContext,
    prepared: PreparedDrill,
    *,
    occurrence: str | None = None,
    quiet: bool = False,
    unattended: bool = False,
) -> DrillSetup:
    """What the run records of the drill and does around it: meta, channels, injects
    (lab: applied; else narrated) once it started, and the lab's heal after it."""
    from respond.cli.run import DrillSetup
    from respond.secrets import Masker

    drill = prepared.drill
    masker = Masker(list(prepared.params.secret_values))
    lab = _LabActions(app.config.home, drill, say=_sayer(quiet))
    return DrillSetup(
        mode=drill.mode,
        name=drill.id,
        meta={
            "drill_sha256": drill.sha256,
            "drill_definition": _masked(drill.model_dump(mode="json", by_alias=True), masker),
            "drill_text": masker.mask(drill.text),
            "occurrence": occurrence,
        },
        channels=tuple(drill.notify) if drill.notify else None,
        on_start=lab.inject if drill.inject else None,
        after=lab.heal if drill.mode == "lab" else None,
        unattended=unattended,
    )


def run_prepared(
    app: AppContext,
    prepared: PreparedDrill,
    setup: DrillSetup,
    *,
    assume_yes: bool = False,
    quiet: bool = False,
    json_output: bool = False,
) -> int:
    """The drill run driven to its end; its exit code. A lab drill starts the lab when it
    is not running (and stops it after only if it started it) and refuses an inventory with
    a host that is not on loopback, before anything is recorded."""
    from respond.cli.run import _execute

    config = app.config
    started = False
    try:
        inventory, inv_path = prepared.inventory, prepared.inventory_path
        if prepared.drill.mode == "lab":
            started = _lab_up(config, prepared, _sayer(quiet or json_output))
            inventory, inv_path = _lab_inventory_loaded(config, prepared)
        return _execute(
            app,
            config,
            prepared.runbook,
            inventory,
            inv_path,
            prepared.params,
            level=prepared.level,
            assume_yes=assume_yes,
            answers=prepared.answers,
            json_output=json_output,
            drill=True,
            quiet=quiet,
            resume=None,
            run_id=None,
            operator=prepared.operator,
            drill_setup=setup,
        )
    finally:
        if started:
            _lab_down(config, _sayer(quiet or json_output))


# -- inputs ------------------------------------------------------------------------------------
def _checked(drill: Drill, config: ProjectConfig) -> None:
    """The definition against the project (as `respond validate` checks it): an error stops
    the drill before anything is recorded (exit 2, each at file:line:col); a warning is said."""
    from respond.cli.output import warn
    from respond.drills.loader import check_drill
    from respond.lab.state import FAULTS

    issues = check_drill(drill, config, faults=tuple(FAULTS))
    errors = [i for i in issues if i.is_error]
    if errors:
        raise DrillError(f"drill {drill.id}: not run", errors)
    for issue in issues:
        warn(str(issue).replace("warning: ", "", 1))


def _given_params(drill: Drill) -> dict[str, str | list[str]]:
    """The drill's params as a command line gives them (the runbook converts them)."""
    out: dict[str, str | list[str]] = {}
    for name, value in drill.params.items():
        if isinstance(value, list | tuple):
            out[name] = [_word(v) for v in value]
        elif value is not None:
            out[name] = _word(value)
    return out


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _project_path(config: ProjectConfig, given: str) -> Path:
    path = Path(given)
    return path if path.is_absolute() else config.root / path


def _drill_answers(config: ProjectConfig, drill: Drill, rb: Runbook) -> dict[str, Any]:
    """The drill's ``answers``: a file (relative to respond.yaml) or the same keys inline,
    checked as an answers file is."""
    from respond.cli.run import _load_answers

    if drill.answers is None:
        return {}
    if isinstance(drill.answers, str):
        return _load_answers(_project_path(config, drill.answers), rb)
    return _inline_answers(drill, rb)


def _inline_answers(drill: Drill, rb: Runbook) -> dict[str, Any]:
    import yaml

    from respond.cli.run import _answers_issues, _decisions
    from respond.errors import InvalidInput
    from respond.yamlfile import parse_yaml

    shown = f"{drill.source or drill.id} (answers)"
    text = yaml.safe_dump(drill.answers, allow_unicode=True, sort_keys=False)
    data, positions, issues = parse_yaml(text, shown)
    if not isinstance(data, dict):
        return {}
    issues = issues or _answers_issues(data, positions)
    if not issues:
        data, issues = _decisions(data, positions, {s.id for s in rb.steps if s.gated})
    if issues:
        raise InvalidInput(f"{shown}: invalid answers", issues)
    return {str(k): v for k, v in data.items()}


def _masked(value: Any, masker: Masker) -> Any:
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, dict):
        return {k: _masked(v, masker) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, masker) for v in value]
    return value


# -- the lab -----------------------------------------------------------------------------------
def lab_inventory(config: ProjectConfig, drill: Drill) -> Path:
    """The lab's inventory (the file `respond lab up` writes): the only one a lab drill runs
    against. Another is refused before anything is recorded (``DrillError``, exit 2)."""
    lab = (config.inventory_dir / "lab.yaml").resolve()
    if drill.inventory and _project_path(config, drill.inventory).resolve() != lab:
        raise DrillError(
            f"drill {drill.id}: lab drills run only against the lab's inventory "
            f"({_shown(config, lab)}), not {drill.inventory}"
        )
    return lab


def _lab_inventory_loaded(
    config: ProjectConfig, prepared: PreparedDrill
) -> tuple[Inventory | None, Path | None]:
    """The running lab's inventory, every host on loopback, checked against the runbook."""
    from respond.cli.run import _load_inventory, _preflight

    inventory, inv_path = _load_inventory(config, prepared.inventory_path, prepared.runbook)
    if inventory is not None:
        away = [
            f"{h.name} ({h.address})"
            for h in inventory.hosts.values()
            if not _is_loopback(h.address)
        ]
        if away:
            raise DrillError(
                f"drill {prepared.drill.id}: lab drills run only against the lab, on loopback; "
                f"inventory {_shown(config, inv_path)} has {', '.join(away)}"
            )
    _preflight(prepared.runbook, inventory, config, prepared.answers, prepared.params)
    return inventory, inv_path


def _is_loopback(address: str) -> bool:
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name: where it points is not known without asking a resolver


def _shown(config: ProjectConfig, path: Path | None) -> str:
    if path is None:
        return "(none)"
    try:
        return str(path.relative_to(config.root.resolve()))
    except ValueError:
        return str(path)


def _lab_up(config: ProjectConfig, prepared: PreparedDrill, say: Callable[[str], None]) -> bool:
    """Start the lab unless it runs; True when this drill started it."""
    from respond.lab import control

    assert prepared.inventory_path is not None
    if control.running_pid(control.paths_for(config.home)) is not None:
        return False
    say("starting the lab for the drill ...")
    _info, started = control.up(config.home, prepared.inventory_path)
    return started


def _lab_down(config: ProjectConfig, say: Callable[[str], None]) -> None:
    from respond.lab import control

    try:
        control.down(config.home)
    except RespondError as exc:
        say(f"the lab could not be stopped: {exc.message}")
        return
    say("the lab the drill started is stopped")


class _LabActions:
    """A drill's faults: injected once its run started (lab mode; else narrated), healed
    after. Each is recorded before it acts; a failure is recorded and shown."""

    def __init__(self, home: Path, drill: Drill, *, say: Callable[[str], None]) -> None:
        self.home = home
        self.drill = drill
        self.say = say

    def inject(self, journal: Journal) -> None:
        from respond.events import EventDraft, EventKind

        applied = self.drill.mode == "lab"
        for inject in self.drill.inject:
            data = _inject_data(inject, applied)
            journal.record(
                EventDraft(kind=EventKind.DRILL_INJECT, actor=journal.operator, data=data)
            )
            if not applied:
                self.say(f"drill: {inject.fault} {NARRATED}")
                continue
            try:
                said = _lab_inject(self.home, inject)
            except Exception as exc:
                why = _reason(exc)
                failed = {**data, "applied": False, "result": "failed", "error": why}
                journal.record(
                    EventDraft(kind=EventKind.DRILL_INJECT, actor=journal.operator, data=failed)
                )
                raise DrillError(
                    f"the lab fault {inject.fault} could not be injected: {why}"
                ) from exc
            self.say(f"lab: injected {inject.fault}: {said}")

    def heal(self, journal: Journal) -> None:
        """Heal the lab whatever happened to the run; a record that cannot be written does
        not keep the lab broken."""
        from respond.events import EventDraft, EventKind
        from respond.lab import control

        faults = [i.fault for i in self.drill.inject]
        data: dict[str, Any] = {"faults": faults, "result": "healing"}
        try:
            journal.record(EventDraft(kind=EventKind.DRILL_HEAL, actor=journal.operator, data=data))
        except RespondError as exc:
            self.say(f"the lab's heal could not be recorded: {exc.message}")
        try:
            healed = control.heal(self.home)
        except Exception as exc:
            why = _reason(exc)
            self.say(f"the lab could not be healed: {why}")
            failed = {**data, "result": "failed", "error": why}
            try:
                journal.record(
                    EventDraft(kind=EventKind.DRILL_HEAL, actor=journal.operator, data=failed)
                )
            except RespondError:
                pass  # said above; the record is what failed
            return
        self.say(f"lab: healed ({', '.join(healed) if healed else 'nothing was left to heal'})")


def _inject_data(inject: Inject, applied: bool) -> dict[str, Any]:
    from respond.lab.state import FAULTS

    known = FAULTS.get(inject.fault)
    return {
        "fault": inject.fault,
        "target": inject.target or (known[0] if known else None),
        "duration": inject.duration,
        "applied": applied,
        "result": (known[2] if known else "") if applied else NARRATED,
    }


def _lab_inject(home: Path, inject: Inject) -> str:
    from respond.lab import control

    return control.inject(
        home,
        inject.fault,
        duration=inject.duration,
        target=inject.target,
        params=dict(inject.params) or None,
    )


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, RespondError) else str(exc) or repr(exc)


def _sayer(quiet: bool) -> Callable[[str], None]:
    from respond.cli.output import info

    return (lambda _text: None) if quiet else info


# -- after -------------------------------------------------------------------------------------
def _outcome(app: AppContext, run_id: str | None) -> str | None:
    """The run's recorded outcome (its last run-finished event), None without one."""
    outcome = run_ending(app, run_id).get("outcome")
    return str(outcome) if outcome is not None else None


def run_ending(app: AppContext, run_id: str | None) -> dict[str, Any]:
    """The data of the run's last run-finished event (outcome, reason, ...); {} without one."""
    if run_id is None:
        return {}
    from respond.events import EventKind
    from respond.timeline import open_store

    events = open_store(app.config).events(run_id)
    finished = [e for e in events if e.kind == EventKind.RUN_FINISHED]
    return dict(finished[-1].data) if finished else {}


def error_text(exc: RespondError) -> str:
    """What the command line would print of ``exc``: its message (every issue) and hint."""
    text = str(exc) or exc.__class__.__name__
    hint = getattr(exc, "hint", None)
    return f"{text} (hint: {hint})" if hint else text
