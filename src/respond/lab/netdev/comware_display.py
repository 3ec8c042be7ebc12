"""What an H3C Comware 7 switch prints for each `display` command.

Pure text from a :class:`DeviceLike`: the layouts follow Comware 7 (S5130S-EI) closely enough
that ntc-templates' ``hp_comware`` templates parse them; every line of ``display interface``
is one the template knows, since that template rejects any line it does not.
"""

from __future__ import annotations

import time

from respond.lab.netdev.device import DeviceLike, NeighborView, PortView, RouteView, SviView

SOFTWARE = "7.1.070"
COPYRIGHT = "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved."


def mac(text: str) -> str:
    """52:54:00:20:01:01 → 5254-0020-0101, the way Comware writes MAC addresses."""
    digits = text.replace(":", "").replace("-", "").replace(".", "").lower()
    return "-".join(digits[i : i + 4] for i in range(0, 12, 4))


def svi_name(vlan: int | str) -> str:
    return f"Vlan-interface{vlan}"


def route_interface(name: str, device: DeviceLike) -> str:
    """An interface as the routing table shows it: Vlan10 → Vlan10, ports by short name."""
    port = device.port(name)
    if port is not None:
        return port.short
    return name.replace("Vlan-interface", "Vlan")


def speed_text(mbps: int) -> str:
    return f"{mbps // 1000}G" if mbps >= 1000 else f"{mbps}M"


def duration(seconds: float) -> tuple[int, int, int, int]:
    """(days, hours, minutes, seconds) of a non-negative span."""
    total = max(0, int(seconds))
    return total // 86400, total % 86400 // 3600, total % 3600 // 60, total % 60


def stamp(epoch: float, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(epoch))


def prefix_length(mask: str) -> int:
    return sum(bin(int(octet)).count("1") for octet in mask.split("."))


# --- version, clock, manuinfo ---------------------------------------------------------------


def version(device: DeviceLike) -> str:
    weeks, rest = divmod(int(device.uptime_s), 7 * 86400)
    days, hours, minutes, _ = duration(rest)
    uptime = f"{weeks} weeks, {days} days, {hours} hours, {minutes} minutes"
    release = device.version
    return "\n".join(
        [
            f"H3C Comware Software, Version {release}",
            COPYRIGHT,
            f"H3C {device.model} uptime is {uptime}",
            "Last reboot reason : Cold reboot",
            "",
            "Boot image: flash:/s5130s_ei-cmw710-boot.bin",
            f"Boot image version: {release}",
            "System image: flash:/s5130s_ei-cmw710-system.bin",
            f"System image version: {release}",
            "",
            "Slot 1:",
            f"Uptime is {uptime}",
            f"{device.model} with 1 Processor",
            f"BOARD TYPE:         {device.model}",
            "DRAM:               1024M bytes",
            "FLASH:              512M bytes",
            "PCB 1 Version:      VER.A",
            f"Release Version:    H3C {device.model}",
            "Patch Version  :    None",
            "Reboot Cause  :     ColdReboot",
        ]
    )


def clock(device: DeviceLike) -> str:
    now = device.now()
    return stamp(now, "%H:%M:%S UTC %a %m/%d/%Y") + "\nTime Zone : UTC add 00:00:00"


def manuinfo(device: DeviceLike) -> str:
    ports = device.ports()
    base = mac(ports[0].mac) if ports else "0000-0000-0000"
    return "\n".join(
        [
            "Slot 1 CPU 0:",
            f"DEVICE_NAME          : {device.model}",
            f"DEVICE_SERIAL_NUMBER : {device.serial}",
            f"MAC_ADDRESS          : {base}",
            "MANUFACTURING_DATE   : 2021-06-01",
            "VENDOR_NAME          : H3C",
        ]
    )


# --- interfaces -------------------------------------------------------------------------------


def _state(port: PortView) -> str:
    if not port.admin_up:
        return "Administratively DOWN"
    return "UP" if port.oper_up else "DOWN"


