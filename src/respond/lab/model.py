"""What the lab looks like right now, derived from the topology and the state document.

Every answer here is a pure function of ``(state, topology, now)``; the changes (inject, heal,
power, services, switch ports) are functions that edit a state document in place and are
called inside :meth:`respond.lab.state.StateFile.update`. Timed behaviour is lazy: a fault
injected ``--for 30s`` carries ``until`` and simply stops counting after it; the UPS battery
is integrated from checkpoints taken whenever its load changes.

Stdlib only (the simulated tools import this on every call).
"""

from __future__ import annotations

import time

from respond.lab import topology as topo_mod
from respond.lab.state import FAULTS, add_event, add_journal
from respond.lab.topology import CORE_SWITCH, UPLINK_BACKUP, UPLINK_PRIMARY

TYPE_CHECKING = False  # typing costs ~6 ms per tool call; the annotations are strings
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from respond.lab.topology import Topology

    State: TypeAlias = dict[str, Any]  # the JSON state document

RUNTIME_FULL = 1800.0  # seconds on battery at full charge and the baseline load
BASE_LOAD = 10.0  # percent: network gear and everything not modelled as a host
UPS_FAULT_CAPACITY = 0.15  # a failed battery keeps this share of its capacity
RECHARGE_PER_S = 1.0 / 600.0  # full recharge in ten minutes once mains are back
LOW_RUNTIME = 300.0  # battery.runtime.low: the LB flag below this
BOOT_SECONDS = 2.0  # a powered-on host answers after this long


class LabActionError(Exception):
    """A requested change is not possible (unknown fault or target, ...)."""


# ---------------------------------------------------------------- faults


def fault_is_active(fault: dict[str, Any], now: float) -> bool:
    until = fault.get("until")
    return fault.get("at", 0) <= now and (until is None or now < until)


def active_faults(state: State, now: float) -> list[dict[str, Any]]:
    return [f for f in state.get("faults", []) if fault_is_active(f, now)]


def fault_on(state: State, name: str, target: str, now: float) -> dict[str, Any] | None:
    for fault in active_faults(state, now):
        if fault["name"] == name and fault["target"] == target:
            return fault
    return None


def normalize_target(topo: Topology, name: str, target: str | None) -> str:
    if name not in FAULTS:
        known = ", ".join(FAULTS)
        raise LabActionError(f"unknown fault {name!r} (known: {known})")
    default, kind, _ = FAULTS[name]
    if not target:
        return _service_target(topo, name, default) if kind == "service" else default
    if kind in ("ups", "fixed"):
        if target != default:
            raise LabActionError(f"fault {name} always applies to {default}, not {target!r}")
        return default
    if kind == "service":
        return _service_target(topo, name, target)
    if kind == "server":
        if target not in topo.servers:
            raise LabActionError(
                f"{name}: {target!r} is not a lab server ({', '.join(topo.servers)})"
            )
        return target
    if kind == "mount":
        return _mount_target(topo, name, target)
    if kind == "switch":
        if target not in topo.switches:
            raise LabActionError(f"{name}: {target!r} is not a lab switch ({_switch_names(topo)})")
        return target
    return _port_target(topo, name, target)


def _mount_target(topo: Topology, name: str, target: str) -> str:
    """``SERVER[:MOUNT]`` → ``SERVER:MOUNT`` (the root filesystem by default)."""
    from respond.lab.hoststats import mounts

    host, _, mount = target.partition(":")
    if host not in topo.servers:
        raise LabActionError(f"{name}: {host!r} is not a lab server ({', '.join(topo.servers)})")
    mount = mount.rstrip("/") or "/"
    known = mounts(topo.servers[host])
    if mount not in known:
        raise LabActionError(f"{name}: {host} has no filesystem on {mount!r} ({', '.join(known)})")
    return f"{host}:{mount}"


def _switch_names(topo: Topology) -> str:
    return ", ".join(topo.switches)


