"""Cisco IOS-like switches on loopback, from the ``fake-switches`` package, for netmiko tests.

Switches are started from Python through the package's own classes (its packaged command
passes the enable password as bytes, so ``enable`` always fails on Python 3). All switches
of a process share one Twisted reactor running in a daemon thread; each switch listens on
its own free port of 127.0.0.1.

Two flavours:

* ``extended=False`` — fake-switches exactly as packaged (``show version``, ``show vlan``,
  ``show running-config``, config mode left with ``exit``).
* ``extended=True`` (default) — adds what the lab and the network-outage runbook need:
  ``show interfaces status`` and ``show ip interface brief`` derived from the switch
  configuration (interfaces, descriptions, access VLANs, ``shutdown``) plus a link state
  that a test or the lab can flip (``FakeSwitch.set_link``), and ``end`` in config mode
  (netmiko leaves config mode with ``end``).

Every switch offers the same RSA host key unless ``host_key`` is given; ``known_hosts_line``
and ``write_known_hosts`` produce the OpenSSH ``[127.0.0.1]:PORT ssh-rsa ...`` lines.
Usage::

    sw = start_switch("core1", interfaces=["GigabitEthernet0/1", "GigabitEthernet0/2"])
    write_known_hosts(tmp_path / "known_hosts", [sw])
    ... netmiko to 127.0.0.1:sw.port as sw.username/sw.password, enable with sw.enable_password
    sw.set_link("GigabitEthernet0/2", up=False)
    sw.stop()
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_INTERFACES = (
    "GigabitEthernet0/1",
    "GigabitEthernet0/2",
    "GigabitEthernet0/3",
    "GigabitEthernet0/4",
)

_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


@dataclass(frozen=True)
class Interface:
    """A physical port as the switch starts with it."""

    name: str
    description: str | None = None
    shutdown: bool = False
    link_up: bool = True
    vlan: int | None = None


@dataclass
class FakeSwitch:
    """A running switch: where it listens, how to log in, and its live configuration."""

    name: str
    port: int
    username: str
    password: str
    enable_password: str
    host_public_key: str  # "ssh-rsa AAAA..."
    host: str = LOOPBACK
    extended: bool = True
    configuration: Any = field(default=None, repr=False)  # fake_switches SwitchConfiguration
    _listener: Any = field(default=None, repr=False)

    def known_hosts_line(self, public_key: str | None = None) -> str:
        key = public_key or self.host_public_key
        return f"[{self.host}]:{self.port} {key}"

    def inventory_vars(self) -> dict[str, Any]:
        """Ansible-format host vars for this switch (what respond's inventory reads)."""
        return {
            "ansible_host": self.host,
            "ansible_port": self.port,
            "ansible_user": self.username,
            "ansible_password": self.password,
            "ansible_network_os": "cisco.ios.ios",
            "ansible_connection": "network_cli",
            "ansible_become": True,
            "ansible_become_method": "enable",
            "ansible_become_password": self.enable_password,
        }

    def set_link(self, interface: str, *, up: bool) -> None:
        """Plug or unplug the cable of ``interface`` (extended switches only)."""
        port = self._port(interface)
        _call_in_reactor(lambda: _link_state(self.configuration).__setitem__(port.name, up))

    def set_shutdown(self, interface: str, *, shutdown: bool) -> None:
        port = self._port(interface)
        _call_in_reactor(lambda: setattr(port, "shutdown", True if shutdown else None))

    def interface_state(self, interface: str) -> dict[str, Any]:
        port = self._port(interface)
        return {
            "name": port.name,
            "shutdown": bool(port.shutdown),
            "link_up": _link_state(self.configuration).get(port.name, True),
            "description": port.description,
        }

    def vlans(self) -> dict[int, str | None]:
        return {v.number: v.name for v in self.configuration.vlans}

    def stop(self) -> None:
        """Stop listening; sessions already open are dropped with the listener's factory."""
        if self._listener is not None:
            listener, self._listener = self._listener, None
            _call_in_reactor(listener.stopListening)

    def _port(self, interface: str) -> Any:
        port = self.configuration.get_port_by_partial_name(interface)
        if port is None:
            raise KeyError(f"{self.name} has no interface {interface!r}")
        return port


def fake_switch_public_key() -> str:
    """The RSA host key every fake-switches device offers, as ``ssh-rsa AAAA...``."""
    from fake_switches.transports.ssh_service import getRSAKeys

    public, _private = getRSAKeys()
    return " ".join(public.split()[:2])


def generate_rsa_host_key() -> tuple[str, str]:
    """A fresh RSA key pair (public ``ssh-rsa AAAA...``, private PEM) for one switch."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return public, private


def start_switch(
    name: str = "switch1",
    *,
    interfaces: Sequence[str | Interface] = DEFAULT_INTERFACES,
    username: str = "admin",
    password: str = "switch-pass",
    enable_password: str = "enable-pass",
    port: int = 0,
    extended: bool = True,
    host_key: tuple[str, str] | None = None,
) -> FakeSwitch:
    """Start one Cisco IOS-like switch on 127.0.0.1 (``port=0``: a free port) and return it.

    ``host_key`` is ``(public, private_pem)``; default: fake-switches' shared RSA key.
    """
    from fake_switches.switch_configuration import Port, SwitchConfiguration

    ports = []
    links: dict[str, bool] = {}
    specs = [i if isinstance(i, Interface) else Interface(i) for i in interfaces]
    for spec in specs:
        p = Port(spec.name)
        p.description = spec.description
        p.shutdown = True if spec.shutdown else None
        p.access_vlan = spec.vlan
        ports.append(p)
        links[spec.name] = spec.link_up
    configuration = SwitchConfiguration(
        LOOPBACK, name=name, privileged_passwords=[enable_password], ports=ports
    )
    configuration.lab_link_state = links  # read by the extended command processor
    for vlan_id in sorted({s.vlan for s in specs if s.vlan and s.vlan != 1}):
        configuration.add_vlan(configuration.new("Vlan", vlan_id))

    core = _core_class(extended)(configuration)
    if host_key is None:
        from fake_switches.transports.ssh_service import getRSAKeys

        public, private = getRSAKeys()
    else:
        public, private = host_key
    service = _ssh_service_class()(
        LOOPBACK,
        port=port,
        switch_core=core,
        users={username: password.encode()},
        host_key=(public, private),
    )
    listener = _call_in_reactor(lambda: service.hook_to_reactor(_reactor()))
    return FakeSwitch(
        name=name,
        port=listener.getHost().port,
        username=username,
        password=password,
        enable_password=enable_password,
        host_public_key=" ".join(public.split()[:2]),
        extended=extended,
        configuration=configuration,
        _listener=listener,
    )


def write_known_hosts(path: Path, switches: Iterable[FakeSwitch], *, append: bool = False) -> Path:
    """Write (or append) one known_hosts line per switch; returns ``path``."""
    lines = "".join(sw.known_hosts_line() + "\n" for sw in switches)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="ascii") as fh:
        fh.write(lines)
    return path


# --- the reactor thread --------------------------------------------------------------------


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _ensure_reactor() -> None:
    global _reactor_thread
    with _reactor_lock:
        if _reactor_thread is not None and _reactor_thread.is_alive():
            return
        reactor = _reactor()
        started = threading.Event()
        reactor.callWhenRunning(started.set)
        _reactor_thread = threading.Thread(
            target=reactor.run,
            kwargs={"installSignalHandlers": False},
            name="fake-switches-reactor",
            daemon=True,
        )
        _reactor_thread.start()
        if not started.wait(60):
            raise RuntimeError("the Twisted reactor for fake switches did not start")


def _call_in_reactor(fn: Any) -> Any:
    from twisted.internet.threads import blockingCallFromThread

    _ensure_reactor()
    return blockingCallFromThread(_reactor(), fn)


# --- fake-switches extensions (built lazily so importing this module stays cheap) ------------

_classes: dict[str, Any] = {}


def _link_state(configuration: Any) -> dict[str, bool]:
    state = getattr(configuration, "lab_link_state", None)
    if state is None:
        state = configuration.lab_link_state = {}
    return state


def _ssh_service_class() -> Any:
    if "ssh" in _classes:
        return _classes["ssh"]
    from fake_switches.transports.ssh_service import SSHDemoRealm, SwitchSshService
    from twisted.conch.ssh import factory, keys
    from twisted.cred import checkers, portal

    class KeyedSwitchSshService(SwitchSshService):
        """fake-switches' SSH service with a chosen host key (the package hard-codes one)."""

        def __init__(self, ip: str, *, host_key: tuple[str, str], **kwargs: Any) -> None:
            super().__init__(ip=ip, **kwargs)
            self.host_key = host_key

        def hook_to_reactor(self, reactor: Any) -> Any:
            ssh_factory = factory.SSHFactory()
            ssh_factory.portal = portal.Portal(SSHDemoRealm(self.switch_core))
            ssh_factory.portal.registerChecker(
                checkers.InMemoryUsernamePasswordDatabaseDontUse(**self.users)
            )
            public, private = self.host_key
            ssh_factory.publicKeys = {b"ssh-rsa": keys.Key.fromString(data=public.encode())}
            ssh_factory.privateKeys = {b"ssh-rsa": keys.Key.fromString(data=private.encode())}
            return reactor.listenTCP(port=self.port, factory=ssh_factory, interface=self.ip)

    _classes["ssh"] = KeyedSwitchSshService
    return KeyedSwitchSshService


def _core_class(extended: bool) -> Any:
    from fake_switches.cisco.cisco_core import CiscoSwitchCore

    if not extended:
        return CiscoSwitchCore
    if "core" in _classes:
        return _classes["core"]

    from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
    from fake_switches.cisco.command_processor.config_interface import (
        ConfigInterfaceCommandProcessor,
    )
    from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
    from fake_switches.cisco.command_processor.config_vrf import ConfigVRFCommandProcessor
    from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
    from fake_switches.switch_configuration import VlanPort

    class LabConfigCommandProcessor(ConfigCommandProcessor):
        """Config mode that also understands ``end`` from any sub-mode (as IOS does)."""

        def process_command(self, line: str) -> bool:
            if line.strip() == "end":
                self.sub_processor = None
                self.is_done = True
                return True
            return super().process_command(line)

    class LabEnabledCommandProcessor(EnabledCommandProcessor):
        """Adds ``show interfaces status`` and ``show ip interface brief``."""

        def do_show(self, *args: str) -> None:
            words = [a.lower() for a in args]
            if (
                len(words) >= 2
                and _abbrev(words[0], "interfaces", 3)
                and _abbrev(words[1], "status", 2)
            ):
                self._show_interfaces_status()
            elif (
                len(words) >= 3
                and words[0] == "ip"
                and _abbrev(words[1], "interface", 3)
                and _abbrev(words[2], "brief", 2)
            ):
                self._show_ip_interface_brief()
            else:
                super().do_show(*args)

        def _status(self, port: Any) -> tuple[str, bool]:
            """(IOS status word, line protocol up?)."""
            if port.shutdown:
                return "disabled", False
            if not _link_state(self.switch_configuration).get(port.name, True):
                return "notconnect", False
            return "connected", True

        def _show_interfaces_status(self) -> None:
            self.write_line("")
            self.write_line(
                f"{'Port':<9} {'Name':<18} {'Status':<12} {'Vlan':<10} "
                f"{'Duplex':>6} {'Speed':>6} Type"
            )
            for port in self.switch_configuration.get_physical_ports():
                status, up = self._status(port)
                vlan = "trunk" if port.mode == "trunk" else str(port.access_vlan or 1)
                duplex, speed = ("a-full", "a-1000") if up else ("auto", "auto")
                name = (port.description or "")[:18]
                self.write_line(
                    f"{port.get_subname(length=2):<9} {name:<18} {status:<12} {vlan:<10} "
                    f"{duplex:>6} {speed:>6} 10/100/1000BaseTX"
                )
            self.write_line("")

        def _show_ip_interface_brief(self) -> None:
            self.write_line(
                f"{'Interface':<22} {'IP-Address':<15} OK? Method {'Status':<21} Protocol"
            )
            ports = (
                self.switch_configuration.get_physical_ports()
                + self.switch_configuration.get_vlan_ports()
            )
            for port in ports:
                address = "unassigned"
                if isinstance(port, VlanPort) and port.ips:
                    address = str(port.ips[0].ip)
                if port.shutdown:
                    status, proto = "administratively down", "down"
                elif isinstance(port, VlanPort):
                    status, proto = "up", "up"
                else:
                    _word, up = self._status(port)
                    status = proto = "up" if up else "down"
                method = "manual" if address != "unassigned" else "unset"
                self.write_line(
                    f"{port.name:<22} {address:<15} YES {method:<6} {status:<21} {proto}"
                )

    class LabCiscoSwitchCore(CiscoSwitchCore):
        def new_command_processor(self) -> Any:
            return LabEnabledCommandProcessor(
                config=LabConfigCommandProcessor(
                    config_vlan=ConfigVlanCommandProcessor(),
                    config_vrf=ConfigVRFCommandProcessor(),
                    config_interface=ConfigInterfaceCommandProcessor(),
                )
            )

    _classes["core"] = LabCiscoSwitchCore
    return LabCiscoSwitchCore


def _abbrev(word: str, full: str, minimum: int) -> bool:
    """IOS-style abbreviation: ``int`` for ``interfaces``."""
    return len(word) >= minimum and full.startswith(word)
