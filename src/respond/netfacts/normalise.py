"""ntc-templates rows → the vendor-neutral shapes of ``respond.netfacts``.

ntc-templates does the parsing (which line holds what); this module only says which
template field feeds which key, per family, and fills the few gaps the templates leave:

* VRP and Comware ``display interface`` templates capture no error counters, so they are
  read from each interface's block of the same output (``Total Error:``/``CRC:`` on VRP,
  ``N input errors``/``N output errors``/``N CRC`` on Comware);
* Comware's routing table and Cisco's LLDP table print short interface names (``GE0/1``,
  ``Gi0/1``), which become the long names every other fact uses (``long_name``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from respond.netos import interface_long_name as long_name

Row = Mapping[str, Any]

# IOS route codes → the protocol words every family uses
_IOS_PROTOCOLS = {
    "S": "static",
    "C": "direct",
    "L": "local",
    "O": "ospf",
    "B": "bgp",
    "D": "eigrp",
    "R": "rip",
    "i": "isis",
}


# -- interfaces -------------------------------------------------------------------------------


def interfaces(family: str, rows: Sequence[Row], text: str) -> list[dict[str, Any]]:
    """``show interface(s)`` / ``display interface`` rows → interface facts."""
    one = _INTERFACE_MAPPERS[family]
    blocks = _blocks(text, [str(r.get("interface", "")) for r in rows])
    return [one(row, block) for row, block in zip(rows, blocks, strict=True)]


def _ios_interface(row: Row, _block: str) -> dict[str, Any]:
    # cisco_ios show interfaces: INTERFACE, LINK_STATUS ("administratively down"),
    # PROTOCOL_STATUS, DESCRIPTION, SPEED ("1000Mb/s") or BANDWIDTH, INPUT_ERRORS,
    # OUTPUT_ERRORS, CRC
    link = _low(row.get("link_status"))
    return _interface(
        row["interface"],
        admin_up="administratively" not in link,
        oper_up=link.startswith("up") and _low(row.get("protocol_status")).startswith("up"),
        description=row.get("description"),
        speed_mbps=_speed(row.get("speed")) or _kbit(row.get("bandwidth")),
        in_errors=row.get("input_errors"),
        out_errors=row.get("output_errors"),
        crc=row.get("crc"),
    )


def _nxos_interface(row: Row, _block: str) -> dict[str, Any]:
    # cisco_nxos show interface: INTERFACE, LINK_STATUS ("down (Administratively down)"),
    # ADMIN_STATE, DESCRIPTION, SPEED ("1000 Mb/s") or BANDWIDTH, INPUT_ERRORS,
    # OUTPUT_ERRORS, CRC
    link = _low(row.get("link_status"))
    admin_down = "administratively" in link or _low(row.get("admin_state")) == "down"
    return _interface(
        row["interface"],
        admin_up=not admin_down,
        oper_up=link.startswith("up"),
        description=row.get("description"),
        speed_mbps=_speed(row.get("speed")) or _kbit(row.get("bandwidth")),
        in_errors=row.get("input_errors"),
        out_errors=row.get("output_errors"),
        crc=row.get("crc"),
    )


def _vrp_interface(row: Row, block: str) -> dict[str, Any]:
    # huawei_vrp display interface: INTERFACE, LINK_STATUS ("Administratively DOWN"),
    # PROTOCOL_STATUS, INTERFACE_DESCRIPTION, SPEED (Mbit/s); counters from the block
    link = _low(row.get("link_status"))
    totals = re.findall(r"Total Error:\s*(\d+)", block)
    return _interface(
        row["interface"],
        admin_up="administratively" not in link,
        oper_up=link.startswith("up") and _low(row.get("protocol_status")).startswith("up"),
        description=_own_description(row["interface"], row.get("interface_description")),
        speed_mbps=_int(row.get("speed")),
        in_errors=totals[0] if totals else None,
        out_errors=totals[1] if len(totals) > 1 else None,
        crc=_first(r"CRC:\s*(\d+)", block),
    )


def _comware_interface(row: Row, block: str) -> dict[str, Any]:
    # hp_comware display interface: INTERFACE, LINE_STATUS ("Administratively DOWN"),
    # PROTOCOL_STATUS, DESCRIPTION, SPEED ("1000Mbps-speed") or BANDWIDTH ("1000000 kbps");
    # counters from the block
    link = _low(row.get("line_status"))
    return _interface(
        row["interface"],
        admin_up="administratively" not in link,
        oper_up=link.startswith("up") and _low(row.get("protocol_status")).startswith("up"),
        description=_own_description(row["interface"], row.get("description")),
        speed_mbps=_speed(row.get("speed")) or _kbit(row.get("bandwidth")),
        in_errors=_first(r"(\d+) input errors", block),
        out_errors=_first(r"(\d+) output errors", block),
        crc=_first(r"(\d+) CRC", block),
    )


_INTERFACE_MAPPERS: dict[str, Callable[[Row, str], dict[str, Any]]] = {
    "ios": _ios_interface,
    "nxos": _nxos_interface,
    "vrp": _vrp_interface,
    "comware": _comware_interface,
}


def _interface(
    name: str,
    *,
    admin_up: bool,
    oper_up: bool,
    description: Any,
    speed_mbps: int | None,
    in_errors: Any,
    out_errors: Any,
    crc: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "admin": "up" if admin_up else "down",
        "oper": "up" if oper_up and admin_up else "down",
        "description": str(description or "").strip(),
        "speed_mbps": speed_mbps,
        "in_errors": _int(in_errors),
        "out_errors": _int(out_errors),
        "crc": _int(crc),
    }


def _own_description(name: str, text: Any) -> str:
    """The description an operator set: VRP and Comware print a default one for a port
    without (``GigabitEthernet1/0/3 Interface``, ``HUAWEI, AR Series, GE0/0/1 Interface``)."""
    description = str(text or "").strip()
    default = f"{name} Interface"
    return "" if description == default or description.endswith(f", {default}") else description


def _blocks(text: str, names: Sequence[str]) -> list[str]:
    """Each interface's part of a multi-interface output, in the order of ``names``."""
    if not names:
        return []
    starts: list[int] = []
    pos = 0
    for name in names:
        found = re.compile(rf"^\s*{re.escape(name)}\b", re.MULTILINE).search(text, pos)
        start = found.start() if found else pos
        starts.append(start)
        pos = found.end() if found else pos
    ends = [*starts[1:], len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True)]