def _port_target(topo: Topology, name: str, target: str) -> str:
    """``SWITCH[:PORT]`` (the port in any name form; the switch's uplink by default) →
    ``SWITCH:SHORT`` in the vendor's short form (``core-sw1:GE0/0/1``, ``acc-sw2:Gi0/1``)."""
    switch, _, port = target.partition(":")
    spec = topo.switches.get(switch)
    if spec is None:
        raise LabActionError(f"{name}: {switch!r} is not a lab switch ({_switch_names(topo)})")
    port_name = spec.port(port) if port else spec.uplink
    if port_name is None:
        raise LabActionError(f"{name}: {switch} has no interface {port!r}")
    return f"{switch}:{spec.short(port_name)}"


def main_unit(topo: Topology, host: str) -> str:
    """The service a server exists for: its last unit (oa-web on oa1, cron on app1)."""
    return topo.servers[host].services[-1].name


def _service_target(topo: Topology, name: str, target: str) -> str:
    """``HOST`` or ``HOST/UNIT`` → ``HOST/UNIT``."""
    host, _, unit = target.partition("/")
    if host not in topo.servers:
        raise LabActionError(f"{name}: {host!r} is not a lab server ({', '.join(topo.servers)})")
    units = [s.name for s in topo.servers[host].services]
    unit = unit.removesuffix(".service") or main_unit(topo, host)
    if unit not in units:
        raise LabActionError(f"{name}: {host} has no unit {unit!r} ({', '.join(units)})")
    return f"{host}/{unit}"


def fault_host(fault: dict[str, Any]) -> str:
    """The host (or switch, or SWITCH:PORT) a fault is on: a service fault's HOST/UNIT → HOST."""
    target: str = fault["target"]
    return target.partition("/")[0] if fault["name"] == "service-down" else target


# ---------------------------------------------------------------- power and reachability


def host_load(topo: Topology, host: str) -> float:
    server = topo.servers.get(host)
    return server.load if server else 0.0


def _power_entry_on(entry: dict[str, Any] | None, now: float) -> bool:
    if not entry:
        return True
    at = float(entry["at"])
    if entry["state"] == "on":
        return at <= now
    return at > now  # "off" scheduled in the future: still running


def current_load(state: State, topo: Topology, now: float) -> float:
    power = state.get("power", {})
    total = BASE_LOAD
    for name in topo.servers:
        if _power_entry_on(power.get(name), now) and not _crashed(state, name, now):
            total += host_load(topo, name)
    return total


def _crashed(state: State, host: str, now: float) -> bool:
    return fault_on(state, "server-down", host, now) is not None


def blackout(state: State, now: float) -> bool:
    """The UPS battery ran flat while mains were off: everything lost power."""
    outage = state.get("ups", {}).get("outage")
    if not outage or now < outage["start"]:
        return False
    end = outage.get("end")
    if end is not None and now >= end:
        return False
    return _energy_at(outage, now) <= 0.0


def host_powered(state: State, host: str, now: float) -> bool:
    if blackout(state, now) or _crashed(state, host, now):
        return False
    return _power_entry_on(state.get("power", {}).get(host), now)


def host_power_state(state: State, host: str, now: float) -> str:
    """on | off | booting | crashed | no-power (for status displays)."""
    if blackout(state, now):
        return "no-power"
    if _crashed(state, host, now):
        return "crashed"
    entry = state.get("power", {}).get(host)
    if _power_entry_on(entry, now):
        return "on"
    if entry and entry["state"] == "on":
        return "booting"
    return "off"


def boot_time(state: State, topo: Topology, host: str) -> float:
    entry = state.get("power", {}).get(host)
    if entry and entry["state"] == "on":
        return float(entry["at"])
    index = list(topo.servers).index(host) if host in topo.servers else 0
    return float(state.get("started_at", 0)) - (12 * 86400 + index * 3 * 3600 + 1234)


def switch_up(state: State, switch: str, now: float) -> bool:
    if blackout(state, now):
        return False
    return fault_on(state, "switch-down", switch, now) is None