def _vlan_lines(port: PortView, vlans: list[int]) -> list[str]:
    if port.vlan == "trunk":
        passing = ", ".join(["1(default vlan)", *(str(v) for v in vlans if v != 1)])
        return [
            "PVID: 1",
            "MDI type: Automdix",
            "Port link-type: Trunk",
            f" VLAN Passing:  {passing}",
            " VLAN permitted: 1(default vlan), 2-4094",
            " Trunk port encapsulation: IEEE 802.1q",
        ]
    pvid = port.vlan if port.vlan.isdigit() else "1"
    return [
        f"PVID: {pvid}",
        "MDI type: Automdix",
        "Port link-type: Access",
        " Tagged VLANs:   None",
        f" Untagged VLANs: {pvid}",
    ]


def _counter_lines(port: PortView, now: float) -> list[str]:
    # packets grow with the time the link has been up, so two reads a while apart differ
    up_for = int(now - port.last_change) if port.oper_up else 0
    rx, tx = up_for * 7, up_for * 9
    return [
        f" Input (total):  {rx} packets, {rx * 96} bytes",
        f"          {rx - rx // 10} unicasts, {rx // 20} broadcasts, {rx // 20} multicasts, 0 pauses",
        f" Input (normal):  {rx} packets, - bytes",
        f"          {rx - rx // 10} unicasts, {rx // 20} broadcasts, {rx // 20} multicasts, 0 pauses",
        f" Input:  {port.in_errors} input errors, 0 runts, 0 giants, 0 throttles",
        f"          {port.crc} CRC, 0 frame, - overruns, 0 aborts",
        "          - ignored, - parity errors",
        f" Output (total): {tx} packets, {tx * 112} bytes",
        f"          {tx - tx // 10} unicasts, {tx // 20} broadcasts, {tx // 20} multicasts, 0 pauses",
        f" Output (normal): {tx} packets, - bytes",
        f"          {tx - tx // 10} unicasts, {tx // 20} broadcasts, {tx // 20} multicasts, 0 pauses",
        f" Output: {port.out_errors} output errors, - underruns, - buffer failures",
        "          0 aborts, 0 deferred, 0 collisions, 0 late collisions",
        "          0 lost carrier, - no carrier",
    ]


def port_detail(port: PortView, now: float, vlans: list[int]) -> str:
    """``display interface GigabitEthernet1/0/1``."""
    if port.oper_up:
        mode = f"{port.speed_mbps}Mbps-speed mode, {port.duplex}-duplex mode"
    else:
        mode = "Unknown-speed mode, unknown-duplex mode"
    _, hours, minutes, seconds = duration(now - port.last_change)
    hours += int(max(0.0, now - port.last_change)) // 86400 * 24
    lines = [
        port.name,
        f"Current state: {_state(port)}",
        f"Line protocol state: {'UP' if port.oper_up else 'DOWN'}",
        f"IP packet frame type: Ethernet II, hardware address: {mac(port.mac)}",
        f"Description: {port.description or port.name + ' Interface'}",
        f"Bandwidth: {port.speed_mbps * 1000} kbps",
        f"Maximum transmission unit: {port.mtu}",
        "Loopback is not set",
        "Media type is twisted pair",
        "Port hardware type is 1000_BASE_T",
        mode,
        "Link speed type is autonegotiation, link duplex type is autonegotiation",
        "Flow-control is not enabled",
        "Maximum frame length: 10000",
        "Allow jumbo frames to pass",
        "Broadcast max-ratio: 100%",
        "Multicast max-ratio: 100%",
        "Unicast max-ratio: 100%",
        *_vlan_lines(port, vlans),
        "Port priority: 0",
        f"Last link flapping: {hours} hours {minutes} minutes {seconds} seconds",
        "Last clearing of counters: Never",
        " Last 300 second input: 0 packets/sec 0 bytes/sec 0%",
        " Last 300 second output: 0 packets/sec 0 bytes/sec 0%",
        *_counter_lines(port, now),
    ]
    return "\n".join(lines)


def svi_detail(svi: SviView, base_mac: str) -> str:
    """``display interface Vlan-interface1``."""
    name = svi_name(svi.vlan)
    return "\n".join(
        [
            name,
            "Current state: UP",
            "Line protocol state: UP",
            f"Description: {svi.description or name + ' Interface'}",
            "Bandwidth: 1000000 kbps",
            "Maximum transmission unit: 1500",
            f"Internet address: {svi.ip}/{prefix_length(svi.mask)} (primary)",
            f"IP packet frame type: Ethernet II, hardware address: {base_mac}",
            f"IPv6 packet frame type: Ethernet II, hardware address: {base_mac}",
            "Last clearing of counters: Never",
            "Input (total):  0 packets, 0 bytes",
            "Output (total): 0 packets, 0 bytes",
        ]
    )


