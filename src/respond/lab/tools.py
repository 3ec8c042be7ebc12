"""The simulated host tools of the lab, one module dispatching on the tool name.

Each lab host's PATH starts with ``<home>/lab/bin``, whose wrapper scripts run::

    exec <python> -I -S <lab dir>/toolrun.py <tool> "$@"

``LAB_HOST`` names the host the command runs on (unset: the operator's machine) and
``RESPOND_LAB_STATE`` the state file. Every tool answers from the lab state in the format the
real tool prints (NUT ``upsc``, ``ipmitool``, systemd, coreutils ``df`` and ``nproc``,
procps ``free``, chrony's ``chronyc tracking``, iputils ``ping``),
with the real exit codes. Run as a script with ``-I -S`` it must stay fast (tens of
milliseconds), so it imports only the stdlib and its three sibling modules (``toolrun.py``
loads them without the ``respond`` package's ``__init__``).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TOOLS = (
    "upsc",
    "ipmitool",
    "systemctl",
    "df",
    "journalctl",
    "uptime",
    "ping",
    "shutdown",
    "poweroff",
    "halt",
    "reboot",
    "wakeonlan",
    "nproc",
    "free",
    "chronyc",
)

Out = tuple[int, str, str]  # exit code, stdout, stderr


class Ctx:
    def __init__(self) -> None:
        from respond.lab import topology
        from respond.lab.state import StateFile

        path = os.environ.get("RESPOND_LAB_STATE")
        if not path:
            raise SystemExit("lab tool: RESPOND_LAB_STATE is not set")
        self.file = StateFile(path)
        self.host: str | None = os.environ.get("LAB_HOST") or None
        self.now = time.time()
        self._state: dict[str, Any] | None = None
        self._topology_mod = topology
        self._topo: Any = None

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self.file.read()
        return self._state

    @property
    def topo(self) -> Any:
        if self._topo is None:
            self._topo = self._topology_mod.for_state(self.state)
        return self._topo

    def update(self) -> _CtxUpdate:
        """The state under the exclusive lock; ``ctx.state`` is that document meanwhile."""
        _ = self.topo  # read (shared lock) before taking the exclusive lock
        return _CtxUpdate(self)


class _CtxUpdate:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.inner = ctx.file.update()

    def __enter__(self) -> dict[str, Any]:
        state = self.inner.__enter__()
        self.ctx._state = state
        return state

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(*exc)


def _fmt_time(t: float, fmt: str) -> str:
    return time.strftime(fmt, time.localtime(t))


# ------------------------------------------------------------------ upsc


def upsc(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import model

    if not args:
        return (
            1,
            "",
            "Error: insufficient arguments\nusage: upsc -l | -L [<hostname>[:port]]\n       upsc <ups> [<variable>]\n",
        )
    if args[0] in ("-l", "-L"):
        host = args[1] if len(args) > 1 else "localhost"
        ok, err = _ups_server(ctx, host)
        if not ok:
            return (1, "", err)
        return (0, "ups: APC Smart-UPS SRT 6000\n" if args[0] == "-L" else "ups\n", "")
    upsname, _, host = args[0].partition("@")
    host = host.split(":", 1)[0] or "localhost"
    ok, err = _ups_server(ctx, host)
    if not ok:
        return (1, "", "Init SSL without certificate database\n" + err)
    if upsname != "ups":
        return (1, "", "Init SSL without certificate database\nError: Unknown UPS\n")
    values = model.ups_readings(ctx.state, ctx.topo, ctx.now)
    stderr = "Init SSL without certificate database\n"
    if len(args) > 1:
        if args[1] not in values:
            return (1, "", stderr + "Error: Variable not supported by UPS\n")
        return (0, values[args[1]] + "\n", stderr)
    return (0, "".join(f"{k}: {v}\n" for k, v in values.items()), stderr)


def _ups_server(ctx: Ctx, host: str) -> tuple[bool, str]:
    from respond.lab import model

    if host in ("localhost", "127.0.0.1", "::1"):
        if ctx.host != "ups1":
            return (False, "Error: Connection failure: Connection refused\n")
        return (True, "")
    resolved = ctx.topo.resolve(host)
    if resolved is None:
        return (False, "Error: Connection failure: Name or service not known\n")
    if resolved != ("server", "ups1"):
        return (False, "Error: Connection failure: Connection refused\n")
    if not model.can_ping(ctx.state, ctx.topo, ctx.host, "ups1", ctx.now):
        return (False, "Error: Connection failure: No route to host\n")
    return (True, "")


# ------------------------------------------------------------------ ipmitool

_IPMI_USAGE = "No command provided!\nCommands:\n\tchassis\n\tpower\n\tsdr\n\tsensor\n\tsel\n\tmc\n"


def ipmitool(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import model

    target = ctx.host
    remote = False
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in (
            "-I",
            "-U",
            "-P",
            "-p",
            "-C",
            "-L",
            "-y",
            "-k",
            "-f",
            "-R",
            "-N",
            "-T",
            "-t",
            "-b",
        ):
            i += 2
            continue
        if a == "-H":
            if i + 1 >= len(args):
                return (1, "", "ipmitool: option requires an argument -- 'H'\n")
            remote = True
            resolved = ctx.topo.resolve(args[i + 1].removesuffix("-bmc").removesuffix("-ipmi"))
            if resolved is None or resolved[0] != "server":
                return (1, "", f"Address lookup for {args[i + 1]} failed\n")
            target = resolved[1]
            i += 2
            continue
        if a.startswith("-") and a not in ("-c",):
            i += 1
            continue
        rest.append(a)
        i += 1
    if not rest:
        return (1, "", _IPMI_USAGE)
    if target is None:
        return (
            1,
            "",
            "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or directory\n",
        )
    if model.blackout(ctx.state, ctx.now):
        return (1, "", "Error: Unable to establish IPMI v2 / RMCP+ session\n")
    if rest[0] == "power":
        rest = ["chassis", *rest]
    cmd = rest[0]
    if cmd in ("sdr", "sensor"):
        return _ipmi_sdr(ctx, target, rest[1:])
    if cmd == "sel":
        return _ipmi_sel(ctx, target, rest[1:])
    if cmd == "chassis":
        return _ipmi_chassis(ctx, target, rest[1:], remote)
    if cmd == "mc" and rest[1:2] == ["info"]:
        return (0, "Device ID                 : 32\nDevice Revision           : 1\nFirmware Revision         : 4.40\n"
                "IPMI Version              : 2.0\nManufacturer ID           : 674\nManufacturer Name         : DELL Inc\n", "")  # fmt: skip
    return (1, "", f"Invalid command: {cmd}\n")


def _sensors(ctx: Ctx, host: str) -> list[tuple[str, str, str, str, str]]:
    """(name, reading, status, id, event description) per sensor."""
    from respond.lab import model

    psu = model.fault_on(ctx.state, "psu-failure", host, ctx.now) is not None
    disk = model.fault_on(ctx.state, "disk-failure", host, ctx.now) is not None
    powered = model.host_powered(ctx.state, host, ctx.now)
    seed = sum(map(ord, host))
    rows: list[tuple[str, str, str, str, str]] = []
    for n in range(1, 5):
        rpm = 4800 + ((seed * n) % 7) * 120 + (840 if psu else 0)
        rows.append(
            (
                f"Fan{n}",
                f"{rpm} RPM" if powered else "no reading",
                "ok" if powered else "ns",
                f"3{n}h",
                "",
            )
        )
    temps = (("Inlet Temp", 22 + seed % 3), ("Exhaust Temp", 33 + seed % 4), ("CPU1 Temp", 47 + seed % 5),
             ("CPU2 Temp", 45 + seed % 5))  # fmt: skip
    for idx, (name, value) in enumerate(temps):
        rows.append((name, f"{value + (3 if psu else 0)} degrees C" if powered else "no reading",
                     "ok" if powered else "ns", f"0{idx + 1}h", ""))  # fmt: skip
    rows.append(("PS1 Status", "0x01", "ok", "62h", "Presence detected"))
    rows.append(("PS2 Status", "0x0b" if psu else "0x01", "cr" if psu else "ok", "63h",
                 "Presence detected, Failure detected, Power Supply AC lost" if psu else "Presence detected"))  # fmt: skip
    rows.append(("PS Redundancy", "0x02" if psu else "0x01", "cr" if psu else "ok", "77h",
                 "Redundancy Lost" if psu else "Fully Redundant"))  # fmt: skip
    watts = (260 + seed % 40) if powered else 12
    amps = watts / 230.0
    rows.append(("Current 1", f"{(amps if psu else amps / 2):.2f} Amps", "ok", "6Ah", ""))
    rows.append(
        ("Current 2", f"{0.0 if psu else amps / 2:.2f} Amps", "cr" if psu else "ok", "6Bh", "")
    )
    rows.append(("Voltage 1", "230 Volts", "ok", "6Ch", ""))
    rows.append(("Voltage 2", "0 Volts" if psu else "230 Volts", "cr" if psu else "ok", "6Dh", ""))
    rows.append(("Pwr Consumption", f"{watts} Watts", "ok", "77h", ""))
    rows.append(("Drive 0", "0x01", "ok", "80h", "Drive Present"))
    rows.append(("Drive 1", "0x02" if disk else "0x01", "cr" if disk else "ok", "81h",
                 "Drive Present, Drive Fault" if disk else "Drive Present"))  # fmt: skip
    return rows


def _ipmi_sdr(ctx: Ctx, host: str, args: list[str]) -> Out:
    rows = _sensors(ctx, host)
    sub = args[0] if args else "list"
    if sub in ("list", "elist", "type", "entity"):
        if sub == "type":
            wanted = " ".join(args[1:]).lower()
            groups = {
                "power supply": ("PS",),
                "fan": ("Fan",),
                "temperature": ("Inlet", "Exhaust", "CPU"),
                "drive slot": ("Drive",),
                "drive slot / bay": ("Drive",),
                "current": ("Current",),
                "voltage": ("Voltage",),
            }
            prefixes = groups.get(wanted)
            if prefixes is None:
                return (1, "", f"Invalid sensor type {' '.join(args[1:])!r}\n")
            rows = [r for r in rows if r[0].startswith(prefixes)]
        if sub in ("elist", "type"):
            lines = [f"{n:<16} | {i:<4}| {s:<4}| 7.1 | {d or v}" for n, v, s, i, d in rows]
        else:
            lines = [f"{n:<16} | {v:<17} | {s}" for n, v, s, _, _ in rows]
        return (0, "\n".join(lines) + "\n", "")
    return (1, "", f"Invalid SDR command: {sub}\n")


def _ipmi_sel(ctx: Ctx, host: str, args: list[str]) -> Out:
    from respond.lab import model

    sub = args[0] if args else "list"
    state, now = ctx.state, ctx.now
    events: list[tuple[float, str, str, str]] = []
    started = float(state.get("started_at", now))
    events.append(
        (started - 40 * 86400, "Event Logging Disabled SEL", "Log area reset/cleared", "Asserted")
    )
    events.append((model.boot_time(state, ctx.topo, host), "System Boot Initiated #0x1d", "Initiated by power up",
                   "Asserted"))  # fmt: skip
    for fault in state.get("faults", []):
        if fault["target"] != host or fault["at"] > now:
            continue
        at = float(fault["at"])
        ended = fault.get("until") is not None and fault["until"] <= now
        if fault["name"] == "psu-failure":
            events.append((at, "Power Supply #0x63", "Failure detected", "Asserted"))
            events.append((at, "Power Supply #0x63", "Power Supply AC lost", "Asserted"))
            events.append((at + 1, "Power Unit #0x01", "Redundancy Lost", "Asserted"))
            if ended:
                events.append(
                    (fault["until"], "Power Supply #0x63", "Failure detected", "Deasserted")
                )
        elif fault["name"] == "disk-failure":
            events.append((at, "Drive Slot / Bay #0x81", "Drive Fault", "Asserted"))
            if ended:
                events.append(
                    (fault["until"], "Drive Slot / Bay #0x81", "Drive Fault", "Deasserted")
                )
        elif fault["name"] == "server-down":
            events.append((at, "Processor #0x60", "IERR", "Asserted"))
            events.append((at, "OS Stop / Shutdown #0x46", "Run-time critical stop", "Asserted"))
    for entry in state.get("power_log", []):
        if entry["host"] != host or entry["at"] > now:
            continue
        if entry["action"] == "shutdown":
            events.append(
                (entry["at"], "System ACPI Power State #0x51", "S5/G2: soft-off", "Asserted")
            )
        elif entry["action"] == "power-on":
            events.append(
                (entry["at"], "System ACPI Power State #0x51", "S0/G0: working", "Asserted")
            )
    events.sort(key=lambda e: e[0])
    if sub == "info":
        return (0, f"SEL Information\nVersion          : 1.5 (v1.5, v2 compliant)\nEntries          : {len(events)}\n"
                "Free Space       : 14016 bytes\nPercent Used     : 7%\n", "")  # fmt: skip
    if sub == "clear":
        return (0, "Clearing SEL.  Please allow a few seconds to erase.\n", "")
    if sub not in ("list", "elist"):
        return (1, "", f"Invalid SEL command: {sub}\n")
    lines = [
        # a BMC's clock is UTC: `sel elist` times are read as UTC (ipmi-sel check)
        f"{n + 1:>4x} | {time.strftime('%m/%d/%Y | %H:%M:%S', time.gmtime(t))} | {sensor} | {what} | {dirn}"
        for n, (t, sensor, what, dirn) in enumerate(events)
    ]
    return (0, "\n".join(lines) + "\n", "")


def _ipmi_chassis(ctx: Ctx, host: str, args: list[str], remote: bool) -> Out:
    from respond.lab import model

    sub = args[0] if args else ""
    if sub == "status":
        on = model.host_powered(ctx.state, host, ctx.now)
        drive = model.fault_on(ctx.state, "disk-failure", host, ctx.now) is not None
        psu = model.fault_on(ctx.state, "psu-failure", host, ctx.now) is not None
        return (0, f"System Power         : {'on' if on else 'off'}\nPower Overload       : false\n"
                f"Power Interlock      : inactive\nMain Power Fault     : {str(psu).lower()}\n"
                "Power Control Fault  : false\nPower Restore Policy : always-on\nLast Power Event     : \n"
                f"Chassis Intrusion    : inactive\nFront-Panel Lockout  : inactive\nDrive Fault          : "
                f"{str(drive).lower()}\nCooling/Fan Fault    : false\n", "")  # fmt: skip
    if sub != "power" or len(args) < 2:
        return (1, "", "chassis power Commands: status, on, off, cycle, reset, diag, soft\n")
    action = args[1]
    if action == "status":
        on = model.host_powered(ctx.state, host, ctx.now)
        return (0, f"Chassis Power is {'on' if on else 'off'}\n", "")
    if action not in ("on", "off", "cycle", "reset", "soft"):
        return (1, "", "chassis power Commands: status, on, off, cycle, reset, diag, soft\n")
    by = f"ipmitool chassis power {action}"
    with ctx.update() as state:
        topo = ctx.topo
        if action == "on":
            model.power_on(state, topo, host, by, ctx.now)
            text = "Up/On"
        elif action in ("off", "soft"):
            if model.host_powered(state, host, ctx.now):
                model.power_off(state, topo, host, by, ctx.now, delay=0.5 if not remote else 0.0)
            text = "Down/Off" if action == "off" else "Soft"
        else:
            if model.host_powered(state, host, ctx.now):
                model.power_off(state, topo, host, by, ctx.now)
            model.power_on(state, topo, host, by, ctx.now, boot=model.BOOT_SECONDS + 3)
            text = "Cycle" if action == "cycle" else "Reset"
    return (0, f"Chassis Power Control: {text}\n", "")


# ------------------------------------------------------------------ systemctl


def systemctl(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import model

    words = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-")]
    host = ctx.host
    if host is None:
        return (
            1,
            "",
            "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
        )
    if not words:
        words = ["list-units"]
    verb, units = words[0], [u.removesuffix(".service") for u in words[1:]]
    if verb in ("poweroff", "halt", "reboot"):
        return shutdown_tool(ctx, [verb], verb)
    if verb in ("is-active", "is-failed"):
        if not units:
            return (1, "", "Too few arguments.\n")
        states = [_unit_state(ctx, host, u) for u in units]
        shown = ["inactive" if s == "unknown" else s for s in states]
        if verb == "is-active":
            ok = all(s == "active" for s in states)
        else:
            ok = any(s == "failed" for s in states)
        out = "" if "-q" in flags or "--quiet" in flags else "".join(s + "\n" for s in shown)
        return (0 if ok else 3, out, "")
    if verb == "is-enabled":
        states = [model.service_state(ctx.state, ctx.topo, host, u, ctx.now)[0] for u in units]
        if any(s == "unknown" for s in states):
            return (1, "", f"Failed to get unit file state for {units[states.index('unknown')]}.service: "
                    "No such file or directory\n")  # fmt: skip
        return (0, "enabled\n" * len(units), "")
    if verb == "status":
        return _systemctl_status(ctx, host, units)
    if verb == "show":
        return _systemctl_show(ctx, host, words[1:], flags)
    if verb in ("start", "stop", "restart", "reload", "try-restart", "reload-or-restart"):
        if not units:
            return (1, "", "Too few arguments.\n")
        action = {
            "reload": "restart",
            "try-restart": "restart",
            "reload-or-restart": "restart",
        }.get(verb, verb)
        errors: list[str] = []
        rc = 0
        with ctx.update() as state:
            for unit in units:
                code, message = model.service_action(state, ctx.topo, host, unit, action, ctx.now)
                if code:
                    rc = code
                    errors.append(message)
        return (rc, "", "".join(e + "\n" for e in errors))
    if verb in ("list-units", "--failed"):
        return _systemctl_list(
            ctx, host, failed_only="--failed" in flags or "--state=failed" in flags
        )
    if verb == "daemon-reload":
        return (0, "", "")
    return (1, "", f"Unknown command verb {verb}.\n")


def _unit_state(ctx: Ctx, host: str, unit: str) -> str:
    """active|failed|inactive|unknown; the oneshot backup job is inactive between runs."""
    from respond.lab import model

    if unit == model.BACKUP_UNIT and host in ctx.topo.servers:
        return (
            "inactive" if model.backup_job(ctx.state, host, ctx.now)[1] == "success" else "failed"
        )
    return model.service_state(ctx.state, ctx.topo, host, unit, ctx.now)[0]


def _backup_status(ctx: Ctx, host: str) -> str:
    """``systemctl status backup.service``: the oneshot's last run, as systemd shows it."""
    from respond.lab import model

    ended, result, status = model.backup_job(ctx.state, host, ctx.now)
    stamp = _fmt_time(ended, "%a %Y-%m-%d %H:%M:%S %Z")
    pid = model._pid(host, model.BACKUP_UNIT)
    ok = result == "success"
    code = "0/SUCCESS" if ok else f"{status}/FAILURE"
    return "\n".join([
        f"{'○' if ok else '×'} backup.service - Nightly full backup",
        "     Loaded: loaded (/etc/systemd/system/backup.service; static)",
        f"     Active: {'inactive (dead)' if ok else 'failed (Result: exit-code)'} since {stamp}; "
        f"{_ago(ctx.now - ended)} ago",
        "TriggeredBy: ● backup.timer",
        f"    Process: {pid} ExecStart=/usr/local/sbin/backup-full (code=exited, status={code})",
        f"   Main PID: {pid} (code=exited, status={code})",
    ])  # fmt: skip