def port_admin_down(state: State, switch: str, port: str) -> bool:
    override = state.get("ports", {}).get(f"{switch}/{port}")
    if override is not None:
        return bool(override["shutdown"])
    return (switch, port) in topo_mod.BASELINE_SHUTDOWN


def port_status(state: State, topo: Topology, switch: str, port: str, now: float) -> str:
    """connected | notconnect | disabled (as ``show interfaces status`` says)."""
    if port_admin_down(state, switch, port):
        return "disabled"
    if fault_on(state, "link-down", f"{switch}:{topo.short(switch, port)}", now):
        return "notconnect"
    link = topo.link_at(switch, port)
    if link is None:
        return "notconnect"
    if link.peer in topo.servers:
        return "connected" if host_powered(state, link.peer, now) else "notconnect"
    if link.peer in topo.switches:
        if not switch_up(state, link.peer, now) or port_admin_down(
            state, link.peer, link.peer_port
        ):
            return "notconnect"
        peer_target = f"{link.peer}:{topo.short(link.peer, link.peer_port)}"
        if fault_on(state, "link-down", peer_target, now):
            return "notconnect"
        return "connected"
    return "connected"  # external routers are always there


def uplink(state: State, topo: Topology, now: float) -> str:
    """primary | backup | none: which WAN uplink of the core switch carries traffic."""
    if not switch_up(state, CORE_SWITCH, now):
        return "none"
    if port_status(state, topo, *UPLINK_PRIMARY, now) == "connected":
        return "primary"
    if port_status(state, topo, *UPLINK_BACKUP, now) == "connected":
        return "backup"
    return "none"


def _segment_up(state: State, topo: Topology, switch: str, now: float) -> bool:
    """Can traffic from this switch reach the core?"""
    if not switch_up(state, CORE_SWITCH, now) or not switch_up(state, switch, now):
        return False
    if switch == CORE_SWITCH:
        return True
    for link in topo.links_of(CORE_SWITCH):
        if link.peer == switch:
            return port_status(state, topo, CORE_SWITCH, link.port, now) == "connected"
    return False


def host_reachable(state: State, topo: Topology, host: str, now: float) -> bool:
    """Can the operator (on the core management network) reach this server?"""
    server = topo.servers.get(host)
    if server is None or not host_powered(state, host, now):
        return False
    return _segment_up(state, topo, server.switch, now)


def switch_reachable(state: State, topo: Topology, switch: str, now: float) -> bool:
    return _segment_up(state, topo, switch, now)


def can_ping(state: State, topo: Topology, src: str | None, dst: str, now: float) -> bool:
    """``src`` is a server name, or None for the operator's machine."""
    kind_name = topo.resolve(dst)
    if kind_name is None:
        return False
    kind, name = kind_name
    if src is not None and src in topo.servers and not host_reachable(state, topo, src, now):
        # Cut off from the core: only neighbours on the same live access switch answer.
        server = topo.servers[src]
        if not host_powered(state, src, now) or not switch_up(state, server.switch, now):
            return name == src
        if kind == "server":
            other = topo.servers[name]
            return other.switch == server.switch and host_powered(state, name, now)
        return kind == "switch" and name == server.switch
    if kind == "server":
        return name == src or host_reachable(state, topo, name, now)
    if kind == "switch":
        return switch_reachable(state, topo, name, now)
    if name == "wan-rtr1":
        return (
            switch_up(state, CORE_SWITCH, now)
            and port_status(state, topo, *UPLINK_PRIMARY, now) == "connected"
        )
    if name == "wan-rtr2":
        return (
            switch_up(state, CORE_SWITCH, now)
            and port_status(state, topo, *UPLINK_BACKUP, now) == "connected"
        )
    return uplink(state, topo, now) != "none"


# ---------------------------------------------------------------- services


