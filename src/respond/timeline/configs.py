"""The configuration evidence in a record: what each ``config`` step found on a device
before and after it, and the diff (``host-result`` events' ``config``).

The snapshots themselves are artifacts (content-addressed, so the same configuration is
stored once however many runs saw it); the event holds their sha256, which the hash chain
covers, and the diff inline. These helpers read that shape for ``timeline show``, the
exports and the device archive (``respond timeline configs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from respond.events import EventKind, RunEvent


@dataclass(frozen=True)
class ConfigChange:
    """One config step on one device, as recorded."""

    run_id: str
    seq: int
    ts: str
    step_id: str
    device: str
    status: str
    command: str
    changed: bool
    diff: str  # the diff, or its first part when the whole is an artifact
    diff_artifact: str | None  # sha256 of the whole diff when it was too large to inline
    before: str | None  # sha256 of the configuration before
    after: str | None  # sha256 of the configuration after (None: could not be read)
    before_bytes: int
    after_bytes: int
    added: int
    removed: int
    operator: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        """``+2 -1``, ``no change``, or ``after not read`` (then nobody knows)."""
        if self.after is None:
            return "after not read"
        return f"+{self.added} -{self.removed}" if self.changed else "no change"


def changed_lines(diff: str) -> tuple[int, int]:
    """(added, removed) lines of a unified diff."""
    added = removed = 0
    in_hunk = False  # the ---/+++ file lines come before the first @@
    for line in diff.splitlines():
        if line.startswith("@@"):
            in_hunk = True
        elif not in_hunk:
            continue
        elif line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return added, removed


def _sha(ref: Any) -> tuple[str | None, int]:
    if isinstance(ref, Mapping) and isinstance(ref.get("artifact"), str):
        return str(ref["artifact"]), int(ref.get("bytes") or 0)
    return None, 0


def config_change(ev: RunEvent, operator: str = "") -> ConfigChange | None:
    """The configuration evidence of a ``host-result`` event, or None when it has none."""
    d = ev.data or {}
    cfg = d.get("config")
    if ev.kind != EventKind.HOST_RESULT or not isinstance(cfg, Mapping):
        return None
    raw_diff = cfg.get("diff") or ""
    diff_sha: str | None = None
    if isinstance(raw_diff, Mapping):  # too large to inline: its head, the whole an artifact
        diff_sha = _sha(raw_diff)[0]
        raw_diff = str(raw_diff.get("head") or "")
    diff = str(raw_diff)
    before, before_bytes = _sha(cfg.get("before"))
    after, after_bytes = _sha(cfg.get("after"))
    added, removed = changed_lines(diff)
    return ConfigChange(
        run_id=ev.run_id,
        seq=ev.seq,
        ts=ev.ts,
        step_id=ev.step_id or "",
        device=ev.host or "",
        status=str(d.get("status") or ""),
        command=str(cfg.get("command") or ""),
        changed=bool(cfg.get("changed")),
        diff=diff,
        diff_artifact=diff_sha,
        before=before,
        after=after,
        before_bytes=before_bytes,
        after_bytes=after_bytes,
        added=added,
        removed=removed,
        operator=operator,
    )


def config_changes(events: Iterable[RunEvent], operator: str = "") -> list[ConfigChange]:
    """Every configuration evidence of a run, in record order."""
    found = (config_change(ev, operator) for ev in events)
    return [c for c in found if c is not None]
