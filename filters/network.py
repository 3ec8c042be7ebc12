"""Jinja filters for the network runbooks: the switches' facts → findings.

Loaded by respond for this project's runbooks (docs/runbooks.md, "Project filters"). Each
filter takes a registered step result (``R.hosts`` maps a host to its result: ``facts``
from a netmiko step's ``facts:``, ``error``, ``stderr``, ...) and returns plain lists,
dicts and strings. The facts have the same structure on every vendor (Cisco IOS, Huawei
VRP, H3C Comware: docs/runbooks.md, "Network facts"), so nothing here knows a vendor's
commands; only port names differ, and ``port_name`` matches them in any form.
"""

from __future__ import annotations

import re
from typing import Any

# Abbreviations of an interface type (lower case, "-" dropped) → the long types they stand
# for, where a long type does not simply start with the abbreviation: Huawei writes GE0/0/1
# and XGE0/0/1 (XGigabitEthernet), H3C GE1/0/1 and XGE1/0/49 (Ten-GigabitEthernet).
TYPE_ALIASES = {
    "ge": ("gigabitethernet",),
    "xge": ("xgigabitethernet", "tengigabitethernet"),
    "fe": ("fastethernet",),
    "te": ("tengigabitethernet",),
    "mge": ("multigigabitethernet",),
    "eth": ("ethernet",),
}
# The long name a short form stands for when the switch's own list is not at hand.
LONG_TYPES = {
    "gigabitethernet": "GigabitEthernet",
    "xgigabitethernet": "XGigabitEthernet",
    "fastethernet": "FastEthernet",
    "tengigabitethernet": "TenGigabitEthernet",
    "multigigabitethernet": "MultiGigabitEthernet",
    "ethernet": "Ethernet",
}
_NAME = re.compile(r"^\s*([A-Za-z][A-Za-z\- ]*?)\s*(\d[\d/.:]*)\s*$")


def _split(name: str) -> tuple[str, str] | None:
    """``GE0/0/1`` → ``("ge", "0/0/1")``; None for a name without a number."""
    match = _NAME.match(str(name))
    if match is None:
        return None
    kind = match.group(1).lower().replace("-", "").replace(" ", "")
    return kind, match.group(2)


def _type_matches(short: str, long: str) -> bool:
    """Does the typed interface type ``short`` name the long type ``long``?"""
    return any(long.startswith(full) for full in (short, *TYPE_ALIASES.get(short, ())))


def same_port(given: str, name: str) -> bool:
    """Is ``given`` (any form: ``GE0/0/1``, ``Gi0/1``, ``gig 0/1``) the port ``name``?"""
    a, b = _split(given), _split(name)
    if a is None or b is None:
        return str(given).strip().lower() == str(name).strip().lower()
    return a[1] == b[1] and (_type_matches(a[0], b[0]) or _type_matches(b[0], a[0]))


def long_port(name: str) -> str:
    """A port name in its long form without asking the switch: ``GE0/0/2`` →
    ``GigabitEthernet0/0/2``, ``Gi0/2`` → ``GigabitEthernet0/2``; a long or unknown name is
    returned as given."""
    split = _split(name)
    if split is None:
        return str(name).strip()
    kind, number = split
    for long_kind, spelled in LONG_TYPES.items():
        if long_kind == kind or long_kind == next(iter(TYPE_ALIASES.get(kind, ())), None):
            return spelled + number
    candidates = [
        spelled for long_kind, spelled in LONG_TYPES.items() if long_kind.startswith(kind)
    ]
    return candidates[0] + number if len(candidates) == 1 else str(name).strip()


def _host(result: Any, host: str) -> dict[str, Any]:
    return dict((result.hosts.get(host) if result is not None else None) or {})


def _facts(result: Any, host: str) -> dict[str, Any]:
    """The facts a host gave (empty when it did not answer or the step did not run)."""
    return dict(_host(result, host).get("facts") or {})


def interfaces(result: Any, host: str) -> list[dict[str, Any]]:
    return list(_facts(result, host).get("interfaces") or [])


