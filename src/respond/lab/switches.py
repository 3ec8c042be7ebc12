"""The lab's Cisco IOS-style switches: fake-switches devices extended from the lab state.

fake-switches provides the SSH CLI, the mode machine (``>``, ``#``, ``(config)#``,
``(config-if)#``), ``show running-config``, VLANs and the config commands. This module adds:

* ports whose administrative state (``shutdown`` / ``no shutdown``) lives in the lab state, so
  a failover done through the CLI shows in ``respond lab status`` and in every other view;
* ``show interfaces status``, ``show interfaces [IF]`` (with error counters),
  ``show ip interface brief``, ``show ip route``, ``show cdp neighbors``,
  ``show lldp neighbors`` and ``show logging``, all derived from the topology and the state;
* ``end`` in configuration mode (netmiko leaves config mode with it);
* one generated host key per switch (the package ships one fixed key for every device) and
  closing/reopening a switch's port when the ``switch-down`` fault comes and goes;
* every line a switch processes goes to the lab's command log (not what is typed while the
  device hides the input, such as a password).

Imported only by the lab daemon (it needs Twisted and fake-switches).
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from pathlib import Path
from typing import Any

from fake_switches.cisco.cisco_core import Cisco2960SwitchCore
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.config_vrf import ConfigVRFCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.switch_configuration import Port, SwitchConfiguration, Vlan
from fake_switches.transports.ssh_service import SSHDemoRealm
from twisted.conch.ssh import factory, keys
from twisted.cred import checkers
from twisted.cred.portal import Portal
from twisted.internet import error as twisted_error

from respond.lab import model
from respond.lab import topology as topo_mod
from respond.lab.commandlog import CommandLog
from respond.lab.state import StateFile
from respond.lab.topology import SWITCH_MGMT_IP, SWITCH_MODEL, Topology, long_port, short_port

log = logging.getLogger("respond.lab.switches")

VLANS = {1: "default", 10: "MGMT", 11: "CORE-SERVERS", 12: "APP-SERVERS"}


class LabView:
    """The lab state as the switches see it: cached briefly, written through on changes."""

    def __init__(self, state_file: StateFile, topo: Topology) -> None:
        self.file = state_file
        self.topo = topo
        self._cache: tuple[float, dict[str, Any]] | None = None

    def state(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._cache is None or now - self._cache[0] > 0.05:
            self._cache = (now, self.file.read())
        return self._cache[1]

    def set_shutdown(self, switch: str, port: str, shutdown: bool) -> None:
        with self.file.update() as state:
            model.set_port_shutdown(state, self.topo, switch, port, shutdown, time.time())
        self._cache = None


class LabPort(Port):
    """A physical port whose ``shutdown`` is the lab state's (the baseline when never set)."""

    def __init__(self, name: str, switch: str, view: LabView) -> None:
        self._lab: tuple[str, LabView] | None = None
        super().__init__(name)
        self._lab = (switch, view)

    @property
    def shutdown(self) -> bool | None:
        if self._lab is None:
            return None
        switch, view = self._lab
        return True if model.port_admin_down(view.state(), switch, self.name) else None

    @shutdown.setter
    def shutdown(self, value: bool | None) -> None:
        if self._lab is None:
            return  # Port.__init__ → reset() sets the default before the lab is attached
        switch, view = self._lab
        view.set_shutdown(switch, self.name, bool(value))


class LabConfigCommandProcessor(ConfigCommandProcessor):
    def process_command(self, line: str) -> bool:
        if line.strip().lower() in ("end", "^z"):
            self.sub_processor = None
            self.is_done = True
            return True
        return bool(super().process_command(line))


