"""Host patterns: syntax, operators, order, subscripts and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from respond.errors import InventoryError
from respond.inventory import Inventory, load_inventory
from respond.inventory.patterns import parse_pattern, split_pattern

INI = """\
loner
[web]
web1
web2
web3
[db]
db1
db2
[dc1:children]
web
[dc1]
db1
[lb]
lb.example.com
"""


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    path = tmp_path / "hosts.ini"
    path.write_text(INI)
    return load_inventory(path)


def names(inv: Inventory, pattern: str) -> list[str]:
    return [h.name for h in inv.select(pattern)]


# Ansible's order for all: hosts of all's children (ungrouped, db, dc1, lb: web is not a
# top-level group), then a level deeper (web, through dc1).
ALL = ["loner", "db1", "db2", "lb.example.com", "web1", "web2", "web3"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", ALL),
        ("*", ALL),
        ("ungrouped", ["loner"]),
        ("web", ["web1", "web2", "web3"]),
        ("web2", ["web2"]),
        ("dc1", ["db1", "web1", "web2", "web3"]),  # own hosts first, then children's
        ("web:db", ["web1", "web2", "web3", "db1", "db2"]),
        ("db,web", ["db1", "db2", "web1", "web2", "web3"]),
        ("db, web2 ,web1", ["db1", "db2", "web2", "web1"]),
        ("dc1:&db", ["db1"]),
        ("dc1:!web", ["db1"]),
        ("!web", ["loner", "db1", "db2", "lb.example.com"]),
        ("&db", ["db1", "db2"]),
        ("!web:db", ["db1", "db2"]),  # exclusions apply after every regular term
        ("web:!web2:db:&dc1", ["web1", "web3", "db1"]),
        ("web*", ["web1", "web2", "web3"]),
        ("w*2", ["web2"]),
        ("*.example.com", ["lb.example.com"]),
        ("~db[0-9]", ["db1", "db2"]),
        ("~(web|db)1", ["web1", "db1"]),
        ("web[0]", ["web1"]),
        ("web[-1]", ["web3"]),
        ("web[1:]", ["web2", "web3"]),
        ("web[0:1]", ["web1", "web2"]),
        ("web[1-2]", ["web2", "web3"]),
        ("web[5]", []),  # Ansible errors here; respond's contract is "no match"
        ("web[5:9]", []),
        ("nothing", []),
        ("nothing*", []),
        ("web:nothing", ["web1", "web2", "web3"]),
        ("localhost", []),  # no implicit localhost
    ],
)
def test_select(inv: Inventory, pattern: str, expected: list[str]) -> None:
    assert names(inv, pattern) == expected


def test_select_returns_hosts(inv: Inventory) -> None:
    hosts = inv.select("web[0]")
    assert hosts == [inv.hosts["web1"]]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty host pattern"),
        ("   ", "empty host pattern"),
        ("web:&", "'&' must be followed"),
        ("!", "'!' must be followed"),
        ("web:!!db", "doubled operator"),
        ("~web[", "unbalanced"),
        ("~web[,db", "invalid regular expression"),
        ("~(", "invalid regular expression"),
        ("web[1", "unbalanced"),
        ("web[0],db[1", "unbalanced"),
    ],
)
def test_bad_patterns_raise(inv: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(InventoryError, match="bad host pattern") as info:
        inv.select(pattern)
    assert message in str(info.value)
    assert info.value.issues


def test_split_like_ansible() -> None:
    assert split_pattern("a,b[1], c[2:3] , d") == ["a", "b[1]", "c[2:3]", "d"]
    assert split_pattern("a:b:!c:&d") == ["a", "b", "!c", "&d"]
    assert split_pattern("web[01:10].example.com") == ["web[01:10].example.com"]
    assert split_pattern("group[1:3]") == ["group[1:3]"]
    assert split_pattern("10.0.0.1:22") == ["10.0.0.1:22"]  # an address, not two terms
    assert split_pattern("a b") == ["a", "b"]


def test_terms_are_ordered_regular_intersection_exclusion() -> None:
    terms = parse_pattern("!x:&y:z")
    assert [(t.op, t.expr) for t in terms] == [("", "z"), ("&", "y"), ("!", "x")]
    assert [(t.op, t.expr) for t in parse_pattern("!x")] == [("", "all"), ("!", "x")]
    assert parse_pattern("g[2:]")[0].subscript == (2, -1)
    assert parse_pattern("~g[2]")[0].subscript is None  # regexes take no subscript


def test_groups_dict(inv: Inventory) -> None:
    groups = inv.groups_dict()
    assert groups["dc1"] == ["db1", "web1", "web2", "web3"]
    assert groups["ungrouped"] == ["loner"]
    assert groups["all"] == ALL
