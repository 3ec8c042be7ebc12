"""What a Huawei VRP switch prints: the text of each ``display`` command and the configuration.

Pure functions of a :class:`~respond.lab.netdev.device.DeviceLike`: the dialect
(:mod:`.vrp`) chooses which one a command line asks for. The layouts follow an S5735 running
VRP V200R021, closely enough that ntc-templates' ``huawei_vrp`` templates parse them (the tests
prove it for every command that has a template).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from respond.lab.netdev.device import DeviceLike, NeighborView, PortView, RouteView, SviView

VRP_RELEASE = "5.170"  # the VRP kernel version every S-series V200 release reports
TIME = "%Y-%m-%d %H:%M:%S"
_LOG_TIME = "%b %d %Y %H:%M:%S"
_LEGEND = (
    "PHY: Physical",
    "*down: administratively down",
    "^down: standby",
    "(l): loopback",
    "(s): spoofing",
    "(E): E-Trunk down",
    "(b): BFD down",
    "(e): ETHOAM down",
    "(dl): DLDP down",
    "(d): Dampening Suppressed",
)


def clock(epoch: float) -> str:
    return time.strftime(TIME, time.gmtime(epoch))


def vrp_mac(mac: str) -> str:
    """``52:54:00:20:01:01`` → ``5254-0020-0101`` (how VRP writes hardware addresses)."""
    digits = mac.replace(":", "").replace("-", "").replace(".", "").lower()
    return "-".join(digits[i : i + 4] for i in range(0, 12, 4))


def vrp_interface(name: str) -> str:
    """The lab's SVI name (``Vlan10``) as VRP calls it (``Vlanif10``); ports unchanged."""
    if name.startswith("Vlan") and name[4:].isdigit():
        return "Vlanif" + name[4:]
    return name


def prefix_length(mask: str) -> int:
    return sum(bin(int(octet)).count("1") for octet in mask.split("."))


def vrp_preference(route: RouteView) -> int:
    """VRP's preference: direct 0, static 60 (a floating backup static sits above 60)."""
    if route.protocol == "direct":
        return 0
    return 60 if route.preference <= 1 else 60 + route.preference


# ---------------------------------------------------------------------- version, clock, log


def display_version(device: DeviceLike) -> str:
    series = device.model.split("-")[0]
    return "\n".join(
        [
            "Huawei Versatile Routing Platform Software",
            f"VRP (R) software, Version {VRP_RELEASE} ({series} {device.version})",
            "Copyright (C) 2000-2022 HUAWEI TECH Co., Ltd.",
            f"HUAWEI {device.model} Routing Switch uptime is {_uptime(device.uptime_s)}",
            "",
            f"ES5D2T28S003 0(Master) : uptime is {_uptime(device.uptime_s)}",
            "DDR             Memory Size : 1024    M bytes",
            "FLASH Total     Memory Size : 1024    M bytes",
            "FLASH Available Memory Size : 521     M bytes",
            "Pcb           Version : VER.A",
            "BootROM       Version : 0000.0000",
            "BootLoad      Version : 0000.0000",
            "CPLD          Version : 0000",
            f"Software      Version : VRP (R) Software, Version {VRP_RELEASE} ({device.version})",
            "FLASH         Version : 0000.0000",
            "",
        ]
    )


