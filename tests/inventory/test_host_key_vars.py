"""Inventory variables that would switch off host-key checking for playbooks are refused at
load time, each at its own file:line:col; the harmless forms load."""

from __future__ import annotations

from pathlib import Path

import pytest

from respond.errors import InventoryError
from respond.inventory import load_inventory

CONTROLS = "respond controls SSH host-key checking"

# variable: value → the message fragment after "sets <variable>: "
REFUSED = {
    "ansible_ssh_args": ("-o StrictHostKeyChecking=no", "would replace respond's ssh options"),
    "ansible_host_key_checking": ("false", "cannot be switched off"),
    "ansible_ssh_host_key_checking": ("no", "cannot be switched off"),
    "ansible_paramiko_host_key_checking": ("False", "cannot be switched off"),
    "ansible_connection": ("paramiko", "does not check host keys against respond's known_hosts"),
}


def _refused(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert info.value.exit_code == 2
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize("var", sorted(REFUSED))
def test_yaml_host_var_is_refused_at_its_line(tmp_path: Path, var: str) -> None:
    value, why = REFUSED[var]
    inv = tmp_path / "hosts.yaml"
    inv.write_text(
        f"web:\n  hosts:\n    w1:\n      ansible_host: 127.0.0.1\n      {var}: {value}\n"
    )
    (issue,) = _refused(inv)
    assert issue.startswith(f"{inv}:5:7: error: host w1 sets {var}: {CONTROLS}; ")
    assert why in issue


@pytest.mark.parametrize("var", sorted(REFUSED))
def test_ini_group_var_is_refused_at_its_line(tmp_path: Path, var: str) -> None:
    value, why = REFUSED[var]
    inv = tmp_path / "hosts.ini"
    inv.write_text(f"[web]\nw1\n\n[web:vars]\n{var}={value!r}\n")
    (issue,) = _refused(inv)
    assert issue.startswith(f"{inv}:5:1: error: group web sets {var}: {CONTROLS}; ")
    assert why in issue


def test_every_place_a_variable_can_come_from(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yaml"
    inv.write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_host_key_checking: false\n"
        "  hosts:\n"
        "    db[1:3]:\n"  # one report for the line, not one per host
        "      ansible_ssh_args: -o UserKnownHostsFile=/dev/null\n"
    )
    ini = tmp_path / "hosts.ini"
    ini.write_text("w1 ansible_connection=ansible.builtin.paramiko_ssh\n")
    assert _refused(inv) == [
        f"{inv}:3:5: error: group all sets ansible_host_key_checking: {CONTROLS}; it cannot be "
        "switched off (remove ansible_host_key_checking or set it to true)",
        f"{inv}:6:7: error: host db1 sets ansible_ssh_args: {CONTROLS}; ansible_ssh_args would "
        "replace respond's ssh options (put other ssh options in ansible_ssh_common_args)",
    ]
    (issue,) = _refused(ini)
    assert issue.startswith(f"{ini}:1:1: error: host w1 sets ansible_connection: {CONTROLS}")


def test_group_vars_and_host_vars_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inv = tmp_path / "hosts.yaml"
    inv.write_text("web:\n  hosts:\n    w1:\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text("a: 1\nansible_ssh_args: -C\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "w1.yaml").write_text("ansible_ssh_host_key_checking: off\n")
    issues = _refused(inv)
    assert issues == [
        f"group_vars/web.yml:2:1: error: group web sets ansible_ssh_args: {CONTROLS}; "
        "ansible_ssh_args would replace respond's ssh options "
        "(put other ssh options in ansible_ssh_common_args)",
        f"host_vars/w1.yaml:1:1: error: host w1 sets ansible_ssh_host_key_checking: "
        f"{CONTROLS}; it cannot be switched off "
        "(remove ansible_ssh_host_key_checking or set it to true)",
    ]


def test_what_keeps_checking_on_loads(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yaml"
    inv.write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_host_key_checking: true\n"
        "    ansible_ssh_host_key_checking: 'yes'\n"
        # after respond's options on the ssh command line: OpenSSH keeps the first value
        "    ansible_ssh_common_args: -o StrictHostKeyChecking=no\n"
        "    ansible_ssh_extra_args: -o UserKnownHostsFile=/dev/null\n"
        "  hosts:\n"
        "    localhost: {ansible_connection: local}\n"
        "    s1: {ansible_connection: ssh}\n"
        # a switch for netmiko steps; a playbook step refuses it (see the executor)
        "    sw1: {ansible_connection: ansible.netcommon.network_cli}\n"
    )
    assert len(load_inventory(inv)) == 3
