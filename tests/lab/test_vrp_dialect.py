"""The Huawei VRP dialect without sockets: a stand-in switch, a Session, one line at a time.

Every ``display`` output that ntc-templates has a ``huawei_vrp`` template for is parsed with
it here, so a layout change that breaks the templates (and with them facts) fails a test.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import pytest
from ntc_templates.parse import parse_output
from standin import gigabit_port

from respond.executors.netmiko import CLI_ERROR
from respond.lab.netdev import load_dialect
from respond.lab.netdev.device import NeighborView, PortView, RouteView, SviView
from respond.lab.netdev.session import Engine, Session
from respond.lab.netdev.vrp import VRP
from respond.lab.netdev.vrp_text import vlan_ranges

NOW = 1_796_000_000.0  # 2026-11-30 00:53:20 UTC, a Monday
PROMPT = "<core-sw1>"


def _port(n: int, **changes: object) -> PortView:
    port = gigabit_port("0/0/", n, last_change=NOW - 3600)
    return dataclasses.replace(port, **changes)  # type: ignore[arg-type]


def _ports() -> list[PortView]:
    return [
        _port(1, oper_up=True, description="UPLINK-PRIMARY", vlan="routed"),
        _port(2, admin_up=False, description="UPLINK-BACKUP", vlan="routed"),
        _port(
            3,
            oper_up=True,
            description="TRUNK acc-sw1",
            vlan="trunk",
            crc=1287,
            in_errors=1430,
            out_errors=2,
        ),
        _port(4, oper_up=True, description="TRUNK acc-sw2", vlan="trunk"),
        _port(5, vlan="11"),
    ]


@dataclass
class StandInSwitch:
    """Just enough of the lab's Device for the dialect: a few ports, neighbours, routes."""

    ports_: list[PortView] = field(default_factory=_ports)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    saved: float | None = None
    saved_ports_: list[PortView] = field(default_factory=_ports)

    name = "core-sw1"
    vendor = "Huawei"
    dialect = "vrp"
    model = "S5735-S24T4X"
    version = "V200R021C10SPC600"
    serial = "2102351234567890"
    mgmt_ip = "10.10.0.1"
    uptime_s = 12 * 86400 + 5 * 3600 + 3 * 60
    password = "secret-pw"

    def now(self) -> float:
        return NOW

    def ports(self) -> list[PortView]:
        return list(self.ports_)

    def port(self, name: str) -> PortView | None:
        number = re.search(r"(\d+/\d+/\d+)$", name)
        kind = name[: number.start()].lower() if number else ""
        if not number or not ("gigabitethernet".startswith(kind) or kind == "ge") or not kind:
            return None
        return next((p for p in self.ports_ if p.name.endswith(number.group(1))), None)

    def neighbors(self) -> list[NeighborView]:
        return [
            NeighborView("GigabitEthernet0/0/1", "wan-rtr1", "GigabitEthernet0/0",
                         "Cisco ISR4331", "10.0.0.1", "52:54:00:40:00:07", "router"),
            NeighborView("GigabitEthernet0/0/3", "acc-sw1", "GigabitEthernet1/0/25",
                         "S5130S-28S-EI", "10.10.0.2", "52:54:00:30:00:2a", "bridge"),
        ]  # fmt: skip

    def routes(self) -> list[RouteView]:
        return [
            RouteView("0.0.0.0", 0, "10.0.0.1", "GigabitEthernet0/0/1", "static", 1, 0),
            RouteView("10.0.0.0", 30, "0.0.0.0", "GigabitEthernet0/0/1", "direct", 0, 0),
            RouteView("10.10.0.0", 24, "0.0.0.0", "Vlan10", "direct", 0, 0),
        ]

    def static_routes(self) -> list[RouteView]:
        return [
            RouteView("0.0.0.0", 0, "10.0.0.1", "GigabitEthernet0/0/1", "static", 1, 0),
            RouteView("0.0.0.0", 0, "10.0.0.5", "GigabitEthernet0/0/2", "static", 10, 0),
        ]

    def svis(self) -> list[SviView]:
        return [SviView(10, "10.10.0.1", "255.255.255.0", "MGMT"),
                SviView(11, "10.10.1.1", "255.255.255.0", "CORE-SERVERS")]  # fmt: skip

    def port_address(self, port: str) -> tuple[str, str] | None:
        table = {"GigabitEthernet0/0/1": ("10.0.0.2", "255.255.255.252"),
                 "GigabitEthernet0/0/2": ("10.0.0.6", "255.255.255.252")}  # fmt: skip
        return table.get(port)

    def set_admin(self, port: str, up: bool) -> None:
        self.calls.append(("set_admin", port, str(up)))
        self._change(port, admin_up=up)

    def set_description(self, port: str, text: str) -> None:
        self.calls.append(("set_description", port, text))
        self._change(port, description=text)

    def _change(self, port: str, **changes: object) -> None:
        self.ports_ = [dataclasses.replace(p, **changes) if p.name == port else p  # type: ignore[arg-type]
                       for p in self.ports_]  # fmt: skip

    def save(self) -> None:
        self.calls.append(("save",))
        self.saved = NOW
        self.saved_ports_ = list(self.ports_)

    def saved_at(self) -> float | None:
        return self.saved

    def saved_ports(self) -> list[PortView]:
        return list(self.saved_ports_)

    def log(self) -> list[tuple[float, str]]:
        return [(NOW - 60, "GigabitEthernet0/0/2 administratively down"),
                (NOW - 30, "GigabitEthernet0/0/1 up")]  # fmt: skip


