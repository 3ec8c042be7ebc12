"""``parse:``: a registering step's output turned into data (``NAME.data``), so a runbook
reads ``ups.data['ups.status']`` instead of a regex filter in every expression.

Parsers: ``key_value`` (``key: value`` / ``key=value`` lines), ``json``, ``{regex: P}`` (the
named groups of the first match; ``all: true`` for every match), ``textfsm`` (ntc-templates
chosen by the host's ``ansible_network_os`` and the command) and ``{textfsm: FILE}`` (a
template in the project). A failure is a ``ParseFailed`` with a readable message, which
fails that host's result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from respond.netos import FAMILY_OF, NTC_PLATFORM, ntc_platform_of
from respond.results import HostResult
from respond.runbook.files import file_in


class ParseFailed(Exception):
    """The output could not be parsed as the step says; the message is for the operator."""


def parse_result(
    spec: str | Mapping[str, Any],
    result: HostResult,
    *,
    network_os: str | None = None,
    root: Path | None = None,
) -> Any:
    """The data ``spec`` makes of ``result``'s output; raise ``ParseFailed``."""
    if isinstance(spec, str):
        if spec == "key_value":
            return key_values(stdout_of(result))
        if spec == "json":
            return _json(stdout_of(result))
        if spec == "textfsm":
            return _per_command(result, lambda cmd, text: _ntc(network_os, cmd, text))
        raise ParseFailed(f"parse: unknown parser {spec!r}")
    if "regex" in spec:
        return _regex(str(spec["regex"]), stdout_of(result), every=bool(spec.get("all")))
    template = _template_file(str(spec["textfsm"]), root)
    return _per_command(result, lambda _cmd, text: _textfsm_file(template, text))


def stdout_of(result: HostResult) -> str:
    """The output a runbook sees as ``stdout``: every command's, joined."""
    if result.commands:
        return "\n".join(c.stdout for c in result.commands)
    return result.output


def key_values(text: str) -> dict[str, str]:
    """``key: value`` or ``key=value`` per line, split at the first ':' or '='; other
    lines are skipped."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        cut = min((i for i in (line.find(":"), line.find("=")) if i > 0), default=-1)
        if cut < 0:
            continue
        key = line[:cut].strip()
        if key:
            out[key] = line[cut + 1 :].strip()
    return out


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ParseFailed(f"parse json: {exc}") from None


def _regex(pattern: str, text: str, *, every: bool) -> Any:
    compiled = re.compile(pattern, re.MULTILINE)
    if every:
        return [m.groupdict() for m in compiled.finditer(text)]
    match = compiled.search(text)
    if match is None:
        raise ParseFailed(f"parse regex: /{pattern}/ does not match the output")
    return match.groupdict()


def _per_command(result: HostResult, parse: Any) -> Any:
    """One table per command; a step with several commands gives a list of tables."""
    pairs = [(c.command, c.stdout) for c in result.commands] or [("", result.output)]
    tables = [parse(command, text) for command, text in pairs]
    return tables[0] if len(tables) == 1 else tables


def platform_for(network_os: str | None) -> str:
    if not network_os:
        raise ParseFailed(
            "parse textfsm: the host has no ansible_network_os to choose a template by; "
            "use parse: {textfsm: FILE} with a template of the project"
        )
    platform = ntc_platform_of(network_os)
    if platform is None:
        known = ", ".join(sorted(k for k, f in FAMILY_OF.items() if f in NTC_PLATFORM))
        raise ParseFailed(
            f"parse textfsm: no ntc-templates platform for ansible_network_os {network_os!r} "
            f"(known: {known})"
        )
    return platform


def _ntc(network_os: str | None, command: str, text: str) -> list[dict[str, Any]]:
    platform = platform_for(network_os)
    from ntc_templates.parse import parse_output

    try:
        rows: list[dict[str, Any]] = parse_output(platform=platform, command=command, data=text)
    except Exception as exc:  # ntc-templates and TextFSM raise several unrelated types
        raise ParseFailed(f"parse textfsm: {exc}") from None
    return rows


def _template_file(name: str, root: Path | None) -> Path:
    path, problem = file_in(root or Path.cwd(), name)
    if problem == "outside":
        raise ParseFailed(f"parse textfsm: template {name!r} must be a path in the project")
    if problem == "missing":
        raise ParseFailed(f"parse textfsm: template {name!r} not found in the project")
    return path


def _textfsm_file(template: Path, text: str) -> list[dict[str, Any]]:
    import textfsm

    try:
        with template.open(encoding="utf-8") as handle:
            fsm = textfsm.TextFSM(handle)
        rows = fsm.ParseTextToDicts(text)
    except Exception as exc:  # TextFSM's errors (template and parsing) have no common base
        raise ParseFailed(f"parse textfsm: {template.name}: {exc}") from None
    return [{str(k).lower(): v for k, v in row.items()} for row in rows]
