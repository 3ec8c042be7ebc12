"""The run engine: ordering, conditions, gates, fan-out, retries, drills, severity clock, resume.

It talks to the world only through executors (looked up in the registry) and to the
record only through a ``Recorder``; an event announcing an action is durable before the
action proceeds (RELIABILITY rule 1).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from respond.engine.expect import check_expect, result_view
from respond.engine.observer import Observers, RunObserver, StepSkip, StepStart
from respond.engine.render import actions, render_step
from respond.engine.variables import base_variables, host_variables
from respond.errors import GateRefused, RespondError, TemplateError
from respond.events import EventDraft, EventKind
from respond.executors import HOST_KINDS, executor_class
from respond.executors.base import Executor, Rendered, RunContext, utcnow
from respond.results import CommandResult, HostResult, RunResult, RunStatus, StepResult, StepStatus

if TYPE_CHECKING:
    from respond.engine.params import ResolvedParams
    from respond.engine.resume import ResumeState
    from respond.inventory import Host, Inventory
    from respond.runbook.model import Runbook, Step
    from respond.runbook.templating import Templates
    from respond.secrets import Masker
    from respond.timeline.recorder import Recorder

DEFAULT_TIMEOUTS = {
    "ssh": 60.0,
    "netmiko": 60.0,
    "ansible": 1800.0,
    "local": 60.0,
    "http": 10.0,
    "wait": 600.0,
    "manual": 0.0,
    "notify": 30.0,
}
DEFAULT_CONCURRENCY = 100
BATCH_WINDOW_S = 0.02
EVENT_OUTPUT_LIMIT = 64 * 1024  # larger outputs go to a content-addressed artifact
OPERATOR_KINDS = frozenset({"manual", "notify", "wait", "local", "http"})


class Asker(Protocol):
    """How the engine reaches a human. Implementations may raise GateRefused."""

    def confirm(self, step_id: str, text: str) -> bool: ...

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str: ...


@dataclass(kw_only=True)
class RunOptions:
    params: ResolvedParams
    severity: int
    operator: str
    assume_yes: bool = False
    answers: Mapping[str, Any] = field(default_factory=dict)
    drill: bool = False
    severity_policy: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    default_channels: list[str] | None = None
    escalation_channels: list[str] | None = None


class _Abort(Exception):
    """Internal: stop the run after the current step with a status."""

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
        observers: list[RunObserver] | None = None,
        resume: ResumeState | None = None,
    ) -> None:
        self.runbook = runbook
        self.inventory = inventory
        self.ctx = ctx
        self._recorder = recorder
        self._record_lock = threading.Lock()
        self._deferred: list[EventDraft] = []
        self.templates = templates
        self.options = options
        self.asker = asker
        self.masker = masker
        self.observers = Observers(observers or [])
        self.resume = resume
        self.severity = resume.severity if resume else options.severity
        self.registered: dict[str, dict[str, dict[str, Any]]] = (
            dict(resume.registered) if resume else {}
        )
        self._executors: dict[str, Executor] = {}
        self._executors_lock = threading.Lock()
        self._started_mono = time.monotonic()
        self._started_at = resume.started_at if resume else utcnow()
        self._escalated_for: set[int] = set()
        ctx.ask = self._ask_from_executor
        ctx.progress = self.observers.progress
        ctx.extra.setdefault("run_check", self._run_check)
        ctx.extra["masker"] = masker

    # ----------------------------------------------------------------- record
    def record(self, *drafts: EventDraft, defer: bool = False) -> None:
        """Make events durable. ``defer=True`` is for events that announce no action (the
        last results of a step, step-finished): they ride along with the next commit, which
        always comes before the next action and at the end of the run, so a step costs one
        fsync less on the critical path (RELIABILITY rule 1 still holds: every intent is
        durable before its action; a crash before the flush leaves those hosts `unknown`)."""
        with self._record_lock:
            if defer:
                self._deferred.extend(drafts)
                return
            batch = [*self._deferred, *drafts]
            self._deferred.clear()
            if batch:
                self._recorder.record(batch)

    def flush(self) -> None:
        self.record()

    # ----------------------------------------------------------------- run
    def run(self) -> RunResult:
        rb = self.runbook
        if self.resume is None:
            self.record(
                EventDraft(
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
                        "drill": self.ctx.drill,
                        "inventory": str(self.ctx.inventory_path)
                        if self.ctx.inventory_path
                        else None,
                        "clock": self._clock(self.severity),
                        "steps": [s.id for s in rb.steps],
                    },
                )
            )
        else:
            self.record(
                EventDraft(
                    kind=EventKind.RUN_RESUMED,
                    actor=self.options.operator,
                    data={
                        "completed_steps": sorted(self.resume.finished),
                        "in_flight": self.resume.in_flight,
                        "severity": self.severity,
                    },
                )
            )
        self.observers.run_started(self.ctx.run_id, rb, self.severity, self.resume is not None)

        results: list[StepResult] = []
        status = RunStatus.SUCCEEDED
        message = ""
        failed_steps: list[str] = []
        total = len(rb.steps)
        try:
            for index, step in enumerate(rb.steps, start=1):
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
                    continue
                self._check_clock()
                base = self._base_vars()
                result = self._run_step(step, index, total, base)
                results.append(result)
                if result.status.is_failure or result.status is StepStatus.CANCELLED:
                    if self.ctx.cancel.is_set():
                        raise _Abort(RunStatus.INTERRUPTED, "interrupted")
                    policy = step.on_failure
                    if policy == "continue":
                        continue
                    if policy == "escalate":
                        failed_steps.append(step.id)
                        self._escalate(f"step {step.id} failed: {result.message}", step_id=step.id)
                        continue
                    raise _Abort(RunStatus.FAILED, f"step {step.id} failed: {result.message}")
        except _Abort as stop:
            status, message = stop.status, stop.message
        except GateRefused as refused:
            status, message = RunStatus.ABORTED, str(refused)
        except KeyboardInterrupt:
            self.ctx.cancel.set()
            status, message = RunStatus.INTERRUPTED, "interrupted"
        except BaseException as exc:  # a bug: close the record, then let it surface
            self.ctx.cancel.set()
            self._close_executors()
            self.record(
                EventDraft(
                    kind=EventKind.RUN_FINISHED,
                    actor=self.options.operator,
                    data={
                        "status": str(RunStatus.FAILED),
                        "message": self.masker.mask(f"internal error: {exc!r}"),
                        "severity": self.severity,
                        "resumable": True,
                    },
                )
            )
            raise
        finally:
            self._close_executors()
        if status is RunStatus.SUCCEEDED and failed_steps:
            status = RunStatus.FAILED
            message = f"unresolved: step(s) {', '.join(failed_steps)} failed and were escalated"
        elapsed = (utcnow() - self._started_at).total_seconds()
        self.record(
            EventDraft(
                kind=EventKind.RUN_FINISHED,
                actor=self.options.operator,
                data={
                    "status": str(status),
                    "message": self.masker.mask(message),
                    "severity": self.severity,
                    "elapsed_s": round(elapsed, 3),
                    "resumable": status is RunStatus.INTERRUPTED,
                },
            )
        )
        run_result = RunResult(
            run_id=self.ctx.run_id, status=status, steps=tuple(results), message=message
        )
        self.observers.run_finished(run_result)
        return run_result

    # ----------------------------------------------------------------- steps
    def _run_step(self, step: Step, index: int, total: int, base: dict[str, Any]) -> StepResult:
        started = utcnow()
        kind = step.kind
        in_flight_rerun = bool(self.resume and step.id == self.resume.in_flight)
        if in_flight_rerun and not getattr(step, "idempotent", False):
            question = (
                f"step {step.id!r} was in flight when the run stopped; its outcome is unknown. "
                "Run it again?"
            )
            if not self._gate(step, question, key="rerun"):
                raise GateRefused(f"not re-running in-flight step {step.id!r}; run left aborted")

        # Which targets?
        hosts: list[Host] = []
        pattern: str | None = None
        if kind in HOST_KINDS:
            try:
                pattern = self.templates.render_text(step.targets, base)
            except TemplateError as exc:
                return self._finish_without_hosts(step, StepStatus.FAILED, started, str(exc))
            if self.inventory is None:
                return self._finish_without_hosts(
                    step, StepStatus.FAILED, started, "no inventory given (use -i INVENTORY)"
                )
            hosts = list(self.inventory.select(pattern))
            if not hosts:
                return self._finish_without_hosts(
                    step,
                    StepStatus.FAILED,
                    started,
                    f"target pattern {pattern!r} matches no host in the inventory",
                )

        # Condition, evaluated once for the step or per host.
        skipped_hosts: list[str] = []
        if step.when:
            try:
                if hosts:
                    keep = []
                    for h in hosts:
                        if self._truthy(step.when, self._host_vars(base, h)):
                            keep.append(h)
                        else:
                            skipped_hosts.append(h.name)
                    hosts = keep
                    run_it = bool(hosts)
                else:
                    run_it = self._truthy(step.when, base)
            except TemplateError as exc:
                return self._finish_without_hosts(step, StepStatus.FAILED, started, str(exc))
            if not run_it:
                return self._skip(step, index, total, started, f"condition is false: {step.when}")

        # Drill mode: run, simulate or skip.
        drill_mode = "run"
        if self.ctx.drill:
            drill_mode = step.drill or ("simulate" if self._is_gated(step) else "run")
            if drill_mode == "skip":
                return self._skip(step, index, total, started, "skipped in drills")

        # Render per target before asking anyone: a template error must not follow a gate.
        targets: list[Host | None] = list(hosts) if (hosts and kind != "ansible") else [None]
        rendered: dict[str, Rendered | str] = {}
        for target in targets:
            variables = self._host_vars(base, target) if target is not None else base
            if target is not None:
                name = target.name
            elif kind == "ansible":  # one playbook run for all selected hosts
                name = ",".join(h.name for h in hosts)
            else:
                name = self._operator_target(step)
            try:
                rendered[name] = self._render(step, target, variables, hosts)
            except (TemplateError, RespondError) as exc:
                rendered[name] = str(exc)

        # Gate.
        if drill_mode == "run" and self._is_gated(step):
            text = (
                self.templates.render_text(step.confirm, base)
                if step.confirm
                else (f"apply configuration to {', '.join(h.name for h in hosts)}")
            )
            preview = self._preview(rendered)
            if not self._gate(step, text, preview=preview):
                raise GateRefused(f"gate refused at step {step.id!r}: {text}")

        names = [h.name for h in hosts] if kind == "ansible" else list(rendered)
        self.observers.step_started(
            StepStart(
                step=step,
                index=index,
                total=total,
                hosts=tuple(names),
                pattern=pattern,
                drill_mode=drill_mode,
            )
        )
        intents = [
            EventDraft(
                kind=EventKind.STEP_STARTED,
                actor=self.options.operator,
                step_id=step.id,
                data={
                    "name": step.name,
                    "kind": kind,
                    "targets": step.targets,
                    "hosts": names,
                    "skipped_hosts": skipped_hosts,
                    "drill_mode": drill_mode,
                    "rerun": in_flight_rerun,
                },
            )
        ]
        if drill_mode == "run":
            per_target = (
                [(h.name, next(iter(rendered.values()))) for h in hosts]
                if kind == "ansible"
                else list(rendered.items())
            )
            for name, r in per_target:
                intents.append(
                    EventDraft(
                        kind=EventKind.HOST_INTENT,
                        step_id=step.id,
                        host=name,
                        data={
                            "attempt": 1,
                            "commands": self._actions(r),
                        }
                        if not step.no_log
                        else {"attempt": 1, "commands": "<no_log>"},
                    )
                )
        self.record(*intents)

        if drill_mode == "simulate":
            host_results = [
                HostResult(
                    host=name,
                    status=StepStatus.SIMULATED,
                    started_at=started,
                    ended_at=utcnow(),
                    output="simulated (drill): " + "; ".join(self._actions(r))
                    if isinstance(r, Rendered)
                    else str(r),
                )
                for name, r in rendered.items()
            ]
            self.record(*[self._host_event(step, hr) for hr in host_results], defer=True)
        elif kind == "ansible":
            host_results = self._run_ansible(step, rendered, hosts)
        else:
            try:
                host_results = self._fan_out(step, rendered, {h.name: h for h in hosts}, base)
            except GateRefused as refused:
                # Nothing was done (a prompt went unanswered): close the step so that
                # `respond resume` simply asks again instead of treating it as in flight.
                self.record(
                    EventDraft(
                        kind=EventKind.STEP_FINISHED,
                        step_id=step.id,
                        data={
                            "status": str(StepStatus.CANCELLED),
                            "message": self.masker.mask(str(refused)),
                            "ok": 0,
                            "failed": 0,
                            "hosts": 0,
                        },
                    )
                )
                raise

        if kind == "notify" and drill_mode == "run":
            self._record_notifications(step, host_results)
        status, message = self._step_status(step, host_results)
        ended = utcnow()
        result = StepResult(
            step_id=step.id,
            status=status,
            hosts=tuple(host_results),
            started_at=started,
            ended_at=ended,
            message=message,
        )
        if step.register:
            self.registered[step.register] = {hr.host: result_view(kind, hr) for hr in host_results}
            for name in skipped_hosts:
                self.registered[step.register][name] = {
                    "host": name,
                    "status": "skipped",
                    "skipped": True,
                    "ok": False,
                    "failed": False,
                }
        self.record(
            EventDraft(
                kind=EventKind.STEP_FINISHED,
                step_id=step.id,
                data={
                    "status": str(status),
                    "message": self.masker.mask(message),
                    "ok": result.ok_count,
                    "failed": result.failed_count,
                    "hosts": len(host_results),
                    "duration_s": round(result.duration_s, 6),
                    "register": step.register,
                },
            ),
            defer=True,
        )
        self.observers.step_finished(step, result)
        return result

    def _record_notifications(self, step: Step, host_results: list[HostResult]) -> None:
        for hr in host_results:
            self._record_attempts(step.id, hr, escalation=False)

    def _record_attempts(self, step_id: str | None, hr: HostResult, *, escalation: bool) -> None:
        """One notification-sent/-failed event per channel a notice was tried on."""
        subject = self.masker.mask(hr.data.get("subject"))
        drafts = [
            EventDraft(
                kind=EventKind.NOTIFICATION_SENT if a.get("ok") else EventKind.NOTIFICATION_FAILED,
                step_id=step_id,
                data={
                    "channel": a.get("channel"),
                    "error": self.masker.mask(a.get("error")) if a.get("error") else None,
                    "subject": subject,
                    **({"escalation": True} if escalation else {}),
                },
            )
            for a in hr.data.get("attempts", [])
        ]
        if drafts:
            self.record(*drafts)

    def _operator_target(self, step: Step) -> str:
        return "operator" if step.kind == "manual" else "localhost"

    def _is_gated(self, step: Step) -> bool:
        return bool(step.confirm) or (
            step.kind == "netmiko" and bool(getattr(step, "config", None))
        )

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
        return self._with_registered(variables, None)

    def _with_registered(self, variables: Mapping[str, Any], host: str | None) -> dict[str, Any]:
        from respond.runbook.templating import Registered

        out = dict(variables)
        for name, per_host in self.registered.items():
            out[name] = Registered(per_host, host)
        return out

    def _host_vars(self, base: Mapping[str, Any], host: Host) -> dict[str, Any]:
        return self._with_registered(host_variables(base, host), host.name)

    def _render(
        self, step: Step, host: Host | None, variables: dict[str, Any], hosts: list[Host]
    ) -> Rendered:
        return render_step(
            step,
            variables,
            hosts,
            templates=self.templates,
            playbooks_dir=self.ctx.playbooks_dir,
            inventory_path=self.ctx.inventory_path,
            params=self.options.params.values,
            default_channels=self.options.default_channels,
        )

    _actions = staticmethod(actions)

    def _preview(self, rendered: Mapping[str, Rendered | str]) -> list[str]:
        lines = []
        for name, r in rendered.items():
            for c in self._actions(r):
                lines.append(f"{name}: {self.masker.mask(c)}")
        return lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])

    # ----------------------------------------------------------------- execution
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
            except Exception:
                pass
        self._executors.clear()

    def _fan_out(
        self,
        step: Step,
        rendered: dict[str, Rendered | str],
        hosts: dict[str, Host],
        base: dict[str, Any],
    ) -> list[HostResult]:
        names = list(rendered)
        limit = self._max_errors(step, len(names))
        stop_new = threading.Event()
        results: dict[str, HostResult] = {}
        workers = max(1, min(step.concurrency or DEFAULT_CONCURRENCY, len(names)))
        if len(names) == 1:
            name = names[0]
            hr = self._attempts(step, hosts.get(name), name, rendered[name], stop_new)
            self.record(self._host_event(step, hr), defer=True)
            self.observers.host_result(step, hr)
            return [hr]
        budget_lock = threading.Lock()
        spent = [0]

        def one_host(name: str) -> HostResult:
            hr = self._attempts(step, hosts.get(name), name, rendered[name], stop_new)
            if hr.status.is_failure:
                # Decided in the worker, so no further target starts once the budget is spent.
                with budget_lock:
                    spent[0] += 1
                    if spent[0] > limit:
                        stop_new.set()
            return hr

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"respond-{step.id}")
        try:
            futures: dict[Future[HostResult], str] = {pool.submit(one_host, n): n for n in names}
            order = {n: i for i, n in enumerate(names)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if done and pending:
                    # Results of a fan-out arrive in bursts: gather a burst so that one
                    # durable commit records many hosts (an fsync costs 5-20 ms).
                    more, pending = wait(pending, timeout=BATCH_WINDOW_S)
                    done |= more
                batch = []
                for fut in sorted(done, key=lambda f: order[futures[f]]):  # stable record
                    name = futures[fut]
                    try:
                        hr = fut.result()
                    except Exception as exc:  # a bug in an executor is a failed host, not a crash
                        hr = _failed(name, f"internal error: {exc!r}")
                    results[name] = hr
                    batch.append(self._host_event(step, hr))
                    self.observers.host_result(step, hr)
                if batch:
                    # while hosts are still working the commit overlaps their work; the
                    # last batch waits for the step's own closing commit
                    self.record(*batch, defer=not pending)
        except KeyboardInterrupt:
            self.ctx.cancel.set()
            stop_new.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[n] for n in names if n in results]

    def _attempts(
        self,
        step: Step,
        host: Host | None,
        name: str,
        rendered: Rendered | str,
        stop_new: threading.Event,
    ) -> HostResult:
        started = utcnow()
        if isinstance(rendered, str):  # rendering failed for this target
            return HostResult(
                host=name,
                status=StepStatus.FAILED,
                started_at=started,
                ended_at=utcnow(),
                error=rendered,
            )
        if stop_new.is_set() or self.ctx.cancel.is_set():
            reason = (
                "interrupted"
                if self.ctx.cancel.is_set()
                else "not started: the step's error budget (max_errors) is spent"
            )
            return HostResult(
                host=name,
                status=StepStatus.CANCELLED,
                started_at=started,
                ended_at=utcnow(),
                error=reason,
            )
        timeout = (
            step.timeout if step.timeout is not None else DEFAULT_TIMEOUTS.get(step.kind, 60.0)
        )
        retries = max(0, step.retries or 0)
        try:
            executor = self._executor(step.kind)
        except RespondError as exc:
            return _failed(name, str(exc), started)
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.record(
                    EventDraft(
                        kind=EventKind.HOST_INTENT,
                        step_id=step.id,
                        host=name,
                        data={"attempt": attempt, "retry": True},
                    )
                )
            try:
                hr = executor.run(step, host, rendered, timeout)
            except GateRefused:
                raise
            except RespondError as exc:
                hr = _failed(name, str(exc), started)
            except Exception as exc:
                hr = _failed(name, f"internal error in {step.kind} step: {exc!r}", started)
            if hr.status is StepStatus.OK:
                ok, reason = check_expect(
                    step.kind,
                    step.expect,
                    hr,
                    self.templates.evaluate,
                    self._with_registered(rendered.variables, name),
                )
                if not ok:
                    hr = _replace(hr, status=StepStatus.FAILED, error=reason)
            hr = _replace(hr, attempts=attempt)
            if not hr.status.is_failure or attempt > retries or self.ctx.cancel.is_set():
                return hr
            delay = step.retry_delay if step.retry_delay is not None else 5.0
            if self.ctx.cancel.wait(delay):
                return _replace(
                    hr, status=StepStatus.CANCELLED, error="interrupted during retry delay"
                )

    def _run_ansible(
        self, step: Step, rendered: dict[str, Rendered | str], hosts: list[Host]
    ) -> list[HostResult]:
        r = next(iter(rendered.values()))
        started = utcnow()
        if isinstance(r, str):
            hrs = [_failed(h.name, r, started) for h in hosts]
        else:
            timeout = step.timeout if step.timeout is not None else DEFAULT_TIMEOUTS["ansible"]
            executor = self._executor("ansible")
            try:
                whole = executor.run(step, None, r, timeout)
            except Exception as exc:
                whole = _failed("*", f"ansible step failed: {exc}", started)
            from respond.executors import ansible as ansible_mod

            per_host = (
                {hr.host: hr for hr in ansible_mod.split_hosts(whole)}
                if whole.data.get("hosts")
                else {}
            )
            hrs = []
            for h in hosts:
                hr = per_host.get(h.name)
                if hr is None:
                    status = StepStatus.FAILED if whole.status.is_failure else StepStatus.SKIPPED
                    hr = HostResult(
                        host=h.name,
                        status=status,
                        started_at=started,
                        ended_at=utcnow(),
                        error=whole.error or "no result for this host",
                        artifacts=whole.artifacts,
                    )
                elif hr.status is StepStatus.OK and step.expect is not None:
                    ok, reason = check_expect(
                        "ansible", step.expect, hr, self.templates.evaluate, r.variables
                    )
                    if not ok:
                        hr = _replace(hr, status=StepStatus.FAILED, error=reason)
                hrs.append(hr)
        self.record(*[self._host_event(step, hr) for hr in hrs], defer=True)
        for hr in hrs:
            self.observers.host_result(step, hr)
        return hrs

    def _run_check(self, check: Any, variables: dict[str, Any], timeout: float) -> HostResult:
        """Used by the wait kind: run an inline check once on the operator's side or its targets."""
        kind = check.kind
        hosts: list[Host] = []
        if kind in HOST_KINDS and self.inventory is not None and getattr(check, "targets", None):
            hosts = list(
                self.inventory.select(self.templates.render_text(check.targets, variables))
            )
        executor = self._executor(kind)
        started = utcnow()
        if kind in HOST_KINDS and not hosts:
            return _failed("*", "check target matches no host", started)
        targets: list[Host | None] = list(hosts) or [None]
        last: HostResult | None = None
        for target in targets:
            v = self._host_vars(variables, target) if target is not None else variables
            rendered = self._render(check, target, v, hosts)
            hr = executor.run(check, target, rendered, min(timeout, check.timeout or timeout))
            if hr.status is StepStatus.OK:
                ok, reason = check_expect(kind, check.expect, hr, self.templates.evaluate, v)
                if not ok:
                    hr = _replace(hr, status=StepStatus.FAILED, error=reason)
            if hr.status is not StepStatus.OK:
                return hr
            last = hr
        assert last is not None
        return last

    # ----------------------------------------------------------------- results
    def _step_status(self, step: Step, host_results: list[HostResult]) -> tuple[StepStatus, str]:
        if not host_results:
            return StepStatus.SKIPPED, "no targets"
        if all(h.status is StepStatus.SIMULATED for h in host_results):
            return StepStatus.SIMULATED, "simulated (drill)"
        failed = [h for h in host_results if h.status.is_failure]
        cancelled = [h for h in host_results if h.status is StepStatus.CANCELLED]
        if self.ctx.cancel.is_set() and (cancelled or failed):
            return StepStatus.CANCELLED, "interrupted"
        limit = self._max_errors(step, len(host_results))
        bad = len(failed) + len(cancelled)
        if bad == 0:
            return StepStatus.OK, ""
        if len(failed) <= limit and not cancelled:
            return (
                StepStatus.OK,
                f"{len(failed)} host(s) failed, within max_errors={step.max_errors}",
            )
        first = failed[0] if failed else cancelled[0]
        status = (
            StepStatus.TIMED_OUT
            if all(h.status is StepStatus.TIMED_OUT for h in failed) and failed
            else StepStatus.FAILED
        )
        if len(host_results) == 1:
            return status, first.error or str(first.status)
        return (
            status,
            f"{len(failed)} of {len(host_results)} host(s) failed (first: {first.host}: {first.error})",
        )

    @staticmethod
    def _max_errors(step: Step, n_hosts: int) -> int:
        value = step.max_errors
        if value is None:
            return 0
        if isinstance(value, str) and value.strip().endswith("%"):
            pct = float(value.strip()[:-1])
            return int(n_hosts * pct / 100.0)
        return int(value)

    def _host_event(self, step: Step, hr: HostResult) -> EventDraft:
        data: dict[str, Any] = {
            "status": str(hr.status),
            "attempts": hr.attempts,
            "duration_s": round(hr.duration_s, 6),
            "started": hr.started_at.isoformat(),
            "ended": hr.ended_at.isoformat(),
        }
        if hr.error:
            data["error"] = self.masker.mask(hr.error)
        if hr.changed:
            data["changed"] = True
        if hr.artifacts:
            data["artifacts"] = list(hr.artifacts)
        if step.no_log:
            data["output"] = "<no_log>"
            data["rc"] = hr.rc
        else:
            data["commands"] = [self._command_data(c) for c in hr.commands]
            if hr.output and not hr.commands:
                data["output"] = self._text(hr.output)
            extra = {k: v for k, v in hr.data.items() if k not in ("hosts",)}
            if extra:
                data["data"] = self.masker.mask(_jsonable(extra))
        return EventDraft(kind=EventKind.HOST_RESULT, step_id=step.id, host=hr.host, data=data)

    def _command_data(self, c: CommandResult) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.masker.mask(c.command),
            "rc": c.exit_code,
            "duration_s": round(c.duration_s, 6),
        }
        if c.stdout:
            out["stdout"] = self._text(c.stdout)
        if c.stderr:
            out["stderr"] = self._text(c.stderr)
        if c.parsed is not None:
            out["parsed"] = self.masker.mask(_jsonable(c.parsed))
        return out

    def _text(self, text: str) -> Any:
        text = self.masker.mask(text)
        if len(text.encode("utf-8")) <= EVENT_OUTPUT_LIMIT:
            return text
        digest = self._recorder.put_artifact(text.encode("utf-8"))
        return {"artifact": digest, "bytes": len(text.encode("utf-8")), "head": text[:4096]}

    def _finish_without_hosts(
        self, step: Step, status: StepStatus, started: datetime, message: str
    ) -> StepResult:
        message = self.masker.mask(message)
        self.record(
            EventDraft(
                kind=EventKind.STEP_STARTED,
                step_id=step.id,
                data={"name": step.name, "kind": step.kind, "targets": step.targets, "hosts": []},
            ),
            EventDraft(
                kind=EventKind.STEP_FINISHED,
                step_id=step.id,
                data={"status": str(status), "message": message, "ok": 0, "failed": 0, "hosts": 0},
            ),
        )
        result = StepResult(
            step_id=step.id, status=status, started_at=started, ended_at=utcnow(), message=message
        )
        self.observers.step_finished(step, result)
        return result

    def _skip(
        self, step: Step, index: int, total: int, started: datetime, reason: str
    ) -> StepResult:
        self.record(
            EventDraft(
                kind=EventKind.STEP_SKIPPED,
                step_id=step.id,
                data={"name": step.name, "reason": reason},
            )
        )
        if step.register:
            self.registered[step.register] = {}
        result = StepResult(
            step_id=step.id,
            status=StepStatus.SKIPPED,
            started_at=started,
            ended_at=utcnow(),
            message=reason,
        )
        self.observers.step_skipped(StepSkip(step=step, index=index, total=total, reason=reason))
        return result

    # ----------------------------------------------------------------- humans
    def _answer_for(self, step_id: str, key: str) -> Any:
        answers = self.options.answers
        if key == "rerun":
            rerun = answers.get("rerun")
            if isinstance(rerun, Mapping) and step_id in rerun:
                return rerun[step_id]
            return None
        value = answers.get(step_id)
        if isinstance(value, Mapping):
            return value.get(key)
        if key == "confirm" and isinstance(value, bool | str) and step_id in answers:
            return value
        if key == "answer" and step_id in answers:
            return value
        return None

    def _gate(
        self, step: Step, text: str, *, key: str = "confirm", preview: list[str] | None = None
    ) -> bool:
        text = self.masker.mask(text)
        answer = self._answer_for(step.id, key)
        source = "answers file"
        if answer is None and self.options.assume_yes:
            answer, source = True, "--yes"
        if answer is None:
            source = "operator"
            self.observers.gate(step, text, preview or [])
            try:
                answer = self.asker.confirm(step.id, text)
            except GateRefused as exc:
                self.record(
                    EventDraft(
                        kind=EventKind.GATE_REFUSED,
                        actor=self.options.operator,
                        step_id=step.id,
                        data={
                            "text": text,
                            "by": "unattended",
                            "reason": str(exc),
                            "question": key,
                        },
                    )
                )
                raise
        confirmed = _yes(answer)
        self.record(
            EventDraft(
                kind=EventKind.GATE_CONFIRMED if confirmed else EventKind.GATE_REFUSED,
                actor=self.options.operator,
                step_id=step.id,
                data={"text": text, "by": source, "question": key, "preview": preview or []},
            )
        )
        return confirmed

    def _ask_from_executor(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        prompt = self.masker.mask(prompt)
        self.record(
            EventDraft(
                kind=EventKind.PROMPT, step_id=step_id, data={"prompt": prompt, "choices": choices}
            )
        )
        answer = self._answer_for(step_id, "answer")
        source = "answers file"
        if answer is None:
            source = "operator"
            self.observers.prompt(step_id, prompt, choices)
            try:
                answer = self.asker.ask(step_id, prompt, choices)
            except GateRefused as exc:
                self.record(
                    EventDraft(
                        kind=EventKind.GATE_REFUSED,
                        actor=self.options.operator,
                        step_id=step_id,
                        data={
                            "text": prompt,
                            "by": "unattended",
                            "reason": str(exc),
                            "question": "answer",
                        },
                    )
                )
                raise
        if isinstance(answer, bool):  # YAML reads an unquoted yes/no as a boolean
            answer = "yes" if answer else "no"
        answer = str(answer)
        if choices and answer not in choices:
            raise GateRefused(
                f"answer {answer!r} for step {step_id!r} is not one of {', '.join(choices)}"
            )
        self.record(
            EventDraft(
                kind=EventKind.ANSWER,
                actor=self.options.operator,
                step_id=step_id,
                data={"answer": self.masker.mask(answer), "by": source},
            )
        )
        return answer

    # ----------------------------------------------------------------- severity
    def _clock(self, level: int) -> dict[str, Any]:
        policy = self.options.severity_policy.get(level) or {}
        return {k: v for k, v in policy.items()}

    def _check_clock(self) -> None:
        policy = self.options.severity_policy.get(self.severity)
        if not policy or self.severity <= 1:
            return
        elapsed = (utcnow() - self._started_at).total_seconds()
        limit = float(policy.get("restore", 0) or 0)
        if limit and elapsed > limit and self.severity not in self._escalated_for:
            self._escalated_for.add(self.severity)
            self._escalate(
                f"not restored within {limit:.0f}s for level {self.severity}", automatic=True
            )

    def _escalate(
        self, reason: str, *, automatic: bool = False, step_id: str | None = None
    ) -> None:
        old = self.severity
        new = max(1, old - 1)
        self.severity = new
        self.record(
            EventDraft(
                kind=EventKind.ESCALATED,
                actor="respond" if automatic else self.options.operator,
                data={
                    "from": old,
                    "to": new,
                    "reason": self.masker.mask(reason),
                    "automatic": automatic,
                    "clock": self._clock(new),
                },
            )
        )
        self.observers.severity_changed(old, new, reason)
        self._notify_escalation(old, new, reason, step_id)

    def _notify_escalation(self, old: int, new: int, reason: str, step_id: str | None) -> None:
        """Tell people (DESIGN: an escalation is recorded *and notified*), through the
        ``notify.escalation`` chain of respond.yaml, else the default chain."""
        channels = self.options.escalation_channels or self.options.default_channels
        subject = f"[respond] {self.runbook.id}: severity {old} → {new}"
        message = (
            f"{self.runbook.title}: escalated from level {old} to level {new} "
            f"(run {self.ctx.run_id}): {self.masker.mask(reason)}"
        )
        variables = self._base_vars()
        rendered = Rendered(
            fields={
                "message": message,
                "subject": subject,
                "channels": channels,
                "required": False,
                "variables": variables,
            },
            variables=variables,
        )
        try:
            hr = self._executor("notify").run(
                _EscalationStep(), None, rendered, DEFAULT_TIMEOUTS["notify"]
            )
        except Exception as exc:
            self.record(
                EventDraft(
                    kind=EventKind.NOTIFICATION_FAILED,
                    step_id=step_id,
                    data={"channel": None, "error": self.masker.mask(str(exc)), "subject": subject},
                )
            )
            return
        self._record_attempts(step_id, hr, escalation=True)


class _EscalationStep:
    """The stand-in step an escalation notice is sent as."""

    id = "escalation"
    name = "escalation notice"
    kind = "notify"


def _yes(answer: Any) -> bool:
    if isinstance(answer, bool):
        return answer
    return str(answer).strip().lower() in {"y", "yes", "true", "1", "confirm", "ok"}


def _failed(name: str, message: str, started: datetime | None = None) -> HostResult:
    now = utcnow()
    return HostResult(
        host=name, status=StepStatus.FAILED, started_at=started or now, ended_at=now, error=message
    )


def _replace(hr: HostResult, **changes: Any) -> HostResult:
    from dataclasses import replace

    return replace(hr, **changes)


def _jsonable(value: Any) -> Any:
    import json

    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))
