"""INI specifics: value parsing, host lines, sections declared late, ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from respond.inventory import load_inventory
from respond.inventory._addresses import AddressError, expand_host_pattern, expand_range
from respond.inventory._ini import parse_value

EDGE = Path(__file__).resolve().parents[1] / "fixtures" / "inventory" / "valid" / "edge-ini"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("1.5", 1.5),
        ("0x1F", 31),
        ("True", True),
        ("False", False),
        ("None", None),
        ("yes", "yes"),  # not YAML: only Python literals convert
        ("FALSE", "FALSE"),
        ("0755", "0755"),  # not a valid Python literal: stays a string
        ("", ""),
        ("[1, 2, 'x']", [1, 2, "x"]),
        ("(1, 2)", [1, 2]),  # tuples become lists
        ("{'k': (1,)}", {"k": [1]}),
        ("'quoted'", "quoted"),
        ('"a b"', "a b"),
        ("1j", "1j"),  # complex numbers stay text
        ("...", "..."),
        ("b'x'", "x"),
        ("/opt/app", "/opt/app"),
        ("{{ lookup('env', 'X') }}", "{{ lookup('env', 'X') }}"),
        ("1 # comment", 1),  # [g:vars] keeps the rest of the line; literal_eval drops it
    ],
)
def test_parse_value(text: str, value: object) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_edge_file() -> None:
    inv = load_inventory(EDGE / "hosts.ini")
    web1 = inv.hosts["web1"]
    assert web1.port == 2222
    assert web1.vars["flag"] is True
    assert web1.vars["num"] == 42
    assert web1.vars["lst"] == [1, 2, "x"]
    assert web1.vars["dct"] == {"k": "v"}
    assert web1.vars["none"] is None
    web2 = inv.hosts["web2"]
    assert web2.vars["quoted"] == "hello world"
    assert web2.vars["single"] == "it works"
    assert "trailing" not in web2.vars
    web3 = inv.hosts["web3"]
    assert web3.vars["empty"] == ""
    assert web3.vars["octal"] == "0755"
    assert web3.vars["hexa"] == 31
    assert inv.hosts["10.0.0.5"].port == 2200
    assert inv.hosts["2001:db8::1"].port == 2201
    assert inv.hosts["2001:db8::1"].address == "2001:db8::1"
    assert inv.hosts["web4"].vars["tup"] == [1, 2]
    assert inv.hosts["late1"].port == 2022
    assert (
        inv.groups["web"].vars["motd"]
        == 'welcome to "the" room # not stripped: this is part of the value'
    )
    # `late` is declared after [edge:children], so (as in Ansible) it is linked when its own
    # section appears, after `web`
    assert inv.groups["edge"].children == ("web", "late")
    assert inv.groups["parent"].children == ("edge",)
    assert inv.groups["late"].vars["late_var"] == "from late"
    assert inv.hosts["indented.example.com"].groups == ("all", "ungrouped")


def test_group_precedence_in_edge_file() -> None:
    inv = load_inventory(EDGE / "hosts.ini")
    assert inv.groups["web"].depth == 3  # all > parent > edge > web
    assert inv.groups["parent"].depth == 1
    # [web:vars] http_port=8080 is deeper than [parent:vars] http_port=9090, so it wins
    assert inv.hosts["web1"].vars["http_port"] == 8080
    assert inv.hosts["web2"].vars["http_port"] == 8080
    assert inv.hosts["late1"].vars["http_port"] == 9090  # late is under edge, not web


def test_host_port_only_on_first_sight(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[a]\nh1:2201\n[b]\nh1:2202\n")
    assert load_inventory(path).hosts["h1"].port == 2201  # as Ansible does


def test_children_declared_before_groups(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n[mid]\n")
    inv = load_inventory(path)
    assert inv.groups["top"].children == ("mid",)
    assert inv.groups["mid"].children == ("leaf",)
    assert inv.hosts["h1"].groups == ("all", "leaf", "mid", "top")


def test_no_extension_is_sniffed(tmp_path: Path) -> None:
    ini = tmp_path / "hosts"
    ini.write_text("[web]\nweb1\n")
    assert list(load_inventory(ini).groups["web"].hosts) == ["web1"]
    yml = tmp_path / "inventory"
    yml.write_text("web:\n  hosts:\n    web1:\n")
    assert list(load_inventory(yml).groups["web"].hosts) == ["web1"]


def test_json_inventory(tmp_path: Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text('{"web": {"hosts": {"web1": {"ansible_port": 2022}}}}')
    assert load_inventory(path).hosts["web1"].port == 2022


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web[1:3]", ["web1", "web2", "web3"]),
        ("web[01:03].example.com", ["web01.example.com", "web02.example.com", "web03.example.com"]),
        ("web[01:10:4]", ["web01", "web05", "web09"]),
        ("db-[a:c]-node", ["db-a-node", "db-b-node", "db-c-node"]),
        ("r[1:2]u[a:b]", ["r1ua", "r1ub", "r2ua", "r2ub"]),
        ("w[:2]", ["w0", "w1", "w2"]),
        ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    ],
)
def test_ranges(pattern: str, expected: list[str]) -> None:
    assert expand_range(pattern) == expected


@pytest.mark.parametrize(
    ("entry", "names", "port"),
    [
        ("web1:2222", ["web1"], 2222),
        ("web[1:2]:2222", ["web1", "web2"], 2222),
        ("[::1]:22", ["::1"], 22),
        ("fe80::1", ["fe80::1"], None),
        ("10.1.1.1", ["10.1.1.1"], None),
    ],
)
def test_host_entries(entry: str, names: list[str], port: int | None) -> None:
    assert expand_host_pattern(entry) == (names, port)


@pytest.mark.parametrize(
    "bad", ["w[1:x]", "w[01:9]", "w[b:a]", "w[1]", "w[1:]", "w[1:3:0]", "w[0:999999999]"]
)
def test_bad_ranges(bad: str) -> None:
    with pytest.raises(AddressError):
        expand_range(bad)
