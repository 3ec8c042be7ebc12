"""The ``netmiko`` step kind: show commands and configuration on network devices.

A thin adapter over netmiko (STYLE rule 9): the inventory host becomes ``ConnectHandler``
arguments, netmiko's outcome becomes a ``HostResult``. Rules it keeps:

* host identity fails closed (RELIABILITY rule 3): ``ssh_strict=True`` with only respond's
  known_hosts loaded, so an unknown or changed host key is refused, never added;
* device-CLI lines are data (rule 4): a line with a newline or control character is refused
  before anything is sent;
* every wait has respond's deadline (rule 7): connect/banner/auth timeouts and each command's
  ``read_timeout`` come from the step timeout; running out gives ``timed_out``;
* no session log, and netmiko's debug log is masked (rule 9);
* one connection per host, opened on first use, reused by later steps, closed by ``close()``.

netmiko is imported inside the methods that need it (STYLE rule 11).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import socket
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.netmiko import DeviceSession
from respond.netfacts.configdiff import redact
from respond.netos import DEVICE_TYPES, RUNNING_CONFIG, family
from respond.results import CommandResult, ConfigSnapshot, HostResult, StepStatus
from respond.secrets import Masker

if TYPE_CHECKING:
    from datetime import datetime

    from respond.inventory import Host
    from respond.runbook.model import Step

# netmiko names are accepted as ansible_network_os too.
NETMIKO_TYPES = frozenset(DEVICE_TYPES.values())

CONNECT_TIMEOUT = 10.0  # upper bound for TCP connect, banner and auth, each
KEEPALIVE_S = 15
CLOSE_WORKERS = 64  # devices disconnected at the same time when a run ends
# Lines a device prints when it rejects a command (IOS/NX-OS/EOS, VRP/Comware, JunOS).
CLI_ERROR = re.compile(
    r"^\s*(% ?(Invalid input|Incomplete command|Ambiguous command|Unknown command|"
    r"Unrecognized command|Wrong parameter|Too many parameters|Error)|Error: |syntax error|"
    r"unknown command)",
    re.IGNORECASE | re.MULTILINE,
)
_LINE_SEPARATORS = {"\u2028", "\u2029"}

log = logging.getLogger(__name__)


def device_type_for(host: Host) -> str:
    """The netmiko device type of ``host``; raises ``ValueError`` with the known names."""
    explicit = host.vars.get("netmiko_device_type")
    if explicit:
        return str(explicit)
    os_name = host.network_os
    if os_name:
        key = str(os_name).lower()
        if key in NETMIKO_TYPES:
            return key
        key = key.rsplit(".", 1)[-1]
        if key in DEVICE_TYPES:
            return DEVICE_TYPES[key]
    known = ", ".join(sorted(DEVICE_TYPES))
    what = f"ansible_network_os {os_name!r}" if os_name else "no ansible_network_os"
    raise ValueError(
        f"{what} for host {host.name}: cannot choose a netmiko device type "
        f"(known: {known}; or set netmiko_device_type to a netmiko device type)"
    )


def unsafe_line(line: str) -> str | None:
    """Why ``line`` must not be sent to a device CLI, or None if it is fine."""
    for ch in line:
        if ch in ("\n", "\r"):
            return "contains a line break"
        if unicodedata.category(ch) == "Cc" or ch in _LINE_SEPARATORS:
            return f"contains the control character U+{ord(ch):04X}"
    return None


class _MaskingFilter(logging.Filter):
    """Masks known secrets in netmiko's own log records (its debug log echoes writes)."""

    def __init__(self) -> None:
        super().__init__()
        self.masker = Masker()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.masker.secrets:
            record.msg = self.masker.mask(record.getMessage())
            record.args = None
        return True


_log_filter = _MaskingFilter()
_log_filter_installed = False
_log_filter_lock = threading.Lock()


def _install_log_filter(secrets: Iterable[Any]) -> None:
    global _log_filter_installed
    with _log_filter_lock:
        for s in secrets:
            _log_filter.masker.add(s)
        if not _log_filter_installed:
            logging.getLogger("netmiko").addFilter(_log_filter)
            _log_filter_installed = True


