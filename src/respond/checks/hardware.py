"""Checks of a server's hardware over SSH: IPMI sensors and event log, software RAID, and
the UPS (NUT)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from respond.checks._grading import (
    counted,
    first_line,
    graded,
    number,
    output_of,
    quoted,
    unreadable,
    worst_of,
)
from respond.checks.catalog import ArgSpec, CheckSpec, Collected
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds

# -- IPMI sensors ------------------------------------------------------------------------------

_SENSOR_STATE = {
    "cr": State.CRITICAL,
    "nr": State.CRITICAL,
    "critical": State.CRITICAL,
    "nc": State.WARNING,
    "warning": State.WARNING,
}
_SENSOR_QUIET = frozenset({"ok", "ns", "na", ""})
_HEX = re.compile(r"^0x[0-9a-f]+$", re.IGNORECASE)
_READING = re.compile(r"^([-+]?\d+(?:\.\d+)?)(?:\s+(.*))?$")


@dataclass(frozen=True)
class _Sensor:
    name: str
    reading: str
    unit: str
    status: str

    @property
    def state(self) -> State:
        status = self.status.lower()
        if status in _SENSOR_STATE:
            return _SENSOR_STATE[status]
        # real ipmitool prints a discrete sensor's state bits (0x0100) in this column
        if status in _SENSOR_QUIET or _HEX.match(status):
            return State.OK
        return State.WARNING


def _sensor_rows(stdout: str) -> list[_Sensor]:
    """``name | reading | status`` (the lab) or ipmitool's ``name | value | unit | status |
    lnr | lc | lnc | unc | uc | unr``."""
    rows = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 4:
            rows.append(_Sensor(cells[0], cells[1], cells[2], cells[3]))
        elif len(cells) == 3:
            match = _READING.match(cells[1])
            reading, unit = (match.group(1), match.group(2) or "") if match else (cells[1], "")
            rows.append(_Sensor(cells[0], reading, unit, cells[2]))
    return rows


class Sensors(CheckSpec):
    name = "sensors"
    summary = "IPMI sensors (fans, temperatures, power supplies, drives) report ok"
    transport = "ssh"
    reads = "`ipmitool sensor`"
    value_text = "number of sensors not ok"
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "A hardware sensor is in a critical state: read which one below, check "
        "the part (power supply cable and feed, fan, drive) and call the vendor for a "
        "replacement.",
        State.WARNING: "A hardware sensor is outside its normal range: check cooling and the "
        "part named, and watch whether it gets worse.",
        State.UNKNOWN: "ipmitool could not read the BMC: check that the ipmi kernel modules "
        "are loaded and the BMC answers (ipmitool mc info).",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["ipmitool sensor"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "ipmitool sensor")
        if isinstance(out, CheckResult):
            return out
        rows = _sensor_rows(out.stdout)
        if not rows:
            why = first_line(out.stderr + out.stdout) or "no sensor lines"
            return unreadable(self, "ipmitool sensor", why)
        bad = [r for r in rows if r.state is not State.OK]
        value = len(bad)
        state = worst_of(limits.grade(value), *(r.state for r in bad))
        text = (
            f"{value} of {counted('sensor', len(rows))} not ok: "
            + ", ".join(f"{r.name} ({r.status})" for r in bad)
            if bad
            else f"{counted('sensor', len(rows))} ok"
        )
        details = [f"{r.name}: {r.status} ({r.reading} {r.unit})".replace(" )", ")") for r in bad]
        perf = [
            Perfdatum(r.name, float(r.reading), "C")
            for r in rows
            if "degrees" in r.unit.lower() and number(r.reading) is not None
        ]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


# -- IPMI system event log ----------------------------------------------------------------------

_INFORMATIONAL = (
    "Log area reset/cleared",
    "System Boot Initiated",
    "Initiated by power up",
    "OEM record",
    "System ACPI Power State",
)
_SERIOUS = re.compile(
    # "Lower Non-critical going low" is a warning, not a critical event
    r"failure|(?<!non-)critical|uncorrectable|non-recoverable|power supply ac lost|drive fault",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Event:
    at: datetime
    sensor: str
    what: str
    asserted: bool

    @property
    def serious(self) -> bool:
        return bool(_SERIOUS.search(f"{self.sensor} {self.what}"))

    @property
    def text(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.sensor}: {self.what}"


def _sel_events(stdout: str) -> list[_Event] | None:
    """``id | MM/DD/YYYY | HH:MM:SS | sensor | event [| Asserted]`` lines; None when no line
    has that shape (a pre-init timestamp has no date and is skipped)."""
    events, lines = [], 0
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 5:
            continue
        lines += 1
        try:
            at = datetime.strptime(f"{cells[1]} {cells[2]}", "%m/%d/%Y %H:%M:%S")
        except ValueError:
            continue
        asserted = len(cells) < 6 or cells[5].lower() != "deasserted"
        events.append(_Event(at.replace(tzinfo=UTC), cells[3], cells[4], asserted))
    empty = not stdout.strip() or "SEL has no entries" in stdout
    return events if lines or empty else None


class IpmiSel(CheckSpec):
    name = "ipmi-sel"
    summary = "no hardware events in the IPMI system event log lately"
    transport = "ssh"
    reads = "`ipmitool sel elist`"
    value_text = "number of events in the last `hours` hours that are not informational"
    args = (ArgSpec("hours", "number", "how far back to look, in hours", default=24),)
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "The hardware logged a failure: read the events below, check the part "
        "(power supply, drive, memory) and open a case with the vendor.",
        State.WARNING: "The hardware logged events worth a look: read them below; a failure "
        "that has since recovered may come back.",
        State.UNKNOWN: "ipmitool could not read the event log: check that the BMC answers "
        "(ipmitool mc info).",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        hours = args.get("hours")
        if hours is not None and hours <= 0:
            return [("argument 'hours' of check ipmi-sel must be above 0", "hours")]
        return []

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["ipmitool sel elist"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "ipmitool sel elist")
        if isinstance(out, CheckResult):
            return out
        events = _sel_events(out.stdout)
        if events is None or (out.exit_code and not events):
            why = first_line(out.stderr + out.stdout) or "no output"
            return unreadable(self, "ipmitool sel elist", why)
        hours = float(args.get("hours") or 24)
        since = got.now - timedelta(hours=hours)
        recent = [e for e in events if e.at >= since and not _informational(e)]
        return self._graded(recent, events, hours, limits)

    def _graded(
        self, recent: list[_Event], events: list[_Event], hours: float, limits: Thresholds
    ) -> CheckResult:
        raised = [e for e in recent if e.asserted]
        cleared = {(e.sensor, e.what) for e in recent if not e.asserted}
        states = [
            State.CRITICAL if e.serious and (e.sensor, e.what) not in cleared else State.WARNING
            for e in raised
        ]
        value = len(raised)
        state = worst_of(limits.grade(value), *states)
        span = f"{hours:g} h"
        if raised:
            text = f"{counted('event', value)} in the last {span}: " + ", ".join(
                f"{e.sensor} {e.what}" for e in raised[:4]
            )
        else:
            text = f"no events in the last {span} ({counted('entry', len(events), 'entries')} in the log)"
        details = [
            e.text + ("" if (e.sensor, e.what) not in cleared else " (since deasserted)")
            for e in raised
        ]
        perf = [Perfdatum("events", value, "", limits.warn_text, limits.crit_text, 0)]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


def _informational(event: _Event) -> bool:
    return any(word in f"{event.sensor} {event.what}" for word in _INFORMATIONAL)


# -- software RAID -------------------------------------------------------------------------------

_ARRAY = re.compile(r"^(md\S*)\s*:\s*(\S+)\s*(.*)$")
_MEMBERS = re.compile(r"\[(\d+)/(\d+)\]\s*\[([U_]+)\]")
_REBUILD = re.compile(r"\b(recovery|resync|reshape)\s*=\s*(\S+)")


@dataclass(frozen=True)
class _Array:
    name: str
    active: bool
    level: str
    status: str  # [UU], [U_], or "" (none printed)
    rebuild: str  # "recovery 8.5%", or ""

    @property
    def degraded(self) -> bool:
        return not self.active or "_" in self.status

    @property
    def state(self) -> State:
        if self.rebuild:
            return State.WARNING
        return State.CRITICAL if self.degraded else State.OK

    @property
    def text(self) -> str:
        words = [self.name, self.level, self.status or ("inactive" if not self.active else "")]
        if self.rebuild:
            words.append(self.rebuild)
        elif self.degraded:
            words.append("degraded")
        return " ".join(w for w in words if w)


def _arrays(stdout: str) -> list[_Array]:
    arrays: list[_Array] = []
    current: dict[str, Any] | None = None
    for line in [*stdout.splitlines(), ""]:
        match = _ARRAY.match(line)
        if match or not line.strip() or line.startswith("unused devices"):
            if current:
                arrays.append(_Array(**current))
            current = None
        if match:
            active = match.group(2) == "active"
            level = match.group(3).split()[0] if active and match.group(3) else ""
            current = {
                "name": match.group(1),
                "active": active,
                "level": level,
                "status": "",
                "rebuild": "",
            }
        elif current is not None:
            members = _MEMBERS.search(line)
            if members:
                current["status"] = f"[{members.group(3)}]"
            rebuild = _REBUILD.search(line)
            if rebuild:
                current["rebuild"] = f"{rebuild.group(1)} {rebuild.group(2)}"
    return arrays


class Raid(CheckSpec):
    name = "raid"
    summary = "Linux software RAID (md) arrays are complete"
    transport = "ssh"
    reads = "`cat /proc/mdstat`"
    value_text = "number of degraded arrays (not rebuilding)"
    crit = "0"
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "A RAID array lost a disk and has no redundancy left: replace the "
        "failed disk (mdadm --detail names it) and add the new one to the array, and make "
        "sure backups are current.",
        State.WARNING: "A RAID array is rebuilding: leave it to finish, avoid heavy load, and "
        "check again afterwards.",
        State.UNKNOWN: "/proc/mdstat could not be read: run `cat /proc/mdstat` on the host.",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["cat /proc/mdstat"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "cat /proc/mdstat")
        if isinstance(out, CheckResult):
            return out
        if out.exit_code:
            if "No such file" in out.stderr:  # no md driver loaded: no arrays
                return graded(self, State.OK, "no software RAID arrays", value=0, limits=limits)
            return unreadable(self, "cat /proc/mdstat", first_line(out.stderr) or "no output")
        if not out.stdout.strip():
            return unreadable(self, "cat /proc/mdstat", "empty output")
        arrays = _arrays(out.stdout)
        if not arrays:
            return graded(self, State.OK, "no software RAID arrays", value=0, limits=limits)
        degraded = [a for a in arrays if a.degraded and not a.rebuild]
        value = len(degraded)
        state = worst_of(limits.grade(value), *(a.state for a in arrays))
        bad = [a.text for a in arrays if a.state is not State.OK]
        text = ", ".join(bad) if bad else f"{counted('array', len(arrays))} clean"
        perf = [
            Perfdatum("degraded", value, "", limits.warn_text, limits.crit_text, 0, len(arrays))
        ]
        details = [a.text for a in arrays]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


# -- UPS (Network UPS Tools) ----------------------------------------------------------------------

# ups.status words: the state they put the check in at least, and what they mean
_UPS_WORDS: dict[str, tuple[State, str]] = {
    "OB": (State.CRITICAL, "on battery"),
    "LB": (State.CRITICAL, "battery low"),
    "FSD": (State.CRITICAL, "forced shutdown"),
    "OFF": (State.CRITICAL, "output off"),
    "RB": (State.WARNING, "replace battery"),
    "OVER": (State.WARNING, "overloaded"),
    "BYPASS": (State.WARNING, "on bypass"),
    "ALARM": (State.WARNING, "alarm"),
}


class Ups(CheckSpec):
    name = "ups"
    summary = "the UPS is on line power with enough battery runtime (NUT)"
    transport = "ssh"
    reads = "`upsc UPS`"
    value_text = "battery runtime in minutes"
    unit = "min"
    warn = "15:"
    crit = "5:"
    args = (ArgSpec("ups", "text", "the UPS as NUT names it", default="ups@localhost"),)
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "The UPS runs on battery or is about to fail: check the mains feed "
        "and the generator now, and shut down what is not essential before the battery runs "
        "out (the power-outage runbook).",
        State.WARNING: "The UPS needs attention (battery to replace, overload, alarm, or "
        "short runtime): plan the battery replacement or shed load.",
        State.UNKNOWN: "The UPS could not be read: check that the NUT server (upsd) runs and "
        "knows this UPS (upsc -l).",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        ups = str(args.get("ups") or "")
        if ups.startswith("-") or not re.fullmatch(r"[\w.@:-]+", ups or "x"):
            return [(f"argument 'ups': {ups!r} is not a NUT UPS name (ups@host)", "ups")]
        return []

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["upsc " + quoted([str(args.get("ups") or "ups@localhost")])]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        command = self.commands(args)[0]
        out = output_of(self, got, 0, command)
        if isinstance(out, CheckResult):
            return out
        values = dict(
            (k.strip(), v.strip())
            for k, sep, v in (line.partition(":") for line in out.stdout.splitlines())
            if sep
        )
        status = values.get("ups.status", "").split()
        if not status:
            lines = [ln for ln in out.stderr.splitlines() if "Init SSL" not in ln]
            return unreadable(
                self, command, first_line("\n".join(lines) + out.stdout) or "no ups.status"
            )
        return self._graded(values, status, limits)

    def _graded(
        self, values: Mapping[str, str], status: list[str], limits: Thresholds
    ) -> CheckResult:
        seconds = number(values.get("battery.runtime", ""))
        minutes = round(seconds / 60, 1) if seconds is not None else None
        flagged = [_UPS_WORDS[w] for w in status if w in _UPS_WORDS]
        runtime_state = limits.grade(minutes) if minutes is not None else State.OK
        state = worst_of(runtime_state, *(s for s, _ in flagged))
        words = ", ".join(what for _, what in flagged) or "on line power"
        text = f"{words} ({' '.join(status)})"
        if minutes is not None:
            text += f", {minutes:g} min left"
        perf = _ups_perf(values, minutes, limits)
        details = [
            f"{k}: {values[k]}"
            for k in (
                "ups.status",
                "battery.charge",
                "battery.runtime",
                "ups.load",
                "input.voltage",
            )
            if k in values
        ]
        return graded(
            self, state, text, value=minutes, limits=limits, perfdata=perf, details=details
        )


def _ups_perf(
    values: Mapping[str, str], minutes: float | None, limits: Thresholds
) -> list[Perfdatum]:
    perf = []
    charge = number(values.get("battery.charge", ""))
    if charge is not None:
        perf.append(Perfdatum("charge", charge, "%", None, None, 0, 100))
    if minutes is not None:
        perf.append(Perfdatum("runtime", minutes, "", limits.warn_text, limits.crit_text, 0))
    load = number(values.get("ups.load", ""))
    if load is not None:
        perf.append(Perfdatum("load", load, "%", None, None, 0, 100))
    return perf


CHECKS: tuple[CheckSpec, ...] = (Sensors(), IpmiSel(), Raid(), Ups())
