"""Live progress of a run on the terminal (stderr), and how a run asks its operator."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from rich.cells import cell_len, get_character_cell_size

from respond.cli.hangup import TerminalGone
from respond.cli.screen import printable
from respond.clock import parse_iso
from respond.engine.deadlines import local_time
from respond.engine.fanout import error_budget
from respond.engine.observer import NullObserver, StepSkip, StepStart
from respond.errors import GateRefused
from respond.results import StepStatus
from respond.runbook.model import step_label

if TYPE_CHECKING:
    from respond.cli.hangup import TerminalWatch
    from respond.engine.deadlines import ClockView
    from respond.results import HostResult, RunResult, StepResult
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
TOLERATED = ("!", "yellow")  # a failure that neither fails its step nor stops the run
MANY_HOSTS = 10  # above this, a step's ok hosts are counted rather than listed
LOG_WIDTH = 200  # line length when stderr is not a terminal (logs, cron mail)
STDERR_LINES = 3  # lines of stderr shown under a failed host


class ConsoleProgress(NullObserver):
    """Prints one line per step and per host (or a count for large fan-outs) to stderr,
    each fitted to the terminal's width; consecutive skipped steps share one line."""

    def __init__(self, console: Any, masker: Any, quiet: bool = False) -> None:
        self.console = console
        self.masker = masker
        self.quiet = quiet
        self._t0 = time.monotonic()
        self._numbers: dict[str, int] = {}
        self._skips: list[tuple[str, StepSkip]] = []  # (elapsed, skip) not yet printed
        self._hosts_in_step = 0
        self._budget = 0
        self._done = 0
        self._failed = 0
        self._walking = False  # the step started is a tabletop drill's, walked by people

    def _elapsed(self) -> str:
        s = int(time.monotonic() - self._t0)
        return f"{s // 60:02d}:{s % 60:02d}"

    def width(self) -> int:
        """Cells per line: the terminal's width; generous when stderr is not a terminal."""
        width = int(self.console.width)
        return width if self.console.is_terminal else max(width, LOG_WIDTH)

    def line(self, text: str, style: str | None = None) -> None:
        """One line, secrets masked first, then fitted to the width (never wrapped)."""
        if not self.quiet:
            text = fit(self.shown(text), self.width())
            self.console.print(text, style=style, markup=False, highlight=False)

    def whole(self, text: str, style: str | None = None, indent: int = 6) -> None:
        """Text that must be read in full (what a gate will do, why a step failed): wrapped
        between words onto indented lines in a terminal, never cut."""
        if self.quiet:
            return
        text = self.shown(text)
        lines = wrap(text, self.width(), indent) if self.console.is_terminal else [text]
        for part in lines:
            self.console.print(part, style=style, markup=False, highlight=False)

    def shown(self, text: str) -> str:
        """``text`` as the terminal may show it: secrets masked, then control characters
        (cursor moves, erasures, hidden text from a host's output) made visible."""
        return printable(self.masker.mask(text))

    # -- run hooks (RunObserver) ---------------------------------------------------------
    def run_started(self, run_id: str, runbook: Runbook, severity: int, resumed: bool) -> None:
        self._numbers = {s.id: i for i, s in enumerate(runbook.steps, start=1)}
        verb = "resumed" if resumed else "started"
        self.line(
            f"run {run_id} {verb}: {runbook.id}@{runbook.version} — {runbook.title} (severity {severity})",
            "bold",
        )

    def step_skipped(self, skip: StepSkip) -> None:
        # Held back until something else happens, so that a run of skips is one line.
        self._skips.append((self._elapsed(), skip))

    def step_started(self, start: StepStart) -> None:
        self._flush_skips()
        step, hosts = start.step, start.hosts
        self._hosts_in_step = len(hosts)
        self._walking = start.drill_mode == "tabletop"
        self._budget = error_budget(step, len(hosts))
        self._done = 0
        self._failed = 0
        head = f"[{self._elapsed()}] {start.index}/{start.total} {step.id} · {step.kind}"
        if start.pattern is not None:  # a step on inventory hosts: the hosts, never a template
            room = max(16, min(80, self.width() - cell_len(head) - 20))
            head += " → " + hosts_text(hosts, room)
        extra = _DRILL_TAG.get(start.drill_mode, "")
        name = f": {step.name}" if step.name else ""
        self.line(f"{head}{name}{extra}", "bold cyan")

    def host_result(self, step: Step, result: HostResult) -> None:
        self._flush_skips()
        self._done += 1
        failed = result.status.is_failure
        if failed:
            self._failed += 1
        mark, style = _MARK.get(result.status, ("?", None))
        graded = None if failed else step.step_kind.host_mark(result)
        if graded is not None:
            mark, style = graded
        # a check graded other than OK is shown even where ok hosts are only counted
        finding = graded is not None and mark != "✓"
        why = ""
        if failed:
            tolerated = self._tolerated(step)
            if tolerated:
                (mark, style), why = TOLERATED, f" (tolerated: {tolerated})"
        counted = self._hosts_in_step > MANY_HOSTS and not failed
        if not (counted and not finding):
            detail, under = _host_detail(step, result)
            head = f"    {mark} {result.host} {result.duration_s:.2f}s"
            room = self.width() - cell_len(head) - 1 - cell_len(why)
            detail = fit(self.shown(detail), max(room, 10)) if detail else ""
            self.line(f"{head} {detail}".rstrip() + why, style)
            for text in under:
                self.line(f"        {text}", style)
        if counted and (
            self._done % max(1, self._hosts_in_step // 5) == 0 or self._done == self._hosts_in_step
        ):
            failures = f", {self._failed} failed" if self._failed else ""
            self.line(f"    {self._done}/{self._hosts_in_step} hosts done{failures}", "dim")

    def step_finished(self, step: Step, result: StepResult) -> None:
        self._flush_skips()
        if self._walking and result.status is StepStatus.SIMULATED:
            mark, style = _MARK[StepStatus.SIMULATED]
            self.line(f"    {mark} walked: done", style)
        elif result.status.is_failure:
            consequence = _ON_FAILURE.get(step.on_failure)
            if consequence:
                # one host: its line just said why; more: how many, and the first reason
                why = f": {result.message}" if len(result.hosts) != 1 else ""
                self.whole(f"    {TOLERATED[0]} step failed, {consequence}{why}", "yellow")
            elif not result.hosts:  # with hosts, their lines and the run's last line say it
                self.whole(f"    ✗ {result.message}", "red")
        elif self._hosts_in_step > MANY_HOSTS:
            self.line(
                f"    {result.ok_count} ok, {result.failed_count} failed in {result.duration_s:.2f}s",
                "dim",
            )

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        self._flush_skips()
        self.whole(f"!! severity escalated {old} → {new}: {reason}", "bold red")

    def clocks(self, view: ClockView) -> None:
        self._flush_skips()
        self.line(f"    {view.line()}", "yellow" if "missed" in view.line() else "dim")

    def deadline_missed(self, clock: str, level: int, due: str) -> None:
        self._flush_skips()
        when = parse_iso(due) if due else None
        at = f" (due {local_time(when, datetime.now(UTC))})" if when else ""
        if clock == "respond":
            text = f"!! respond deadline missed{at}: not acknowledged in time (level {level})"
        else:
            text = f"!! restore deadline missed at level {level}{at}: no level above, reported up"
        self.whole(text, "bold red")

    def gate(self, step: Step, text: str, preview: Sequence[str]) -> None:
        self._flush_skips()
        label = step_label(self._numbers.get(step.id), step.id)
        self.whole(f"  GATE {label}: {text}", "bold yellow", indent=7)
        for p in preview:
            self.whole(f"    {p}", "yellow", indent=8)

    def prompt(self, step_id: str, prompt: str, choices: Sequence[str] | None) -> None:
        self._flush_skips()

    def progress(self, text: str) -> None:
        self._flush_skips()
        self.line(f"    … {text}", "dim")

    def run_finished(self, result: RunResult) -> None:
        self._flush_skips()

    # -- helpers ----------------------------------------------------------------------------
    def _tolerated(self, step: Step) -> str:
        """Why a failure on this host does not stop the run ('' when it does)."""
        if self._failed <= self._budget:
            return f"max_errors {step.max_errors}"
        if step.on_failure in _ON_FAILURE:
            return f"on_failure {step.on_failure}"
        return ""

    def _flush_skips(self) -> None:
        """Print the skipped steps held back: one line with the reason in words for a single
        step, one line listing the ids for a run of them."""
        if not self._skips:
            return
        skips, self._skips = self._skips, []
        elapsed = skips[0][0]
        first, last = skips[0][1], skips[-1][1]
        place = f"{first.index}/{first.total}"
        if len(skips) == 1:
            step = first.step
            if first.already_done:
                self.line(f"[{elapsed}] {place} {step.id}: {_skip_reason(first)}", "dim")
                return
            name = f": {step.name} —" if step.name else " —"
            self.line(f"[{elapsed}] {place} {step.id} skipped{name} {_skip_reason(first)}", "dim")
            return
        place = f"{first.index}-{last.index}/{first.total}"
        groups: list[tuple[str, list[str]]] = []
        for _, skip in skips:
            reason = _skip_reason(skip, short=True)
            if groups and groups[-1][0] == reason:
                groups[-1][1].append(skip.step.id)
            else:
                groups.append((reason, [skip.step.id]))
        if len(groups) == 1:
            reason, ids = groups[0]
            head = f"[{elapsed}] {place} {_skip_verb(reason)}: "
            self._wrapped(head, ids, "dim")
            return
        parts = [f"{', '.join(ids)} ({reason})" for reason, ids in groups]
        self._wrapped(f"[{elapsed}] {place} skipped: ", parts, "dim", sep="; ")

    def _wrapped(self, head: str, items: list[str], style: str, sep: str = ", ") -> None:
        """``head`` then ``items`` joined by ``sep``, continued on indented lines (never cut)."""
        indent = " " * 8
        width = self.width()
        text = head
        for i, item in enumerate(items):
            piece = item + (sep.rstrip() if i < len(items) - 1 else "")
            if text not in (head, indent) and cell_len(text) + 1 + cell_len(piece) > width:
                self.line(text, style)
                text = indent
            text += ("" if text in (head, indent) else " ") + piece
        self.line(text, style)


_DRILL_TAG = {"simulate": " [drill: simulated]", "tabletop": " [drill: tabletop, walked]"}
_ON_FAILURE = {
    "continue": "the run goes on (on_failure: continue)",
    "escalate": "escalated, the run goes on (on_failure: escalate)",
}


def _skip_reason(skip: StepSkip, *, short: bool = False) -> str:
    """Why a step was skipped, in words: the condition that decided it (in full unless short)."""
    if skip.already_done:
        return "already done before the interruption"
    reason = skip.reason
    if reason.startswith("condition is false"):
        if short:
            return "condition false"
        when = " ".join(str(skip.step.when or "").split())
        return f"condition false: {when}" if when else "condition false"
    return reason


def _skip_verb(reason: str) -> str:
    return reason if reason.startswith("already done") else f"skipped ({reason})"


def _host_detail(step: Step, result: HostResult) -> tuple[str, list[str]]:
    """What a host's line says after its name and time, and the lines shown under it.

    What a finished host reports is the step kind's to say (``StepKind.host_detail``: the
    first line of output, the operator's answer, the channel a notice went through); here
    only what every kind shares: the error of a failure, and stderr when a command failed
    or wrote only to stderr.
    """
    failed = result.status.is_failure
    stdout: list[str] = []
    stderr: list[str] = []
    if result.commands and not step.no_log:
        command = result.commands[-1]
        if failed:
            command = next((c for c in result.commands if c.exit_code not in (0, None)), command)
        stdout, stderr = _text_lines(command.stdout), _text_lines(command.stderr)
    if failed or result.error:
        shown = [line for line in stderr[-STDERR_LINES:] if line != result.error]
        under = [("stderr: " if i == 0 else "        ") + line for i, line in enumerate(shown)]
        return result.error, under if failed else []
    detail = step.step_kind.host_detail(step, result)
    if not detail and stderr and not stdout:
        detail = f"stderr: {stderr[0]}"
    return detail, []


def _text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def hosts_text(hosts: Sequence[str], room: int) -> str:
    """``core1 (1 host)``, ``oa1, sms1 (2 hosts)``, or the first names that fit in ``room``
    cells and how many more: ``n001, n002 +98 more (100 hosts)``."""
    count = f"({len(hosts)} host{'' if len(hosts) == 1 else 's'})"
    shown: list[str] = []
    for i, name in enumerate(hosts):
        rest = len(hosts) - i - 1
        more = f" +{rest} more" if rest else ""
        if shown and cell_len(", ".join([*shown, name]) + more) > room:
            return f"{', '.join(shown)} +{len(hosts) - len(shown)} more {count}"
        shown.append(name)
    return f"{', '.join(shown)} {count}"


def wrap(text: str, width: int, indent: int) -> list[str]:
    """``text`` as lines of at most ``width`` cells, broken between words (inside a word only
    when it alone is too long), the lines after the first indented by ``indent`` spaces."""
    body = text.lstrip(" ")
    pad = " " * indent
    lines: list[str] = []
    current, fresh = text[: len(text) - len(body)], True  # fresh: only indentation so far
    for word in body.split(" "):
        candidate = current + ("" if fresh else " ") + word
        if fresh or cell_len(candidate) <= width:
            current = candidate
        else:
            lines.append(current.rstrip())
            current = pad + word
        fresh = False
        while cell_len(current) > width > indent:  # a word longer than a line
            head, rest = _split_cells(current, width)
            lines.append(head)
            current = pad + rest
    lines.append(current.rstrip())
    return lines


def _split_cells(text: str, width: int) -> tuple[str, str]:
    """The longest start of ``text`` that fits in ``width`` cells, and the rest."""
    cells, end = 0, 0
    while end < len(text) and cells + get_character_cell_size(text[end]) <= width:
        cells += get_character_cell_size(text[end])
        end += 1
    return text[:end], text[end:]


def fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells (wide CJK characters count two): cut at a
    word boundary when one is near the end, else mid-word, and marked with ``…``."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…" if width == 1 else ""
    cut, _ = _split_cells(text, width - 1)
    space = cut.rfind(" ")
    if space > 0 and cell_len(cut[space:]) <= max(12, (width - 1) // 4):
        cut = cut[:space]
    return cut.rstrip() + "…"


class UnattendedAsker:
    """No terminal and no answer: fail safe at once, never wait for input that cannot come.
    ``gone`` says why, when there was a terminal and it went away during the run."""

    def __init__(
        self, runbook: Runbook | None = None, *, gone: str | None = None, run_id: str = ""
    ) -> None:
        steps = runbook.steps if runbook is not None else ()
        self._numbers = {s.id: i for i, s in enumerate(steps, start=1)}
        self._gone = gone
        self._run_id = run_id

    def _why(self) -> str:
        if self._gone is None:
            return "respond runs unattended"
        resume = f"respond resume {self._run_id}" if self._run_id else "respond resume RUN_ID"
        return (
            f"the operator's terminal went away ({self._gone}) and the run went on unattended; "
            f"decide it with `{resume}`"
        )

    def confirm(self, step_id: str, text: str) -> bool:
        hint = "" if self._gone else "; pass --yes to confirm gates or --answers FILE"
        raise GateRefused(
            f"{step_label(self._numbers.get(step_id), step_id)} needs confirmation ({text}) "
            f"but {self._why()}{hint}"
        )

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        hint = "" if self._gone else f"; give the answer in --answers FILE as '{step_id}: ...'"
        raise GateRefused(
            f"{step_label(self._numbers.get(step_id), step_id)} asks the operator ({prompt}) "
            f"but {self._why()}{hint}"
        )

    def walk(self, step: Step, text: str) -> tuple[bool, str]:
        hint = (
            ""
            if self._gone
            else f"; pass --yes (every step done) or --answers FILE with 'steps: {{{step.id}: "
            "done}' (or 'skip: REASON')"
        )
        raise GateRefused(
            f"{step_label(self._numbers.get(step.id), step.id)} is walked in a tabletop drill "
            f"and needs done or skip, but {self._why()}{hint}"
        )


class TerminalAsker:
    """One keypress per decision. With a ``watch``, a terminal that went away (before or
    while a key is awaited) refuses the decision as an unattended run would."""

    def __init__(
        self,
        console: Any,
        watch: TerminalWatch | None = None,
        runbook: Runbook | None = None,
        run_id: str = "",
    ) -> None:
        self.console = console
        self.watch = watch
        self.runbook = runbook
        self.run_id = run_id

    def _keys(self) -> AbstractContextManager[None]:
        return self.watch.waiting_for_key() if self.watch is not None else nullcontext()

    def _left(self, gone: TerminalGone) -> UnattendedAsker:
        return UnattendedAsker(self.runbook, gone=str(gone), run_id=self.run_id)

    def confirm(self, step_id: str, text: str) -> bool:
        try:
            with self._keys():
                return self._confirm(step_id)
        except TerminalGone as gone:
            return self._left(gone).confirm(step_id, text)

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        try:
            with self._keys():
                return self._ask(step_id, prompt, choices)
        except TerminalGone as gone:
            return self._left(gone).ask(step_id, prompt, choices)

    def walk(self, step: Step, text: str) -> tuple[bool, str]:
        try:
            with self._keys():
                return self._walk(step, text)
        except TerminalGone as gone:
            return self._left(gone).walk(step, text)

    def _walk(self, step: Step, text: str) -> tuple[bool, str]:
        """done (d or Enter), or skip (s) with a reason: a skip without one is asked again."""
        click.echo(f"  walk: {printable(text)}", err=True)
        while True:
            click.echo(
                f"  {printable(step.id)}: done, or skip with a reason? [D/s] ", err=True, nl=False
            )
            key = _getchar()
            click.echo(key if key.isprintable() else "", err=True)
            if key.lower() == "d" or key in ("\r", "\n"):
                return True, ""
            if key.lower() != "s":
                continue
            reason = " ".join(click.prompt("  reason for skipping", err=True, type=str).split())
            if reason:
                return False, reason
            click.echo("  a skipped step needs a reason", err=True)

    def _confirm(self, step_id: str) -> bool:
        # The gate's text and what it will do were just printed by the progress view.
        click.echo(f"  Proceed with {printable(step_id)}? [y/N] ", err=True, nl=False)
        key = _getchar()
        click.echo(key if key.isprintable() else "", err=True)
        return key.lower() == "y"

    def _ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        click.echo(f"  ? [{printable(step_id)}] {printable(prompt)}", err=True)
        if choices and len(choices) <= 9:
            for i, choice in enumerate(choices, start=1):
                click.echo(f"     {i}) {printable(choice)}", err=True)
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
    if not isinstance(key, str) or not key:  # click gives nothing when the terminal vanished
        raise GateRefused("no input available")
    if key in ("\x03", "\x04"):
        raise KeyboardInterrupt
    return key


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
