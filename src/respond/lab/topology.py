"""The lab's machine room as static data: servers, services, switches, cabling, addresses.

Everything else (tools, switches, web services, status) derives what it shows from this
topology plus the mutable lab state. Stdlib only: the simulated tools import it on every call.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds on every simulated tool call
if TYPE_CHECKING:
    from typing import Any

CORE = ("oa1", "sms1", "db1", "file1")
NONCRITICAL_BASE = ("app1", "app2", "test1")
UPS_HOST = "ups1"
WEB = ("oa", "sms", "sink")
CORE_SWITCH = "core-sw1"
MIN_SWITCHES = 3  # core-sw1, acc-sw1, acc-sw2
MAX_SWITCHES = 22  # core-sw1's ports 0/0/3 … 0/0/24 take the access uplinks

# Primary/backup WAN uplinks of the core switch.
UPLINK_PRIMARY = (CORE_SWITCH, "GigabitEthernet0/0/1")
UPLINK_BACKUP = (CORE_SWITCH, "GigabitEthernet0/0/2")


class Service:
    """A systemd unit on a server; ``data_path`` is a filesystem it needs (disk-failure breaks it)."""

    __slots__ = ("command", "data_path", "description", "name")

    def __init__(
        self, name: str, description: str, command: str, data_path: str | None = None
    ) -> None:
        self.name = name
        self.description = description
        self.command = command  # what `systemctl status` shows in the CGroup line
        self.data_path = data_path


class Server:
    """A lab server: ``group`` is core | noncritical | ups; ``load`` its share of the UPS load (%)."""

    __slots__ = (
        "data_mount",
        "group",
        "ip",
        "load",
        "mac",
        "name",
        "role",
        "services",
        "switch",
        "switch_port",
    )

    def __init__(
        self,
        name: str,
        group: str,
        role: str,
        ip: str,
        mac: str,
        switch: str,
        switch_port: str,
        services: tuple[Service, ...] = (),
        data_mount: str | None = None,
        load: float = 6.0,
    ) -> None:
        self.name = name
        self.group = group
        self.role = role
        self.ip = ip
        self.mac = mac
        self.switch = switch
        self.switch_port = switch_port
        self.services = services
        self.data_mount = data_mount  # the mount point that disk-failure breaks
        self.load = load


class Link:
    """One cable: a switch port and what is on its other end (a server, switch or router)."""

    __slots__ = ("description", "peer", "peer_port", "port", "switch")

    def __init__(self, switch: str, port: str, peer: str, peer_port: str, description: str) -> None:
        self.switch = switch
        self.port = port
        self.peer = peer
        self.peer_port = peer_port
        self.description = description


class External:
    __slots__ = ("ip", "name", "platform")

    def __init__(self, name: str, ip: str, platform: str) -> None:
        self.name = name
        self.ip = ip
        self.platform = platform


class SwitchSpec:
    """One lab switch: its vendor, the CLI dialect it speaks and its ports (long names, in
    display order); ``uplink`` is the port toward the core (the primary WAN port on the core)."""

    __slots__ = (
        "dialect",
        "mgmt_ip",
        "model",
        "name",
        "network_os",
        "ports",
        "serial",
        "uplink",
        "vendor",
    )

    def __init__(
        self, name: str, dialect: str, mgmt_ip: str, ports: tuple[str, ...], uplink: str
    ) -> None:
        self.name = name
        self.dialect = dialect
        self.vendor, self.network_os, self.model = VENDORS[dialect]
        self.mgmt_ip = mgmt_ip
        self.ports = ports
        self.uplink = uplink
        self.serial = SERIAL_PREFIX[dialect] + f"{sum(map(ord, name)) * 7919 % 10**8:08d}"

    def short(self, port: str) -> str:
        """The vendor's short name of a port: GE0/0/1 (Huawei, H3C), Gi0/1 / Fa0/1 (Cisco)."""
        return short_port(port, self.dialect)

    def port(self, text: str) -> str | None:
        """The long name of the port ``text`` names in any form (GE0/0/1, gi0/1, g 1/0/1, …)."""
        return find_port(self.ports, text)