def _systemctl_status(ctx: Ctx, host: str, units: list[str]) -> Out:
    from respond.lab import model

    if not units:
        return (0, f"● {host}\n    State: running\n     Jobs: 0 queued\n   Failed: 0 units\n", "")
    server = ctx.topo.servers[host]
    chunks: list[str] = []
    worst = 0
    for unit in units:
        if unit == model.BACKUP_UNIT:  # a oneshot: never "running", so exit code 3
            chunks.append(_backup_status(ctx, host))
            worst = max(worst, 3)
            continue
        status, since, reason = model.service_state(ctx.state, ctx.topo, host, unit, ctx.now)
        if status == "unknown":
            worst = max(worst, 4)
            return (4, "\n".join(chunks), f"Unit {unit}.service could not be found.\n")
        service = next(s for s in server.services if s.name == unit)
        ago = _ago(ctx.now - since)
        stamp = _fmt_time(since, "%a %Y-%m-%d %H:%M:%S %Z")
        dot = {"active": "●", "failed": "×", "inactive": "○"}[status]
        pid = model._pid(host, unit)
        lines = [
            f"{dot} {unit}.service - {service.description}",
            f"     Loaded: loaded (/lib/systemd/system/{unit}.service; enabled; vendor preset: enabled)",
        ]
        if status == "active":
            lines += [
                f"     Active: active (running) since {stamp}; {ago} ago",
                f"   Main PID: {pid} ({service.command.split()[0].rsplit('/', 1)[-1]})",
                f"      Tasks: {8 + pid % 23} (limit: 19055)",
                f"     Memory: {40 + pid % 400}.{pid % 10}M",
                f"        CPU: {pid % 59}min {pid % 60}.{pid % 1000:03d}s",
                f"     CGroup: /system.slice/{unit}.service",
                f"             └─{pid} {service.command}",
            ]
        elif status == "failed":
            result, code = (
                ("signal", "code=killed, status=9/KILL")
                if reason == "service-down"
                else ("exit-code", "code=exited, status=1/FAILURE")
            )
            lines += [
                f"     Active: failed (Result: {result}) since {stamp}; {ago} ago",
                f"    Process: {pid} ExecStart={service.command} ({code})",
                f"   Main PID: {pid} ({code})",
                f"        CPU: {pid % 59}min {pid % 60}.{pid % 1000:03d}s",
            ]
            worst = max(worst, 3)
        else:
            lines += [f"     Active: inactive (dead) since {stamp}; {ago} ago"]
            worst = max(worst, 3)
        journal = _journal_entries(ctx, host, [unit], kernel=False)[-10:]
        if journal:
            lines.append("")
            lines += [_journal_line(host, e) for e in journal]
        chunks.append("\n".join(lines))
    return (worst, "\n\n".join(chunks) + "\n", "")


