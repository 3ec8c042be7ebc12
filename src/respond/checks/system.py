"""Checks of a server's operating system over SSH: reachability, load, memory, disk space
and inodes, services, and the clock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from respond.checks._grading import (
    READ_ADVICE,
    counted,
    first_line,
    gib,
    graded,
    name_problems,
    output_of,
    quoted,
    texts,
    unreadable,
    worst_of,
)
from respond.checks.catalog import ArgSpec, CheckSpec, Collected
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds

_UP = re.compile(r"\bup\s+(.+?),\s+\d+\s+users?\b|\bup\s+(.+?),\s+load average", re.IGNORECASE)
_LOAD = re.compile(
    r"load averages?:\s*(\d+(?:[.,]\d+)?),?\s+(\d+(?:[.,]\d+)?),?\s+(\d+(?:[.,]\d+)?)",
    re.IGNORECASE,
)


def _uptime_text(stdout: str) -> str | None:
    """``up 12 days,  3:04`` / ``up 5 min`` / ``up 2:10`` from ``uptime``'s line."""
    match = _UP.search(stdout)
    if not match:
        return None
    return " ".join((match.group(1) or match.group(2)).replace(",", ", ").split())


class Reachable(CheckSpec):
    name = "reachable"
    summary = "the host answers over SSH (login and one command)"
    transport = "ssh"
    reads = "`uptime`"
    value_text = "seconds the login and the command took"
    unit = "s"
    failure_state = State.CRITICAL
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.CRITICAL: "The host does not answer over SSH: check that it is powered on, its "
        "network path (switch port, cabling, firewall) and that sshd runs.",
        State.WARNING: "The host answers slowly: look at its load and at the network path.",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["uptime"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        took = got.latency_s
        uptime = _uptime_text(got.stdout(0))
        text = "answered" + (f" in {took:.2f} s" if took is not None else "")
        if uptime:
            text += f", up {uptime}"
        state = limits.grade(took) if took is not None else State.OK
        perf = (
            [Perfdatum("time", round(took, 3), "s", limits.warn_text, limits.crit_text, 0)]
            if took is not None
            else []
        )
        return graded(self, state, text, value=took, limits=limits, perfdata=perf)


class Load(CheckSpec):
    name = "load"
    summary = "the 5-minute load average, per CPU"
    transport = "ssh"
    reads = "`uptime`, `nproc`"
    value_text = "5-minute load average per CPU (raw with per_cpu: false)"
    args = (ArgSpec("per_cpu", "flag", "divide the load by the number of CPUs", default=True),)
    warn = "2"
    crit = "4"
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.WARNING: "The host is busier than usual: find the processes using the CPU "
        "(top) and whether a job or an attack drives them.",
        State.CRITICAL: "The host is overloaded: find the processes using the CPU (top), "
        "stop runaway jobs, or move load to another host.",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["uptime", "nproc"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "uptime")
        if isinstance(out, CheckResult):
            return out
        match = _LOAD.search(out.stdout)
        if not match:
            return unreadable(self, "uptime", first_line(out.stdout + out.stderr) or "no output")
        loads = [float(m.replace(",", ".")) for m in match.groups()]
        per_cpu = bool(args.get("per_cpu", True))
        cpus = _cpus(got.stdout(1)) if len(got.commands) > 1 else None
        if per_cpu and cpus is None:
            return unreadable(self, "nproc", first_line(got.stdout(1)) or "no CPU count")
        value = round(loads[1] / cpus, 2) if per_cpu and cpus else loads[1]
        state = limits.grade(value)
        shown = ", ".join(f"{v:.2f}" for v in loads)
        text = f"load average {shown}"
        if cpus:
            text += f" on {counted('CPU', cpus)}"
        if per_cpu:
            text += f" ({value:.2f} per CPU over 5 min)"
        return graded(
            self,
            state,
            text,
            value=value,
            limits=limits,
            perfdata=_load_perf(loads, value, per_cpu, limits),
        )


def _cpus(stdout: str) -> int | None:
    text = stdout.strip()
    return int(text) if text.isdecimal() and int(text) > 0 else None


def _load_perf(
    loads: list[float], value: float, per_cpu: bool, limits: Thresholds
) -> list[Perfdatum]:
    w, c = (None, None) if per_cpu else (limits.warn_text, limits.crit_text)
    perf = [
        Perfdatum("load1", loads[0], "", None, None, 0),
        Perfdatum("load5", loads[1], "", w, c, 0),
        Perfdatum("load15", loads[2], "", None, None, 0),
    ]
    if per_cpu:
        perf.append(Perfdatum("load5_per_cpu", value, "", limits.warn_text, limits.crit_text, 0))
    return perf


class Memory(CheckSpec):
    name = "memory"
    summary = "memory in use (what is not available to new programs)"
    transport = "ssh"
    reads = "`free -b`"
    value_text = "used % = (total - available) / total"
    unit = "%"
    warn = "90"
    crit = "95"
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.WARNING: "Memory is running low: find the processes using it (top, sorted by "
        "memory) and restart or limit a leaking one.",
        State.CRITICAL: "Memory is nearly exhausted and the kernel may kill programs: restart "
        "or stop the process using the most memory, or add memory.",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["free -b"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "free -b")
        if isinstance(out, CheckResult):
            return out
        mem = _free(out.stdout)
        if mem is None:
            return unreadable(self, "free -b", first_line(out.stdout + out.stderr) or "no output")
        total, available = mem
        used = total - available
        pct = round(used * 100 / total, 1)
        state = limits.grade(pct)
        perf = [
            Perfdatum("mem_used", pct, "%", limits.warn_text, limits.crit_text, 0, 100),
            Perfdatum("mem_used_bytes", used, "B", None, None, 0, total),
        ]
        text = f"{pct}% used ({gib(used)} of {gib(total)})"
        return graded(self, state, text, value=pct, limits=limits, perfdata=perf)


def _free(stdout: str) -> tuple[int, int] | None:
    """(total, available) bytes from ``free -b``; procps before 3.3.10 prints no
    ``available`` column, so free + buffers + cache stands in for it."""
    lines = [line.split() for line in stdout.splitlines() if line.strip()]
    header = next((words for words in lines if "total" in words), None)
    row = next((words for words in lines if words and words[0] == "Mem:"), None)
    if header is None or row is None or len(row) < len(header) + 1:
        return None
    try:
        values = dict(zip(header, (int(v) for v in row[1:]), strict=False))
    except ValueError:
        return None
    total = values.get("total", 0)
    if total <= 0:
        return None
    if "available" in values:
        return total, values["available"]
    cache = values.get("buff/cache", values.get("buffers", 0) + values.get("cached", 0))
    return total, values.get("free", 0) + cache


# -- disk space and inodes --------------------------------------------------------------------

# df -P: Filesystem 1024-blocks Used Available Capacity Mounted-on (the mount may hold spaces)
_DF_ROW = re.compile(r"^(\S+(?:\s\S+)*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(/.*)$")
# filesystems a default disk check leaves out: memory-backed, container layers, read-only images
_SKIPPED = frozenset({"tmpfs", "devtmpfs", "udev", "overlay", "squashfs", "none", "shm"})
_BROKEN = ("Input/output error", "Stale file handle", "Transport endpoint is not connected")


@dataclass(frozen=True)
class _Fs:
    device: str
    size: int
    used: int
    free: int
    pct: int
    mount: str


def _df_rows(stdout: str) -> list[_Fs]:
    rows = []
    for line in stdout.splitlines():
        match = _DF_ROW.match(line.rstrip())
        if not match or match.group(5) == "-":
            continue  # the header, or a filesystem with no inodes/blocks to count
        dev, size, used, free, pct, mount = match.groups()
        rows.append(_Fs(dev, int(size), int(used), int(free), int(pct[:-1]), mount))
    return rows


class Disk(CheckSpec):
    name = "disk"
    summary = "space used on each filesystem"
    transport = "ssh"
    reads = "`df -P [PATH...]`"
    value_text = "the worst used % over the filesystems looked at"
    unit = "%"
    warn = "80"
    crit = "90"
    args = (
        ArgSpec(
            "paths",
            "texts",
            "filesystems (mount points or paths on them) to look at; default every "
            "filesystem but tmpfs/devtmpfs/udev/overlay/squashfs",
        ),
    )
    option = "-P"
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.WARNING: "Free space on the filesystems named: rotate logs, remove old backups, "
        "or extend the volume.",
        State.CRITICAL: "A filesystem is nearly full or cannot be read: free space now (rotate "
        "or compress logs, move old backups away) or extend the volume; an input/output "
        "error means a failing disk.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        return name_problems(args, "paths")

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return [" ".join(["df", self.option, quoted(texts(args.get("paths")))]).rstrip()]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        command = self.commands(args)[0]
        out = output_of(self, got, 0, command)
        if isinstance(out, CheckResult):
            return out
        paths = texts(args.get("paths"))
        rows = [r for r in _df_rows(out.stdout) if paths or not _skipped(r.device)]
        errors = [line.strip() for line in out.stderr.splitlines() if line.strip()]
        if not rows and not errors:
            return unreadable(self, command, first_line(out.stdout) or "no filesystems listed")
        return self._graded(rows, errors, limits)

    def _graded(self, rows: list[_Fs], errors: list[str], limits: Thresholds) -> CheckResult:
        states = [limits.grade(r.pct) for r in rows]
        broken = [e for e in errors if any(b in e for b in _BROKEN)]
        error_state = State.CRITICAL if broken else State.UNKNOWN if errors else State.OK
        state = worst_of(error_state, *states)
        value = max((r.pct for r in rows), default=None)
        bad = [self._line(r) for r, s in zip(rows, states, strict=True) if s is not State.OK]
        if errors:
            text = "; ".join(errors[:3])
        elif bad:
            text = ", ".join(bad)
        else:
            top = max(rows, key=lambda r: r.pct)
            text = f"{self._line(top)} (the fullest of {counted('filesystem', len(rows))})"
        perf = [
            Perfdatum(r.mount, r.pct, "%", limits.warn_text, limits.crit_text, 0, 100) for r in rows
        ]
        details = [f"{self._line(r)} on {r.device}" for r in rows] + errors
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)

    def _line(self, fs: _Fs) -> str:
        total = fs.used + fs.free
        return f"{fs.mount} {fs.pct}% used ({gib(fs.used * 1024)} of {gib(total * 1024)})"


