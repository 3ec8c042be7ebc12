"""check step kind: read a host over the transport its check names, grade what came back.

The reading is done by the other kinds' executors, one of each per run (created on first
use, closed with the run), so connection pools, host-key checking, deadlines and masking
stay theirs: ssh commands through ``SshExecutor`` (one call per command, so that every
command of a check runs whatever the exit code of the one before: an ssh step stops at the
first code its ``expect`` does not accept, and a check's commands report through their
codes), netmiko facts through ``NetmikoExecutor``, an HTTP request through
``HttpExecutor``. A TLS handshake is done here (``ssl`` and ``cryptography``).

A graded result is an ok host, whatever the grade: CRITICAL is a finding, not a failed
step. A reading that failed (unreachable, refused, timed out) fails the host and is
graded by the check's ``failed()`` (UNKNOWN; ``reachable``: CRITICAL).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from respond.checks.catalog import (
    CertInfo,
    CheckSpec,
    Collected,
    CommandOutput,
    HttpAnswer,
    TlsTarget,
)
from respond.checks.result import CheckResult, State
from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.check import KIND as CHECK_KIND
from respond.kinds.check import CheckRequest, spec_named
from respond.kinds.http import HttpRequest
from respond.kinds.netmiko import DeviceSession
from respond.netos import host_family
from respond.results import CommandResult, HostResult, StepStatus

if TYPE_CHECKING:
    from respond.executors.base import Executor
    from respond.inventory import Host
    from respond.runbook.model import Step


class _Reading:
    """What one transport brought back: the Collected fields, the commands to record, the
    transport's status and error, and whether nothing reached the host."""

    def __init__(self) -> None:
        self.commands: list[CommandResult] = []
        self.outputs: list[CommandOutput] = []
        self.facts: dict[str, Any] | None = None
        self.http: HttpAnswer | None = None
        self.cert: CertInfo | None = None
        self.status = StepStatus.OK
        self.error = ""
        self.not_started = False

    def fail(self, hr: HostResult) -> None:
        self.status, self.error, self.not_started = hr.status, hr.error, hr.not_started


class CheckExecutor:
    kind: ClassVar[str] = "check"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._executors: dict[str, Executor] = {}
        self._lock = threading.Lock()

    # --- the Executor protocol ----------------------------------------------------------

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        name = host.name if host is not None else "?"
        assert isinstance(rendered, CheckRequest), "the check kind renders a CheckRequest"
        timeout = float(timeout) if timeout and timeout > 0 else CHECK_KIND.default_timeout
        if host is None:
            return host_result(name, StepStatus.FAILED, started, error="a check needs a host")
        spec = spec_named(rendered.check)
        t0 = time.monotonic()
        reading = self._read(spec, step, host, rendered, t0 + timeout)
        got = Collected(
            host=name,
            now=datetime.now(UTC),
            commands=tuple(reading.outputs),
            facts=reading.facts,
            http=reading.http,
            cert=reading.cert,
            error=_failure(reading),
            latency_s=time.monotonic() - t0,
        )
        return self._graded(step, spec, rendered, got, reading, started)

    def close(self) -> None:
        with self._lock:
            executors, self._executors = list(self._executors.values()), {}
        for ex in executors:
            ex.close()

    # --- reading --------------------------------------------------------------------------

    def _read(
        self, spec: CheckSpec, step: Step, host: Host, rendered: CheckRequest, deadline: float
    ) -> _Reading:
        readers: dict[str, Callable[..., _Reading]] = {
            "ssh": self._read_ssh,
            "netmiko": self._read_netmiko,
            "http": self._read_http,
            "tls": self._read_tls,
        }
        return readers[spec.transport](spec, step, host, rendered, deadline)

    def _read_ssh(
        self, spec: CheckSpec, step: Step, host: Host, rendered: CheckRequest, deadline: float
    ) -> _Reading:
        reading = _Reading()
        ssh = self._executor("ssh")
        for command in rendered.commands:
            one = Rendered(commands=(command,), variables=rendered.variables)
            hr = ssh.run(step, host, one, max(0.1, deadline - time.monotonic()))
            reading.commands.extend(hr.commands)
            reading.outputs.extend(
                CommandOutput(c.command, c.exit_code, c.stdout, c.stderr) for c in hr.commands
            )
            if hr.status is not StepStatus.OK:
                reading.fail(hr)
                reading.not_started = hr.not_started and len(reading.commands) == 0
                break
        return reading

    def _read_netmiko(
        self, spec: CheckSpec, step: Step, host: Host, rendered: CheckRequest, deadline: float
    ) -> _Reading:
        reading = _Reading()
        session = DeviceSession(
            facts=tuple(spec.facts(rendered.args)),
            family=host_family(host.vars),
            variables=rendered.variables,
        )
        hr = self._executor("netmiko").run(
            step, host, session, max(0.1, deadline - time.monotonic())
        )
        reading.commands.extend(hr.commands)
        if hr.status is not StepStatus.OK:
            reading.fail(hr)
        facts = hr.data.get("facts")
        reading.facts = dict(facts) if isinstance(facts, dict) else None
        return reading

    def _read_http(
        self, spec: CheckSpec, step: Step, host: Host, rendered: CheckRequest, deadline: float
    ) -> _Reading:
        reading = _Reading()
        want = spec.request(rendered.args)
        request = HttpRequest(
            url=want.url,
            method=want.method,
            headers=dict(want.headers),
            verify_tls=want.verify_tls,
            commands=(f"{want.method} {want.url}",),
            variables=rendered.variables,
        )
        hr = self._executor("http").run(step, host, request, max(0.1, deadline - time.monotonic()))
        if hr.status is not StepStatus.OK:
            reading.fail(hr)
            return reading
        reading.http = HttpAnswer(
            status=hr.data.get("http_status"),
            body=str(hr.data.get("body") or ""),
            latency_s=float(hr.data.get("latency") or 0.0),
            json=hr.data.get("json"),
        )
        return reading

    def _read_tls(
        self, spec: CheckSpec, step: Step, host: Host, rendered: CheckRequest, deadline: float
    ) -> _Reading:
        reading = _Reading()
        target = spec.tls_target(rendered.args, rendered.address)
        try:
            reading.cert = read_certificate(target, deadline)
        except TlsFailed as exc:
            reading.status, reading.error = exc.status, str(exc)
            reading.not_started = True  # a handshake sends the host nothing to act on
        return reading

    def _executor(self, kind: str) -> Executor:
        """The run's one executor of ``kind`` (created on first use)."""
        from respond.executors import executor_class

        with self._lock:
            ex = self._executors.get(kind)
            if ex is None:
                ex = self._executors[kind] = executor_class(kind)(self.ctx)
            return ex

    # --- grading --------------------------------------------------------------------------

    def _graded(
        self,
        step: Step,
        spec: CheckSpec,
        rendered: CheckRequest,
        got: Collected,
        reading: _Reading,
        started: datetime,
    ) -> HostResult:
        if got.error is not None:
            result = spec.failed(got)
            status = reading.status
            if status not in (StepStatus.TIMED_OUT, StepStatus.CANCELLED):
                status = StepStatus.FAILED
        else:
            result = _grade(spec, rendered, got)
            status = StepStatus.OK
        return host_result(
            got.host,
            status,
            started,
            commands=tuple(reading.commands),
            output=result.plugin_line(),
            error=got.error or "",
            data={"check": {"id": step.id, "name": spec.name, **result.to_dict()}},
            not_started=reading.not_started and status is not StepStatus.OK,
        )


