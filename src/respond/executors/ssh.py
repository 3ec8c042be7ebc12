"""ssh step kind: run shell commands on inventory hosts over paramiko.

What this adapter promises (RELIABILITY rules 3, 4, 7; STYLE rules 1, 7, 9):

* **Host identity fails closed.** The server's key is checked against the known_hosts files
  of the run (``RunContext.known_hosts``) plus the host's ``ansible_ssh_known_hosts_file`` or
  ``-o UserKnownHostsFile=`` in ``ansible_ssh_common_args``; only when none is named is
  ``~/.ssh/known_hosts`` read. Unknown and changed keys are refused before any credential
  is sent. Nothing is ever added to a known_hosts file.
* **One connection per host per run**, opened on first use under a per-host lock (so
  concurrent steps never open two), reused by every later step, kept alive, and closed by
  ``close()``. The socket is ours: ``TCP_NODELAY`` is set on it, which takes a command on
  an open connection from ~44 ms (Nagle against delayed ACKs) to ~1 ms on loopback.
* **respond's own deadline on every wait**: TCP connect, banner and key exchange, auth,
  channel open, exec request and output. paramiko's ``recv_exit_status`` and
  ``exec_command`` wait without a limit, so neither is used without a watchdog.
* **A stopped command is stopped on the host too.** Each command is prefixed with one
  ``printf`` that reports the remote shell's PID; sshd makes that shell a session leader,
  so on timeout or cancel the whole process group is sent SIGTERM and, two seconds later,
  SIGKILL through a second channel. (A pty would do it with SIGHUP but merges stderr into
  stdout and makes pagers wait for a keypress.)
* **Failures are data**: refused, unreachable, rejected key, refused login, timeout and
  cancel all come back as a ``HostResult`` with a one-line message; paramiko exceptions are
  translated here and nowhere else.

Exit codes are recorded, not judged: the engine applies ``expect``. Commands of a step run
in order and stop after the first whose exit code ``expect.rc`` does not accept (default 0).

paramiko is imported inside the methods that connect (without ``invoke``: ``_paramiko.py``),
so importing this module (for a registry look-up or validation) stays cheap.
"""

from __future__ import annotations

import functools
import getpass
import heapq
import itertools
import logging
import os
import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from respond.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ExecutorError,
    HostKeyRejected,
    StepTimeout,
)
from respond.executors._output import CappedBuffer
from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.ssh import KIND as SSH_KIND
from respond.results import CommandResult, HostResult, StepStatus
from respond.sshopts import ssh_options as _ssh_options

if TYPE_CHECKING:
    import paramiko

    from respond.inventory import Host
    from respond.runbook.model import Step

CONNECT_TIMEOUT = 10.0  # connect + banner + kex + auth, like Ansible's default `timeout`
KEEPALIVE_S = 15
KILL_GRACE_S = 2.0  # SIGTERM → SIGKILL on the host
EOF_GRACE_S = 1.0  # after the exit status, how long a background child may hold stdout open
POLL_S = 0.2  # how often the read loop looks at ctx.cancel while a command is silent
DEFAULT_KEY_NAMES = ("id_ed25519", "id_ecdsa", "id_rsa")

_AEAD_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

