"""Runbooks: YAML with positions, the model, loading, validation, schema and templates.

``load_runbook(path_or_name, config=None) -> Runbook`` (raises ``RunbookInvalid``),
``find_runbooks(config) -> list[Path]`` (docs/internals.md). Importing this package is cheap:
pydantic and Jinja2 load only when a runbook is loaded or validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from respond.runbook.loader import find_runbooks, load_runbook, resolve_runbook

if TYPE_CHECKING:
    from respond.runbook.model import Expect, Param, Runbook, Step

__all__ = [
    "Expect",
    "Param",
    "Runbook",
    "Step",
    "find_runbooks",
    "load_runbook",
    "resolve_runbook",
]


def __getattr__(name: str) -> Any:
    if name in ("Expect", "Param", "Runbook", "Step"):
        from respond.runbook import model

        return getattr(model, name)
    raise AttributeError(name)