class Terminal:
    """Types lines into a VRP session the way the engine does: output, then the prompt."""

    def __init__(self) -> None:
        self.device = StandInSwitch()
        self.session = Session(device=self.device)
        self.dialect = VRP()

    @property
    def prompt(self) -> str:
        return self.dialect.prompt(self.session)

    def type(self, line: str) -> str:
        return self.dialect.handle(self.session, line)


@pytest.fixture
def term() -> Terminal:
    return Terminal()


def _parse(command: str, output: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = parse_output(
        platform="huawei_vrp", command=command, data=output
    )
    return rows


# ---------------------------------------------------------------------- views and prompts


def test_the_registry_loads_the_vrp_dialect() -> None:
    dialect = load_dialect("vrp")
    assert isinstance(dialect, VRP)
    assert (dialect.name, dialect.more_prompt) == ("vrp", "  ---- More ----")


def test_views_change_the_prompt_and_quit_climbs_one_view_at_a_time(term: Terminal) -> None:
    assert term.prompt == PROMPT
    assert term.type("system-view") == "Enter system view, return user view with Ctrl+Z.\n"
    assert term.prompt == "[core-sw1]"
    assert term.type("interface GigabitEthernet0/0/1") == ""
    assert term.prompt == "[core-sw1-GigabitEthernet0/0/1]"
    assert term.type("interface GE0/0/2") == ""  # straight from one interface to the next
    assert term.prompt == "[core-sw1-GigabitEthernet0/0/2]"
    term.type("quit")
    assert term.prompt == "[core-sw1]"
    term.type("quit")
    assert term.prompt == PROMPT
    assert not term.session.closed
    term.type("quit")
    assert term.session.closed


def test_return_goes_to_the_user_view_from_anywhere(term: Terminal) -> None:
    for line in ("system-view", "interface g0/0/3", "return"):
        term.type(line)
    assert term.prompt == PROMPT
    assert term.session.context.get("interface") is None


class Channel:
    """Keys in, everything the engine writes kept (the client leaves after the last key)."""

    def __init__(self, keys: bytes) -> None:
        self.keys = [keys, b""]
        self.sent = b""

    def recv(self, nbytes: int) -> bytes:
        return self.keys.pop(0)

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        pass


def test_ctrl_z_returns_to_the_user_view_through_the_session_engine(term: Terminal) -> None:
    channel = Channel(b"system-view\rinterface GE0/0/5\r\x1a")
    Engine(channel, term.session, term.dialect).run()
    sent = channel.sent.decode()
    assert sent.endswith("[core-sw1-GigabitEthernet0/0/5]\r\n<core-sw1>")
    assert "Error" not in sent
    assert term.session.mode == "user"


def test_the_banner_has_no_prompt_characters_netmiko_would_stop_at(term: Terminal) -> None:
    banner = term.dialect.banner(term.session)
    assert "The current login time is 2026-11-30 00:53:20." in banner
    assert not re.search(r"[\]>]", banner)


# ---------------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("dis int br", "display interface brief"),
        ("di cu", "display current-configuration"),
        ("dis ip rout verb", "display ip routing-table verbose"),
        ("dis lldp nei", "display lldp neighbor"),
        ("dis int GigabitEthernet 0/0/3", "display interface GigabitEthernet0/0/3"),
        ("DIS VER", "display version"),
    ],
)
def test_keywords_may_be_abbreviated_to_a_unique_prefix(
    term: Terminal, short: str, full: str
) -> None:
    assert term.type(short) == term.type(full)


