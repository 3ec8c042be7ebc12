"""The lab's SSH hosts: one paramiko server per host, each on its own loopback port.

Key authentication only (the lab client key, for the current user), one host key per host.
A lab host is a sandbox. An ``exec`` request runs the command string in restricted bash
(:mod:`respond.lab.shell`) whose PATH is only the lab's wrapper directory (the simulated tools
and the checked harmless commands of :mod:`respond.lab.safecmd`), with the host's own tree
``<home>/lab/hosts/<name>`` as HOME, working directory and TMPDIR, so quoting, pipes, ``;``,
functions and exit codes are real shell semantics while everything else is ``command not
found``. Where the kernel offers Landlock, the command's whole process tree (Ansible's Python
included) is also confined to that tree (:mod:`respond.lab.landlock`). A ``shell`` request
gets the same restricted bash, interactive, on a pseudo-terminal (netmiko ``linux``).
When the lab state says a host is off (or cut off behind a dead switch), its listening socket
closes (connections are refused) and, after a short grace, its sessions and commands end.
Every ``exec`` command and every line typed into a shell goes to the lab's command log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL

from respond.lab import landlock, shell
from respond.lab.commandlog import CommandLog, LineSplitter
from respond.lab.paths import LabPaths
from respond.lab.sshserver import (
    SessionServer,
    as_text,
    bind_loopback,
    close_transports,
    serve_transport,
    start_transport,
)

log = logging.getLogger("respond.lab.ssh")

MAX_COMMAND_SECONDS = 3600.0  # a command running longer than this is killed
SESSION_GRACE = 1.0  # seconds a session survives its host going down (lets `shutdown` return)
PASS_ENV = ("LANG", "LANGUAGE", "TERM", "TZ")
BACKLOG = 64
SSH_VERSION = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
CONNECTION_SECONDS = 7 * 86400  # a connection is closed after this long, whatever it does


# How long a command's output may still be on its way to the client after the command exited.
# The pumps end at end-of-file, at once for a command that leaves no child behind; on a busy
# machine sending the last of it can take seconds, and an exit status sent before it would
# cut the output short (a reading that looks empty). A background child that keeps the pipe
# open holds the channel this long at most.
OUTPUT_DRAIN_S = 20.0


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


class HostRuntime:
    """What one lab host needs at run time."""

    def __init__(
        self,
        name: str,
        port: int,
        host_key: paramiko.PKey,
        scratch: Path,
        ruleset: landlock.Ruleset | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.host_key = host_key
        self.scratch = scratch
        self.ruleset = ruleset  # Landlock confinement of its commands (None: not offered)
        self.listener: socket.socket | None = None
        self.transports: set[paramiko.Transport] = set()
        self.processes: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()


class SSHHosts:
    """All SSH hosts: one accept thread over every listening socket."""

    def __init__(
        self,
        *,
        user: str,
        authorized_key: paramiko.PKey,
        env: dict[str, str],
        paths: LabPaths,
        commands: CommandLog | None = None,
    ) -> None:
        self.user = user
        self.paths = paths
        self.bash = shutil.which("bash", path="/bin:/usr/bin") or "/bin/bash"
        self.commands = commands
        self.authorized_key = authorized_key
        self.base_env = env
        self.hosts: dict[str, HostRuntime] = {}
        self._desired: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down_since: dict[str, float] = {}

    # -------------------------------------------------------------- setup

    def add(
        self,
        name: str,
        preferred_port: int | None,
        host_key: paramiko.PKey,
        scratch: Path,
        strict: bool,
    ) -> int:
        """Bind the host's listening socket (``preferred_port`` if free) and return the port."""
        (scratch / "tmp").mkdir(parents=True, exist_ok=True)
        sock = bind_loopback(preferred_port, strict, BACKLOG)
        runtime = HostRuntime(
            name, sock.getsockname()[1], host_key, scratch.resolve(), self._ruleset(scratch)
        )
        runtime.listener = sock
        self.hosts[name] = runtime
        self._desired[name] = True
        return runtime.port

    def _ruleset(self, scratch: Path) -> landlock.Ruleset | None:
        code = Path(landlock.__file__).resolve().parent  # the simulated tools' modules
        rules = landlock.host_rules(scratch.resolve(), self.paths.root, self.paths.bin, [code])
        try:
            ruleset = landlock.build(rules)
        except OSError as exc:  # a kernel that refuses a rule: the allowlist still holds
            log.warning("Landlock ruleset not built (%s): lab hosts rely on the allowlist", exc)
            return None
        if ruleset is None:
            log.info("Landlock not offered by this kernel: lab hosts rely on the allowlist alone")
        return ruleset

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._accept_loop, name="lab-ssh-accept", daemon=True
        )
        self._thread.start()

    def set_available(self, name: str, up: bool) -> None:
        """Ask the accept thread to open or close a host's port (called by the monitor)."""
        with self._lock:
            self._desired[name] = up
        host = self.hosts[name]
        if up:
            self._down_since.pop(name, None)
            return
        first = self._down_since.setdefault(name, time.monotonic())
        if time.monotonic() - first >= SESSION_GRACE:
            self._drop_sessions(host)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for host in self.hosts.values():
            if host.listener is not None:
                with contextlib.suppress(OSError):
                    host.listener.close()
                host.listener = None
            self._drop_sessions(host)
            if host.ruleset is not None:
                host.ruleset.close()
                host.ruleset = None

    # -------------------------------------------------------------- accept

    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        registered: dict[str, socket.socket] = {}
        try:
            while not self._stop.is_set():
                self._apply_desired(selector, registered)
                try:
                    ready = selector.select(timeout=0.2) if registered else []
                except OSError:
                    ready = []
                if not registered:
                    self._stop.wait(0.2)
                for key, _ in ready:
                    name = key.data
                    listener = registered.get(name)
                    if listener is None:
                        continue
                    try:
                        conn, _addr = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as exc:
                        log.warning("%s: accept failed: %s", name, exc)
                        continue
                    threading.Thread(
                        target=self._serve,
                        args=(self.hosts[name], conn),
                        name=f"lab-ssh-{name}",
                        daemon=True,
                    ).start()
        finally:
            selector.close()

    def _apply_desired(
        self, selector: selectors.BaseSelector, registered: dict[str, socket.socket]
    ) -> None:
        with self._lock:
            desired = dict(self._desired)
        for name, up in desired.items():
            host = self.hosts[name]
            if up and name not in registered:
                if host.listener is None:
                    try:
                        host.listener = bind_loopback(host.port, True, BACKLOG)
                        log.info("%s: powered on, listening on port %d again", name, host.port)
                    except OSError as exc:
                        log.warning(
                            "%s: cannot listen on port %d again yet: %s", name, host.port, exc
                        )
                        continue
                host.listener.setblocking(False)
                selector.register(host.listener, selectors.EVENT_READ, name)
                registered[name] = host.listener
            elif not up and name in registered:
                sock = registered.pop(name)
                selector.unregister(sock)
                with contextlib.suppress(OSError):
                    sock.close()
                host.listener = None
                log.info("%s: down, port %d closed", name, host.port)

    # -------------------------------------------------------------- sessions

    def _serve(self, host: HostRuntime, conn: socket.socket) -> None:
        conn.setblocking(True)
        transport = start_transport(
            conn,
            local_version=SSH_VERSION,
            host_key=host.host_key,
            server=lambda transport: _Server(self, host, transport),
            log=log,
            name=host.name,
        )
        if transport is None:
            return
        deadline = time.monotonic() + CONNECTION_SECONDS
        serve_transport(
            transport,
            host.transports,
            host.lock,
            lambda: not self._stop.is_set() and time.monotonic() < deadline,
        )

    def _drop_sessions(self, host: HostRuntime) -> None:
        with host.lock:
            transports = list(host.transports)
            processes = list(host.processes)
        for proc in processes:
            _kill_group(proc)
        close_transports(transports)

    def env_for(self, host: HostRuntime, extra: dict[str, str]) -> dict[str, str]:
        env = dict(self.base_env)
        env.update({k: v for k, v in extra.items() if k in PASS_ENV or k.startswith("LC_")})
        env["LAB_HOST"] = host.name
        env["HOME"] = str(host.scratch)
        env["PWD"] = str(host.scratch)
        env["TMPDIR"] = str(host.scratch / "tmp")
        env["RESPOND_LAB_HOST_DIR"] = str(host.scratch)
        env["HOSTNAME"] = host.name
        return env


