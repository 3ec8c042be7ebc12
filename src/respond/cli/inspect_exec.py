"""Running one inspection: compiled into a runbook of ``check`` steps and driven through
``respond run``'s own machinery (inventory and lab checks, masker, record, lock, engine,
progress), recorded as an inspection run, never an incident.

The run ends ``no-fault`` when every result is OK and ``unresolved`` otherwise (the engine's
verdict hook). Afterwards the ``on_critical`` rules act on the CRITICAL results and the
definition's reports are written. ``respond inspect run`` and the periodic job
(``respond.schedule.inspections``) both call ``execute_inspection``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import RespondError

if TYPE_CHECKING:
    from respond.cli import AppContext
    from respond.cli.inspect_actions import ActionTaken
    from respond.inspections.model import Inspection
    from respond.results import RunOutcome, StepResult
    from respond.runbook import Runbook

NOT_OK = ("WARNING", "CRITICAL", "UNKNOWN")


@dataclasses.dataclass(frozen=True)
class InspectionRun:
    """How an inspection run went: its run (None when none could start), exit code, outcome,
    the error that stopped it (None: it ran to its end), every result (one dict per host and
    check: host, check_id, check, title, and the ``CheckResult`` fields), and the actions
    its ``on_critical`` rules took."""

    run_id: str | None
    exit_code: int
    outcome: str | None
    error: str | None
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    actions: list[ActionTaken] = dataclasses.field(default_factory=list)
    # what stopped the run from starting or finishing, for a caller that reports it itself
    exception: RespondError | None = dataclasses.field(default=None, repr=False, compare=False)

    def counts(self) -> dict[str, int]:
        counts = {"OK": 0, "WARNING": 0, "CRITICAL": 0, "UNKNOWN": 0}
        for result in self.results:
            counts[str(result["state"])] = counts.get(str(result["state"]), 0) + 1
        return counts


@dataclasses.dataclass
class _Prepared:
    runbook: Runbook
    inventory: Any
    inventory_path: Path | None
    params: Any
    operator: str


def execute_inspection(
    app: AppContext,
    inspection: Inspection,
    *,
    inventory_path: Path | None = None,
    occurrence: str | None = None,
    unattended: bool = False,
    quiet: bool = False,
    json_output: bool = False,
    actions: bool = True,
    report_to: Path | None = None,
) -> InspectionRun:
    """Run ``inspection`` now and take its ``on_critical`` actions (unless ``actions`` is
    False). ``occurrence``: the scheduled occurrence (ISO UTC) the run takes on, recorded in
    its meta. ``unattended``: nobody is asked (a rule's runbook run refuses its gates).
    ``quiet``/``json_output``: no progress lines. A run that could not start (bad input, the
    lab down) comes back with its error and exit code, never raised."""
    say = _sayer(quiet or json_output)
    created: list[str] = []  # the run's id as soon as it exists (an error may come later)
    try:
        prepared = prepare_inspection(app, inspection, inventory_path)
        run_id, result = _run(app, inspection, prepared, occurrence, quiet or json_output, created)
    except RespondError as exc:
        started = created[0] if created else None
        return InspectionRun(started, exc.exit_code, None, error_text(exc), exception=exc)
    results = check_results(result.steps, inspection)
    taken: list[ActionTaken] = []
    if actions and inspection.on_critical:
        from respond.cli.inspect_actions import on_critical

        taken = on_critical(app, inspection, run_id, results, unattended=unattended, say=say)
    folder = report_to or _report_folder(app, inspection)
    if folder is not None:
        formats = inspection.report.formats if inspection.report else ("html",)
        write_reports(app, run_id, formats, folder, say)
    return InspectionRun(
        run_id,
        int(result.status.exit_code),
        str(result.outcome),
        None,
        results,
        taken,
    )


def prepare_inspection(
    app: AppContext, inspection: Inspection, inventory_path: Path | None
) -> _Prepared:
    """The compiled runbook and the inventory (``-i``, else the inspection's, else the
    project's default), checked before anything is recorded: the lab is running when it
    is the lab's inventory, and every check's targets match hosts."""
    from respond.cli.run import _load_inventory, _preflight
    from respond.config import operator_name
    from respond.engine.params import resolve_params
    from respond.inspections.compile import compile_inspection

    config = app.config
    rb = compile_inspection(inspection)
    given = inventory_path
    if given is None and inspection.inventory is not None:
        given = config.root / inspection.inventory
    inventory, inv_path = _load_inventory(config, given, rb)
    params = resolve_params(rb, {})
    _preflight(rb, inventory, config, {}, params)
    return _Prepared(rb, inventory, inv_path, params, operator_name(config, None))


def _run(
    app: AppContext,
    inspection: Inspection,
    prepared: _Prepared,
    occurrence: str | None,
    quiet: bool,
    created: list[str],
) -> tuple[str, Any]:
    """The run created (its id added to ``created``), held and driven to its end: (run id,
    the engine's result)."""
    from respond.cli import run as run_cli
    from respond.cli.output import err
    from respond.cli.progress import ConsoleProgress, UnattendedAsker
    from respond.engine import RunEngine
    from respond.runbook.templating import Templates
    from respond.timeline import open_store

    config = app.config
    store = open_store(config)
    rb = prepared.runbook
    masker = run_cli._run_masker(store, prepared.params, prepared.inventory)
    console = err()
    progress = ConsoleProgress(console, masker, quiet=quiet)
    run_id = run_cli._create_run(
        store,
        rb,
        prepared.inventory,
        prepared.inventory_path,
        prepared.params,
        masker,
        prepared.operator,
        level=rb.severity,
        drill=False,
        extra={"inspection": inspection_meta(inspection, occurrence)},
    )
    created.append(run_id)
    with store.lock(run_id, prepared.operator) as lock:
        templates = Templates(config.root)
        ctx = run_cli._run_context(
            config, run_id, prepared.inventory_path, masker, templates, drill=False
        )
        options = run_cli._run_options(
            config,
            prepared.params,
            rb.severity,
            prepared.operator,
            assume_yes=False,
            answers={},
            drill=False,
        )
        options.verdict = verdict
        engine = RunEngine(
            runbook=rb,
            inventory=prepared.inventory,
            ctx=ctx,
            recorder=store.recorder(run_id, masker, lock=lock),
            templates=templates,
            options=options,
            asker=UnattendedAsker(rb),  # an inspection has no gates nor prompts
            masker=masker,
            observers=[progress],
        )
        with run_cli._sigterm_cancels(ctx):
            result = run_cli._drive(engine, ctx)
    return run_id, result


def inspection_meta(inspection: Inspection, occurrence: str | None) -> dict[str, Any]:
    """What the run record says of the inspection (``meta["inspection"]``)."""
    return {
        "name": inspection.id,
        "version": inspection.version,
        "sha256": inspection.sha256,
        "title": inspection.title,
        "occurrence": occurrence,
        "checks": inspection.checks_meta(),
    }


def verdict(steps: Sequence[StepResult]) -> tuple[RunOutcome, str]:
    """no-fault when every check on every host is OK; unresolved otherwise, saying how many
    results are not OK (and failed readings count: they are UNKNOWN)."""
    from respond.results import RunOutcome

    states = [_state_of(hr) for step in steps for hr in step.hosts]
    bad = [s for s in states if s != "OK"]
    if not bad:
        return RunOutcome.NO_FAULT, f"every check OK ({len(states)} results)"
    counts = ", ".join(f"{bad.count(s)} {s}" for s in NOT_OK if s in bad)
    return RunOutcome.UNRESOLVED, f"problems found: {counts} of {len(states)} results"


def _state_of(host_result: Any) -> str:
    data = host_result.data.get("check") if isinstance(host_result.data, dict) else None
    if isinstance(data, dict) and data.get("state") in ("OK", *NOT_OK):
        return str(data["state"])
    return "UNKNOWN"


def check_results(steps: Sequence[StepResult], inspection: Inspection) -> list[dict[str, Any]]:
    """One dict per host and check, by host then check order: host, check_id, check, title,
    status (the step's on that host), at (ISO UTC) and the ``CheckResult`` fields. A host whose reading
    left no graded result is UNKNOWN with the step's error."""
    from respond.inspections.compile import check_title

    order = {c.id: i for i, c in enumerate(inspection.checks)}
    out: list[dict[str, Any]] = []
    for step in steps:
        check = inspection.check(step.step_id)
        if check is None:
            continue
        for hr in step.hosts:
            graded = hr.data.get("check") if isinstance(hr.data, dict) else None
            if not isinstance(graded, dict) or graded.get("state") not in ("OK", *NOT_OK):
                graded = _ungraded(check.check, hr)
            row = {
                "host": hr.host,
                "check_id": check.id,
                "check": check.check,
                "title": check_title(check),
                "status": str(hr.status),
                "at": hr.ended_at.isoformat(),  # when the finding was made (UTC)
                **{k: v for k, v in graded.items() if k not in ("id", "name")},
            }
            out.append(row)
    out.sort(key=lambda r: (str(r["host"]), order.get(str(r["check_id"]), 0)))
    return out


def _ungraded(name: str, host_result: Any) -> dict[str, Any]:
    from respond.checks.result import unknown

    why = host_result.error or str(host_result.status)
    return unknown(f"{name.upper()} UNKNOWN - {why}").to_dict()


# ---------------------------------------------------------------------------------------------
# reports


def _report_folder(app: AppContext, inspection: Inspection) -> Path | None:
    if inspection.report is None:
        return None
    folder = Path(inspection.report.to)
    return folder if folder.is_absolute() else app.config.root / folder


def write_reports(
    app: AppContext,
    run_id: str,
    formats: Sequence[str],
    folder: Path,
    say: Callable[[str], None],
) -> list[Path]:
    """The run's report in each format, as ``respond inspect report RUN_ID --format F -o
    FOLDER/RUN_ID.F`` writes it; a format that cannot be written is said, not raised."""
    from respond.cli.inspect_report import render_report, report_document
    from respond.timeline import open_store

    try:
        with open_store(app.config) as store:
            doc = report_document(store, app.config, run_id)
    except Exception as exc:  # the run is recorded; a report that cannot be made is said
        say(f"reports: not written: {error_text(exc)}")
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        path = folder / f"{run_id}.{fmt}"
        try:
            body = render_report(doc, fmt)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
        except Exception as exc:  # one format failing never loses the others
            say(f"report {fmt}: not written: {error_text(exc)}")
            continue
        written.append(path)
        say(f"report: {path}")
    return written


def error_text(exc: BaseException) -> str:
    """One line for a failure (the first issue of a file's problems)."""
    issues = getattr(exc, "issues", None)
    if issues:
        return str(issues[0])
    message = getattr(exc, "message", None)
    return str(message or exc)


def _sayer(quiet: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if not quiet:
            from respond.cli.output import err

            err().print(text, markup=False, highlight=False)

    return say