def test_configuration_words_may_be_abbreviated(term: Terminal) -> None:
    for line in ("sys", "int gig 0/0/4", "shut", "desc spare trunk", "undo shut", "undo desc"):
        term.type(line)
    assert term.device.calls == [
        ("set_admin", "GigabitEthernet0/0/4", "False"),
        ("set_description", "GigabitEthernet0/0/4", "spare trunk"),
        ("set_admin", "GigabitEthernet0/0/4", "True"),
        ("set_description", "GigabitEthernet0/0/4", ""),
    ]


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("line", "column", "kind"),
    [
        ("dis foo", 4, "Unrecognized command"),
        ("frobnicate", 0, "Unrecognized command"),
        ("display", 0, "Incomplete command"),
        ("display ip", 8, "Incomplete command"),
        ("dis i", 4, "Ambiguous command"),
        ("display version now", 16, "Too many parameters"),
        ("display interface GigabitEthernet0/0/99", 18, "Wrong parameter"),
        ("display interface Bogus0/0/1", 18, "Unrecognized command"),
        ("screen-length many temporary", 14, "Wrong parameter"),
        ("shutdown", 0, "Unrecognized command"),  # not in the user view
        ("dis cur | grep x", 10, "Unrecognized command"),
        ("dis cur | include", 10, "Incomplete command"),
        ("dis cur |", 8, "Incomplete command"),
    ],
)
def test_bad_input_gets_vrps_error_with_the_caret_under_the_word(
    term: Terminal, line: str, column: int, kind: str
) -> None:
    output = term.type(line)
    caret_line, message = output.rstrip("\n").split("\n")
    assert message == f"Error: {kind} found at '^' position."
    assert caret_line == " " * (len(PROMPT) + column) + "^"
    assert CLI_ERROR.search(output), "respond's netmiko executor must see the refusal"


def test_a_missing_interface_in_system_view_is_a_wrong_parameter(term: Terminal) -> None:
    term.type("system-view")
    output = term.type("interface GE0/0/77")
    assert output.endswith("Error: Wrong parameter found at '^' position.\n")
    assert output.index("^") == len("[core-sw1]") + len("interface ")
    assert term.prompt == "[core-sw1]"


def test_the_lab_device_name_cannot_be_changed(term: Terminal) -> None:
    term.type("system-view")
    assert term.type("sysname other").startswith("Error: The device name is fixed")
    assert CLI_ERROR.search(term.type("sysname other"))
    assert term.type("sysname core-sw1") == ""  # naming it what it is changes nothing


def test_a_description_keeps_its_text_as_typed(term: Terminal) -> None:
    for line in ("system-view", "interface GE0/0/5", "description  printer | floor 2 "):
        term.type(line)
    assert term.device.calls == [("set_description", "GigabitEthernet0/0/5", "printer | floor 2")]


def test_a_description_longer_than_vrp_allows_is_refused(term: Terminal) -> None:
    for line in ("system-view", "interface GE0/0/5"):
        term.type(line)
    output = term.type("description " + "x" * 243)
    assert output.endswith("Error: Wrong parameter found at '^' position.\n")
    assert term.device.calls == []


# ---------------------------------------------------------------------- paging and save


def test_screen_length_0_temporary_turns_paging_off(term: Terminal) -> None:
    assert term.session.paging
    output = term.type("screen-length 0 temporary")
    assert (
        output
        == "Info: The configuration takes effect on the current user terminal interface only.\n"
    )
    assert not term.session.paging
    term.type("screen-length 30 temporary")
    assert term.session.paging
    assert term.session.height == 31


def test_save_asks_before_it_saves_and_only_yes_saves(term: Terminal) -> None:
    question = term.type("save")
    assert question == (
        "Warning: The current configuration will be written to the device. Continue? [Y/N]:"
    )
    assert re.search(r"[Cc]ontinue\?", question)  # what netmiko's huawei save_config waits for
    assert term.prompt == ""  # the question is the prompt
    assert term.type("n") == ""
    assert term.device.calls == []
    assert term.prompt == PROMPT
    term.type("system-view")
    term.type("save")
    assert term.type("y") == (
        "Now saving the current configuration to the slot 0.\n"
        "Info: Save the configuration successfully.\n"
    )
    assert term.device.calls == [("save",)]
    assert term.prompt == "[core-sw1]"


