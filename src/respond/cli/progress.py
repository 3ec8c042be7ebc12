"""Live progress of a run on the terminal (stderr), and how a run asks its operator."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from respond.engine.observer import NullObserver, StepSkip, StepStart
from respond.errors import GateRefused
from respond.results import StepStatus

if TYPE_CHECKING:
    from respond.results import HostResult, StepResult
    from respond.runbook.model import Runbook, Step

_MARK = {
    StepStatus.OK: ("✓", "green"),
    StepStatus.FAILED: ("✗", "red"),
    StepStatus.TIMED_OUT: ("⏱", "red"),
    StepStatus.SKIPPED: ("–", "dim"),
    StepStatus.SIMULATED: ("◌", "cyan"),
    StepStatus.CANCELLED: ("■", "yellow"),
    StepStatus.UNKNOWN: ("?", "yellow"),
}
MANY_HOSTS = 10


class ConsoleProgress(NullObserver):
    """Prints one line per step and per host (or a count for large fan-outs) to stderr."""

    def __init__(self, console: Any, masker: Any, quiet: bool = False) -> None:
        self.console = console
        self.masker = masker
        self.quiet = quiet
        self._t0 = time.monotonic()
        self._hosts_in_step = 0
        self._done = 0
        self._failed = 0

    def _elapsed(self) -> str:
        s = int(time.monotonic() - self._t0)
        return f"{s // 60:02d}:{s % 60:02d}"

    def line(self, text: str, style: str | None = None) -> None:
        if not self.quiet:
            self.console.print(self.masker.mask(text), style=style, markup=False, highlight=False)

    # -- run hooks (RunObserver) ---------------------------------------------------------
    def run_started(self, run_id: str, runbook: Runbook, severity: int, resumed: bool) -> None:
        verb = "resumed" if resumed else "started"
        self.line(
            f"run {run_id} {verb}: {runbook.id}@{runbook.version} — {runbook.title} (severity {severity})",
            "bold",
        )

    def step_skipped(self, skip: StepSkip) -> None:
        step = skip.step
        if skip.already_done:
            self.line(
                f"[{self._elapsed()}] {skip.index}/{skip.total} {step.id}: already done before the interruption",
                "dim",
            )
            return
        reason = skip.reason
        if reason.startswith("condition is false"):
            reason = "condition is false"  # the expression itself is in the record
        self.line(
            f"[{self._elapsed()}] {skip.index}/{skip.total} {step.id} skipped: {reason}", "dim"
        )

    def step_started(self, start: StepStart) -> None:
        step, hosts = start.step, start.hosts
        self._hosts_in_step = len(hosts)
        self._done = 0
        self._failed = 0
        where = ""
        if step.targets:
            where = f" → {step.targets} ({len(hosts)} host{'s' if len(hosts) != 1 else ''})"
        extra = " [drill: simulated]" if start.drill_mode == "simulate" else ""
        self.line(
            f"[{self._elapsed()}] {start.index}/{start.total} {step.id} · {step.kind}{where}: {step.name or ''}{extra}",
            "bold cyan",
        )

    def host_result(self, step: Step, result: HostResult) -> None:
        self._done += 1
        if result.status.is_failure:
            self._failed += 1
        mark, style = _MARK.get(result.status, ("?", None))
        if self._hosts_in_step > MANY_HOSTS and not result.status.is_failure:
            if (
                self._done % max(1, self._hosts_in_step // 5) == 0
                or self._done == self._hosts_in_step
            ):
                self.line(f"    {self._done}/{self._hosts_in_step} hosts done", "dim")
            return
        detail = result.error or ""
        if (
            not detail
            and step.kind in ("ssh", "local", "netmiko")
            and result.commands
            and not step.no_log
        ):
            first = result.commands[-1].stdout.strip().splitlines()
            detail = first[0][:100] if first else ""
        if step.kind == "manual" and result.data.get("answer") is not None:
            detail = f"answer: {result.data['answer']}"
        if step.kind == "notify":
            detail = result.output or detail
        self.line(f"    {mark} {result.host} {result.duration_s:.2f}s {detail}".rstrip(), style)

    def step_finished(self, step: Step, result: StepResult) -> None:
        if result.status.is_failure and not result.hosts:
            self.line(f"    ✗ {result.message}", "red")
        elif self._hosts_in_step > MANY_HOSTS:
            self.line(
                f"    {result.ok_count} ok, {result.failed_count} failed in {result.duration_s:.2f}s",
                "dim",
            )

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        self.line(f"!! severity escalated {old} → {new}: {reason}", "bold red")

    def gate(self, step: Step, text: str, preview: Sequence[str]) -> None:
        self.line(f"  GATE {step.id}: {text}", "bold yellow")
        for p in preview:
            self.line(f"    {p}", "yellow")

    def progress(self, text: str) -> None:
        self.line(f"    … {text}", "dim")


class UnattendedAsker:
    """No terminal and no answer: fail safe at once, never wait for input that cannot come."""

    def confirm(self, step_id: str, text: str) -> bool:
        raise GateRefused(
            f"step {step_id!r} needs confirmation ({text}) but respond runs unattended; "
            "pass --yes to confirm gates or --answers FILE"
        )

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        raise GateRefused(
            f"step {step_id!r} asks the operator ({prompt}) but respond runs unattended; "
            f"give the answer in --answers FILE as '{step_id}: ...'"
        )


class TerminalAsker:
    """One keypress per decision."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def confirm(self, step_id: str, text: str) -> bool:
        # The gate's text and what it will do were just printed by the progress view.
        click.echo(f"  Proceed with {step_id}? [y/N] ", err=True, nl=False)
        key = _getchar()
        click.echo(key if key.isprintable() else "", err=True)
        return key.lower() == "y"

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        click.echo(f"  ? [{step_id}] {prompt}", err=True)
        if choices and len(choices) <= 9:
            for i, choice in enumerate(choices, start=1):
                click.echo(f"     {i}) {choice}", err=True)
            while True:
                click.echo(f"  choose 1-{len(choices)}: ", err=True, nl=False)
                key = _getchar()
                click.echo(key if key.isprintable() else "", err=True)
                if key.isdigit() and 1 <= int(key) <= len(choices):
                    return choices[int(key) - 1]
        answer = click.prompt("  answer", err=True, type=str)
        if choices and answer not in choices:
            raise GateRefused(f"answer {answer!r} is not one of {', '.join(choices)}")
        return answer


def _getchar() -> str:
    try:
        key = click.getchar()
    except (EOFError, OSError):
        raise GateRefused("no input available") from None
    if key in ("\x03", "\x04"):
        raise KeyboardInterrupt
    return key


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