# `systemctl show`: the Service properties come before the Unit's, whatever order was asked
_SHOW_ORDER = ("Result", "ExecMainExitTimestamp", "ExecMainStatus", "LoadState")


def _systemctl_show(ctx: Ctx, host: str, units: list[str], flags: list[str]) -> Out:
    """The few properties the lab knows (``--property=`` picks among them), one block per
    unit; a unit systemd does not know still prints, with ``LoadState=not-found``."""
    asked = [p for f in flags if f.startswith("--property=") for p in f[11:].split(",") if p]
    unix = "--timestamp=unix" in flags
    if not units:
        return (0, "Version=252.22-1~deb12u1\n", "")
    blocks = []
    for unit in units:
        values = _unit_properties(ctx, host, unit, unix)
        names = [n for n in _SHOW_ORDER if not asked or n in asked]
        blocks.append("".join(f"{n}={values[n]}\n" for n in names))
    return (0, "\n".join(blocks), "")


def _unit_properties(ctx: Ctx, host: str, unit: str, unix: bool) -> dict[str, str]:
    from respond.lab import model

    def stamp(t: float) -> str:
        return f"@{int(t)}" if unix else _fmt_time(t, "%a %Y-%m-%d %H:%M:%S %Z")

    name = unit.removesuffix(".service")
    props = {"Result": "success", "ExecMainExitTimestamp": "", "ExecMainStatus": "0"}
    if name == model.BACKUP_UNIT and host in ctx.topo.servers:
        ended, result, status = model.backup_job(ctx.state, host, ctx.now)
        props.update(Result=result, ExecMainExitTimestamp=stamp(ended), ExecMainStatus=str(status))
        return {**props, "LoadState": "loaded"}
    state, since, reason = model.service_state(ctx.state, ctx.topo, host, name, ctx.now)
    if state == "unknown":
        return {**props, "LoadState": "not-found"}
    if state == "failed":  # as `systemctl status` tells it: killed, or exited 1
        killed = reason == "service-down"
        props.update(
            Result="signal" if killed else "exit-code",
            ExecMainExitTimestamp=stamp(since),
            ExecMainStatus="9" if killed else "1",
        )
    return {**props, "LoadState": "loaded"}