# ---------------------------------------------------------------------- configuration


def _block(config: str, header: str) -> list[str]:
    for block in config.split("\n#\n"):
        if block.startswith(header + "\n") or block == header:
            return block.split("\n")
    raise AssertionError(f"no block {header!r} in:\n{config}")


def test_the_configuration_is_vrp_syntax_and_follows_the_live_state(term: Terminal) -> None:
    config = term.type("display current-configuration")
    assert config.startswith("!Software Version V200R021C10SPC600\n#\nsysname core-sw1\n#\n")
    assert "\n#\nvlan batch 10 to 11\n#\n" in config
    # both configured defaults, whichever uplink is up (the backup one floats above it)
    assert (
        "\n#\nip route-static 0.0.0.0 0.0.0.0 10.0.0.1\n"
        "ip route-static 0.0.0.0 0.0.0.0 10.0.0.5 preference 70\n#\n"
    ) in config
    assert config.endswith("\n#\nreturn\n")
    assert _block(config, "interface GigabitEthernet0/0/1") == [
        "interface GigabitEthernet0/0/1",
        " description UPLINK-PRIMARY",
        " undo portswitch",
        " ip address 10.0.0.2 255.255.255.252",
    ]
    assert " shutdown" in _block(config, "interface GigabitEthernet0/0/2")
    assert _block(config, "interface Vlanif10")[1:] == [
        " description MGMT",
        " ip address 10.10.0.1 255.255.255.0",
    ]
    for line in ("system-view", "interface GE0/0/1", "shutdown"):
        term.type(line)
    assert " shutdown" in _block(
        term.type("display current-configuration"), "interface GigabitEthernet0/0/1"
    )
    assert term.type("display this") == (
        "#\ninterface GigabitEthernet0/0/1\n description UPLINK-PRIMARY\n shutdown\n"
        " undo portswitch\n ip address 10.0.0.2 255.255.255.252\n#\nreturn\n"
    )
    term.type("undo shutdown")
    assert " shutdown" not in _block(
        term.type("display current-configuration"), "interface GigabitEthernet0/0/1"
    )


def test_one_interface_of_the_configuration(term: Terminal) -> None:
    assert term.type("display current-configuration interface GE0/0/3") == (
        "#\ninterface GigabitEthernet0/0/3\n description TRUNK acc-sw1\n port link-type trunk\n"
        " undo port trunk allow-pass vlan 1\n port trunk allow-pass vlan 10 to 11\n#\nreturn\n"
    )
    assert term.type("dis cur int GE0/0/5") == (
        "#\ninterface GigabitEthernet0/0/5\n port link-type access\n port default vlan 11\n#\nreturn\n"
    )
    term.type("system-view")
    assert term.type("display this") == term.type("display current-configuration")


def test_vlan_batch_lists_runs_of_vlans() -> None:
    assert vlan_ranges([20, 10, 11, 12, 30, 31]) == "10 to 12 20 30 to 31"
    assert vlan_ranges([]) == ""


def test_an_output_filter_keeps_the_matching_lines(term: Terminal) -> None:
    assert term.type("display current-configuration | include sysname") == "sysname core-sw1\n"
    begun = term.type("dis cur | begin ip route-static")
    assert begun.startswith("ip route-static 0.0.0.0 0.0.0.0 10.0.0.1\n")
    assert "sysname" not in term.type("dis cur | exclude sysname")


def test_the_saved_configuration_changes_only_on_save(term: Terminal) -> None:
    assert term.type("display saved-configuration") == term.type("display current-configuration")
    for line in ("system-view", "interface GE0/0/4", "shutdown", "return"):
        term.type(line)
    saved = term.type("display saved-configuration")
    assert " shutdown" not in _block(saved, "interface GigabitEthernet0/0/4")
    term.type("save")
    term.type("y")
    assert term.type("display saved-configuration") == term.type("display current-configuration")


# ---------------------------------------------------------------------- ntc-templates


