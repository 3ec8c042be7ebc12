"""The built-in checks: what each one reads, over which transport, and how it grades it.

A check is agentless: it reads a host over the transports runbook steps already use: shell
commands over SSH, vendor-neutral facts over netmiko, an HTTP request, or a TLS handshake
from the control host. A ``CheckSpec`` says what to read (``commands`` / ``facts`` /
``request``) and turns what came back (``Collected``) into a graded ``CheckResult``
(``grade``). Specs are pure: no I/O, so every grading rule is tested on captured output.

The executor (``respond.executors.check``) does the reading; inspections
(``respond.inspections``) and the ``check`` step kind pick specs by name from ``CHECKS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from respond.checks.result import CheckResult, State, Thresholds

Transport = Literal["ssh", "netmiko", "http", "tls"]
ArgType = Literal["text", "texts", "number", "flag"]


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument a check takes under ``args:``."""

    name: str
    type: ArgType
    description: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """One shell command a check ran and what it gave (exit code None: it never finished)."""

    command: str
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int | None
    body: str = ""
    latency_s: float = 0.0
    json: Any = None


@dataclass(frozen=True, slots=True)
class CertInfo:
    """The certificate a TLS server presented."""

    not_after: datetime  # UTC
    not_before: datetime | None = None
    subject: str = ""
    issuer: str = ""
    verified: bool = False  # the chain verified against the system's trust store


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    """What the transport brought back for one check on one host. ``error`` is set when
    the reading itself failed (unreachable, refused login, timeout): most checks grade
    that UNKNOWN, ``reachable`` grades it CRITICAL."""

    host: str
    now: datetime  # UTC: ages and expiries are measured against it
    commands: tuple[CommandOutput, ...] = ()
    facts: Mapping[str, Any] | None = None  # netmiko: fact name → normalised value
    http: HttpAnswer | None = None
    cert: CertInfo | None = None
    error: str | None = None
    latency_s: float | None = None  # how long the reading took

    def stdout(self, index: int = 0) -> str:
        return self.commands[index].stdout if index < len(self.commands) else ""


@dataclass(frozen=True, slots=True)
class HttpRequestSpec:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    verify_tls: bool = True


@dataclass(frozen=True, slots=True)
class TlsTarget:
    host: str
    port: int
    server_name: str | None = None


class CheckSpec:
    """One built-in check. Subclasses set the class attributes and override what their
    transport needs (``commands`` for ssh, ``facts`` for netmiko, ``request`` for http,
    ``tls_target`` for tls) and ``grade``."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line for docs and `respond inspect checks`
    transport: ClassVar[Transport]
    reads: ClassVar[str] = ""  # what it runs or reads, for docs (`df -P [PATH...]`)
    value_text: ClassVar[str] = ""  # what the headline value is, for docs
    args: ClassVar[tuple[ArgSpec, ...]] = ()
    warn: ClassVar[str | None] = None  # default warning range
    crit: ClassVar[str | None] = None  # default critical range
    unit: ClassVar[str] = ""  # the headline value's unit ("%", "s", "d", "h", "")
    # what to do when the check is not OK, by state (a default; a result may say more)
    advice: ClassVar[Mapping[State, str]] = {}
    # the transport failing is CRITICAL for this check (reachability), UNKNOWN for others
    failure_state: ClassVar[State] = State.UNKNOWN
    # whether a step's ``warn``/``crit`` apply: False for a check whose thresholds are its
    # own (``nagios``: the plugin's options), so the step kind refuses them
    accepts_thresholds: ClassVar[bool] = True

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        """(message, arg name) for each argument rule ``args`` breaks, beyond the types and
        required names ``arg_problems`` checks from ``args``."""
        return []

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        """ssh: the shell commands to run, in order; every value from ``args`` quoted."""
        raise NotImplementedError

    def facts(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        """netmiko: the vendor-neutral facts to read (respond.netfacts names)."""
        raise NotImplementedError

    def request(self, args: Mapping[str, Any]) -> HttpRequestSpec:
        """http: the request to send (``args`` rendered with the host's variables)."""
        raise NotImplementedError

    def tls_target(self, args: Mapping[str, Any], address: str) -> TlsTarget:
        """tls: where to connect; ``address`` is the host's ``ansible_host``."""
        raise NotImplementedError

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        """The graded result of what was collected (``got.error`` is never set here: the
        caller grades a failed reading with ``failed``)."""
        raise NotImplementedError

    def failed(self, got: Collected) -> CheckResult:
        """The result when the reading failed (unreachable, refused, timed out)."""
        return CheckResult(
            state=self.failure_state,
            summary=f"{self.name.upper()} {self.failure_state.word} - {got.error}",
            advice=self.advice.get(self.failure_state)
            or "Check that the host is up and respond can log in to it.",
        )

    def thresholds(self, warn: str | float | None, crit: str | float | None) -> Thresholds:
        """The ranges a check step gives, else this check's defaults."""
        return Thresholds.parse(
            self.warn if warn is None else warn, self.crit if crit is None else crit
        )


def arg_problems(spec: CheckSpec, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Unknown, missing and mistyped arguments, then the spec's own rules."""
    known = {a.name: a for a in spec.args}
    out: list[tuple[str, str | None]] = []
    for name in args:
        if name not in known:
            choices = ", ".join(known) or "none"
            out.append(
                (f"check {spec.name} takes no argument {name!r} (it takes: {choices})", name)
            )
    for arg in spec.args:
        value = args.get(arg.name)
        if value is None:
            if arg.required:
                out.append((f"check {spec.name} needs the argument {arg.name!r}", None))
            continue
        if not _fits(arg.type, value):
            out.append((f"argument {arg.name!r} of check {spec.name} must be {arg.type}", arg.name))
    if not out:
        out.extend(spec.problems(args))
    return out


def _fits(kind: ArgType, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if kind == "texts":
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str | int) for v in value)
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, bool)