class Topology:
    def __init__(
        self,
        servers: dict[str, Server],
        links: tuple[Link, ...],
        externals: dict[str, External],
        switches: dict[str, SwitchSpec],
    ) -> None:
        self.servers = servers
        self.links = links
        self.externals = externals
        self.switches = switches

    @property
    def noncritical(self) -> list[str]:
        return [s.name for s in self.servers.values() if s.group == "noncritical"]

    def server(self, name: str) -> Server | None:
        return self.servers.get(name)

    def link_at(self, switch: str, port: str) -> Link | None:
        for link in self.links:
            if link.switch == switch and link.port == port:
                return link
        return None

    def links_of(self, switch: str) -> list[Link]:
        return [link for link in self.links if link.switch == switch]

    def resolve(self, name: str) -> tuple[str, str] | None:
        """A host name or address → (kind, name) where kind is server|switch|external."""
        if name in self.servers:
            return ("server", name)
        if name in self.switches:
            return ("switch", name)
        if name in self.externals:
            return ("external", name)
        for server in self.servers.values():
            if server.ip == name:
                return ("server", server.name)
        for spec in self.switches.values():
            if spec.mgmt_ip == name:
                return ("switch", spec.name)
        for ext in self.externals.values():
            if ext.ip == name:
                return ("external", ext.name)
        return None

    def address_of(self, name: str) -> str:
        if name in self.servers:
            return self.servers[name].ip
        if name in self.switches:
            return self.switches[name].mgmt_ip
        return self.externals[name].ip

    def short(self, switch: str, port: str) -> str:
        """A port's short name as its switch's vendor writes it (fault targets use it)."""
        spec = self.switches.get(switch)
        return spec.short(port) if spec else short_port(port)

    def port_of(self, switch: str, text: str) -> str | None:
        """The long name of a port of ``switch`` given in any form, or None."""
        spec = self.switches.get(switch)
        return spec.port(text) if spec else None


# dialect → (vendor, ansible_network_os, model)
VENDORS = {
    "vrp": ("Huawei", "vrp", "S5735-S24T4X"),
    "comware": ("H3C", "comware", "S5130S-28S-EI"),
    "ios": ("Cisco", "ios", "WS-C2960-24TT-L"),
}
SERIAL_PREFIX = {"vrp": "2102351", "comware": "210235A", "ios": "FOC"}
# extra access switches (acc-sw3 …) cycle through these
EXTRA_DIALECTS = ("ios", "vrp", "comware")


def dialect_ports(dialect: str) -> tuple[tuple[str, ...], str]:
    """(ports in display order, the uplink port toward the core) of an access switch."""
    if dialect == "vrp":
        return tuple(f"GigabitEthernet0/0/{n}" for n in range(1, 25)), "GigabitEthernet0/0/24"
    if dialect == "comware":
        return tuple(f"GigabitEthernet1/0/{n}" for n in range(1, 29)), "GigabitEthernet1/0/25"
    fast = tuple(f"FastEthernet0/{n}" for n in range(1, 25))
    return (*fast, "GigabitEthernet0/1", "GigabitEthernet0/2"), "GigabitEthernet0/1"


def build_switches(count: int = MIN_SWITCHES) -> dict[str, SwitchSpec]:
    """core-sw1 (Huawei), acc-sw1 (H3C), acc-sw2 (Cisco), then acc-sw3 … cycling ios/vrp/comware."""
    if not MIN_SWITCHES <= count <= MAX_SWITCHES:
        raise ValueError(f"the lab has {MIN_SWITCHES} to {MAX_SWITCHES} switches, not {count}")
    core_ports = tuple(f"GigabitEthernet0/0/{n}" for n in range(1, 25))
    switches = {
        CORE_SWITCH: SwitchSpec(CORE_SWITCH, "vrp", "10.10.0.1", core_ports, UPLINK_PRIMARY[1])
    }
    for index in range(1, count):
        dialect = ("comware", "ios")[index - 1] if index <= 2 else EXTRA_DIALECTS[(index - 3) % 3]
        ports, uplink = dialect_ports(dialect)
        name = f"acc-sw{index}"
        switches[name] = SwitchSpec(name, dialect, f"10.10.0.{index + 1}", ports, uplink)
    return switches


