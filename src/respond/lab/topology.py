"""The lab's machine room as static data: servers, services, switches, cabling, addresses.

Everything else (tools, switches, web services, status) derives what it shows from this
topology plus the mutable lab state. Stdlib only: the simulated tools import it on every call.
"""

from __future__ import annotations

CORE = ("oa1", "sms1", "db1", "file1")
NONCRITICAL_BASE = ("app1", "app2", "test1")
UPS_HOST = "ups1"
SWITCHES = ("core-sw1", "acc-sw1", "acc-sw2")
WEB = ("oa", "sms", "sink")

# Primary/backup WAN uplinks of the core switch.
UPLINK_PRIMARY = ("core-sw1", "GigabitEthernet0/1")
UPLINK_BACKUP = ("core-sw1", "GigabitEthernet0/2")


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


class Topology:
    def __init__(
        self, servers: dict[str, Server], links: tuple[Link, ...], externals: dict[str, External]
    ) -> None:
        self.servers = servers
        self.links = links
        self.externals = externals

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
        if name in SWITCHES:
            return ("switch", name)
        if name in self.externals:
            return ("external", name)
        for server in self.servers.values():
            if server.ip == name:
                return ("server", server.name)
        for sw, ip in SWITCH_MGMT_IP.items():
            if ip == name:
                return ("switch", sw)
        for ext in self.externals.values():
            if ext.ip == name:
                return ("external", ext.name)
        return None

    def address_of(self, name: str) -> str:
        if name in self.servers:
            return self.servers[name].ip
        if name in SWITCH_MGMT_IP:
            return SWITCH_MGMT_IP[name]
        return self.externals[name].ip


SWITCH_MGMT_IP = {"core-sw1": "10.10.0.1", "acc-sw1": "10.10.0.2", "acc-sw2": "10.10.0.3"}
SWITCH_MODEL = {
    "core-sw1": "WS-C3750X-24T",
    "acc-sw1": "WS-C2960-24TT-L",
    "acc-sw2": "WS-C2960-24TT-L",
}

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


def build(noncritical: int = 3) -> Topology:
    """The lab for ``noncritical`` non-critical servers (app1, app2, test1, then app3, app4, ...)."""
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
        port = f"FastEthernet0/{i + 1}"
        servers[name] = Server(
            name, "core", role, f"10.10.1.{11 + i}", _mac(11 + i), "acc-sw1", port,
            (SSHD, CRON, *services), mount, load,
        )  # fmt: skip
        links.append(Link("acc-sw1", port, name, "eth0", name))
    servers[UPS_HOST] = Server(
        UPS_HOST, "ups", "UPS monitor (NUT)", "10.10.1.30", _mac(30), "acc-sw1", "FastEthernet0/10",
        (SSHD, CRON, NUT), None, 2.0,
    )  # fmt: skip
    links.append(Link("acc-sw1", "FastEthernet0/10", UPS_HOST, "eth0", UPS_HOST))
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
        Link(
            "core-sw1",
            "GigabitEthernet0/1",
            "wan-rtr1",
            "GigabitEthernet0/0",
            "UPLINK-PRIMARY",
        ),
        Link(
            "core-sw1",
            "GigabitEthernet0/2",
            "wan-rtr2",
            "GigabitEthernet0/0",
            "UPLINK-BACKUP",
        ),
        Link("core-sw1", "GigabitEthernet0/3", "acc-sw1", "GigabitEthernet0/1", "TRUNK acc-sw1"),
        Link("core-sw1", "GigabitEthernet0/4", "acc-sw2", "GigabitEthernet0/1", "TRUNK acc-sw2"),
        Link("acc-sw1", "GigabitEthernet0/1", "core-sw1", "GigabitEthernet0/3", "UPLINK core-sw1"),
        Link("acc-sw2", "GigabitEthernet0/1", "core-sw1", "GigabitEthernet0/4", "UPLINK core-sw1"),
    ]
    externals = {
        "wan-rtr1": External("wan-rtr1", "10.0.0.1", "ISR4331"),
        "wan-rtr2": External("wan-rtr2", "10.0.0.5", "ISR4331"),
        "internet": External("internet", "8.8.8.8", ""),
    }
    return Topology(servers, tuple(links), externals)


def switch_ports(switch: str) -> list[str]:
    """Physical ports of a switch, in display order."""
    if switch == "core-sw1":
        return [f"GigabitEthernet0/{n}" for n in range(1, 13)]
    return [f"FastEthernet0/{n}" for n in range(1, 25)] + [f"GigabitEthernet0/{n}" for n in (1, 2)]


# Ports that are administratively down in the baseline configuration.
BASELINE_SHUTDOWN = {UPLINK_BACKUP}

# Layer-3 addresses on the core switch (routed uplinks and SVIs).
CORE_L3 = {
    "GigabitEthernet0/1": ("10.0.0.2", "255.255.255.252"),
    "GigabitEthernet0/2": ("10.0.0.6", "255.255.255.252"),
}
CORE_SVIS = {
    "Vlan10": ("10.10.0.1", "255.255.255.0", "MGMT"),
    "Vlan11": ("10.10.1.1", "255.255.255.0", "CORE-SERVERS"),
    "Vlan12": ("10.10.2.1", "255.255.255.0", "APP-SERVERS"),
}


def short_port(name: str) -> str:
    for long, short in (
        ("GigabitEthernet", "Gi"),
        ("FastEthernet", "Fa"),
        ("TenGigabitEthernet", "Te"),
    ):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def long_port(name: str) -> str:
    """``gi0/1``, ``Gi0/1``, ``GigabitEthernet0/1`` → ``GigabitEthernet0/1``."""
    text = name.strip().replace(" ", "")
    lower = text.lower()
    for long in ("TenGigabitEthernet", "GigabitEthernet", "FastEthernet"):
        for prefix in (long.lower(), long[:2].lower(), long[:3].lower(), long[:1].lower()):
            if lower.startswith(prefix) and lower[len(prefix) : len(prefix) + 1].isdigit():
                return long + text[len(prefix) :]
    return text