def _fault_breaks(fault: dict[str, Any], topo: Topology, host: str, unit: str) -> bool:
    if fault["name"] == "service-down":
        return bool(fault["target"] == f"{host}/{unit}")
    if fault["target"] != host:
        return False
    if fault["name"] == "oa-down":
        return unit == "oa-web"
    if fault["name"] == "sms-down":
        return unit == "sms-gateway"
    if fault["name"] == "disk-failure":
        server = topo.servers.get(host)
        service = next((s for s in server.services if s.name == unit), None) if server else None
        return bool(service and service.data_path)
    return False


def service_state(
    state: State, topo: Topology, host: str, unit: str, now: float
) -> tuple[str, float, str]:
    """(active|failed|inactive|unknown, since, reason)."""
    server = topo.servers.get(host)
    unit = unit.removesuffix(".service")
    if server is None or all(s.name != unit for s in server.services):
        return ("unknown", 0.0, "no such unit")
    if not host_powered(state, host, now):
        return ("inactive", now, "host is down")
    for fault in active_faults(state, now):
        if _fault_breaks(fault, topo, host, unit):
            return ("failed", float(fault["at"]), fault["name"])
    booted = boot_time(state, topo, host)
    override = state.get("services", {}).get(f"{host}/{unit}")
    if override and override["state"] == "inactive":
        return ("inactive", float(override["at"]), "stopped")
    since = max(booted, float(override["at"])) if override else booted
    return ("active", since, "")


def service_action(
    state: State, topo: Topology, host: str, unit: str, action: str, now: float
) -> tuple[int, str]:
    """systemctl start|stop|restart: (exit code, message for stderr)."""
    unit = unit.removesuffix(".service")
    current, _, _ = service_state(state, topo, host, unit, now)
    if current == "unknown":
        return (5, f"Failed to {action} {unit}.service: Unit {unit}.service not found.")
    key = f"{host}/{unit}"
    if action == "stop":
        state.setdefault("services", {})[key] = {"state": "inactive", "at": now}
        add_journal(state, host, unit, f"Stopping {_description(topo, host, unit)}...", now)
        add_journal(state, host, unit, f"{unit}.service: Deactivated successfully.", now)
        add_journal(state, host, unit, f"Stopped {_description(topo, host, unit)}.", now)
        return (0, "")
    # start / restart
    blocking = [f for f in active_faults(state, now) if _fault_breaks(f, topo, host, unit)]
    if any(f["name"] == "disk-failure" for f in blocking):
        add_journal(state, host, unit, f"Starting {_description(topo, host, unit)}...", now)
        add_journal(state, host, unit, f"{unit}[{_pid(host, unit) + 7}]: FATAL: could not open data directory: "
                    "Input/output error", now)  # fmt: skip
        add_journal(state, host, unit, f"{unit}.service: Failed with result 'exit-code'.", now)
        add_journal(state, host, unit, f"Failed to start {_description(topo, host, unit)}.", now)
        return (
            1,
            f"Job for {unit}.service failed because the control process exited with error code.\n"
            f'See "systemctl status {unit}.service" and "journalctl -xeu {unit}.service" for details.',
        )
    if action == "start" and current == "active":
        return (0, "")
    for fault in blocking:
        state["faults"].remove(fault)
        add_event(state, f"{fault['name']} on {host} fixed by systemctl {action} {unit}", now)
    state.setdefault("services", {})[key] = {"state": "active", "at": now}
    desc = _description(topo, host, unit)
    if action == "restart" or current != "inactive":
        add_journal(state, host, unit, f"Stopping {desc}...", now)
    add_journal(state, host, unit, f"Starting {desc}...", now)
    add_journal(state, host, unit, f"Started {desc}.", now)
    return (0, "")


def _description(topo: Topology, host: str, unit: str) -> str:
    server = topo.servers[host]
    return next(s.description for s in server.services if s.name == unit)


def _pid(host: str, unit: str) -> int:
    return 1000 + sum(map(ord, host + unit)) * 7 % 30000