def _uptime(seconds: float) -> str:
    minutes = int(seconds) // 60
    weeks, rest = divmod(minutes, 7 * 24 * 60)
    days, rest = divmod(rest, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{weeks} week, {days} day, {hours} hour, {minutes} minute"


def display_clock(device: DeviceLike) -> str:
    now = device.now()
    weekday = time.strftime("%A", time.gmtime(now))
    return f"{clock(now)}\n{weekday}\nTime Zone(DefaultZoneName) : UTC\n"


def display_logbuffer(device: DeviceLike) -> str:
    """Port events, newest first, as the IFNET module logs them."""
    entries = []
    for index, (at, message) in enumerate(reversed(device.log())):
        port, _, word = message.partition(" ")
        state = "UP" if word == "up" else "DOWN"
        stamp = time.strftime(_LOG_TIME, time.gmtime(at))
        entries.append(
            f"{stamp} {device.name} %%01IFNET/4/IF_STATE(l)[{index}]:"
            f"Interface {port} has turned into {state} state."
        )
    head = [
        "Logging buffer configuration and contents : enabled",
        "Allowed max buffer size : 1024",
        "Actual buffer size : 512",
        "Channel number : 4 , Channel name : logbuffer",
        "Dropped messages : 0",
        "Overwritten messages : 0",
        f"Current messages : {len(entries)}",
        "",
    ]
    return "\n".join(head + entries) + "\n"


# ---------------------------------------------------------------------- interfaces


@dataclass(frozen=True, slots=True)
class Row:
    """One line of an interface table: a port, an SVI (Vlanif) or NULL0."""

    name: str  # long name
    short: str
    phy: str  # "up" | "down" | "*down"
    protocol: str  # "up" | "down" | "up(s)"
    description: str
    address: str  # "10.10.0.1/24" | "unassigned"
    in_errors: int = 0
    out_errors: int = 0


def _phy(port: PortView) -> str:
    if not port.admin_up:
        return "*down"
    return "up" if port.oper_up else "down"


def _carriers(svi: SviView, ports: Sequence[PortView]) -> list[PortView]:
    """The ports that are up and carry the SVI's VLAN: a Vlanif is up while one is."""
    return [p for p in ports if p.oper_up and p.vlan in (str(svi.vlan), "trunk")]


def _svi_up(svi: SviView, ports: Sequence[PortView]) -> bool:
    return bool(_carriers(svi, ports))


def interface_rows(device: DeviceLike) -> list[Row]:
    """Every interface in VRP's order: ports, NULL0, then the Vlanifs."""
    ports = device.ports()
    rows = []
    for port in ports:
        address = device.port_address(port.name)
        cidr = f"{address[0]}/{prefix_length(address[1])}" if address else "unassigned"
        up = "up" if port.oper_up else "down"
        row = Row(port.name, port.short, _phy(port), up, port.description, cidr)
        rows.append(replace(row, in_errors=port.in_errors, out_errors=port.out_errors))
    rows.append(Row("NULL0", "NULL0", "up", "up(s)", "", "unassigned"))
    for svi in device.svis():
        up = "up" if _svi_up(svi, ports) else "down"
        name = f"Vlanif{svi.vlan}"
        cidr = f"{svi.ip}/{prefix_length(svi.mask)}"
        rows.append(Row(name, name, up, up, svi.description, cidr))
    return rows


def display_interface_brief(device: DeviceLike) -> str:
    lines = [*_LEGEND, "InUti/OutUti: input utility/output utility"]
    lines.append(
        f"{'Interface':<28}{'PHY':<6}{'Protocol':<10}{'InUti':>5}{'OutUti':>7}"
        f"{'inErrors':>11}{'outErrors':>11}"
    )
    for row in interface_rows(device):
        physical = row.name.startswith(("Gigabit", "XGigabit", "Ethernet"))
        use = ("0.01%" if row.phy == "up" else "0%") if physical else "--"
        lines.append(
            f"{row.name:<28}{row.phy:<6}{row.protocol:<10}{use:>5}{use:>7}"
            f"{row.in_errors:>11}{row.out_errors:>11}"
        )
    return "\n".join(lines) + "\n"


def display_interface_description(device: DeviceLike) -> str:
    lines = [*_LEGEND[:2], "#down: LBDT down", *_LEGEND[3:]]
    lines.append(f"{'Interface':<30}{'PHY':<8}{'Protocol':<9}Description")
    for row in interface_rows(device):
        lines.append(f"{row.short:<30}{row.phy:<8}{row.protocol:<9}{row.description}".rstrip())
    return "\n".join(lines) + "\n"


def display_ip_interface_brief(device: DeviceLike) -> str:
    rows = [r for r in interface_rows(device) if r.address != "unassigned" or r.name == "NULL0"]
    up_phy = sum(r.phy == "up" for r in rows)
    up_proto = sum(r.protocol.startswith("up") for r in rows)
    lines = [
        *_LEGEND[1:5],
        "(E): E-Trunk down",
        f"The number of interface that is UP in Physical is {up_phy}",
        f"The number of interface that is DOWN in Physical is {len(rows) - up_phy}",
        f"The number of interface that is UP in Protocol is {up_proto}",
        f"The number of interface that is DOWN in Protocol is {len(rows) - up_proto}",
        "",
        f"{'Interface':<34}{'IP Address/Mask':<21}{'Physical':<11}Protocol",
    ]
    for row in rows:
        lines.append(f"{row.name:<34}{row.address:<21}{row.phy:<11}{row.protocol}")
    return "\n".join(lines) + "\n"


def display_interface(device: DeviceLike, only: str | None = None) -> str:
    """``display interface [IF]``: every interface (or the one named, by its long name)."""
    now = device.now()
    blocks = []
    ports = device.ports()
    for index, port in enumerate(ports):
        if only in (None, port.name):
            blocks.append(_port_block(device, port, index, now))
    if only in (None, "NULL0"):
        blocks.append(_null_block(now))
    for svi in device.svis():
        if only in (None, f"Vlanif{svi.vlan}"):
            blocks.append(_svi_block(device, svi, _carriers(svi, ports), now))
    return "\n".join(blocks)


def _state_word(port: PortView) -> str:
    if not port.admin_up:
        return "Administratively DOWN"
    return "UP" if port.oper_up else "DOWN"


def _port_head(device: DeviceLike, port: PortView) -> list[str]:
    """The lines that say what kind of port this is: switched (link type, PVID) or routed."""
    if port.vlan == "routed":
        address = device.port_address(port.name)
        ip = (
            f"Internet Address is {address[0]}/{prefix_length(address[1])}"
            if address
            else "Internet protocol processing : disabled"
        )
        return [f"Route Port,The Maximum Transmit Unit is {port.mtu}", ip]
    trunk = port.vlan == "trunk"
    link_type = "trunk(configured)" if trunk else "access(negotiated)"
    pvid = "1" if trunk or not port.vlan.isdigit() else port.vlan
    return [
        f"Switch Port, Link-type : {link_type},",
        f"PVID : {pvid:>4}, TPID : 8100(Hex), The Maximum Frame Length is 9216",
    ]


def _port_block(device: DeviceLike, port: PortView, index: int, now: float) -> str:
    changed = clock(port.last_change)
    up_time, down_time = (changed, "-") if port.oper_up else ("-", changed)
    lines = [
        f"{port.name} current state : {_state_word(port)}",
        f"Line protocol current state : {'UP' if port.oper_up else 'DOWN'}",
        f"Description:{port.description}",
        *_port_head(device, port),
        "IP Sending Frames' Format is PKTFMT_ETHNT_2, Hardware address is " + vrp_mac(port.mac),
        f"Last physical up time   : {up_time}",
        f"Last physical down time : {down_time}",
        f"Current system time: {clock(now)}",
        "Port Mode: COMMON COPPER",
        f"Speed : {port.speed_mbps:>4},  Loopback: NONE",
        f"Duplex: {port.duplex.upper()},   Negotiation: ENABLE",
        "Mdi   : AUTO,   Flow-control: DISABLE",
        *_counters(port, index, device.uptime_s if (port.oper_up or port.description) else 0.0),
    ]
    return "\n".join(lines) + "\n"


def _counters(port: PortView, index: int, seconds: float) -> list[str]:
    """Traffic that grows with the switch's uptime, and the port's error counters."""
    pps_in, pps_out = (2 + index % 5, 1 + index % 3) if port.oper_up else (0, 0)
    packets_in, packets_out = int(seconds * (3 + index % 5)), int(seconds * (2 + index % 3))
    return [
        f"Last 300 seconds input rate {pps_in * 920} bits/sec, {pps_in} packets/sec",
        f"Last 300 seconds output rate {pps_out * 920} bits/sec, {pps_out} packets/sec",
        "Input peak rate 27080 bits/sec, Record time: -",
        "Output peak rate 20584 bits/sec, Record time: -",
        "",
        f"Input:  {packets_in} packets, {packets_in * 131} bytes",
        f"  Unicast: {packets_in // 2:>26},  Multicast: {packets_in - packets_in // 2:>27}",
        f"  Broadcast: {0:>24},  Jumbo: {0:>31}",
        f"  Discard: {0:>26},  Pause: {0:>31}",
        f"  Frames: {0:>27}",
        "",
        f"  Total Error: {port.in_errors:>22}",
        f"  CRC: {port.crc:>30},  Giants: {0:>30}",
        f"  Jabbers: {0:>26},  Fragments: {0:>27}",
        f"  Runts: {0:>28},  DropEvents: {0:>26}",
        f"  Alignments: {0:>23},  Symbols: {0:>29}",
        f"  Ignoreds: {0:>25}",
        "",
        f"Output:  {packets_out} packets, {packets_out * 98} bytes",
        f"  Unicast: {packets_out // 2:>26},  Multicast: {packets_out - packets_out // 2:>27}",
        f"  Broadcast: {0:>24},  Jumbo: {0:>31}",
        f"  Discard: {0:>26},  Pause: {0:>31}",
        "",
        f"  Total Error: {port.out_errors:>22}",
        f"  Collisions: {0:>23},  ExcessiveCollisions: {0:>17}",
        f"  Late Collisions: {0:>18},  Deferreds: {0:>27}",
        "",
        "    Input bandwidth utilization threshold : 80.00%",
        "    Output bandwidth utilization threshold: 80.00%",
        f"    Input bandwidth utilization  : {'0.01%' if port.oper_up else '   0%'}",
        f"    Output bandwidth utilization : {'0.01%' if port.oper_up else '   0%'}",
    ]


def _null_block(now: float) -> str:
    return (
        "\n".join(
            [
                "NULL0 current state : UP",
                "Line protocol current state : UP (spoofing)",
                "Description:",
                "Route Port,The Maximum Transmit Unit is 1500",
                "Internet protocol processing : disabled",
                "Physical is NULL DEV",
                f"Current system time: {clock(now)}",
                "    Last 300 seconds input rate 0 bits/sec, 0 packets/sec",
                "    Last 300 seconds output rate 0 bits/sec, 0 packets/sec",
                "    Input: 0 packets,0 bytes",
                "    Output:0 packets,0 bytes",
                "    Input bandwidth utilization  :    0%",
                "    Output bandwidth utilization :    0%",
            ]
        )
        + "\n"
    )


def _svi_block(device: DeviceLike, svi: SviView, carriers: list[PortView], now: float) -> str:
    up = bool(carriers)
    state = "UP" if up else "DOWN"
    since = min((p.last_change for p in carriers), default=now)  # up since its first carrier
    lines = [
        f"Vlanif{svi.vlan} current state : {state}",
        f"Line protocol current state : {state}",
        *([f"Last line protocol up time : {clock(since)}"] if up else []),
        f"Description:{svi.description}",
        "Route Port,The Maximum Transmit Unit is 1500",
        f"Internet Address is {svi.ip}/{prefix_length(svi.mask)}",
        "IP Sending Frames' Format is PKTFMT_ETHNT_2, Hardware address is " + _svi_mac(device, svi),
        f"Current system time: {clock(now)}",
        "    Input bandwidth utilization  : --",
        "    Output bandwidth utilization : --",
    ]
    return "\n".join(lines) + "\n"


def _svi_mac(device: DeviceLike, svi: SviView) -> str:
    """The switch's system MAC (its first port's, last byte 0xff-based) for every Vlanif."""
    ports = device.ports()
    base = vrp_mac(ports[0].mac) if ports else "5254-0000-0000"
    return base[:-2] + f"{(0xF0 + svi.vlan) % 256:02x}"


# ---------------------------------------------------------------------- routing


@dataclass(frozen=True, slots=True)
class Entry:
    """One route as VRP shows it."""

    destination: str  # "0.0.0.0/0"
    protocol: str  # "Static" | "Direct"
    preference: int
    cost: int
    next_hop: str
    interface: str
    flags: str  # "RD" | "D"
    advertised: bool


def _local_address(device: DeviceLike, interface: str) -> str | None:
    for svi in device.svis():
        if f"Vlan{svi.vlan}" == interface or f"Vlanif{svi.vlan}" == interface:
            return svi.ip
    address = device.port_address(interface)
    return address[0] if address else None


def route_entries(device: DeviceLike) -> list[Entry]:
    """The routing table: the device's routes (with each direct network's own host route)
    and the loopback routes every VRP has, sorted by destination."""
    entries = [
        Entry("127.0.0.0/8", "Direct", 0, 0, "127.0.0.1", "InLoopBack0", "D", False),
        Entry("127.0.0.1/32", "Direct", 0, 0, "127.0.0.1", "InLoopBack0", "D", False),
    ]
    for route in device.routes():
        interface = vrp_interface(route.interface)
        destination = f"{route.prefix}/{route.length}"
        if route.protocol != "direct":
            preference = vrp_preference(route)
            entries.append(
                Entry(
                    destination,
                    "Static",
                    preference,
                    route.metric,
                    route.next_hop,
                    interface,
                    "RD",
                    True,
                )
            )
            continue
        own = _local_address(device, route.interface) or route.next_hop
        entries.append(Entry(destination, "Direct", 0, 0, own, interface, "D", True))
        if own != route.next_hop:
            entries.append(Entry(f"{own}/32", "Direct", 0, 0, "127.0.0.1", interface, "D", False))
    return sorted(entries, key=lambda e: _sort_key(e.destination))


def _sort_key(destination: str) -> tuple[int, ...]:
    address, _, length = destination.partition("/")
    return (*map(int, address.split(".")), int(length))


def _table_head(entries: Sequence[Entry]) -> list[str]:
    return [
        "Route Flags: R - relay, D - download to fib",
        "-" * 78,
        "Routing Tables: Public",
        f"         Destinations : {len(entries):<8} Routes : {len(entries):<8}",
        "",
    ]


def display_ip_routing_table(device: DeviceLike) -> str:
    entries = route_entries(device)
    lines = _table_head(entries)
    lines.append("Destination/Mask    Proto   Pre  Cost      Flags NextHop         Interface")
    lines.append("")
    for e in entries:
        lines.append(
            f"{e.destination:>19} {e.protocol:<7} {e.preference:<4} {e.cost:<10}"
            f"{e.flags:>4}   {e.next_hop:<15} {e.interface}"
        )
    return "\n".join(lines) + "\n"


def display_ip_routing_table_verbose(device: DeviceLike) -> str:
    entries = route_entries(device)
    age = _age(device.uptime_s)
    lines = _table_head(entries)
    for e in entries:
        state = "Active Adv" if e.advertised else "Active NoAdv"
        priority = "medium" if e.protocol == "Static" else "high"
        lines += [
            "",
            f"Destination: {e.destination}",
            f"     Protocol: {e.protocol:<17}Process ID: 0",
            f"   Preference: {e.preference:<20}Cost: {e.cost}",
            f"      NextHop: {e.next_hop:<17}Neighbour: 0.0.0.0",
            f"        State: {state:<20}Age: {age}",
            f"          Tag: 0                  Priority: {priority}",
            "        Label: NULL                QoSInfo: 0x0",
            "   IndirectID: 0x0",
            f" RelayNextHop: 0.0.0.0           Interface: {e.interface}",
            f"     TunnelID: 0x0                   Flags:  {e.flags}",
        ]
    return "\n".join(lines) + "\n"


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h{minutes:02d}m{secs:02d}s"


# ---------------------------------------------------------------------- LLDP


def display_lldp_neighbor(device: DeviceLike) -> str:
    by_port = {n.local_port: n for n in device.neighbors()}
    blocks = []
    for port in device.ports():
        neighbor = by_port.get(port.name)
        if neighbor is None:
            blocks.append(f"{port.name} has 0 neighbor(s)\n")
        else:
            blocks.append(_neighbor_block(neighbor))
    return "\n".join(blocks)


def _neighbor_block(n: NeighborView) -> str:
    capabilities = n.capabilities.replace(",", " ")
    return "\n".join(
        [
            f"{n.local_port} has 1 neighbor(s):",
            "",
            "Neighbor index :1",
            "Chassis type   :MAC address",
            f"Chassis ID     :{vrp_mac(n.remote_mac)}",
            "Port ID type   :Interface name",
            f"Port ID        :{n.remote_port}",
            f"Port description    :{n.remote_port}",
            f"System name         :{n.remote_name}",
            f"System description  :{n.remote_platform}",
            f"System capabilities supported   :{capabilities}",
            f"System capabilities enabled     :{capabilities}",
            "Management address type  :IPv4",
            f"Management address value :{n.remote_ip}",
            "Expired time   :104s",
            "",
            "Port VLAN ID(PVID)  :1",
            "",
            "Auto-negotiation supported    :Yes",
            "Auto-negotiation enabled      :Yes",
            "OperMau   :speed(1000)/duplex(Full)",
            "",
            "Link aggregation supported:Yes",
            "Link aggregation enabled :No",
            "Aggregation port ID      :0",
            "",
            "Maximum frame Size       :9216",
            "",
        ]
    )


def display_lldp_neighbor_brief(device: DeviceLike) -> str:
    shorts = {p.name: p.short for p in device.ports()}
    lines = [f"{'Local Intf':<17}{'Neighbor Dev':<25}{'Neighbor Intf':<26}Exptime(s)"]
    for n in device.neighbors():
        local = shorts.get(n.local_port, n.local_port)
        lines.append(f"{local:<17}{n.remote_name:<25}{n.remote_port:<26}104")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- VLANs


def vlan_ids(device: DeviceLike) -> list[int]:
    ids = {svi.vlan for svi in device.svis()}
    ids |= {int(p.vlan) for p in device.ports() if p.vlan.isdigit()}
    return sorted(ids | {1})


def display_vlan(device: DeviceLike) -> str:
    ids = vlan_ids(device)
    rule = "-" * 80
    lines = [
        f"The total number of vlans is : {len(ids)}",
        rule,
        "U: Up;         D: Down;         TG: Tagged;         UT: Untagged;",
        "MP: Vlan-mapping;               ST: Vlan-stacking;",
        "#: ProtocolTransparent-vlan;    *: Management-vlan;",
        rule,
        "",
        "VID  Type    Ports",
        rule,
    ]
    ports = device.ports()
    for vid in ids:
        lines += _vlan_members(vid, ports)
    lines += ["", "VID  Status  Property      MAC-LRN Statistics Description", rule]
    names = {svi.vlan: svi.description for svi in device.svis()}
    for vid in ids:
        name = names.get(vid) or f"VLAN {vid:04d}"
        lines.append(f"{vid:<5}enable  default       enable  disable    {name}")
    return "\n".join(lines) + "\n"


def _vlan_members(vid: int, ports: Iterable[PortView]) -> list[str]:
    tagged = [p for p in ports if p.vlan == "trunk"]
    untagged = [p for p in ports if p.vlan == str(vid)]
    groups = [("UT", untagged), ("TG", tagged if vid != 1 else [])]
    lines: list[str] = []
    for mode, members in groups:
        cells = [f"{p.short}({'U' if p.oper_up else 'D'})" for p in members]
        for start in range(0, len(cells), 4):
            chunk = "".join(f"{cell:<19}" for cell in cells[start : start + 4]).rstrip()
            lead = f"{vid:<5}common  " if not lines else " " * 13
            lines.append(f"{lead}{mode + ':' if start == 0 else '   '}{chunk}")
    return lines or [f"{vid:<5}common"]


# ---------------------------------------------------------------------- configuration


def vlan_ranges(ids: Iterable[int]) -> str:
    """``[10, 11, 12, 20]`` → ``10 to 12 20`` (how ``vlan batch`` lists VLANs)."""
    parts: list[str] = []
    run: list[int] = []
    for vid in sorted(ids):
        if run and vid == run[-1] + 1:
            run.append(vid)
            continue
        if run:
            parts.append(_run_text(run))
        run = [vid]
    if run:
        parts.append(_run_text(run))
    return " ".join(parts)


def _run_text(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]} to {run[-1]}"


