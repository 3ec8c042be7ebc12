"""The http check grades an HTTP answer: status, body and response time."""

from __future__ import annotations

from dataclasses import replace

from respond.checks.catalog import get
from respond.checks.result import State
from tests.checks.kit import assert_non_ok_has_advice, grade, http, problems

URL = "http://127.0.0.1:39209/health"


def test_http_ok_and_slow():
    ok = grade("http", http(200, "OK healthy", 0.05), {"url": URL})
    assert (ok.state, ok.value, ok.unit) == (State.OK, 0.05, "s")
    assert ok.summary == f"HTTP OK - status 200 from {URL} in 0.05 s"
    assert ok.plugin_line().endswith("| time=0.05s;1;5;0 size=10B;;;0")
    slow = grade("http", http(200, latency=2.5), {"url": URL})
    assert slow.state is State.WARNING
    assert grade("http", http(200, latency=6), {"url": URL}).state is State.CRITICAL
    assert (
        grade("http", http(200, latency=2.5), {"url": URL}, warn="3", crit="10").state is State.OK
    )
    assert_non_ok_has_advice(slow)


def test_http_wrong_status_or_body_is_critical():
    bad = grade("http", http(503, "maintenance"), {"url": URL})
    assert bad.state is State.CRITICAL
    assert bad.summary == f"HTTP CRITICAL - status 503 (expected 200) from {URL} in 0.05 s"
    assert_non_ok_has_advice(bad)
    lacks = grade("http", http(200, "hello"), {"url": URL, "contains": "healthy"})
    assert lacks.summary == f"HTTP CRITICAL - the body lacks 'healthy' from {URL} in 0.05 s"
    moved = grade("http", http(302, ""), {"url": URL, "status": 302})
    assert moved.state is State.OK


def test_http_no_answer_and_a_failed_request():
    assert grade("http", http(None), {"url": URL}).state is State.UNKNOWN
    spec = get("http")
    assert spec is not None
    refused = spec.failed(replace(http(None), error="connection refused"))
    assert refused.state is State.CRITICAL
    assert refused.summary == "HTTP CRITICAL - connection refused"
    assert refused.advice


def test_http_request_and_argument_rules():
    spec = get("http")
    assert spec is not None
    request = spec.request({"url": URL, "verify_tls": False})
    assert (request.url, request.method, request.verify_tls) == (URL, "GET", False)
    assert problems("http", {}) == ["check http needs the argument 'url'"]
    assert problems("http", {"url": "ftp://x"}) == [
        "argument 'url': 'ftp://x' is not an http:// or https:// URL"
    ]
    assert problems("http", {"url": "{{ oa_url }}/health"}) == []