class LabEnabledCommandProcessor(EnabledCommandProcessor):
    """``#`` mode with the lab's show commands in front of the package's own."""

    def __init__(self, config: Any, switch: str, view: LabView) -> None:
        super().__init__(config)
        self.lab_switch = switch
        self.view = view

    def do_show(self, *args: str) -> None:
        words = [a.lower() for a in args]
        if not words:
            self.write_line("% Incomplete command.")
            self.write_line("")
            return
        first = words[0]
        render = None
        if len(first) >= 3 and "interfaces".startswith(first):
            if len(words) > 1 and "status".startswith(words[1]):
                render = self._interfaces_status
            else:
                render = functools.partial(self._interfaces_detail, "".join(args[1:]))
        elif first == "ip" and len(words) > 1:
            if len(words) > 2 and "interface".startswith(words[1]) and "brief".startswith(words[2]):
                render = self._ip_interface_brief
            elif "route".startswith(words[1]) and (
                len(words) == 2 or not "static".startswith(words[2])
            ):
                render = self._ip_route
        elif (
            len(first) >= 2
            and "cdp".startswith(first)
            and len(words) > 1
            and "neighbors".startswith(words[1])
        ):
            render = self._cdp_neighbors
        elif (
            len(first) >= 2
            and "lldp".startswith(first)
            and len(words) > 1
            and "neighbors".startswith(words[1])
        ):
            render = self._lldp_neighbors
        elif len(first) >= 3 and "logging".startswith(first):
            render = self._logging
        elif len(first) >= 2 and "clock".startswith(first):
            render = self._clock
        if render is None:
            super().do_show(*args)
            return
        render()

    def _clock(self) -> None:
        self.write_line(time.strftime("*%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime()))

    # -------------------------------------------------------------- helpers

    @property
    def topo(self) -> Topology:
        return self.view.topo

    def _ports(self) -> list[str]:
        return topo_mod.switch_ports(self.lab_switch)

    def _status(self, state: dict[str, Any], port: str, now: float) -> str:
        return model.port_status(state, self.topo, self.lab_switch, port, now)

    def _vlan_of(self, port: str) -> str:
        cfg = self.switch_configuration.get_port(port)
        if self.lab_switch == "core-sw1" and port in topo_mod.CORE_L3:
            return "routed"
        if cfg is not None and cfg.mode == "trunk":
            return "trunk"
        if cfg is not None and cfg.access_vlan:
            return str(cfg.access_vlan)
        return "1"

    def _description(self, port: str) -> str:
        cfg = self.switch_configuration.get_port(port)
        return (cfg.description or "") if cfg is not None else ""

    # -------------------------------------------------------------- show interfaces status

    def _interfaces_status(self) -> None:
        state, now = self.view.state(), time.time()
        self.write_line("")
        self.write_line(
            f"{'Port':<9} {'Name':<18} {'Status':<12} {'Vlan':<10} {'Duplex':>6} {'Speed':>6} Type"
        )
        for port in self._ports():
            status = self._status(state, port, now)
            gig = port.startswith("Gigabit")
            if status == "connected":
                duplex, speed = "a-full", ("a-1000" if gig else "a-100")
            else:
                duplex, speed = "auto", "auto"
            kind = "10/100/1000BaseTX" if gig else "10/100BaseTX"
            name = self._description(port)[:18]
            self.write_line(
                f"{short_port(port):<9} {name:<18} {status:<12} {self._vlan_of(port):<10} "
                f"{duplex:>6} {speed:>6} {kind}"
            )

    # -------------------------------------------------------------- show interfaces X

    def _interfaces_detail(self, name: str) -> None:
        state, now = self.view.state(), time.time()
        if name:
            wanted = long_port(name)
            if wanted not in self._ports():
                self.write_line("                                 ^")
                self.write_line("% Invalid input detected at '^' marker.")
                self.write_line("")
                return
            ports = [wanted]
        else:
            ports = self._ports()
        for port in ports:
            self._one_interface(state, port, now)

    def _counters(
        self, state: dict[str, Any], port: str, status: str, now: float
    ) -> dict[str, int]:
        seed = sum(map(ord, self.lab_switch + port))
        elapsed = max(0.0, now - float(state.get("started_at", now))) + 86400 * 12
        active = status == "connected"
        rate = (40 + seed % 60) if active else 0
        pkts_in = int(elapsed * rate) + seed * 1000
        pkts_out = int(elapsed * rate * 0.8) + seed * 900
        crc = 0
        resets = 1
        for fault in state.get("faults", []):
            if (
                fault["name"] == "link-down"
                and fault["target"] == f"{self.lab_switch}:{short_port(port)}"
            ):
                errors_for = max(0.0, min(now, fault.get("until") or now) - float(fault["at"]))
                crc += 1287 + int(errors_for * 37)
                resets += 3
        return {
            "pkts_in": pkts_in,
            "bytes_in": pkts_in * 412,
            "pkts_out": pkts_out,
            "bytes_out": pkts_out * 508,
            "bcast": pkts_in // 97,
            "mcast": pkts_in // 131,
            "crc": crc,
            "input_errors": crc + (crc // 9),
            "frame": crc // 9,
            "resets": resets,
            "rate": rate,
        }

    def _one_interface(self, state: dict[str, Any], port: str, now: float) -> None:
        status = self._status(state, port, now)
        if status == "disabled":
            head = f"{port} is administratively down, line protocol is down (disabled)"
        elif status == "connected":
            head = f"{port} is up, line protocol is up (connected)"
        else:
            head = f"{port} is down, line protocol is down (notconnect)"
        gig = port.startswith("Gigabit")
        seed = sum(map(ord, self.lab_switch + port))
        mac = f"0011.22{seed % 256:02x}.{(seed * 7) % 65536:04x}"
        c = self._counters(state, port, status, now)
        up = status == "connected"
        desc = self._description(port)
        lines = [
            head,
            f"  Hardware is {'Gigabit' if gig else 'Fast'} Ethernet, address is {mac} (bia {mac})",
        ]
        if desc:
            lines.append(f"  Description: {desc}")
        if self.lab_switch == "core-sw1" and port in topo_mod.CORE_L3:
            ip, mask = topo_mod.CORE_L3[port]
            lines.append(f"  Internet address is {ip}/{_prefix(mask)}")
        bw = 1000000 if gig else 100000
        lines += [
            f"  MTU 1500 bytes, BW {bw if up else (bw // 10)} Kbit/sec, DLY {10 if gig else 100} usec,",
            f"     reliability 255/255, txload 1/255, rxload {'1' if up else '0'}/255",
            "  Encapsulation ARPA, loopback not set",
            "  Keepalive set (10 sec)",
            (
                f"  Full-duplex, {1000 if gig else 100}Mb/s, media type is {'10/100/1000BaseTX' if gig else '10/100BaseTX'}"
            )
            if up
            else "  Auto-duplex, Auto-speed, media type is "
            + ("10/100/1000BaseTX" if gig else "10/100BaseTX"),
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
            f"     {c['input_errors']} input errors, {c['crc']} CRC, {c['frame']} frame, 0 overrun, 0 ignored",
            f"     0 watchdog, {c['mcast']} multicast, 0 pause input",
            "     0 input packets with dribble condition detected",
            f"     {c['pkts_out']} packets output, {c['bytes_out']} bytes, 0 underruns",
            f"     0 output errors, 0 collisions, {c['resets']} interface resets",
            "     0 unknown protocol drops",
            "     0 babbles, 0 late collision, 0 deferred",
            f"     {c['resets'] - 1} lost carrier, 0 no carrier, 0 PAUSE output",
            "     0 output buffer failures, 0 output buffers swapped out",
        ]
        for line in lines:
            self.write_line(line)

    # -------------------------------------------------------------- show ip interface brief

    def _l3_interfaces(self, state: dict[str, Any], now: float) -> list[tuple[str, str, str, str]]:
        """(interface, address, status, protocol) for every interface, physical and SVI."""
        rows = []
        for port in self._ports():
            status = self._status(state, port, now)
            ip = "unassigned"
            if self.lab_switch == "core-sw1" and port in topo_mod.CORE_L3:
                ip = topo_mod.CORE_L3[port][0]
            st = {"connected": "up", "disabled": "administratively down"}.get(status, "down")
            rows.append((port, ip, st, "up" if status == "connected" else "down"))
        if self.lab_switch == "core-sw1":
            for svi, (ip, _mask, _name) in topo_mod.CORE_SVIS.items():
                rows.append((svi, ip, "up", "up"))
        else:
            rows.append(("Vlan10", SWITCH_MGMT_IP[self.lab_switch], "up", "up"))
        return rows

    def _ip_interface_brief(self) -> None:
        state, now = self.view.state(), time.time()
        self.write_line(
            f"{'Interface':<23}{'IP-Address':<16}OK? Method Status                Protocol"
        )
        for name, ip, status, proto in self._l3_interfaces(state, now):
            method = "NVRAM" if ip != "unassigned" else "unset"
            self.write_line(f"{name:<23}{ip:<16}YES {method:<7}{status:<22}{proto}")

    # -------------------------------------------------------------- show ip route

    def _ip_route(self) -> None:
        state, now = self.view.state(), time.time()
        if self.lab_switch != "core-sw1":
            self.write_line("Default gateway is 10.10.0.1")
            self.write_line("")
            self.write_line(
                "Host               Gateway           Last Use    Total Uses  Interface"
            )
            self.write_line("ICMP redirect cache is empty")
            return
        primary = self._status(state, topo_mod.UPLINK_PRIMARY[1], now) == "connected"
        backup = self._status(state, topo_mod.UPLINK_BACKUP[1], now) == "connected"
        codes = [
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
        for line in codes:
            self.write_line(line)
        if primary:
            self.write_line("Gateway of last resort is 10.0.0.1 to network 0.0.0.0")
        elif backup:
            self.write_line("Gateway of last resort is 10.0.0.5 to network 0.0.0.0")
        else:
            self.write_line("Gateway of last resort is not set")
        self.write_line("")
        if primary:
            self.write_line("S*    0.0.0.0/0 [1/0] via 10.0.0.1")
        elif backup:
            self.write_line("S*    0.0.0.0/0 [10/0] via 10.0.0.5")
        connected: list[tuple[str, str, str]] = []
        for port, (ip, mask) in topo_mod.CORE_L3.items():
            if self._status(state, port, now) == "connected":
                connected.append((_network(ip, mask), ip, port))
        for svi, (ip, mask, _name) in topo_mod.CORE_SVIS.items():
            connected.append((_network(ip, mask), ip, svi))
        subnets = len(connected) * 2
        masks = len({c[0].split("/")[1] for c in connected}) + 1
        self.write_line(f"      10.0.0.0/8 is variably subnetted, {subnets} subnets, {masks} masks")
        for net, ip, iface in sorted(connected, key=lambda c: _ip_key(c[0])):
            self.write_line(f"C        {net} is directly connected, {iface}")
            self.write_line(f"L        {ip}/32 is directly connected, {iface}")
        for route in self.switch_configuration.static_routes:
            self.write_line(f"S        {route.dest} [1/0] via {route.next_hop}")

    # -------------------------------------------------------------- neighbours

    def _neighbours(self) -> list[tuple[str, str, str, str, str]]:
        """(device, local port, remote port, platform, capability) for live links to devices."""
        state, now = self.view.state(), time.time()
        rows = []
        for link in self.topo.links_of(self.lab_switch):
            if link.peer in self.topo.servers:
                continue
            if self._status(state, link.port, now) != "connected":
                continue
            if link.peer in topo_mod.SWITCHES:
                rows.append((link.peer, link.port, link.peer_port, SWITCH_MODEL[link.peer], "S I"))
            else:
                platform = self.topo.externals[link.peer].platform
                rows.append((link.peer, link.port, link.peer_port, platform, "R B S I"))
        return rows

    def _cdp_neighbors(self) -> None:
        self.write_line("Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge")
        self.write_line(
            "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone,"
        )
        self.write_line("                  D - Remote, C - CVTA, M - Two-port Mac Relay")
        self.write_line("")
        self.write_line(
            "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID"
        )
        rows = self._neighbours()
        for device, local, remote, platform, caps in rows:
            hold = 120 + sum(map(ord, device)) % 59
            self.write_line(
                f"{device:<17}{_cdp_port(local):<18}{hold:<11}{caps:>10}  {platform[:9]:<10}{_cdp_port(remote)}"
            )
        self.write_line("")
        self.write_line(f"Total cdp entries displayed : {len(rows)}")

    def _lldp_neighbors(self) -> None:
        self.write_line("Capability codes:")
        self.write_line("    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device")
        self.write_line("    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other")
        self.write_line("")
        self.write_line("Device ID           Local Intf     Hold-time  Capability      Port ID")
        rows = self._neighbours()
        for device, local, remote, _platform, caps in rows:
            cap = "R" if caps.startswith("R") else "B"
            self.write_line(
                f"{device:<20}{short_port(local):<15}{120:<11}{cap:<16}{short_port(remote)}"
            )
        self.write_line("")
        self.write_line(f"Total entries displayed: {len(rows)}")

    # -------------------------------------------------------------- show logging

    def _logging(self) -> None:
        state, now = self.view.state(), time.time()
        events: list[tuple[float, str]] = []
        for fault in state.get("faults", []):
            if fault["at"] > now:
                continue
            if fault["name"] == "link-down" and fault["target"].startswith(self.lab_switch + ":"):
                port = long_port(fault["target"].split(":", 1)[1])
                events += _updown(float(fault["at"]), port, "down")
                if fault.get("until") is not None and fault["until"] <= now:
                    events += _updown(float(fault["until"]), port, "up")
            if fault["name"] == "switch-down":
                for link in self.topo.links_of(self.lab_switch):
                    if link.peer == fault["target"]:
                        events += _updown(float(fault["at"]), link.port, "down")
        for key, override in state.get("ports", {}).items():
            switch, _, port = key.partition("/")
            if switch != self.lab_switch:
                continue
            if override["shutdown"]:
                events.append((override["at"], f"%LINK-5-CHANGED: Interface {port}, changed state to "
                               "administratively down"))  # fmt: skip
            else:
                events += _updown(float(override["at"]), port, "up")
        events.sort()
        self.write_line("Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, "
                        "0 overruns, xml disabled, filtering disabled)")  # fmt: skip
        self.write_line("")
        self.write_line("Log Buffer (8192 bytes):")
        for at, text in events:
            stamp = (
                time.strftime("%b %d %H:%M:%S", time.localtime(at))
                + f".{int(at * 1000) % 1000:03d}"
            )
            self.write_line(f"*{stamp}: {text}")


def _updown(at: float, port: str, word: str) -> list[tuple[float, str]]:
    return [
        (at, f"%LINK-3-UPDOWN: Interface {port}, changed state to {word}"),
        (
            at + 1,
            f"%LINEPROTO-5-UPDOWN: Line protocol on Interface {port}, changed state to {word}",
        ),
    ]


def _cdp_port(name: str) -> str:
    for long, short in (("GigabitEthernet", "Gig "), ("FastEthernet", "Fas ")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _prefix(mask: str) -> int:
    return sum(bin(int(o)).count("1") for o in mask.split("."))


def _network(ip: str, mask: str) -> str:
    parts = [int(a) & int(b) for a, b in zip(ip.split("."), mask.split("."), strict=True)]
    return ".".join(map(str, parts)) + f"/{_prefix(mask)}"


def _ip_key(net: str) -> tuple[int, ...]:
    return tuple(int(p) for p in net.split("/")[0].split("."))


class LabSwitchCore(Cisco2960SwitchCore):
    """A Cisco switch core whose command processors know the lab."""

    def __init__(
        self,
        switch_configuration: SwitchConfiguration,
        switch: str,
        view: LabView,
        commands: CommandLog | None = None,
    ) -> None:
        self.lab_switch = switch
        self.view = view
        self.commands = commands
        super().__init__(switch_configuration)

    def launch(self, protocol: Any, terminal_controller: Any) -> Any:
        session = super().launch(protocol, terminal_controller)
        if self.commands is not None:
            _log_lines(session, self.lab_switch, self.commands)
        return session

    def new_command_processor(self) -> Any:
        return LabEnabledCommandProcessor(
            LabConfigCommandProcessor(
                config_vlan=ConfigVlanCommandProcessor(),
                config_vrf=ConfigVRFCommandProcessor(),
                config_interface=ConfigInterfaceCommandProcessor(),
            ),
            self.lab_switch,
            self.view,
        )


def _log_lines(session: Any, switch: str, commands: CommandLog) -> None:
    """Log each line the session receives before the switch processes it."""
    receive = session.receive

    def logged(line: str) -> Any:
        if line.strip() and not _input_hidden(session.command_processor):
            commands.append(switch, line.strip())
        return receive(line)

    session.receive = logged


def _input_hidden(processor: Any) -> bool:
    """Whether the active mode hides what is typed (a password prompt)."""
    while processor is not None:
        if processor.replace_input is not False:
            return True
        processor = processor.sub_processor
    return False


def build_switch(
    name: str, password: str, view: LabView, commands: CommandLog | None = None
) -> LabSwitchCore:
    ports = [LabPort(p, name, view) for p in topo_mod.switch_ports(name)]
    config = SwitchConfiguration(
        "127.0.0.1", name=name, auto_enabled=True, privileged_passwords=[password], ports=ports
    )
    core = LabSwitchCore(config, name, view, commands)
    for number, vlan_name in VLANS.items():
        if number == 1:
            continue
        config.add_vlan(Vlan(number, vlan_name))
    for link in view.topo.links_of(name):
        port = config.get_port(link.port)
        if port is None:
            continue
        port.description = link.description
        if link.peer in topo_mod.SWITCHES:
            port.mode = "trunk"
        elif link.peer in view.topo.servers:
            port.mode = "access"
            port.access_vlan = 11 if view.topo.servers[link.peer].group in ("core", "ups") else 12
    return core


class SwitchSSH:
    """One switch's SSH endpoint on Twisted, with its own host key and an on/off switch."""

    def __init__(
        self, name: str, core: LabSwitchCore, user: str, password: str, key_file: Path
    ) -> None:
        self.name = name
        self.core = core
        self.factory = _TrackingFactory()
        self.factory.portal = Portal(SSHDemoRealm(core))
        self.factory.portal.registerChecker(
            # It provides ICredentialsChecker through zope's @implementer, which mypy cannot
            # see without the mypy-zope plugin.
            checkers.InMemoryUsernamePasswordDatabaseDontUse(**{user: password.encode()})  # type: ignore[arg-type]
        )
        private = keys.Key.fromFile(str(key_file))
        self.factory.privateKeys = {b"ssh-rsa": private}
        self.factory.publicKeys = {b"ssh-rsa": private.public()}
        self.port = 0
        self.listening: Any = None

    def listen(self, reactor: Any, preferred: int | None, strict: bool) -> int:
        try:
            self.listening = reactor.listenTCP(preferred or 0, self.factory, interface="127.0.0.1")
        except twisted_error.CannotListenError:
            if strict or not preferred:
                raise
            self.listening = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.port = self.listening.getHost().port
        return self.port

    def set_available(self, reactor: Any, up: bool) -> None:
        """Runs in the reactor thread."""
        if up and self.listening is None:
            try:
                self.listening = reactor.listenTCP(self.port, self.factory, interface="127.0.0.1")
                log.info("%s: back up, listening on port %d", self.name, self.port)
            except twisted_error.CannotListenError as exc:
                log.warning("%s: cannot listen on port %d again yet: %s", self.name, self.port, exc)
        elif not up and self.listening is not None:
            self.listening.stopListening()
            self.listening = None
            for proto in list(self.factory.connections):
                if proto.transport is not None:
                    proto.transport.loseConnection()
            log.info("%s: down, port %d closed", self.name, self.port)


class _TrackingFactory(factory.SSHFactory):
    portal: Portal  # SSHFactory reads it; set by SwitchSSH before listening

    def __init__(self) -> None:
        self.connections: weakref.WeakSet[Any] = weakref.WeakSet()

    def buildProtocol(self, addr: Any) -> Any:
        proto = super().buildProtocol(addr)
        self.connections.add(proto)
        return proto
