"""The ansible step kind: real ansible-core through ansible-runner against real sshd hosts."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from clikit import DEADLINE

from respond.executors.ansible import AnsibleExecutor, mark_unsafe
from respond.executors.base import RunContext
from respond.kinds.ansible import PlaybookRun, split_hosts
from respond.results import StepStatus

REPO = Path(__file__).resolve().parents[2]
FIXTURE_PLAYBOOKS = REPO / "tests" / "fixtures" / "playbooks"


def _ctx(tmp_path: Path, known_hosts: Path, playbooks: Path = FIXTURE_PLAYBOOKS) -> RunContext:
    return RunContext(
        run_id="run1",
        project_root=REPO,
        playbooks_dir=playbooks,
        home=tmp_path / "home",
        known_hosts=(known_hosts,),
    )


def _step(step_id: str) -> SimpleNamespace:
    return SimpleNamespace(id=step_id, kind="ansible", timeout=None)


def _rendered(playbook: Path, inventory: Path, limit: str = "all", **extra: Any) -> PlaybookRun:
    return PlaybookRun(
        playbook=str(playbook), limit=limit, extra_vars=extra, inventory=str(inventory)
    )


def test_playbook_gives_per_host_statuses(tmp_path: Path, sshd_hosts) -> None:
    group = sshd_hosts(3)
    a, b, c = (h.name for h in group)
    ex = AnsibleExecutor(_ctx(tmp_path, group.known_hosts))
    try:
        res = ex.run(
            _step("diag"),
            None,
            _rendered(
                FIXTURE_PLAYBOOKS / "diagnose.yml",
                group.inventory,
                limit=f"all:!{c}",
                fail_host=b,
                marker="m-42",
            ),
            60,
        )
    finally:
        ex.close()

    assert res.host == "*"
    assert res.status is StepStatus.FAILED
    hosts = res.data["hosts"]
    assert set(hosts) == {a, b}  # the limit kept c out
    assert hosts[a]["status"] == "ok" and hosts[a]["rc"] == 0
    assert hosts[b]["status"] == "failed" and hosts[b]["rc"] == 3
    assert "disk full" in hosts[b]["msg"]
    assert [(t["task"], t["status"]) for t in hosts[a]["tasks"]] == [
        ("Which host am I", "ok"),
        ("Report the marker", "ok"),
        ("Fail where asked", "skipped"),
    ]
    assert hosts[a]["tasks"][1]["stdout"] == "diag m-42"
    assert hosts[a]["tasks"][1]["changed"] is False
    assert f"{b} failed" in res.error

    per_host = {r.host: r for r in split_hosts(res)}
    assert per_host[a].status is StepStatus.OK
    assert per_host[b].status is StepStatus.FAILED
    assert per_host[b].rc == 3 and "disk full" in per_host[b].error
    assert "diag m-42" in per_host[a].output

    # ansible-playbook's output comes from the events; nothing of the step stays on disk
    assert "Report the marker" in res.output
    assert res.artifacts == ()
    assert _files(tmp_path / "home") == []


def test_ping_playbook_and_unknown_host_key(tmp_path: Path, sshd_hosts) -> None:
    group = sshd_hosts(1)
    (host,) = group
    playbook = REPO / "playbooks" / "ping.yml"

    trusted = AnsibleExecutor(_ctx(tmp_path, group.known_hosts, REPO / "playbooks"))
    res = trusted.run(_step("ping"), None, _rendered(playbook, group.inventory), 60)
    trusted.close()
    assert res.status is StepStatus.OK, res.error
    assert res.data["hosts"][host.name]["status"] == "ok"

    # respond's known_hosts does not list the host: ssh must refuse it, even though the
    # inventory's ansible_ssh_common_args names a known_hosts file that does
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    strict = AnsibleExecutor(_ctx(tmp_path, empty, REPO / "playbooks"))
    res = strict.run(_step("ping"), None, _rendered(playbook, group.inventory), 60)
    strict.close()
    assert res.status is StepStatus.FAILED
    info = res.data["hosts"][host.name]
    assert info["status"] == "unreachable"
    assert "host key verification failed" in info["msg"].lower()
    (per_host,) = split_hosts(res)
    assert per_host.status is StepStatus.FAILED and per_host.error.startswith("unreachable")


def test_extra_vars_are_never_templated_and_secrets_masked(tmp_path: Path, sshd_hosts) -> None:
    group = sshd_hosts(1)
    marker = tmp_path / "owned"
    nested_marker = tmp_path / "owned-nested"
    payload = f"{{{{ lookup('pipe','touch {marker}') }}}}"
    secret = 'Pa"ss-Wo\\rd-77'  # a secret param value, with JSON-escaped characters
    nested = {"items_list": [f"{{{{ lookup('pipe','touch {nested_marker}') }}}} {secret}"]}
    ctx = _ctx(tmp_path, group.known_hosts)
    ctx.secrets = (secret,)
    ex = AnsibleExecutor(ctx)
    res = ex.run(
        _step("echo"),
        None,
        _rendered(
            FIXTURE_PLAYBOOKS / "echo_var.yml", group.inventory, payload=payload, nested=nested
        ),
        60,
    )
    ex.close()
    assert res.status is StepStatus.OK, res.error
    assert not marker.exists()
    assert not nested_marker.exists()
    tasks = res.data["hosts"][group[0].name]["tasks"]
    assert [t["stdout"] for t in tasks] == [payload, nested["items_list"][0].replace(secret, "***")]
    # the secret a task echoed reached neither the result nor ansible-runner's files
    assert secret not in repr(res)
    assert _files(tmp_path / "home") == []


def test_timeout_and_cancel_stop_the_run_and_the_remote_command(tmp_path: Path, sshd_hosts) -> None:
    group = sshd_hosts(1)
    ctx = _ctx(tmp_path, group.known_hosts)
    ex = AnsibleExecutor(ctx)
    sleep = FIXTURE_PLAYBOOKS / "sleep.yml"
    tag = f"{uuid.uuid4().int % 10**6:06d}"  # other checkouts run this test too

    # The timeout must fall while the command runs on the host: ansible takes a few seconds
    # to get there on a busy machine, so the step gets 20 s and the test checks it did.
    seconds = f"601.{tag}"
    started = _Watch(f"sleep {seconds}")
    t0 = time.monotonic()
    res = ex.run(_step("hang"), None, _rendered(sleep, group.inventory, seconds=seconds), 20)
    returned = time.monotonic()
    assert res.status is StepStatus.TIMED_OUT, res.error
    assert started.at is not None and started.at < t0 + 20, (
        "ansible had not started the command on the host when the step timed out"
    )
    assert returned - (t0 + 20) < 5  # not ansible-runner's extra 5 s wait for EOF
    assert _gone(f"sleep {seconds}")  # ansible's setsid workers were stopped, and the host's sleep

    # Ctrl-C (the run's cancel event) once the command runs on the host.
    seconds = f"602.{tag}"
    started = _Watch(f"sleep {seconds}", then=ctx.cancel.set)
    res = ex.run(_step("hang"), None, _rendered(sleep, group.inventory, seconds=seconds), 600)
    returned = time.monotonic()
    started.join()
    assert res.status is StepStatus.CANCELLED, res.error
    assert started.at is not None, "ansible never started the command on the host"
    assert returned - started.at < 5  # not ansible-runner's extra 5 s wait for EOF
    assert _gone(f"sleep {seconds}")
    control_dir = ex._control_dir
    assert control_dir
    ex.close()
    assert _gone(control_dir)  # no ssh ControlPersist master left behind


class _Watch(threading.Thread):
    """Watch for a process whose command line contains ``pattern``; ``at`` is when it
    first ran (None if not within the deadline), and ``then`` is called at that moment (or
    at the deadline, so that nothing waits for ever)."""

    def __init__(self, pattern: str, then: Callable[[], None] | None = None) -> None:
        super().__init__(daemon=True)
        self.pattern, self.then = pattern, then
        self.at: float | None = None
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if _running(self.pattern):
                self.at = time.monotonic()
                break
            time.sleep(0.05)
        if self.then is not None:
            self.then()


def _running(pattern: str) -> list[Path]:
    return [
        p for p in Path("/proc").iterdir() if p.name.isdigit() and pattern.encode() in _cmdline(p)
    ]


def _gone(pattern: str, wait: float = DEADLINE) -> bool:
    """No process whose command line contains ``pattern`` (polls up to ``wait`` s)."""
    deadline = time.monotonic() + wait
    while _running(pattern):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if not p.is_dir())


# --- no ansible run needed ----------------------------------------------------------------


def test_playbook_outside_playbooks_dir_is_refused(tmp_path: Path) -> None:
    ex = AnsibleExecutor(_ctx(tmp_path, tmp_path / "kh"))
    outside = tmp_path / "evil.yml"
    outside.write_text("- hosts: all\n  tasks: []\n")
    res = ex.run(_step("x"), None, _rendered(outside, tmp_path / "inv.yml"), 10)
    assert res.status is StepStatus.FAILED
    assert "outside the playbooks directory" in res.error
    res = ex.run(_step("x"), None, _rendered(FIXTURE_PLAYBOOKS / "nope.yml", tmp_path / "i"), 10)
    assert res.status is StepStatus.FAILED and "does not exist" in res.error


def test_mark_unsafe_wraps_every_string() -> None:
    assert mark_unsafe({"a": "x", "b": [1, "y", {"c": "z"}], "d": True}) == {
        "a": {"__ansible_unsafe": "x"},
        "b": [1, {"__ansible_unsafe": "y"}, {"c": {"__ansible_unsafe": "z"}}],
        "d": True,
    }