def test_display_interface_brief_parses(term: Terminal) -> None:
    rows = {
        r["interface"]: r
        for r in _parse("display interface brief", term.type("display interface brief"))
    }
    assert list(rows)[:5] == [f"GigabitEthernet0/0/{n}" for n in range(1, 6)]
    assert (rows["GigabitEthernet0/0/1"]["phy"], rows["GigabitEthernet0/0/1"]["protocol"]) == (
        "up",
        "up",
    )
    assert rows["GigabitEthernet0/0/2"]["phy"] == "*down"
    assert rows["GigabitEthernet0/0/5"]["phy"] == "down"
    assert (
        rows["GigabitEthernet0/0/3"]["inerrors"],
        rows["GigabitEthernet0/0/3"]["outerrors"],
    ) == ("1430", "2")
    assert rows["Vlanif10"]["protocol"] == "up"
    assert rows["NULL0"]["protocol"] == "up(s)"


def test_display_interface_parses_with_every_field_a_switch_port_has(term: Terminal) -> None:
    output = term.type("display interface")
    rows = {r["interface"]: r for r in _parse("display interface", output)}
    uplink = rows["GigabitEthernet0/0/1"]
    assert {k: uplink[k] for k in ("link_status", "protocol_status", "interface_description", "port_type",
                                    "ip_address", "mtu", "speed", "duplex", "negotiation", "loopback",
                                    "mac_address", "port_mode")} == {
        "link_status": "UP", "protocol_status": "UP", "interface_description": "UPLINK-PRIMARY",
        "port_type": "Route", "ip_address": "10.0.0.2/30", "mtu": "1500", "speed": "1000",
        "duplex": "FULL", "negotiation": "ENABLE", "loopback": "NONE",
        "mac_address": "5254-0020-0101", "port_mode": "COMMON COPPER",
    }  # fmt: skip
    assert uplink["last_physical_up_time"] == "2026-11-29 23:53:20"
    assert uplink["current_system_time"] == "2026-11-30 00:53:20"
    trunk = rows["GigabitEthernet0/0/3"]
    assert (trunk["port_type"], trunk["link_type"], trunk["vlan_id"], trunk["mtu"]) == (
        "Switch",
        "trunk(configured)",
        "1",
        "9216",
    )
    assert rows["GigabitEthernet0/0/2"]["link_status"] == "Administratively DOWN"
    assert rows["GigabitEthernet0/0/5"]["vlan_id"] == "11"
    assert rows["Vlanif10"]["ip_address"] == "10.10.0.1/24"
    assert (
        rows["Vlanif10"]["last_line_protocol_uptime"] == "2026-11-29 23:53:20"
    )  # its trunks' time
    # the error counters are in the text (the template leaves them to the reader)
    block = output[
        output.index("GigabitEthernet0/0/3 current") : output.index("GigabitEthernet0/0/4 current")
    ]
    assert re.search(r"^  CRC:\s+1287,", block, re.M)
    assert re.search(r"^  Total Error:\s+1430$", block, re.M)
    assert re.search(r"^  Total Error:\s+2$", block, re.M)


def test_display_interface_of_one_interface_shows_only_it(term: Terminal) -> None:
    rows = _parse("display interface", term.type("display interface GE0/0/3"))
    assert [r["interface"] for r in rows] == ["GigabitEthernet0/0/3"]
    rows = _parse("display interface", term.type("display interface Vlanif10"))
    assert [r["interface"] for r in rows] == ["Vlanif10"]


def test_display_interface_description_parses(term: Terminal) -> None:
    output = term.type("display interface description")
    rows = {r["interface"]: r for r in _parse("display interface description", output)}
    assert rows["GE0/0/1"]["description"] == "UPLINK-PRIMARY"
    assert (rows["GE0/0/2"]["phy"], rows["GE0/0/2"]["description"]) == ("*down", "UPLINK-BACKUP")
    assert rows["GE0/0/5"]["description"] == ""
    assert rows["Vlanif11"]["description"] == "CORE-SERVERS"


def test_display_ip_routing_table_verbose_parses(term: Terminal) -> None:
    output = term.type("display ip routing-table verbose")
    rows = {r["destination"]: r for r in _parse("display ip routing-table verbose", output)}
    default = rows["0.0.0.0/0"]
    assert (
        default["protocol"],
        default["next_hop"],
        default["interface"],
        default["preference"],
    ) == ("Static", "10.0.0.1", "GigabitEthernet0/0/1", "60")
    assert (default["flags"], default["state"].strip()) == ("RD", "Active Adv")
    assert rows["10.10.0.0/24"]["interface"] == "Vlanif10"  # the lab's Vlan10 is VRP's Vlanif10
    assert rows["10.10.0.0/24"]["next_hop"] == "10.10.0.1"
    assert rows["10.0.0.0/30"]["next_hop"] == "10.0.0.2"


