"""Vendor-neutral network facts: the same structure from Cisco IOS/NX-OS, Huawei VRP and H3C
Comware devices (interfaces, neighbours, routes, running configuration).

Per-family commands (``commands``), parsed with ntc-templates (``parse``), then mapped to
one shape by a thin normaliser (``normalise``). The executor sends the commands; this
package turns their outputs into facts::

    {"interfaces": [{"name", "admin", "oper", "description", "speed_mbps",
                     "in_errors", "out_errors", "crc"}],
     "neighbors": [{"local_interface", "name", "interface", "protocol", "platform",
                    "address"}],
     "routes": {"default", "next_hop", "interface", "entries": [{"prefix", "next_hop",
                "interface", "protocol"}]},
     "config": "<running configuration text>"}

A fact that cannot be read (no template, output that does not fit) is ``None`` with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from respond.netfacts import normalise
from respond.netfacts.commands import command_for
from respond.netfacts.parse import NotParsed, parse_rows, platform_of_family
from respond.netos import host_family

__all__ = ["command_for", "facts_from_outputs", "family"]


def family(host: Any) -> str | None:
    """The network-OS family of an inventory host (``ios``, ``vrp``, ``comware``...)."""
    return host_family(getattr(host, "vars", None) or {})


def facts_from_outputs(family: str, outputs: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(facts, notes) from ``outputs`` (fact name → the raw output of its command)."""
    facts: dict[str, Any] = {}
    notes: list[str] = []
    for fact, text in outputs.items():
        try:
            facts[fact] = _one(family, fact, text)
        except NotParsed as exc:
            facts[fact] = None
            command = command_for(family, fact)
            source = f" from {command!r}" if command else ""
            notes.append(f"facts: {fact} not read{source} ({exc})")
    return facts, notes


def _one(family: str, fact: str, text: str) -> Any:
    if fact == "config":
        return text
    command = command_for(family, fact)
    platform = platform_of_family(family)
    if command is None or platform is None:
        raise NotParsed(f"no {fact} command for network OS {family}")
    rows = parse_rows(platform, command, text)
    try:
        if fact == "interfaces":
            return normalise.interfaces(family, rows, text)
        if fact == "neighbors":
            return normalise.neighbors(family, rows)
        return normalise.routes(family, rows)
    except (KeyError, ValueError) as exc:  # a template whose fields changed
        raise NotParsed(f"unexpected {fact} table: {exc!r}") from None