# ---------------------------------------------------------------- web services


def oa_health(state: State, topo: Topology, now: float) -> tuple[bool, str]:
    if not host_reachable(state, topo, "oa1", now):
        return (False, "oa1 is unreachable")
    status, _, reason = service_state(state, topo, "oa1", "oa-web", now)
    if status != "active":
        return (False, f"oa-web is {status}" + (f" ({reason})" if reason else ""))
    if not host_reachable(state, topo, "db1", now):
        return (False, "database db1 is unreachable")
    status, _, reason = service_state(state, topo, "db1", "postgresql", now)
    if status != "active":
        return (False, f"database postgresql on db1 is {status}")
    return (True, "")


def sms_health(state: State, topo: Topology, now: float) -> tuple[bool, str]:
    if not host_reachable(state, topo, "sms1", now):
        return (False, "sms1 is unreachable")
    status, _, reason = service_state(state, topo, "sms1", "sms-gateway", now)
    if status != "active":
        return (False, f"sms-gateway is {status}" + (f" ({reason})" if reason else ""))
    return (True, "")


# ---------------------------------------------------------------- the nightly backup

BACKUP_STALE_HOURS = 72  # backup-stale: the last backup is this much older than the fault
NIGHTLY_BACKUP = (1, 30)  # the nightly backup's local time, hour and minute
BACKUP_UNIT = "backup"  # every server's oneshot backup.service


def last_night(now: float) -> float:
    """The latest local 01:30 before ``now``."""
    local = time.localtime(now)
    hour, minute = NIGHTLY_BACKUP
    stamp = time.mktime((*local[:3], hour, minute, 0, 0, 0, -1))
    return (
        stamp
        if stamp <= now
        else time.mktime((*local[:2], local[2] - 1, hour, minute, 0, 0, 0, -1))
    )


def backup_done_at(state: State, host: str, now: float) -> float:
    """When the last good backup of ``host`` was made: last night, or long before a
    backup-stale fault (the backup file's mtime and the job's last good run)."""
    fault = fault_on(state, "backup-stale", host, now)
    if fault is None:
        return last_night(now)
    return float(fault["at"]) - BACKUP_STALE_HOURS * 3600


def backup_job(state: State, host: str, now: float) -> tuple[float, str, int]:
    """backup.service's last run: (when it ended, systemd's Result, ExecMainStatus). A
    backup-failed fault is a run at the fault's time that exited 1 (the file stays as it was)."""
    fault = fault_on(state, "backup-failed", host, now)
    if fault is not None:
        return (float(fault["at"]), "exit-code", 1)
    return (backup_done_at(state, host, now), "success", 0)


# ---------------------------------------------------------------- UPS


def _capacity(state: State, now: float, runtime: float | None = None) -> float:
    """Battery energy in load-percent-seconds at full charge."""
    full = (runtime or RUNTIME_FULL) * _baseline_load(state)
    if fault_on(state, "ups-fault", "ups1", now):
        full *= UPS_FAULT_CAPACITY
    return full


def _baseline_load(state: State) -> float:
    topo = topo_mod.for_state(state)
    return BASE_LOAD + sum(host_load(topo, n) for n in topo.servers)


def _energy_at(outage: dict[str, Any], t: float) -> float:
    used: float = (t - outage["cp_at"]) * outage["cp_load"] / outage["capacity"]
    return max(0.0, float(outage["cp_energy"]) - used)


def battery_energy(state: State, now: float) -> float:
    """Charge as a fraction 0..1."""
    outage = state.get("ups", {}).get("outage")
    if not outage or now < outage["start"]:
        return 1.0
    end: float | None = outage.get("end")
    if end is None or now < end:
        return _energy_at(outage, now)
    at_end = _energy_at(outage, end)
    return min(1.0, at_end + (now - end) * RECHARGE_PER_S)


def on_battery(state: State, now: float) -> bool:
    outage = state.get("ups", {}).get("outage")
    if not outage or now < outage["start"]:
        return False
    end = outage.get("end")
    return end is None or now < end


