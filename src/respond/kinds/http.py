"""http: a request to a health endpoint or an API; ok means a 2xx/3xx status unless
``expect.status`` says otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Expect, Step


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest(Rendered):
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    verify_tls: bool = True


class HttpKind(StepKind):
    name = "http"
    executor = "respond.executors.http:HttpExecutor"
    summary = "An HTTP(S) request: health endpoints and APIs."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField("url", "text", "http: the URL (http:// or https://)."),
        KindField("method", "method", "http: the request method.", default="GET"),
        KindField("headers", "headers", "http: request headers."),
        KindField("body", "value", "http: request body (a mapping is sent as JSON)."),
        KindField("verify_tls", "flag", "http: verify the server's certificate.", default=True),
    )
    default_timeout = 10.0
    pollable = True
    result_keys = ("http_status", "body", "latency", "json")
    required = (("url",),)

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> HttpRequest:
        t = env.templates
        url = t.render_text(step.url, variables)
        method = (step.method or "GET").upper()
        return HttpRequest(
            url=url,
            method=method,
            headers={
                str(k): str(v)
                for k, v in t.render_value(dict(step.headers or {}), variables).items()
            },
            body=t.render_value(step.body, variables) if step.body is not None else None,
            verify_tls=bool(step.verify_tls),
            commands=(f"{method} {url}",),
            variables=variables,
        )

    def check(self, expect: Expect | None, result: HostResult) -> tuple[bool, str]:
        wanted = expect.status if expect is not None else None
        code = result.data.get("http_status")
        if wanted is None:
            if not (isinstance(code, int) and 200 <= code < 400):
                return False, f"HTTP status {code} (expected 2xx/3xx)"
            return True, ""
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if code not in allowed:
            return False, f"HTTP status {code} (expected {' or '.join(str(v) for v in allowed)})"
        return True, ""

    def host_detail(self, step: Step, result: HostResult) -> str:
        code = result.data.get("http_status")
        latency = result.data.get("latency")
        if code is None:
            return ""
        return f"HTTP {code}" + (f" in {latency:.3f}s" if isinstance(latency, float) else "")


KIND = HttpKind()
