"""Checks of web services over HTTP: the status, the body, and how long the answer took."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from respond.checks._grading import graded, unreadable, worst_of
from respond.checks.catalog import ArgSpec, CheckSpec, Collected, HttpRequestSpec
from respond.checks.result import CheckResult, Perfdatum, State, Thresholds


class Http(CheckSpec):
    name = "http"
    summary = "a web page or API answers with the right status and content, quickly"
    transport = "http"
    reads = "`GET url`"
    value_text = "response time in seconds"
    unit = "s"
    warn = "1"
    crit = "5"
    failure_state = State.CRITICAL
    args = (
        ArgSpec("url", "text", "the URL, templated with the host's variables", required=True),
        ArgSpec("status", "number", "the status expected", default=200),
        ArgSpec("contains", "text", "text the body must contain"),
        ArgSpec("verify_tls", "flag", "verify the server's certificate", default=True),
    )
    advice: ClassVar[Mapping[State, str]] = {
        State.CRITICAL: "The service is down or answers wrongly: check its process and logs "
        "on the server (and what it depends on: database, disk), then restart it.",
        State.WARNING: "The service answers slowly: look at the server's load and at what the "
        "service waits on (database, disk, network).",
        State.UNKNOWN: "No answer could be read: check the URL and that respond can reach it.",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        url = str(args.get("url") or "")
        if url and "{{" not in url and not url.startswith(("http://", "https://")):
            return [(f"argument 'url': {url!r} is not an http:// or https:// URL", "url")]
        return []

    def request(self, args: Mapping[str, Any]) -> HttpRequestSpec:
        return HttpRequestSpec(url=str(args["url"]), verify_tls=bool(args.get("verify_tls", True)))

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        answer = got.http
        url = str(args.get("url") or "")
        if answer is None or answer.status is None:
            return unreadable(self, f"GET {url}", "no HTTP answer")
        latency = round(answer.latency_s, 3)
        expected = int(args.get("status") or 200)
        contains = args.get("contains")
        wrong = []
        if answer.status != expected:
            wrong.append(f"status {answer.status} (expected {expected})")
        if contains not in (None, "") and str(contains) not in answer.body:
            wrong.append(f"the body lacks {str(contains)!r}")
        state = worst_of(limits.grade(latency), State.CRITICAL if wrong else State.OK)
        head = ", ".join(wrong) if wrong else f"status {answer.status}"
        text = f"{head} from {url} in {latency:g} s"
        perf = [
            Perfdatum("time", latency, "s", limits.warn_text, limits.crit_text, 0),
            Perfdatum("size", len(answer.body.encode()), "B", None, None, 0),
        ]
        return graded(self, state, text, value=latency, limits=limits, perfdata=perf)


CHECKS: tuple[CheckSpec, ...] = (Http(),)
