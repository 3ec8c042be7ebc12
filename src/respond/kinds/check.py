"""check: one built-in check (``respond.checks``) on inventory hosts, graded OK, WARNING,
CRITICAL or UNKNOWN as a Nagios plugin would grade it.

The check reads the host over the transport its spec names (shell commands over SSH,
facts over netmiko, an HTTP request, a TLS handshake) and grades what came back against
the step's ``warn``/``crit`` ranges, else the check's own. A graded result, CRITICAL
included, is an ok step: the finding is in the result (``REG.check.state``), and only a
reading that failed (unreachable, refused, timed out) fails the host.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from respond.checks import catalog
from respond.checks.catalog import ArgType, CheckSpec, arg_problems, with_defaults
from respond.checks.result import Range
from respond.errors import RespondError
from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRequest(Rendered):
    """A check rendered for one host: ``commands`` says what will be sent (the shell
    commands, ``facts: interfaces``, ``GET url`` or ``TLS handshake host:port``)."""

    check: str
    args: Mapping[str, Any] = field(default_factory=dict)  # rendered, with defaults
    warn: str | None = None
    crit: str | None = None
    address: str = ""  # the host's ansible_host: where a TLS handshake goes by default


class CheckKind(StepKind):
    name = "check"
    executor = "respond.executors.check:CheckExecutor"
    summary = (
        "A built-in check (disk, ups, interfaces, http, a Nagios plugin...) graded "
        "OK, WARNING, CRITICAL or UNKNOWN."
    )
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "check",
            "text",
            "check: the built-in check to run (see `respond inspect checks`).",
            template="none",
        ),
        KindField("args", "mapping", "check: the check's arguments (templated)."),
        KindField(
            "warn",
            "value",
            "check: the WARNING threshold, a Nagios range (80, 10:, ~:5, @1:2).",
            template="none",
        ),
        KindField(
            "crit",
            "value",
            "check: the CRITICAL threshold, a Nagios range.",
            template="none",
        ),
    )
    on_hosts = True
    default_timeout = 30.0
    pollable = True
    result_keys = ("check",)
    required = (("check",),)

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        name = raw.get("check")
        if name is None:
            return []  # required_problems says it
        args = raw.get("args")
        return check_problems(
            name, args if isinstance(args, Mapping) else {}, raw.get("warn"), raw.get("crit")
        )

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> CheckRequest:
        spec = spec_named(str(step.check))
        written = dict(step.args or {})
        rendered = env.templates.render_value(written, variables)
        args = with_defaults(spec, _typed(spec, written, rendered))
        problems = arg_problems(spec, args)
        if problems:
            raise RespondError(f"check {spec.name}: {problems[0][0]}")
        name = str(variables.get("inventory_hostname") or "")
        host = next((h for h in hosts if h.name == name), None)
        address = host.address if host is not None else str(variables.get("ansible_host") or name)
        return CheckRequest(
            check=spec.name,
            args=args,
            warn=_range_text(step.warn),
            crit=_range_text(step.crit),
            address=address,
            commands=tuple(what_is_sent(spec, args, address)),
            variables=variables,
        )

    def host_mark(self, result: HostResult) -> tuple[str, str] | None:
        graded = result.data.get("check")
        if isinstance(graded, Mapping):
            return _STATE_MARKS.get(str(graded.get("state")))
        return None

    def host_detail(self, step: Step, result: HostResult) -> str:
        graded = result.data.get("check")
        if isinstance(graded, Mapping):
            # the summary quotes what the host printed, which no_log keeps off the screen too
            key = "state" if step.no_log else "summary"
            return str(graded.get(key) or "")
        return super().host_detail(step, result)


# a finding is not a failed step, but a 3 a.m. reader must not see a tick beside it
_STATE_MARKS = {
    "OK": ("✓", "green"),
    "WARNING": ("!", "yellow"),
    "CRITICAL": ("✗", "red"),
    "UNKNOWN": ("?", "magenta"),
}


def spec_named(name: str) -> CheckSpec:
    """The built-in check called ``name``; ``RespondError`` naming the close ones."""
    spec = catalog.get(name)
    if spec is None:
        raise RespondError(unknown_check_message(name))
    return spec


def unknown_check_message(name: Any) -> str:
    known = sorted(catalog.checks())
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown check {name!r}{hint} (known: {', '.join(known) or 'none'})"


def check_problems(
    name: Any, args: Mapping[str, Any], warn: Any, crit: Any
) -> list[tuple[str, str | None]]:
    """(message, key) for what is wrong with a check, its arguments and its ranges, as
    written (templated argument values are checked when they are rendered). Keys inside
    ``args`` are ``args.NAME``. Inspections validate their checks with this too."""
    if not isinstance(name, str):
        return [("'check' names a built-in check, e.g. check: disk", "check")]
    spec = catalog.get(name)
    if spec is None:
        return [(unknown_check_message(name), "check")]
    templated = {k for k, v in args.items() if _templated(v)}
    out: list[tuple[str, str | None]] = [
        (message, f"args.{key}" if key else "args")
        for message, key in arg_problems(spec, _untemplated(spec, args))
        if key not in templated  # a stand-in's problem is not the argument's
    ]
    for key, value in (("warn", warn), ("crit", crit)):
        if value is None:
            continue
        if not spec.accepts_thresholds:
            out.append(
                (
                    f"check {spec.name} takes no {key!r}: its thresholds are its own "
                    "(e.g. the plugin's -w/-c)",
                    key,
                )
            )
            continue
        try:
            Range.parse(value)
        except ValueError as exc:
            out.append((f"{key}: {exc}", key))
    return out


# A value that stands for a templated argument while its template is unrendered.
_STAND_INS: dict[ArgType, Any] = {"text": "x", "texts": ["x"], "number": 1, "flag": True}


def _untemplated(spec: CheckSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` with each templated value replaced by a stand-in of the argument's type."""
    types = {a.name: a.type for a in spec.args}
    return {k: _STAND_INS[types[k]] if k in types and _templated(v) else v for k, v in args.items()}


def _typed(
    spec: CheckSpec, written: Mapping[str, Any], rendered: Mapping[str, Any]
) -> dict[str, Any]:
    """A templated number argument (``port: "{{ oa_https_port }}"``) renders as text: it
    becomes the number it reads as (text that is no number stays text, and is refused)."""
    numbers = {a.name for a in spec.args if a.type == "number"}
    out = dict(rendered)
    for name, value in rendered.items():
        if name in numbers and isinstance(value, str) and _templated(written.get(name)):
            out[name] = _number(value)
    return out


def _number(text: str) -> Any:
    try:
        value = float(text.strip())
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def _range_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def what_is_sent(spec: CheckSpec, args: Mapping[str, Any], address: str) -> list[str]:
    """What the check sends a host, one line each (the plan, the record's intents)."""
    if spec.transport == "ssh":
        return list(spec.commands(args))
    if spec.transport == "netmiko":
        return [f"facts: {', '.join(spec.facts(args))}"]
    if spec.transport == "http":
        request = spec.request(args)
        return [f"{request.method} {request.url}"]
    target = spec.tls_target(args, address)
    return [f"TLS handshake {target.host}:{target.port}"]


KIND = CheckKind()
