"""Run hooks: what the engine announces while it works, one named method per event.

The engine does not print, persist or notify through observers: it records through the
timeline and tells observers (the terminal, tests) what happened. Subclassing
``RunObserver`` is optional; it exists so an observer can implement only the hooks it
cares about. A hook that raises is a bug in the observer: ``Observers`` reports it once on
stderr and in the log and keeps the run going.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from respond.engine.deadlines import ClockView
    from respond.results import HostResult, RunResult, StepResult
    from respond.runbook.model import Runbook, Step

log = logging.getLogger("respond.engine")


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStart:
    """A step about to act: its place in the run and what it will act on."""

    step: Step
    index: int
    total: int
    hosts: tuple[str, ...]
    pattern: str | None  # the target pattern after templating (None: the control host)
    drill_mode: str  # run | simulate | tabletop (walked by people, nothing executes)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSkip:
    step: Step
    index: int
    total: int
    reason: str  # in words, for people
    already_done: bool = False  # finished before an interruption (resume)


class RunObserver(Protocol):
    def run_started(self, run_id: str, runbook: Runbook, severity: int, resumed: bool) -> None: ...

    def step_started(self, start: StepStart) -> None: ...

    def step_skipped(self, skip: StepSkip) -> None: ...

    def host_result(self, step: Step, result: HostResult) -> None: ...

    def gate(self, step: Step, text: str, preview: Sequence[str]) -> None: ...

    def prompt(self, step_id: str, prompt: str, choices: Sequence[str] | None) -> None: ...

    def progress(self, text: str) -> None:
        """A line of news from a step still at work (a wait not yet passing, a channel tried)."""
        ...

    def step_finished(self, step: Step, result: StepResult) -> None: ...

    def severity_changed(self, old: int, new: int, reason: str) -> None: ...

    def clocks(self, view: ClockView) -> None:
        """The incident's clocks: at run start, after each step and each escalation."""
        ...

    def deadline_missed(self, clock: str, level: int, due: str) -> None:
        """A deadline passed with nothing above to escalate to (or unacknowledged)."""
        ...

    def run_finished(self, result: RunResult) -> None: ...


class NullObserver:
    """Every hook, doing nothing: subclass it to implement only some."""

    def run_started(self, run_id: str, runbook: Runbook, severity: int, resumed: bool) -> None:
        pass

    def step_started(self, start: StepStart) -> None:
        pass

    def step_skipped(self, skip: StepSkip) -> None:
        pass

    def host_result(self, step: Step, result: HostResult) -> None:
        pass

    def gate(self, step: Step, text: str, preview: Sequence[str]) -> None:
        pass

    def prompt(self, step_id: str, prompt: str, choices: Sequence[str] | None) -> None:
        pass

    def progress(self, text: str) -> None:
        pass

    def step_finished(self, step: Step, result: StepResult) -> None:
        pass

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        pass

    def clocks(self, view: ClockView) -> None:
        pass

    def deadline_missed(self, clock: str, level: int, due: str) -> None:
        pass

    def run_finished(self, result: RunResult) -> None:
        pass


class Observers:
    """Fans each hook out to every observer. A failing observer is reported once (stderr
    and the log) and keeps receiving events; the run is never broken by its display."""

    def __init__(self, observers: Sequence[RunObserver] = ()) -> None:
        self._observers = list(observers)
        self._reported: set[int] = set()

    def _each(self, call: Callable[[RunObserver], None], hook: str) -> None:
        for observer in self._observers:
            try:
                call(observer)
            except Exception as exc:
                if id(observer) not in self._reported:
                    self._reported.add(id(observer))
                    name = type(observer).__name__
                    log.exception("observer %s failed in %s", name, hook)
                    print(
                        f"respond: internal error in {name}.{hook}: {exc!r} "
                        "(the run goes on; the record is not affected)",
                        file=sys.stderr,
                    )

    def run_started(self, run_id: str, runbook: Runbook, severity: int, resumed: bool) -> None:
        self._each(lambda o: o.run_started(run_id, runbook, severity, resumed), "run_started")

    def step_started(self, start: StepStart) -> None:
        self._each(lambda o: o.step_started(start), "step_started")

    def step_skipped(self, skip: StepSkip) -> None:
        self._each(lambda o: o.step_skipped(skip), "step_skipped")

    def host_result(self, step: Step, result: HostResult) -> None:
        self._each(lambda o: o.host_result(step, result), "host_result")

    def gate(self, step: Step, text: str, preview: Sequence[str]) -> None:
        self._each(lambda o: o.gate(step, text, preview), "gate")

    def prompt(self, step_id: str, prompt: str, choices: Sequence[str] | None) -> None:
        self._each(lambda o: o.prompt(step_id, prompt, choices), "prompt")

    def progress(self, text: str) -> None:
        self._each(lambda o: o.progress(text), "progress")

    def step_finished(self, step: Step, result: StepResult) -> None:
        self._each(lambda o: o.step_finished(step, result), "step_finished")

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        self._each(lambda o: o.severity_changed(old, new, reason), "severity_changed")

    # The incident's hooks came later than the others: an observer written before them
    # (without NullObserver) simply does not hear them.
    def clocks(self, view: ClockView) -> None:
        self._each(lambda o: _optional(o, "clocks")(view), "clocks")

    def deadline_missed(self, clock: str, level: int, due: str) -> None:
        self._each(lambda o: _optional(o, "deadline_missed")(clock, level, due), "deadline_missed")

    def run_finished(self, result: RunResult) -> None:
        self._each(lambda o: o.run_finished(result), "run_finished")


def _optional(observer: RunObserver, hook: str) -> Callable[..., None]:
    found: Callable[..., None] | None = getattr(observer, hook, None)
    return found if found is not None else _ignore


def _ignore(*args: object) -> None:
    pass
