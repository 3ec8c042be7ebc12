"""The ssh step kind against real OpenSSH servers on loopback (no mocks)."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from clikit import DEADLINE, PROMPTLY, wait_until
from sshdkit import (
    SshdFarm,
    SshdGroup,
    SshdUnavailable,
    ensure_sudo,
    free_port,
    keygen,
    make_step,
)

from respond.executors import executor_class
from respond.executors.base import Rendered, RunContext
from respond.executors.ssh import SshExecutor, parse_host_spec, target_for
from respond.results import StepStatus

Hosts = Callable[[int], SshdGroup]


def run(ex: SshExecutor, host: Any, *commands: str, timeout: float = DEADLINE, **step: Any) -> Any:
    return ex.run(make_step(commands, **step), host, Rendered(commands=commands), timeout)


def ctx_with(tmp_path: Path, *known_hosts: Path) -> RunContext:
    return RunContext(
        run_id="t",
        project_root=tmp_path,
        playbooks_dir=tmp_path,
        home=tmp_path,
        known_hosts=tuple(known_hosts),
    )


def remote_processes(pattern: str) -> list[str]:
    """Processes on the (loopback) host whose command line matches ``pattern``."""
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if line.strip()]


def wait_until_gone(pattern: str, limit: float = DEADLINE) -> list[str]:
    """``[]`` once no process matches ``pattern``; what is left if that takes ``limit`` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        left = remote_processes(pattern)
        if not left:
            return []
        time.sleep(0.1)
    return remote_processes(pattern)


def cancel_once(ctx: RunContext, pattern: str) -> threading.Thread:
    """Set ``ctx.cancel`` as soon as a process matching ``pattern`` runs (the command has
    really started on the host); the thread's ``at`` is when. Sets it at the deadline
    anyway, so a command that never starts cannot hang the test."""

    def watch() -> None:
        deadline = time.monotonic() + DEADLINE
        while not remote_processes(pattern) and time.monotonic() < deadline:
            time.sleep(0.05)
        thread.at = time.monotonic()  # type: ignore[attr-defined]
        ctx.cancel.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def unique(prefix: str) -> str:
    """A command-line marker no other process on this machine has (other checkouts run the
    same tests at the same time)."""
    return f"{prefix}{uuid.uuid4().int % 10**8:08d}"


# --------------------------------------------------------------------------- basics


