"""Step kinds: a static registry of kind name → ``"module:Class"``, imported on first use.

Adding a kind touches its own module and one line here, never the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from respond.errors import ExecutorUnavailable, UnknownStepKind

if TYPE_CHECKING:
    from respond.executors.base import Executor

REGISTRY: dict[str, str] = {
    "ssh": "respond.executors.ssh:SshExecutor",
    "netmiko": "respond.executors.netmiko:NetmikoExecutor",
    "ansible": "respond.executors.ansible:AnsibleExecutor",
    "local": "respond.executors.local:LocalExecutor",
    "http": "respond.executors.http:HttpExecutor",
    "notify": "respond.executors.notify:NotifyExecutor",
    "manual": "respond.executors.manual:ManualExecutor",
    "wait": "respond.executors.wait:WaitExecutor",
}

# Kinds that act on inventory hosts and so fan out over `targets`.
HOST_KINDS = frozenset({"ssh", "netmiko", "ansible"})

_classes: dict[str, type[Executor]] = {}


def known_kinds() -> list[str]:
    return list(REGISTRY)


def executor_class(kind: str) -> type[Executor]:
    if kind in _classes:
        return _classes[kind]
    try:
        target = REGISTRY[kind]
    except KeyError:
        raise UnknownStepKind(
            f"unknown step kind {kind!r} (known: {', '.join(REGISTRY)})"
        ) from None
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ExecutorUnavailable(
            f"step kind {kind!r} needs the Python package {exc.name!r}, which is not installed",
            hint="pip install -e . (in the project's virtual environment)",
        ) from exc
    cls: type[Executor] = getattr(module, attr)
    _classes[kind] = cls
    return cls