class _Server(SessionServer):
    def __init__(self, hosts: SSHHosts, host: HostRuntime, transport: paramiko.Transport) -> None:
        super().__init__()
        self.hosts = hosts
        self.host = host
        self.transport = transport
        self.env: dict[int, dict[str, str]] = {}
        self.pty_fds: dict[int, int] = {}

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == self.hosts.user and key == self.hosts.authorized_key:
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return AUTH_FAILED

    def check_channel_env_request(
        self, channel: paramiko.Channel, name: bytes, value: bytes
    ) -> bool:
        self.env.setdefault(channel.get_id(), {})[as_text(name)] = as_text(value)
        return True

    def check_channel_window_change_request(
        self, channel: paramiko.Channel, width: int, height: int, pw: int, ph: int
    ) -> bool:
        fd = self.pty_fds.get(channel.get_id())
        if fd is not None:
            _set_winsize(fd, width, height)
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = as_text(command)
        argv = shell.exec_argv(self.hosts.bash, text, self.hosts.user)
        if self.hosts.commands is not None:
            self.hosts.commands.append(self.host.name, text)  # before it can run
        threading.Thread(
            target=self._run, args=(channel, argv), daemon=True, name=f"lab-exec-{self.host.name}"
        ).start()
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        lines = None
        if self.hosts.commands is not None:
            lines = LineSplitter(self.host.name, self.hosts.commands)
        threading.Thread(
            target=self._run,
            args=(
                channel,
                shell.interactive_argv(self.hosts.bash, str(self.hosts.paths.rcfile)),
                lines,
            ),
            daemon=True,
            name=f"lab-shell-{self.host.name}",
        ).start()
        return True

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        return False  # no sftp: inventory sets ansible_ssh_transfer_method=piped

    def check_global_request(self, kind: str, msg: paramiko.Message) -> bool:
        return False

    # -------------------------------------------------------------- running

    def _run(
        self, channel: paramiko.Channel, argv: list[str], lines: LineSplitter | None = None
    ) -> None:
        """Run ``argv`` for the channel; ``lines`` (a shell) logs what is typed into it."""
        chan_id = channel.get_id()
        (self.host.scratch / "tmp").mkdir(parents=True, exist_ok=True)  # even after `rm -rf ~/*`
        env = self.hosts.env_for(self.host, self.env.get(chan_id, {}))
        pty_info = self.pty.get(chan_id)
        try:
            if pty_info is not None:
                rc = self._run_pty(channel, argv, env, pty_info, lines)
            else:
                rc = self._run_pipes(channel, argv, env, lines)
        except Exception as exc:  # the client must always get an answer
            log.exception("%s: command failed to run: %s", self.host.name, exc)
            rc = 255
        with contextlib.suppress(Exception):
            channel.send_exit_status(rc)
        with contextlib.suppress(Exception):
            channel.shutdown_write()
            channel.close()

    def _track(self, proc: subprocess.Popen[bytes], add: bool) -> None:
        with self.host.lock:
            if add:
                self.host.processes.add(proc)
            else:
                self.host.processes.discard(proc)

    def _run_pipes(
        self,
        channel: paramiko.Channel,
        argv: list[str],
        env: dict[str, str],
        lines: LineSplitter | None,
    ) -> int:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.host.scratch,
            env=env,
            start_new_session=True,
            close_fds=True,
            preexec_fn=landlock.preexec_for(self.host.ruleset),
        )
        self._track(proc, True)
        try:
            assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
            out = threading.Thread(
                target=_pump_out, args=(proc.stdout.fileno(), channel.sendall), daemon=True
            )
            err = threading.Thread(
                target=_pump_out, args=(proc.stderr.fileno(), channel.sendall_stderr), daemon=True
            )
            inp = threading.Thread(target=_pump_in, args=(channel, proc, lines), daemon=True)
            for t in (out, err, inp):
                t.start()
            rc = _wait(proc, channel)
            out.join(timeout=OUTPUT_DRAIN_S)
            err.join(timeout=OUTPUT_DRAIN_S)
            return rc
        finally:
            _kill_group(proc)
            self._track(proc, False)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    def _run_pty(
        self,
        channel: paramiko.Channel,
        argv: list[str],
        env: dict[str, str],
        pty_info: tuple[str, int, int],
        lines: LineSplitter | None,
    ) -> int:
        import pty

        term, width, height = pty_info
        env["TERM"] = term
        master, slave = pty.openpty()
        _set_winsize(master, width, height)
        self.pty_fds[channel.get_id()] = master
        try:
            proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=self.host.scratch,
                env=env,
                start_new_session=True,
                close_fds=True,
                preexec_fn=landlock.preexec_for(self.host.ruleset),
            )
        finally:
            os.close(slave)
        self._track(proc, True)
        try:
            out = threading.Thread(target=_pump_out, args=(master, channel.sendall), daemon=True)
            out.start()
            inp = threading.Thread(
                target=_pump_pty_in, args=(channel, proc, master, lines), daemon=True
            )
            inp.start()
            rc = _wait(proc, channel)
            out.join(timeout=OUTPUT_DRAIN_S)
            return rc
        finally:
            _kill_group(proc)
            self._track(proc, False)
            self.pty_fds.pop(channel.get_id(), None)
            with contextlib.suppress(OSError):
                os.close(master)


