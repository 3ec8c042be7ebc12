"""Host properties, precedence, snapshots, variable names, examples, speed, import cost."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from respond.inventory import (
    MAGIC_VARIABLES,
    Host,
    Inventory,
    VaultedValue,
    is_secret_name,
    load_inventory,
)

REPO = Path(__file__).resolve().parents[2]
VALID = REPO / "tests" / "fixtures" / "inventory" / "valid"
EXAMPLES = REPO / "inventory"


def _load(tmp_path: Path, text: str, name: str = "hosts.yaml") -> Inventory:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_inventory(path)


def test_connection_properties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYS", "/srv/keys")
    monkeypatch.setenv("HOME", "/home/oncall")
    inv = _load(
        tmp_path,
        """
sw:
  vars: {ansible_network_os: ios, ansible_connection: network_cli}
  hosts:
    core-sw1:
      ansible_host: 10.0.0.2
      ansible_user: netops
      ansible_password: s3cret
      ansible_become_pass: en4ble
srv:
  hosts:
    a: {ansible_ssh_port: "2022", ansible_ssh_user: root, ansible_ssh_pass: pw,
        ansible_ssh_private_key_file: keys/id_ed25519}
    b: {ansible_port: 2200, ansible_ssh_port: 2300, ansible_private_key_file: ~/.ssh/k}
    c: {ansible_ssh_private_key_file: $KEYS/c.key, ansible_become_password: x}
    d:
""",
    )
    sw = inv.hosts["core-sw1"]
    assert (sw.address, sw.port, sw.user, sw.password) == ("10.0.0.2", 22, "netops", "s3cret")
    assert (sw.network_os, sw.connection, sw.become_password) == ("ios", "network_cli", "en4ble")
    a = inv.hosts["a"]
    assert (a.address, a.port, a.user, a.password) == ("a", 2022, "root", "pw")
    assert a.key_file == tmp_path.resolve() / "keys" / "id_ed25519"
    b = inv.hosts["b"]
    assert b.port == 2200  # ansible_port wins over ansible_ssh_port
    assert b.key_file == Path("/home/oncall/.ssh/k")
    c = inv.hosts["c"]
    assert c.key_file == Path("/srv/keys/c.key")
    assert c.become_password == "x"
    d = inv.hosts["d"]
    assert (d.port, d.user, d.key_file, d.password, d.network_os, d.connection) == (
        22,
        None,
        None,
        None,
        None,
        None,
    )


def test_env_lookup_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPOND_SWITCH_PASSWORD", "from-env")
    monkeypatch.delenv("RESPOND_BECOME_PASSWORD", raising=False)
    inv = load_inventory(EXAMPLES / "production.example.yaml")
    sw = inv.hosts["core-sw1"]
    assert sw.password == "from-env"
    assert sw.vars["ansible_password"].startswith("{{")  # vars stay as written
    assert inv.hosts["oa01"].become_password is None  # unset variable
    host = Host(
        "h", {"ansible_password": '{{lookup("ansible.builtin.env","RESPOND_SWITCH_PASSWORD")}}'}, ()
    )
    assert host.password == "from-env"
    other = Host("h", {"ansible_password": "{{ vault_pw }}"}, ())
    assert other.password == "{{ vault_pw }}"  # any other template is not respond's to render


def test_host_is_frozen_and_hashable(tmp_path: Path) -> None:
    inv = _load(tmp_path, "g:\n  hosts:\n    h1: {x: 1}\n")
    host = inv.hosts["h1"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        host.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        host.vars["x"] = 2  # type: ignore[index]
    assert {host: 1}[inv.hosts["h1"]] == 1
    assert host.groups == ("all", "g")
    assert host.magic_vars == {
        "inventory_hostname": "h1",
        "inventory_hostname_short": "h1",
        "group_names": ["g"],
    }


def test_magic_short_name() -> None:
    assert Host("web1.example.com", {}, ("all",)).magic_vars["inventory_hostname_short"] == "web1"
    assert Host("10.0.0.1", {}, ("all",)).magic_vars["inventory_hostname_short"] == "10.0.0.1"


def test_precedence_fixture() -> None:
    inv = load_inventory(VALID / "precedence" / "inventory.yaml")
    web1, web2, web3 = (inv.hosts[f"web{i}"] for i in (1, 2, 3))
    db1, lonely = inv.hosts["db1"], inv.hosts["lonely"]
    assert lonely.vars["level"] == "all"
    assert lonely.groups == ("all", "ungrouped")  # hosts directly under all are ungrouped
    assert web3.vars["level"] == "webservers"  # child (depth 2) beats parent dc (depth 1)
    assert web2.vars["level"] == "host_vars-web2"  # host_vars/ beats the inventory's host vars
    assert db1.vars["level"] == "deep3"  # the deepest group wins
    # same depth: lower ansible_group_priority first, then name: aaa_last (1) beats zzz_first (0)
    assert web1.vars["prio"] == "aaa"
    # zzz_first (depth 1, priority 0) loses to webservers (depth 2)
    assert web1.vars["tier"] == "web"
    # group_vars/ sit above every group var of the inventory file, group_vars/all included
    assert web3.vars["from_dir"] == "webservers"
    assert lonely.vars["from_dir"] == "all"
    assert lonely.vars["only_all"] == 2
    assert db1.vars["tier"] == "database"  # group_vars/dbservers (no extension)
    assert db1.vars["from_dir"] == "db1-json"  # host_vars/db1.json
    assert web3.vars["web_port"] == 8080  # files of a group_vars dir load in sorted order
    assert "ignored" not in web3.vars  # hidden files and backups~ are skipped
    assert db1.vars["nested"] == {"c": 3}  # dictionaries replace, they do not merge
    assert db1.port == 2201
    assert inv.groups["webservers"].vars["web_port"] == 8080
    assert inv.groups["zzz_first"].priority == 0
    assert "ansible_group_priority" not in inv.groups["zzz_first"].vars
    assert "ansible_group_priority" not in web1.vars


def test_variable_names() -> None:
    inv = load_inventory(VALID / "precedence" / "inventory.yaml")
    names = inv.variable_names()
    assert {"level", "tier", "web_port", "from_dir", "db_role", "nested", "prio"} <= names
    assert "never" not in names  # group_vars/unused_group.yml: no such group, as in Ansible
    assert names >= MAGIC_VARIABLES
    assert "ansible_group_priority" not in names


def test_to_dict_redacts(tmp_path: Path) -> None:
    inv = _load(
        tmp_path,
        """