def _failure(reading: _Reading) -> str | None:
    """Why the reading failed (None: it did not), never empty when it did."""
    if reading.status is StepStatus.OK:
        return None
    return reading.error or f"the reading ended {reading.status}"


def _grade(spec: CheckSpec, rendered: CheckRequest, got: Collected) -> CheckResult:
    """The spec's grade; a grading bug is an UNKNOWN result naming it, never a crash."""
    try:
        limits = spec.thresholds(rendered.warn, rendered.crit)
        return spec.grade(got, rendered.args, limits)
    except Exception as exc:
        return CheckResult(
            state=State.UNKNOWN,
            summary=f"{spec.name.upper()} UNKNOWN - could not grade the reading: {exc}",
        )


# --- TLS --------------------------------------------------------------------------------------


class TlsFailed(Exception):
    def __init__(self, status: StepStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_certificate(target: TlsTarget, deadline: float) -> CertInfo:
    """The certificate ``target`` presents, read without trusting it, and whether it
    verifies against the system's trust store (a second handshake that checks it)."""
    from cryptography import x509

    der = _handshake(target, deadline, verify=False)
    assert der is not None
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise TlsFailed(
            StepStatus.FAILED,
            f"{target.host}:{target.port} sent a certificate that does not parse: {exc}",
        ) from exc
    try:
        _handshake(target, deadline, verify=True)
        verified = True
    except TlsFailed:
        verified = False
    return CertInfo(
        not_after=cert.not_valid_after_utc,
        not_before=cert.not_valid_before_utc,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        verified=verified,
    )


def _handshake(target: TlsTarget, deadline: float, *, verify: bool) -> bytes | None:
    """One TLS handshake within the deadline; the peer's certificate (DER)."""
    where = f"{target.host}:{target.port}"
    if verify:
        context = ssl.create_default_context()
        context.check_hostname = target.server_name is not None
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    left = deadline - time.monotonic()
    if left <= 0:
        raise TlsFailed(StepStatus.TIMED_OUT, f"TLS handshake with {where}: no time left")
    try:
        sock = socket.create_connection((target.host, target.port), timeout=left)
    except TimeoutError as exc:
        raise TlsFailed(
            StepStatus.TIMED_OUT, f"cannot connect to {where}: no answer within {left:.3g}s"
        ) from exc
    except OSError as exc:
        raise TlsFailed(
            StepStatus.FAILED, f"cannot connect to {where}: {exc.strerror or exc}"
        ) from exc
    # the socket's timeout bounds each read; the timer bounds the whole handshake
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, (sock,))
    timer.daemon = True
    timer.start()
    try:
        with context.wrap_socket(sock, server_hostname=target.server_name or None) as tls:
            return tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        raise TlsFailed(StepStatus.FAILED, f"{where}: {exc.verify_message}") from exc
    except (ssl.SSLError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise TlsFailed(
                StepStatus.TIMED_OUT, f"TLS handshake with {where} did not finish in time"
            ) from exc
        raise TlsFailed(StepStatus.FAILED, f"TLS handshake with {where} failed: {exc}") from exc
    finally:
        timer.cancel()
        sock.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
