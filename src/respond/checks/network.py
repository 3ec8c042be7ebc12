"""Checks of network devices from their vendor-neutral facts (``respond.netfacts``
interfaces: ``name``, ``admin``/``oper`` ``"up"``/``"down"``, ``description``, ``in_errors``,
``crc``…): ports that should be up, and ports counting errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from respond.checks._grading import counted, graded, texts, unreadable, worst_of
from respond.checks.catalog import ArgSpec, CheckSpec, Collected
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds
from respond.netos import interface_long_name

_PORTS = ArgSpec(
    "ports",
    "texts",
    "the ports to watch, in any name form (Gi0/1, GigabitEthernet0/1, GE1/0/1); "
    "default every enabled port with a description",
)


def _key(name: str) -> str:
    """One name per port whatever form it is written in (Comware's ``Vlan-interface10`` is
    everyone else's ``Vlan10``)."""
    return interface_long_name(name).lower().replace("vlan-interface", "vlan")


def _interfaces(got: Collected) -> list[Mapping[str, Any]] | None:
    value = (got.facts or {}).get("interfaces")
    if not isinstance(value, list):
        return None
    return [i for i in value if isinstance(i, Mapping) and i.get("name")]


def _watched(
    interfaces: Sequence[Mapping[str, Any]], ports: list[str], default: Any
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The interfaces ``ports`` names (and the names not found), else the default ones."""
    if not ports:
        return [i for i in interfaces if default(i)], []
    by_key = {_key(str(i["name"])): i for i in interfaces}
    found = [by_key[_key(p)] for p in ports if _key(p) in by_key]
    return found, [p for p in ports if _key(p) not in by_key]


def _problems(args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    empty = [p for p in texts(args.get("ports")) if not p.strip()]
    return [("argument 'ports' has an empty port name", "ports")] if empty else []


class Interfaces(CheckSpec):
    name = "interfaces"
    summary = "switch ports that are enabled are up"
    transport = "netmiko"
    reads = "facts `interfaces`"
    value_text = "number of watched ports admin-up but oper-down"
    crit = "0"
    args = (_PORTS,)
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "An enabled port is down: check the cable, the device at the other "
        "end (powered, its NIC up) and the port's error counters; the network-outage "
        "runbook covers an uplink.",
        State.WARNING: "An enabled port is down: check the cable and the device at the other end.",
        State.UNKNOWN: "The device's interfaces could not be read: check that it answers "
        "over SSH and the port names given exist on it.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        return _problems(args)

    def facts(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        return ("interfaces",)

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        interfaces = _interfaces(got)
        if interfaces is None:
            return unreadable(self, "facts: interfaces", "the device's interfaces were not read")
        watched, missing = _watched(interfaces, texts(args.get("ports")), _described_up)
        enabled = [i for i in watched if i.get("admin") == "up"]
        down = [str(i["name"]) for i in enabled if i.get("oper") != "up"]
        value = len(down)
        state = worst_of(limits.grade(value), State.UNKNOWN if missing else State.OK)
        if down:
            text = f"{value} of {counted('port', len(enabled))} down: {', '.join(down)}"
        else:
            text = f"{counted('port', len(enabled))} up"
        if missing:
            text += f"; not on the device: {', '.join(missing)}"
        details = [_port_line(i) for i in watched] + [f"{p}: no such port" for p in missing]
        perf = [Perfdatum("down", value, "", limits.warn_text, limits.crit_text, 0, len(enabled))]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


def _described_up(interface: Mapping[str, Any]) -> bool:
    return interface.get("admin") == "up" and bool(str(interface.get("description") or "").strip())


def _port_line(interface: Mapping[str, Any]) -> str:
    if interface.get("admin") != "up":
        state = "admin down (not a problem)"
    else:
        state = "up" if interface.get("oper") == "up" else "DOWN"
    described = str(interface.get("description") or "")
    return f"{interface['name']}" + (f" ({described})" if described else "") + f": {state}"


def _errors(interface: Mapping[str, Any]) -> int:
    """Input errors, CRC included: devices count CRC errors among input errors, so the larger
    of the two counters is the count (adding them would count each CRC error twice)."""
    return max(_count(interface.get("in_errors")), _count(interface.get("crc")))


def _count(value: Any) -> int:
    """A counter as facts give it (an int, or None when the device printed none)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    return int(value) if isinstance(value, str) and value.isdecimal() else 0


class InterfaceErrors(CheckSpec):
    name = "interface-errors"
    summary = "switch ports are not counting input (CRC) errors"
    transport = "netmiko"
    reads = "facts `interfaces`"
    value_text = "the highest input error count (CRC included) over the watched ports"
    warn = "10"
    crit = "100"
    args = (
        ArgSpec(
            "ports",
            "texts",
            "the ports to look at, in any name form; default every enabled port",
        ),
    )
    advice: ClassVar[Mapping[State, str]] = {
        State.WARNING: "A port counts errors: reseat or replace the cable or optic, and watch "
        "whether the count keeps growing.",
        State.CRITICAL: "A port counts many errors (a bad cable, optic or duplex mismatch): "
        "replace the cable or optic, check both ends' speed/duplex, then clear the counters.",
        State.UNKNOWN: "The device's interfaces could not be read: check that it answers "
        "over SSH and the port names given exist on it.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        return _problems(args)

    def facts(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        return ("interfaces",)

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        interfaces = _interfaces(got)
        if interfaces is None:
            return unreadable(self, "facts: interfaces", "the device's interfaces were not read")
        watched, missing = _watched(
            interfaces, texts(args.get("ports")), lambda i: i.get("admin") == "up"
        )
        if not watched and not missing:
            return unreadable(self, "facts: interfaces", "no enabled ports to look at")
        counts = [(str(i["name"]), _errors(i)) for i in watched]
        noisy = sorted((c for c in counts if c[1] > 0), key=lambda c: -c[1])
        value = max((n for _, n in counts), default=None)
        state = worst_of(limits.grade(value), State.UNKNOWN if missing else State.OK)
        if noisy:
            text = ", ".join(f"{p} {n} errors" for p, n in noisy[:4])
        else:
            text = f"no errors on {counted('port', len(watched))}"
        if missing:
            text += f"; not on the device: {', '.join(missing)}"
        details = [f"{p}: {n} input errors" for p, n in noisy]
        details += [f"{p}: no such port" for p in missing]
        perf = [Perfdatum(p, n, "c", limits.warn_text, limits.crit_text, 0) for p, n in noisy] or [
            Perfdatum("errors", value or 0, "c", limits.warn_text, limits.crit_text, 0)
        ]
        return graded(self, state, text, value=value, limits=limits, perfdata=perf, details=details)


CHECKS: tuple[CheckSpec, ...] = (Interfaces(), InterfaceErrors())