class _Failure(Exception):
    """Internal: ends a run() early with a status and a message."""

    def __init__(self, status: StepStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NetmikoExecutor:
    kind: ClassVar[str] = "netmiko"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._connections: dict[str, Any] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._known_hosts_by_files: dict[tuple[Path, ...], str] = {}
        self._tmp_files: list[str] = []
        # hosts whose session was sent configuration: only those get netmiko's graceful
        # logout, which leaves config mode first (and on Huawei waits 2 s of quiet for it)
        self._configured: set[str] = set()

    # --- the Executor protocol ----------------------------------------------------------

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        name = host.name if host is not None else "?"
        deadline = time.monotonic() + timeout
        session = rendered if isinstance(rendered, DeviceSession) else None
        config = session.config if session is not None else ()
        commands = tuple(rendered.commands)
        facts = _FactsWanted.of(session, host)
        results: list[CommandResult] = []
        masker = self._masker(host)
        evidence = _Evidence()
        sending = False
        try:
            if host is None:
                raise _Failure(StepStatus.FAILED, "the netmiko kind needs an inventory host")
            device_type = _device_type_to_send(host, (*commands, *config), facts)
            textfsm = bool(getattr(step, "textfsm", False) or (session and session.textfsm))
            save = bool(session.save) if session is not None else bool(getattr(step, "save", False))
            with self._host_lock(name):
                conn = self._connection(host, device_type, deadline)
                sending = True
                try:
                    self._send(conn, device_type, commands, textfsm, deadline, results)
                    self._read_facts(conn, facts, deadline, results)
                    if config:
                        with self._lock:
                            self._configured.add(name)
                        self._send_config(
                            conn, device_type, config, save, deadline, results, evidence
                        )
                except _Failure:
                    # the session may be mid-command or still in config mode: start afresh
                    self._drop(name)
                    raise
        except _Failure as failure:
            return host_result(
                name,
                failure.status,
                started,
                commands=_masked(results, masker),
                output=masker.mask(_joined(results)),
                error=masker.mask(failure.message),
                changed=bool(config) and any(r.command == "<config>" for r in results),
                not_started=not sending,  # refused, or the connection failed: nothing sent
                config=evidence.snapshot(masker),
            )
        return _outcome(name, started, device_type, results, facts, evidence, masker, bool(config))

    def close(self) -> None:
        with self._lock:
            conns, self._connections = self._connections, {}
            configured, self._configured = self._configured, set()
        _disconnect_all([c for n, c in conns.items() if n in configured])
        for name, conn in conns.items():
            if name not in configured:
                _close_unconfigured(conn)
        for path in self._tmp_files:
            Path(path).unlink(missing_ok=True)
        self._tmp_files.clear()
        self._known_hosts_by_files.clear()

    # --- sending --------------------------------------------------------------------------

    def _send(
        self,
        conn: Any,
        device_type: str,
        commands: Sequence[str],
        textfsm: bool,
        deadline: float,
        results: list[CommandResult],
    ) -> None:
        for command in commands:
            self._answer(conn, command, deadline, results, device_type if textfsm else None)

    def _answer(
        self,
        conn: Any,
        command: str,
        deadline: float,
        results: list[CommandResult],
        parse_as: str | None = None,
    ) -> CommandResult:
        """Send one show command and record its answer (``rejected`` by the device: exit
        code 1 and its error line); ``parse_as``: parse an accepted answer with the
        templates of that device type."""
        self._check_cancel()
        t0 = time.monotonic()
        raw = _show(conn, command, deadline, results)
        rejected = CLI_ERROR.search(raw)
        parsed: Any = None
        note = ""
        if parse_as is not None and not rejected:
            parsed, note = _parse(raw, command, parse_as)
        result = CommandResult(
            command=command,
            exit_code=1 if rejected else 0,
            stdout=raw,
            stderr=_error_line(raw, rejected) if rejected else note,
            duration_s=time.monotonic() - t0,
            parsed=parsed,
        )
        results.append(result)
        return result

    def _send_config(
        self,
        conn: Any,
        device_type: str,
        config: Sequence[str],
        save: bool,
        deadline: float,
        results: list[CommandResult],
        evidence: _Evidence,
    ) -> None:
        """Send the configuration (and save it) between two reads of the running
        configuration; a refused configuration still gets its ``after``."""
        from netmiko.exceptions import ConfigInvalidException, NetmikoBaseException

        from respond.executors._sshargs import connection_errors

        # netmiko raises ValueError when it cannot enter or leave config mode.
        config_failed: tuple[type[BaseException], ...] = (*connection_errors(), ValueError)
        self._check_cancel()
        evidence.command = RUNNING_CONFIG.get(family(device_type=device_type) or "", "")
        evidence.before = _running_config(conn, evidence.command, deadline, results)
        self._check_cancel()
        t0 = time.monotonic()
        try:
            out = conn.send_config_set(
                list(config),
                read_timeout=_remaining(deadline, "config"),
                error_pattern=CLI_ERROR.pattern,
            )
            if save:
                out += conn.save_config()
        except ConfigInvalidException as exc:
            results.append(
                CommandResult(command="<config>", exit_code=1, stdout=str(exc), stderr="")
            )
            evidence.after = _after_refusal(conn, evidence.command, deadline)
            raise _Failure(StepStatus.FAILED, f"the device rejected the config: {exc}") from exc
        except NetmikoBaseException as exc:
            results.append(CommandResult(command="<config>", exit_code=None, stderr=str(exc)))
            raise _translate_io(exc, "config", deadline) from exc
        except config_failed as exc:
            results.append(CommandResult(command="<config>", exit_code=None, stderr=str(exc)))
            raise _Failure(StepStatus.FAILED, f"config mode failed: {exc}") from exc
        results.append(
            CommandResult(
                command="<config>",
                exit_code=0,
                stdout=out,
                duration_s=time.monotonic() - t0,
            )
        )
        evidence.after = _running_config(conn, evidence.command, deadline, results)

    def _read_facts(
        self, conn: Any, facts: _FactsWanted, deadline: float, results: list[CommandResult]
    ) -> None:
        """Send each fact's command for the host's family, then parse and normalise the
        outputs into ``facts``. A fact the family has no command for, that the device
        rejects or whose output does not parse is None with a note; only a lost
        connection or the timeout ends the step."""
        from respond import netfacts

        outputs: dict[str, str] = {}
        for fact in facts.names:
            command = netfacts.command_for(facts.family, fact)
            if command is None:
                facts.unread(fact, f"no {fact} command for network OS {facts.family or 'unknown'}")
                continue
            answer = self._answer(conn, command, deadline, results)
            facts.sent.add(len(results) - 1)
            if answer.exit_code:
                facts.unread(fact, f"the device rejected {command!r}")
            else:
                outputs[fact] = answer.stdout
        if outputs and facts.family is not None:
            read, notes = netfacts.facts_from_outputs(facts.family, outputs)
            facts.values.update(read)
            facts.notes += notes

    def _check_cancel(self) -> None:
        if self.ctx.cancel.is_set():
            raise _Failure(StepStatus.CANCELLED, "cancelled by the operator")

    # --- connections ----------------------------------------------------------------------

    def _host_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(name, threading.Lock())

    def _drop(self, name: str) -> None:
        """Forget a session that may be wedged: close the socket, no polite logout (a
        logout would wait on a device that is not answering)."""
        with self._lock:
            conn = self._connections.pop(name, None)
        if conn is not None:
            _hard_close(conn)

    def _connection(self, host: Host, device_type: str, deadline: float) -> Any:
        with self._lock:
            conn = self._connections.get(host.name)
        if conn is not None:
            if _alive(conn):
                return conn
            self._drop(host.name)
        self._check_cancel()
        conn = self._connect(host, device_type, deadline)
        with self._lock:
            self._connections[host.name] = conn
        return conn

    def _connect(self, host: Host, device_type: str, deadline: float) -> Any:
        from netmiko import ConnectHandler
        from netmiko.exceptions import (
            NetmikoAuthenticationException,
            NetmikoBaseException,
            NetmikoTimeoutException,
            ReadTimeout,
        )

        from respond.executors._sshargs import connection_errors

        secret = _enable_secret(host)
        _install_log_filter((host.password, secret, *self.ctx.secrets))
        budget = max(min(deadline - time.monotonic(), CONNECT_TIMEOUT), 0.5)
        key_file = host.key_file
        params: dict[str, Any] = {
            "device_type": device_type,
            "host": host.address,
            "port": int(host.port or 22),
            "username": host.user or "",
            "password": host.password or "",
            "secret": secret or "",
            "use_keys": bool(key_file),
            "key_file": str(key_file) if key_file else None,
            "allow_agent": False,
            # host identity: only respond's known_hosts, unknown keys rejected
            "ssh_strict": True,
            "system_host_keys": False,
            "alt_host_keys": True,
            "alt_key_file": self._known_hosts_file(host),
            "conn_timeout": budget,
            "banner_timeout": budget,
            "auth_timeout": budget,
            "keepalive": KEEPALIVE_S,
            "fast_cli": True,
            "session_log": None,
            "verbose": False,
        }
        where = f"{host.name} ({host.address}:{params['port']})"
        try:
            conn = ConnectHandler(**params)
            try:
                _nodelay(conn)
                if secret and not conn.check_enable_mode():
                    conn.enable()
            except BaseException:
                _hard_close(conn)
                raise
        except NetmikoAuthenticationException as exc:
            raise _Failure(
                StepStatus.FAILED, f"{where}: authentication refused (check user and password)"
            ) from exc
        except NetmikoTimeoutException as exc:
            raise _translate_connect(exc, where, budget) from exc
        except NetmikoBaseException as exc:
            if isinstance(exc, ReadTimeout):
                raise _Failure(
                    StepStatus.TIMED_OUT, f"{where}: no prompt within the timeout after login"
                ) from exc
            raise _Failure(StepStatus.FAILED, f"{where}: {_first_line(str(exc))}") from exc
        except connection_errors() as exc:
            raise _Failure(StepStatus.FAILED, f"{where}: connection failed: {exc}") from exc
        except ValueError as exc:  # netmiko: enable() failed, prompt not found, ...
            raise _Failure(StepStatus.FAILED, f"{where}: {_first_line(str(exc))}") from exc
        return conn

    def _known_hosts_file(self, host: Host) -> str:
        """One file for paramiko (netmiko takes one): respond's known_hosts plus those the
        host names itself (``ansible_ssh_known_hosts_file``, ``-o UserKnownHostsFile=``);
        several are merged into a private copy. With none, every device is refused."""
        from respond.sshopts import known_hosts_files

        files = tuple(known_hosts_files(getattr(host, "vars", None) or {}, self.ctx.known_hosts))
        with self._lock:
            cached = self._known_hosts_by_files.get(files)
            if cached is not None:
                return cached
            existing = [p for p in files if p.is_file()]
            if len(existing) == 1:
                chosen = str(existing[0])
            else:
                fd, chosen = tempfile.mkstemp(prefix="respond-known-hosts-")
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    for p in existing:
                        fh.write(p.read_text(encoding="utf-8").rstrip("\n") + "\n")
                self._tmp_files.append(chosen)
            self._known_hosts_by_files[files] = chosen
            return chosen

    def _masker(self, host: Host | None) -> Masker:
        masker = Masker(self.ctx.secrets)
        if host is not None:
            masker.add(host.password)
            masker.add(_enable_secret(host))
        return masker


# --- configuration evidence -------------------------------------------------------------


class _Evidence:
    """The running configuration around a config step, as far as it was read."""

    def __init__(self) -> None:
        self.command = ""
        self.before = ""
        self.after = ""

    def snapshot(self, masker: Masker) -> ConfigSnapshot | None:
        """What leaves the executor: credential lines redacted, known secrets masked."""
        if not self.command or not (self.before or self.after):
            return None
        return ConfigSnapshot(
            command=self.command,
            before=redact(masker.mask(self.before)),
            after=redact(masker.mask(self.after)),
        )


def _running_config(conn: Any, command: str, deadline: float, tried: list[CommandResult]) -> str:
    """The device's running configuration ("" for a family without such a command, or
    when the device rejects it). A lost connection or the deadline ends the step (the
    attempt recorded in ``tried``)."""
    if not command:
        return ""
    text = _show(conn, command, deadline, tried)
    # a rejection is the answer's first lines; further down, an error-like line is
    # configuration (a banner, a description) and stays
    head = "\n".join(text.strip().splitlines()[:3])
    return "" if CLI_ERROR.search(head) else text


def _after_refusal(conn: Any, command: str, deadline: float) -> str:
    """The configuration after a refused line (the lines before it may have applied):
    leave config mode and read it within the step's time; "" if that fails."""
    from netmiko.exceptions import NetmikoBaseException

    from respond.executors._sshargs import connection_errors

    if not command:
        return ""
    failed: tuple[type[BaseException], ...] = (
        _Failure,
        NetmikoBaseException,
        ValueError,  # netmiko: config mode not left
        *connection_errors(),
    )
    try:
        conn.exit_config_mode()
        return _running_config(conn, command, deadline, [])
    except failed as exc:
        log.debug("no configuration after the refusal: %s", exc)
        return ""


# --- helpers ------------------------------------------------------------------------------


def _device_type_to_send(host: Host, lines: Sequence[str], facts: _FactsWanted) -> str:
    """The host's netmiko device type once the step is fit to send: every line safe, and
    something to send; raises ``_Failure``."""
    for line in lines:
        why = unsafe_line(line)
        if why:
            raise _Failure(
                StepStatus.FAILED,
                f"refused to send {line!r} to {host.name}: the line {why}",
            )
    if not lines and not facts.names:
        raise _Failure(StepStatus.FAILED, "nothing to send: no commands and no config")
    try:
        return device_type_for(host)
    except ValueError as exc:
        raise _Failure(StepStatus.FAILED, str(exc)) from None


def _outcome(
    name: str,
    started: datetime,
    device_type: str,
    results: list[CommandResult],
    facts: _FactsWanted,
    evidence: _Evidence,
    masker: Masker,
    changed: bool,
) -> HostResult:
    """The host result of a step whose exchange ran to its end: failed when the device
    rejected a command (the facts' commands aside: an unread fact is a note)."""
    failed = [
        r for i, r in enumerate(results) if r.exit_code not in (0, None) and i not in facts.sent
    ]
    status = StepStatus.FAILED if failed else StepStatus.OK
    error = ""
    if failed:
        first = failed[0]
        error = f"{name} rejected {first.command!r}: {first.stderr or 'device error'}"
    notes = [r.stderr for r in results if r.exit_code == 0 and r.stderr]
    data: dict[str, Any] = {"device_type": device_type}
    if facts.names:
        data.update(facts.data(masker))
        notes += facts.notes
    if notes:
        data["notes"] = notes
    return host_result(
        name,
        status,
        started,
        commands=_masked(results, masker),
        output=masker.mask(_joined(results)),
        error=masker.mask(error),
        changed=changed,
        data=data,
        config=evidence.snapshot(masker),
    )


def _enable_secret(host: Host) -> str | None:
    """``netmiko_secret``, else the inventory's become password (``Host.become_password``
    resolves ``{{ lookup('env', NAME) }}``); plain vars only for hosts without that property."""
    explicit = host.vars.get("netmiko_secret")
    if explicit:
        return str(explicit)
    if hasattr(host, "become_password"):
        become = host.become_password
        return str(become) if become else None
    for key in ("ansible_become_password", "ansible_become_pass"):
        value = host.vars.get(key)
        if value:
            return str(value)
    return None


def _remaining(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Failure(StepStatus.TIMED_OUT, f"step timeout reached before {what!r}")
    return left


def _parse(raw: str, command: str, device_type: str) -> tuple[Any, str]:
    """TextFSM (ntc-templates) with the ntc-templates platform of the device type
    (``huawei`` → ``huawei_vrp``), which netmiko's own converter does not map; (parsed, note)."""
    from respond.netfacts.parse import parse_device_output

    return parse_device_output(device_type, command, raw)


def _show(conn: Any, command: str, deadline: float, results: list[CommandResult]) -> str:
    """One show command's raw output; a lost connection or the timeout ends the step (the
    attempt recorded in ``results``)."""
    from netmiko.exceptions import NetmikoBaseException

    from respond.executors._sshargs import connection_errors

    try:
        return str(conn.send_command(command, read_timeout=_remaining(deadline, command)))
    except NetmikoBaseException as exc:
        results.append(CommandResult(command=command, exit_code=None, stderr=str(exc)))
        raise _translate_io(exc, command, deadline) from exc
    except connection_errors() as exc:
        results.append(CommandResult(command=command, exit_code=None, stderr=str(exc)))
        raise _Failure(StepStatus.FAILED, f"connection lost during {command!r}: {exc}") from exc


@dataclasses.dataclass
class _FactsWanted:
    """The facts a step asks of one host and what became of them."""

    names: tuple[str, ...] = ()
    family: str | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    sent: set[int] = dataclasses.field(default_factory=set)  # indexes in the results

    @classmethod
    def of(cls, session: DeviceSession | None, host: Host | None) -> _FactsWanted:
        if session is None or not session.facts:
            return cls()
        from respond import netfacts

        family = session.family or (netfacts.family(host) if host is not None else None)
        return cls(names=session.facts, family=family)

    def unread(self, fact: str, why: str) -> None:
        self.values[fact] = None
        self.notes.append(f"facts: {fact} not read ({why})")

    def data(self, masker: Masker) -> dict[str, Any]:
        """``facts`` (every asked fact, None where unread) and ``fact_commands`` (which
        recorded commands were the facts', so their exit codes do not fail the step)."""
        values = {name: self.values.get(name) for name in self.names}
        return {"facts": masker.mask(values), "fact_commands": sorted(self.sent)}


def _translate_io(exc: Exception, what: str, deadline: float) -> _Failure:
    from netmiko.exceptions import ReadTimeout

    if isinstance(exc, ReadTimeout) or time.monotonic() >= deadline:
        return _Failure(StepStatus.TIMED_OUT, f"no complete answer to {what!r} before the timeout")
    return _Failure(StepStatus.FAILED, f"{what!r} failed: {_first_line(str(exc))}")


def _translate_connect(exc: Exception, where: str, budget: float) -> _Failure:
    """netmiko folds every connect problem into NetmikoTimeoutException; the cause says which."""
    from respond.executors._sshargs import is_host_key_mismatch, per_address_errors

    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    if is_host_key_mismatch(cause) or "does not match" in text:
        return _Failure(
            StepStatus.FAILED,
            f"{where}: host key CHANGED — it does not match known_hosts; refusing to connect "
            "(verify the device, then update known_hosts)",
        )
    if "not found in known_hosts" in text:
        return _Failure(
            StepStatus.FAILED,
            f"{where}: host key unknown — not in known_hosts; refusing to connect "
            "(add the device's key to known_hosts after verifying it)",
        )
    errors = per_address_errors(cause)
    if errors is not None:
        if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
            return _Failure(StepStatus.FAILED, f"{where}: connection refused")
        cause = errors[0] if errors else cause
    if isinstance(cause, ConnectionRefusedError):
        return _Failure(StepStatus.FAILED, f"{where}: connection refused")
    if isinstance(cause, socket.timeout | TimeoutError):
        return _Failure(StepStatus.TIMED_OUT, f"{where}: no answer within {budget:.1f}s")
    if isinstance(cause, OSError):
        return _Failure(StepStatus.FAILED, f"{where}: unreachable ({cause})")
    return _Failure(StepStatus.FAILED, f"{where}: connection failed: {_first_line(text)}")


def _nodelay(conn: Any) -> None:
    """TCP_NODELAY as the ssh kind sets it (Nagle + delayed ACK stall small exchanges).
    Measured against fake-switches it changes nothing: netmiko's own read polling
    (~80 ms per command with fast_cli) dominates."""
    with contextlib.suppress(AttributeError, OSError):
        conn.remote_conn.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _alive(conn: Any) -> bool:
    try:
        transport = conn.remote_conn.get_transport()
        return bool(transport and transport.is_active() and not conn.remote_conn.closed)
    except (AttributeError, OSError):
        return False


def _hard_close(conn: Any) -> None:
    try:
        conn.paramiko_cleanup()
    except Exception as exc:  # closing must never fail a run
        log.debug("netmiko close failed: %s", exc)


def _close_unconfigured(conn: Any) -> None:
    """Close a session that only read: netmiko's disconnect without its logout, which would
    first look for config mode (the session never entered it) by waiting for quiet output,
    2 s on Huawei VRP; closing the SSH channel ends the device's vty session all the same."""
    try:
        conn.cleanup = _no_logout
    except Exception:  # a stand-in without attributes: its own disconnect then
        pass
    _disconnect(conn)


def _no_logout(*_args: Any, **_kwargs: Any) -> None:
    return None


def _disconnect(conn: Any) -> None:
    try:
        conn.disconnect()
    except Exception as exc:  # closing must never fail a run
        log.debug("netmiko disconnect failed: %s", exc)


def _disconnect_all(conns: Sequence[Any]) -> None:
    """Disconnect every device at once: netmiko's disconnect first reads the channel until it
    has been quiet for a while (to see whether config mode must be left), about half a second
    per device, which one after another would hold the end of a run for seconds."""
    if len(conns) <= 1:
        for conn in conns:
            _disconnect(conn)
        return
    from concurrent.futures import ThreadPoolExecutor

    workers = min(len(conns), CLOSE_WORKERS)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netmiko-close") as pool:
        list(pool.map(_disconnect, conns))


def _masked(results: Sequence[CommandResult], masker: Masker) -> tuple[CommandResult, ...]:
    return tuple(
        dataclasses.replace(
            r,
            command=masker.mask(r.command),
            stdout=masker.mask(r.stdout),
            stderr=masker.mask(r.stderr),
            parsed=masker.mask(r.parsed),
        )
        for r in results
    )


def _joined(results: Sequence[CommandResult]) -> str:
    return "\n".join(r.stdout for r in results if r.stdout)


def _error_line(raw: str, match: re.Match[str]) -> str:
    """The whole line in which the device said no (the pattern matches only its start)."""
    start = raw.rfind("\n", 0, match.end()) + 1  # the match may begin with blank lines
    end = raw.find("\n", match.end())
    return raw[start : end if end >= 0 else len(raw)].strip()


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