def _set_winsize(fd: int, width: int, height: int) -> None:
    import fcntl
    import struct
    import termios

    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _wait(proc: subprocess.Popen[bytes], channel: paramiko.Channel) -> int:
    """Wait for the command; kill it when the client goes away or it runs too long."""
    import select

    deadline = time.monotonic() + MAX_COMMAND_SECONDS
    pidfd = -1
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(proc.pid)  # wakes up the moment the process exits (Linux)
    try:
        while proc.poll() is None:
            if pidfd >= 0:
                select.select([pidfd], [], [], 0.2)
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.2)
            if proc.poll() is not None:
                break
            transport = channel.get_transport()
            if (
                channel.closed
                or transport is None
                or not transport.is_active()
                or time.monotonic() > deadline
            ):
                _kill_group(proc)
                proc.wait(timeout=5)
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    rc = proc.returncode
    return rc if rc >= 0 else 128 - rc


def _pump_out(fd: int, send: Any) -> None:
    while True:
        try:
            data = os.read(fd, 32768)
        except OSError:  # EIO on a pty when the child is gone
            return
        if not data:
            return
        try:
            send(data)
        except (OSError, EOFError, paramiko.SSHException):
            return


def _pump_in(
    channel: paramiko.Channel, proc: subprocess.Popen[bytes], lines: LineSplitter | None
) -> None:
    assert proc.stdin is not None
    channel.settimeout(0.5)
    try:
        while proc.poll() is None:
            try:
                data = channel.recv(32768)
            except TimeoutError:
                continue
            except (OSError, EOFError):
                break
            if not data:
                break
            if lines is not None:  # a shell: what is typed is a command
                lines.feed(data)
            proc.stdin.write(data)
            proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.close()


def _pump_pty_in(
    channel: paramiko.Channel,
    proc: subprocess.Popen[bytes],
    master: int,
    lines: LineSplitter | None,
) -> None:
    channel.settimeout(0.5)
    while proc.poll() is None:
        try:
            data = channel.recv(32768)
        except TimeoutError:
            continue
        except (OSError, EOFError):
            return
        if not data:
            return
        if lines is not None:
            lines.feed(data)
        try:
            os.write(master, data)
        except OSError:
            return
