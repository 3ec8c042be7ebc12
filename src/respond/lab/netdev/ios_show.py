"""What a lab Cisco switch prints for its ``show`` commands, from the :class:`Device` views.

The formats are those of a Catalyst 2960 on IOS 15.0, close enough that ntc-templates'
``cisco_ios`` templates parse every one of them (tests/lab/test_netdev_ios.py checks it).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from respond.lab.netdev.device import DeviceLike, PortView

VLANS = {1: "default", 10: "MGMT", 11: "CORE-SERVERS", 12: "APP-SERVERS"}
DEFAULT_GATEWAY = "10.10.0.1"  # the core switch's management address


def _dotted_mac(mac: str) -> str:
    """``52:54:00:20:03:01`` → ``5254.0020.0301``."""
    digits = mac.replace(":", "").replace("-", "").replace(".", "").lower()
    return f"{digits[0:4]}.{digits[4:8]}.{digits[8:12]}"


def _uptime(seconds: float) -> str:
    total = int(seconds) // 60
    minutes, hours = total % 60, (total // 60) % 24
    days, weeks = (total // 1440) % 7, total // 10080
    return f"{weeks} weeks, {days} days, {hours} hours, {minutes} minutes"


def _prefix_len(mask: str) -> int:
    return sum(bin(int(o)).count("1") for o in mask.split("."))


def _media(port: PortView) -> str:
    return "10/100/1000BaseTX" if port.speed_mbps >= 1000 else "10/100BaseTX"


# ---------------------------------------------------------------- version, clock


def version(device: DeviceLike) -> str:
    ports = device.ports()
    fast = sum(1 for p in ports if p.name.startswith("FastEthernet"))
    gig = sum(1 for p in ports if p.name.startswith("GigabitEthernet"))
    mac = _colon_mac(ports[0].mac if ports else "52:54:00:00:00:00")
    v = device.version
    return "\n".join(
        [
            f"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version {v}, "
            "RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2017 by Cisco Systems, Inc.",
            "Compiled Sat 19-Aug-17 09:34 by prod_rel_team",
            "",
            "ROM: Bootstrap program is C2960 boot loader",
            "BOOTLDR: C2960 Boot Loader (C2960-HBOOT-M) Version 12.2(53r)SEY3, RELEASE SOFTWARE (fc1)",
            "",
            f"{device.name} uptime is {_uptime(device.uptime_s)}",
            "System returned to ROM by power-on",
            'System image file is "flash:/c2960-lanbasek9-mz.150-2.SE11.bin"',
            "",
            f"cisco {device.model} (PowerPC405) processor (revision B0) with 65536K bytes of memory.",
            f"Processor board ID {device.serial}",
            "Last reset from power-on",
            "1 Virtual Ethernet interface",
            f"{fast} FastEthernet interfaces",
            f"{gig} Gigabit Ethernet interfaces",
            "The password-recovery mechanism is enabled.",
            "",
            "64K bytes of flash-simulated non-volatile configuration memory.",
            f"Base ethernet MAC Address       : {mac}",
            "Motherboard assembly number     : 73-10390-03",
            "Power supply part number        : 341-0097-02",
            f"Model number                    : {device.model}",
            f"System serial number            : {device.serial}",
            "",
            "Switch Ports Model              SW Version            SW Image",
            "------ ----- -----              ----------            ----------",
            f"*    1 {len(ports):<5} {device.model:<18} {v:<21} C2960-LANBASEK9-M",
            "",
            "",
            "Configuration register is 0xF",
            "",
        ]
    )


def _colon_mac(mac: str) -> str:
    return mac.replace("-", ":").upper()


def clock(device: DeviceLike) -> str:
    now = device.now()
    millis = int(now * 1000) % 1000
    return time.strftime(f"*%H:%M:%S.{millis:03d} UTC %a %b %d %Y", time.gmtime(now)) + "\n"


# ---------------------------------------------------------------- interfaces


def _state_words(port: PortView) -> tuple[str, str]:
    """(status as ``show interfaces status`` says, line protocol)."""
    if not port.admin_up:
        return "disabled", "down"
    return ("connected", "up") if port.oper_up else ("notconnect", "down")


def interfaces_status(device: DeviceLike) -> str:
    lines = [
        "",
        f"{'Port':<9} {'Name':<18} {'Status':<12} {'Vlan':<10} {'Duplex':>6} {'Speed':>6} Type",
    ]
    for port in device.ports():
        status, _ = _state_words(port)
        if status == "connected":
            duplex, speed = "a-full", f"a-{port.speed_mbps}"
        else:
            duplex, speed = "auto", "auto"
        lines.append(
            f"{port.short:<9} {port.description[:18]:<18} {status:<12} {port.vlan:<10} "
            f"{duplex:>6} {speed:>6} {_media(port)}"
        )
    return "\n".join(lines) + "\n"


def interfaces_description(device: DeviceLike) -> str:
    lines = [f"{'Interface':<31}{'Status':<15}{'Protocol':<9}Description"]
    for port in device.ports():
        status = "admin down" if not port.admin_up else ("up" if port.oper_up else "down")
        proto = "up" if port.oper_up else "down"
        lines.append(f"{port.short:<31}{status:<15}{proto:<9}{port.description}".rstrip())
    for svi in device.svis():
        lines.append(f"{'Vl' + str(svi.vlan):<31}{'up':<15}{'up':<9}{svi.description}".rstrip())
    return "\n".join(lines) + "\n"


def interfaces(device: DeviceLike, only: str | None) -> str:
    ports = [p for p in device.ports() if only is None or p.name == only]
    blocks = [_one_interface(device, port) for port in ports]
    if only is None:
        blocks += [_svi_interface(device, svi.vlan, svi.ip, svi.mask) for svi in device.svis()]
    return "\n".join(blocks) + "\n"


def _counters(device: DeviceLike, port: PortView) -> dict[str, int]:
    seed = sum(map(ord, device.name + port.name))
    rate = (40 + seed % 60) if port.oper_up else 0
    pkts_in = int(device.uptime_s * rate) + seed * 1000
    pkts_out = int(device.uptime_s * rate * 0.8) + seed * 900
    return {
        "rate": rate,
        "pkts_in": pkts_in,
        "bytes_in": pkts_in * 412,
        "pkts_out": pkts_out,
        "bytes_out": pkts_out * 508,
        "bcast": pkts_in // 97,
        "mcast": pkts_in // 131,
        "resets": 1 + (3 if port.crc else 0),
    }


def _l3_address(device: DeviceLike, port: PortView) -> str | None:
    for route in device.routes():
        if route.protocol == "direct" and route.interface == port.name:
            return f"{route.prefix}/{route.length}"
    return None


def _one_interface(device: DeviceLike, port: PortView) -> str:
    status, _protocol = _state_words(port)
    if status == "disabled":
        head = f"{port.name} is administratively down, line protocol is down (disabled)"
    elif status == "connected":
        head = f"{port.name} is up, line protocol is up (connected)"
    else:
        head = f"{port.name} is down, line protocol is down (notconnect)"
    gig = port.speed_mbps >= 1000
    mac = _dotted_mac(port.mac)
    c = _counters(device, port)
    up = port.oper_up
    lines = [
        head,
        f"  Hardware is {'Gigabit' if gig else 'Fast'} Ethernet, address is {mac} (bia {mac})",
    ]
    if port.description:
        lines.append(f"  Description: {port.description}")
    address = _l3_address(device, port)
    if address:
        lines.append(f"  Internet address is {address}")
    bw = port.speed_mbps * 1000
    duplex = (
        f"  Full-duplex, {port.speed_mbps}Mb/s, media type is {_media(port)}"
        if up
        else f"  Auto-duplex, Auto-speed, media type is {_media(port)}"
    )
    lines += [
        f"  MTU {port.mtu} bytes, BW {bw if up else bw // 10} Kbit/sec, DLY {10 if gig else 100} usec,",
        f"     reliability 255/255, txload 1/255, rxload {'1' if up else '0'}/255",
        "  Encapsulation ARPA, loopback not set",
        "  Keepalive set (10 sec)",
        duplex,
        "  input flow-control is off, output flow-control is unsupported",
        "  ARP type: ARPA, ARP Timeout 04:00:00",
        f"  Last input {'00:00:00' if up else 'never'}, output {'00:00:01' if up else 'never'}, output hang never",
        '  Last clearing of "show interface" counters never',
        "  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0",
        "  Queueing strategy: fifo",
        "  Output queue: 0/40 (size/max)",
        f"  5 minute input rate {c['rate'] * 3300} bits/sec, {c['rate']} packets/sec",
        f"  5 minute output rate {c['rate'] * 2600} bits/sec, {int(c['rate'] * 0.8)} packets/sec",
        f"     {c['pkts_in']} packets input, {c['bytes_in']} bytes, 0 no buffer",
        f"     Received {c['bcast']} broadcasts ({c['mcast']} multicasts)",
        "     0 runts, 0 giants, 0 throttles",
        f"     {port.in_errors} input errors, {port.crc} CRC, {port.in_errors - port.crc} frame, 0 overrun, 0 ignored",
        f"     0 watchdog, {c['mcast']} multicast, 0 pause input",
        "     0 input packets with dribble condition detected",
        f"     {c['pkts_out']} packets output, {c['bytes_out']} bytes, 0 underruns",
        f"     {port.out_errors} output errors, 0 collisions, {c['resets']} interface resets",
        "     0 unknown protocol drops",
        "     0 babbles, 0 late collision, 0 deferred",
        f"     {c['resets'] - 1} lost carrier, 0 no carrier, 0 PAUSE output",
        "     0 output buffer failures, 0 output buffers swapped out",
    ]
    return "\n".join(lines)


def _svi_interface(device: DeviceLike, vlan: int, ip: str, mask: str) -> str:
    seed = sum(map(ord, device.name)) % 256
    mac = f"5254.00{seed:02x}.{vlan:04x}"
    return "\n".join(
        [
            f"Vlan{vlan} is up, line protocol is up",
            f"  Hardware is EtherSVI, address is {mac} (bia {mac})",
            f"  Internet address is {ip}/{_prefix_len(mask)}",
            "  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,",
            "     reliability 255/255, txload 1/255, rxload 1/255",
            "  Encapsulation ARPA, loopback not set",
            "  Keepalive not supported",
            "  ARP type: ARPA, ARP Timeout 04:00:00",
            "  Last input 00:00:00, output 00:00:00, output hang never",
            '  Last clearing of "show interface" counters never',
            "  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0",
            "  Queueing strategy: fifo",
            "  Output queue: 0/40 (size/max)",
            "  5 minute input rate 1000 bits/sec, 1 packets/sec",
            "  5 minute output rate 1000 bits/sec, 1 packets/sec",
            "     102345 packets input, 9876543 bytes, 0 no buffer",
            "     Received 0 broadcasts (0 IP multicasts)",
            "     0 runts, 0 giants, 0 throttles",
            "     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored",
            "     98765 packets output, 8765432 bytes, 0 underruns",
            "     0 output errors, 0 interface resets",
            "     0 unknown protocol drops",
            "     0 output buffer failures, 0 output buffers swapped out",
        ]
    )


def ip_interface_brief(device: DeviceLike) -> str:
    lines = [f"{'Interface':<23}{'IP-Address':<16}OK? Method Status                Protocol"]
    for port in device.ports():
        address = _l3_address(device, port)
        ip = address.split("/")[0] if address else "unassigned"
        status = (
            "administratively down" if not port.admin_up else ("up" if port.oper_up else "down")
        )
        method = "NVRAM" if address else "unset"
        proto = "up" if port.oper_up else "down"
        lines.append(f"{port.name:<23}{ip:<16}YES {method:<7}{status:<22}{proto}")
    for svi in device.svis():
        lines.append(f"{'Vlan' + str(svi.vlan):<23}{svi.ip:<16}YES {'NVRAM':<7}{'up':<22}up")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- routing

ROUTE_CODES = [
    "Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP",
    "       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area",
    "       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2",
    "       E1 - OSPF external type 1, E2 - OSPF external type 2",
    "       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2",
    "       ia - IS-IS inter area, * - candidate default, U - per-user static route",
    "       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP",
    "       + - replicated route, % - next hop override",
    "",
]


def ip_route(device: DeviceLike) -> str:
    routes = device.routes()
    default = next((r for r in routes if r.length == 0), None)
    lines = list(ROUTE_CODES)
    if default is not None:
        lines.append(f"Gateway of last resort is {default.next_hop} to network 0.0.0.0")
    else:
        lines.append("Gateway of last resort is not set")
    lines.append("")
    if default is not None:
        lines.append(
            f"S*    0.0.0.0/0 [{default.preference}/{default.metric}] via {default.next_hop}"
        )
    local_ips = {f"Vlan{s.vlan}": s.ip for s in device.svis()}
    connected = [r for r in routes if r.protocol == "direct"]
    if connected:
        masks = len({r.length for r in connected}) + 1
        lines.append(
            f"      10.0.0.0/8 is variably subnetted, {len(connected) * 2} subnets, {masks} masks"
        )
    for route in connected:
        name = _route_interface(route.interface)
        lines.append(f"C        {route.prefix}/{route.length} is directly connected, {name}")
        if route.interface in local_ips:
            lines.append(f"L        {local_ips[route.interface]}/32 is directly connected, {name}")
    for route in routes:
        if route.protocol == "static" and route.length != 0:
            lines.append(
                f"S        {route.prefix}/{route.length} [{route.preference}/{route.metric}] "
                f"via {route.next_hop}"
            )
    return "\n".join(lines) + "\n"


def _route_interface(name: str) -> str:
    return name


# ---------------------------------------------------------------- neighbours


def _cdp_port(name: str) -> str:
    for long, short in (("GigabitEthernet", "Gig "), ("FastEthernet", "Fas ")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _short(name: str) -> str:
    for long, short in (("GigabitEthernet", "Gi"), ("FastEthernet", "Fa")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _cdp_caps(capabilities: str) -> str:
    return "R B S I" if "router" in capabilities else "S I"


def cdp_neighbors(device: DeviceLike) -> str:
    lines = [
        "Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge",
        "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone,",
        "                  D - Remote, C - CVTA, M - Two-port Mac Relay",
        "",
        "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID",
    ]
    rows = device.neighbors()
    for n in rows:
        hold = 120 + sum(map(ord, n.remote_name)) % 59
        lines.append(
            f"{n.remote_name:<17}{_cdp_port(n.local_port):<18}{hold:<11}"
            f"{_cdp_caps(n.capabilities):>10}  {n.remote_platform[:9]:<10}{_cdp_port(n.remote_port)}"
        )
    lines += ["", f"Total cdp entries displayed : {len(rows)}"]
    return "\n".join(lines) + "\n"


def cdp_neighbors_detail(device: DeviceLike) -> str:
    blocks = []
    for n in device.neighbors():
        hold = 120 + sum(map(ord, n.remote_name)) % 59
        caps = "Router Switch IGMP" if "router" in n.capabilities else "Switch IGMP"
        blocks.append(
            "\n".join(
                [
                    "-------------------------",
                    f"Device ID: {n.remote_name}",
                    "Entry address(es): ",
                    f"  IP address: {n.remote_ip}",
                    f"Platform: {n.remote_platform},  Capabilities: {caps} ",
                    f"Interface: {n.local_port},  Port ID (outgoing port): {n.remote_port}",
                    f"Holdtime : {hold} sec",
                    "",
                    "Version :",
                    f"{n.remote_platform} software",
                    "",
                    "advertisement version: 2",
                    "Duplex: full",
                    "Management address(es): ",
                    f"  IP address: {n.remote_ip}",
                    "",
                ]
            )
        )
    blocks.append(f"\nTotal cdp entries displayed : {len(blocks)}")
    return "\n".join(blocks) + "\n"


def _lldp_caps(capabilities: str) -> str:
    return ",".join("R" if c == "router" else "B" for c in capabilities.split(",") if c)


def lldp_neighbors(device: DeviceLike) -> str:
    lines = [
        "Capability codes:",
        "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
        "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
        "",
        "Device ID           Local Intf     Hold-time  Capability      Port ID",
    ]
    rows = device.neighbors()
    for n in rows:
        lines.append(
            f"{n.remote_name[:20]:<20}{_short(n.local_port):<15}{120:<11}"
            f"{_lldp_caps(n.capabilities):<16}{n.remote_port}"
        )
    lines += ["", f"Total entries displayed: {len(rows)}"]
    return "\n".join(lines) + "\n"


def lldp_neighbors_detail(device: DeviceLike) -> str:
    lines: list[str] = []
    rows = device.neighbors()
    for n in rows:
        caps = _lldp_caps(n.capabilities)
        lines += [
            "------------------------------------------------",
            f"Local Intf: {_short(n.local_port)}",
            f"Chassis id: {_dotted_mac(n.remote_mac)}",
            f"Port id: {n.remote_port}",
            f"Port Description: {n.remote_port}",
            f"System Name: {n.remote_name}",
            "",
            "System Description: ",
            f"{n.remote_platform}",
            "",
            "Time remaining: 105 seconds",
            f"System Capabilities: {caps}",
            f"Enabled Capabilities: {caps}",
            "Management Addresses:",
            f"    IP: {n.remote_ip}",
            "Auto Negotiation - supported, enabled",
            "Physical media capabilities:",
            "    1000baseT(FD)",
            "Media Attachment Unit type: 30",
            "Vlan ID: - not advertised",
            "",
        ]
    lines += ["", f"Total entries displayed: {len(rows)}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- logging, vlan


def logging(device: DeviceLike) -> str:
    lines = [
        "Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, "
        "0 overruns, xml disabled, filtering disabled)",
        "",
        "Log Buffer (8192 bytes):",
    ]
    for at, text in device.log():
        port, _, word = text.partition(" ")
        stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}"
        if word == "administratively down":
            lines.append(
                f"*{stamp}: %LINK-5-CHANGED: Interface {port}, changed state to administratively down"
            )
            continue
        lines.append(f"*{stamp}: %LINK-3-UPDOWN: Interface {port}, changed state to {word}")
        lines.append(
            f"*{stamp}: %LINEPROTO-5-UPDOWN: Line protocol on Interface {port}, "
            f"changed state to {word}"
        )
    return "\n".join(lines) + "\n"


def vlan(device: DeviceLike) -> str:
    members: dict[int, list[str]] = {number: [] for number in VLANS}
    for port in device.ports():
        if port.vlan.isdigit() and int(port.vlan) in members:
            members[int(port.vlan)].append(port.short)
    lines = [
        "",
        "VLAN Name                             Status    Ports",
        "---- -------------------------------- --------- -------------------------------",
    ]
    for number, name in VLANS.items():
        ports = members[number]
        chunks = [", ".join(ports[i : i + 4]) for i in range(0, len(ports), 4)] or [""]
        lines.append(f"{number:<4} {name:<32} {'active':<9} {chunks[0]}".rstrip())
        for chunk in chunks[1:]:
            lines.append(f"{'':<48}{chunk}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- configuration


def running_config(device: DeviceLike, startup: bool) -> str:
    ports = device.saved_ports() if startup else device.ports()
    body = _config_body(device, ports)
    text = "\n".join(body) + "\n"
    if startup:
        return f"Using {len(text)} out of 65536 bytes\n" + text
    changed = time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(device.now()))
    head = [
        "Building configuration...",
        "",
        f"Current configuration : {len(text)} bytes",
        "!",
        f"! Last configuration change at {changed}",
    ]
    return "\n".join(head) + "\n" + text


def startup_config(device: DeviceLike) -> str:
    return running_config(device, startup=True)


def running_interface(device: DeviceLike, name: str) -> str:
    port = next(p for p in device.ports() if p.name == name)
    block = _interface_block(port)
    text = "\n".join(block) + "\n"
    return (
        "Building configuration...\n\n"
        f"Current configuration : {len(text)} bytes\n!\n" + text + "end\n"
    )


def _interface_block(port: PortView) -> list[str]:
    lines = [f"interface {port.name}"]
    if port.description:
        lines.append(f" description {port.description}")
    if port.vlan == "trunk":
        lines.append(" switchport mode trunk")
    elif port.vlan.isdigit() and port.vlan != "1":
        lines += [f" switchport access vlan {port.vlan}", " switchport mode access"]
    if not port.admin_up:
        lines.append(" shutdown")
    return lines


def _config_body(device: DeviceLike, ports: list[PortView]) -> list[str]:
    lines = [
        "!",
        "version 15.0",
        "no service pad",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "service password-encryption",
        "!",
        f"hostname {device.name}",
        "!",
        "boot-start-marker",
        "boot-end-marker",
        "!",
        "enable secret 5 $1$lab0$ZyP1rN5lQhXvGq9vS8a3u/",
        "!",
        "username netops privilege 15 secret 5 $1$lab1$3kQv9sTxWm2Lr8yHc0PzA.",
        "no aaa new-model",
        "system mtu routing 1500",
        "ip domain-name lab.local",
        "!",
        "spanning-tree mode rapid-pvst",
        "spanning-tree extend system-id",
        "!",
        "vlan internal allocation policy ascending",
        "!",
    ]
    for number, name in VLANS.items():
        if number != 1:
            lines += [f"vlan {number}", f" name {name}", "!"]
    for port in ports:
        lines += [*_interface_block(port), "!"]
    lines += ["interface Vlan1", " no ip address", " shutdown", "!"]
    for svi in device.svis():
        lines += [
            f"interface Vlan{svi.vlan}",
            f" description {svi.description}",
            f" ip address {svi.ip} {svi.mask}",
            "!",
        ]
    lines.append(f"ip default-gateway {DEFAULT_GATEWAY}")
    lines += [
        "no ip http server",
        "!",
        "line con 0",
        "line vty 0 4",
        " login local",
        " transport input ssh",
        "line vty 5 15",
        " login local",
        " transport input ssh",
        "!",
        "end",
    ]
    return lines
