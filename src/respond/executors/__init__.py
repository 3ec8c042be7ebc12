"""The transports behind the step kinds: each kind names its executor as a
``"module:Class"`` string, imported here on first use (so validating a runbook never
imports paramiko, netmiko or ansible_runner).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from respond import kinds
from respond.errors import ExecutorUnavailable

if TYPE_CHECKING:
    from respond.executors.base import Executor

_classes: dict[str, type[Executor]] = {}


def executor_class(kind: str) -> type[Executor]:
    """The executor class of step kind ``kind``; raises ``UnknownStepKind`` or
    ``ExecutorUnavailable`` (naming the missing package)."""
    if kind in _classes:
        return _classes[kind]
    module_name, attr = kinds.get(kind).executor.split(":")
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
