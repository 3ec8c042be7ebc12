"""Run parameters: ``-p KEY=VALUE`` on the command line, ``RESPOND_PARAM_<NAME>`` in the
environment (the way to pass secrets without leaving them in shell history), then defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from respond.errors import Issue, UsageError
from respond.secrets import MIN_LEN

if TYPE_CHECKING:
    from respond.runbook.model import Runbook

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True, slots=True)
class ResolvedParams:
    values: dict[str, Any]
    secret_names: frozenset[str]

    def redacted(self) -> dict[str, Any]:
        return {k: ("***" if k in self.secret_names else v) for k, v in self.values.items()}

    @property
    def secret_values(self) -> list[str]:
        return [str(self.values[k]) for k in self.secret_names if self.values.get(k) is not None]


# what the command line gives a param: its value, or its values when -p names it again
Given = Mapping[str, "str | list[str]"]


def parse_assignments(pairs: Iterable[str]) -> dict[str, str | list[str]]:
    """``KEY=VALUE`` pairs; a key given again collects its values in a list (a ``type:
    list`` param takes them all, any other param the last)."""
    out: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"parameter {pair!r} must be written KEY=VALUE")
        before = out.get(key)
        if before is None:
            out[key] = value
        else:
            out[key] = [*([before] if isinstance(before, str) else before), value]
    return out


def resolve_params(
    runbook: Runbook,
    given: Given,
    *,
    env: Mapping[str, str] | None = None,
    placeholder_for_missing: str | None = None,
    recorded: Given | None = None,
) -> ResolvedParams:
    """Validate and convert parameters; every problem is reported at once (exit 2).
    ``recorded`` are the values a resumed run started with (among ``given``): they were
    accepted then, so a default of the runbook stays a default."""
    env = os.environ if env is None else env
    problems: list[str] = []
    unknown = sorted(set(given) - set(runbook.params))
    for name in unknown:
        import difflib

        close = difflib.get_close_matches(name, list(runbook.params), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(runbook.params) or "none"
        problems.append(f"unknown parameter {name!r}{hint}; this runbook takes: {known}")
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    in_commands: dict[str, list[str]] | None = None
    for name, spec in runbook.params.items():
        if spec.secret:
            secrets.add(name)
        raw: Any
        env_name = f"RESPOND_PARAM_{name.upper()}"
        given_now = name in given or env_name in env
        if given_now:
            raw = given[name] if name in given else env[env_name]
            if isinstance(raw, list) and spec.type != "list":
                raw = raw[-1]  # given again: the last one counts
        elif spec.default is not None:
            raw = spec.default
        elif spec.required:
            if placeholder_for_missing is not None:
                values[name] = placeholder_for_missing
                continue
            problems.append(
                f"missing required parameter {name!r}"
                + (f" ({spec.description})" if spec.description else "")
                + f": pass -p {name}=VALUE"
                + (f" or set {env_name}" if spec.secret else "")
            )
            continue
        else:
            values[name] = None
            continue
        try:
            values[name] = _convert(name, spec, raw)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        # a default is written by the runbook's author, like the command text around it
        if recorded is not None and name in recorded and recorded[name] == raw:
            given_now = False
        items = values[name] if isinstance(values[name], list) else [values[name]]
        for item in items if given_now else []:
            if not (isinstance(item, str) and item.startswith("-")):
                continue
            if in_commands is None:
                from respond.runbook.validate import params_in_commands

                in_commands = params_in_commands(runbook)
            refusal = _option_like(name, spec, item, in_commands.get(name, []))
            if refusal:
                problems.append(refusal)
    if problems:
        raise UsageError("\n".join(f"error: {p}" for p in problems))
    return ResolvedParams(values=values, secret_names=frozenset(secrets))


def _convert(name: str, spec: Any, raw: Any) -> Any:
    kind = getattr(spec, "type", None) or "string"
    # a secret's value never appears in an error message (it goes to the terminal and CI logs)
    got = "a value that is not shown (secret)" if spec.secret else repr(raw)
    if kind == "list":
        try:
            return spec.coerce(raw)
        except ValueError as exc:
            raise ValueError(f"parameter {name!r}: {exc}") from None
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name!r} must be a whole number, got {got}") from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"parameter {name!r} must be true or false, got {got}")
    value = raw if isinstance(raw, str) else str(raw)
    choices = getattr(spec, "choices", None)
    if choices and value not in [str(c) for c in choices]:
        raise ValueError(
            f"parameter {name!r} must be one of {', '.join(map(str, choices))}, got {got}"
        )
    pattern = getattr(spec, "pattern", None)
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"parameter {name!r} must match the pattern {pattern}, got {got}")
    if spec.secret and len(value) < MIN_LEN:
        raise ValueError(
            f"secret parameter {name!r} is shorter than {MIN_LEN} characters: too short to "
            "be masked in output and the record"
        )
    return value


def _option_like(name: str, spec: Any, value: str, steps: list[str]) -> str | None:
    """Why a value starting with '-' may not reach a command, or None when it may.

    A program reads such a word as an option (``-oProxyCommand=...`` for ssh, ``--help``),
    whatever the quoting, so a value given at run time is refused there unless the
    runbook's ``choices`` or ``pattern`` admit it explicitly."""
    if not steps or spec.admits(value):
        return None
    shown = "***" if spec.secret else repr(value)
    where = ", ".join(steps)
    return (
        f"parameter {name!r} value {shown} starts with '-' and would reach a command as an "
        f"option (step {where}); give a value without a leading '-', or declare 'pattern:' "
        f"or 'choices:' for {name!r} in the runbook that admit it"
    )


def issues_to_text(issues: list[Issue]) -> str:
    return "\n".join(str(i) for i in issues)
