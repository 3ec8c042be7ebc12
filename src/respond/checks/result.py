"""A graded check result, as the Nagios plugin contract defines it.

A check ends in one of four states (exit codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), one
line of text, and optional performance data, ``'label'=value[UOM];warn;crit;min;max``. The
thresholds are Nagios ranges: ``10`` alerts outside 0..10, ``10:`` below 10, ``~:10`` above 10,
``10:20`` outside 10..20, and ``@10:20`` inside 10..20. Built-in checks produce the same
result as an existing plugin would, so the thousands of Nagios/Icinga/Naemon plugins on a host
serve as checks unchanged (``parse_plugin_output``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class State(IntEnum):
    """The plugin exit code and what it means."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def word(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        """How bad, for "the worst of": OK < UNKNOWN < WARNING < CRITICAL (check_multi's
        order: an unknown reading is worth a look, a warning more so)."""
        return (0, 2, 3, 1)[self.value]

    @classmethod
    def from_word(cls, text: str) -> State:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"not a check state: {text!r} (OK, WARNING, CRITICAL, UNKNOWN)"
            ) from None

    @classmethod
    def from_code(cls, code: int | None) -> State:
        """A plugin's exit code; anything but 0-3 (a crash, a signal) is UNKNOWN."""
        if code is not None and 0 <= code <= 3:
            return cls(code)
        return cls.UNKNOWN


def worst(states: Iterable[State]) -> State:
    """The worst of ``states`` by ``State.rank`` (OK for none)."""
    return max(states, key=lambda s: s.rank, default=State.OK)


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^(@)?(?:(~|{_NUMBER})?:)?({_NUMBER})?$")


@dataclass(frozen=True, slots=True)
class Range:
    """A Nagios threshold range: alert when the value is outside ``start..end`` (or inside,
    with ``@``). ``None`` is minus or plus infinity."""

    start: float | None
    end: float | None
    inside: bool = False
    text: str = ""

    @classmethod
    def parse(cls, spec: str | float | int) -> Range:
        """``10``, ``10:``, ``~:10``, ``10:20``, ``@10:20``; ``ValueError`` for anything else."""
        text = str(spec).strip()
        match = _RANGE.match(text)
        if not text or not match or text in ("@", ":", "@:"):
            raise ValueError(
                f"not a Nagios threshold range: {text!r} (examples: 10, 10:, ~:10, 10:20, @10:20)"
            )
        inside, low, high = match.group(1), match.group(2), match.group(3)
        if ":" not in text:  # a bare number N means 0..N
            start: float | None = 0.0
        elif low in (None, ""):
            start = 0.0
        elif low == "~":
            start = None
        else:
            start = float(low)
        end = float(high) if high not in (None, "") else None
        if start is not None and end is not None and start > end:
            raise ValueError(f"threshold range {text!r} starts above its end")
        return cls(start, end, bool(inside), text)

    def alerts(self, value: float) -> bool:
        """Whether ``value`` crosses this threshold."""
        within = (self.start is None or value >= self.start) and (
            self.end is None or value <= self.end
        )
        return within if self.inside else not within

    def __str__(self) -> str:
        return self.text or _range_text(self)


def _range_text(r: Range) -> str:
    low = "~" if r.start is None else _num(r.start)
    high = "" if r.end is None else _num(r.end)
    body = high if low == "0" and r.end is not None else f"{low}:{high}"
    return ("@" if r.inside else "") + body


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A check's warning and critical ranges (either may be absent)."""

    warn: Range | None = None
    crit: Range | None = None

    @classmethod
    def parse(cls, warn: str | float | None, crit: str | float | None) -> Thresholds:
        return cls(
            Range.parse(warn) if warn not in (None, "") else None,
            Range.parse(crit) if crit not in (None, "") else None,
        )

    def grade(self, value: float | None) -> State:
        """CRITICAL if the critical range alerts, else WARNING if the warning one does, else
        OK; UNKNOWN without a value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return State.UNKNOWN
        if self.crit is not None and self.crit.alerts(value):
            return State.CRITICAL
        if self.warn is not None and self.warn.alerts(value):
            return State.WARNING
        return State.OK

    @property
    def warn_text(self) -> str | None:
        return str(self.warn) if self.warn is not None else None

    @property
    def crit_text(self) -> str | None:
        return str(self.crit) if self.crit is not None else None


@dataclass(frozen=True, slots=True)
class Perfdatum:
    """One ``'label'=value[UOM];warn;crit;min;max`` item."""

    label: str
    value: float
    uom: str = ""
    warn: str | None = None
    crit: str | None = None
    min: float | None = None
    max: float | None = None

    def format(self) -> str:
        label = self.label.replace("'", "''")
        if re.search(r"[\s'=]", self.label):
            label = f"'{label}'"
        fields = [
            f"{_num(self.value)}{self.uom}",
            self.warn or "",
            self.crit or "",
            "" if self.min is None else _num(self.min),
            "" if self.max is None else _num(self.max),
        ]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        return f"{label}=" + ";".join(fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "uom": self.uom,
            "warn": self.warn,
            "crit": self.crit,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Perfdatum:
        return cls(
            label=str(data["label"]),
            value=float(data["value"]),
            uom=str(data.get("uom") or ""),
            warn=data.get("warn"),
            crit=data.get("crit"),
            min=data.get("min"),
            max=data.get("max"),
        )


def _num(value: float) -> str:
    """A number as plugins print it: 12 not 12.0, 0.25 not 0.250000."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


