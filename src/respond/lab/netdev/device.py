"""What one lab switch looks like right now, and what it can be told to do.

The views are plain frozen data; the dialects turn them into each vendor's text. The real
:class:`Device` (reading the lab state through :mod:`respond.lab.model`) implements
:class:`DeviceLike`; dialect tests may use any object with the same attributes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from respond.lab import model
from respond.lab import topology as topo_mod

if TYPE_CHECKING:
    from respond.lab.state import StateFile
    from respond.lab.topology import SwitchSpec, Topology


@dataclass(frozen=True, slots=True)
class PortView:
    name: str  # the long name: GigabitEthernet0/0/1
    short: str  # the vendor's short name: GE0/0/1 (VRP/Comware), Gi0/1 (IOS)
    admin_up: bool  # not shut down
    oper_up: bool  # link up: admin up, switch up, peer up, no link-down fault
    description: str  # "" when none
    speed_mbps: int  # 100 Fast, 1000 Gigabit, 10000 Ten-Gigabit
    duplex: str  # "full"
    mtu: int  # 1500
    mac: str  # "52:54:00:20:01:01"; each dialect prints it its own way
    in_errors: int
    out_errors: int
    crc: int
    vlan: str  # "1", "10", "trunk", "routed"
    last_change: float  # epoch seconds of the last up/down change


@dataclass(frozen=True, slots=True)
class NeighborView:
    local_port: str  # long name
    remote_name: str
    remote_port: str  # long name as the neighbour calls it
    remote_platform: str
    remote_ip: str
    remote_mac: str
    capabilities: str  # "bridge,router"


@dataclass(frozen=True, slots=True)
class RouteView:
    prefix: str  # "0.0.0.0"
    length: int  # 0
    next_hop: str  # "10.0.0.1"; "0.0.0.0" for a direct route
    interface: str  # long name; an SVI is "Vlan10" (dialects rename: VRP Vlanif10, Comware Vlan-interface10)
    protocol: str  # "static" | "direct"
    preference: int
    metric: int


@dataclass(frozen=True, slots=True)
class SviView:
    vlan: int
    ip: str
    mask: str  # dotted: 255.255.255.0
    description: str


class DeviceLike(Protocol):
    """What a dialect may read and do."""

    @property
    def name(self) -> str: ...
    @property
    def vendor(self) -> str: ...  # "Huawei" | "H3C" | "Cisco"
    @property
    def dialect(self) -> str: ...  # "vrp" | "comware" | "ios"
    @property
    def model(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def serial(self) -> str: ...
    @property
    def mgmt_ip(self) -> str: ...
    @property
    def uptime_s(self) -> float: ...
    @property
    def password(self) -> str: ...  # the login/enable password (IOS `enable` asks for it)

    def now(self) -> float: ...
    def ports(self) -> list[PortView]: ...
    def port(self, name: str) -> PortView | None: ...  # any name form (GE0/0/1, gi0/1, …)
    def neighbors(self) -> list[NeighborView]: ...
    def routes(self) -> list[RouteView]: ...
    def svis(self) -> list[SviView]: ...
    def set_admin(self, port: str, up: bool) -> None: ...
    def set_description(self, port: str, text: str) -> None: ...
    def save(self) -> None: ...
    def saved_at(self) -> float | None: ...
    def saved_ports(self) -> list[PortView]: ...  # the ports as last saved (startup config)
    def static_routes(self) -> list[RouteView]: ...  # as configured, whatever the links do
    def port_address(self, port: str) -> tuple[str, str] | None: ...  # a routed port's (ip, mask)
    def log(self) -> list[tuple[float, str]]: ...  # (epoch, "PORT up|down|administratively down")


# what the switches report about themselves, by dialect
VERSIONS = {"vrp": "V200R021C10SPC600", "comware": "7.1.070, Release 6309P05", "ios": "15.0(2)SE11"}
UPTIME_BEFORE_LAB = 86400 * 12 + 3600 * 5  # the switches were up for days before `lab up`
CRC_FAULT_ERRORS = 250  # crc-errors: what a bad cable has counted by the time anyone looks


class Device:
    """One lab switch as the lab state shows it now: the same :mod:`respond.lab.model`
    functions ``respond lab status`` uses, so a change made through a switch's CLI shows
    everywhere. Thread-safe: each SSH session thread of the switch shares it."""

    def __init__(
        self, name: str, topo: Topology, state_file: StateFile, password: str = ""
    ) -> None:
        self.topo = topo
        self.spec: SwitchSpec = topo.switches[name]
        self.state_file = state_file
        self._password = password

    # -------------------------------------------------------------- identity

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def vendor(self) -> str:
        return self.spec.vendor

    @property
    def dialect(self) -> str:
        return self.spec.dialect

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def version(self) -> str:
        return VERSIONS[self.spec.dialect]

    @property
    def serial(self) -> str:
        return self.spec.serial

    @property
    def mgmt_ip(self) -> str:
        return self.spec.mgmt_ip

    @property
    def password(self) -> str:
        return self._password

    @property
    def uptime_s(self) -> float:
        started = float(self.state().get("started_at", self.now()))
        return max(0.0, self.now() - started) + UPTIME_BEFORE_LAB

    def now(self) -> float:
        return time.time()

    def state(self) -> dict[str, Any]:
        """The lab state, re-read only when the file changed since the last read."""
        return self.state_file.snapshot()

    # -------------------------------------------------------------- ports

    def ports(self) -> list[PortView]:
        state, now = self.state(), self.now()
        return [self._port_view(state, port, now) for port in self.spec.ports]

    def port(self, name: str) -> PortView | None:
        long = self.spec.port(name)
        return None if long is None else self._port_view(self.state(), long, self.now())

    def _port_view(self, state: dict[str, Any], port: str, now: float) -> PortView:
        status = model.port_status(state, self.topo, self.name, port, now)
        flapped = self._crc(state, port, now)
        bad_cable = CRC_FAULT_ERRORS if self._bad_cable(state, port, now) else 0
        crc = flapped + bad_cable
        index = self.spec.ports.index(port)
        return PortView(
            name=port,
            short=self.spec.short(port),
            admin_up=status != "disabled",
            oper_up=status == "connected",
            description=model.port_description(state, self.topo, self.name, port),
            speed_mbps=port_speed(port),
            duplex="full",
            mtu=1500,
            mac=self._mac(index + 1),
            in_errors=crc + flapped // 9,
            out_errors=0,
            crc=crc,
            vlan=self._vlan(port),
            last_change=self._last_change(state, port, now),
        )

    def _mac(self, n: int) -> str:
        unit = list(self.topo.switches).index(self.name) + 1
        return f"52:54:00:20:{unit:02x}:{n:02x}"

    def _vlan(self, port: str) -> str:
        if self.name == topo_mod.CORE_SWITCH and port in topo_mod.CORE_L3:
            return "routed"
        link = self.topo.link_at(self.name, port)
        if link is None:
            return "1"
        if link.peer in self.topo.switches:
            return "trunk"
        server = self.topo.servers.get(link.peer)
        if server is None:
            return "routed"
        return "11" if server.group in ("core", "ups") else "12"

    def _link_faults(self, state: dict[str, Any], port: str) -> list[dict[str, Any]]:
        """The link-down faults (active or over) on this port or on its peer's end."""
        targets = {f"{self.name}:{self.spec.short(port)}"}
        link = self.topo.link_at(self.name, port)
        if link is not None and link.peer in self.topo.switches:
            targets.add(f"{link.peer}:{self.topo.short(link.peer, link.peer_port)}")
        return [
            f
            for f in state.get("faults", [])
            if f["name"] == "link-down" and f["target"] in targets
        ]

    def _crc(self, state: dict[str, Any], port: str, now: float) -> int:
        """CRC errors: they grow while a link-down fault is on and stay counted after."""
        crc = 0
        for fault in self._link_faults(state, port):
            if fault["at"] > now:
                continue
            errors_for = max(0.0, min(now, fault.get("until") or now) - float(fault["at"]))
            crc += 1287 + int(errors_for * 37)
        return crc

    def _bad_cable(self, state: dict[str, Any], port: str, now: float) -> bool:
        """crc-errors: the port counts CRC errors (and as many input errors) while it is on."""
        target = f"{self.name}:{self.spec.short(port)}"
        return model.fault_on(state, "crc-errors", target, now) is not None

    def _last_change(self, state: dict[str, Any], port: str, now: float) -> float:
        times = [float(state.get("started_at", now))]
        override = state.get("ports", {}).get(f"{self.name}/{port}")
        if override is not None:
            times.append(float(override["at"]))
        for fault in self._link_faults(state, port) + self._peer_faults(state, port):
            times += [t for t in (fault["at"], fault.get("until")) if t is not None and t <= now]
        link = self.topo.link_at(self.name, port)
        entry = state.get("power", {}).get(link.peer) if link is not None else None
        if entry and float(entry["at"]) <= now:
            times.append(float(entry["at"]))
        return max(times)

    def _peer_faults(self, state: dict[str, Any], port: str) -> list[dict[str, Any]]:
        link = self.topo.link_at(self.name, port)
        if link is None:
            return []
        return [
            f
            for f in state.get("faults", [])
            if f["name"] in ("switch-down", "server-down") and f["target"] == link.peer
        ]

    # -------------------------------------------------------------- neighbours, routes

    def neighbors(self) -> list[NeighborView]:
        state, now = self.state(), self.now()
        rows = []
        for link in self.topo.links_of(self.name):
            if link.peer in self.topo.servers:
                continue
            if model.port_status(state, self.topo, self.name, link.port, now) != "connected":
                continue
            rows.append(self._neighbor(link.port, link.peer, link.peer_port))
        return rows

    def _neighbor(self, port: str, peer: str, peer_port: str) -> NeighborView:
        spec = self.topo.switches.get(peer)
        seed = sum(map(ord, peer)) % 256
        if spec is not None:
            caps = "bridge,router" if peer == topo_mod.CORE_SWITCH else "bridge"
            return NeighborView(port, peer, peer_port, spec.model, spec.mgmt_ip,
                                f"52:54:00:30:00:{seed:02x}", caps)  # fmt: skip
        external = self.topo.externals[peer]
        return NeighborView(port, peer, peer_port, external.platform, external.ip,
                            f"52:54:00:40:00:{seed:02x}", "router")  # fmt: skip

    def routes(self) -> list[RouteView]:
        state, now = self.state(), self.now()
        if self.name != topo_mod.CORE_SWITCH:
            return self._access_routes(state, now)
        rows = []
        primary, backup = self.static_routes()
        uplink = model.uplink(state, self.topo, now)
        if uplink == "primary":
            rows.append(primary)
        elif uplink == "backup":
            rows.append(backup)
        for port, (ip, mask) in topo_mod.CORE_L3.items():
            if model.port_status(state, self.topo, self.name, port, now) == "connected":
                rows.append(_direct(ip, mask, port))
        for svi in self.svis():
            rows.append(_direct(svi.ip, svi.mask, f"Vlan{svi.vlan}"))
        return rows

    def _access_routes(self, state: dict[str, Any], now: float) -> list[RouteView]:
        """An access switch routes everything to the core over its management VLAN."""
        rows = []
        if model.port_status(state, self.topo, self.name, self.spec.uplink, now) == "connected":
            rows += self.static_routes()
        rows.append(_direct(self.mgmt_ip, "255.255.255.0", "Vlan10"))
        return rows

    def static_routes(self) -> list[RouteView]:
        """The static routes the configuration has, whether or not their links are up (the
        core's two defaults: the primary uplink's and the floating one over the backup)."""
        if self.name != topo_mod.CORE_SWITCH:
            return [RouteView("0.0.0.0", 0, "10.10.0.1", "Vlan10", "static", 1, 0)]
        return [
            RouteView("0.0.0.0", 0, "10.0.0.1", topo_mod.UPLINK_PRIMARY[1], "static", 1, 0),
            RouteView("0.0.0.0", 0, "10.0.0.5", topo_mod.UPLINK_BACKUP[1], "static", 10, 0),
        ]

    def port_address(self, port: str) -> tuple[str, str] | None:
        """(ip, dotted mask) configured on a routed port (the core's uplinks), else None."""
        if self.name != topo_mod.CORE_SWITCH:
            return None
        return topo_mod.CORE_L3.get(self.spec.port(port) or port)

    def svis(self) -> list[SviView]:
        if self.name == topo_mod.CORE_SWITCH:
            return [
                SviView(int(name.removeprefix("Vlan")), ip, mask, text)
                for name, (ip, mask, text) in topo_mod.CORE_SVIS.items()
            ]
        return [SviView(10, self.mgmt_ip, "255.255.255.0", "MGMT")]

    # -------------------------------------------------------------- actions

    def _long(self, port: str) -> str:
        long = self.spec.port(port)
        if long is None:
            raise ValueError(f"{self.name} has no interface {port!r}")
        return long

    def set_admin(self, port: str, up: bool) -> None:
        long = self._long(port)
        with self.state_file.update() as state:
            model.set_port_shutdown(state, self.topo, self.name, long, not up, self.now())

    def set_description(self, port: str, text: str) -> None:
        long = self._long(port)
        with self.state_file.update() as state:
            model.set_port_description(state, self.topo, self.name, long, text, self.now())

    def save(self) -> None:
        with self.state_file.update() as state:
            model.save_config(state, self.topo, self.name, self.now())

    def saved_at(self) -> float | None:
        saved = model.saved_config(self.state(), self.name)
        return float(saved["at"]) if saved else None

    def saved_ports(self) -> list[PortView]:
        """The ports as the startup configuration has them (the baseline if never saved)."""
        saved = model.saved_config(self.state(), self.name)
        ports = self.ports()
        if saved is None:
            baseline = {p: (self.name, p) in topo_mod.BASELINE_SHUTDOWN for p in self.spec.ports}
            return [
                _replace(v, admin_up=not baseline[v.name], description=self._cabled(v.name))
                for v in ports
            ]
        entries = saved["ports"]
        return [
            _replace(
                v,
                admin_up=not entries.get(v.name, {}).get("shutdown", False),
                description=entries.get(v.name, {}).get("description", ""),
            )
            for v in ports
        ]

    def _cabled(self, port: str) -> str:
        link = self.topo.link_at(self.name, port)
        return link.description if link is not None else ""

    # -------------------------------------------------------------- log

    def log(self) -> list[tuple[float, str]]:
        """Port events, oldest first: ``(epoch, "GigabitEthernet0/0/1 down")`` where the state
        word is ``up``, ``down`` or ``administratively down``."""
        state, now = self.state(), self.now()
        events: list[tuple[float, str]] = []
        for port in self.spec.ports:
            for fault in self._link_faults(state, port) + self._peer_faults(state, port):
                if fault["at"] > now:
                    continue
                events.append((float(fault["at"]), f"{port} down"))
                until = fault.get("until")
                if until is not None and until <= now:
                    events.append((float(until), f"{port} up"))
            override = state.get("ports", {}).get(f"{self.name}/{port}")
            if override is not None:
                word = "administratively down" if override["shutdown"] else "up"
                events.append((float(override["at"]), f"{port} {word}"))
        events.sort()
        return events


def port_speed(port: str) -> int:
    """Mbit/s from the interface type."""
    if port.startswith(("TenGigabit", "Ten-Gigabit", "XGigabit")):
        return 10000
    if port.startswith("Gigabit"):
        return 1000
    return 100


def _direct(ip: str, mask: str, interface: str) -> RouteView:
    octets = [int(a) & int(b) for a, b in zip(ip.split("."), mask.split("."), strict=True)]
    length = sum(bin(int(o)).count("1") for o in mask.split("."))
    return RouteView(".".join(map(str, octets)), length, "0.0.0.0", interface, "direct", 0, 0)


def _replace(view: PortView, **changes: Any) -> PortView:
    import dataclasses

    return dataclasses.replace(view, **changes)