def core_port_for(access: str) -> str:
    """The core port an access switch hangs off: acc-swK on GigabitEthernet0/0/{K+2}."""
    return f"GigabitEthernet0/0/{int(access.removeprefix('acc-sw')) + 2}"


def for_state(state: dict[str, Any]) -> Topology:
    """The topology a lab state document was created for (its hosts and switches)."""
    return build(len(state.get("noncritical", [])) or 3, int(state.get("switches") or MIN_SWITCHES))


OA = Service(
    "oa-web", "OA office automation web application", "/opt/oa/bin/oa-web --config /etc/oa/oa.yaml"
)
SMS = Service(
    "sms-gateway", "SMS gateway platform", "/opt/sms/bin/sms-gateway -c /etc/sms/gateway.conf"
)
PG = Service(
    "postgresql",
    "PostgreSQL RDBMS",
    "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main",
    data_path="/var/lib/postgresql",
)
SMB = Service(
    "smbd",
    "Samba SMB Daemon",
    "/usr/sbin/smbd --foreground --no-process-group",
    data_path="/srv/share",
)
NUT = Service("nut-monitor", "Network UPS Tools - power device monitor", "/sbin/upsmon -F")
SSHD = Service(
    "ssh", "OpenBSD Secure Shell server", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
)
CRON = Service("cron", "Regular background program processing daemon", "/usr/sbin/cron -f")


def _mac(n: int) -> str:
    return f"52:54:00:10:01:{n:02x}"


def build(noncritical: int = 3, switches: int = MIN_SWITCHES) -> Topology:
    """The lab for ``noncritical`` non-critical servers (app1, app2, test1, then app3, app4, ...)
    and ``switches`` switches (core-sw1, acc-sw1, acc-sw2, then acc-sw3 … acc-swN)."""
    specs = build_switches(switches)
    names = list(NONCRITICAL_BASE[: max(0, noncritical)])
    extra = 3
    while len(names) < noncritical:
        names.append(f"app{extra}")
        extra += 1
    servers: dict[str, Server] = {}
    core_specs = [
        ("oa1", "OA application server", (OA,), None, 8.0),
        ("sms1", "SMS gateway", (SMS,), None, 6.0),
        ("db1", "database server", (PG,), "/var/lib/postgresql", 12.0),
        ("file1", "file server", (SMB,), "/srv/share", 10.0),
    ]
    links: list[Link] = []
    for i, (name, role, services, mount, load) in enumerate(core_specs):
        port = f"GigabitEthernet1/0/{i + 1}"
        servers[name] = Server(
            name, "core", role, f"10.10.1.{11 + i}", _mac(11 + i), "acc-sw1", port,
            (SSHD, CRON, *services), mount, load,
        )  # fmt: skip
        links.append(Link("acc-sw1", port, name, "eth0", name))
    servers[UPS_HOST] = Server(
        UPS_HOST, "ups", "UPS monitor (NUT)", "10.10.1.30", _mac(30), "acc-sw1",
        "GigabitEthernet1/0/10", (SSHD, CRON, NUT), None, 2.0,
    )  # fmt: skip
    links.append(Link("acc-sw1", "GigabitEthernet1/0/10", UPS_HOST, "eth0", UPS_HOST))
    share = 18.0 / max(1, len(names))
    for i, name in enumerate(names):
        port = f"FastEthernet0/{i + 1}" if i < 24 else f"FastEthernet0/{(i % 24) + 1}"
        role = "test server" if name.startswith("test") else "application server"
        servers[name] = Server(
            name, "noncritical", role, f"10.10.2.{21 + i}", _mac(40 + i), "acc-sw2",
            port if i < 24 else "", (SSHD, CRON), None, share,
        )  # fmt: skip
        if i < 24:
            links.append(Link("acc-sw2", port, name, "eth0", name))
    links += [
        Link(CORE_SWITCH, UPLINK_PRIMARY[1], "wan-rtr1", "GigabitEthernet0/0", "UPLINK-PRIMARY"),
        Link(CORE_SWITCH, UPLINK_BACKUP[1], "wan-rtr2", "GigabitEthernet0/0", "UPLINK-BACKUP"),
    ]
    for name, spec in specs.items():
        if name == CORE_SWITCH:
            continue
        core_port = core_port_for(name)
        links.append(Link(CORE_SWITCH, core_port, name, spec.uplink, f"TRUNK {name}"))
        links.append(Link(name, spec.uplink, CORE_SWITCH, core_port, f"UPLINK {CORE_SWITCH}"))
    externals = {
        "wan-rtr1": External("wan-rtr1", "10.0.0.1", "ISR4331"),
        "wan-rtr2": External("wan-rtr2", "10.0.0.5", "ISR4331"),
        "internet": External("internet", "8.8.8.8", ""),
    }
    return Topology(servers, tuple(links), externals, specs)


