"""The drill lead's findings file: what only people can add to an after-action report.

Strict YAML (``respond.yamlfile``: duplicate keys, tabs, unsafe tags refused) and a checked
shape, every problem at ``file:line:col``, so a mistyped key or a hand-edited file that no
longer reads as findings stops the report instead of silently leaving a field empty::

    observations: [...]            # or one text, or {question: answer}
    critical: "..."                # safety or security lapses reported at once
    hotwash: "..."                 # the debrief, survey results
    actions: [{id, description, owner, due, status, ref}]
    plan_updates: [...]
    signoff: [{name, role, date}]
    distribution: [...]
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from respond.errors import InvalidInput, Issue

TEXT_KEYS = ("observations", "critical", "hotwash", "plan_updates")
KEYS = (*TEXT_KEYS, "actions", "signoff", "distribution")
ACTION_KEYS = ("id", "description", "owner", "due", "status", "ref")
SIGNOFF_KEYS = ("name", "role", "date")
REQUIRED = {"actions": ("id", "description"), "signoff": ("name",)}
ITEM_KEYS = {"actions": ACTION_KEYS, "signoff": SIGNOFF_KEYS}


def load_findings(path: Path) -> dict[str, Any]:
    """The findings in ``path``, checked; InvalidInput (exit 2) naming every problem."""
    from respond.yamlfile import read_yaml

    doc = read_yaml(path, what="findings file")
    data, pos = doc.data, doc.positions
    if data is None:
        return {}
    if not isinstance(data, dict):
        issue = Issue(
            "a findings file is a mapping (observations, actions, signoff, ...)", pos.nearest(())
        )
        raise InvalidInput(f"{pos.file}: not a findings file", [issue])
    issues: list[Issue] = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        checked = _check_key(str(key), value, pos, issues)
        if checked is not None:
            out[str(key)] = checked
    if issues:
        raise InvalidInput(f"{pos.file}: invalid findings file", issues)
    return out


def _check_key(key: str, value: Any, pos: Any, issues: list[Issue]) -> Any:
    if key not in KEYS:
        issues.append(Issue(_unknown(key, KEYS), pos.key((key,))))
        return None
    if key in TEXT_KEYS:
        return _texts(key, value, pos, issues, mapping_ok=key == "observations")
    if key == "distribution":
        return _texts(key, value, pos, issues, mapping_ok=False, as_list=True)
    return _items(key, value, pos, issues)


def _unknown(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
    return f"unknown key {key!r}{hint}"


def _texts(
    key: str, value: Any, pos: Any, issues: list[Issue], *, mapping_ok: bool, as_list: bool = False
) -> Any:
    """A text, a list of texts (or, for observations, question → answer)."""
    if isinstance(value, str):
        return [value] if as_list else value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    if mapping_ok and isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    what = "a text or a list of texts" + (
        " or a mapping of questions to answers" if mapping_ok else ""
    )
    issues.append(Issue(f"{key}: expected {what}", pos.nearest((key,))))
    return None


def _items(key: str, value: Any, pos: Any, issues: list[Issue]) -> list[dict[str, Any]] | None:
    """``actions`` / ``signoff``: a list of mappings with known keys."""
    if not isinstance(value, list):
        issues.append(Issue(f"{key}: expected a list of mappings", pos.nearest((key,))))
        return None
    out = []
    for i, item in enumerate(value):
        where = (key, i)
        if not isinstance(item, dict):
            issues.append(Issue(f"{key}[{i}]: expected a mapping", pos.nearest(where)))
            continue
        for k in item:
            if str(k) not in ITEM_KEYS[key]:
                issues.append(
                    Issue(f"{key}[{i}]: {_unknown(str(k), ITEM_KEYS[key])}", pos.key((*where, k)))
                )
        for k in REQUIRED[key]:
            if item.get(k) in (None, ""):
                issues.append(Issue(f"{key}[{i}]: {k} is required", pos.nearest(where)))
        out.append({str(k): _plain(v) for k, v in item.items() if str(k) in ITEM_KEYS[key]})
    if key == "actions":
        for a in out:
            a.setdefault("status", "open")
    return out


def _plain(value: Any) -> Any:
    """Dates as ISO text (YAML reads ``2026-03-31`` as a date)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