def with_defaults(spec: CheckSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` with every absent argument at its default."""
    out = {a.name: a.default for a in spec.args}
    out.update({k: v for k, v in args.items() if v is not None})
    return out


# The modules that define the built-in checks; each has ``CHECKS: tuple[CheckSpec, ...]``.
_MODULES = (
    "respond.checks.system",
    "respond.checks.hardware",
    "respond.checks.network",
    "respond.checks.freshness",
    "respond.checks.web",
    "respond.checks.plugin",
)
_REGISTRY: dict[str, CheckSpec] = {}


def checks() -> dict[str, CheckSpec]:
    """Every built-in check by name (the modules are small: imported on first use)."""
    if not _REGISTRY:
        for module in _MODULES:
            for spec in importlib.import_module(module).CHECKS:
                _REGISTRY[spec.name] = spec
    return _REGISTRY


def get(name: str) -> CheckSpec | None:
    return checks().get(name)


def describe(spec: CheckSpec) -> dict[str, Any]:
    """What docs and ``respond inspect checks`` show of a check."""
    return {
        "name": spec.name,
        "summary": spec.summary,
        "transport": spec.transport,
        "reads": spec.reads,
        "value": spec.value_text,
        "unit": spec.unit,
        "warn": spec.warn,
        "crit": spec.crit,
        "accepts_thresholds": spec.accepts_thresholds,
        "args": [
            {
                "name": a.name,
                "type": a.type,
                "required": a.required,
                "default": a.default,
                "description": a.description,
            }
            for a in spec.args
        ],
    }


def docs_table() -> list[dict[str, Any]]:
    """``describe`` of every built-in check, in catalogue order."""
    return [describe(spec) for spec in checks().values()]


def docs_markdown() -> str:
    """The built-in checks as a Markdown table (docs/inspections.md holds it)."""
    rows = [
        "| Check | Transport | Runs / reads | Value | Warn / crit | Arguments |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in docs_table():
        unit = f" ({row['unit']})" if row["unit"] else ""
        limits = (
            f"`{row['warn'] or '-'}` / `{row['crit'] or '-'}`"
            if row["accepts_thresholds"]
            else "the plugin's own"
        )
        rows.append(
            f"| `{row['name']}` | {row['transport']} | {row['reads']} | "
            f"{row['value']}{unit} | {limits} | {_args_text(row['args']) or '-'} |"
        )
    return "\n".join(rows) + "\n"


def _args_text(args: list[dict[str, Any]]) -> str:
    out = []
    for arg in args:
        text = f"`{arg['name']}` ({arg['type']}"
        if arg["required"]:
            text += ", required"
        elif arg["default"] is not None:
            default = (
                str(arg["default"]).lower() if isinstance(arg["default"], bool) else arg["default"]
            )
            text += f", default `{default}`"
        out.append(text + f"): {arg['description']}")
    return "; ".join(out).replace("|", "\\|")