# Ports that are administratively down in the baseline configuration.
BASELINE_SHUTDOWN = {UPLINK_BACKUP}

# Layer-3 addresses on the core switch (routed uplinks and SVIs).
CORE_L3 = {
    UPLINK_PRIMARY[1]: ("10.0.0.2", "255.255.255.252"),
    UPLINK_BACKUP[1]: ("10.0.0.6", "255.255.255.252"),
}
CORE_SVIS = {
    "Vlan10": ("10.10.0.1", "255.255.255.0", "MGMT"),
    "Vlan11": ("10.10.1.1", "255.255.255.0", "CORE-SERVERS"),
    "Vlan12": ("10.10.2.1", "255.255.255.0", "APP-SERVERS"),
}

# long prefix → short name per dialect; the longest prefix first
_SHORT = {
    "ios": (("TenGigabitEthernet", "Te"), ("GigabitEthernet", "Gi"), ("FastEthernet", "Fa")),
    "vrp": (("XGigabitEthernet", "XGE"), ("GigabitEthernet", "GE"), ("Ethernet", "Eth")),
    "comware": (("Ten-GigabitEthernet", "XGE"), ("GigabitEthernet", "GE"), ("Ethernet", "Eth")),
}
# a prefix a user may type → the long interface type it names
_ALIASES = {
    "tengigabitethernet": "TenGigabitEthernet",
    "ten-gigabitethernet": "Ten-GigabitEthernet",
    "xgigabitethernet": "XGigabitEthernet",
    "gigabitethernet": "GigabitEthernet",
    "fastethernet": "FastEthernet",
    "ethernet": "Ethernet",
    "xge": "XGigabitEthernet",
    "ge": "GigabitEthernet",
    "te": "TenGigabitEthernet",
}


def short_port(name: str, dialect: str = "ios") -> str:
    """``GigabitEthernet0/0/1`` → ``GE0/0/1`` (vrp, comware) or ``Gi0/1`` (ios)."""
    for long, short in _SHORT.get(dialect, _SHORT["ios"]):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _split_port(text: str) -> tuple[str, str]:
    """``gi 0/1`` → (``gi``, ``0/1``): the lowercase type prefix and the numbers."""
    compact = text.strip().replace(" ", "")
    index = 0
    while index < len(compact) and not compact[index].isdigit():
        index += 1
    return compact[:index].lower(), compact[index:]


def _names_type(prefix: str, kind: str) -> bool:
    """Whether a typed prefix (``gi``, ``ge``, ``eth``, ``""``) names an interface type."""
    if not prefix or kind.startswith(prefix) or _ALIASES.get(prefix, "").lower() == kind:
        return True
    return prefix in ("e", "et", "eth") and "ethernet" in kind


def find_port(ports: tuple[str, ...] | list[str], text: str) -> str | None:
    """The one port of ``ports`` that ``text`` names in any form (long, short, any unique
    prefix of the type: ``GE0/0/1``, ``gi0/1``, ``g1/0/1``, ``Eth1/0/1``), else None."""
    prefix, numbers = _split_port(text)
    if not numbers:
        return None
    matches = []
    for port in ports:
        kind, number = _split_port(port)
        if number != numbers:
            continue
        if _names_type(prefix, kind):
            matches.append(port)
    return matches[0] if len(matches) == 1 else None