def test_registry_resolves_ssh_without_importing_paramiko() -> None:
    code = (
        "import sys; from respond.executors import executor_class; "
        "executor_class('ssh'); print('paramiko' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    assert executor_class("ssh") is SshExecutor


def test_connect_and_run(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        res = run(ex, h.as_host(), "echo hello; echo oops >&2; id -un", "exit 3", "echo never")
    finally:
        ex.close()
    assert res.status is StepStatus.OK, res.error
    first, second = res.commands
    assert first.stdout == f"hello\n{h.user}\n"
    assert first.stderr == "oops\n"
    assert first.exit_code == 0
    assert second.exit_code == 3  # recorded; judging it is the engine's job (expect)
    assert res.rc == 3
    assert res.data["stopped_after"] == 2  # the third command did not run
    assert res.output == first.stdout
    assert res.data["connection"] == "new"
    assert res.host == h.name


def test_expect_rc_lets_later_commands_run(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        step = make_step(["exit 1", "echo after"], expect=SimpleNamespace(rc=[0, 1]))
        res = ex.run(step, h.as_host(), Rendered(commands=("exit 1", "echo after")), DEADLINE)
    finally:
        ex.close()
    assert [c.exit_code for c in res.commands] == [1, 0]
    assert res.commands[1].stdout == "after\n"


def test_connection_is_reused_and_fast(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        first = run(ex, h.as_host(), "true")
        deadline = time.monotonic() + DEADLINE
        transport, reused = ex.connection(target_for(h.as_host(), run_ctx), deadline)
        for _ in range(5):
            res = run(ex, h.as_host(), "echo x")
            assert res.data["connection"] == "reused"
        again, _ = ex.connection(target_for(h.as_host(), run_ctx), deadline)
        # TCP_NODELAY: without it each command on an open connection costs ~44 ms (Nagle
        # against delayed ACKs); with it about a millisecond on loopback. Checked on the
        # socket itself: a timing would depend on how busy the machine is.
        nodelay = transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        ex.close()
    assert first.data["connection"] == "new"
    assert reused and again is transport
    assert ex.connections_opened == 1
    assert nodelay, "TCP_NODELAY is not set on the connection's socket"
    assert not transport.is_active()  # close() closed it


def test_aes_gcm_is_negotiated(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    """AEAD first: paramiko checks a CTR+HMAC packet's MAC byte by byte in Python."""
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK
        transport, _ = ex.connection(target_for(h.as_host(), run_ctx), time.monotonic() + 5)
        assert (transport.local_cipher, transport.remote_cipher) == (
            "aes128-gcm@openssh.com",
            "aes128-gcm@openssh.com",
        )
    finally:
        ex.close()


def test_a_replaced_key_file_is_read_again(
    sshd_hosts: Hosts, run_ctx: RunContext, tmp_path: Path
) -> None:
    """Keys are parsed once per version of the file, not once per run of the process."""
    h = sshd_hosts(1)[0]
    key = tmp_path / "key"
    key.write_bytes(Path(h.key).read_bytes())
    key.chmod(0o600)
    host = h.as_host()
    host.key_file = str(key)
    for expected in (StepStatus.OK, StepStatus.FAILED):
        ex = SshExecutor(run_ctx)
        try:
            res = run(ex, host, "true")
        finally:
            ex.close()
        assert res.status is expected, res.error
        stranger = tmp_path / "stranger"
        keygen(stranger)
        os.replace(stranger, key)


def test_lost_connection_is_unknown_then_reconnects(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    """The connection dies mid-command (its sshd session is killed): the outcome is
    *unknown*, not failed, and the next step opens a fresh connection."""
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK
        lost = run(ex, h.as_host(), "echo before; kill -9 $PPID; sleep 5")
        after = run(ex, h.as_host(), "echo after")
    finally:
        ex.close()
    assert lost.status is StepStatus.UNKNOWN, lost
    assert "outcome is unknown" in lost.error
    assert not lost.not_started  # the command was sent: retrying could repeat it
    assert after.status is StepStatus.OK and after.output == "after\n"
    assert after.data["connection"] == "new"
    assert ex.connections_opened == 2


def test_concurrent_steps_share_one_connection(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    results: list[Any] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(run(ex, h.as_host(), "echo hi")))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        ex.close()
    assert [r.status for r in results] == [StepStatus.OK] * 8
    assert ex.connections_opened == 1


def test_chinese_output_round_trip(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    text = "机房 不间断电源 告警：一级故障"
    ex = SshExecutor(run_ctx)
    try:
        res = run(ex, h.as_host(), f"printf '%s\\n' {shlex.quote(text)}; echo 应急预案 >&2")
    finally:
        ex.close()
    assert res.commands[0].stdout == text + "\n"
    assert res.commands[0].stderr == "应急预案\n"


def test_large_output_is_capped(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        res = run(ex, h.as_host(), "head -c 3000000 /dev/zero | tr '\\0' a")
    finally:
        ex.close()
    assert res.status is StepStatus.OK
    assert res.commands[0].exit_code == 0
    assert res.commands[0].stdout.startswith("a" * (1 << 20))
    assert "output truncated" in res.commands[0].stdout
    assert res.data["output_truncated_bytes"] == 3000000 - (1 << 20)


def test_injection_through_an_argument_runs_nothing_extra(
    sshd_hosts: Hosts, run_ctx: RunContext, tmp_path: Path
) -> None:
    h = sshd_hosts(1)[0]
    owned = Path(f"/tmp/respond-owned-{h.port}")
    owned.unlink(missing_ok=True)
    evil = f"x; touch {owned}; echo $(touch {owned}) `touch {owned}`"
    ex = SshExecutor(run_ctx)
    try:
        res = run(ex, h.as_host(), f"echo {shlex.quote(evil)}")
    finally:
        ex.close()
    assert res.commands[0].stdout == evil + "\n"
    assert not owned.exists()


@pytest.fixture
def sudo_rule(sshd_farm: SshdFarm) -> Iterator[str]:
    """sudo installed, and a NOPASSWD rule for the test user for this test only."""
    try:
        ensure_sudo()
    except SshdUnavailable as exc:
        pytest.fail(str(exc))
    if os.geteuid() != 0:
        pytest.fail("the become tests need root to add a temporary sudoers rule")
    rule = Path("/etc/sudoers.d/respond-integration-test")
    rule.write_text(f"{sshd_farm.user} ALL=(root) NOPASSWD: ALL\n")
    rule.chmod(0o440)
    try:
        yield sshd_farm.user
    finally:
        rule.unlink(missing_ok=True)


def test_become_runs_as_root_through_sudo(
    sshd_hosts: Hosts, run_ctx: RunContext, sudo_rule: str
) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(run_ctx)
    try:
        plain = run(ex, h.as_host(), "id -un")
        res = run(ex, h.as_host(), "echo 'a b'; id -un", become=True)
    finally:
        ex.close()
    assert plain.output == f"{h.user}\n"
    assert res.status is StepStatus.OK, res.error
    assert res.commands[0].command == "echo 'a b'; id -un"  # recorded as written
    assert res.commands[0].stdout == "a b\nroot\n"


def test_become_timeout_kills_the_root_process(
    sshd_hosts: Hosts, run_ctx: RunContext, sudo_rule: str
) -> None:
    h = sshd_hosts(1)[0]
    marker = unique("sleep 304")
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK  # connected
        res = run(ex, h.as_host(), f"echo started; {marker}", become=True, timeout=5.0)
    finally:
        ex.close()
    assert res.status is StepStatus.TIMED_OUT
    assert res.commands[0].stdout == "started\n"  # it ran (as root) before the timeout
    assert wait_until_gone(marker) == []


# --------------------------------------------------------------------------- identity


def test_unknown_host_key_is_refused(sshd_hosts: Hosts, tmp_path: Path) -> None:
    h = sshd_hosts(1)[0]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    ex = SshExecutor(ctx_with(tmp_path, empty))
    try:
        res = run(ex, h.as_host(), "touch /tmp/should-not-exist")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert res.error.startswith(f"host key for [127.0.0.1]:{h.port} is not in known_hosts")
    assert str(empty) in res.error and "refusing to connect" in res.error
    assert res.commands == ()
    assert res.data["error_type"] == "HostKeyRejected"
    assert empty.read_text() == ""  # never auto-added


def test_missing_known_hosts_file_is_refused(sshd_hosts: Hosts, tmp_path: Path) -> None:
    h = sshd_hosts(1)[0]
    ex = SshExecutor(ctx_with(tmp_path, tmp_path / "nope"))
    try:
        res = run(ex, h.as_host(), "true")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert "(missing)" in res.error and "not in known_hosts" in res.error
    assert not (tmp_path / "nope").exists()


def test_changed_host_key_is_refused(sshd_hosts: Hosts, tmp_path: Path) -> None:
    h = sshd_hosts(1)[0]
    impostor = keygen(tmp_path / "impostor").split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{h.port} {impostor[0]} {impostor[1]}\n")
    ex = SshExecutor(ctx_with(tmp_path, known))
    try:
        res = run(ex, h.as_host(), "true")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert "HOST KEY CHANGED" in res.error
    assert "possible man-in-the-middle" in res.error
    assert res.commands == ()


def test_hashed_known_hosts_entry_is_accepted(sshd_hosts: Hosts, tmp_path: Path) -> None:
    h = sshd_hosts(1)[0]
    known = tmp_path / "known_hosts"
    known.write_text(h.known_hosts_entry + "\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
    assert known.read_text().startswith("|1|")
    ex = SshExecutor(ctx_with(tmp_path, known))
    try:
        res = run(ex, h.as_host(), "echo ok")
    finally:
        ex.close()
    assert res.status is StepStatus.OK, res.error
    assert res.output == "ok\n"


def test_revoked_host_key_is_refused(sshd_hosts: Hosts, tmp_path: Path) -> None:
    h = sshd_hosts(1)[0]
    kind, blob = h.host_key_line.split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"{h.known_hosts_entry}\n@revoked * {kind} {blob}\n")
    ex = SshExecutor(ctx_with(tmp_path, known))
    try:
        res = run(ex, h.as_host(), "true")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert "@revoked" in res.error and "refusing to connect" in res.error


def test_any_known_hosts_file_may_vouch_and_bad_lines_are_skipped(
    sshd_hosts: Hosts, tmp_path: Path
) -> None:
    """As OpenSSH: a stale entry in one file does not veto the right key in another."""
    h = sshd_hosts(1)[0]
    impostor = keygen(tmp_path / "impostor").split()
    stale = tmp_path / "stale"
    stale.write_text(f"[127.0.0.1]:{h.port} {impostor[0]} {impostor[1]}\n")
    good = tmp_path / "good"
    good.write_text(f"garbage line here\n[x]:1 ssh-ed25519 !!notbase64!!\n{h.known_hosts_entry}\n")
    ex = SshExecutor(ctx_with(tmp_path, stale, good))
    try:
        res = run(ex, h.as_host(), "echo ok")
    finally:
        ex.close()
    assert res.status is StepStatus.OK, res.error


def test_known_hosts_from_inventory_args(sshd_hosts: Hosts, tmp_path: Path) -> None:
    """The same inventory drives ssh/ansible and respond: UserKnownHostsFile is honoured."""
    group = sshd_hosts(1)
    h = group[0]
    host = h.as_host(ansible_ssh_common_args=f"-o UserKnownHostsFile={group.known_hosts}")
    ex = SshExecutor(ctx_with(tmp_path))  # nothing from the run; not ~/.ssh either
    try:
        res = run(ex, host, "echo ok")
    finally:
        ex.close()
    assert res.status is StepStatus.OK, res.error


def test_wrong_client_key_is_refused(
    sshd_hosts: Hosts, run_ctx: RunContext, tmp_path: Path
) -> None:
    h = sshd_hosts(1)[0]
    stranger = tmp_path / "stranger"
    keygen(stranger)
    host = h.as_host()
    host.key_file = str(stranger)
    ex = SshExecutor(run_ctx)
    try:
        res = run(ex, host, "true")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert res.error.startswith(f"authentication refused for {h.user}@127.0.0.1:{h.port}")
    assert res.data["error_type"] == "AuthenticationFailed"
    assert res.not_started  # nothing was sent: safe to retry


def test_ssh_agent_key_is_used(
    sshd_hosts: Hosts, run_ctx: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = sshd_hosts(1)
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_until(sock.exists, "ssh-agent to listen on its socket")
        env = {"SSH_AUTH_SOCK": str(sock), "PATH": os.environ["PATH"]}
        subprocess.run(["ssh-add", str(group.key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        host = group[0].as_host()
        host.key_file = None  # only the agent holds the key
        ex = SshExecutor(run_ctx)
        try:
            res = run(ex, host, "echo via agent")
        finally:
            ex.close()
    finally:
        agent.terminate()
        agent.wait(DEADLINE)
    assert res.status is StepStatus.OK, res.error
    assert res.output == "via agent\n"


def test_unreachable_port_fails_fast(run_ctx: RunContext) -> None:

    port = free_port()
    host = SimpleNamespace(
        name="gone",
        address="127.0.0.1",
        port=port,
        user="x",
        key_file=None,
        password=None,
        vars={},
    )
    ex = SshExecutor(run_ctx)
    t0 = time.monotonic()
    try:
        res = run(ex, host, "true", timeout=600)
    finally:
        ex.close()
    assert time.monotonic() - t0 < PROMPTLY  # refused at once, not at the step's deadline
    assert res.status is StepStatus.FAILED
    assert res.error == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert res.not_started


def test_silent_server_times_out(run_ctx: RunContext) -> None:
    """A port that accepts but never speaks SSH: respond's own deadline ends the wait."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    host = SimpleNamespace(
        name="mute",
        address="127.0.0.1",
        port=srv.getsockname()[1],
        user="x",
        key_file=None,
        password=None,
        vars={},
    )
    ex = SshExecutor(run_ctx)
    t0 = time.monotonic()
    try:
        res = run(ex, host, "true", timeout=1.0)
    finally:
        ex.close()
        srv.close()
    # respond's 1 s deadline, not paramiko's own 15 s banner timeout (nor forever)
    assert time.monotonic() - t0 < 10
    assert res.status is StepStatus.TIMED_OUT
    assert "no SSH handshake" in res.error


# --------------------------------------------------------------------------- stopping


def test_hung_command_times_out_and_is_killed_on_the_host(
    sshd_hosts: Hosts, run_ctx: RunContext
) -> None:
    h = sshd_hosts(1)[0]
    marker = unique("sleep 300")  # unique on this machine
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK  # connected
        t0 = time.monotonic()
        res = run(ex, h.as_host(), f"echo started; {marker}; echo never", timeout=5.0)
        elapsed = time.monotonic() - t0
        assert res.status is StepStatus.TIMED_OUT
        assert elapsed < PROMPTLY  # the 5 s deadline, not the sleep of years
        assert res.commands[0].exit_code is None
        assert res.commands[0].stdout == "started\n"
        assert "stopped it on" in res.error
        assert wait_until_gone(marker) == []
        # the connection is still good for the next step
        assert run(ex, h.as_host(), "echo again").output == "again\n"
    finally:
        ex.close()


def test_background_child_is_killed_too(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    marker = unique("sleep 301")
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK  # connected
        res = run(ex, h.as_host(), f"echo started; {marker} & {marker}", timeout=5.0)
    finally:
        ex.close()
    assert res.status is StepStatus.TIMED_OUT
    assert res.commands[0].stdout == "started\n"  # both sleeps were started
    assert wait_until_gone(marker) == []


def test_command_ignoring_sigterm_gets_sigkill(
    sshd_hosts: Hosts, run_ctx: RunContext, tmp_path: Path
) -> None:
    h = sshd_hosts(1)[0]
    marker = unique("respond-shrugs-off-term-")
    log = Path(f"/tmp/{marker}.log")  # written by the host's user, read here
    # The shell survives SIGTERM (its trap notes it and carries on), and it loops for ever:
    # only SIGKILL ends it. The note in the log proves it outlived SIGTERM, without racing
    # the grace period before SIGKILL. "started" is printed once the trap is in place; then
    # the output goes to /dev/null: the shell reports its killed `sleep` on stderr, and once
    # the step has closed its channel that write would end the shell by SIGPIPE instead.
    command = (
        f"trap 'echo term >> {log}' TERM; echo started; exec >/dev/null 2>&1; "
        f"while :; do sleep 0.2; done; : {marker}"
    )
    ex = SshExecutor(run_ctx)
    try:
        assert run(ex, h.as_host(), "true").status is StepStatus.OK  # connected
        res = run(ex, h.as_host(), command, timeout=5.0)
    finally:
        ex.close()
    try:
        assert res.status is StepStatus.TIMED_OUT
        assert res.commands[0].stdout == "started\n"
        wait_until(lambda: log.exists() and "term" in log.read_text(), "SIGTERM to be noted")
        assert wait_until_gone(marker) == []  # ... SIGKILL followed
    finally:
        log.unlink(missing_ok=True)


def test_cancel_stops_the_command(sshd_hosts: Hosts, run_ctx: RunContext) -> None:
    h = sshd_hosts(1)[0]
    marker = unique("sleep 302")
    ex = SshExecutor(run_ctx)
    canceller = cancel_once(run_ctx, marker)  # as soon as the command runs on the host
    try:
        res = run(ex, h.as_host(), marker, "echo never", timeout=600)
    finally:
        run_ctx.cancel.set()
        canceller.join()
        ex.close()
    assert time.monotonic() - canceller.at < PROMPTLY  # type: ignore[attr-defined]
    assert res.status is StepStatus.CANCELLED
    assert len(res.commands) == 1
    assert wait_until_gone(marker) == []


def test_exit_status_with_background_holder_does_not_hang(
    sshd_hosts: Hosts, run_ctx: RunContext
) -> None:
    """A daemonised child that keeps stdout open must not hold the step to its timeout."""
    h = sshd_hosts(1)[0]
    marker = unique("sleep 303")
    ex = SshExecutor(run_ctx)
    try:
        t0 = time.monotonic()
        res = run(ex, h.as_host(), f"({marker} &) ; echo done", timeout=DEADLINE)
        elapsed = time.monotonic() - t0
    finally:
        ex.close()
        subprocess.run(["pkill", "-f", marker], check=False)
    assert res.status is StepStatus.OK, res.error  # not held until the deadline
    assert res.commands[0].exit_code == 0
    assert res.output == "done\n"
    assert elapsed < PROMPTLY


# --------------------------------------------------------------------------- jump hosts


def test_jump_host_via_proxyjump(
    sshd_hosts: Hosts, sshd_farm: SshdFarm, run_ctx: RunContext
) -> None:
    group = sshd_hosts(2)
    target, jump = group[0], group[1]
    spec = f"{jump.user}@127.0.0.1:{jump.port}"
    ex = SshExecutor(run_ctx)
    try:
        res = run(
            ex, target.as_host(ansible_ssh_common_args=f"-o ProxyJump={spec}"), "echo $SSH_CLIENT"
        )
        res2 = run(ex, target.as_host(jump=spec), "echo via jump var")
    finally:
        ex.close()
    assert res.status is StepStatus.OK, res.error
    assert res.output.startswith("127.0.0.1 ")
    assert " via " in res.data["target"]
    assert res2.status is StepStatus.OK, res2.error
    # one connection to the jump host, one to the target (shared by both forms)
    assert ex.connections_opened == 2


def test_jump_host_really_carries_the_connection(
    sshd_hosts: Hosts, sshd_farm: SshdFarm, run_ctx: RunContext
) -> None:
    """A jump server that forbids forwarding makes the hop fail: the path is the jump."""
    target = sshd_hosts(1)[0]
    closed_jump = sshd_farm.start(name="nofwd", extra=["AllowTcpForwarding no"])
    try:
        ex = SshExecutor(run_ctx)
        try:
            res = run(
                ex,
                target.as_host(
                    ansible_ssh_common_args=f"-J {closed_jump.user}@127.0.0.1:{closed_jump.port}"
                ),
                "true",
            )
        finally:
            ex.close()
    finally:
        closed_jump.proc.terminate()
        closed_jump.proc.wait(DEADLINE)
    assert res.status is StepStatus.FAILED
    assert f"via jump host {closed_jump.user}@127.0.0.1:{closed_jump.port}" in res.error


def test_jump_host_key_is_checked_too(sshd_hosts: Hosts, tmp_path: Path) -> None:
    group = sshd_hosts(2)
    target, jump = group[0], group[1]
    known = tmp_path / "known_hosts"
    known.write_text(target.known_hosts_entry + "\n")  # target known, jump not
    ex = SshExecutor(ctx_with(tmp_path, known))
    try:
        res = run(ex, target.as_host(jump=f"{jump.user}@127.0.0.1:{jump.port}"), "true")
    finally:
        ex.close()
    assert res.status is StepStatus.FAILED
    assert f"host key for [127.0.0.1]:{jump.port} is not in known_hosts" in res.error


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bastion", ("me", "bastion", 22)),
        ("ops@bastion:2222", ("ops", "bastion", 2222)),
        ("ssh://ops@10.0.0.1:22", ("ops", "10.0.0.1", 22)),
        ("ops@[::1]:2200", ("ops", "::1", 2200)),
    ],
)
def test_parse_host_spec(spec: str, expected: tuple[str, str, int]) -> None:
    assert parse_host_spec(spec, default_user="me") == expected


def test_target_reads_ansible_vars(tmp_path: Path) -> None:
    host = SimpleNamespace(
        name="web1",
        address="10.1.1.1",
        port=2200,
        user="ops",
        key_file="~/k",
        password=None,
        vars={
            "ansible_ssh_common_args": "-o ProxyJump=a@j1:2201,j2 -o UserKnownHostsFile=/x/kh",
            "ansible_ssh_known_hosts_file": "/y/kh",
        },
    )
    t = target_for(host, ctx_with(tmp_path, Path("/run/kh")))
    assert t.known_hosts == (Path("/run/kh"), Path("/y/kh"), Path("/x/kh"))
    assert (t.jumps[0].user, t.jumps[0].address, t.jumps[0].port) == ("a", "j1", 2201)
    assert t.jumps[1].address == "j2" and t.jumps[1].port == 22
    assert t.known_hosts_name == "[10.1.1.1]:2200"
    bare = SimpleNamespace(
        name="db", address="db", port=22, user=None, key_file=None, password=None, vars={}
    )
    assert target_for(bare, ctx_with(tmp_path)).known_hosts == (
        Path("~/.ssh/known_hosts").expanduser(),
    )
