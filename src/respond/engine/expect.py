"""Deciding ok/failed from what a target produced: ``expect`` (rc, regexes, HTTP, tests)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from respond.results import HostResult, StepStatus

COMMAND_KINDS = frozenset({"ssh", "local", "netmiko"})


def result_view(kind: str, result: HostResult) -> dict[str, Any]:
    """The dict a runbook sees as ``result`` in ``expect.that`` and through ``register``."""
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
    for key in ("http_status", "body", "latency", "answer", "json", "hosts"):
        if key in result.data:
            view[key] = result.data[key]
    return view


def check_expect(
    kind: str,
    expect: Any,
    result: HostResult,
    evaluate: Callable[[str, Mapping[str, Any]], Any],
    variables: Mapping[str, Any],
) -> tuple[bool, str]:
    """Return (ok, reason). Only called when the executor itself finished (status OK)."""
    view = result_view(kind, result)
    if kind in COMMAND_KINDS:
        wanted = getattr(expect, "rc", None) if expect is not None else None
        allowed = [0] if wanted is None else (wanted if isinstance(wanted, list) else [wanted])
        for cmd in result.commands:
            if cmd.exit_code not in allowed:
                return (
                    False,
                    f"exit code {cmd.exit_code} from {_short(cmd.command)} (expected {_list(allowed)})",
                )
    if kind == "http":
        wanted = getattr(expect, "status", None) if expect is not None else None
        code = result.data.get("http_status")
        if wanted is None:
            if not (isinstance(code, int) and 200 <= code < 400):
                return False, f"HTTP status {code} (expected 2xx/3xx)"
        else:
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if code not in allowed:
                return False, f"HTTP status {code} (expected {_list(allowed)})"
    if expect is None:
        return True, ""
    text = view.get("body") if kind == "http" and view.get("body") is not None else view["stdout"]
    pattern = getattr(expect, "stdout", None)
    if pattern and not re.search(pattern, view["stdout"] or "", re.MULTILINE):
        return False, f"output does not match /{pattern}/"
    pattern = getattr(expect, "stdout_not", None)
    if pattern and re.search(pattern, view["stdout"] or "", re.MULTILINE):
        return False, f"output matches /{pattern}/ (must not)"
    pattern = getattr(expect, "body", None)
    if pattern and not re.search(pattern, str(text or ""), re.MULTILINE):
        return False, f"body does not match /{pattern}/"
    limit = getattr(expect, "max_latency", None)
    if limit is not None and float(result.data.get("latency", 0.0)) > float(limit):
        return False, f"latency {result.data.get('latency'):.3f}s over {limit}s"
    for expression in getattr(expect, "that", None) or []:
        scope = dict(variables)
        scope["result"] = view
        if not evaluate(expression, scope):
            return False, f"expectation failed: {expression}"
    return True, ""


def _short(command: str) -> str:
    return command if len(command) <= 60 else command[:57] + "..."


def _list(values: list[Any]) -> str:
    return " or ".join(str(v) for v in values)
