"""netmiko: show commands and configuration on network devices (Cisco, Huawei VRP, H3C
Comware, ...). Configuration always passes a gate; device lines refuse line breaks and
control characters."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.errors import RespondError
from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind
from respond.netos import FAMILIES, host_family
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Expect, Step


# The vendor-neutral facts a step may ask for (respond.netfacts reads them).
FACT_NAMES: tuple[str, ...] = ("interfaces", "neighbors", "routes", "config")
# Keys of a per-OS `commands:`/`config:` mapping besides the families.
DEFAULT_KEY = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSession(Rendered):
    config: tuple[str, ...] = ()
    save: bool = False
    textfsm: bool = False
    facts: tuple[str, ...] = ()  # fact names, `all` expanded
    family: str | None = None  # the host's network-OS family


class NetmikoKind(StepKind):
    name = "netmiko"
    executor = "respond.executors.netmiko:NetmikoExecutor"
    summary = "Show commands and configuration on network devices (netmiko)."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "commands",
            "os_texts",
            "netmiko: show commands, a list or a mapping network OS "
            "(ios, nxos, vrp, comware, ..., default) → list.",
            template="device",
        ),
        KindField(
            "config",
            "os_texts",
            "netmiko: configuration lines (always gated), a list or a mapping network OS → list.",
            template="device",
        ),
        KindField(
            "facts",
            "texts",
            "netmiko: vendor-neutral facts to read: interfaces, neighbors, routes, config, or all.",
            template="none",
        ),
        KindField("textfsm", "flag", "netmiko: parse show output with TextFSM.", default=False),
        KindField("save", "flag", "netmiko: save the configuration after `config`.", default=False),
    )
    on_hosts = True
    default_timeout = 60.0
    pollable = True
    exit_codes = True
    result_keys = ("facts",)
    required_any = ("commands", "config", "facts")

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        present = {k for k, v in raw.items() if v is not None}
        out: list[tuple[str, str | None]] = []
        if {"commands", "config"} <= present:
            out.append(("a netmiko step takes 'commands' or 'config', not both", "config"))
        for name in ("commands", "config"):
            out += _per_os_problems(name, raw.get(name))
        out += _fact_problems(raw.get("facts"))
        if "config" in present and inline:
            out.append(
                ("a wait check may not change a device ('config' is not allowed here)", "config")
            )
        elif "config" in present and not raw.get("confirm"):
            out.append(
                (
                    "a netmiko step with 'config' changes the device and needs 'confirm' (the gate text)",
                    "config",
                )
            )
        return out

    def gated_by_default(self, step: Step) -> bool:
        return bool(step.config)

    def default_gate_text(self, step: Step, hosts: Sequence[str]) -> str:
        return f"apply configuration to {', '.join(hosts)}"

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> DeviceSession:
        t = env.templates
        name = str(variables.get("inventory_hostname") or "")
        host = next((h for h in hosts if h.name == name), None)
        family = host_family(host.vars) if host is not None else None
        commands = for_family(step.commands, family, "commands", name)
        config = for_family(step.config, family, "config", name)
        return DeviceSession(
            commands=tuple(t.render_device_line(c, variables) for c in commands),
            config=tuple(t.render_device_line(c, variables) for c in config),
            save=bool(step.save),
            textfsm=bool(step.textfsm),
            facts=expand_facts(step.facts or ()),
            family=family,
            variables=variables,
        )

    def host_issues(self, step: Step, host: Host) -> list[tuple[str, str]]:
        family = host_family(host.vars)
        shown = family or "unknown (no ansible_network_os)"
        return [
            (
                f"no entry for network OS {shown} of {host.name} and no 'default': "
                "the step fails on that host",
                name,
            )
            for name in ("commands", "config")
            if missing_family(getattr(step, name), family)
        ]

    def check(self, expect: Expect | None, result: HostResult) -> tuple[bool, str]:
        """Exit codes of the step's own commands; a fact's command the device rejected is a
        note and a None fact, not a failure."""
        sent = set(result.data.get("fact_commands") or ())
        if not sent:
            return super().check(expect, result)
        own = tuple(c for i, c in enumerate(result.commands) if i not in sent)
        return super().check(expect, dataclasses.replace(result, commands=own))

    def host_detail(self, step: Step, result: HostResult) -> str:
        facts = result.data.get("facts")
        if not isinstance(facts, dict) or step.commands or step.config:
            return super().host_detail(step, result)
        return facts_summary(facts)

    def actions(self, rendered: Rendered) -> list[str]:
        if not isinstance(rendered, DeviceSession):
            return list(rendered.commands)
        facts = [f"(facts) {f}" for f in rendered.facts]
        return [*rendered.commands, *facts, *(f"(config) {c}" for c in rendered.config)]


def facts_summary(facts: Mapping[str, Any]) -> str:
    """One line for the terminal: ``interfaces 28 (3 down), neighbors 2, default route via
    10.0.0.1, config 120 lines``."""
    parts: list[str] = []
    ifaces = facts.get("interfaces")
    if isinstance(ifaces, list):
        down = sum(1 for i in ifaces if i.get("oper") == "down")
        parts.append(f"interfaces {len(ifaces)}" + (f" ({down} down)" if down else ""))
    if isinstance(facts.get("neighbors"), list):
        parts.append(f"neighbors {len(facts['neighbors'])}")
    routes = facts.get("routes")
    if isinstance(routes, dict):
        hop = routes.get("next_hop") or routes.get("interface")
        parts.append(f"default route via {hop}" if routes.get("default") else "no default route")
    if isinstance(facts.get("config"), str):
        parts.append(f"config {len(facts['config'].splitlines())} lines")
    unread = [name for name, value in facts.items() if value is None]
    if unread:
        parts.append(f"not read: {', '.join(unread)}")
    return ", ".join(parts)


def expand_facts(names: Sequence[str]) -> tuple[str, ...]:
    """The facts asked for, in the fixed order, ``all`` expanded."""
    chosen = set(names)
    return tuple(n for n in FACT_NAMES if "all" in chosen or n in chosen)


def for_family(
    value: Sequence[str] | Mapping[str, Sequence[str]] | None,
    family: str | None,
    field: str,
    host: str,
) -> tuple[str, ...]:
    """The lines of a plain or per-OS field for a host of ``family``; a mapping without
    an entry for it (nor ``default``) is the host's error."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        return tuple(value)
    if family is not None and family in value:
        return tuple(value[family])
    if DEFAULT_KEY in value:
        return tuple(value[DEFAULT_KEY])
    shown = family or "unknown (no ansible_network_os)"
    raise RespondError(f"no {field} for network OS {shown} on {host}")


def missing_family(value: Any, family: str | None) -> bool:
    """True when a per-OS mapping has neither ``family`` nor ``default``."""
    return isinstance(value, Mapping) and DEFAULT_KEY not in value and family not in value


def _per_os_problems(field: str, value: Any) -> list[tuple[str, str | None]]:
    if not isinstance(value, Mapping):
        return []
    known = (*FAMILIES, DEFAULT_KEY)
    out: list[tuple[str, str | None]] = []
    for key in value:
        if key not in known:
            out.append((f"{field}: unknown network OS {key!r}{_hint(key, known)} "
                        f"(known: {', '.join(known)})", field))  # fmt: skip
    return out


def _fact_problems(value: Any) -> list[tuple[str, str | None]]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list):
        return []
    known = (*FACT_NAMES, "all")
    return [
        (f"facts: unknown fact {n!r}{_hint(n, known)} (known: {', '.join(known)})", "facts")
        for n in names
        if isinstance(n, str) and n not in known
    ]


def _hint(word: Any, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


KIND = NetmikoKind()
