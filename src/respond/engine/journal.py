"""The engine's side of the record: events built from results, made durable in order.

Every event that announces an action is committed before the action proceeds. Events
that announce nothing (the last results of a step, step-finished) may be deferred: they
ride with the next commit, which always comes before the next action and at the end of the
run, so a step costs one fsync less on the critical path while a crash before the flush
still leaves those hosts ``unknown``.

A commit that fails (the database locked past its timeout, unreachable, full) is retried a
few times with backoff; the events it carried stay queued meanwhile. If it still fails, the
journal raises ``RecordUnwritable``: the engine stops instead of acting on results that are
not on disk. ``LockLost`` is never retried: the run belongs to another process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from respond.errors import LockLost, RecordUnwritable, TimelineError, UnknownRun
from respond.events import EventDraft, EventKind
from respond.netfacts.configdiff import config_diff
from respond.results import CommandResult, ConfigSnapshot, HostResult, StepResult, StepStatus

if TYPE_CHECKING:
    from respond.kinds.base import NotificationAttempt
    from respond.runbook.model import Step
    from respond.secrets import Masker
    from respond.timeline.recorder import Recorder

EVENT_OUTPUT_LIMIT = 64 * 1024  # larger outputs go to a content-addressed artifact
COMMIT_ATTEMPTS = 5
COMMIT_BACKOFF_S = 0.2  # doubled after each failed attempt: 0.2 + 0.4 + 0.8 + 1.6 s in all


class Journal:
    def __init__(
        self,
        recorder: Recorder,
        masker: Masker,
        operator: str,
        *,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._recorder = recorder
        self._lock = threading.Lock()
        self._deferred: list[EventDraft] = []
        self._pause = pause  # between commit attempts
        self.masker = masker
        self.operator = operator

    def record(self, *drafts: EventDraft, defer: bool = False) -> None:
        """Make ``drafts`` durable (with everything deferred before them), or, with
        ``defer=True``, hold them for the next commit."""
        with self._lock:
            if defer:
                self._deferred.extend(drafts)
                return
            batch = [*self._deferred, *drafts]
            if batch:
                self._commit(batch)
            # only once they are on disk: a failed commit keeps them for the next try
            self._deferred.clear()

    def _commit(self, batch: list[EventDraft]) -> None:
        delay = COMMIT_BACKOFF_S
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                self._recorder.record(batch)
                return
            except (LockLost, UnknownRun):
                raise
            except TimelineError as exc:
                if attempt == COMMIT_ATTEMPTS:
                    raise RecordUnwritable(
                        f"the run record could not be written after {attempt} attempts "
                        f"({exc.message}): run stopped before its next action",
                        hint=exc.hint,
                    ) from exc
            self._pause(delay)
            delay *= 2

    @property
    def pending(self) -> int:
        """Events held for the next commit (deferred, or left by a failed one)."""
        with self._lock:
            return len(self._deferred)

    def flush(self) -> None:
        self.record()

    # -- events built from results ----------------------------------------------------------
    def host_event(self, step: Step, hr: HostResult) -> EventDraft:
        data: dict[str, Any] = {
            "status": str(hr.status),
            "attempts": hr.attempts,
            "duration_s": round(hr.duration_s, 6),
            "started": hr.started_at.isoformat(),
            "ended": hr.ended_at.isoformat(),
        }
        if hr.error:
            data["error"] = self.masker.mask(hr.error)
        if hr.changed:
            data["changed"] = True
        if hr.not_started:
            data["not_started"] = True
        if hr.artifacts:
            data["artifacts"] = list(hr.artifacts)
        if step.no_log:
            data["output"] = "<no_log>"
            data["rc"] = hr.rc
        else:
            data["commands"] = [self._command_data(c) for c in hr.commands]
            if hr.output and not hr.commands:
                data["output"] = self._text(hr.output)
            extra = {k: v for k, v in hr.data.items() if k != "hosts"}
            if extra:
                data["data"] = self.masker.mask(_jsonable(extra))
            if hr.config is not None:
                data["config"] = self._config_data(hr.host, hr.config)
        return EventDraft(kind=EventKind.HOST_RESULT, step_id=step.id, host=hr.host, data=data)

    def step_finished(self, step: Step, result: StepResult) -> EventDraft:
        return EventDraft(
            kind=EventKind.STEP_FINISHED,
            step_id=step.id,
            data={
                "status": str(result.status),
                "message": self.masker.mask(result.message),
                "ok": result.ok_count,
                "failed": result.failed_count,
                "hosts": len(result.hosts),
                "duration_s": round(result.duration_s, 6),
                "register": step.register,
            },
        )

    def step_closed(self, step: Step, status: StepStatus, message: str) -> list[EventDraft]:
        """A step that ends before acting on any host: started and finished at once."""
        return [
            EventDraft(
                kind=EventKind.STEP_STARTED,
                step_id=step.id,
                data={"name": step.name, "kind": step.kind, "targets": step.targets, "hosts": []},
            ),
            self.step_cancelled(step, status, message),
        ]

    def step_cancelled(self, step: Step, status: StepStatus, message: str) -> EventDraft:
        return EventDraft(
            kind=EventKind.STEP_FINISHED,
            step_id=step.id,
            data={
                "status": str(status),
                "message": self.masker.mask(message),
                "ok": 0,
                "failed": 0,
                "hosts": 0,
            },
        )

    def notifications(
        self,
        step_id: str | None,
        subject: str | None,
        attempts: list[NotificationAttempt],
        *,
        escalation: bool,
    ) -> list[EventDraft]:
        """One notification-sent/-failed event per channel a notice was tried on."""
        return [
            EventDraft(
                kind=EventKind.NOTIFICATION_SENT if a.ok else EventKind.NOTIFICATION_FAILED,
                step_id=step_id,
                data={
                    "channel": a.channel,
                    "error": self.masker.mask(a.error) if a.error else None,
                    "subject": self.masker.mask(subject),
                    **({"escalation": True} if escalation else {}),
                },
            )
            for a in attempts
        ]

    def _command_data(self, c: CommandResult) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.masker.mask(c.command),
            "rc": c.exit_code,
            "duration_s": round(c.duration_s, 6),
        }
        if c.stdout:
            out["stdout"] = self._text(c.stdout)
        if c.stderr:
            out["stderr"] = self._text(c.stderr)
        if c.parsed is not None:
            out["parsed"] = self.masker.mask(_jsonable(c.parsed))
        return out

    def _config_data(self, host: str, snap: ConfigSnapshot) -> dict[str, Any]:
        """The configuration before and after as artifacts (content-addressed: an unchanged
        configuration is stored once), the diff inline; ``after`` is None when it could not
        be read."""
        before = self.masker.mask(snap.before)
        after = self.masker.mask(snap.after)
        diff = config_diff(before, after, host) if after else ""
        return {
            "command": snap.command,
            "before": self._artifact(before),
            "after": self._artifact(after) if after else None,
            "diff": self._text(diff),
            "changed": bool(diff),
        }

    def _artifact(self, text: str) -> dict[str, Any]:
        raw = text.encode("utf-8")
        return {"artifact": self._recorder.put_artifact(raw), "bytes": len(raw)}

    def _text(self, text: str) -> Any:
        text = self.masker.mask(text)
        raw = text.encode("utf-8")
        if len(raw) <= EVENT_OUTPUT_LIMIT:
            return text
        digest = self._recorder.put_artifact(raw)
        return {"artifact": digest, "bytes": len(raw), "head": text[:4096]}


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))