def _systemctl_list(ctx: Ctx, host: str, failed_only: bool) -> Out:
    from respond.lab import model

    server = ctx.topo.servers[host]
    rows = []
    for service in server.services:
        status, _, _ = model.service_state(ctx.state, ctx.topo, host, service.name, ctx.now)
        if failed_only and status != "failed":
            continue
        sub = {"active": "running", "failed": "failed", "inactive": "dead"}[status]
        mark = "●" if status == "failed" else " "
        rows.append(
            f"{mark} {service.name + '.service':<24} loaded {status:<8} {sub:<8} {service.description}"
        )
    out = [f"  {'UNIT':<24} LOAD   {'ACTIVE':<8} {'SUB':<8} DESCRIPTION", *rows, "",
           "LOAD   = Reflects whether the unit definition was properly loaded.",
           "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.",
           "SUB    = The low-level unit activation state, values depend on unit type.",
           f"{len(rows)} loaded units listed."]  # fmt: skip
    return (0, "\n".join(out) + "\n", "")


def _ago(seconds: float) -> str:
    s = int(max(0, seconds))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours}h"
    if hours:
        return f"{hours}h {minutes}min"
    if minutes:
        return f"{minutes}min {secs}s"
    return f"{secs}s"


# ------------------------------------------------------------------ journalctl