def interface_config(device: DeviceLike, port: PortView) -> list[str]:
    """One port's block, as the configuration (not the link) has it."""
    lines = [f"interface {port.name}"]
    if port.description:
        lines.append(f" description {port.description}")
    if not port.admin_up:
        lines.append(" shutdown")
    if port.vlan == "routed":
        lines.append(" undo portswitch")
        address = device.port_address(port.name)
        if address:
            lines.append(f" ip address {address[0]} {address[1]}")
    elif port.vlan == "trunk":
        served = [vid for vid in vlan_ids(device) if vid != 1]
        lines += [
            " port link-type trunk",
            " undo port trunk allow-pass vlan 1",
            f" port trunk allow-pass vlan {vlan_ranges(served)}",
        ]
    elif port.vlan.isdigit() and port.vlan != "1":
        lines += [" port link-type access", f" port default vlan {port.vlan}"]
    return lines


def configuration(device: DeviceLike, ports: Sequence[PortView]) -> str:
    """The whole configuration with these ports (running: ``device.ports()``; saved: the
    ports as last saved)."""
    vlans = [vid for vid in vlan_ids(device) if vid != 1]
    blocks: list[list[str]] = [
        [f"!Software Version {device.version}"],
        [f"sysname {device.name}"],
        [f"vlan batch {vlan_ranges(vlans)}"] if vlans else [],
        ["stp enable"],
        ["lldp enable"],
    ]
    for svi in device.svis():
        block = [f"interface Vlanif{svi.vlan}"]
        block += [f" description {svi.description}"] if svi.description else []
        blocks.append([*block, f" ip address {svi.ip} {svi.mask}"])
    blocks += [interface_config(device, port) for port in ports]
    blocks.append(["interface NULL0"])
    routes = [
        f"ip route-static {r.prefix} {_mask(r.length)} {r.next_hop}"
        + (f" preference {vrp_preference(r)}" if vrp_preference(r) != 60 else "")
        for r in device.static_routes()
    ]
    blocks += [routes] if routes else []
    blocks += [
        ["stelnet server enable", "ssh authentication-type default password"],
        ["user-interface con 0", " authentication-mode aaa"],
        ["user-interface vty 0 4", " authentication-mode aaa", " protocol inbound ssh"],
    ]
    text = "\n#\n".join("\n".join(block) for block in blocks if block)
    return text + "\n#\nreturn\n"


def _mask(length: int) -> str:
    bits = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0
    return ".".join(str((bits >> shift) & 0xFF) for shift in (24, 16, 8, 0))
