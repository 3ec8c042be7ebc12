"""Fan-out: one step on its targets at once, with retries, an error budget and a deadline
per target, every result recorded as it arrives (a burst of results in one commit).

The error budget (``max_errors``) is decided in the worker that saw the failure, so no
further target starts once it is spent; a target that did not start is ``cancelled``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.durations import seconds
from respond.engine.expect import check_common
from respond.engine.parsing import ParseFailed, parse_result
from respond.errors import GateRefused, LockLost, RecordUnwritable, RespondError
from respond.events import EventDraft, EventKind
from respond.executors.base import utcnow
from respond.kinds.base import Rendered
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.engine.journal import Journal
    from respond.engine.observer import Observers
    from respond.executors.base import Executor
    from respond.inventory import Host
    from respond.kinds.base import StepKind
    from respond.runbook.model import Step

DEFAULT_CONCURRENCY = 100
DEFAULT_RETRY_DELAY_S = 5.0
BATCH_WINDOW_S = 0.02  # results of a fan-out arrive in bursts: one commit records a burst


def step_timeout(step: Step, kind: StepKind) -> float:
    """The per-target limit: the step's own, else its kind's default."""
    return seconds(step.timeout) if step.timeout is not None else kind.default_timeout


def error_budget(step: Step, n_hosts: int) -> int:
    """How many targets may fail before the step does (``max_errors``: a count or a %)."""
    value = step.max_errors
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().endswith("%"):
        return int(n_hosts * float(value.strip()[:-1]) / 100.0)
    return int(value)


def step_status(
    step: Step, results: list[HostResult], *, cancelled: bool
) -> tuple[StepStatus, str]:
    """The step's status from its targets' results; ``cancelled`` when the run was."""
    if not results:
        return StepStatus.SKIPPED, "no targets"
    if all(h.status is StepStatus.SIMULATED for h in results):
        return StepStatus.SIMULATED, "simulated (drill)"
    failed = [h for h in results if h.status.is_failure]
    stopped = [h for h in results if h.status is StepStatus.CANCELLED]
    if cancelled and (stopped or failed):
        return StepStatus.CANCELLED, "interrupted"
    if not failed and not stopped:
        return StepStatus.OK, ""
    if len(failed) <= error_budget(step, len(results)) and not stopped:
        return StepStatus.OK, f"{len(failed)} host(s) failed, within max_errors={step.max_errors}"
    first = failed[0] if failed else stopped[0]
    timed_out = bool(failed) and all(h.status is StepStatus.TIMED_OUT for h in failed)
    status = StepStatus.TIMED_OUT if timed_out else StepStatus.FAILED
    if len(results) == 1:
        return status, first.error or str(first.status)
    return (
        status,
        f"{len(failed)} of {len(results)} host(s) failed (first: {first.host}: {first.error})",
    )


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def failed(name: str, message: str, started: datetime | None = None) -> HostResult:
    now = utcnow()
    return HostResult(
        host=name, status=StepStatus.FAILED, started_at=started or now, ended_at=now, error=message
    )


class FanOut:
    def __init__(
        self,
        *,
        journal: Journal,
        observers: Observers,
        cancel: threading.Event,
        executor_for: Callable[[str], Executor],
        evaluate: Callable[[str, Mapping[str, Any]], Any],
        scope: Callable[[Mapping[str, Any], str | None], dict[str, Any]],
        project_root: Path | None = None,
    ) -> None:
        self.project_root = project_root  # where `parse: {textfsm: FILE}` finds FILE
        self.journal = journal
        self.observers = observers
        self.cancel = cancel
        self.executor_for = executor_for
        self.evaluate = evaluate
        self.scope = scope  # the variables `expect.that` sees for one target

    def run(
        self,
        step: Step,
        kind: StepKind,
        rendered: dict[str, Rendered | str],
        hosts: Mapping[str, Host],
    ) -> list[HostResult]:
        if kind.one_run:
            return self._one_run(step, kind, rendered, list(hosts))
        names = list(rendered)
        stop_new = threading.Event()
        if len(names) == 1:
            name = names[0]
            hr = self.attempts(step, kind, hosts.get(name), name, rendered[name], stop_new)
            self.journal.record(self.journal.host_event(step, hr), defer=True)
            self.observers.host_result(step, hr)
            return [hr]
        limit = error_budget(step, len(names))
        budget_lock = threading.Lock()
        spent = [0]

        def one_host(name: str) -> HostResult:
            hr = self.attempts(step, kind, hosts.get(name), name, rendered[name], stop_new)
            if hr.status.is_failure:
                with budget_lock:
                    spent[0] += 1
                    if spent[0] > limit:
                        stop_new.set()
            return hr

        results: dict[str, HostResult] = {}
        workers = max(1, min(step.concurrency or DEFAULT_CONCURRENCY, len(names)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"respond-{step.id}")
        try:
            futures: dict[Future[HostResult], str] = {pool.submit(one_host, n): n for n in names}
            order = {n: i for i, n in enumerate(names)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if done and pending:
                    more, pending = wait(pending, timeout=BATCH_WINDOW_S)
                    done |= more
                batch = []
                for fut in sorted(done, key=lambda f: order[futures[f]]):  # stable record
                    name = futures[fut]
                    try:
                        hr = fut.result()
                    except (LockLost, RecordUnwritable):
                        raise  # the run stops: no other target may start or be recorded
                    except Exception as exc:  # a bug in an executor is a failed host, not a crash
                        hr = failed(name, f"internal error: {exc!r}")
                    results[name] = hr
                    batch.append(self.journal.host_event(step, hr))
                    self.observers.host_result(step, hr)
                if batch:
                    # while hosts still work the commit overlaps their work; the last batch
                    # rides with the step's own closing commit
                    self.journal.record(*batch, defer=not pending)
        except (KeyboardInterrupt, LockLost, RecordUnwritable):
            self.cancel.set()
            stop_new.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[n] for n in names if n in results]

    def attempts(
        self,
        step: Step,
        kind: StepKind,
        host: Host | None,
        name: str,
        rendered: Rendered | str,
        stop_new: threading.Event,
    ) -> HostResult:
        """The step on one target, retried on failure up to ``retries`` times, but only
        when trying again cannot repeat an action: the failure came before anything was
        sent to the target, or the step is ``idempotent``."""
        started = utcnow()
        if isinstance(rendered, str):  # rendering failed for this target
            return replace(failed(name, rendered, started), not_started=True)
        if stop_new.is_set() or self.cancel.is_set():
            reason = (
                "interrupted"
                if self.cancel.is_set()
                else "not started: the step's error budget (max_errors) is spent"
            )
            return HostResult(
                host=name,
                status=StepStatus.CANCELLED,
                started_at=started,
                ended_at=utcnow(),
                error=reason,
                not_started=True,
            )
        timeout = step_timeout(step, kind)
        retries = max(0, step.retries or 0)
        try:
            executor = self.executor_for(step.kind)
        except RespondError as exc:
            return replace(failed(name, str(exc), started), not_started=True)
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.journal.record(
                    EventDraft(
                        kind=EventKind.HOST_INTENT,
                        step_id=step.id,
                        host=name,
                        data={"attempt": attempt, "retry": True},
                    )
                )
            hr = self._once(step, kind, executor, host, name, rendered, timeout, started)
            hr = replace(hr, attempts=attempt)
            if not hr.status.is_failure or attempt > retries or self.cancel.is_set():
                return hr
            if not (step.idempotent or hr.not_started):
                return hr  # it ran, or may have: doing it again is not ours to decide
            delay = (
                seconds(step.retry_delay) if step.retry_delay is not None else DEFAULT_RETRY_DELAY_S
            )
            if self.cancel.wait(delay):
                return replace(
                    hr, status=StepStatus.CANCELLED, error="interrupted during retry delay"
                )

    def _once(
        self,
        step: Step,
        kind: StepKind,
        executor: Executor,
        host: Host | None,
        name: str,
        rendered: Rendered,
        timeout: float,
        started: datetime,
    ) -> HostResult:
        """Run once and judge: the executor's outcome, then the kind's and ``expect``'s."""
        try:
            hr = executor.run(step, host, rendered, timeout)
        except (GateRefused, LockLost, RecordUnwritable):
            raise
        except RespondError as exc:
            hr = failed(name, str(exc), started)
        except Exception as exc:
            hr = failed(name, f"internal error in {step.kind} step: {exc!r}", started)
        return self.judge(step, kind, hr, rendered.variables, name)

    def judge(
        self,
        step: Step,
        kind: StepKind,
        hr: HostResult,
        variables: Mapping[str, Any],
        name: str | None,
    ) -> HostResult:
        if hr.status is not StepStatus.OK:
            return hr
        ok, reason = kind.check(step.expect, hr)  # exit codes, HTTP status
        if ok and step.parse is not None:  # before expect: `expect.that` may read result.data
            hr, reason = self._parsed(step, hr, variables)
            ok = not reason
        if ok:
            scope = self.scope(variables, name)
            ok, reason = check_common(kind, step.expect, hr, self.evaluate, scope)
        return hr if ok else replace(hr, status=StepStatus.FAILED, error=reason)

    def _parsed(
        self, step: Step, hr: HostResult, variables: Mapping[str, Any]
    ) -> tuple[HostResult, str]:
        """``hr`` with what ``parse:`` made of its output in ``data``, or why it could not."""
        assert step.parse is not None
        try:
            data = parse_result(
                step.parse,
                hr,
                network_os=_text_or_none(variables.get("ansible_network_os")),
                root=self.project_root,
            )
        except ParseFailed as exc:
            return hr, str(exc)
        return replace(hr, data={**hr.data, "data": data}), ""

    def _one_run(
        self, step: Step, kind: StepKind, rendered: dict[str, Rendered | str], hosts: list[str]
    ) -> list[HostResult]:
        """Every selected host in one run (a playbook), split into one result per host."""
        r = next(iter(rendered.values()))
        started = utcnow()
        if isinstance(r, str):
            hrs = [failed(h, r, started) for h in hosts]
        else:
            try:
                whole = self.executor_for(step.kind).run(step, None, r, step_timeout(step, kind))
            except Exception as exc:
                whole = failed("*", f"{step.kind} step failed: {exc}", started)
            hrs = [self.judge(step, kind, hr, r.variables, None) for hr in kind.split(whole, hosts)]
        self.journal.record(*[self.journal.host_event(step, hr) for hr in hrs], defer=True)
        for hr in hrs:
            self.observers.host_result(step, hr)
        return hrs
