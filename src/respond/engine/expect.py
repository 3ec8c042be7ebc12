"""Deciding ok/failed from what a target produced: ``expect`` (rc, regexes, HTTP, tests)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.kinds.base import StepKind
    from respond.runbook.model import Expect


def result_view(result: HostResult, kind: StepKind) -> dict[str, Any]:
    """The dict a runbook sees as ``result`` in ``expect.that`` and through ``register``;
    the kind names which of its result data runbooks may read."""
    stdout = "\n".join(c.stdout for c in result.commands) if result.commands else result.output
    stderr = "\n".join(c.stderr for c in result.commands if c.stderr)
    parsed_list = [c.parsed for c in result.commands if c.parsed is not None]
    parsed: Any = parsed_list[0] if len(parsed_list) == 1 else (parsed_list or None)
    view: dict[str, Any] = {
        "host": result.host,
        "status": str(result.status),
        "ok": result.status is StepStatus.OK,
        "failed": result.status.is_failure,
        "skipped": result.status is StepStatus.SKIPPED,
        "changed": result.changed,
        "stdout": stdout,
        "stdout_lines": stdout.splitlines(),
        "stderr": stderr,
        "rc": result.rc,
        "parsed": parsed,
        "error": result.error,
        "duration": round(result.duration_s, 6),
        "attempts": result.attempts,
    }
    for key in kind.result_keys:
        if key in result.data:
            view[key] = result.data[key]
    if "data" in result.data:  # what the step's `parse:` made of its output
        view["data"] = result.data["data"]
    return view


def check_common(
    kind: StepKind,
    expect: Expect | None,
    result: HostResult,
    evaluate: Callable[[str, Mapping[str, Any]], Any],
    variables: Mapping[str, Any],
) -> tuple[bool, str]:
    """Return (ok, reason) for the common ``expect`` checks (stdout, body, latency,
    ``that``) of a target the kind's own verdict (``StepKind.check``: exit codes, HTTP
    status) passed; the step's ``parse:`` has already put its data in the result."""
    if expect is None:
        return True, ""
    view = result_view(result, kind)
    stdout = view["stdout"] or ""
    if expect.stdout and not re.search(expect.stdout, stdout, re.MULTILINE):
        return False, f"output does not match /{expect.stdout}/"
    if expect.stdout_not and re.search(expect.stdout_not, stdout, re.MULTILINE):
        return False, f"output matches /{expect.stdout_not}/ (must not)"
    body = view.get("body") if view.get("body") is not None else stdout
    if expect.body and not re.search(expect.body, str(body or ""), re.MULTILINE):
        return False, f"body does not match /{expect.body}/"
    if expect.max_latency is not None:
        latency = float(result.data.get("latency", 0.0))
        if latency > float(expect.max_latency):
            return False, f"latency {latency:.3f}s over {expect.max_latency}s"
    for expression in expect.that:
        scope = dict(variables)
        scope["result"] = view
        if not evaluate(expression, scope):
            return False, f"expectation failed: {expression}"
    return True, ""
