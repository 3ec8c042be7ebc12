"""The IOS dialect: every show output parses with ntc-templates (cisco_ios), abbreviations and
the vendor's errors, configuration through the lab state; then netmiko's own cisco_ios driver
against a running lab switch (login, paging off, send_command, send_config_set, save_config,
enable) with the change visible in `respond lab status` and the command log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from labkit import Lab, netmiko_switch
from ntc_templates.parse import parse_output

from respond.executors.netmiko import CLI_ERROR
from respond.lab import model, topology
from respond.lab.netdev.device import Device
from respond.lab.netdev.ios import IOS
from respond.lab.netdev.session import Session
from respond.lab.state import StateFile, new_state

PASSWORD = "s3cret-enable"


@pytest.fixture
def device(tmp_path: Path) -> Device:
    topo = topology.build(3)
    state_file = StateFile(tmp_path / "state.json")
    state_file.replace(new_state(topo.noncritical, now=time.time() - 60))
    return Device("acc-sw2", topo, state_file, PASSWORD)


def _session(device: Device) -> tuple[IOS, Session]:
    dialect, session = IOS(), Session(device)
    dialect.banner(session)
    return dialect, session


def _send(dialect: IOS, session: Session, *lines: str) -> str:
    return "".join(dialect.handle(session, line) for line in lines)


# the command, what ntc-templates must find in it: (field, value) of some row
PARSED = {
    "show version": ("hardware", ["WS-C2960-24TT-L"]),
    "show clock": ("timezone", "UTC"),
    "show interfaces": ("crc", str(1287 + 5 * 37)),  # errors counted while the link was down
    "show interfaces Fa0/3": ("link_status", "administratively down"),
    "show interfaces status": ("status", "disabled"),
    "show interfaces description": ("description", "app1"),
    "show ip interface brief": ("ip_address", "10.10.0.3"),
    "show ip route": ("nexthop_if", "Vlan10"),
    "show cdp neighbors": ("neighbor_name", "core-sw1"),
    "show cdp neighbors detail": ("mgmt_address", "10.10.0.1"),
    "show lldp neighbors": ("neighbor_interface", "GigabitEthernet0/0/4"),
    "show lldp neighbors detail": ("neighbor_name", "core-sw1"),
    "show logging": ("mnemonic", "UPDOWN"),
    "show vlan": ("vlan_name", "APP-SERVERS"),
}


def test_every_show_output_parses_with_ntc_templates(device: Device) -> None:
    with device.state_file.update() as state:  # a link that failed and came back, a shut port
        model.inject(state, device.topo, "link-down", "acc-sw2:Gi0/1", 5, time.time() - 30)
    dialect, session = _session(device)
    _send(dialect, session, "conf t", "int fa0/3", "description spare", "shutdown", "end")
    for command, (field, value) in PARSED.items():
        rows = parse_output(
            platform="cisco_ios", command=command, data=dialect.handle(session, command)
        )
        assert rows, f"{command}: ntc-templates found nothing"
        found = [row[field] for row in rows]
        assert value in found, f"{command}: {field} {value!r} not in {found[:5]}"
    while_down = time.time() - 27
    with device.state_file.update() as state:
        model.inject(state, device.topo, "link-down", "acc-sw2:Gi0/1", None, while_down)
    assert "Gateway of last resort is not set" in dialect.handle(session, "show ip route")
    assert "core-sw1" not in dialect.handle(session, "show lldp neighbors")
    # ntc-templates' running-config template knows routed ports only (no switchport lines)
    shown = dialect.handle(session, "show running-config interface Fa0/3")
    assert "interface FastEthernet0/3\n description spare\n" in shown and " shutdown\n" in shown
    for command in ("show running-config", "show startup-config"):
        assert "interface FastEthernet0/3" in dialect.handle(session, command)


def test_abbreviations_and_the_vendors_errors(device: Device) -> None:
    dialect, session = _session(device)
    assert _send(dialect, session, "sh ip int br") == _send(
        dialect, session, "show ip interface brief"
    )
    assert _send(dialect, session, "sh int st").startswith("\nPort      Name")
    wrong = dialect.handle(session, "show interfoo")
    assert wrong == " " * len("acc-sw2#show ") + "^\n% Invalid input detected at '^' marker.\n\n"
    assert dialect.handle(session, "show i").startswith('% Ambiguous command:  "show i"')
    assert dialect.handle(session, "show") == "% Incomplete command.\n\n"
    assert "^\n% Invalid input" in _send(dialect, session, "conf t", "interface Gi0/9")
    refused = _send(dialect, session, "hostname core9")
    for error in (wrong, refused, dialect.handle(session, "show i")):
        assert CLI_ERROR.search(error), error  # respond's netmiko step sees the failure
    assert dialect.prompt(session) == "acc-sw2(config)#"


def test_configuration_changes_the_lab_state(device: Device) -> None:
    dialect, session = _session(device)
    out = _send(dialect, session, "configure terminal", "interface FastEthernet0/3")
    assert out.startswith("Enter configuration commands")
    assert dialect.prompt(session) == "acc-sw2(config-if)#"
    _send(dialect, session, "description  to  printer ", "shutdown", "exit")
    assert dialect.prompt(session) == "acc-sw2(config)#"
    port = device.port("Fa0/3")
    assert port is not None and not port.admin_up and port.description == "to  printer"
    status = model.summary(device.state_file.read(), device.topo, time.time())["switches"]
    assert status["acc-sw2"]["shutdown"] == ["Fa0/3"]
    assert "shutdown" not in dialect.handle(session, "do show startup-config").split("Fa")[0]
    _send(dialect, session, "int fa0/3", "no shutdown", "no description", "end")
    assert dialect.prompt(session) == "acc-sw2#" and device.port("Fa0/3").admin_up
    assert device.saved_at() is None
    assert dialect.handle(session, "write memory") == "Building configuration...\n[OK]\n"
    assert device.saved_at() is not None
    dialect.handle(session, "copy running-config startup-config")
    assert dialect.prompt(session) == "Destination filename [startup-config]? "
    assert dialect.handle(session, "") == "Building configuration...\n[OK]\n"
    assert dialect.prompt(session) == "acc-sw2#"


def test_user_mode_needs_the_enable_password(device: Device) -> None:
    dialect, session = _session(device)
    _send(dialect, session, "disable")
    assert dialect.prompt(session) == "acc-sw2>"
    assert "% Invalid input" in dialect.handle(session, "configure terminal")
    assert "Cisco IOS Software" in dialect.handle(session, "show version")
    _send(dialect, session, "enable")
    assert session.hidden and dialect.prompt(session) == "Password: "
    _send(dialect, session, "nope", "nope")
    assert dialect.handle(session, "nope") == "% Bad secrets\n" and not session.hidden
    _send(dialect, session, "en", PASSWORD)
    assert dialect.prompt(session) == "acc-sw2#"
    dialect.handle(session, "exit")
    assert session.closed


# ---------------------------------------------------------------- through netmiko, on the lab


def test_netmiko_cisco_ios_drives_a_lab_switch(lab: Lab) -> None:
    dev = netmiko_switch(lab, "acc-sw2")
    password = dev.password
    try:
        assert dev.find_prompt() == "acc-sw2#"
        rows = dev.send_command("show interfaces status", use_textfsm=True)
        assert {r["port"]: r["status"] for r in rows}["Fa0/1"] == "connected"
        full = dev.send_command("show interfaces")  # far longer than a page: paging is off
        assert "--More--" not in full and full.count("line protocol") == 27
        out = dev.send_config_set(["interface Fa0/5", "description lab printer", "shutdown"])
        assert "Invalid" not in out and dev.find_prompt() == "acc-sw2#"
        status = lab.status()["switches"]["acc-sw2"]
        assert status["shutdown"] == ["Fa0/5"] and status["descriptions"] == {
            "FastEthernet0/5": "lab printer"
        }
        assert "shutdown: Fa0/5" in lab.respond("lab", "status", check=True).stdout
        assert "[OK]" in dev.save_config()
        assert lab.status()["switches"]["acc-sw2"]["saved_at"] is not None
        dev.send_config_set(["interface Fa0/5", "no shutdown"])
        assert lab.status()["switches"]["acc-sw2"]["shutdown"] == []
        dev.send_command_timing("disable")
        dev.secret = password
        dev.enable()  # netmiko answers the Password: prompt
        assert dev.check_enable_mode()
    finally:
        dev.disconnect()
    logged = [e["command"] for e in lab.json("lab", "commands", "--host", "acc-sw2")]
    assert {"shutdown", "description lab printer", "write mem", "enable"} <= set(logged)
    assert not [c for c in logged if password in c]