_PERF_ITEM = re.compile(r"\s*('(?:[^']|'')+'|[^\s=']+)=(\S*)")
_VALUE = re.compile(rf"^({_NUMBER})([a-zA-Z%/]*)$")


def parse_perfdata(text: str) -> list[Perfdatum]:
    """Every well-formed item of a perfdata string; malformed items are skipped (plugins
    in the wild print odd things, and one bad item must not lose the others)."""
    items: list[Perfdatum] = []
    pos = 0
    while pos < len(text):
        match = _PERF_ITEM.match(text, pos)
        if not match:
            nxt = text.find(" ", pos + 1)
            if nxt < 0:
                break
            pos = nxt
            continue
        pos = match.end()
        label = match.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        fields = match.group(2).split(";")
        value = _VALUE.match(fields[0])
        if not value:
            continue
        rest = [*fields[1:], "", "", "", ""][:4]
        items.append(
            Perfdatum(
                label=label,
                value=float(value.group(1)),
                uom=value.group(2),
                warn=rest[0] or None,
                crit=rest[1] or None,
                min=_float_or_none(rest[2]),
                max=_float_or_none(rest[3]),
            )
        )
    return items


def _float_or_none(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check on one host: the state, one line of text, the headline value with its unit
    and thresholds (what a report's table shows), perfdata, more lines, and what to do."""

    state: State
    summary: str
    value: float | None = None
    unit: str = ""
    warn: str | None = None
    crit: str | None = None
    perfdata: tuple[Perfdatum, ...] = ()
    details: tuple[str, ...] = ()  # the plugin's long text, or one line per item looked at
    advice: str | None = None  # what to do about a non-OK state

    @property
    def threshold(self) -> str:
        """The thresholds in words for a table: ``warn 80 / crit 90``, or ``""``."""
        parts = []
        if self.warn:
            parts.append(f"warn {self.warn}")
        if self.crit:
            parts.append(f"crit {self.crit}")
        return " / ".join(parts)

    def plugin_line(self) -> str:
        """The result as a plugin prints its first line: ``TEXT | perfdata``."""
        line = self.summary
        if self.perfdata:
            line += " | " + " ".join(p.format() for p in self.perfdata)
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.word,
            "code": int(self.state),
            "summary": self.summary,
            "value": self.value,
            "unit": self.unit,
            "warn": self.warn,
            "crit": self.crit,
            "perfdata": [p.to_dict() for p in self.perfdata],
            "details": list(self.details),
            "advice": self.advice,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            state=State.from_word(str(data["state"])),
            summary=str(data.get("summary", "")),
            value=data.get("value"),
            unit=str(data.get("unit") or ""),
            warn=data.get("warn"),
            crit=data.get("crit"),
            perfdata=tuple(Perfdatum.from_dict(p) for p in data.get("perfdata") or ()),
            details=tuple(str(d) for d in data.get("details") or ()),
            advice=data.get("advice"),
        )


def unknown(summary: str, *, advice: str | None = None) -> CheckResult:
    """A check that could not be read (no answer, unparsable output)."""
    return CheckResult(state=State.UNKNOWN, summary=summary, advice=advice)


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """What a plugin printed, split as the contract says: the first line's text and
    perfdata, the long text, and perfdata given after a ``|`` in the long text."""

    text: str
    long_text: tuple[str, ...] = ()
    perfdata: tuple[Perfdatum, ...] = field(default_factory=tuple)


def split_plugin_output(stdout: str) -> PluginOutput:
    lines = stdout.rstrip("\n").splitlines() or [""]
    first, _, perf = lines[0].partition("|")
    long_text: list[str] = []
    more_perf: list[str] = [perf]
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            more_perf.append(line)
            continue
        text, bar, perf_part = line.partition("|")
        long_text.append(text.rstrip())
        if bar:
            in_perf = True
            more_perf.append(perf_part)
    perfdata = tuple(parse_perfdata(" ".join(more_perf)))
    while long_text and not long_text[-1]:
        long_text.pop()
    return PluginOutput(first.strip(), tuple(long_text), perfdata)


def parse_plugin_output(
    code: int | None, stdout: str, *, stderr: str = "", advice: Mapping[State, str] | None = None
) -> CheckResult:
    """A plugin's exit code and output as a ``CheckResult``; the first perfdata item gives
    the headline value and thresholds."""
    out = split_plugin_output(stdout)
    state = State.from_code(code)
    summary = out.text or (stderr.strip().splitlines() or [""])[0]
    if not summary:
        summary = f"the plugin printed nothing (exit code {code})"
    if code is not None and not 0 <= code <= 3:
        summary = f"plugin exit code {code}: {summary}"
    head: Perfdatum | None = out.perfdata[0] if out.perfdata else None
    return CheckResult(
        state=state,
        summary=summary,
        value=head.value if head else None,
        unit=head.uom if head else "",
        warn=head.warn if head else None,
        crit=head.crit if head else None,
        perfdata=out.perfdata,
        details=out.long_text,
        advice=(advice or {}).get(state),
    )


def summarise(results: Sequence[CheckResult]) -> dict[str, int]:
    """How many results are in each state, every state named."""
    counts = {s.word: 0 for s in State}
    for r in results:
        counts[r.state.word] += 1
    return counts
