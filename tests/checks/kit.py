"""Building what a transport collected, and grading it with a built-in check, for the
checks' tests (captured outputs in, graded results out; no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from respond.checks.catalog import (
    CertInfo,
    Collected,
    CommandOutput,
    HttpAnswer,
    get,
    with_defaults,
)
from respond.checks.result import CheckResult

NOW = datetime(2026, 12, 2, 8, 0, 0, tzinfo=UTC)

Out = str | tuple[int | None, str, str]


def ssh(*outputs: Out, latency: float | None = 0.25, now: datetime = NOW) -> Collected:
    """One CommandOutput per item: a stdout (exit code 0) or (exit code, stdout, stderr)."""
    commands = []
    for n, item in enumerate(outputs):
        code, stdout, stderr = (0, item, "") if isinstance(item, str) else item
        commands.append(CommandOutput(f"command{n}", code, stdout, stderr))
    return Collected(host="db1", now=now, commands=tuple(commands), latency_s=latency)


def facts(interfaces: Any) -> Collected:
    return Collected(host="core-sw1", now=NOW, facts={"interfaces": interfaces})


def http(status: int | None, body: str = "ok", latency: float = 0.05) -> Collected:
    return Collected(host="oa", now=NOW, http=HttpAnswer(status, body, latency))


def cert(cert: CertInfo | None) -> Collected:
    return Collected(host="oa1", now=NOW, cert=cert)


def grade(
    name: str,
    got: Collected,
    args: Mapping[str, Any] | None = None,
    *,
    warn: str | None = None,
    crit: str | None = None,
) -> CheckResult:
    spec = get(name)
    assert spec is not None, name
    full = with_defaults(spec, args or {})
    return spec.grade(got, full, spec.thresholds(warn, crit))


def commands(name: str, args: Mapping[str, Any] | None = None) -> list[str]:
    spec = get(name)
    assert spec is not None, name
    return spec.commands(with_defaults(spec, args or {}))


def problems(name: str, args: Mapping[str, Any]) -> list[str]:
    from respond.checks.catalog import arg_problems

    spec = get(name)
    assert spec is not None, name
    return [message for message, _ in arg_problems(spec, args)]


def assert_non_ok_has_advice(result: CheckResult) -> None:
    if result.state.word != "OK":
        assert result.advice, result