def ups_checkpoint(state: State, topo: Topology, now: float) -> None:
    """Call before a change of load (a host powered off/on) while on battery."""
    outage = state.get("ups", {}).get("outage")
    if outage and on_battery(state, now):
        outage["cp_energy"] = _energy_at(outage, now)
        outage["cp_at"] = now
        outage["cp_load"] = current_load(state, topo, now)


def ups_readings(state: State, topo: Topology, now: float) -> dict[str, str]:
    """The variables ``upsc ups@localhost`` prints, already formatted."""
    load = current_load(state, topo, now)
    energy = battery_energy(state, now)
    battery = on_battery(state, now)
    faulty = fault_on(state, "ups-fault", "ups1", now) is not None
    outage = state.get("ups", {}).get("outage")
    capacity = outage["capacity"] if battery and outage else _capacity(state, now)
    runtime = int(energy * capacity / max(load, 1.0))
    charge = round(energy * 100)
    flags: list[str] = []
    if faulty:
        flags.append("ALARM")
    if battery:
        flags += ["OB", "DISCHRG"]
    else:
        flags.append("OL")
        if charge < 100:
            flags.append("CHRG")
    if battery and (runtime <= LOW_RUNTIME or charge <= 20):
        flags.append("LB")
    if faulty:
        flags.append("RB")
    values = {
        "battery.charge": str(charge),
        "battery.charge.low": "20",
        "battery.charge.warning": "50",
        "battery.date": "2019/03/18",
        "battery.mfr.date": "2019/03/18",
        "battery.runtime": str(runtime),
        "battery.runtime.low": str(int(LOW_RUNTIME)),
        "battery.type": "PbAc",
        "battery.voltage": f"{(41.0 + 13.6 * energy) if battery else (54.6 if charge >= 100 else 52.0):.1f}",
        "battery.voltage.nominal": "48.0",
        "device.mfr": "APC",
        "device.model": "Smart-UPS SRT 6000",
        "device.serial": "AS1903123456",
        "device.type": "ups",
        "driver.name": "usbhid-ups",
        "driver.parameter.pollfreq": "30",
        "driver.parameter.pollinterval": "2",
        "driver.parameter.port": "auto",
        "driver.version": "2.8.0",
        "input.frequency": "0.0" if battery else "50.0",
        "input.voltage": "0.0" if battery else "229.6",
        "input.voltage.nominal": "230",
        "output.current": f"{load * 0.26:.1f}",
        "output.frequency": "50.0",
        "output.voltage": "230.0",
        "ups.beeper.status": "enabled",
        "ups.delay.shutdown": "20",
        "ups.firmware": "UPS 09.8 / ID=18",
        "ups.load": str(round(load)),
        "ups.mfr": "APC",
        "ups.model": "Smart-UPS SRT 6000",
        "ups.power.nominal": "6000",
        "ups.realpower.nominal": "6000",
        "ups.serial": "AS1903123456",
        "ups.status": " ".join(flags),
        "ups.test.result": "Refused" if faulty else "Done and passed",
        "ups.timer.reboot": "-1",
        "ups.timer.shutdown": "-1",
    }
    if faulty:
        values["ups.alarm"] = "Replace battery!"
        values["ups.test.result"] = "Done and warning"
    return dict(sorted(values.items()))


# ---------------------------------------------------------------- changes


