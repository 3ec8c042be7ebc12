"""A playbook step never reaches a host whose key does not match respond's known_hosts,
whatever the inventory or the step sets: each variable that reaches Ansible's connection
options is either refused before anything runs (exit 2, file:line) or overridden, and the
host-key failure is recorded. Real `respond run`, real ansible-core, real sshd."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from clikit import Cli
from test_run_e2e import cli_for, events

FIXTURE_PLAYBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "playbooks"
LOOSE = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
CONTROLS = "respond controls SSH host-key checking"

# name → (host vars in the inventory, step extra_vars); every one of these would let the
# play run on the host with the changed key if respond's options did not win
REFUSED_IN_INVENTORY = {
    "ansible_ssh_args": {"ansible_ssh_args": LOOSE},
    "ansible_host_key_checking": {"ansible_host_key_checking": False},
    "ansible_ssh_host_key_checking": {"ansible_ssh_host_key_checking": False},
    "ansible_paramiko_host_key_checking": {"ansible_paramiko_host_key_checking": False},
    "ansible_connection": {"ansible_connection": "paramiko"},
}
REFUSED_IN_STEP = {
    "ansible_ssh_args": LOOSE,
    "ansible_host_key_checking": False,
    "ansible_connection": "paramiko",
}


def _changed_key_project(tmp: Path, group: Any, host_vars: dict[str, Any]) -> tuple[Path, Path]:
    """A project whose known_hosts lists the host with another key (the host's key
    "changed"), and whose inventory sets ``host_vars`` on the host."""
    host = group[0]
    subprocess.run(
        ["ssh-keygen", "-t", "ed25519", "-N", "", "-q", "-f", str(tmp / "other")], check=True
    )
    kind, blob = (tmp / "other.pub").read_text().split()[:2]
    wrong = tmp / "known_hosts"
    wrong.write_text(f"[{host.address}]:{host.port} {kind} {blob}\n")
    data = yaml.safe_load(group.inventory.read_text())
    data["all"]["vars"]["ansible_ssh_common_args"] = f"-o UserKnownHostsFile={wrong}"
    data["all"]["hosts"][host.name].update(host_vars)
    inv = tmp / "inventory.yaml"
    inv.write_text(yaml.safe_dump(data, sort_keys=False))
    root = tmp / "project"
    (root / "runbooks").mkdir(parents=True)
    (root / "playbooks").mkdir()
    (root / "playbooks" / "touch.yml").write_text((FIXTURE_PLAYBOOKS / "touch.yml").read_text())
    (root / "respond.yaml").write_text(
        f"runbooks: runbooks\nplaybooks: playbooks\ndefault_inventory: {inv}\n"
        f"known_hosts:\n  - {wrong}\n"
    )
    return root, inv


def _runbook(root: Path, marker: str, extra: dict[str, Any] | None = None) -> Path:
    step = {
        "id": "touch",
        "name": "touch the marker",
        "kind": "ansible",
        "targets": "all",
        "playbook": "touch.yml",
        "extra_vars": {"marker": marker, **(extra or {})},
    }
    body = {
        "runbook": "hk",
        "version": "1.0.0",
        "title": "hk",
        "scenario": "other",
        "severity": 3,
        "steps": [step],
    }
    path = root / "runbooks" / "hk.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


@pytest.fixture
def marker() -> Any:
    path = Path(f"/tmp/respond-hk-{uuid.uuid4().hex}")  # the sshd's user can write /tmp
    yield path
    path.unlink(missing_ok=True)


def _assert_refused_on_the_host(cli: Cli, marker: Path) -> None:
    out = cli("run", "hk", "--json", "--yes")
    assert out.rc == 1, out
    result = out.json()
    message = result["steps"][0]["message"]
    assert "host key verification failed" in message.lower(), message
    assert not marker.exists(), "the play ran on a host whose key changed"
    refused = [e for e in events(cli, result["run_id"]) if e["kind"] == "host-result"]
    assert [e["data"]["status"] for e in refused] == ["failed"], refused
    assert "host key verification failed" in str(refused[0]["data"]["error"]).lower()


def test_the_play_runs_when_the_key_matches(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path
) -> None:
    """The control: the same project with the right known_hosts does touch the marker."""
    group = sshd_hosts(1)
    root, _ = _changed_key_project(tmp_path, group, {})
    (tmp_path / "known_hosts").write_text(group.known_hosts.read_text())
    _runbook(root, str(marker))
    out = cli_for(respond, root)("run", "hk", "--json", "--yes")
    assert out.rc == 0, out
    assert marker.exists()


@pytest.mark.parametrize("var", sorted(REFUSED_IN_INVENTORY))
def test_inventory_variable_is_refused_before_anything_runs(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path, var: str
) -> None:
    group = sshd_hosts(1)
    root, inv = _changed_key_project(tmp_path, group, REFUSED_IN_INVENTORY[var])
    _runbook(root, str(marker))
    cli = cli_for(respond, root)
    lines = inv.read_text().splitlines()
    line = next(i for i, x in enumerate(lines, 1) if x.strip().startswith(f"{var}:"))
    for command in (("validate",), ("run", "hk", "--yes")):
        out = cli(*command)
        assert out.rc == 2, out
        assert f"{inv}:{line}:7: error: host {group[0].name} sets {var}: {CONTROLS}" in (
            out.stderr + out.stdout
        ), out
        assert "Traceback" not in out.stderr
    assert not marker.exists()


@pytest.mark.parametrize("var", sorted(REFUSED_IN_STEP))
def test_step_extra_var_is_refused_before_anything_runs(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path, var: str
) -> None:
    group = sshd_hosts(1)
    root, _ = _changed_key_project(tmp_path, group, {})
    runbook = _runbook(root, str(marker), {var: REFUSED_IN_STEP[var]})
    lines = runbook.read_text().splitlines()
    line = next(i for i, x in enumerate(lines, 1) if x.strip() == "extra_vars:")
    cli = cli_for(respond, root)
    for command in (("validate",), ("run", "hk", "--yes")):
        out = cli(*command)
        assert out.rc == 2, out
        text = out.stderr + out.stdout
        assert f"runbooks/hk.yaml:{line}:" in text, out
        assert f"extra_vars sets {var}: {CONTROLS}" in text, out
    assert not marker.exists()


@pytest.mark.parametrize("var", ["ansible_ssh_common_args", "ansible_ssh_extra_args"])
def test_inventory_ssh_args_cannot_loosen_respond_s_options(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path, var: str
) -> None:
    group = sshd_hosts(1)
    # StrictHostKeyChecking=no, no known_hosts, and a command that hands ssh the right key:
    # each would let ssh accept the host if it came before respond's options
    loose = f"{LOOSE} -o KnownHostsCommand='/bin/cat {group.known_hosts}'"
    root, _ = _changed_key_project(tmp_path, group, {var: loose})
    _runbook(root, str(marker))
    _assert_refused_on_the_host(cli_for(respond, root), marker)


@pytest.mark.parametrize("var", ["ansible_ssh_common_args", "ansible_ssh_extra_args"])
def test_step_ssh_args_cannot_loosen_respond_s_options(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path, var: str
) -> None:
    group = sshd_hosts(1)
    root, _ = _changed_key_project(tmp_path, group, {})
    _runbook(
        root, str(marker), {var: f"{LOOSE} -o KnownHostsCommand='/bin/cat {group.known_hosts}'"}
    )
    _assert_refused_on_the_host(cli_for(respond, root), marker)


def test_a_host_with_another_connection_is_refused_by_the_step(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path
) -> None:
    """network_cli is fine for netmiko steps, but a playbook would check its key against
    ~/.ssh/known_hosts: the step fails before ansible-playbook starts."""
    group = sshd_hosts(1)
    root, _ = _changed_key_project(
        tmp_path, group, {"ansible_connection": "ansible.netcommon.network_cli"}
    )
    _runbook(root, str(marker))
    cli = cli_for(respond, root)
    out = cli("run", "hk", "--json", "--yes")
    assert out.rc == 1, out
    message = out.json()["steps"][0]["message"]
    assert (
        f"host {group[0].name} uses ansible_connection=ansible.netcommon.network_cli: "
        "respond runs playbooks only over ssh" in message
    ), message
    assert not marker.exists()


def test_play_vars_cannot_loosen_respond_s_options(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path
) -> None:
    """Play vars beat the inventory but not extra vars, where respond puts its own."""
    group = sshd_hosts(1)
    root, _ = _changed_key_project(tmp_path, group, {})
    play = yaml.safe_load((FIXTURE_PLAYBOOKS / "touch.yml").read_text())
    play[0]["vars"] = {
        "ansible_ssh_args": LOOSE,
        "ansible_host_key_checking": False,
        "ansible_ssh_host_key_checking": False,
    }
    (root / "playbooks" / "touch.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    _runbook(root, str(marker))
    _assert_refused_on_the_host(cli_for(respond, root), marker)


def test_an_ansible_cfg_cannot_loosen_respond_s_options(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marker: Path
) -> None:
    """ansible-playbook reads ./ansible.cfg (respond runs it in the project), but the
    environment respond sets beats it."""
    group = sshd_hosts(1)
    root, _ = _changed_key_project(tmp_path, group, {})
    (root / "ansible.cfg").write_text(
        "[defaults]\nhost_key_checking = False\n"
        f"[ssh_connection]\nssh_args = {LOOSE}\n"
        "[paramiko_connection]\nhost_key_auto_add = True\n"
    )
    _runbook(root, str(marker))
    _assert_refused_on_the_host(cli_for(respond, root), marker)
