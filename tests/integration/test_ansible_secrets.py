"""kill -9 of `respond run` during a playbook that received a secret param: the secret is
in no file respond or ansible-runner wrote (private data dir, artifacts, Ansible's local
temp, the journal), what is there is private (0600 files, 0700 directories), and the next
run removes what the crashed one left."""

from __future__ import annotations

import os
import signal
import stat
import uuid
from pathlib import Path
from typing import Any

import yaml
from clikit import Cli, wait_until
from test_ansible_executor import _running
from test_run_e2e import cli_for

FIXTURE_PLAYBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "playbooks"


def _project(root: Path, group: Any) -> Path:
    (root / "runbooks").mkdir(parents=True)
    (root / "playbooks").mkdir()
    for name in ("leak.yml", "touch.yml"):
        (root / "playbooks" / name).write_text((FIXTURE_PLAYBOOKS / name).read_text())
    (root / "respond.yaml").write_text(
        f"runbooks: runbooks\nplaybooks: playbooks\ndefault_inventory: {group.inventory}\n"
        f"known_hosts:\n  - {group.known_hosts}\n"
    )
    return root


def _runbook(root: Path, name: str, step: dict[str, Any], params: dict[str, Any]) -> None:
    body = {
        "runbook": name,
        "version": "1.0.0",
        "title": name,
        "scenario": "other",
        "severity": 3,
        "params": params,
        "steps": [{"id": "play", "name": "play", "kind": "ansible", "targets": "all", **step}],
    }
    (root / "runbooks" / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _holding(root: Path, canary: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if canary.encode() in data:
                found.append(path)
    return found


def test_kill_9_during_a_playbook_leaves_no_secret_and_the_next_run_cleans_up(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
) -> None:
    group = sshd_hosts(1)
    root = _project(tmp_path / "project", group)
    home = root / ".respond"
    seconds = f"300.{uuid.uuid4().int % 10**6:06d}"  # names the remote sleep
    _runbook(
        root,
        "leak",
        {"playbook": "leak.yml", "extra_vars": {"seconds": seconds}},
        {"token": {"description": "a secret", "secret": True, "required": True}},
    )
    canary = f"canary-{uuid.uuid4().hex}"
    cli = cli_for(respond, root)

    # a secret in respond's environment (ansible-runner copies the environment to a file)
    env_canary = f"env-canary-{uuid.uuid4().hex}"
    running = cli.spawn(
        "run", "leak", "-p", f"token={canary}", "--yes", env={"SOME_DB_PASSWORD": env_canary}
    )
    with running:
        # the first task has echoed the token: the second one runs on the host
        wait_until(lambda: _running(f"sleep {seconds}"), "the playbook's sleep on the host")
        ansible = home / "ansible"
        during = {p: p.lstat().st_mode for p in ansible.rglob("*")}
        (playbook,) = [p for p in _running("ansible-playbook") if _ppid(p) == running.pid]
        running.proc.send_signal(signal.SIGKILL)
        running.proc.wait()

    # ansible-playbook, which writes the job events, dies with respond (its workers, in
    # sessions of their own, keep the ssh session to the host until the next run)
    wait_until(lambda: not playbook.exists(), "ansible-playbook to end with respond")
    try:
        assert during, "the private data directory was empty during the playbook"
        for path, mode in during.items():
            if any(p.name == "tmp" and p.parent.parent.parent == ansible for p in path.parents):
                continue  # Ansible's own local temp (umask modes), inside the 0700 tmp dir
            # directories, and respond's ansible-playbook launcher (executable), are 0700
            if stat.S_ISDIR(mode) or path.name == "ansible-playbook":
                assert stat.S_IMODE(mode) == 0o700, (path, oct(mode))
            else:
                assert stat.S_IMODE(mode) == 0o600, (path, oct(mode))
        assert any(stat.S_ISFIFO(m) for m in during.values()), "extra vars came through a pipe"
        assert not any(p.name == "extravars" and p.is_file() for p in during)
        assert _holding(root, canary) == []  # the project, the journal, the ansible dirs
        assert _holding(root, env_canary) == []
        assert any(ansible.iterdir()), "the crash left the run's directory (removed next run)"
        assert _running(f"sleep {seconds}"), "the session on the host outlived respond"

        # the next run, even without a playbook step, starts by cleaning up
        (root / "runbooks" / "next.yaml").write_text(
            "runbook: next\nversion: 1.0.0\ntitle: next\nscenario: other\nseverity: 3\n"
            "steps:\n  - {id: a, name: a, kind: local, command: 'true'}\n"
        )
        out = cli("run", "next", "--yes")
        assert out.rc == 0, out
        assert list(ansible.iterdir()) == []  # the crashed run's directory and lock are gone
        # and what its playbook left running (ssh session, the command on the host)
        wait_until(lambda: not _running(f"sleep {seconds}"), "the orphaned remote command to end")
    finally:
        for proc in _running(f"sleep {seconds}"):  # the test's own processes, by pid
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except OSError:
                pass