def inject(
    state: State,
    topo: Topology,
    name: str,
    target: str | None,
    duration: float | None,
    now: float,
    params: dict[str, Any] | None = None,
) -> str:
    target = normalize_target(topo, name, target)
    until = now + duration if duration else None
    existing = fault_on(state, name, target, now)
    if name == "power-loss":
        ups_readings_before = on_battery(state, now)
        if not ups_readings_before:
            runtime = float((params or {}).get("runtime") or RUNTIME_FULL)
            energy = battery_energy(state, now)
            state.setdefault("ups", {})["outage"] = {
                "start": now,
                "end": until,
                "capacity": _capacity(state, now, runtime),
                "cp_at": now,
                "cp_energy": energy,
                "cp_load": current_load(state, topo, now),
            }
        else:
            state["ups"]["outage"]["end"] = until
    if name == "server-down" and host_powered(state, target, now):
        ups_checkpoint(state, topo, now)
        state.setdefault("power_log", []).append(
            {"host": target, "action": "crash", "at": now, "by": "server-down"}
        )
    if existing is not None:
        existing["until"] = until
        text = f"{name} on {target} already active; " + (
            f"now heals at +{duration:g}s" if duration else "now until healed"
        )
    else:
        state.setdefault("faults", []).append(
            {
                "name": name,
                "target": target,
                "at": now,
                "until": until,
                "params": dict(params or {}),
            }
        )
        text = f"injected {name} on {target}" + (f" for {duration:g}s" if duration else "")
    add_event(state, text, now)
    return text


def heal(state: State, topo: Topology, name: str | None, now: float) -> list[str]:
    """Clear one fault (all its targets) or, without a name, restore the whole lab."""
    if name is not None and name not in FAULTS:
        raise LabActionError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
    done: list[str] = []
    for fault in list(state.get("faults", [])):
        if name is not None and fault["name"] != name:
            continue
        if fault_is_active(fault, now):
            done.append(f"healed {fault['name']} on {fault['target']}")
            if fault["name"] == "server-down":
                state.setdefault("power_log", []).append(
                    {"host": fault["target"], "action": "power-on", "at": now, "by": "heal"}
                )
        state["faults"].remove(fault)
    if name in (None, "power-loss"):
        outage = state.get("ups", {}).get("outage")
        if outage and on_battery(state, now):
            outage["end"] = now
    if name is None:
        for host in topo.servers:
            if not host_powered(state, host, now):
                state.setdefault("power_log", []).append(
                    {"host": host, "action": "power-on", "at": now, "by": "heal"}
                )
                done.append(f"powered on {host}")
        state["power"] = {}
        state["services"] = {}
        if state.get("ports") or state.get("descriptions"):
            done.append("switch ports back to the baseline configuration")
        state["ports"] = {}
        state["descriptions"] = {}
        state.setdefault("ups", {})["outage"] = None
    for text in done:
        add_event(state, text, now)
    return done


def power_off(
    state: State, topo: Topology, host: str, by: str, now: float, delay: float = 0.0
) -> None:
    ups_checkpoint(state, topo, now)
    state.setdefault("power", {})[host] = {"state": "off", "at": now + delay, "by": by}
    state.setdefault("power_log", []).append(
        {"host": host, "action": "shutdown", "at": now + delay, "by": by}
    )
    add_event(state, f"{host} shut down ({by})", now)


def power_on(
    state: State, topo: Topology, host: str, by: str, now: float, boot: float = BOOT_SECONDS
) -> bool:
    """Returns False when the host is already running."""
    if host_powered(state, host, now) or host_power_state(state, host, now) == "booting":
        return False
    ups_checkpoint(state, topo, now)
    for fault in list(active_faults(state, now)):
        if fault["name"] == "server-down" and fault["target"] == host:
            state["faults"].remove(fault)
    state.setdefault("power", {})[host] = {"state": "on", "at": now + boot, "by": by}
    state.setdefault("power_log", []).append(
        {"host": host, "action": "power-on", "at": now, "by": by}
    )
    add_event(state, f"{host} powered on ({by})", now)
    return True


def set_port_shutdown(
    state: State, topo: Topology, switch: str, port: str, shutdown: bool, now: float
) -> None:
    before = uplink(state, topo, now)
    state.setdefault("ports", {})[f"{switch}/{port}"] = {"shutdown": shutdown, "at": now}
    after = uplink(state, topo, now)
    verb = "shutdown" if shutdown else "no shutdown"
    add_event(state, f"{switch} interface {port}: {verb}", now)
    if before != after:
        add_event(
            state,
            f"WAN uplink: {before} -> {after}" + (" (failed over)" if after == "backup" else ""),
            now,
        )


