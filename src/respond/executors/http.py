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
"""

from __future__ import annotations

import json
import socket
import ssl
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
        verify = rendered.verify_tls

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return host_result(
                name, StepStatus.FAILED, started, error=f"not an http(s) URL: {url!r}"
            )
        where = parts.netloc
        if self.ctx.cancel.is_set():
            return host_result(name, StepStatus.CANCELLED, started, error="cancelled")

        data = _encode_body(rendered.body, headers)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

        t0 = time.monotonic()
        deadline = t0 + timeout
        body = CappedBuffer(OUTPUT_CAP)

        def failed(status: StepStatus, error: str) -> HostResult:
            return host_result(
                name,
                status,
                started,
                error=error,
                data={"url": url, "method": method, "latency": round(time.monotonic() - t0, 6)},
            )

        try:
            try:
                response = opener.open(request, timeout=timeout)
            except urllib.error.HTTPError as exc:  # a status >= 400 is still an answer
                response = exc
            with response:
                status_code = int(response.status)
                content_type = response.headers.get("Content-Type", "") or ""
                final_url = response.geturl()
                while chunk := response.read(65536):
                    body.feed(chunk)
                    if time.monotonic() > deadline:
                        return failed(
                            StepStatus.TIMED_OUT,
                            f"{method} {url}: the body did not arrive within {timeout:g}s",
                        )
                    if self.ctx.cancel.is_set():
                        return failed(StepStatus.CANCELLED, "cancelled while reading the body")
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                return failed(
                    StepStatus.TIMED_OUT, f"{method} {url}: no answer within {timeout:g}s"
                )
            if isinstance(reason, ssl.SSLCertVerificationError):
                return failed(
                    StepStatus.FAILED,
                    f"TLS certificate of {where} is not trusted: {reason.verify_message}",
                )
            if isinstance(reason, socket.gaierror):
                return failed(
                    StepStatus.FAILED, f"cannot resolve {parts.hostname!r}: {reason.strerror}"
                )
            if isinstance(reason, OSError):
                return failed(
                    StepStatus.FAILED, f"cannot connect to {where}: {reason.strerror or reason}"
                )
            return failed(StepStatus.FAILED, f"{method} {url}: {reason}")
        except TimeoutError:
            return failed(StepStatus.TIMED_OUT, f"{method} {url}: no answer within {timeout:g}s")
        except (OSError, ValueError) as exc:  # http.client errors are OSError/ValueError kin
            return failed(StepStatus.FAILED, f"{method} {url}: {type(exc).__name__}: {exc}")
        except Exception as exc:  # http.client.HTTPException and friends
            return failed(StepStatus.FAILED, f"{method} {url}: {type(exc).__name__}: {exc}")

        latency = time.monotonic() - t0
        text = body.text(_charset(content_type))
        result_data: dict[str, Any] = {
            "http_status": status_code,
            "body": text,
            "latency": round(latency, 6),
            "content_type": content_type,
            "url": final_url,
            "method": method,
        }
        if body.dropped:
            result_data["output_truncated_bytes"] = body.dropped
        elif "json" in content_type.lower():
            try:
                result_data["json"] = json.loads(text)
            except ValueError:
                pass
        return host_result(
            name,
            StepStatus.OK,
            started,
            output=text,
            data=result_data,
        )

    def close(self) -> None:
        """Nothing is kept between steps."""