def interfaces(device: DeviceLike, only: PortView | None = None) -> str:
    """``display interface [IF]``: one block per interface, a blank line after each."""
    now, vlans = device.now(), vlan_ids(device)
    if only is not None:
        return port_detail(only, now, vlans) + "\n"
    ports = device.ports()
    base = mac(ports[0].mac) if ports else "0000-0000-0000"
    blocks = [port_detail(port, now, vlans) for port in ports]
    blocks += [svi_detail(svi, base) for svi in device.svis()]
    return "\n\n".join(blocks) + "\n"


def _brief_link(port: PortView) -> str:
    if not port.admin_up:
        return "ADM"
    return "UP" if port.oper_up else "DOWN"


def _brief_row(port: PortView, full_description: bool) -> str:
    link = _brief_link(port)
    speed, duplex = (speed_text(port.speed_mbps) + "(a)", "F(a)") if port.oper_up else ("auto", "A")
    kind = "T" if port.vlan == "trunk" else "A"
    pvid = port.vlan if port.vlan.isdigit() else "1"
    text = port.description if full_description else port.description[:27]
    return f"{port.short:<21}{link:<5}{speed:<8}{duplex:<7}{kind:<5}{pvid:<5}{text}".rstrip()


def interface_brief(device: DeviceLike, full_description: bool = False) -> str:
    """``display interface brief [description]``: route-mode interfaces, then bridge-mode ports."""
    route_rows = [
        f"{'InLoop0':<21}{'UP':<5}{'UP(s)':<9}--",
        f"{'NULL0':<21}{'UP':<5}{'UP(s)':<9}--",
    ]
    for svi in device.svis():
        name = f"Vlan{svi.vlan}"
        route_rows.append(f"{name:<21}{'UP':<5}{'UP':<9}{svi.ip:<16}{svi.description}".rstrip())
    lines = [
        "Brief information on interfaces in route mode:",
        "Link: ADM - administratively down; Stby - standby",
        "Protocol: (s) - spoofing",
        f"{'Interface':<21}{'Link':<5}{'Protocol':<9}{'Primary IP':<16}Description",
        *route_rows,
        "",
        "Brief information on interfaces in bridge mode:",
        "Link: ADM - administratively down; Stby - standby",
        "Speed: (a) - auto",
        "Duplex: (a)/A - auto; H - half; F - full",
        "Type: A - access; T - trunk; H - hybrid",
        f"{'Interface':<21}{'Link':<5}{'Speed':<8}{'Duplex':<7}{'Type':<5}{'PVID':<5}Description",
        *(_brief_row(port, full_description) for port in device.ports()),
    ]
    return "\n".join(lines) + "\n"


def ip_interface_brief(device: DeviceLike) -> str:
    """``display ip interface brief``: the interfaces that have an address."""
    lines = [
        "*down: administratively down",
        "(s): spoofing  (l): loopback",
        f"{'Interface':<20}{'Physical':<9}{'Protocol':<9}{'IP address':<16}"
        f"{'VPN instance':<13}Description",
    ]
    for svi in device.svis():
        text = svi.description or "--"
        lines.append(f"{'Vlan' + str(svi.vlan):<20}{'up':<9}{'up':<9}{svi.ip:<16}{'--':<13}{text}")
    return "\n".join(lines) + "\n"


def vlan_brief(device: DeviceLike) -> str:
    """``display vlan brief``: VLAN 1 plus every access VLAN and SVI in use."""
    members: dict[int, list[str]] = {1: []}
    for svi in device.svis():
        members.setdefault(svi.vlan, [])
    for port in device.ports():
        if port.vlan.isdigit():
            members.setdefault(int(port.vlan), []).append(port.short)
        elif port.vlan == "trunk":
            for names in members.values():
                names.append(port.short)
    lines = [
        "Brief information about all VLANs:",
        "Supported Minimum VLAN ID: 1",
        "Supported Maximum VLAN ID: 4094",
        "Default VLAN ID: 1",
        "VLAN ID   Name                             Port",
    ]
    for vlan in sorted(members):
        ports = " ".join(sorted(set(members[vlan]), key=_port_order))
        lines.append(f"{vlan:<10}{f'VLAN{vlan:04d}':<33}{ports}".rstrip())
    return "\n".join(lines) + "\n"


