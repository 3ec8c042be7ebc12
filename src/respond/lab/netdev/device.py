"""What one lab switch looks like right now, and what it can be told to do.

The views are plain frozen data; the dialects turn them into each vendor's text. The real
:class:`Device` (reading the lab state through :mod:`respond.lab.model`) implements
:class:`DeviceLike`; dialect tests may use any object with the same attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
    def log(self) -> list[tuple[float, str]]: ...  # (epoch, message), oldest first
