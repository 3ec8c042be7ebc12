"""http step kind: a health check or API call (OA/SMS platforms, UPS web cards, BMCs).

The http kind renders ``url``, ``method``, ``headers``, ``body`` and ``verify_tls`` into an
``HttpRequest``; this adapter makes the request with the standard library
(``urllib.request``, no extra dependency), bounded by the step timeout, and records what
came back in ``data``: ``http_status``, ``body`` (at most 1 MiB kept), ``latency`` (seconds
until the whole body arrived), ``json`` (when the body is JSON), ``content_type`` and the
final ``url`` after redirects. Any HTTP status is a *result*, not a failure: the engine
judges it with ``expect.status`` (default 2xx/3xx). A refused connection, a DNS or TLS
failure is a failed step; no answer within the timeout is ``timed_out``.

Only ``http`` and ``https`` URLs are accepted (urllib would also open ``file:`` and
``ftp:``). Response headers are not recorded, so session cookies never reach the journal.
Proxies follow the usual ``http_proxy``/``https_proxy``/``no_proxy`` environment variables.

The step's timeout bounds the whole request, not each socket operation: resolving the name
(in a helper thread, since ``getaddrinfo`` takes no timeout), connecting, TLS, every
redirect, the headers and the body. A server that trickles a byte a second, or a resolver
that never answers, gives ``timed_out`` when the timeout is up: a watchdog shuts the
request's sockets then, which ends any read that is waiting.

A redirect to another origin (scheme, host or port) does not carry the credentials the step
sent: ``Authorization``, ``Proxy-Authorization`` and ``Cookie`` are dropped (urllib would
forward them to wherever ``Location`` points).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from respond.executors._output import OUTPUT_CAP, CappedBuffer
from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.http import KIND as HTTP_KIND
from respond.kinds.http import HttpRequest
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

USER_AGENT = "respond-healthcheck"


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json; charset=utf-8"
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


# Headers that carry credentials: never sent to an origin the step did not name.
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # a malformed port: an origin of its own
        port = None
    return scheme, (parts.hostname or "").lower(), port


class _Redirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, less the credentials when the new URL is another origin."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            for store in (new.headers, new.unredirected_hdrs):
                for key in [k for k in store if k.lower() in _CREDENTIALS]:
                    del store[key]
        return new


class _Deadline:
    """One request's deadline: every connection it opens resolves and connects within the
    time left, and when the time is up the watchdog shuts them all (ending any read)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self.resolving: str | None = None  # the name being resolved when time ran out
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("deadline")
        return left

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:  # the watchdog fired between connect and here
            sock.shutdown(socket.SHUT_RDWR)

    def resolve(self, host: str, port: int) -> list[Any]:
        """``getaddrinfo`` within the time left (it has no timeout of its own); a resolver
        that does not answer in time leaves only its helper thread behind."""
        found: list[Any] = []
        failure: list[BaseException] = []

        def lookup() -> None:
            try:
                found.extend(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(self.left())
        if worker.is_alive():
            self.resolving = host
            self.expired = True
            raise TimeoutError(f"resolving {host!r}")
        if failure:
            raise failure[0]
        return found

    def connect(
        self, address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        """``socket.create_connection`` with the name resolved and every step bounded by
        this deadline; the socket is the watchdog's to shut."""
        host, port = address
        last: OSError | None = None
        for family, kind, proto, _, addr in self.resolve(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.left())
                if source_address:
                    sock.bind(source_address)
                self._keep(sock)
                sock.connect(addr)
                return sock
            except OSError as exc:
                sock.close()
                if self.expired or isinstance(exc, TimeoutError):
                    raise
                last = exc
        raise last or OSError(f"cannot resolve {host!r}")


def _handlers(deadline: _Deadline, context: ssl.SSLContext) -> list[Any]:
    """urllib's HTTP and HTTPS handlers with connections that keep ``deadline``."""

    class Connection(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = deadline.connect

    class TlsConnection(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = deadline.connect

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(Connection, req)

    class TlsHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(TlsConnection, req, context=context)

    return [Handler(), TlsHandler(context=context), _Redirects()]


class HttpExecutor:
    kind: ClassVar[str] = "http"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        name = host.name if host is not None else "localhost"
        # a step that says `timeout: 0` gets its kind's default, never no deadline
        timeout = float(timeout) if timeout and timeout > 0 else HTTP_KIND.default_timeout
        assert isinstance(rendered, HttpRequest), "the http kind renders an HttpRequest"
        url = rendered.url
        method = rendered.method.upper()
        headers = dict(rendered.headers)
        headers.setdefault("User-Agent", USER_AGENT)

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return host_result(
                name, StepStatus.FAILED, started, error=f"not an http(s) URL: {url!r}"
            )
        if self.ctx.cancel.is_set():
            return host_result(
                name, StepStatus.CANCELLED, started, error="cancelled", not_started=True
            )

        data = _encode_body(rendered.body, headers)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        context = ssl.create_default_context()
        if not rendered.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        deadline = _Deadline(timeout)
        opener = urllib.request.build_opener(*_handlers(deadline, context))
        exchange = _Exchange(self.ctx, name, started, request, timeout, deadline)
        deadline.start()
        try:
            return exchange.run(opener)
        finally:
            deadline.stop()

    def close(self) -> None:
        """Nothing is kept between steps."""


class _Exchange:
    """One request and its answer, as a ``HostResult``."""

    def __init__(
        self,
        ctx: RunContext,
        name: str,
        started: Any,
        request: urllib.request.Request,
        timeout: float,
        deadline: _Deadline,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.started = started
        self.request = request
        self.url = request.full_url
        self.method = request.get_method()
        self.timeout = timeout
        self.deadline = deadline
        self.t0 = time.monotonic()
        self.answered = False  # the status line and headers arrived

    def failed(self, status: StepStatus, error: str, *, not_started: bool = False) -> HostResult:
        """A failure; once the deadline has passed, whatever broke is that deadline (the
        watchdog shut the socket under the read), so the step ``timed_out``."""
        if self.deadline.expired and status is not StepStatus.CANCELLED:
            status = StepStatus.TIMED_OUT
            what = f"{self.method} {self.url}"
            if self.deadline.resolving is not None:
                error = (
                    f"{what}: resolving {self.deadline.resolving!r} took longer than "
                    f"{self.timeout:g}s"
                )
            elif self.answered:
                error = f"{what}: the body did not arrive within {self.timeout:g}s"
            else:
                error = f"{what}: no answer within {self.timeout:g}s"
        return host_result(
            self.name,
            status,
            self.started,
            error=error,
            data={
                "url": self.url,
                "method": self.method,
                "latency": round(time.monotonic() - self.t0, 6),
            },
            not_started=not_started and status is not StepStatus.TIMED_OUT,
        )

    def run(self, opener: urllib.request.OpenerDirector) -> HostResult:
        method, url = self.method, self.url
        parts = urlsplit(url)
        where = parts.netloc
        body = CappedBuffer(OUTPUT_CAP)
        try:
            try:
                response = opener.open(self.request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:  # a status >= 400 is still an answer
                response = exc
            with response:
                # headers cut short by the watchdog end like complete ones: not an answer
                self.answered = not self.deadline.expired
                status_code = int(response.status)
                content_type = response.headers.get("Content-Type", "") or ""
                final_url = response.geturl()
                while chunk := response.read(65536):
                    body.feed(chunk)
                    if self.ctx.cancel.is_set():
                        return self.failed(StepStatus.CANCELLED, "cancelled while reading the body")
            if self.deadline.expired:  # the watchdog ended the body early
                return self.failed(StepStatus.TIMED_OUT, "")
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                return self.failed(
                    StepStatus.TIMED_OUT, f"{method} {url}: no answer within {self.timeout:g}s"
                )
            if isinstance(reason, ssl.SSLCertVerificationError):
                return self.failed(
                    StepStatus.FAILED,
                    f"TLS certificate of {where} is not trusted: {reason.verify_message}",
                    not_started=True,  # refused before the request was sent
                )
            if isinstance(reason, socket.gaierror):
                return self.failed(
                    StepStatus.FAILED,
                    f"cannot resolve {parts.hostname!r}: {reason.strerror}",
                    not_started=True,
                )
            if isinstance(reason, OSError):
                return self.failed(
                    StepStatus.FAILED,
                    f"cannot connect to {where}: {reason.strerror or reason}",
                    # refused: nothing reached the server; a reset may come after the request
                    not_started=isinstance(reason, ConnectionRefusedError),
                )
            return self.failed(StepStatus.FAILED, f"{method} {url}: {reason}")
        except TimeoutError:
            return self.failed(
                StepStatus.TIMED_OUT, f"{method} {url}: no answer within {self.timeout:g}s"
            )
        except Exception as exc:  # http.client's errors (OSError, ValueError, HTTPException)
            return self.failed(StepStatus.FAILED, f"{method} {url}: {type(exc).__name__}: {exc}")
        return self.answer(status_code, content_type, final_url, body)

    def answer(
        self, status_code: int, content_type: str, final_url: str, body: CappedBuffer
    ) -> HostResult:
        latency = time.monotonic() - self.t0
        text = body.text(_charset(content_type))
        result_data: dict[str, Any] = {
            "http_status": status_code,
            "body": text,
            "latency": round(latency, 6),
            "content_type": content_type,
            "url": final_url,
            "method": self.method,
        }
        if body.dropped:
            result_data["output_truncated_bytes"] = body.dropped
        elif "json" in content_type.lower():
            try:
                result_data["json"] = json.loads(text)
            except ValueError:
                pass
        return host_result(self.name, StepStatus.OK, self.started, output=text, data=result_data)