# -- neighbours -------------------------------------------------------------------------------


def neighbors(family: str, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """LLDP neighbour rows → neighbour facts (ports without a neighbour are left out)."""
    out = []
    for row in rows:
        # every family: LOCAL_INTERFACE, NEIGHBOR_NAME, MGMT_ADDRESS; the remote port is
        # NEIGHBOR_PORT_ID where the template has it (IOS, VRP: NEIGHBOR_INTERFACE is the
        # port's description there), else NEIGHBOR_INTERFACE (NX-OS, Comware); the platform
        # is the first line of NEIGHBOR_DESCRIPTION (the system description)
        name = str(row.get("neighbor_name") or "").strip()
        if not name:
            continue
        port = row.get("neighbor_port_id") if "neighbor_port_id" in row else None
        port = port or row.get("neighbor_interface") or ""
        out.append(
            {
                "local_interface": long_name(str(row.get("local_interface", "")), family),
                "name": name,
                "interface": long_name(str(port)),
                "protocol": "lldp",
                "platform": _first_text(row.get("neighbor_description")),
                "address": str(row.get("mgmt_address") or "").strip() or None,
            }
        )
    return out


# -- routes -----------------------------------------------------------------------------------


def routes(family: str, rows: Sequence[Row]) -> dict[str, Any]:
    """Routing-table rows → ``{"default", "next_hop", "interface", "entries"}``; the default
    route's next hop and interface are those of its first active entry."""
    entries = [e for e in (_ROUTE_MAPPERS[family](row, family) for row in rows) if e]
    default = next((e for e in entries if e["prefix"] == "0.0.0.0/0"), None)
    return {
        "default": default is not None,
        "next_hop": default["next_hop"] if default else None,
        "interface": default["interface"] if default else None,
        "entries": entries,
    }


def _cisco_route(row: Row, family: str) -> dict[str, Any] | None:
    # cisco_ios / cisco_nxos show ip route: NETWORK, PREFIX_LENGTH, PROTOCOL (IOS: a code
    # letter; NX-OS: a word like "static" or "ospf-1"), NEXTHOP_IP, NEXTHOP_IF
    protocol = str(row.get("protocol") or "")
    if family == "ios":
        protocol = _IOS_PROTOCOLS.get(protocol, protocol.lower())
    return _route(
        row.get("network"), row.get("prefix_length"), protocol, row.get("nexthop_ip"),
        row.get("nexthop_if"), family,
    )  # fmt: skip


def _vrp_route(row: Row, family: str) -> dict[str, Any] | None:
    # huawei_vrp display ip routing-table verbose: DESTINATION (with /len on newer
    # releases), PREFIX_LENGTH, PROTOCOL, NEXT_HOP, INTERFACE, STATE (only Active counts)
    if "Active" not in str(row.get("state") or "").split():
        return None
    destination, _, length = str(row.get("destination") or "").partition("/")
    return _route(
        destination, row.get("prefix_length") or length, row.get("protocol"),
        row.get("next_hop"), row.get("interface"), family,
    )  # fmt: skip


def _comware_route(row: Row, family: str) -> dict[str, Any] | None:
    # hp_comware display ip routing-table: NETWORK, PREFIX_LENGTH, PROTOCOL, NEXTHOP_IP,
    # NEXTHOP_IF (short names)
    return _route(
        row.get("network"), row.get("prefix_length"), row.get("protocol"),
        row.get("nexthop_ip"), row.get("nexthop_if"), family,
    )  # fmt: skip


_ROUTE_MAPPERS: dict[str, Callable[[Row, str], dict[str, Any] | None]] = {
    "ios": _cisco_route,
    "nxos": _cisco_route,
    "vrp": _vrp_route,
    "comware": _comware_route,
}


def _route(
    network: Any, length: Any, protocol: Any, next_hop: Any, interface: Any, family: str
) -> dict[str, Any] | None:
    if not network:
        return None
    hop = str(next_hop or "").strip()
    word = str(protocol or "").strip().lower()
    return {
        "prefix": f"{network}/{length or 32}",
        "next_hop": hop if hop and hop != "0.0.0.0" else None,
        "interface": long_name(str(interface), family) if interface else None,
        "protocol": "direct" if word == "connected" else word,
    }


# -- small readers ----------------------------------------------------------------------------


def _low(value: Any) -> str:
    return str(value or "").strip().lower()


def _int(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def _first(pattern: str, text: str) -> int | None:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else None


def _speed(value: Any) -> int | None:
    """``1000Mb/s``, ``1000 Mb/s``, ``10Gb/s``, ``1000Mbps-speed`` → Mbit/s."""
    found = re.match(r"\s*(\d+)\s*([GMK])", str(value or ""), re.IGNORECASE)
    if not found:
        return None
    scale = {"g": 1000, "m": 1, "k": 0}[found.group(2).lower()]
    return int(found.group(1)) * scale if scale else int(found.group(1)) // 1000


def _kbit(value: Any) -> int | None:
    """A bandwidth in kbit/s (``1000000 Kbit``, ``1000000 kbps``) → Mbit/s."""
    found = re.match(r"\s*(\d+)\s*k", str(value or ""), re.IGNORECASE)
    return int(found.group(1)) // 1000 if found else None


def _first_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value or "").strip()
    return text or None
