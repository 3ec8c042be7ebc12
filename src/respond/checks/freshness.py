"""Checks of things that go stale: the newest backup file or the backup job's last run, and a
TLS certificate's expiry."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from respond.checks._grading import (
    first_line,
    graded,
    name_problems,
    output_of,
    quoted,
    texts,
    unreadable,
)
from respond.checks.catalog import ArgSpec, CheckSpec, Collected, CommandOutput, TlsTarget
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds

_STAT_LINE = re.compile(r"^(\d+) (.+)$")
# GNU stat: "stat: cannot statx '/x': No such file or directory" ("cannot stat" before 8.32)
_STAT_MISSING = re.compile(r"cannot stat\w*\s+['‘]?(.+?)['’]?: No such file")
# the properties `systemctl show` gives of the job's service; with --timestamp=unix (systemd
# 248+) a time reads "@1733100000", and is empty when the service has not run since boot
_JOB_PROPERTIES = "LoadState,Result,ExecMainExitTimestamp,ExecMainStatus"
_UNIX_TIME = re.compile(r"^@(\d+)$")
_JOB_UNKNOWN_ADVICE = (
    "systemd does not know the backup job's unit on this host: check the unit name in the "
    "inspection (`systemctl list-units --all` on the host) or point the check at the backup file."
)


class Backup(CheckSpec):
    name = "backup"
    summary = "the newest backup file, or the backup job's last run, is recent"
    transport = "ssh"
    reads = (
        "`stat -c '%Y %n' PATH...`, or `systemctl show UNIT "
        f"--property={_JOB_PROPERTIES} --timestamp=unix`"
    )
    value_text = "age in hours of the newest file given, or of the job's last run"
    unit = "h"
    warn = "26"
    crit = "50"
    args = (
        ArgSpec(
            "path",
            "texts",
            "the backup files (no globs: name the files, or use the nagios check); or `unit`",
        ),
        ArgSpec(
            "unit",
            "text",
            "the systemd service that runs the backup job (`backup.service`): its last run "
            "must have succeeded; give `path` or `unit`",
        ),
    )
    advice: ClassVar[Mapping[State, str]] = {
        State.WARNING: "The last backup is older than it should be: check last night's backup "
        "job (its log, the cron or timer) and run it by hand if it did not run.",
        State.CRITICAL: "There is no recent backup: find why the backup job failed (its log, "
        "disk space at the destination), run it now and confirm the file appears.",
        State.UNKNOWN: "The backup files could not be looked at: run the stat command on the "
        "host by hand.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        has_path, has_unit = bool(texts(args.get("path"))), args.get("unit") is not None
        if has_path == has_unit:
            return [("check backup needs exactly one of the arguments 'path' and 'unit'", None)]
        return name_problems(args, "path" if has_path else "unit")

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("unit") is not None:
            unit = quoted([str(args["unit"])])
            return [f"systemctl show {unit} --property={_JOB_PROPERTIES} --timestamp=unix"]
        return ["stat -c '%Y %n' " + quoted(texts(args.get("path")))]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        command = self.commands(args)[0]
        out = output_of(self, got, 0, command)
        if isinstance(out, CheckResult):
            return out
        if args.get("unit") is not None:
            return self._grade_job(str(args["unit"]), out, got, limits)
        found = [m.groups() for m in map(_STAT_LINE.match, out.stdout.splitlines()) if m]
        missing = [m.group(1) for m in map(_STAT_MISSING.search, out.stderr.splitlines()) if m]
        if missing:
            return graded(
                self,
                State.CRITICAL,
                "no backup file " + ", ".join(missing),
                limits=limits,
                details=[f"{p}: missing" for p in missing],
            )
        if not found:
            return unreadable(self, command, first_line(out.stderr + out.stdout) or "no output")
        newest_at, newest = max(((int(t), p) for t, p in found), key=lambda f: f[0])
        age = _hours_since(newest_at, got)
        state = limits.grade(age)
        text = f"newest backup {newest} is {age:g} h old ({_utc(newest_at)})"
        details = [f"{p}: {_utc(int(t))}" for t, p in found]
        perf = [Perfdatum("age", age, "h", limits.warn_text, limits.crit_text, 0)]
        return graded(self, state, text, value=age, limits=limits, perfdata=perf, details=details)

    def _grade_job(
        self, unit: str, out: CommandOutput, got: Collected, limits: Thresholds
    ) -> CheckResult:
        """The job's last run: failed or never run is CRITICAL, else its age is graded."""
        props = dict(line.partition("=")[::2] for line in out.stdout.splitlines() if "=" in line)
        if out.exit_code != 0 or "LoadState" not in props:
            return unreadable(self, out.command, first_line(out.stderr + out.stdout) or "no output")
        if props["LoadState"] == "not-found":
            unknown = graded(self, State.UNKNOWN, f"systemd knows no unit {unit} on this host")
            return replace(unknown, advice=_JOB_UNKNOWN_ADVICE)
        details = [f"{key}={props.get(key, '')}" for key in _JOB_PROPERTIES.split(",")]
        result, status = props.get("Result", ""), props.get("ExecMainStatus", "0")
        raw_end = props.get("ExecMainExitTimestamp", "").strip()
        ended = _UNIX_TIME.match(raw_end)
        if raw_end and ended is None:
            return unreadable(self, out.command, f"ExecMainExitTimestamp={raw_end}")
        if result != "success" or status not in ("", "0"):
            text = f"the last backup run failed: Result={result or '?'}, status {status or '?'}"
            if ended:
                text += f" ({_utc(int(ended[1]))})"
            return graded(self, State.CRITICAL, text, limits=limits, details=details)
        if ended is None:
            text = f"{unit} has no finished run (none since the host booted, or one is running)"
            return graded(self, State.CRITICAL, text, limits=limits, details=details)
        age = _hours_since(int(ended[1]), got)
        text = f"last run of {unit} ended {age:g} h ago ({_utc(int(ended[1]))}), Result=success"
        perf = [Perfdatum("age", age, "h", limits.warn_text, limits.crit_text, 0)]
        state = limits.grade(age)
        return graded(self, state, text, value=age, limits=limits, perfdata=perf, details=details)