def test_display_ip_routing_table_lists_each_route_on_one_line(term: Terminal) -> None:
    output = term.type("display ip routing-table")
    assert re.search(
        r"^\s+0\.0\.0\.0/0\s+Static\s+60\s+0\s+RD\s+10\.0\.0\.1\s+GigabitEthernet0/0/1$",
        output,
        re.M,
    )
    assert re.search(
        r"^\s+10\.10\.0\.0/24\s+Direct\s+0\s+0\s+D\s+10\.10\.0\.1\s+Vlanif10$", output, re.M
    )
    assert "Destinations : 7" in output


def test_display_lldp_neighbor_parses(term: Terminal) -> None:
    rows = _parse("display lldp neighbor", term.type("display lldp neighbor"))
    assert [
        (
            r["local_interface"],
            r["neighbor_name"],
            r["neighbor_port_id"],
            r["mgmt_address"],
            r["chassis_id"],
        )
        for r in rows
    ] == [
        ("GigabitEthernet0/0/1", "wan-rtr1", "GigabitEthernet0/0", "10.0.0.1", "5254-0040-0007"),
        ("GigabitEthernet0/0/3", "acc-sw1", "GigabitEthernet1/0/25", "10.10.0.2", "5254-0030-002a"),
    ]
    assert rows[0]["neighbor_description"] == ["Cisco ISR4331"]
    assert rows[1]["capabilities"] == "bridge"


def test_display_lldp_neighbor_brief_has_one_line_per_neighbour(term: Terminal) -> None:
    lines = term.type("display lldp neighbor brief").splitlines()
    assert lines[0].split() == [
        "Local",
        "Intf",
        "Neighbor",
        "Dev",
        "Neighbor",
        "Intf",
        "Exptime(s)",
    ]
    assert [line.split() for line in lines[1:]] == [
        ["GE0/0/1", "wan-rtr1", "GigabitEthernet0/0", "104"],
        ["GE0/0/3", "acc-sw1", "GigabitEthernet1/0/25", "104"],
    ]


def test_display_version_parses(term: Terminal) -> None:
    (row,) = _parse("display version", term.type("display version"))
    assert row["vrp_version"] == "5.170"
    assert row["product_version"] == "S5735 V200R021C10SPC600"
    assert str(row["model"]).startswith("S5735-S24T4X")
    assert row["uptime"] == "1 week, 5 day, 5 hour, 3 minute"


def test_display_vlan_parses(term: Terminal) -> None:
    rows = {r["vlan_id"]: r for r in _parse("display vlan", term.type("display vlan"))}
    assert sorted(rows, key=int) == ["1", "10", "11"]
    assert rows["10"]["vlan_name"] == "MGMT" or rows["10"].get("vlan_description") == "MGMT"
    assert "GE0/0/3" in rows["10"]["interface"]
    assert "GE0/0/5" in rows["11"]["interface"]


def test_display_clock_and_logbuffer(term: Terminal) -> None:
    assert (
        term.type("display clock")
        == "2026-11-30 00:53:20\nMonday\nTime Zone(DefaultZoneName) : UTC\n"
    )
    log = term.type("display logbuffer")
    assert "Current messages : 2" in log
    newest, oldest = log.rstrip("\n").split("\n")[-2:]
    assert newest.endswith("Interface GigabitEthernet0/0/1 has turned into UP state.")
    assert oldest.endswith("Interface GigabitEthernet0/0/2 has turned into DOWN state.")


def test_display_ip_interface_brief_lists_the_addressed_interfaces(term: Terminal) -> None:
    output = term.type("display ip interface brief")
    table = {line.split()[0]: line.split()[1:] for line in output.split("\n\n")[1].splitlines()[1:]}
    assert table == {
        "GigabitEthernet0/0/1": ["10.0.0.2/30", "up", "up"],
        "GigabitEthernet0/0/2": ["10.0.0.6/30", "*down", "down"],
        "NULL0": ["unassigned", "up", "up(s)"],
        "Vlanif10": ["10.10.0.1/24", "up", "up"],
        "Vlanif11": ["10.10.1.1/24", "up", "up"],  # carried by the trunks that are up
    }
