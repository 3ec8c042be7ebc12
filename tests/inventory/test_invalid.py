"""Every malformed inventory gives InventoryError with file:line:col issues, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from respond.errors import InventoryError
from respond.inventory import load_inventory

INVALID = Path(__file__).resolve().parents[1] / "fixtures" / "inventory" / "invalid"

# file → (line, column, fragment of the message) of the first issue
CASES = {
    "yaml-syntax-error.yaml": (5, 1, "invalid YAML"),
    "group-is-list.yaml": (2, 3, "group 'webservers' must be a mapping"),
    "host-vars-not-mapping.yaml": (3, 11, "variables of host 'web1' must be a mapping"),
    "duplicate-host-var.yaml": (5, 7, "duplicate key 'ansible_host'"),
    "duplicate-group.yaml": (7, 1, "duplicate group 'web'"),
    "unknown-group-key.yaml": (2, 3, "did you mean 'hosts'?"),
    "hosts-is-list.yaml": (3, 5, "'hosts' of group 'web' must be a mapping"),
    "empty.yaml": (0, 0, "empty"),
    "top-level-list.yaml": (1, 1, "must be a mapping of group names"),
    "plugin-config.yaml": (1, 1, "inventory plugin configuration"),
    "numeric-host-name.yaml": (3, 5, "host name must be a string"),
    "group-cycle.yaml": (3, 5, "dependency loop"),
    "bad-host-range.yaml": (3, 5, "equal-length"),
    "bad-port.yaml": (3, 5, "ansible_port of host 'web1' must be a port number"),
    "bad-group-priority.yaml": (3, 5, "ansible_group_priority"),
    "alias-bomb.yaml": (7, 4, "aliases expand to too many values"),
    "ini-unknown-section-type.ini": (1, 1, "unknown type 'hosts2'"),
    "ini-section-with-space.ini": (1, 1, "invalid section header"),
    "ini-host-var-without-equals.ini": (2, 1, "expected key=value host variable"),
    "ini-group-var-without-equals.ini": (5, 1, "expected key=value"),
    "ini-undefined-child.ini": (6, 1, "includes undefined group 'db'"),
    "ini-vars-for-undefined-group.ini": (4, 1, "group 'db', which is not defined"),
    "ini-unclosed-quote.ini": (2, 1, "No closing quotation"),
    "ini-host-ends-with-colon.ini": (2, 1, "reserved for a port"),
    "ini-yaml-content.ini": (1, 1, "looks like a YAML file"),
    "ini-bad-child-name.ini": (5, 1, "expected a group name"),
    "ini-group-cycle.ini": (5, 1, "dependency loop"),
    "ini-not-utf8.ini": (2, 4, "not UTF-8"),
    "ini-several-errors.ini": (2, 1, "expected key=value host variable"),
    "group-vars-not-mapping/inventory.ini": (1, 1, "variables file must be a mapping"),
}


def test_every_fixture_has_a_case() -> None:
    files = {
        str(p.relative_to(INVALID))
        for p in INVALID.rglob("*")
        if p.is_file() and "group_vars" not in p.parts
    }
    assert files == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_inventory(name: str) -> None:
    line, col, fragment = CASES[name]
    with pytest.raises(InventoryError) as info:
        load_inventory(INVALID / name)
    err = info.value
    assert err.exit_code == 2
    assert err.issues, "an InventoryError always carries issues"
    first = err.issues[0]
    assert fragment in first.message
    assert first.location is not None
    if name.startswith("group-vars-not-mapping"):
        assert first.location.file.endswith("group_vars/web.yml")
    else:
        assert first.location.file == str(INVALID / name)
    assert (first.location.line, first.location.column) == (line, col)
    text = str(err)
    assert "Traceback" not in text
    expected = f"{first.location}: error: "
    assert text.startswith(expected)


def test_all_ini_errors_are_reported_at_once() -> None:
    with pytest.raises(InventoryError) as info:
        load_inventory(INVALID / "ini-several-errors.ini")
    lines = [(i.location.line if i.location else 0) for i in info.value.issues]
    assert lines == [2, 3, 5, 7]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="not found"):
        load_inventory(tmp_path / "nope.yaml")
    with pytest.raises(InventoryError, match="directory"):
        load_inventory(tmp_path)


def test_duplicate_key_inside_group_vars(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yaml"
    inv.write_text("web:\n  vars:\n    a: 1\n    a: 2\n  hosts:\n    w1:\n")
    with pytest.raises(InventoryError, match=r"hosts.yaml:4:5: error: duplicate key 'a'"):
        load_inventory(inv)


def test_bad_yaml_in_host_vars_file(tmp_path: Path) -> None:
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "w1.yml").write_text("a: [1\n")
    inv = tmp_path / "hosts.ini"
    inv.write_text("w1\n")
    with pytest.raises(InventoryError) as info:
        load_inventory(inv)
    assert "host_vars/w1.yml:2:1: error: invalid YAML" in str(info.value)
