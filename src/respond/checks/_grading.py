"""What the built-in checks share: the plugin-style summary line, a graded result with the
check's advice, reading a command's output (or saying in one line why it cannot be read),
and refusing argument values that are not plain names."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from respond.checks.catalog import CheckSpec, Collected, CommandOutput
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds, worst

# what an argument value may not hold: it would read as an option, or break a line
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GIB = 1024**3
# UNKNOWN: the host answered but what a command printed could not be read
READ_ADVICE = (
    "The check's command gave nothing it could read: run it on the host by hand (is the "
    "tool installed, may this login run it?)."
)


def headline(spec: CheckSpec, state: State, text: str) -> str:
    """``DISK WARNING - / 85% used``: the plugin style."""
    return f"{spec.name.upper()} {state.word} - {text}"


def graded(
    spec: CheckSpec,
    state: State,
    text: str,
    *,
    value: float | None = None,
    limits: Thresholds | None = None,
    perfdata: Sequence[Perfdatum] = (),
    details: Iterable[str] = (),
) -> CheckResult:
    """A result in the plugin style, with the check's unit and advice for a non-OK state."""
    return CheckResult(
        state=state,
        summary=headline(spec, state, text),
        value=value,
        unit=spec.unit,
        warn=limits.warn_text if limits else None,
        crit=limits.crit_text if limits else None,
        perfdata=tuple(perfdata),
        details=tuple(details),
        advice=None if state is State.OK else spec.advice.get(state),
    )


def unreadable(spec: CheckSpec, command: str, why: str) -> CheckResult:
    """UNKNOWN: what ``command`` gave could not be read, in one line."""
    reason = " ".join(why.split())[:200]
    return CheckResult(
        state=State.UNKNOWN,
        summary=headline(spec, State.UNKNOWN, f"cannot read `{command}`: {reason}"),
        unit=spec.unit,
        advice=spec.advice.get(State.UNKNOWN)
        or f"Run `{command}` on the host by hand to see why its output cannot be read.",
    )


def output_of(
    spec: CheckSpec, got: Collected, index: int, command: str
) -> CommandOutput | CheckResult:
    """The ``index``-th command's output (``command``), or UNKNOWN when it was not run, never
    finished or the tool is missing (exit code 126/127)."""
    if index >= len(got.commands):
        return unreadable(spec, command, "the command was not run")
    out = got.commands[index]
    if out.exit_code is None:
        return unreadable(spec, out.command, "the command did not finish")
    if out.exit_code in (126, 127):
        return unreadable(spec, out.command, first_line(out.stderr) or "command not found")
    return out


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def texts(value: Any) -> list[str]:
    """A ``texts`` argument as a list: one text or a list of them."""
    if value is None:
        return []
    if isinstance(value, str | int):
        return [str(value)]
    return [str(v) for v in value]


def quoted(words: Iterable[str]) -> str:
    """Words for a shell command line, each quoted (a value never becomes shell syntax)."""
    return " ".join(shlex.quote(w) for w in words)


def name_problems(args: Mapping[str, Any], name: str) -> list[tuple[str, str | None]]:
    """A value of the ``name`` argument that would read as an option (``-x``) or holds a
    newline or another control character."""
    out: list[tuple[str, str | None]] = []
    for value in texts(args.get(name)):
        if not value.strip():
            out.append((f"argument {name!r} has an empty value", name))
        elif value.startswith("-"):
            out.append(
                (f"argument {name!r}: {value!r} starts with '-' (it would be an option)", name)
            )
        elif _CONTROL.search(value):
            out.append((f"argument {name!r}: {value!r} holds a control character", name))
    return out


def number(text: str) -> float | None:
    """A number as tools print it (``0,52`` in some locales); None when it is not one."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def gib(amount: float) -> str:
    """Bytes in GiB (MiB when small), as an operator reads them."""
    if amount >= _GIB:
        return f"{amount / _GIB:.1f} GiB"
    return f"{amount / 1024**2:.0f} MiB"


def counted(word: str, count: int, plural: str | None = None) -> str:
    """``1 unit``, ``2 units``."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def worst_of(*states: State) -> State:
    return worst(states)
