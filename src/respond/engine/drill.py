"""What a step does in a drill, by the drill's mode, and how a tabletop step is told.

- not a drill: every step runs;
- ``tabletop``: every step is walked by the people in the room; nothing executes;
- ``simulate``: ``drill: skip`` steps are skipped, gated steps are always simulated (even
  ``drill: run``: a destructive step never executes outside the lab), the rest follow their
  ``drill:`` (default run: diagnostics reach their hosts);
- ``lab``: everything runs against the lab (gates asked as in a real run) but for
  ``drill: skip`` and an explicit ``drill: simulate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from respond.kinds.notify import DRILL_MARK

if TYPE_CHECKING:
    from respond.runbook.model import Step

DRILL_MODES = ("tabletop", "simulate", "lab")
__all__ = ["DRILL_MARK", "DRILL_MODES", "step_action", "walk_decision", "walk_text"]


def step_action(step: Step, drill_mode: str | None) -> str:
    """``run``, ``simulate``, ``skip`` or ``walk``: what ``step`` does in a run of
    ``drill_mode`` (None: not a drill)."""
    if drill_mode is None:
        return "run"
    if drill_mode not in DRILL_MODES:
        raise ValueError(f"unknown drill mode {drill_mode!r} (one of {', '.join(DRILL_MODES)})")
    if drill_mode == "tabletop":
        return "walk"
    if step.drill == "skip":
        return "skip"
    if drill_mode == "simulate":
        return "simulate" if step.gated else step.drill_mode
    return "simulate" if step.drill == "simulate" else "run"


def walk_text(step: Step) -> str:
    """What a step would do, as written in the runbook (nothing rendered: a tabletop drill
    has no registered values, and its people read the runbook's own words)."""
    kind = step.step_kind
    head = step.kind + (f" on {step.targets}" if step.targets and kind.on_hosts else "")
    parts = [f"{head}: {step.name}" if step.name else head]
    for f in kind.fields:
        if f.type == "flag":
            continue
        shown = _shown(getattr(step, f.name, None))
        if shown:
            parts.append(f"{f.name}: {shown}")
    if step.when:
        parts.append(f"when: {step.when}")
    if step.gated:
        parts.append(f"gate: {step.confirm}" if step.confirm else "gated")
    return " · ".join(" ".join(p.split()) for p in parts)


def _shown(value: Any) -> str:
    if hasattr(value, "step_kind"):  # an inline step (a wait's check)
        return f"({walk_text(value)})"
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_shown(v)}" for k, v in value.items())
    return str(value)


def walk_decision(answer: Any) -> tuple[bool, str] | None:
    """An answers file's ``steps:`` entry as (done, reason): ``done``, ``skip`` or
    ``skip: REASON``; None when it is neither."""
    if not isinstance(answer, str):
        return None
    text = answer.strip()
    if text.lower() == "done":
        return True, ""
    head, _, reason = text.partition(":")
    if head.strip().lower() == "skip":
        return False, " ".join(reason.split())
    return None