_FAULT_LINES: dict[str, list[tuple[str, str]]] = {
    "oa-down": [
        (
            "oa-web",
            "oa-web[{pid}]: ERROR worker 3: database connection pool exhausted (50/50 in use)",
        ),
        ("oa-web", "oa-web[{pid}]: CRITICAL unhandled exception in request loop, shutting down"),
        ("oa-web", "{unit}.service: Main process exited, code=exited, status=1/FAILURE"),
        ("oa-web", "{unit}.service: Failed with result 'exit-code'."),
    ],
    "sms-down": [
        (
            "sms-gateway",
            "sms-gateway[{pid}]: ERROR SMPP bind to smsc.carrier.example:2775 failed: Connection reset",
        ),
        ("sms-gateway", "sms-gateway[{pid}]: CRITICAL giving up after 5 bind attempts"),
        (
            "sms-gateway",
            "{unit}.service: Main process exited, code=exited, status=2/INVALIDARGUMENT",
        ),
        ("sms-gateway", "{unit}.service: Failed with result 'exit-code'."),
    ],
}


def _journal_entries(ctx: Ctx, host: str, units: list[str], kernel: bool) -> list[dict[str, Any]]:
    from respond.lab import model

    state, now, topo = ctx.state, ctx.now, ctx.topo
    server = topo.servers[host]
    entries: list[dict[str, Any]] = []
    booted = model.boot_time(state, topo, host)
    entries.append({"unit": "kernel", "at": booted, "text": "kernel: Linux version 6.1.0-21-amd64 "
                    "(debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1"})  # fmt: skip
    for n, service in enumerate(server.services):
        entries.append(
            {
                "unit": service.name,
                "at": booted + 3 + n,
                "text": f"Starting {service.description}...",
            }
        )
        entries.append(
            {"unit": service.name, "at": booted + 4 + n, "text": f"Started {service.description}."}
        )
    for fault in state.get("faults", []):
        if fault["at"] > now:
            continue
        at = float(fault["at"])
        if fault["target"] == host and fault["name"] in _FAULT_LINES:
            for i, (unit, text) in enumerate(_FAULT_LINES[fault["name"]]):
                pid = model._pid(host, unit)
                entries.append(
                    {"unit": unit, "at": at + i * 0.01, "text": text.format(pid=pid, unit=unit)}
                )
            if fault.get("until") is not None and fault["until"] <= now:
                unit = _FAULT_LINES[fault["name"]][0][0]
                desc = next(s.description for s in server.services if s.name == unit)
                entries.append({"unit": unit, "at": fault["until"], "text": f"{unit}.service: Scheduled restart "
                                "job, restart counter is at 1."})  # fmt: skip
                entries.append(
                    {"unit": unit, "at": fault["until"] + 0.5, "text": f"Started {desc}."}
                )
        elif fault["target"] == host and fault["name"] == "disk-failure":
            entries += _disk_failure_lines(server, host, at)
        elif fault["name"] == "service-down" and model.fault_host(fault) == host:
            entries += _service_killed_lines(server, host, fault["target"].partition("/")[2], at)
        elif fault["name"] == "power-loss" and host == "ups1":
            pid = model._pid(host, "upsmon")
            entries.append(
                {
                    "unit": "nut-monitor",
                    "at": at,
                    "text": f"upsmon[{pid}]: UPS ups@localhost on battery",
                }
            )
            if fault.get("until") is not None and fault["until"] <= now:
                entries.append({"unit": "nut-monitor", "at": fault["until"],
                                "text": f"upsmon[{pid}]: UPS ups@localhost on line power"})  # fmt: skip
    for entry in state.get("journal", []):
        if entry["host"] == host and entry["at"] <= now:
            entries.append(entry)
    entries = [e for e in entries if e["at"] <= now]
    if units:
        entries = [e for e in entries if e["unit"] in units]
    elif kernel:
        entries = [e for e in entries if e["unit"] == "kernel"]
    entries.sort(key=lambda e: e["at"])
    return entries


_ATA_ERRORS = (
    "kernel: ata2.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x0",
    "kernel: ata2.00: failed command: READ DMA EXT",
    "kernel: blk_update_request: I/O error, dev sdb, sector 1953124352 op 0x0:(READ) flags 0x0",
)


def _disk_failure_lines(server: Any, host: str, at: float) -> list[dict[str, Any]]:
    """The kernel's I/O errors; a data disk takes its services down, while a server without
    one loses the second disk of its system mirror and keeps running degraded."""
    from respond.lab import model

    data_services = [s for s in server.services if s.data_path]
    if data_services:
        kernel = [*_ATA_ERRORS,
                  f"kernel: EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #2: comm "
                  f"{data_services[0].name}: reading directory lblock 0",
                  "kernel: EXT4-fs (sdb1): Remounting filesystem read-only"]  # fmt: skip
    else:
        kernel = [*_ATA_ERRORS,
                  "kernel: md/raid1:md0: Disk failure on sdb2, disabling device.",
                  "kernel: md/raid1:md0: Operation continuing on 1 devices."]  # fmt: skip
    entries = [{"unit": "kernel", "at": at + i * 0.01, "text": t} for i, t in enumerate(kernel)]
    for service in data_services:
        pid = model._pid(host, service.name)
        for i, text in enumerate((f"{service.name}[{pid}]: Failed to stat {service.data_path}: "
                                  "Input/output error",
                                  f"{service.name}.service: Main process exited, code=exited, "
                                  "status=1/FAILURE",
                                  f"{service.name}.service: Failed with result 'exit-code'.")):  # fmt: skip
            entries.append({"unit": service.name, "at": at + 0.1 * (i + 1), "text": text})
    return entries


def _service_killed_lines(server: Any, host: str, unit: str, at: float) -> list[dict[str, Any]]:
    """service-down: the out-of-memory killer ends the unit's main process."""
    from respond.lab import model

    pid = model._pid(host, unit)
    program = next(s.command for s in server.services if s.name == unit).split()[0]
    lines = [
        ("kernel", f"kernel: Out of memory: Killed process {pid} ({program.rsplit('/', 1)[-1]}) "
                   "total-vm:2315468kB, anon-rss:1873520kB, file-rss:0kB"),
        (unit, f"{unit}.service: Main process exited, code=killed, status=9/KILL"),
        (unit, f"{unit}.service: Failed with result 'signal'."),
    ]  # fmt: skip
    return [{"unit": u, "at": at + i * 0.01, "text": t} for i, (u, t) in enumerate(lines)]


