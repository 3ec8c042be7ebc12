"""The H3C Comware dialect without sockets: a stand-in switch, a Session, one line at a time.

Every display output is also fed to ntc-templates (platform hp_comware), the parser runbooks
and netmiko's ``use_textfsm`` use, so a layout drift that breaks parsing fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from ntc_templates.parse import parse_output
from standin import gigabit_port

from respond.executors.netmiko import CLI_ERROR
from respond.lab.netdev import load_dialect
from respond.lab.netdev.comware import Comware
from respond.lab.netdev.device import NeighborView, PortView, RouteView, SviView
from respond.lab.netdev.session import Session

NOW = 1_764_655_200.0  # 2025-12-02 06:00:00 UTC, a Tuesday


def _port(n: int, **changes: Any) -> PortView:
    base = gigabit_port("1/0/", n, oper_up=True, vlan="10", last_change=NOW - 3723)
    return replace(base, **changes)


@dataclass
class StandInSwitch:
    """acc-sw1 as a DeviceLike: five ports, one SVI, one uplink neighbour, a default route."""

    name: str = "acc-sw1"
    vendor: str = "H3C"
    dialect: str = "comware"
    model: str = "S5130S-28S-EI"
    version: str = "7.1.070, Release 6126P20"
    serial: str = "210235A1234567890"
    mgmt_ip: str = "10.10.0.2"
    uptime_s: float = 90061.0
    password: str = "lab-secret"
    state: dict[str, PortView] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    saved: float | None = None

    def __post_init__(self) -> None:
        ports = [
            _port(1, description="oa1"),
            _port(2, description="sms1"),
            _port(3, admin_up=False, oper_up=False, vlan="1"),
            _port(10, oper_up=False, in_errors=12, out_errors=3, crc=7, description="ups1"),
            _port(25, description="UPLINK core-sw1", vlan="trunk"),
        ]
        self.state = {p.name: p for p in ports}
        self.startup = list(ports)

    def now(self) -> float:
        return NOW

    def ports(self) -> list[PortView]:
        return list(self.state.values())

    def port(self, name: str) -> PortView | None:
        m = re.fullmatch(r"(?i)(g|ge|gi|gig\w*)\s*(\d+/\d+/\d+)", name.strip())
        return self.state.get(f"GigabitEthernet{m.group(2)}") if m else None

    def neighbors(self) -> list[NeighborView]:
        return [
            NeighborView(
                local_port="GigabitEthernet1/0/25",
                remote_name="core-sw1",
                remote_port="GigabitEthernet0/0/3",
                remote_platform="Huawei Versatile Routing Platform Software S5735-S24T4X",
                remote_ip="10.10.0.1",
                remote_mac="52:54:00:10:00:03",
                capabilities="bridge,router",
            )
        ]

    def routes(self) -> list[RouteView]:
        return [
            RouteView("0.0.0.0", 0, "10.10.0.1", "Vlan1", "static", 60, 0),
            RouteView("10.10.0.0", 24, "10.10.0.2", "Vlan1", "direct", 0, 0),
        ]

    def svis(self) -> list[SviView]:
        return [SviView(1, "10.10.0.2", "255.255.255.0", "mgmt")]

    def set_admin(self, port: str, up: bool) -> None:
        self.calls.append(("set_admin", port, str(up)))
        p = self.state[port]
        self.state[port] = replace(p, admin_up=up, oper_up=up)

    def set_description(self, port: str, text: str) -> None:
        self.calls.append(("set_description", port, text))
        self.state[port] = replace(self.state[port], description=text)

    def save(self) -> None:
        self.calls.append(("save",))
        self.saved = NOW
        self.startup = self.ports()

    def saved_at(self) -> float | None:
        return self.saved

    def saved_ports(self) -> list[PortView]:
        return self.startup

    def log(self) -> list[tuple[float, str]]:
        return [(NOW - 60.25, "GigabitEthernet1/0/10 down"), (NOW - 30, "GigabitEthernet1/0/3 odd")]


@pytest.fixture
def switch() -> StandInSwitch:
    return StandInSwitch()


@pytest.fixture
def session(switch: StandInSwitch) -> Session:
    return Session(device=switch)


def run(dialect: Comware, s: Session, *lines: str) -> str:
    """Feed lines; the output of the last one."""
    out = ""
    for line in lines:
        out = dialect.handle(s, line)
    return out


def parsed(command: str, text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = parse_output(platform="hp_comware", command=command, data=text)
    return rows


def test_the_registry_loads_the_comware_dialect() -> None:
    dialect = load_dialect("comware")
    assert isinstance(dialect, Comware)
    assert dialect.name == "comware"
    assert dialect.more_prompt == "---- More ----"


def test_views_and_prompts_follow_system_view_interface_quit_and_return(session: Session) -> None:
    d = Comware()
    assert "Copyright (c)" in d.banner(session)
    assert not re.search(r"[>\]]", d.banner(session))  # netmiko waits for the first > or ]
    assert d.prompt(session) == "<acc-sw1>"
    assert run(d, session, "system-view") == "System View: return to User View with Ctrl+Z."
    assert d.prompt(session) == "[acc-sw1]"
    run(d, session, "interface GigabitEthernet1/0/2")
    assert d.prompt(session) == "[acc-sw1-GigabitEthernet1/0/2]"
    run(d, session, "quit")
    assert d.prompt(session) == "[acc-sw1]"
    run(d, session, "int ge 1/0/3")  # the type and the number may be two words
    assert d.prompt(session) == "[acc-sw1-GigabitEthernet1/0/3]"
    run(d, session, "return")
    assert d.prompt(session) == "<acc-sw1>"
    assert not session.closed
    run(d, session, "quit")  # from user view: the session ends
    assert session.closed


def test_ctrl_z_returns_to_the_user_view_and_is_quiet_there(session: Session) -> None:
    d = Comware()
    assert d.ctrl_z == "return"  # the line the session engine hands over for Ctrl+Z
    run(d, session, "system-view", "interface GigabitEthernet1/0/2")
    assert run(d, session, d.ctrl_z) == ""
    assert d.prompt(session) == "<acc-sw1>"
    assert run(d, session, d.ctrl_z) == ""  # in user view it changes nothing
    assert d.prompt(session) == "<acc-sw1>"


def test_keywords_may_be_any_unique_prefix(session: Session) -> None:
    d = Comware()
    assert run(d, session, "dis int br") == run(d, session, "display interface brief")
    assert run(d, session, "dis cur") == run(d, session, "display current-configuration")
    assert run(d, session, "DIS VER").startswith("H3C Comware Software, Version 7.1.070")
    run(d, session, "sys")
    assert session.mode == "system"


def test_unknown_input_gets_comware_errors_with_a_caret_under_the_word(session: Session) -> None:
    d = Comware()
    out = run(d, session, "display foo")
    assert (
        out == " " * len("<acc-sw1>display ") + "^\n % Unrecognized command found at '^' position."
    )
    out = run(d, session, "display")
    assert out.endswith(" % Incomplete command found at '^' position.")
    assert out.index("^") == len("<acc-sw1>display ")
    assert run(d, session, "dis i").endswith(" % Ambiguous command found at '^' position.")
    assert run(d, session, "system-view now").endswith(
        " % Too many parameters found at '^' position."
    )
    run(d, session, "system-view")
    out = run(d, session, "interface GigabitEthernet1/0/99")
    assert out == " " * len("[acc-sw1]interface ") + "^\n % Wrong parameter found at '^' position."
    assert session.mode == "system"
    assert run(d, session, "shutdown").endswith(" % Unrecognized command found at '^' position.")


def test_every_comware_error_counts_as_a_refusal_for_the_netmiko_step(session: Session) -> None:
    d = Comware()
    run(d, session, "system-view")
    for line in ("bogus", "interface", "interface GE9/9/9", "dis i", "return now"):
        out = run(d, session, line)
        assert CLI_ERROR.search(out), (line, out)


def test_screen_length_disable_turns_paging_off(session: Session) -> None:
    d = Comware()
    assert session.paging
    assert run(d, session, "screen-length disable") == ""
    assert not session.paging
    run(d, session, "undo screen-length disable")
    assert session.paging


def test_interface_commands_change_the_switch(switch: StandInSwitch, session: Session) -> None:
    d = Comware()
    run(d, session, "system-view", "interface GE1/0/2", "shutdown")
    assert switch.calls[-1] == ("set_admin", "GigabitEthernet1/0/2", "False")
    run(d, session, "undo shut")
    assert switch.calls[-1] == ("set_admin", "GigabitEthernet1/0/2", "True")
    run(d, session, "description  To the SMS server  ")
    assert switch.calls[-1] == ("set_description", "GigabitEthernet1/0/2", "To the SMS server")
    run(d, session, "undo description")
    assert switch.calls[-1] == ("set_description", "GigabitEthernet1/0/2", "")
    block = (
        "#\ninterface GigabitEthernet1/0/2\n port link-mode bridge\n port access vlan 10\n#\nreturn"
    )
    assert run(d, session, "display this") == block
    assert run(d, session, "dis cur int GigabitEthernet 1/0/2") == block


def test_save_force_saves_without_a_question(switch: StandInSwitch, session: Session) -> None:
    d = Comware()
    run(d, session, "system-view")
    out = run(d, session, "save force")
    assert out.endswith("Saved the current configuration to mainboard device successfully.")
    assert switch.calls == [("save",)]
    assert d.prompt(session) == "[acc-sw1]"


def test_save_asks_to_confirm_the_file_and_the_overwrite(
    switch: StandInSwitch, session: Session
) -> None:
    d = Comware()
    assert run(d, session, "save").endswith("Are you sure? [Y/N]:")
    assert d.prompt(session) == ""  # the question stands in for the prompt
    assert run(d, session, "y").endswith("press the enter key):")
    assert run(d, session, "") == "flash:/startup.cfg exists, overwrite? [Y/N]:"
    assert switch.calls == []
    assert run(d, session, "y").endswith("successfully.")
    assert switch.calls == [("save",)]
    assert d.prompt(session) == "<acc-sw1>"
    run(d, session, "save")
    assert run(d, session, "n") == ""
    assert switch.calls == [("save",)]  # declined: nothing saved


def test_saved_configuration_is_the_one_saved_not_the_live_one(
    switch: StandInSwitch, session: Session
) -> None:
    d = Comware()
    run(d, session, "system-view", "interface GE1/0/2", "description changed", "quit")
    run(d, session, "save force")
    run(d, session, "interface GE1/0/1", "shutdown", "return")
    saved, running = run(d, session, "dis saved"), run(d, session, "dis cur")
    assert "description oa1\n port access vlan 10\n#\n" in saved
    assert "description changed\n" in saved
    assert "description oa1\n shutdown\n" in running


def test_current_configuration_reflects_the_live_state(
    switch: StandInSwitch, session: Session
) -> None:
    d = Comware()
    run(d, session, "system-view", "interface GE1/0/1", "description To OA", "shutdown", "return")
    config = run(d, session, "display current-configuration")
    assert config.startswith("#\n version 7.1.070, Release 6126P20\n#\n sysname acc-sw1\n#\n")
    assert config.endswith("#\nreturn\n")
    assert (
        "#\ninterface GigabitEthernet1/0/1\n port link-mode bridge\n description To OA\n"
        " shutdown\n port access vlan 10\n#\n"
    ) in config
    assert (
        "interface GigabitEthernet1/0/25\n port link-mode bridge\n description UPLINK core-sw1\n"
        " port link-type trunk\n port trunk permit vlan all\n#\n"
    ) in config
    assert "\n ip route-static 0.0.0.0 0 10.10.0.1\n" in config
    assert (
        "\ninterface Vlan-interface1\n description mgmt\n ip address 10.10.0.2 255.255.255.0\n"
        in config
    )
    assert "\nvlan 10\n#\n" in config


def test_the_configured_default_route_stays_while_the_table_drops_it(
    switch: StandInSwitch, session: Session
) -> None:
    switch.routes = lambda: [  # type: ignore[method-assign]  # the uplink is down
        RouteView("10.10.0.0", 24, "10.10.0.2", "Vlan1", "direct", 0, 0)
    ]
    d = Comware()
    assert "0.0.0.0/0" not in run(d, session, "display ip routing-table")
    assert "\n ip route-static 0.0.0.0 0 10.10.0.1\n" in run(d, session, "display current-config")


def test_display_interface_brief_parses_into_every_port(session: Session) -> None:
    rows = parsed("display interface brief", run(Comware(), session, "display interface brief"))
    bridge = {r["interface"]: r for r in rows if r["type"]}
    assert list(bridge) == ["GE1/0/1", "GE1/0/2", "GE1/0/3", "GE1/0/10", "GE1/0/25"]
    assert bridge["GE1/0/1"] | {} == {
        **bridge["GE1/0/1"],
        "link": "UP",
        "speed": "1G(a)",
        "duplex": "F(a)",
        "type": "A",
        "vlan_id": "10",
        "description": "oa1",
    }
    assert bridge["GE1/0/3"]["link"] == "ADM"
    assert bridge["GE1/0/10"]["link"] == "DOWN"
    assert bridge["GE1/0/25"]["type"] == "T"
    route = {r["interface"]: r for r in rows if not r["type"]}
    assert route["Vlan1"]["main_ip"] == "10.10.0.2"


def test_display_interface_parses_every_field_the_template_captures(session: Session) -> None:
    rows = parsed("display interface", run(Comware(), session, "display interface"))
    by_name = {r["interface"]: r for r in rows}
    assert list(by_name)[:5] == [f"GigabitEthernet1/0/{n}" for n in (1, 2, 3, 10, 25)]
    first = by_name["GigabitEthernet1/0/1"]
    assert first == {
        **first,
        "line_status": "UP",
        "protocol_status": "UP",
        "description": "oa1",
        "bandwidth": "1000000 kbps",
        "mtu": "1500",
        "l2mtu": "10000",
        "hw_address": ["5254-0020-0101"],
        "speed": "1000Mbps-speed",
        "duplex": "full-duplex",
        "port_link_type": "Access",
        "untagged_vlan_id": "10",
        "vlan_native": "10",
    }
    assert by_name["GigabitEthernet1/0/3"]["line_status"] == "Administratively DOWN"
    assert by_name["GigabitEthernet1/0/3"]["description"] == "GigabitEthernet1/0/3 Interface"
    assert by_name["GigabitEthernet1/0/10"]["line_status"] == "DOWN"
    assert by_name["GigabitEthernet1/0/25"]["vlan_passing"] == ["1(default vlan)", "10"]
    assert by_name["Vlan-interface1"]["ip_address"] == ["10.10.0.2/24"]


def test_display_interface_shows_the_error_counters(session: Session) -> None:
    out = run(Comware(), session, "display interface GigabitEthernet 1/0/10")
    assert out.startswith("GigabitEthernet1/0/10\nCurrent state: DOWN\n")
    assert " Input:  12 input errors, 0 runts, 0 giants, 0 throttles\n          7 CRC," in out
    assert " Output: 3 output errors," in out
    assert [r["interface"] for r in parsed("display interface", out)] == ["GigabitEthernet1/0/10"]


def test_display_ip_routing_table_parses(session: Session) -> None:
    rows = parsed("display ip routing-table", run(Comware(), session, "dis ip rout"))
    assert rows[0] == {
        "network": "0.0.0.0",
        "prefix_length": "0",
        "protocol": "Static",
        "distance": "60",
        "metric": "0",
        "nexthop_ip": "10.10.0.1",
        "nexthop_if": "Vlan1",
    }
    assert [r["network"] for r in rows] == ["0.0.0.0", "10.10.0.0"]


def test_display_lldp_neighbor_information_parses_as_list_and_verbose(session: Session) -> None:
    d = Comware()
    (listed,) = parsed(
        "display lldp neighbor-information list",
        run(d, session, "dis lldp neighbor-information list"),
    )
    assert listed == {
        "local_interface": "GE1/0/25",
        "chassis_id": "5254-0010-0003",
        "neighbor_interface": "GigabitEthernet0/0/3",
        "neighbor_name": "core-sw1",
    }
    verbose_text = run(d, session, "display lldp neighbor-information verbose")
    assert run(d, session, "display lldp neighbor-information") == verbose_text
    (verbose,) = parsed("display lldp neighbor-information verbose", verbose_text)
    assert verbose == {
        **verbose,
        "local_interface": "GigabitEthernet1/0/25",
        "chassis_id": "5254-0010-0003",
        "neighbor_interface": "GigabitEthernet0/0/3",
        "neighbor_name": "core-sw1",
        "mgmt_address": "10.10.0.1",
        "vlan_id": "1",
    }


def test_display_clock_version_manuinfo_and_vlans_parse(session: Session) -> None:
    d = Comware()
    clock = run(d, session, "display clock")
    assert parsed("display clock", clock) == [
        {
            "time": "06:00:00",
            "timezone": "UTC",
            "dayweek": "Tue",
            "month": "12",
            "day": "02",
            "year": "2025",
        }
    ]
    version = run(d, session, "display version")
    assert "H3C S5130S-28S-EI uptime is 0 weeks, 1 days, 1 hours, 1 minutes" in version
    (manu,) = parsed("display device manuinfo", run(d, session, "display device manuinfo"))
    assert manu["device_serial_number"] == "210235A1234567890"
    assert manu["device_name"] == "S5130S-28S-EI"
    vlans = parsed("display vlan brief", run(d, session, "display vlan brief"))
    assert [(v["vlan_id"], v["vlan_name"]) for v in vlans] == [
        ("1", "VLAN0001"),
        ("10", "VLAN0010"),
    ]


def test_ip_interface_brief_and_logbuffer(session: Session) -> None:
    d = Comware()
    out = run(d, session, "display ip interface brief")
    assert re.search(r"^Vlan1 +up +up +10\.10\.0\.2 +-- +mgmt$", out, re.M)
    log = run(d, session, "display logbuffer")
    assert "Current messages: 2\n" in log
    assert log.endswith(
        "%Dec  2 05:58:59:750 2025 acc-sw1 IFNET/3/PHY_UPDOWN: "
        "Physical state on the interface GigabitEthernet1/0/10 changed to down.\n"
        "%Dec  2 05:59:30:000 2025 acc-sw1 IFNET/4/INTERFACE_EVENT: GigabitEthernet1/0/3 odd\n"
    )
    assert not CLI_ERROR.search(log)


def test_interface_brief_cuts_long_descriptions_unless_asked_for_them(session: Session) -> None:
    d = Comware()
    text = "Link to the primary file server in room 2"
    run(d, session, "system-view", "interface GE1/0/1", f"description {text}", "return")
    short = parsed("display interface brief", run(d, session, "display interface brief"))
    full = parsed("display interface brief", run(d, session, "dis int brief desc"))
    assert [r["description"] for r in short if r["interface"] == "GE1/0/1"] == [text[:27]]
    assert [r["description"] for r in full if r["interface"] == "GE1/0/1"] == [text]
