"""The run loop: steps in order, each prepared, gated, fanned out and recorded.

The engine talks to the world only through step kinds and their executors, to people
through a ``Gatekeeper``, and to the record only through a ``Journal``; an event announcing
an action is durable before the action proceeds. What it does is announced to observers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from respond import kinds
from respond.clock import SYSTEM_CLOCK
from respond.durations import seconds
from respond.engine.deadlines import TOLD_TO_THE_RUN, DeadlineWatch, IncidentLink, clock_view
from respond.engine.drill import DRILL_MODES, step_action, walk_text
from respond.engine.escalation import Escalations
from respond.engine.expect import result_view
from respond.engine.fanout import FanOut, failed, step_status
from respond.engine.gates import Asker, Gatekeeper
from respond.engine.journal import Journal
from respond.engine.observer import Observers, RunObserver, StepSkip, StepStart
from respond.engine.prepare import (
    BadDuration,
    NoTargets,
    render_targets,
    resolve_durations,
    select_targets,
)
from respond.engine.variables import base_variables, host_variables, with_values
from respond.errors import GateRefused, LockLost, RecordUnwritable, RespondError, TemplateError
from respond.events import EventDraft, EventKind
from respond.executors import executor_class
from respond.executors.base import Executor, RunContext, utcnow
from respond.kinds.base import Rendered, RenderEnv
from respond.policy import SeverityClock
from respond.results import (
    HostResult,
    RunOutcome,
    RunResult,
    RunStatus,
    StepResult,
    StepStatus,
)
from respond.runbook.model import step_label

log = logging.getLogger("respond.engine")

if TYPE_CHECKING:
    from respond.clock import Clock
    from respond.engine.params import ResolvedParams
    from respond.engine.resume import ResumeState
    from respond.events import RunEvent
    from respond.inventory import Host, Inventory
    from respond.kinds.base import StepKind
    from respond.runbook.model import Runbook, Step
    from respond.runbook.templating import Templates
    from respond.secrets import Masker
    from respond.timeline.recorder import Recorder


@dataclass(kw_only=True)
class RunOptions:
    params: ResolvedParams
    severity: int
    operator: str
    assume_yes: bool = False
    answers: Mapping[str, Any] = field(default_factory=dict)
    drill: bool = False
    # None: not a drill; tabletop, simulate or lab (``drill=True`` alone means simulate)
    drill_mode: str | None = None
    drill_name: str | None = None  # the drill definition a drill run rehearses
    # called once RUN_STARTED is durable, before the first step (a lab drill's injects);
    # an exception fails the run before any step
    on_start: Callable[[Journal], None] | None = None
    severity_policy: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    default_channels: list[str] | None = None
    escalation_channels: list[str] | None = None
    # the incident the run works on (None: a drill, or an engine used without a record of
    # incidents): its deadlines are watched for the whole run, its escalations are the book's
    incident: IncidentLink | None = None
    clock: Clock = SYSTEM_CLOCK  # what "now" is for the incident's deadlines
    reported_by: str | None = None
    site: str | None = None
    # how a run whose steps all ran ends, decided from their results (an inspection: no-fault
    # when every check is OK, else unresolved); None, or it returning None: resolved
    verdict: Callable[[Sequence[StepResult]], tuple[RunOutcome, str] | None] | None = None

    def __post_init__(self) -> None:
        if self.drill_mode is None and self.drill:
            self.drill_mode = "simulate"
        if self.drill_mode is not None:
            if self.drill_mode not in DRILL_MODES:
                raise ValueError(f"unknown drill mode {self.drill_mode!r}")
            self.drill = True


class RerunUndecided(GateRefused):
    """A step may already have run on some hosts and nobody said whether to run it again."""


@dataclass
class _Ending:
    """How a run ends: its status (which gives the exit code), its outcome in words and
    why. Without an explicit outcome, the status decides it."""

    status: RunStatus
    message: str
    outcome: RunOutcome | None = None
    resumable: bool = False
    reason_text: str = ""
    finished_by: str | None = None  # the id of the finish step that ended the run

    @property
    def run_outcome(self) -> RunOutcome:
        if self.outcome is not None:
            return self.outcome
        return {
            RunStatus.SUCCEEDED: RunOutcome.RESOLVED,
            RunStatus.FAILED: RunOutcome.FAILED,
        }.get(self.status, RunOutcome.ABORTED)

    def reason(self, masker: Masker) -> str:
        """One line, masked: what the terminal, the record and reports say."""
        text = self.reason_text or self.message
        return " ".join(masker.mask(text).split())


class _Abort(Exception):
    """Stop the run after the current step with a status."""

    def __init__(self, status: RunStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RunEngine:
    def __init__(
        self,
        *,
        runbook: Runbook,
        inventory: Inventory | None,
        ctx: RunContext,
        recorder: Recorder,
        templates: Templates,
        options: RunOptions,
        asker: Asker,
        masker: Masker,
        observers: Sequence[RunObserver] = (),
        resume: ResumeState | None = None,
    ) -> None:
        self.runbook = runbook
        self.inventory = inventory
        self.ctx = ctx
        self.templates = templates
        self.options = options
        self.masker = masker
        self.observers = Observers(observers)
        self.resume = resume
        self.journal = Journal(recorder, masker, options.operator)
        self.gates = Gatekeeper(
            journal=self.journal,
            asker=asker,
            observers=self.observers,
            answers=options.answers,
            assume_yes=options.assume_yes,
        )
        self.incident = None if options.drill else options.incident
        # a context flagged as a drill by itself (an engine built without options for it)
        self.drill_mode = options.drill_mode or ("simulate" if ctx.drill else None)
        self.clock = SeverityClock(
            policy=options.severity_policy,
            # an incident's run works at the incident's level, which the caller read
            level=resume.severity if resume and self.incident is None else options.severity,
            started_at=resume.started_at if resume else utcnow(),
        )
        # The run's level is changed by the step thread (on_failure: escalate) and by the
        # deadline watcher; the lock also orders the watcher's writes before the run's end.
        self._level_lock = threading.Lock()
        self._closing = False  # the closing event is being written: the watcher writes no more
        self._watch_errors: set[str] = set()
        self._own_escalations: set[int] = set()  # the incident's events this run recorded
        self.watch = (
            DeadlineWatch(
                self.incident,
                options.clock,
                on_events=self._deadline_events,
                on_error=self._watch_failed,
            )
            if self.incident is not None
            else None
        )
        self.registered: dict[str, dict[str, dict[str, Any]]] = (
            dict(resume.registered) if resume else {}
        )
        # the values of set steps, by name: top-level variables of every later step
        self.values: dict[str, Any] = dict(resume.values) if resume else {}
        self.render_env = RenderEnv(
            templates=templates,
            playbooks_dir=ctx.playbooks_dir,
            inventory_path=ctx.inventory_path,
            params=options.params.values,
            default_channels=tuple(options.default_channels) if options.default_channels else None,
            drill_channels=ctx.drill_channels if self.drill_mode else None,
        )
        self._executors: dict[str, Executor] = {}
        self._executors_lock = threading.Lock()
        self.escalations = Escalations(
            runbook=runbook,
            run_id=ctx.run_id,
            clock=self.clock,
            journal=self.journal,
            observers=self.observers,
            executor_for=self._executor,
            channels=ctx.drill_channels or options.escalation_channels or options.default_channels,
        )
        self.fanout = FanOut(
            journal=self.journal,
            observers=self.observers,
            cancel=ctx.cancel,
            executor_for=self._executor,
            evaluate=templates.evaluate,
            scope=self._with_registered,
            project_root=templates.root,
        )
        ctx.ask = self.gates.ask
        ctx.progress = self.observers.progress
        ctx.masker = masker
        if ctx.run_check is None:
            ctx.run_check = self._run_check

    @property
    def severity(self) -> int:
        return self.clock.level

    # ----------------------------------------------------------------- run
    def run(self) -> RunResult:
        self.journal.record(self._opening_event())
        self.observers.run_started(
            self.ctx.run_id, self.runbook, self.severity, self.resume is not None
        )
        results: list[StepResult] = []
        try:
            self._start_watch()
            self._started()
            ending = self._steps(results)
        except _Abort as stop:
            ending = _Ending(stop.status, stop.message)
        except LockLost:
            # Another process drives the run now: act no further and record nothing (the
            # record refuses this process's writes anyway).
            self.ctx.cancel.set()
            raise
        except RecordUnwritable as unwritable:
            # Results are not on disk: stop before acting on anything else. The closing
            # event below is tried (the store may be back); if it fails, that surfaces.
            self.ctx.cancel.set()
            ending = _Ending(RunStatus.INTERRUPTED, str(unwritable))
        except GateRefused as refused:
            # nothing was done at the refused gate: `respond resume` offers it again
            ending = _Ending(RunStatus.ABORTED, str(refused), resumable=True)
        except KeyboardInterrupt:
            self.ctx.cancel.set()
            ending = _Ending(RunStatus.INTERRUPTED, "interrupted")
        except BaseException as exc:  # a bug: close the record, then let it surface
            self.ctx.cancel.set()
            self._stop_watch()
            self._close_executors()
            self.journal.record(
                self._closing_event(
                    _Ending(RunStatus.FAILED, f"internal error: {exc!r}", resumable=True),
                    elapsed=False,
                )
            )
            raise
        finally:
            self._stop_watch()
            self._close_executors()
        self.journal.record(self._closing_event(ending))
        run_result = RunResult(
            run_id=self.ctx.run_id,
            status=ending.status,
            steps=tuple(results),
            message=self.masker.mask(ending.message),
            outcome=ending.run_outcome,
            reason=ending.reason(self.masker),
            elapsed_s=self._elapsed(),
        )
        self.observers.run_finished(run_result)
        return run_result

    def _started(self) -> None:
        """The caller's start of a new run (a lab drill injects its faults): after the run's
        first event is durable, before any step; a failure fails the run."""
        on_start = self.options.on_start
        if on_start is None or self.resume is not None:
            return
        try:
            on_start(self.journal)
        except (LockLost, RecordUnwritable):
            raise
        except Exception as exc:
            said = exc.message if isinstance(exc, RespondError) else str(exc) or repr(exc)
            raise _Abort(RunStatus.FAILED, f"the drill could not start: {said}") from exc

    def _steps(self, results: list[StepResult]) -> _Ending:
        """Every step in order until the last, a ``finish``, or a failure that stops the run
        (``_Abort``); the run's ending when it was not stopped."""
        steps = self.runbook.steps
        total = len(steps)
        escalated: list[str] = []
        for index, step in enumerate(steps, start=1):
            if self.ctx.cancel.is_set():
                raise _Abort(RunStatus.INTERRUPTED, "interrupted")
            if self.resume and step.id in self.resume.finished:
                self.observers.step_skipped(
                    StepSkip(
                        step=step,
                        index=index,
                        total=total,
                        reason="already done before the interruption",
                        already_done=True,
                    )
                )
                ended = self._ended_before(step, index, results)
                if ended is not None:
                    return ended
                continue
            self._check_clock()
            result = self._run_step(step, index, total, self._base_vars())
            results.append(result)
            if result.status is not StepStatus.SKIPPED:  # a run of skips stays one line
                self._show_clocks()
            finish = self._finish_of(step, result)
            if finish is not None:
                self._skip_rest(step, index, results)
                return finish
            if self._stops_or_escalates(step, index, result):
                escalated.append(step.id)
        if escalated:
            reason = f"step(s) {', '.join(escalated)} failed and were escalated"
            return _Ending(
                RunStatus.FAILED,
                f"unresolved: {reason}",
                outcome=RunOutcome.UNRESOLVED,
                reason_text=reason,
            )
        return self._verdict(results) or _Ending(
            RunStatus.SUCCEEDED, "", reason_text="all steps done"
        )

    def _verdict(self, results: Sequence[StepResult]) -> _Ending | None:
        """The caller's verdict on a run whose steps all ran (``RunOptions.verdict``)."""
        if self.options.verdict is None:
            return None
        decided = self.options.verdict(results)
        if decided is None:
            return None
        outcome, reason = decided
        return _Ending(outcome.run_status, reason, outcome=outcome, reason_text=reason)

    def _ended_before(self, step: Step, index: int, results: list[StepResult]) -> _Ending | None:
        """Resumed after a crash that came after a ``finish`` step ran but before the run's
        closing event: the run ends as that step decided, and nothing after it runs."""
        ended = self.resume.ended_by if self.resume else None
        if ended is None or ended[0] != step.id:
            return None
        self._skip_rest(step, index, results)
        outcome = RunOutcome(ended[1])
        return _Ending(outcome.run_status, ended[2], outcome=outcome, finished_by=step.id)

    def _skip_rest(self, finish: Step, index: int, results: list[StepResult]) -> None:
        """The steps after a ``finish`` that ended the run, recorded as skipped (but not
        those a resumed run had already done)."""
        steps = self.runbook.steps
        reason = f"run finished at {step_label(index, finish.id)}"
        done = self.resume.finished if self.resume else set()
        for later, rest in enumerate(steps[index:], start=index + 1):
            if rest.id not in done:
                results.append(self._skip(rest, later, len(steps), utcnow(), reason))

    def _finish_of(self, step: Step, result: StepResult) -> _Ending | None:
        """The run's ending when ``step`` (a ``finish``) ended the run, else None."""
        if result.status is not StepStatus.OK:
            return None
        kind = kinds.get(step.kind)
        for hr in result.hosts:
            ends = kind.ends_run(hr)
            if ends is not None:
                outcome = RunOutcome(ends[0])
                return _Ending(outcome.run_status, ends[1], outcome=outcome, finished_by=step.id)
        return None

    def _stops_or_escalates(self, step: Step, index: int, result: StepResult) -> bool:
        """A failed step's ``on_failure``: go on, escalate (True) or stop the run."""
        if not (result.status.is_failure or result.status is StepStatus.CANCELLED):
            return False
        if self.ctx.cancel.is_set():
            raise _Abort(RunStatus.INTERRUPTED, "interrupted")
        if step.on_failure == "continue":
            return False
        label = step_label(index, step.id)
        why = f"{label} failed: {result.message.removeprefix(label + ' ')}"
        if step.on_failure == "escalate":
            self._escalate(why, step_id=step.id)
            return True
        raise _Abort(RunStatus.FAILED, why)

    def _elapsed(self) -> float:
        return round((utcnow() - self.clock.started_at).total_seconds(), 3)

    def _opening_event(self) -> EventDraft:
        rb = self.runbook
        if self.resume is not None:
            return EventDraft(
                kind=EventKind.RUN_RESUMED,
                actor=self.options.operator,
                data={
                    "completed_steps": sorted(self.resume.finished),
                    "in_flight": self.resume.in_flight,
                    "severity": self.severity,
                    "incident": self.incident.incident_id if self.incident else None,
                },
            )
        return EventDraft(
            kind=EventKind.RUN_STARTED,
            actor=self.options.operator,
            data={
                "runbook": rb.id,
                "version": rb.version,
                "title": rb.title,
                "scenario": rb.scenario,
                "sha256": rb.sha256,
                "params": self.options.params.redacted(),
                "severity": self.severity,
                "drill": self.ctx.drill or self.drill_mode is not None,
                "drill_mode": self.drill_mode,
                "drill_name": self.options.drill_name,
                # a drill's scorecard finds the diagnosis before the first gated step, and
                # a simulated gated step asks no gate: the record says which steps are gated
                "gated": [s.id for s in rb.steps if s.gated] if self.drill_mode else None,
                "inventory": str(self.ctx.inventory_path) if self.ctx.inventory_path else None,
                "clock": self.clock.limits(),
                "steps": [s.id for s in rb.steps],
                "incident": self.incident.incident_id if self.incident else None,
                "operator": self.options.operator,
                "reported_by": self.options.reported_by,
                "site": self.options.site,
            },
        )

    def _closing_event(self, ending: _Ending, *, elapsed: bool = True) -> EventDraft:
        data: dict[str, Any] = {
            "status": str(ending.status),
            "outcome": str(ending.run_outcome),
            "reason": ending.reason(self.masker),
            "message": self.masker.mask(ending.message),
            "severity": self.severity,
        }
        if ending.finished_by is not None:
            data["finished_by"] = ending.finished_by
        if elapsed:
            data["elapsed_s"] = self._elapsed()
        data["resumable"] = ending.resumable or ending.status is RunStatus.INTERRUPTED
        return EventDraft(kind=EventKind.RUN_FINISHED, actor=self.options.operator, data=data)

    # ----------------------------------------------------------------- one step
    def _run_step(self, step: Step, index: int, total: int, base: dict[str, Any]) -> StepResult:
        started = utcnow()
        kind = kinds.get(step.kind)
        action = step_action(step, self.drill_mode)
        if action == "walk":
            return self._walk(step, index, total, started, base)
        # resumed: the hosts this step already finished on stand, and are not repeated
        kept = dict(self.resume.kept.get(step.id, {})) if self.resume else {}
        unsure = list(self.resume.unsure.get(step.id, [])) if self.resume else []

        try:
            targets = select_targets(step, kind, base, self.templates, self.inventory)
        except NoTargets as exc:
            return self._no_targets(step, index, total, started, exc)
        except TemplateError as exc:
            return self._closed(step, index, total, started, str(exc))
        hosts = [h for h in targets.hosts if h.name not in kept]
        all_kept = bool(kept) and kind.on_hosts and not hosts

        skipped_hosts: list[str] = []
        if step.when and not all_kept:
            try:
                hosts, skipped_hosts, run_it = self._condition(step.when, hosts, base)
            except TemplateError as exc:
                return self._closed(step, index, total, started, str(exc))
            if not run_it:
                return self._skip(step, index, total, started, f"condition is false: {step.when}")

        drill_mode = action
        if drill_mode == "skip":
            return self._skip(step, index, total, started, "skipped in drills")
        try:
            step = resolve_durations(step, kind, base, self.templates, step_label(index, step.id))
        except BadDuration as exc:
            return self._closed(step, index, total, started, str(exc))

        # Render per target before asking anyone: a template error must not follow a gate.
        rendered: dict[str, Rendered | str] = {}
        if not all_kept:
            rendered = render_targets(
                step,
                kind,
                hosts,
                lambda h: self._host_vars(base, h) if h else base,
                self.render_env,
            )
            rendered = {n: r for n, r in rendered.items() if n not in kept}
        names = [h.name for h in hosts] if kind.one_run else list(rendered)
        rerun = [n for n in unsure if n in names]
        if rerun and not step.idempotent and drill_mode == "run":
            self._confirm_rerun(step, index, rerun)

        if drill_mode == "run" and step.gated and names:
            refused = self._gate(step, kind, index, base, hosts, rendered)
            if refused is not None:
                return self._skip(step, index, total, started, f"gate refused: {refused}")

        self.observers.step_started(
            StepStart(
                step=step,
                index=index,
                total=total,
                hosts=tuple(names),
                pattern=targets.pattern,
                drill_mode=drill_mode,
            )
        )
        self.journal.record(
            *self._intents(step, kind, rendered, names, skipped_hosts, drill_mode, bool(rerun))
        )

        if not names:
            host_results = []  # nothing left to do: the kept results decide
        elif drill_mode == "simulate":
            host_results = self._simulate(step, kind, rendered, started)
        else:
            host_results = self._act(step, kind, rendered, hosts)
        return self._finished(step, kind, started, [*kept.values(), *host_results], skipped_hosts)

    def _gate(
        self,
        step: Step,
        kind: StepKind,
        index: int,
        base: dict[str, Any],
        hosts: list[Host],
        rendered: dict[str, Rendered | str],
    ) -> str | None:
        """A gated step goes on only once confirmed. A refusal stops the run (exit 3, and
        `respond resume` offers the gate again) or, with ``on_refuse: skip``, gives the gate's
        text: the step is skipped and the run goes on."""
        text = (
            self.templates.render_text(step.confirm, base)
            if step.confirm
            else kind.default_gate_text(step, [h.name for h in hosts])
        )
        return self._decide_gate(step, index, text, self._preview(kind, rendered))

    def _decide_gate(self, step: Step, index: int, text: str, preview: list[str]) -> str | None:
        """The gate asked and recorded: None when confirmed, the gate's text when refused with
        ``on_refuse: skip``; else a refusal stops the run (``GateRefused``)."""
        again = f"; `respond resume {self.ctx.run_id}` offers the gate again"
        try:
            confirmed = self.gates.confirm(step, text, preview=preview)
        except GateRefused as unanswered:  # nobody could answer (unattended)
            if step.on_refuse == "skip":
                return str(self.masker.mask(text))
            said = str(unanswered)
            raise GateRefused(said if "respond resume" in said else said + again) from None
        if confirmed:
            return None
        if step.on_refuse == "skip":
            return str(self.masker.mask(text))
        raise GateRefused(f"gate refused at {step_label(index, step.id)}: {text}{again}")

    def _finished(
        self,
        step: Step,
        kind: StepKind,
        started: datetime,
        host_results: list[HostResult],
        skipped_hosts: list[str],
    ) -> StepResult:
        """The step's verdict from every host's result, registered, recorded and reported."""
        status, message = step_status(step, host_results, cancelled=self.ctx.cancel.is_set())
        result = StepResult(
            step_id=step.id,
            status=status,
            hosts=tuple(host_results),
            started_at=started,
            ended_at=utcnow(),
            message=message,
        )
        if step.register:
            self._register(step, kind, host_results, skipped_hosts)
        for hr in host_results:
            self.values.update(kind.bound_values(hr))
        self.journal.record(self.journal.step_finished(step, result), defer=True)
        self.observers.step_finished(step, result)
        return result

    def _confirm_rerun(self, step: Step, index: int, hosts: list[str]) -> None:
        """A step that may already have run on ``hosts`` runs there again only if a person
        (or the answers file's ``rerun:``) says so; ``--yes`` does not answer this."""
        label = step_label(index, step.id)
        where = ", ".join(hosts)
        question = (
            f"{label} may already have run on {where} when the run stopped "
            "(its outcome is unknown). Run it again there?"
        )
        try:
            again = self.gates.confirm(step, question, question="rerun")
        except GateRefused as exc:
            raise RerunUndecided(
                f"{label} may already have run on {where} (outcome unknown) and is not "
                f"idempotent: not run again without a decision. Decide with "
                f"'rerun: {{{step.id}: yes}}' (or no) in an answers file "
                f"(respond resume {self.ctx.run_id} --answers FILE), or resume at a terminal"
            ) from exc
        if not again:
            raise GateRefused(f"not re-running {label} on {where}; run left aborted")

    def _condition(
        self, when: str, hosts: list[Host], base: dict[str, Any]
    ) -> tuple[list[Host], list[str], bool]:
        """``when`` decided per host (hosts kept, names skipped) or once for a step on the
        control host; the last item says whether the step runs at all."""
        if not hosts:
            return hosts, [], self._truthy(when, base)
        keep = [h for h in hosts if self._truthy(when, self._host_vars(base, h))]
        skipped = [h.name for h in hosts if h not in keep]
        return keep, skipped, bool(keep)

    # ----------------------------------------------------------------- tabletop
    def _walk(
        self, step: Step, index: int, total: int, started: datetime, base: dict[str, Any]
    ) -> StepResult:
        """A tabletop step: nothing executes. Its gate is asked and a manual step's prompt
        too, as in a real run; then the people mark it done, or skipped with a reason."""
        kind = kinds.get(step.kind)
        text = self.masker.mask(walk_text(step))
        names = self._walk_hosts(step, kind, base)
        if step.gated:
            gate_text = self._unrendered(step.confirm, base) if step.confirm else text
            refused = self._decide_gate(step, index, gate_text, [text])
            if refused is not None:
                return self._skip(step, index, total, started, f"gate refused: {refused}")
        pattern = step.targets if kind.on_hosts else None
        self.observers.step_started(
            StepStart(
                step=step,
                index=index,
                total=total,
                hosts=tuple(names),
                pattern=pattern,
                drill_mode="tabletop",
            )
        )
        self.journal.record(self._walk_started(step, names, text))
        try:
            if step.kind == "manual":
                prompt = self._unrendered(str(step.prompt or ""), base)
                self.gates.ask(step.id, prompt, list(step.choices) if step.choices else None)
            done, reason, source = self.gates.walk(step, text)
        except GateRefused as refused:
            # nothing was walked: the step is closed, `respond resume` asks again
            self.journal.record(
                self.journal.step_cancelled(step, StepStatus.CANCELLED, str(refused))
            )
            raise
        if step.register:
            self.registered[step.register] = {}
        if not done:
            return self._skip(step, index, total, started, reason, walked_by=source)
        return self._walked(step, started, source)

    def _walk_started(self, step: Step, names: list[str], text: str) -> EventDraft:
        return self._started_draft(step, names, [], "tabletop", False, text=text)

    def _started_draft(
        self,
        step: Step,
        names: list[str],
        skipped_hosts: list[str],
        drill_mode: str,
        rerun: bool,
        **extra: Any,
    ) -> EventDraft:
        return EventDraft(
            kind=EventKind.STEP_STARTED,
            actor=self.options.operator,
            step_id=step.id,
            data={
                "name": step.name,
                "kind": step.kind,
                "targets": step.targets,
                "hosts": names,
                "skipped_hosts": skipped_hosts,
                "drill_mode": drill_mode,
                "rerun": rerun,
                **extra,
            },
        )

    def _walked(self, step: Step, started: datetime, source: str) -> StepResult:
        result = StepResult(
            step_id=step.id,
            status=StepStatus.SIMULATED,
            started_at=started,
            ended_at=utcnow(),
            message="walked: done",
        )
        finished = self.journal.step_finished(step, result)
        finished.data.update({"walked": "done", "by": source})
        self.journal.record(finished)
        self.observers.step_finished(step, result)
        return result

    def _walk_hosts(self, step: Step, kind: StepKind, base: dict[str, Any]) -> list[str]:
        """The hosts a walked step would act on, when its targets need no earlier result."""
        if not kind.on_hosts or not step.targets:
            return []
        try:
            targets = select_targets(step, kind, base, self.templates, self.inventory)
        except (NoTargets, RespondError):
            return []
        return [h.name for h in targets.hosts]

    def _unrendered(self, text: str, base: dict[str, Any]) -> str:
        """``text`` rendered with the run's own variables when it needs nothing more (a
        tabletop drill has no results to render with), else as the runbook writes it."""
        try:
            return str(self.templates.render_text(text, base))
        except RespondError:
            return text

    def _simulate(
        self, step: Step, kind: StepKind, rendered: dict[str, Rendered | str], started: datetime
    ) -> list[HostResult]:
        """A drill's simulated step: recorded with what it would have sent, never sent."""
        results = [
            HostResult(
                host=name,
                status=StepStatus.SIMULATED,
                started_at=started,
                ended_at=utcnow(),
                output="simulated (drill): " + "; ".join(kind.actions(r))
                if isinstance(r, Rendered)
                else str(r),
            )
            for name, r in rendered.items()
        ]
        self.journal.record(*[self.journal.host_event(step, hr) for hr in results], defer=True)
        return results

    def _act(
        self, step: Step, kind: StepKind, rendered: dict[str, Rendered | str], hosts: list[Host]
    ) -> list[HostResult]:
        """The step on its targets, and the notices it sent recorded one per channel."""
        try:
            results = self.fanout.run(step, kind, rendered, {h.name: h for h in hosts})
        except GateRefused as refused:
            # Nothing was done (a prompt went unanswered): close the step so that
            # `respond resume` simply asks again instead of treating it as in flight.
            self.journal.record(
                self.journal.step_cancelled(step, StepStatus.CANCELLED, str(refused))
            )
            raise
        for hr in results:
            subject, attempts = kind.notifications(hr)
            if attempts:
                self.journal.record(
                    *self.journal.notifications(step.id, subject, attempts, escalation=False)
                )
        return results

    def _intents(
        self,
        step: Step,
        kind: StepKind,
        rendered: dict[str, Rendered | str],
        names: list[str],
        skipped_hosts: list[str],
        drill_mode: str,
        rerun: bool,
    ) -> list[EventDraft]:
        """step-started, then (when acting) one intent per target: durable before any action."""
        drafts = [self._started_draft(step, names, skipped_hosts, drill_mode, rerun)]
        if drill_mode != "run":
            return drafts
        if kind.one_run:
            only = next(iter(rendered.values()))
            per_target = [(name, only) for name in names]
        else:
            per_target = list(rendered.items())
        for name, r in per_target:
            actions: Any = "<no_log>"
            if not step.no_log:
                actions = kind.actions(r) if isinstance(r, Rendered) else []
            drafts.append(
                EventDraft(
                    kind=EventKind.HOST_INTENT,
                    step_id=step.id,
                    host=name,
                    data={"attempt": 1, "commands": actions},
                )
            )
        return drafts

    def _register(
        self, step: Step, kind: StepKind, results: list[HostResult], skipped_hosts: list[str]
    ) -> None:
        assert step.register is not None
        views = {hr.host: result_view(hr, kind) for hr in results}
        for name in skipped_hosts:
            views[name] = {
                "host": name,
                "status": "skipped",
                "skipped": True,
                "ok": False,
                "failed": False,
            }
        self.registered[step.register] = views

    def _closed(
        self, step: Step, index: int, total: int, started: datetime, message: str
    ) -> StepResult:
        """The step failed before it could act on anything (no target, a broken template)."""
        message = self.masker.mask(message)
        self.journal.record(*self.journal.step_closed(step, StepStatus.FAILED, message))
        self.observers.step_started(
            StepStart(
                step=step,
                index=index,
                total=total,
                hosts=(),
                pattern=None,
                drill_mode="run",
            )
        )
        result = StepResult(
            step_id=step.id,
            status=StepStatus.FAILED,
            started_at=started,
            ended_at=utcnow(),
            message=message,
        )
        self.observers.step_finished(step, result)
        return result

    def _no_targets(
        self, step: Step, index: int, total: int, started: datetime, exc: NoTargets
    ) -> StepResult:
        """Targets that came out empty at run time (from an earlier step's result): the
        step fails, or is skipped when it says ``allow_empty: true``."""
        if step.allow_empty and exc.pattern is not None:
            reason = f"no host matched {exc.pattern!r}"
            return self._skip(step, index, total, started, reason)
        return self._closed(step, index, total, started, str(exc))

    def _skip(
        self,
        step: Step,
        index: int,
        total: int,
        started: datetime,
        reason: str,
        *,
        walked_by: str | None = None,
    ) -> StepResult:
        data: dict[str, Any] = {"name": step.name, "reason": reason}
        if walked_by is not None:  # a tabletop step the people skipped
            data.update({"walked": "skip", "by": walked_by})
        self.journal.record(EventDraft(kind=EventKind.STEP_SKIPPED, step_id=step.id, data=data))
        if step.register:
            self.registered[step.register] = {}
        shown = reason or ("walked: skipped without a reason" if walked_by else reason)
        self.observers.step_skipped(StepSkip(step=step, index=index, total=total, reason=shown))
        return StepResult(
            step_id=step.id,
            status=StepStatus.SKIPPED,
            started_at=started,
            ended_at=utcnow(),
            message=reason,
        )

    def _preview(self, kind: StepKind, rendered: Mapping[str, Rendered | str]) -> list[str]:
        lines = [
            f"{name}: {self.masker.mask(c)}"
            for name, r in rendered.items()
            if isinstance(r, Rendered)
            for c in kind.actions(r)
        ]
        return lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])

    # ----------------------------------------------------------------- variables
    def _truthy(self, expression: str, variables: Mapping[str, Any]) -> bool:
        return bool(self.templates.evaluate(expression, self._with_registered(variables, None)))

    def _base_vars(self) -> dict[str, Any]:
        variables = base_variables(
            runbook=self.runbook,
            params=self.options.params.values,
            run_id=self.ctx.run_id,
            severity=self.severity,
            drill=self.ctx.drill,
            operator=self.options.operator,
            inventory=self.inventory,
            now=utcnow().isoformat(),
        )
        return self._with_registered(with_values(variables, self.values), None)

    def _with_registered(self, variables: Mapping[str, Any], host: str | None) -> dict[str, Any]:
        from respond.runbook.templating import Registered

        out = dict(variables)
        for name, per_host in self.registered.items():
            out[name] = Registered(per_host, host)
        return out

    def _host_vars(self, base: Mapping[str, Any], host: Host) -> dict[str, Any]:
        variables = with_values(host_variables(base, host), self.values)
        return self._with_registered(variables, host.name)

    # ----------------------------------------------------------------- executors
    def _executor(self, kind: str) -> Executor:
        with self._executors_lock:
            ex = self._executors.get(kind)
            if ex is None:
                ex = executor_class(kind)(self.ctx)
                self._executors[kind] = ex
            return ex

    def _close_executors(self) -> None:
        for ex in self._executors.values():
            try:
                ex.close()
            except Exception:  # closing a connection that already broke is not news
                pass
        self._executors.clear()

    def _run_check(self, check: Step, variables: Mapping[str, Any], timeout: float) -> HostResult:
        """A wait step's check, once: on its targets in turn (the first failure ends it)."""
        kind = kinds.get(check.kind)
        started = utcnow()
        try:
            targets = select_targets(check, kind, dict(variables), self.templates, self.inventory)
        except (TemplateError, NoTargets) as exc:
            return failed("*", f"check: {exc}", started)
        try:
            check = resolve_durations(check, kind, dict(variables), self.templates, "check")
        except BadDuration as exc:
            return failed("*", str(exc), started)
        hosts = list(targets.hosts)
        executor = self._executor(check.kind)
        limit = min(timeout, seconds(check.timeout) if check.timeout else timeout)
        last: HostResult | None = None
        each: list[Host | None] = list(hosts) or [None]
        for target in each:
            scope = self._host_vars(variables, target) if target is not None else dict(variables)
            # a check that cannot be rendered will not render later either: the step fails
            rendered = kind.render(check, scope, hosts, self.render_env)
            hr = executor.run(check, target, rendered, limit)
            hr = self.fanout.judge(check, kind, hr, scope, target.name if target else None)
            if hr.status is not StepStatus.OK:
                return hr
            last = hr
        assert last is not None
        return last

    # ----------------------------------------------------------------- severity
    def _check_clock(self) -> None:
        """A drill's clock, read between steps (an incident's is watched all the time)."""
        if self.incident is not None:
            return
        reason = self.clock.overdue(utcnow())
        if reason is not None:
            self._escalate(reason, automatic=True)

    def _escalate(
        self, reason: str, *, automatic: bool = False, step_id: str | None = None
    ) -> None:
        if self.incident is not None:
            self._escalate_incident(reason, step_id=step_id)
            return
        with self._level_lock:
            self.escalations.escalate(
                reason, automatic=automatic, step_id=step_id, variables=self._base_vars()
            )

    def _escalate_incident(self, reason: str, *, step_id: str | None) -> None:
        """``on_failure: escalate`` of a run on an incident: the incident goes one level up
        (its book records it and tells that level's people), and the run records it too."""
        assert self.incident is not None
        with self._level_lock:
            event = self.incident.book.escalate(
                self.incident.incident_id,
                reason=self.masker.mask(reason),
                by=self.options.operator,
                run_id=self.ctx.run_id,
                step_id=step_id,
            )
            if event is None:  # level 1: nothing above; the run's outcome says the rest
                self.observers.progress("already at level 1: no level above to escalate to")
                return
            self._own_escalations.add(event.seq)  # the watcher will see it: not twice
            self._record_escalation(event, automatic=False, actor=self.options.operator)
        if self.watch is not None:
            self.watch.poke()  # the new level has its own restore deadline
        self._show_clocks()

    def _record_escalation(self, event: RunEvent, *, automatic: bool, actor: str) -> None:
        """An escalation of the incident, in the run's record and on its level (the caller
        holds the level lock)."""
        data = event.data
        old, new = int(data["from"]), int(data["to"])
        self.clock.level = min(self.clock.level, new)
        self.journal.record(
            EventDraft(
                kind=EventKind.ESCALATED,
                actor=actor,
                step_id=event.step_id or data.get("step_id"),
                data={
                    "incident": event.run_id,
                    "automatic": automatic,
                    "reason": self.masker.mask(str(data.get("reason") or "")),
                    "from": old,
                    "to": new,
                    "at": data.get("at"),
                    "deadline": data.get("deadline"),
                    "clock": self.clock.limits(new),
                },
            )
        )
        self.observers.severity_changed(old, new, str(data.get("reason") or ""))

    # ----------------------------------------------------------------- the incident's clocks
    def _start_watch(self) -> None:
        """Before the first step: what passed while no process watched (a resumed run, a
        late start) is recorded now, then the watcher takes over."""
        if self.watch is None:
            return
        told: list[RunEvent] = []
        try:
            self.watch.begin()
            told = [e for e in self.watch.check() if e.kind in TOLD_TO_THE_RUN]
        except LockLost:
            raise
        except Exception as exc:
            self._watch_failed(exc)
        if not told:  # else the clocks were shown with what was told
            self._show_clocks()
        self.watch.start()

    def _stop_watch(self) -> None:
        """No incident event reaches the run after this: the run is closing."""
        with self._level_lock:
            self._closing = True
        if self.watch is not None:
            self.watch.stop()

    def _deadline_events(self, events: list[RunEvent]) -> None:
        """What the book recorded at a deadline, in the run's record too (watcher thread)."""
        with self._level_lock:
            if self._closing:
                return
            for event in events:
                if event.seq in self._own_escalations:
                    continue
                if event.kind == EventKind.ESCALATED:
                    automatic = bool(event.data.get("automatic", True))
                    self._record_escalation(event, automatic=automatic, actor=event.actor)
                elif event.kind == EventKind.DEADLINE_MISSED:
                    self._record_missed(event)
        self._show_clocks()

    def _record_missed(self, event: RunEvent) -> None:
        data = event.data
        clock, level, due = str(data.get("clock")), int(data.get("level") or 0), data.get("due")
        self.journal.record(
            EventDraft(
                kind=EventKind.DEADLINE_MISSED,
                data={"incident": event.run_id, "clock": clock, "level": level, "due": due},
            )
        )
        self.observers.deadline_missed(clock, level, str(due or ""))

    def _watch_failed(self, exc: Exception) -> bool:
        """A deadline check that failed: said once per kind of failure; the watcher stops
        only when the run itself belongs to another process now."""
        if isinstance(exc, LockLost):
            return True
        text = f"{type(exc).__name__}: {self.masker.mask(str(exc))}"
        if text not in self._watch_errors:
            self._watch_errors.add(text)
            self.observers.progress(f"the incident's deadlines could not be checked ({text})")
        return False

    def _show_clocks(self) -> None:
        if self.incident is None:
            return
        try:
            summary = self.incident.book.state(self.incident.incident_id).summary()
        except Exception as exc:  # the display only: the watcher reports real failures
            log.debug("incident clocks unavailable: %s", exc)
            return
        self.observers.clocks(clock_view(summary, self.options.clock.now()))