def port_of(result: Any, host: str, port: str) -> dict[str, Any] | None:
    """The interface facts of ``host``'s ``port`` (any name form), or None."""
    return next((i for i in interfaces(result, host) if same_port(port, i["name"])), None)


def port_name(result: Any, host: str, port: str) -> str:
    """``port`` as ``host`` names it (``GE0/0/2`` → ``GigabitEthernet0/0/2``): the switch's
    own name when it reported the port, else the usual long form."""
    found = port_of(result, host, port)
    return str(found["name"]) if found else long_port(port)


def port_state(port: dict[str, Any] | None) -> str:
    """``up``, ``down`` (enabled, no link), ``administratively down`` or ``unknown``."""
    if not port:
        return "unknown"
    if port.get("admin") == "down":
        return "administratively down"
    return "up" if port.get("oper") == "up" else "down"


def refused_login(result: Any) -> list[str]:
    """Hosts that answered but refused the login (host key or credentials): reachable, so
    not an outage by themselves."""
    refused = []
    for host, r in result.hosts.items():
        why = f"{r.get('error') or ''} {r.get('stderr') or ''}".lower()
        if r.get("failed") and ("host key" in why or "authentication" in why):
            refused.append(host)
    return refused


def unread(result: Any) -> list[str]:
    """Switches that answered but whose interfaces could not be read (their output did not
    parse): the diagnosis cannot say their links are fine."""
    return [h for h in result.ok_hosts if _facts(result, h).get("interfaces") is None]


def _errors(port: dict[str, Any]) -> int:
    """Receive errors of a port: its CRC count where the switch gives one, else input errors."""
    for key in ("crc", "in_errors"):
        value = port.get(key)
        if value:
            return int(value)
    return 0


def _link(switch: str, port: dict[str, Any], dead: list[str]) -> dict[str, Any]:
    description = str(port.get("description") or "")
    words = re.split(r"[\s,;:()]+", description)  # acc-sw1 must not match "acc-sw10"
    toward = [d for d in dead if d in words]
    errors = _errors(port)
    text = f'{switch} {port["name"]} "{description}" down'
    text += f", {errors} CRC errors" if errors else ""
    text += f" (toward unreachable {', '.join(toward)})" if toward else ""
    return {"switch": switch, "port": port["name"], "at": f'{switch}:{port["name"]}',
            "name": description, "crc": errors, "toward": toward, "text": text}  # fmt: skip


def down_links(result: Any, dead: list[str]) -> list[dict[str, Any]]:
    """Cabled ports (those with a description) that are enabled but have no link, on every
    switch that answered: ``{switch, port, at, name, crc, toward, text}`` (``at`` is
    ``SWITCH:PORT``); ``toward`` names the unreachable switches the description points to
    (the link is down because that switch is). A port shut down on purpose (the backup
    uplink) is not a down link."""
    links = []
    for switch in result.ok_hosts:
        for port in interfaces(result, switch):
            if port.get("description") and port.get("admin") == "up" and port.get("oper") != "up":
                links.append(_link(switch, port, dead))
    return links


def neighbours(result: Any, switch: str) -> list[str]:
    """The neighbours ``switch`` sees (LLDP or CDP) as ``NAME on PORT``."""
    rows = _facts(result, switch).get("neighbors") or []
    return [f"{n['name']} on {n['local_interface']}" for n in rows]


def default_route(result: Any, switch: str) -> dict[str, Any]:
    """``switch``'s default route: ``{present, next_hop, interface, text}``; not present when
    the switch did not answer."""
    routes = _facts(result, switch).get("routes") or {}
    present = bool(routes.get("default"))
    hop = routes.get("next_hop")
    text = f"present via {hop}" if present and hop else "present" if present else "MISSING"
    return {"present": present, "next_hop": hop, "interface": routes.get("interface"),
            "text": f"default route on {switch}: {text}"}  # fmt: skip


FILTERS = {
    "refused_login": refused_login,
    "unread": unread,
    "down_links": down_links,
    "neighbours": neighbours,
    "port_of": port_of,
    "port_name": port_name,
    "port_state": port_state,
    "long_port": long_port,
    "default_route": default_route,
}