all:
  vars:
    api_token: t0k
    nested: {db_password: pw, ok: 1}
  hosts:
    h1:
      ansible_become_pass: b
      ansible_ssh_pass: s
      ansible_password: p
      client_secret: c
      ansible_user: u
      when: 2024-01-01
      vaulted: !vault |
        $ANSIBLE_VAULT;1.1;AES256
        6138
""",
    )
    snap = inv.to_dict()
    json.dumps(snap)  # JSON-able
    hv = snap["hosts"]["h1"]["vars"]
    for key in ("ansible_become_pass", "ansible_ssh_pass", "ansible_password", "client_secret"):
        assert hv[key] == "***"
    assert hv["api_token"] == "***"
    assert hv["nested"] == {"db_password": "***", "ok": 1}
    assert hv["ansible_user"] == "u"
    assert hv["when"] == "2024-01-01"
    assert hv["vaulted"] == "***"
    assert snap["groups"]["all"]["vars"]["api_token"] == "***"
    assert snap["hosts"]["h1"]["groups"] == ["all", "ungrouped"]
    raw = inv.to_dict(redact=False)
    assert raw["hosts"]["h1"]["vars"]["ansible_password"] == "p"
    assert "t0k" not in json.dumps(snap)
    assert snap["sha256"] == inv.sha256 and len(inv.sha256) == 64
    value = inv.hosts["h1"].vars["vaulted"]
    assert isinstance(value, VaultedValue) and "6138" not in repr(value)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ansible_password", True),
        ("ansible_become_pass", True),
        ("ansible_ssh_pass", True),
        ("SMS_GATEWAY_TOKEN", True),
        ("client_secret_id", True),
        ("ssh_key_passphrase", True),
        ("passive_mode", False),
        ("ansible_user", False),
        ("bypass", True),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_examples_yaml_and_ini_are_the_same_inventory() -> None:
    yml = load_inventory(EXAMPLES / "production.example.yaml")
    ini = load_inventory(EXAMPLES / "production.example.ini")
    assert set(yml.hosts) == set(ini.hosts)
    assert set(yml.groups) == set(ini.groups)
    for name, host in yml.hosts.items():
        assert dict(host.vars) == dict(ini.hosts[name].vars), name
        assert host.groups == ini.hosts[name].groups, name
    for name, group in yml.groups.items():
        assert set(group.all_hosts) == set(ini.groups[name].all_hosts), name
        assert dict(group.vars) == dict(ini.groups[name].vars), name


def test_examples_describe_the_machine_room() -> None:
    inv = load_inventory(EXAMPLES / "production.example.yaml")
    core = [h.name for h in inv.select("core")]
    assert core == ["oa01", "sms01", "db01", "db02", "file01"]
    switches = inv.select("switches")
    assert {h.network_os for h in switches} == {"ios"}
    assert [h.name for h in inv.select("core_switches")] == ["core-sw1", "core-sw2"]
    assert len(inv.select("access_switches")) == 4
    assert inv.hosts["ups-mon01"].port == 2222
    assert inv.hosts["core-sw1"].vars["criticality"] == "core"  # priority 10 beats access
    assert inv.hosts["monitor01"].vars["shutdown_order"] == 20
    assert [h.name for h in inv.select("servers:!core")] == ["test01", "print01", "monitor01"]
    assert inv.hosts["oa01"].key_file == Path.home() / ".ssh" / "respond_ed25519"


def _big_inventory(tmp_path: Path, hosts: int) -> tuple[Path, Path]:
    racks = 10
    yml = ["all:", "  vars: {site: a, ntp_server: 10.0.0.1}", "  children:"]
    ini: list[str] = []
    for r in range(racks):
        yml += [
            f"    rack{r}:",
            f"      vars: {{rack: {r}, ansible_user: ops}}",
            "      children:",
            f"        rack{r}_core:",
            "          vars: {criticality: core}",
            "          hosts:",
        ]
        ini.append(f"[rack{r}_core]")
        for i in range(hosts // racks):
            yml.append(
                f"            srv{r}-{i:03d}: {{ansible_host: 10.{r}.{i // 250}.{i % 250 + 1}, "
                "service: app, ansible_port: 22}"
            )
            ini.append(f"srv{r}-{i:03d} ansible_host=10.{r}.{i // 250}.{i % 250 + 1} service=app")
        ini += [f"[rack{r}:children]", f"rack{r}_core", f"[rack{r}:vars]", f"rack={r}"]
    y = tmp_path / "big.yaml"
    y.write_text("\n".join(yml) + "\n")
    i_ = tmp_path / "big.ini"
    i_.write_text("\n".join(ini) + "\n")
    return y, i_


def test_thousand_hosts_load_fast(tmp_path: Path) -> None:
    for path in _big_inventory(tmp_path, 1000):
        load_inventory(path)  # warm up imports and caches
        best = min(_timed(path) for _ in range(5))
        assert best < 0.1, f"{path.name}: {best * 1000:.0f} ms"
        inv = load_inventory(path)
        assert len(inv.hosts) == 1000
        assert len(inv.select("rack3_core[10:19]:!srv3-015")) == 9


def _timed(path: Path) -> float:
    # CPU time of this process: other jobs on a busy CI machine do not count against us
    start = time.process_time()
    load_inventory(path)
    return time.process_time() - start


def test_does_not_import_ansible() -> None:
    code = (
        "import sys; from respond.inventory import load_inventory;"
        f"inv = load_inventory({str(EXAMPLES / 'production.example.yaml')!r});"
        "inv.select('all');"
        "print([m for m in sys.modules if m == 'ansible' or m.startswith('ansible.')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