def _hours_since(stamp: int, got: Collected) -> float:
    return round(max(0.0, got.now.timestamp() - stamp) / 3600, 1)


def _utc(stamp: int) -> str:
    return f"{datetime.fromtimestamp(stamp, UTC):%Y-%m-%d %H:%M} UTC"


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class Certificate(CheckSpec):
    name = "certificate"
    summary = "the TLS certificate a server presents is not about to expire"
    transport = "tls"
    reads = "TLS handshake from the control host (the certificate is read, not trusted)"
    value_text = "days left until the certificate's notAfter"
    unit = "d"
    warn = "30:"
    crit = "7:"
    args = (
        ArgSpec("port", "number", "the TLS port", default=443),
        ArgSpec(
            "server_name", "text", "the name sent as SNI (default: the host name unless an IP)"
        ),
        ArgSpec("host", "text", "where to connect (default: the host's ansible_host)"),
    )
    advice: ClassVar[Mapping[State, str]] = {
        State.WARNING: "The certificate expires soon: request or renew it now (ACME, or your "
        "CA) and plan its installation.",
        State.CRITICAL: "The certificate expires within days or has expired, and clients will "
        "refuse the service: renew it and install it today, then reload the server.",
        State.UNKNOWN: "No certificate could be read: check that the service listens with "
        "TLS on that port.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        port = args.get("port")
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            return [
                ("argument 'port' of check certificate must be a port number (1-65535)", "port")
            ]
        return []

    def tls_target(self, args: Mapping[str, Any], address: str) -> TlsTarget:
        host = str(args.get("host") or address)
        name = args.get("server_name") or (None if _is_ip(host) else host)
        return TlsTarget(host=host, port=int(args.get("port") or 443), server_name=name)

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        cert = got.cert
        if cert is None:
            return unreadable(self, "TLS handshake", "the server presented no certificate")
        days = round((cert.not_after - got.now).total_seconds() / 86400, 1)
        trust = "trusted" if cert.verified else "not trusted by this machine"
        until = f"{cert.not_after:%Y-%m-%d %H:%M} UTC"
        if days < 0:
            state, text = State.CRITICAL, f"expired {-days:g} days ago ({until})"
        elif cert.not_before is not None and cert.not_before > got.now:
            state, text = State.CRITICAL, f"not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC"
        else:
            state, text = limits.grade(days), f"{days:g} days left (expires {until})"
        text += f", {cert.subject or 'no subject'}, {trust}"
        details = [
            f"subject: {cert.subject}",
            f"issuer: {cert.issuer}",
            f"not after: {until}",
            f"verifies: {'yes' if cert.verified else 'no'}",
        ]
        perf = [Perfdatum("days_left", days, "d", limits.warn_text, limits.crit_text)]
        return graded(self, state, text, value=days, limits=limits, perfdata=perf, details=details)


CHECKS: tuple[CheckSpec, ...] = (Backup(), Certificate())