def _switch_summary(state: State, topo: Topology, switch: str, now: float) -> dict[str, Any]:
    spec = topo.switches[switch]
    shut = [spec.short(p) for p in spec.ports if port_admin_down(state, switch, p)]
    return {
        "vendor": spec.vendor,
        "dialect": spec.dialect,
        "network_os": spec.network_os,
        "model": spec.model,
        "up": switch_up(state, switch, now),
        "reachable": switch_reachable(state, topo, switch, now),
        "shutdown": shut,
        "descriptions": dict(state.get("descriptions", {}).get(switch, {})),
        "saved_at": (state.get("saved", {}).get(switch) or {}).get("at"),
    }


def port_description(state: State, topo: Topology, switch: str, port: str) -> str:
    """The description configured on a port: set through a switch's CLI, else the cabling's."""
    override = state.get("descriptions", {}).get(switch, {}).get(port)
    if override is not None:
        return str(override)
    link = topo.link_at(switch, port)
    return link.description if link is not None else ""


def set_port_description(
    state: State, topo: Topology, switch: str, port: str, text: str, now: float
) -> None:
    """``description TEXT`` (or ``no description`` / ``undo description`` with ``text=""``)."""
    state.setdefault("descriptions", {}).setdefault(switch, {})[port] = text
    verb = f"description {text}" if text else "no description"
    add_event(state, f"{switch} interface {port}: {verb}", now)


def save_config(state: State, topo: Topology, switch: str, now: float) -> None:
    """The switch's saved (startup) configuration becomes its running one."""
    spec = topo.switches[switch]
    state.setdefault("saved", {})[switch] = {
        "at": now,
        "ports": {
            port: {
                "shutdown": port_admin_down(state, switch, port),
                "description": port_description(state, topo, switch, port),
            }
            for port in spec.ports
        },
    }
    add_event(state, f"{switch}: configuration saved", now)


def saved_config(state: State, switch: str) -> dict[str, Any] | None:
    """``{"at", "ports": {port: {"shutdown", "description"}}}`` of the last save, or None."""
    saved = state.get("saved", {}).get(switch)
    return dict(saved) if saved else None


def summary(state: State, topo: Topology, now: float) -> dict[str, Any]:
    """Everything ``respond lab status`` shows, as plain data."""
    faults = []
    for fault in active_faults(state, now):
        until = fault.get("until")
        faults.append(
            {
                "name": fault["name"],
                "target": fault["target"],
                "since": fault["at"],
                "until": until,
                "remaining": None if until is None else round(until - now, 1),
            }
        )
    hosts = {}
    for name, server in topo.servers.items():
        hosts[name] = {
            "group": server.group,
            "role": server.role,
            "power": host_power_state(state, name, now),
            "reachable": host_reachable(state, topo, name, now),
            "services": {
                s.name: service_state(state, topo, name, s.name, now)[0]
                for s in server.services[1:]  # all but ssh, which answers or the host is down
            },
        }
    switches = {sw: _switch_summary(state, topo, sw, now) for sw in topo.switches}
    ups = ups_readings(state, topo, now)
    oa_ok, oa_reason = oa_health(state, topo, now)
    sms_ok, sms_reason = sms_health(state, topo, now)
    return {
        "faults": faults,
        "hosts": hosts,
        "switches": switches,
        "uplink": uplink(state, topo, now),
        "ups": {k: ups[k] for k in ("ups.status", "battery.charge", "battery.runtime", "ups.load")},
        "oa": {"ok": oa_ok, "reason": oa_reason},
        "sms": {"ok": sms_ok, "reason": sms_reason},
        "power_log": list(state.get("power_log", [])),
        "messages": len(state.get("messages", [])),
        "events": list(state.get("events", []))[-20:],
    }