def _port_order(short: str) -> tuple[int, ...]:
    return tuple(int(n) for n in short.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ-").split("/"))


# --- routes, neighbours, log ------------------------------------------------------------------


def _route_row(route: RouteView, device: DeviceLike) -> str:
    dest = f"{route.prefix}/{route.length}"
    proto = route.protocol.capitalize()
    iface = route_interface(route.interface, device)
    return f"{dest:<19}{proto:<8}{route.preference:<4}{route.metric:<12}{route.next_hop:<16}{iface}"


def routing_table(device: DeviceLike) -> str:
    """``display ip routing-table``."""
    routes = device.routes()
    lines = [
        "",
        f"Destinations : {len(routes)}        Routes : {len(routes)}",
        "",
        f"{'Destination/Mask':<19}{'Proto':<8}{'Pre':<4}{'Cost':<12}{'NextHop':<16}Interface",
        *(_route_row(route, device) for route in routes),
    ]
    return "\n".join(lines) + "\n"


def lldp_list(device: DeviceLike) -> str:
    """``display lldp neighbor-information list``."""
    neighbors = device.neighbors()
    if not neighbors:
        return ""
    lines = [
        "Chassis ID : * -- -- Nearest nontpmr bridge neighbor",
        "             # -- -- Nearest customer bridge neighbor",
        "             Default -- -- Nearest bridge neighbor",
        f"{'System Name':<23}{'Local Interface':<16}{'Chassis ID':<16}Port ID",
    ]
    for n in neighbors:
        local = _short(device, n.local_port)
        lines.append(f"{n.remote_name:<23}{local:<16}{mac(n.remote_mac):<16}{n.remote_port}")
    return "\n".join(lines) + "\n"


def _short(device: DeviceLike, name: str) -> str:
    port = device.port(name)
    return port.short if port is not None else name


def _port_index(device: DeviceLike, name: str) -> int:
    for index, port in enumerate(device.ports(), start=1):
        if port.name == name:
            return index
    return 0


def _capabilities(text: str) -> str:
    return ",".join(word.strip().capitalize() for word in text.split(",") if word.strip())


def _lldp_block(device: DeviceLike, n: NeighborView) -> list[str]:
    caps = _capabilities(n.capabilities)
    return [
        f"LLDP neighbor-information of port {_port_index(device, n.local_port)}[{n.local_port}]:",
        "LLDP agent nearest-bridge:",
        " LLDP neighbor index : 1",
        " Update time         : 0 days, 0 hours, 0 minutes, 30 seconds",
        " Chassis type        : MAC address",
        f" Chassis ID          : {mac(n.remote_mac)}",
        " Port ID type        : Interface name",
        f" Port ID             : {n.remote_port}",
        " Time to live        : 121",
        f" Port description    : {n.remote_port} Interface",
        f" System name         : {n.remote_name}",
        f" System description  : {n.remote_platform}",
        f" System capabilities supported : {caps}",
        f" System capabilities enabled   : {caps}",
        " Management address type           : IPv4",
        f" Management address                : {n.remote_ip}",
        " Management address interface type : IfIndex",
        " Management address interface ID   : Unknown",
        " Management address OID            : 0",
        " Port VLAN ID(PVID)  : 1",
        " Link aggregation supported : Yes",
        " Link aggregation enabled   : No",
        " Aggregation port ID        : 0",
        " Auto-negotiation supported : Yes",
        " Auto-negotiation enabled   : Yes",
        " OperMau                    : Speed(1000)/Duplex(Full)",
        " Maximum frame size         : 9416",
    ]


def lldp_verbose(device: DeviceLike) -> str:
    """``display lldp neighbor-information [verbose]``."""
    blocks = ["\n".join(_lldp_block(device, n)) for n in device.neighbors()]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def logbuffer(device: DeviceLike) -> str:
    """``display logbuffer``: the switch's port up/down messages, oldest first."""
    entries = device.log()
    lines = [
        "Log buffer: Enabled",
        "Max buffer size: 1024",
        "Actual buffer size: 512",
        "Dropped messages: 0",
        "Overwritten messages: 0",
        f"Current messages: {len(entries)}",
    ]
    for when, message in entries:
        clock_text = stamp(when, "%b %e %H:%M:%S") + f":{int(when * 1000) % 1000:03d}"
        year = stamp(when, "%Y")
        lines.append(f"%{clock_text} {year} {device.name} {_log_text(message)}")
    return "\n".join(lines) + "\n"


def _log_text(message: str) -> str:
    """A device event ("GigabitEthernet1/0/2 down") as Comware's interface module logs it."""
    port, _, state = message.partition(" ")
    if state not in ("up", "down", "administratively down"):
        return f"IFNET/4/INTERFACE_EVENT: {message}"
    return f"IFNET/3/PHY_UPDOWN: Physical state on the interface {port} changed to {state}."


# --- configuration ----------------------------------------------------------------------------


def port_config(port: PortView) -> list[str]:
    lines = [f"interface {port.name}"]
    lines.append(" port link-mode route" if port.vlan == "routed" else " port link-mode bridge")
    if port.description:
        lines.append(f" description {port.description}")
    if not port.admin_up:
        lines.append(" shutdown")
    if port.vlan == "trunk":
        lines += [" port link-type trunk", " port trunk permit vlan all"]
    elif port.vlan.isdigit() and port.vlan != "1":
        lines.append(f" port access vlan {port.vlan}")
    return lines


def _svi_config(svi: SviView) -> list[str]:
    lines = [f"interface {svi_name(svi.vlan)}"]
    if svi.description:
        lines.append(f" description {svi.description}")
    lines.append(f" ip address {svi.ip} {svi.mask}")
    return lines


def _static_routes(device: DeviceLike) -> list[str]:
    """The configured static routes. The routing table drops the default route while the
    uplink is down, the configuration does not: without one in the table, the default route
    points at the first address of the management VLAN's subnet (the core, as in the lab)."""
    routes = [(r.prefix, r.length, r.next_hop) for r in device.routes() if r.protocol == "static"]
    svis = device.svis()
    if svis and not any(length == 0 for _, length, _ in routes):
        routes.insert(0, ("0.0.0.0", 0, _first_host(svis[0])))
    return [f" ip route-static {prefix} {length} {hop}" for prefix, length, hop in routes]


def _first_host(svi: SviView) -> str:
    octets = [int(a) & int(m) for a, m in zip(svi.ip.split("."), svi.mask.split("."), strict=True)]
    octets[-1] += 1
    return ".".join(map(str, octets))


def current_configuration(device: DeviceLike, ports: list[PortView] | None = None) -> str:
    """``display current-configuration``: the live state in Comware syntax, ``#`` between
    sections and ``return`` at the end; with ``ports``, the configuration those ports have
    (``display saved-configuration`` passes the ports as last saved)."""
    vlans = vlan_ids(device)
    sections: list[list[str]] = [
        [f" version {device.version}"],
        [f" sysname {device.name}"],
        [" clock timezone UTC add 00:00:00"],
        [" lldp global enable"],
        *([f"vlan {vlan}"] for vlan in vlans),
        ["interface NULL0"],
        *(_svi_config(svi) for svi in device.svis()),
        *(port_config(port) for port in (device.ports() if ports is None else ports)),
        _static_routes(device),
        [" ssh server enable"],
        [
            " local-user netops class manage",
            "  password hash $h$6$lab$c29tZS1sYWItaGFzaA==",
            "  service-type ssh",
            "  authorization-attribute user-role network-admin",
        ],
        [" line vty 0 63", "  authentication-mode scheme", "  protocol inbound ssh"],
    ]
    lines = ["#"]
    for section in sections:
        if section:
            lines += [*section, "#"]
    lines.append("return")
    return "\n".join(lines) + "\n"


def vlan_ids(device: DeviceLike) -> list[int]:
    """VLAN 1, each SVI's VLAN and each access port's VLAN, in order."""
    access = {int(p.vlan) for p in device.ports() if p.vlan.isdigit()}
    return sorted({1, *(s.vlan for s in device.svis())} | access)