_MARK = b"\x1erespond-pgid="
# The first thing each command does: report the remote shell's PID (= its process group,
# because sshd runs it as a session leader) on stdout, where the read loop strips it.
_WRAP = "printf '\\036respond-pgid=%s\\n' \"$$\"\n"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class SshTarget:
    """Where and how to log in: one host, or one jump host on the way to it."""

    user: str
    address: str
    port: int = 22
    key_file: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or reprs
    known_hosts: tuple[Path, ...] = ()
    jumps: tuple[SshTarget, ...] = ()  # outermost first, as in ProxyJump=a,b
    connect_timeout: float = CONNECT_TIMEOUT

    def __str__(self) -> str:
        return f"{self.user}@{self.endpoint}"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH writes into known_hosts for this address and port."""
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    @property
    def pool_key(self) -> tuple[Any, ...]:
        return (
            self.user,
            self.address,
            self.port,
            self.key_file,
            self.known_hosts,
            tuple(j.pool_key for j in self.jumps),
        )

    @property
    def via(self) -> str:
        return " via " + " → ".join(str(j) for j in self.jumps) if self.jumps else ""


def parse_host_spec(spec: str, *, default_user: str) -> tuple[str, str, int]:
    """``[ssh://][user@]host[:port]`` (IPv6 as ``[addr]:port``) → (user, host, port)."""
    spec = spec.strip()
    if spec.startswith("ssh://"):
        spec = spec[len("ssh://") :]
    user, _, hostport = spec.rpartition("@")
    user = user or default_user
    port = 22
    if hostport.startswith("["):
        addr, _, rest = hostport[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif hostport.count(":") == 1:
        addr, _, p = hostport.partition(":")
        port = int(p)
    else:
        addr = hostport
    if not addr:
        raise ValueError(f"no host name in {spec!r}")
    return user, addr, port


@functools.lru_cache(maxsize=1024)
def _ssh_args(args: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``ssh_options`` of one argument string, parsed once: the hosts of an inventory group
    usually share theirs, and shlex costs ~60 µs a host on every step."""
    jumps, files = _ssh_options(args)
    return tuple(jumps), tuple(files)


def target_for(host: Host, ctx: RunContext) -> SshTarget:
    """Connection parameters of an inventory host (Ansible variable names)."""
    hv: Mapping[str, Any] = getattr(host, "vars", None) or {}
    local_user = getpass.getuser()
    user = getattr(host, "user", None) or local_user
    key_file = getattr(host, "key_file", None)
    password = getattr(host, "password", None)
    common = " ".join(
        str(hv.get(name) or "") for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
    )
    jump_specs, files_from_args = _ssh_args(common)
    if hv.get("jump"):
        jump_specs = tuple(s for s in str(hv["jump"]).split(",") if s.strip())

    files: list[Path] = [Path(p).expanduser() for p in ctx.known_hosts]
    host_file = hv.get("ansible_ssh_known_hosts_file")
    if host_file:
        files.append(Path(str(host_file)).expanduser())
    files.extend(Path(p).expanduser() for p in files_from_args)
    if not files:
        files = [Path("~/.ssh/known_hosts").expanduser()]
    known = tuple(dict.fromkeys(files))  # keep order, drop repeats

    timeout = hv.get("ansible_ssh_timeout") or hv.get("ansible_timeout") or CONNECT_TIMEOUT
    jumps = tuple(
        SshTarget(
            *parse_host_spec(spec, default_user=local_user),
            key_file=str(key_file) if key_file else None,
            password=password,
            known_hosts=known,
            connect_timeout=float(timeout),
        )
        for spec in jump_specs
    )
    return SshTarget(
        user=str(user),
        address=str(getattr(host, "address", None) or host.name),
        port=int(getattr(host, "port", None) or 22),
        key_file=str(key_file) if key_file else None,
        password=password,
        known_hosts=known,
        jumps=jumps,
        connect_timeout=float(timeout),
    )


def wrap_become(command: str) -> str:
    return f"sudo -n -- sh -c {shlex.quote(command)}"


def _accepted_rcs(step: Step) -> frozenset[int]:
    expect = getattr(step, "expect", None)
    rc = getattr(expect, "rc", None) if expect is not None else None
    if rc is None:
        return frozenset({0})
    if isinstance(rc, int):
        return frozenset({rc})
    return frozenset(int(x) for x in rc)


# --------------------------------------------------------------------------- pool


class _Slot:
    __slots__ = ("is_jump", "lock", "transport")

    def __init__(self, is_jump: bool) -> None:
        self.lock = threading.Lock()
        self.transport: paramiko.Transport | None = None
        self.is_jump = is_jump


@dataclass(slots=True)
class _Outcome:
    result: CommandResult
    status: StepStatus
    error: str = ""
    dropped: int = 0
    retryable: bool = False  # no session could be opened: the command never started


class _KnownHosts:
    """known_hosts files as OpenSSH reads them: plain and hashed (``|1|``) names, ``[host]:port``
    for other ports, a key accepted when *any* file lists it for the host, and
    ``@revoked`` keys refused wherever they appear. ``@cert-authority`` lines are not
    supported, so certificate-only hosts are refused as unknown (fail closed)."""

    def __init__(self, tables: list[Any], revoked: set[str], described: tuple[str, ...]) -> None:
        self._tables = tables
        self._revoked = revoked
        self.described = described

    @classmethod
    def load(cls, files: tuple[Path, ...]) -> _KnownHosts:
        from respond.executors._paramiko import paramiko

        tables: list[Any] = []
        revoked: set[str] = set()
        described: list[str] = []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                described.append(f"{path} (missing)")
                continue
            except OSError as exc:
                described.append(f"{path} (unreadable: {exc.strerror})")
                continue
            table = paramiko.HostKeys()
            for line in text.splitlines():
                fields = line.split()
                if len(fields) >= 4 and fields[0] == "@revoked":
                    revoked.add(fields[3])
                if len(fields) < 3 or fields[0].startswith(("#", "@")):
                    continue
                try:  # like OpenSSH, a malformed line is skipped, not fatal
                    entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
                except Exception:
                    continue
                if entry is not None and entry.key is not None:
                    for hostname in entry.hostnames:
                        table.add(hostname, entry.key.get_name(), entry.key)
            tables.append(table)
            described.append(str(path))
        return cls(tables, revoked, tuple(described))

    def lookup(self, name: str) -> dict[str, list[Any]]:
        """Key type → the keys any file lists for ``name``."""
        found: dict[str, list[Any]] = {}
        for table in self._tables:
            for key_type, key in (table.lookup(name) or {}).items():
                found.setdefault(key_type, []).append(key)
        return found

    def verify(self, target: SshTarget, server_key: Any) -> None:
        """Raise HostKeyRejected unless ``server_key`` is known for the target."""
        name = target.known_hosts_name
        where = ", ".join(self.described) or "no files"
        offered = f"{server_key.get_name()} {server_key.fingerprint}"
        if server_key.get_base64() in self._revoked:
            raise HostKeyRejected(
                f"host key {offered} of {name} is marked @revoked in known_hosts ({where}); "
                "refusing to connect"
            )
        known = self.lookup(name)
        if not known:
            raise HostKeyRejected(
                f"host key for {name} is not in known_hosts ({where}); refusing to connect. "
                f"The host offers {offered}: verify it out of band, then add it to known_hosts"
            )
        expected = known.get(server_key.get_name())
        if expected is None:
            raise HostKeyRejected(
                f"HOST KEY CHANGED for {name}: it offers {offered}, but known_hosts "
                f"({where}) holds only {', '.join(known)} keys for it; "
                "possible man-in-the-middle attack; refusing to connect"
            )
        if not any(key == server_key for key in expected):
            listed = ", ".join(key.fingerprint for key in expected)
            raise HostKeyRejected(
                f"HOST KEY CHANGED for {name}: it offers {offered}, but known_hosts "
                f"({where}) expects {listed}; possible man-in-the-middle attack; "
                "refusing to connect"
            )


_keys: dict[tuple[str, int, int, int], Any] = {}
_keys_lock = threading.Lock()


def _private_key(path: Path) -> Any:
    """``paramiko.PKey.from_path``, parsed once per version of the file (path, inode, size,
    mtime) rather than once per host; errors are raised every time, never remembered."""
    from respond.executors._paramiko import paramiko

    st = path.stat()  # FileNotFoundError as from_path would raise it
    key_id = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    with _keys_lock:
        key = _keys.get(key_id)
    if key is None:
        key = paramiko.PKey.from_path(path)
        with _keys_lock:
            _keys[key_id] = key
    return key


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


class _Watchdog:
    """One daemon thread that calls ``fn`` at ``deadline`` unless cancelled first: the guard
    for paramiko waits that have no timeout of their own (``exec_command``, parts of the
    handshake). Shared by every connection and command, so a fan-out over hundreds of
    hosts does not start a timer thread per command."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, list[Any]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def after(self, deadline: float, fn: Callable[[], object]) -> list[Any]:
        """Arm; returns a handle for :meth:`cancel`."""
        handle: list[Any] = [fn]
        with self._cv:
            if len(self._heap) > 4096:  # drop cancelled entries that wait for their time
                self._heap = [e for e in self._heap if e[2][0] is not None]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (deadline, next(self._seq), handle))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="respond-ssh-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is handle:
                self._cv.notify()
        return handle

    @staticmethod
    def cancel(handle: list[Any]) -> None:
        handle[0] = None

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._heap and self._heap[0][2][0] is None:
                    heapq.heappop(self._heap)  # cancelled
                if not self._heap:
                    self._cv.wait(30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, _, handle = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                heapq.heappop(self._heap)
                fn = handle[0]
            if fn is not None:
                try:
                    fn()
                except Exception:
                    log.debug("ssh watchdog action failed", exc_info=True)


_watchdog = _Watchdog()


class SshExecutor:
    """Runs ``rendered.commands`` on one host; see the module docstring."""

    kind: ClassVar[str] = "ssh"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._slots: dict[tuple[Any, ...], _Slot] = {}
        self._slots_lock = threading.Lock()
        self._host_keys: dict[tuple[Path, ...], _KnownHosts] = {}
        self._host_keys_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.connections_opened = 0
        # paramiko logs its own view of failures we translate and report; without a
        # handler Python's last-resort handler would print them on the operator's screen.
        logging.getLogger("paramiko").addHandler(logging.NullHandler())

    # ------------------------------------------------------------------ Executor API

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        t0 = time.monotonic()
        # a step that says `timeout: 0` gets its kind's default, never no deadline
        timeout = float(timeout) if timeout and timeout > 0 else SSH_KIND.default_timeout
        deadline = t0 + timeout
        if host is None:
            return host_result("?", StepStatus.FAILED, started, error="an ssh step needs a host")
        name = host.name
        cancel = self.ctx.cancel
        try:
            target = target_for(host, self.ctx)
        except (ValueError, TypeError) as exc:
            return host_result(name, StepStatus.FAILED, started, error=f"{name}: {exc}")

        # Failures before a session exists sent nothing to the host: `not_started`.
        if cancel.is_set():
            return host_result(
                name, StepStatus.CANCELLED, started, error="cancelled", not_started=True
            )
        try:
            transport, reused = self.connection(target, min(deadline, t0 + target.connect_timeout))
        except StepTimeout as exc:
            return host_result(
                name, StepStatus.TIMED_OUT, started, error=str(exc), not_started=True
            )
        except ExecutorError as exc:
            return host_result(
                name,
                StepStatus.FAILED,
                started,
                error=str(exc),
                data={"error_type": type(exc).__name__, "target": str(target)},
                not_started=True,
            )
        data: dict[str, Any] = {
            "target": str(target) + target.via,
            "connection": "reused" if reused else "new",
            "connect_s": round(time.monotonic() - t0, 4),
        }

        become = bool(getattr(step, "become", False))
        accepted = _accepted_rcs(step)
        results: list[CommandResult] = []
        status = StepStatus.OK
        error = ""
        for command in rendered.commands:
            if cancel.is_set():
                status, error = StepStatus.CANCELLED, "cancelled before the command started"
                break
            if _remaining(deadline) <= 0:
                status = StepStatus.TIMED_OUT
                error = f"step timeout of {timeout:g}s reached before {command!r} started"
                break
            remote = wrap_become(command) if become else command
            outcome = self._run_command(
                transport, target, command, remote, deadline, timeout, become=become
            )
            if outcome.retryable and reused and not results and _remaining(deadline) > 0:
                # A kept connection that died quietly (host rebooted, NAT forgot us):
                # nothing ran, so open a fresh one once and try again.
                self._discard(target, transport)
                try:
                    transport, _ = self.connection(
                        target, min(deadline, time.monotonic() + target.connect_timeout)
                    )
                except ExecutorError as exc:
                    timed_out = isinstance(exc, StepTimeout)
                    status = StepStatus.TIMED_OUT if timed_out else StepStatus.FAILED
                    error = f"{outcome.error}; reconnecting failed: {exc}"
                    break
                reused = False
                data["connection"] = "reconnected"
                outcome = self._run_command(
                    transport, target, command, remote, deadline, timeout, become=become
                )
            results.append(outcome.result)
            if outcome.dropped:
                data["output_truncated_bytes"] = data.get("output_truncated_bytes", 0) + (
                    outcome.dropped
                )
            if outcome.status is not StepStatus.OK:
                status, error = outcome.status, outcome.error
                if status is StepStatus.UNKNOWN:
                    self._discard(target, transport)
                break
            if outcome.result.exit_code not in accepted:
                if len(results) < len(rendered.commands):
                    data["stopped_after"] = len(results)
                break
        return host_result(
            name,
            status,
            started,
            commands=tuple(results),
            output="".join(r.stdout for r in results),
            error=error,
            data=data,
            # every command that was tried is in `results`; none tried means none ran
            not_started=status is not StepStatus.OK and not results,
        )

    def close(self) -> None:
        """Close every connection of the run: hosts first, then jump hosts."""
        with self._slots_lock:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in sorted(slots, key=lambda s: s.is_jump):
            if slot.transport is not None:
                try:
                    slot.transport.close()
                except Exception:  # closing a dead connection is not news
                    log.debug("closing ssh transport failed", exc_info=True)
                slot.transport = None

    # ------------------------------------------------------------------ connections

    def connection(
        self, target: SshTarget, deadline: float, *, is_jump: bool = False
    ) -> tuple[paramiko.Transport, bool]:
        """The run's open, authenticated transport to ``target`` (opened on first use);
        returns (transport, reused). Raises ConnectionFailed, HostKeyRejected,
        AuthenticationFailed or StepTimeout."""
        with self._slots_lock:
            slot = self._slots.get(target.pool_key)
            if slot is None:
                slot = self._slots[target.pool_key] = _Slot(is_jump)
        if not slot.lock.acquire(timeout=max(0.0, _remaining(deadline))):
            raise StepTimeout(f"timed out waiting for another step's connection to {target}")
        try:
            current = slot.transport
            if current is not None and current.is_active() and current.is_authenticated():
                return current, True
            if current is not None:
                current.close()
                slot.transport = None
            transport = self._open(target, deadline)
            slot.transport = transport
            with self._count_lock:
                self.connections_opened += 1
            return transport, False
        finally:
            slot.lock.release()

    def _discard(self, target: SshTarget, transport: paramiko.Transport) -> None:
        with self._slots_lock:
            slot = self._slots.get(target.pool_key)
        if slot is not None and slot.transport is transport:
            slot.transport = None
        transport.close()

    def _open(self, target: SshTarget, deadline: float) -> paramiko.Transport:
        from respond.executors._paramiko import paramiko

        budget = max(0.0, _remaining(deadline))
        sock: Any
        if target.jumps:
            # ProxyJump=a,b: reach b through a, then this host through b.
            last = target.jumps[-1]
            hop = SshTarget(
                user=last.user,
                address=last.address,
                port=last.port,
                key_file=last.key_file,
                password=last.password,
                known_hosts=last.known_hosts,
                jumps=target.jumps[:-1],
                connect_timeout=last.connect_timeout,
            )
            via, _ = self.connection(hop, deadline, is_jump=True)
            try:
                sock = via.open_channel(
                    "direct-tcpip",
                    (target.address, target.port),
                    ("127.0.0.1", 0),
                    timeout=budget,
                )
            except paramiko.ChannelException as exc:
                raise ConnectionFailed(
                    f"cannot connect to {target.endpoint} via jump host {hop}: "
                    f"{exc.text or 'channel refused'} (code {exc.code})"
                ) from exc
            except (paramiko.SSHException, OSError, EOFError) as exc:
                if _remaining(deadline) <= 0:
                    raise StepTimeout(
                        f"cannot connect to {target.endpoint} via jump host {hop}: "
                        f"no answer within {budget:.3g}s"
                    ) from exc
                raise ConnectionFailed(
                    f"cannot connect to {target.endpoint} via jump host {hop}: {exc}"
                ) from exc
        else:
            sock = self._tcp_connect(target, budget)

        transport = paramiko.Transport(sock)
        # Every wait inside paramiko gets our deadline; the watchdog also covers the
        # ones that ignore it.
        watchdog = _watchdog.after(deadline, transport.close)
        try:
            transport.banner_timeout = max(0.1, _remaining(deadline))
            opts = transport.get_security_options()
            # AES-GCM first: its integrity check runs inside the cipher, in C; with CTR and
            # HMAC paramiko checks every packet's MAC byte by byte in Python (~8% of the
            # client's CPU in a fan-out). paramiko's other ciphers stay as fallbacks.
            opts.ciphers = _AEAD_FIRST + tuple(c for c in opts.ciphers if c not in _AEAD_FIRST)
            trusted = self._known_hosts(target.known_hosts)
            known = trusted.lookup(target.known_hosts_name)
            if known:
                preferred = [k for k in known if k in opts.key_types]
                opts.key_types = preferred + [k for k in opts.key_types if k not in preferred]
            done = threading.Event()
            transport.start_client(event=done)
            done.wait(max(0.0, _remaining(deadline)))
            if not done.is_set() or not transport.is_active():
                cause = transport.get_exception()
                if _remaining(deadline) <= 0:
                    raise StepTimeout(
                        f"cannot connect to {target}{target.via}: no SSH handshake within "
                        f"{budget:.3g}s"
                    ) from cause
                raise ConnectionFailed(
                    f"cannot connect to {target}{target.via}: SSH handshake failed: {_reason(cause)}"
                ) from cause
            trusted.verify(target, transport.get_remote_server_key())
            self._authenticate(transport, target, deadline)
            transport.set_keepalive(KEEPALIVE_S)
            if _remaining(deadline) <= 0 or not transport.is_active():
                raise StepTimeout(
                    f"cannot connect to {target}{target.via}: login took longer than {budget:.3g}s"
                )
        except BaseException:
            transport.close()
            raise
        finally:
            _watchdog.cancel(watchdog)
        return transport

    @staticmethod
    def _tcp_connect(target: SshTarget, budget: float) -> socket.socket:
        where = target.endpoint
        try:
            sock = socket.create_connection((target.address, target.port), timeout=budget)
        except TimeoutError as exc:
            raise StepTimeout(f"cannot connect to {where}: no answer within {budget:.3g}s") from exc
        except socket.gaierror as exc:
            raise ConnectionFailed(
                f"cannot connect to {where}: cannot resolve {target.address!r} ({exc.strerror})"
            ) from exc
        except OSError as exc:
            raise ConnectionFailed(f"cannot connect to {where}: {exc.strerror or exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock

    def _known_hosts(self, files: tuple[Path, ...]) -> _KnownHosts:
        """The trusted host keys of ``files``, parsed once per run."""
        with self._host_keys_lock:
            cached = self._host_keys.get(files)
            if cached is None:
                cached = self._host_keys[files] = _KnownHosts.load(files)
            return cached

    @staticmethod
    def _authenticate(transport: paramiko.Transport, target: SshTarget, deadline: float) -> None:
        """Key file, then ssh-agent, then default keys (only when no key file or password
        is configured), then password; the first that the server accepts wins."""
        from respond.executors._paramiko import paramiko

        tried: list[str] = []
        problems: list[str] = []

        def attempt(label: str, fn: Callable[[], Any]) -> bool:
            if _remaining(deadline) <= 0:
                raise StepTimeout(f"login to {target} did not finish in time")
            transport.auth_timeout = max(0.1, _remaining(deadline))
            tried.append(label)
            try:
                more = fn()
            except paramiko.BadAuthenticationType as exc:
                problems.append(f"server allows only {', '.join(exc.allowed_types)}")
                return False
            except paramiko.AuthenticationException as exc:
                if _remaining(deadline) <= 0:
                    raise StepTimeout(f"login to {target} did not finish in time") from exc
                if not transport.is_active():
                    raise AuthenticationFailed(
                        f"authentication refused for {target}: the server closed the "
                        f"connection (tried: {', '.join(tried)})"
                    ) from exc
                return False
            if more:  # partial success: the server wants another factor
                problems.append(f"server also requires {', '.join(more)}")
                return False
            return True

        if target.key_file:
            path = Path(target.key_file).expanduser()
            try:
                key = _private_key(path)
            except FileNotFoundError as exc:
                raise AuthenticationFailed(f"key file {path} for {target} does not exist") from exc
            except paramiko.PasswordRequiredException:
                problems.append(f"key file {path} is encrypted (load it into ssh-agent)")
            except (paramiko.SSHException, ValueError, OSError) as exc:
                problems.append(f"cannot read key file {path}: {exc}")
            else:
                if attempt(f"key {path}", lambda: transport.auth_publickey(target.user, key)):
                    return

        if os.environ.get("SSH_AUTH_SOCK"):
            try:
                agent_keys = paramiko.Agent().get_keys()
            except (paramiko.SSHException, OSError) as exc:
                agent_keys = ()
                problems.append(f"ssh-agent unusable: {exc}")
            for i, agent_key in enumerate(agent_keys):

                def by_agent(k: Any = agent_key) -> Any:
                    return transport.auth_publickey(target.user, k)

                if attempt(f"agent key {i + 1}", by_agent):
                    return

        if not target.key_file and target.password is None:
            for key_name in DEFAULT_KEY_NAMES:
                path = Path("~/.ssh").expanduser() / key_name
                if not path.is_file():
                    continue
                try:
                    default_key = _private_key(path)
                except (paramiko.SSHException, ValueError, OSError):
                    continue

                def by_default(k: Any = default_key) -> Any:
                    return transport.auth_publickey(target.user, k)

                if attempt(f"key {path}", by_default):
                    return

        if target.password is not None:
            password = target.password
            if attempt("password", lambda: transport.auth_password(target.user, password)):
                return

        detail = "; ".join(problems)
        if not tried:
            raise AuthenticationFailed(
                f"no usable credentials for {target}: set ansible_ssh_private_key_file or "
                f"ansible_password, or run an ssh-agent" + (f" ({detail})" if detail else "")
            )
        raise AuthenticationFailed(
            f"authentication refused for {target} (tried: {', '.join(tried)})"
            + (f"; {detail}" if detail else "")
        )

    # ------------------------------------------------------------------ commands

    def _run_command(
        self,
        transport: paramiko.Transport,
        target: SshTarget,
        command: str,
        remote: str,
        deadline: float,
        step_timeout: float,
        *,
        become: bool,
    ) -> _Outcome:
        from respond.executors._paramiko import paramiko

        t0 = time.monotonic()
        out, err = CappedBuffer(), CappedBuffer()
        head = b""  # stdout until the PID line has been seen
        pgid: int | None = None
        marker_done = False
        cancel = self.ctx.cancel

        def outcome(
            status: StepStatus,
            error: str = "",
            exit_code: int | None = None,
            *,
            retryable: bool = False,
        ) -> _Outcome:
            if not marker_done and head:
                out.feed(head)
            return _Outcome(
                CommandResult(
                    command=command,
                    exit_code=exit_code,
                    stdout=out.text(),
                    stderr=err.text(),
                    duration_s=time.monotonic() - t0,
                ),
                status,
                error,
                out.dropped + err.dropped,
                retryable,
            )

        try:
            chan = transport.open_session(timeout=max(0.1, _remaining(deadline)))
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if _remaining(deadline) <= 0:
                return outcome(
                    StepStatus.TIMED_OUT,
                    f"no session on {target} within the timeout",
                    retryable=True,
                )
            return outcome(
                StepStatus.FAILED, f"cannot open a session on {target}: {exc}", retryable=True
            )
        watchdog = _watchdog.after(deadline, chan.close)  # exec_command waits without a limit
        try:
            chan.exec_command(_WRAP + remote)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            chan.close()
            if _remaining(deadline) <= 0:
                return outcome(StepStatus.TIMED_OUT, f"{target} did not start the command in time")
            return outcome(StepStatus.FAILED, f"{target} refused to run the command: {exc}")
        finally:
            _watchdog.cancel(watchdog)

        stop: StepStatus | None = None
        exit_seen_at: float | None = None
        try:
            fd = chan.fileno()
            while True:
                while chan.recv_ready():
                    data = chan.recv(65536)
                    if not marker_done:
                        head += data
                        if b"\n" in head or len(head) > 64:
                            line, _, rest = head.partition(b"\n")
                            if line.startswith(_MARK) and line[len(_MARK) :].isdigit():
                                pgid = int(line[len(_MARK) :])
                                data = rest
                            else:
                                data = head
                            head = b""
                            marker_done = True
                        else:
                            continue
                    out.feed(data)
                while chan.recv_stderr_ready():
                    err.feed(chan.recv_stderr(65536))
                eof = chan.eof_received or chan.closed
                if chan.exit_status_ready():
                    if eof:
                        break
                    now = time.monotonic()
                    exit_seen_at = exit_seen_at or now
                    if now - exit_seen_at >= EOF_GRACE_S:
                        break  # a background child holds stdout open; do not wait for it
                if cancel.is_set():
                    stop = StepStatus.CANCELLED
                    break
                left = _remaining(deadline)
                if left <= 0:
                    stop = StepStatus.TIMED_OUT
                    break
                if not transport.is_active():
                    break
                wait = min(left, POLL_S)
                if exit_seen_at is not None:
                    wait = min(wait, 0.05)
                if eof:
                    # the pipe stays readable after EOF: wait on the exit status instead
                    chan.status_event.wait(wait)
                else:
                    select.select([fd], [], [], wait)

            if stop is not None:
                self._kill(transport, pgid, become=become)
                chan.close()
                if stop is StepStatus.CANCELLED:
                    return outcome(stop, f"cancelled; stopped the command on {target.address}")
                return outcome(
                    stop,
                    f"command did not finish within the step timeout of {step_timeout:g}s; "
                    f"stopped it on {target.address}"
                    + ("" if pgid else " (its process id was unknown; it may still run)"),
                )
            code = chan.exit_status if chan.exit_status_ready() else -1
            chan.close()
            if code >= 0:
                return outcome(StepStatus.OK, exit_code=code)
            if not transport.is_active():
                return outcome(
                    StepStatus.UNKNOWN,
                    f"connection to {target} was lost while the command ran; "
                    "its outcome is unknown",
                )
            # The channel closed without an exit status: OpenSSH sends exit-signal
            # (which paramiko does not parse) when the command was killed by a signal.
            err.feed(b"\n[respond: the command ended without an exit status (killed by a signal?)]")
            return outcome(StepStatus.OK, exit_code=None)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            chan.close()
            return outcome(
                StepStatus.UNKNOWN,
                f"connection to {target} failed while the command ran ({exc}); "
                "its outcome is unknown",
            )

    def _kill(self, transport: paramiko.Transport, pgid: int | None, *, become: bool) -> None:
        """SIGTERM the command's process group now and SIGKILL it after a grace period,
        from a second channel on the same connection; best effort, bounded in time."""
        from respond.executors._paramiko import paramiko

        if pgid is None or pgid <= 1 or not transport.is_active():
            return
        # The follow-up SIGKILL ignores SIGHUP: under sudo's pty it would otherwise die
        # with the pty before its time comes.
        one = (
            f"kill -TERM -{pgid} 2>/dev/null; "
            f"(trap '' HUP; sleep {KILL_GRACE_S:g}; kill -KILL -{pgid} 2>/dev/null) "
            ">/dev/null 2>&1 </dev/null &"
        )
        # As the login user first (that always works for the user's own processes), then
        # through sudo for what the command started as root.
        script = f"{one}\n{wrap_become(one)} >/dev/null 2>&1" if become else one
        deadline = time.monotonic() + 3.0
        try:
            chan = transport.open_session(timeout=3.0)
        except (paramiko.SSHException, OSError, EOFError):
            log.debug("could not open a channel to stop process group %s", pgid, exc_info=True)
            return
        watchdog = _watchdog.after(deadline, chan.close)
        try:
            chan.exec_command(script)
            chan.status_event.wait(max(0.0, _remaining(deadline)))
        except (paramiko.SSHException, OSError, EOFError):
            log.debug("could not stop process group %s", pgid, exc_info=True)
        finally:
            _watchdog.cancel(watchdog)
            chan.close()


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "the server closed the connection"
    text = str(exc) or type(exc).__name__
    if "Error reading SSH protocol banner" in text:
        return "no SSH banner (is this an SSH server?)"
    return text