def _journal_line(host: str, entry: dict[str, Any]) -> str:
    text = entry["text"]
    head = text.split(":", 1)[0]
    if not (head == "kernel" or ("[" in head and head.endswith("]"))):
        text = "systemd[1]: " + text
    return f"{_fmt_time(entry['at'], '%b %d %H:%M:%S')} {host} {text}"


def journalctl(ctx: Ctx, args: list[str]) -> Out:
    if ctx.host is None:
        return (1, "", "No journal files were found.\n")
    units: list[str] = []
    lines: int | None = None
    kernel = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-u", "--unit") and i + 1 < len(args):
            units.append(args[i + 1].removesuffix(".service"))
            i += 2
            continue
        if a.startswith("--unit="):
            units.append(a.split("=", 1)[1].removesuffix(".service"))
        elif a.startswith("-u") and len(a) > 2:
            units.append(a[2:].removesuffix(".service"))
        elif a in ("-n", "--lines") and i + 1 < len(args):
            lines = _int(args[i + 1], 10)
            i += 2
            continue
        elif a.startswith("--lines="):
            lines = _int(a.split("=", 1)[1], 10)
        elif a.startswith("-n") and len(a) > 2:
            lines = _int(a[2:], 10)
        elif a in ("-k", "--dmesg"):
            kernel = True
        elif a in (
            "-p",
            "--priority",
            "--since",
            "--until",
            "-o",
            "--output",
            "-b",
            "--boot",
        ) and i + 1 < len(args):
            if (
                a in ("-b", "--boot")
                and args[i + 1].startswith("-") is False
                and not args[i + 1].lstrip("-").isdigit()
            ):
                i += 1
                continue
            i += 2
            continue
        i += 1
    entries = _journal_entries(ctx, ctx.host, units, kernel)
    if lines is not None:
        entries = entries[-lines:] if lines > 0 else []
    if not entries:
        return (0, "-- No entries --\n", "")
    return (0, "".join(_journal_line(ctx.host, e) + "\n" for e in entries), "")


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


# ------------------------------------------------------------------ df


def _human(kib: int) -> str:
    value = float(kib) * 1024
    for unit in ("", "K", "M", "G", "T", "P"):
        if value < 1024 or unit == "P":
            if unit == "":
                return f"{int(value)}"
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
        value /= 1024
    return str(kib)


