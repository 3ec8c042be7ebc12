"""Step kinds: a static registry of kind name → ``"module:attribute"`` of its ``StepKind``.

Adding a kind is one module (see ``base.StepKind``) and one line here; the runbook model,
``plan``, the engine, the terminal and the record ask the kind and never name it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from respond.errors import UnknownStepKind

if TYPE_CHECKING:
    from respond.kinds.base import StepKind

REGISTRY: dict[str, str] = {
    "ssh": "respond.kinds.ssh:KIND",
    "netmiko": "respond.kinds.netmiko:KIND",
    "ansible": "respond.kinds.ansible:KIND",
    "local": "respond.kinds.local:KIND",
    "http": "respond.kinds.http:KIND",
    "notify": "respond.kinds.notify:KIND",
    "manual": "respond.kinds.manual:KIND",
    "wait": "respond.kinds.wait:KIND",
    "set": "respond.kinds.set:KIND",
    "decide": "respond.kinds.decide:KIND",
    "finish": "respond.kinds.finish:KIND",
    "check": "respond.kinds.check:KIND",
}

_loaded: dict[str, StepKind] = {}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str) -> StepKind:
    """The kind called ``name``; raises ``UnknownStepKind`` listing the known ones."""
    kind = _loaded.get(name)
    if kind is not None:
        return kind
    try:
        target = REGISTRY[name]
    except KeyError:
        raise UnknownStepKind(
            f"unknown step kind {name!r} (known: {', '.join(REGISTRY)})"
        ) from None
    module_name, attr = target.split(":")
    loaded: StepKind = getattr(importlib.import_module(module_name), attr)
    _loaded[name] = loaded
    return loaded


def all_kinds() -> list[StepKind]:
    return [get(name) for name in REGISTRY]