def _skipped(device: str) -> bool:
    return device in _SKIPPED or device.startswith("/dev/loop")


class Inodes(Disk):
    name = "inodes"
    summary = "inodes (file slots) used on each filesystem"
    reads = "`df -Pi [PATH...]`"
    value_text = "the worst inode used % over the filesystems looked at"
    option = "-Pi"
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.WARNING: "A filesystem is running out of inodes (too many small files): find "
        "the directory holding them (du --inodes) and clean up old sessions, caches or mail.",
        State.CRITICAL: "A filesystem has almost no inodes left, so no file can be created: "
        "delete the many small files (du --inodes finds them) or rebuild it with more inodes.",
    }

    def _line(self, fs: _Fs) -> str:
        return f"{fs.mount} {fs.pct}% of inodes used ({fs.used} of {fs.used + fs.free})"


# -- services ---------------------------------------------------------------------------------


class Service(CheckSpec):
    name = "service"
    summary = "systemd units are active"
    transport = "ssh"
    reads = "`systemctl is-active UNIT...`"
    value_text = "number of units not active"
    crit = "0"
    args = (ArgSpec("units", "texts", "the systemd units that must be active", required=True),)
    advice: ClassVar[Mapping[State, str]] = {
        State.UNKNOWN: READ_ADVICE,
        State.CRITICAL: "A service is not running: read why (systemctl status UNIT, "
        "journalctl -u UNIT) and start it again (systemctl restart UNIT).",
        State.WARNING: "A service is not running: read why (systemctl status UNIT) and start "
        "it again.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        if not texts(args.get("units")):
            return [("check service needs at least one unit in 'units'", "units")]
        return name_problems(args, "units")

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["systemctl is-active " + quoted(texts(args.get("units")))]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        command = self.commands(args)[0]
        out = output_of(self, got, 0, command)
        if isinstance(out, CheckResult):
            return out
        units = texts(args.get("units"))
        states = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if len(states) != len(units):  # exit code 3 just means "not all active"
            return unreadable(self, command, first_line(out.stderr + out.stdout) or "no output")
        down = [f"{u} ({s})" for u, s in zip(units, states, strict=True) if s != "active"]
        value = len(down)
        state = limits.grade(value)
        if down:
            text = f"{value} of {counted('unit', len(units))} not active: {', '.join(down)}"
        else:
            text = f"{counted('unit', len(units))} active ({', '.join(units)})"
        perf = [
            Perfdatum("not_active", value, "", limits.warn_text, limits.crit_text, 0, len(units))
        ]
        details = [f"{u}: {s}" for u, s in zip(units, states, strict=True)]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


# -- the clock ---------------------------------------------------------------------------------

_SYSTEM_TIME = re.compile(r"System time\s*:\s*([\d.]+)\s+seconds\s+(fast|slow)", re.IGNORECASE)
_LEAP = re.compile(r"Leap status\s*:\s*(.+)", re.IGNORECASE)
_SOURCE = re.compile(r"Reference ID\s*:\s*\S+\s*\(([^)]*)\)", re.IGNORECASE)


class Time(CheckSpec):
    name = "time"
    summary = "the clock is synchronised and close to NTP time (chrony)"
    transport = "ssh"
    reads = "`chronyc tracking`"
    value_text = "the clock's offset from NTP time in seconds (fast or slow)"
    unit = "s"
    warn = "0.5"
    crit = "1"
    advice: ClassVar[Mapping[State, str]] = {
        State.WARNING: "The clock drifts from NTP time: check chronyd's sources (chronyc "
        "sources) and that the NTP servers are reachable.",
        State.CRITICAL: "The clock is wrong or not synchronised, so logs, certificates and "
        "timestamps disagree: check chronyd runs and reaches its NTP servers (chronyc "
        "sources), then step the clock (chronyc makestep).",
        State.UNKNOWN: "chronyc could not report: check that chronyd is installed and "
        "running (systemctl status chronyd).",
    }

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return ["chronyc tracking"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        out = output_of(self, got, 0, "chronyc tracking")
        if isinstance(out, CheckResult):
            return out
        leap = _LEAP.search(out.stdout)
        if leap and "not synchronised" in leap.group(1).lower():
            return graded(
                self,
                State.CRITICAL,
                f"not synchronised to NTP (Leap status: {leap.group(1).strip()})",
                limits=limits,
            )
        offset = _SYSTEM_TIME.search(out.stdout)
        if not offset:
            why = first_line(out.stdout + out.stderr) or "no output"
            return unreadable(self, "chronyc tracking", why)
        value = float(offset.group(1))
        state = limits.grade(value)
        source = _SOURCE.search(out.stdout)
        text = f"clock {value:g} s {offset.group(2).lower()} of NTP time"
        if source and source.group(1):
            text += f" (source {source.group(1)})"
        perf = [Perfdatum("offset", value, "s", limits.warn_text, limits.crit_text, 0)]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf)


CHECKS: tuple[CheckSpec, ...] = (
    Reachable(),
    Load(),
    Memory(),
    Disk(),
    Inodes(),
    Service(),
    Time(),
)