def _human_count(count: int) -> str:
    """``df -ih``: inode counts in powers of 1024 without a byte unit (``3.2M``, ``512K``)."""
    return _human(count // 1024) if count >= 1024 else str(count)


def _short_flags(args: list[str], letter: str, *long: str) -> bool:
    return any(a in long or (a.startswith("-") and not a.startswith("--") and letter in a)
               for a in args)  # fmt: skip


def _df_select(ctx: Ctx, server: Any, paths: list[str]) -> tuple[list[Any], list[str]]:
    from respond.lab import hoststats, model

    filesystems = hoststats.filesystems(ctx.state, server, ctx.now)
    failed = model.fault_on(ctx.state, "disk-failure", server.name, ctx.now) is not None
    selected: list[Any] = []
    errors: list[str] = []
    for path in paths or [fs.mount for fs in filesystems]:
        covering = max((f for f in filesystems if path == f.mount or path.startswith(f.mount.rstrip("/") + "/")),
                       key=lambda f: len(f.mount))  # fmt: skip
        if failed and covering.mount == server.data_mount:
            errors.append(f"df: {path}: Input/output error\n")
        elif covering not in selected:
            selected.append(covering)
    return selected, errors


def _pct(used: int, total: int) -> str:
    """df rounds the percentage up."""
    return f"{(used * 100 + total - 1) // total}%" if total else "-"


def df(ctx: Ctx, args: list[str]) -> Out:
    if ctx.host is None:
        return (1, "", "df: lab: run df on a lab host\n")
    human = _short_flags(args, "h", "--human-readable")
    with_type = _short_flags(args, "T", "--print-type")
    inodes = _short_flags(args, "i", "--inodes")
    paths = [a for a in args if not a.startswith("-")]
    selected, errors = _df_select(ctx, ctx.topo.servers[ctx.host], paths)
    type_col = f" {'Type':<8}" if with_type else ""
    if inodes:
        header = f"{'Filesystem':<15}{type_col} {'Inodes':>10} {'IUsed':>8} {'IFree':>10} IUse% Mounted on"
    elif human:
        header = (
            f"{'Filesystem':<15}{type_col} {'Size':>5} {'Used':>5} {'Avail':>5} Use% Mounted on"
        )
    else:
        header = f"{'Filesystem':<15}{type_col} {'1K-blocks':>10} {'Used':>10} {'Available':>10} Use% Mounted on"
    lines = [header] if selected or not errors else []
    for fs in selected:
        tcol = f" {fs.fstype:<8}" if with_type else ""
        if inodes:
            counts = (fs.inodes, fs.iused, fs.inodes - fs.iused)
            shown = [_human_count(n) if human else str(n) for n in counts]
            lines.append(f"{fs.device:<15}{tcol} {shown[0]:>10} {shown[1]:>8} {shown[2]:>10} "
                         f"{_pct(fs.iused, fs.inodes):>5} {fs.mount}")  # fmt: skip
        elif human:
            lines.append(f"{fs.device:<15}{tcol} {_human(fs.size):>5} {_human(fs.used):>5} "
                         f"{_human(fs.avail):>5} {_pct(fs.used, fs.used + fs.avail):>4} {fs.mount}")  # fmt: skip
        else:
            lines.append(f"{fs.device:<15}{tcol} {fs.size:>10} {fs.used:>10} {fs.avail:>10} "
                         f"{_pct(fs.used, fs.used + fs.avail):>4} {fs.mount}")  # fmt: skip
    out = "\n".join(lines) + "\n" if lines else ""
    return (1 if errors else 0, out, "".join(errors))


# ------------------------------------------------------------------ uptime


def uptime(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import hoststats, model

    if ctx.host is None:
        return (1, "", "uptime: run on a lab host\n")
    booted = model.boot_time(ctx.state, ctx.topo, ctx.host)
    up = max(0, int(ctx.now - booted))
    days, rem = divmod(up, 86400)
    hours, minutes = divmod(rem // 60, 60)
    if "-s" in args or "--since" in args:
        return (0, _fmt_time(booted, "%Y-%m-%d %H:%M:%S") + "\n", "")
    if "-p" in args or "--pretty" in args:
        parts = []
        weeks, days_left = divmod(days, 7)
        for value, unit in (
            (weeks, "week"),
            (days_left, "day"),
            (hours, "hour"),
            (minutes, "minute"),
        ):
            if value:
                parts.append(f"{value} {unit}{'s' if value > 1 else ''}")
        return (0, "up " + (", ".join(parts) or "0 minutes") + "\n", "")
    span = f"{hours:2d}:{minutes:02d}" if hours else f"{minutes} min"
    up_text = f"{days} day{'s' if days != 1 else ''}, {span}" if days else span
    one, five, fifteen = hoststats.loadavg(ctx.state, ctx.topo, ctx.host, ctx.now)
    return (0, f" {_fmt_time(ctx.now, '%H:%M:%S')} up {up_text},  1 user,  load average: "
            f"{one:.2f}, {five:.2f}, {fifteen:.2f}\n", "")  # fmt: skip


# ------------------------------------------------------------------ nproc, free, chronyc


def nproc(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import hoststats

    if ctx.host is None:
        return (0, f"{os.cpu_count() or 1}\n", "")
    count = hoststats.cpus(ctx.topo.servers[ctx.host])
    for i, a in enumerate(args):  # --ignore=N / --ignore N, as the real nproc
        value = a.partition("=")[2] if a.startswith("--ignore=") else None
        if a == "--ignore" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None:
            count = max(1, count - _int(value, 0))
    return (0, f"{count}\n", "")


_FREE_UNITS = {"-b": 1, "--bytes": 1, "-k": 1024, "--kibi": 1024, "-m": 1024**2, "--mebi": 1024**2,
               "-g": 1024**3, "--gibi": 1024**3}  # fmt: skip


def free(ctx: Ctx, args: list[str]) -> Out:
    """procps-ng ``free``: Mem and Swap rows, sizes in KiB unless ``-b``/``-m``/``-g``."""
    from respond.lab import hoststats

    if ctx.host is None:
        return (1, "", "free: run on a lab host\n")
    unit = 1024
    for a in args:
        if a in _FREE_UNITS:
            unit = _FREE_UNITS[a]
        elif a not in ("-w", "--wide", "-t", "--total", "-h", "--human", "-l", "--lohi"):
            return (1, "", f"free: invalid option -- '{a.lstrip('-')[:1]}'\n")
    mem = hoststats.memory(ctx.state, ctx.topo, ctx.host, ctx.now)
    total, free_kib, avail = mem["MemTotal"], mem["MemFree"], mem["MemAvailable"]
    cache = mem["Buffers"] + mem["Cached"] + mem["SReclaimable"]
    used = total - free_kib - cache
    swap_used = mem["SwapTotal"] - mem["SwapFree"]
    row = [total, used, free_kib, mem["Shmem"], cache, avail]
    swap = [mem["SwapTotal"], swap_used, mem["SwapFree"]]

    def cells(values: list[int]) -> str:
        return "".join(f" {v * 1024 // unit:>11}" for v in values)

    head = f"{'':<8}{'total':>12}{'used':>12}{'free':>12}{'shared':>12}{'buff/cache':>12}{'available':>12}"
    lines = [head, f"{'Mem:':<8}{cells(row)}", f"{'Swap:':<8}{cells(swap)}"]
    if "-t" in args or "--total" in args:
        lines.append(
            f"{'Total:':<8}{cells([total + swap[0], used + swap_used, free_kib + swap[2]])}"
        )
    return (0, "\n".join(line.rstrip() for line in lines) + "\n", "")


def chronyc(ctx: Ctx, args: list[str]) -> Out:
    """chrony's ``chronyc tracking`` (``-n``/``-c`` accepted, ``-c`` prints the CSV form)."""
    from respond.lab import hoststats

    words = [a for a in args if not a.startswith("-")]
    if ctx.host is None:
        return (1, "", "506 Cannot talk to daemon\n")
    if words != ["tracking"]:
        verb = words[0] if words else ""
        return (1, "", f"Unrecognized command{(' ' + verb) if verb else ''}\n")
    offset = hoststats.clock_offset(ctx.state, ctx.host, ctx.now)
    seed = sum(map(ord, ctx.host))
    fast_slow = "fast" if offset >= 0 else "slow"
    freq = 3 + (seed % 900) / 100
    ref = ctx.now - 20 - seed % 40
    if "-c" in args:
        fields = ["C0A80A01", "ntp1.lab", "3", f"{ref:.9f}", f"{-offset:.9f}", "0.000012538",
                  "0.000045123", f"{freq:.3f}", "-0.001", "0.023", "0.012345678", "0.001234567",
                  "64.2", "Normal"]  # fmt: skip
        return (0, ",".join(fields) + "\n", "")
    rows = [
        ("Reference ID", "0A0A0001 (ntp1.lab)"),
        ("Stratum", "3"),
        ("Ref time (UTC)", time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ref))),
        ("System time", f"{abs(offset):.9f} seconds {fast_slow} of NTP time"),
        ("Last offset", f"{-offset / 3:+.9f} seconds"),
        ("RMS offset", f"{abs(offset) / 2 + 0.000045:.9f} seconds"),
        ("Frequency", f"{freq:.3f} ppm slow"),
        ("Residual freq", "-0.001 ppm"),
        ("Skew", "0.023 ppm"),
        ("Root delay", "0.012345678 seconds"),
        ("Root dispersion", "0.001234567 seconds"),
        ("Update interval", "64.2 seconds"),
        ("Leap status", "Normal"),
    ]
    return (0, "".join(f"{name:<16}: {value}\n" for name, value in rows), "")


# ------------------------------------------------------------------ ping


def ping(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import model

    count = 4
    quiet = False
    dest = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c" and i + 1 < len(args):
            count = _int(args[i + 1], 4)
            i += 2
            continue
        if a.startswith("-c") and len(a) > 2:
            count = _int(a[2:], 4)
        elif a in ("-W", "-w", "-i", "-s", "-t", "-I") and i + 1 < len(args):
            i += 2
            continue
        elif a == "-q":
            quiet = True
        elif not a.startswith("-"):
            dest = a
        i += 1
    if dest is None:
        return (2, "", "ping: usage error: Destination address required\n")
    count = max(1, min(count, 100))
    resolved = ctx.topo.resolve(dest)
    if resolved is None:
        return (2, "", f"ping: {dest}: Name or service not known\n")
    ip = ctx.topo.address_of(resolved[1])
    src_ip = ctx.topo.servers[ctx.host].ip if ctx.host in ctx.topo.servers else "10.10.0.100"
    ok = model.can_ping(ctx.state, ctx.topo, ctx.host, dest, ctx.now)
    label = dest if dest == ip else f"{dest} ({ip})"
    lines = [f"PING {label} {56}({84}) bytes of data."]
    seed = sum(map(ord, dest))
    times = [0.2 + ((seed * (n + 3)) % 17) / 100 for n in range(count)]
    if ok and not quiet:
        lines += [
            f"64 bytes from {label}: icmp_seq={n + 1} ttl=64 time={t:.3f} ms"
            for n, t in enumerate(times)
        ]
    elif not ok and not quiet:
        lines += [
            f"From {src_ip} icmp_seq={n + 1} Destination Host Unreachable" for n in range(count)
        ]
    lines += ["", f"--- {dest} ping statistics ---"]
    elapsed = (count - 1) * 1000 + 3
    if ok:
        avg = sum(times) / count
        mdev = (sum((t - avg) ** 2 for t in times) / count) ** 0.5
        lines += [
            f"{count} packets transmitted, {count} received, 0% packet loss, time {elapsed}ms",
            f"rtt min/avg/max/mdev = {min(times):.3f}/{avg:.3f}/{max(times):.3f}/{mdev:.3f} ms",
        ]
        return (0, "\n".join(lines) + "\n", "")
    lines.append(
        f"{count} packets transmitted, 0 received, +{count} errors, 100% packet loss, time {elapsed}ms"
    )
    return (1, "\n".join(lines) + "\n\n", "")


# ------------------------------------------------------------------ power


def shutdown_tool(ctx: Ctx, args: list[str], name: str) -> Out:
    from respond.lab import model

    if ctx.host is None:
        return (1, "", f"{name}: refusing to power off the operator's machine from the lab\n")
    reboot = name == "reboot"
    when = "now" if name in ("poweroff", "halt", "reboot") else None
    cancel = False
    for a in args:
        if a in ("-r", "--reboot"):
            reboot = True
        elif a in ("-h", "-P", "-H", "--halt", "--poweroff"):
            reboot = False
        elif a == "-c":
            cancel = True
        elif not a.startswith("-") and when is None:
            when = a
    delay = 0.0
    if name == "shutdown" and not cancel:
        when = when or "+1"
        if when != "now":
            if when.startswith("+") and when[1:].isdigit():
                delay = 60.0 * int(when[1:])
            elif ":" in when:
                hh, _, mm = when.partition(":")
                if not (hh.isdigit() and mm.isdigit()):
                    return (1, "", f"Failed to parse time specification: {when}\n")
                target = time.localtime(ctx.now)
                secs = (int(hh) * 3600 + int(mm) * 60) - (
                    target.tm_hour * 3600 + target.tm_min * 60 + target.tm_sec
                )
                delay = float(secs if secs > 0 else secs + 86400)
            else:
                return (1, "", f"Failed to parse time specification: {when}\n")
    host = ctx.host
    by = f"{name} {' '.join(args)}".strip()
    with ctx.update() as state:
        if cancel:
            entry = state.get("power", {}).get(host)
            if entry and entry["state"] == "off" and entry["at"] > ctx.now:
                del state["power"][host]
                state["power_log"] = [
                    e
                    for e in state.get("power_log", [])
                    if not (e["host"] == host and e["at"] == entry["at"])
                ]
            return (0, "", "")
        model.power_off(state, ctx.topo, host, by, ctx.now, delay=delay)
        if reboot:
            up_at = ctx.now + delay + model.BOOT_SECONDS + 3
            state["power"][host] = {"state": "on", "at": up_at, "by": by}
            state["power_log"].append({"host": host, "action": "power-on", "at": up_at, "by": by})
    if delay:
        stamp = _fmt_time(ctx.now + delay, "%a %Y-%m-%d %H:%M:%S %Z")
        what = "Reboot" if reboot else "Shutdown"
        return (0, "", f"{what} scheduled for {stamp}, use 'shutdown -c' to cancel.\n")
    return (0, "", "")


def wakeonlan(ctx: Ctx, args: list[str]) -> Out:
    from respond.lab import model

    targets = [a for a in args if not a.startswith("-")]
    if not targets:
        return (
            1,
            "",
            "Usage\n    wakeonlan [-h] [-v] [-i IP_address] [-p port] [-f file] [[hardware_address] ...]\n",
        )
    out: list[str] = []
    with ctx.update() as state:
        for target in targets:
            host = next(
                (s.name for s in ctx.topo.servers.values() if s.mac.lower() == target.lower()), None
            )
            if host is None and target in ctx.topo.servers:
                host = target
            if host is None:
                return (1, "".join(out), f"Invalid MAC address: {target}\n")
            mac = ctx.topo.servers[host].mac
            out.append(f"Sending magic packet to 255.255.255.255:9 with {mac}\n")
            model.power_on(state, ctx.topo, host, f"wakeonlan {target}", ctx.now)
    return (0, "".join(out), "")


def run(tool: str, args: list[str]) -> Out:
    ctx = Ctx()
    if tool in ("shutdown", "poweroff", "halt", "reboot"):
        return shutdown_tool(ctx, args, tool)
    handler = {
        "upsc": upsc,
        "ipmitool": ipmitool,
        "systemctl": systemctl,
        "df": df,
        "journalctl": journalctl,
        "uptime": uptime,
        "ping": ping,
        "wakeonlan": wakeonlan,
        "nproc": nproc,
        "free": free,
        "chronyc": chronyc,
    }.get(tool)
    if handler is None:
        return (127, "", f"{tool}: command not found\n")
    return handler(ctx, args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.stderr.write(f"usage: tools TOOL [ARGS...]  (tools: {', '.join(TOOLS)})\n")
        return 2
    from respond.lab.state import LabStateMissing

    try:
        rc, out, err = run(argv[0], argv[1:])
    except LabStateMissing as exc:
        sys.stderr.write(f"{argv[0]}: {exc}\n")
        return 1
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
