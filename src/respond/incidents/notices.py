"""Announcements: the people a level names are told what happened to an incident.

``Announcer(config, store)`` is the ``announce`` hook of ``IncidentBook``: for each event that
tells people (opened, escalated, a missed deadline, a re-classification, restored, resolved)
it takes the **current** level's ``tell`` list from respond.yaml, renders the event's message
(``messages`` in respond.yaml, else the built-in one below), sends it to each recipient
through that recipient's fallback chain of channels (the notify kind's own sending code,
``respond.executors.notify.Channels``), and records every attempt in the incident's record as
``notification-sent`` or ``notification-failed``. Nothing here raises for a dead channel, a
channel URL that does not render or a broken message template: each is a failed attempt with
its reason, and the people are still told with the built-in message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from respond.events import EventDraft, EventKind
from respond.executors.notify import Channels

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.events import RunEvent
    from respond.incident_state import IncidentState
    from respond.runbook.templating import Templates
    from respond.secrets import Masker
    from respond.timeline.store import Store

# event kind → the respond.yaml word for it (``tell`` and ``messages`` keys)
TOLD_EVENTS: dict[str, str] = {
    EventKind.INCIDENT_OPENED: "opened",
    EventKind.ESCALATED: "escalated",
    EventKind.DEADLINE_MISSED: "missed",
    EventKind.SEVERITY_CHANGED: "severity",
    EventKind.RESTORED: "restored",
    EventKind.RESOLVED: "resolved",
}

# how each event reads in a subject line (the on-call people read Chinese and English)
SUBJECT_WORDS: dict[str, str] = {
    "opened": "故障立案 incident opened",
    "escalated": "故障升级 escalated",
    "missed": "超时 deadline missed",
    "severity": "级别调整 re-classified",
    "restored": "已恢复 restored",
    "resolved": "已结案 resolved",
}

_HEAD = "[{{ incident.site or '-' }}] {{ incident.incident_id }} 故障级别 level {{ level }}"
DEFAULT_MESSAGES: dict[str, str] = {
    "opened": _HEAD + " ({{ meaning }}) 已立案 opened: {{ incident.title }}."
    " 响应时限 respond by {{ deadline }};"
    " 恢复时限 restore by {{ incident.restore_due | localtime }}.",
    "escalated": _HEAD + " 升级 escalated from level {{ event.data['from'] }}:"
    " {{ incident.title }}. 原因 reason: {{ reason }}."
    " 恢复时限 restore by {{ deadline }}.",
    "missed": _HEAD + " 超时 {{ reason }}: {{ incident.title }}. 时限 deadline {{ deadline }}.",
    "severity": _HEAD + " 级别调整 re-classified from level {{ event.data['from'] }}:"
    " {{ incident.title }}. 原因 reason: {{ reason }}."
    " 恢复时限 restore by {{ deadline }}.",
    "restored": _HEAD + " 已恢复 restored at {{ when }}: {{ incident.title }}."
    " 恢复时限 restore deadline {{ deadline }}"
    "{{ ' 已达成 met' if incident.restore_met else ' 未达成 missed' }}.",
    "resolved": _HEAD + " 已结案 resolved: {{ incident.title }}."
    " 原因 cause: {{ incident.cause or '-' }}; 预防 prevention: {{ incident.prevention or '-' }}.",
}

SEND_TIMEOUT_S = 30.0


def told_event(event: RunEvent) -> str | None:
    """The respond.yaml event word an incident event tells people as, or None: a run that
    ended ``resolved`` restored the incident."""
    if event.kind == EventKind.RUN_ENDED:
        return "restored" if event.data.get("outcome") == "resolved" else None
    return TOLD_EVENTS.get(event.kind)


def localtime(value: Any) -> str:
    """An ISO UTC time as this machine's local time, for people: ``2026-12-02 09:41 +0800``."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %z")


class Announcer:
    """Tells the recipients of an incident's current level; see the module docstring."""

    def __init__(
        self,
        config: ProjectConfig,
        store: Store,
        *,
        channel_vars: Mapping[str, Any] | None = None,
        masker: Masker | None = None,
        progress: Callable[[str], None] | None = None,
        timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        """``channel_vars``: what channel URLs are rendered with (a run's variables; default:
        the default inventory's ``all`` vars); ``masker``: a run's, so its secrets stay
        masked too; ``progress``: where the terminal channel writes (default: stderr)."""
        from respond.secrets import Masker

        self.config = config
        self.store = store
        self.timeout = timeout
        self.masker: Masker = masker if masker is not None else Masker()
        self._channel_vars = dict(channel_vars) if channel_vars is not None else None
        self._progress = progress
        self._templates: Templates | None = None
        self._channels: Channels | None = None
        self._know_url_secrets()

    def __call__(self, state: IncidentState, event: RunEvent) -> None:
        """``IncidentBook``'s announce hook: tell the people ``event`` concerns."""
        self.tell(state, event)

    def tell(self, state: IncidentState, event: RunEvent) -> list[RunEvent]:
        """Tell the people ``event`` concerns; returns the attempts recorded."""
        what = told_event(event)
        if what is None:
            return []
        summary: dict[str, Any] = state.summary()
        level = int(summary["level"])
        policy = self.config.levels.get(level)
        names = policy.tell.get(what, ()) if policy is not None else ()
        if not names:
            return []
        variables = self._variables(summary, event, what, level)
        subject = self.masker.mask(
            f"[respond] {summary['incident_id']} level {level}: {SUBJECT_WORDS[what]}"
        )
        message, problem = self._message(what, variables)
        recorded: list[RunEvent] = []
        for name in names:
            attempts: list[dict[str, Any]] = []
            if problem is not None:
                attempts.append({"channel": None, "ok": False, "error": problem})
            chain = self.config.recipients.get(name) or (name,)
            attempts += self._send(chain, subject, message, summary["incident_id"])
            drafts = [
                _attempt_draft(
                    a, what=what, recipient=name, subject=subject, message=message, level=level
                )
                for a in attempts
            ]
            recorded += self.store.append(summary["incident_id"], drafts, self.masker)
        return recorded

    # -- the message ---------------------------------------------------------------------------
    def _message(self, what: str, variables: dict[str, Any]) -> tuple[str, str | None]:
        """The rendered message and, when respond.yaml's template failed, why (the built-in
        message is sent instead: the people are told anyway)."""
        custom = self.config.messages.get(what)
        problem: str | None = None
        if custom is not None:
            try:
                return self.masker.mask(self._render(custom, variables)), None
            except Exception as exc:  # an undefined name, a bad filter: recorded, not raised
                problem = f"messages.{what} in respond.yaml did not render: {_reason(exc)}"
        try:
            text = self._render(DEFAULT_MESSAGES[what], variables)
        except Exception as exc:  # the project's filters did not load: say it plainly
            problem = problem or f"the message did not render: {_reason(exc)}"
            text = _plain_message(what, variables)
        return self.masker.mask(text), problem

    def _render(self, template: str, variables: Mapping[str, Any]) -> str:
        templates = self._templates_env()
        # made here, not with the Templates: loading the project's filters may fail, and
        # that is a failed message, never a failed announcer
        templates.env.filters.setdefault("localtime", localtime)
        return templates.render_text(template, variables)

    def _templates_env(self) -> Templates:
        if self._templates is None:
            from respond.runbook.templating import Templates

            self._templates = Templates(self.config.root)
        return self._templates

    def _variables(
        self, summary: dict[str, Any], event: RunEvent, what: str, level: int
    ) -> dict[str, Any]:
        data = dict(event.data)
        policy = self.config.levels.get(level)
        return {
            "incident": summary,
            "event": {"kind": event.kind, "ts": event.ts, "actor": event.actor, "data": data},
            "level": level,
            "meaning": policy.meaning if policy is not None else "",
            "deadline": localtime(_deadline(what, summary, data)),
            "reason": _event_reason(what, data),
            "when": localtime(data.get("at") or event.ts),
        }

    # -- sending -------------------------------------------------------------------------------
    def _send(
        self, chain: tuple[str, ...], subject: str, message: str, incident_id: str
    ) -> list[dict[str, Any]]:
        try:
            # the notifications file names the incident a line is about
            channels = replace(self._channels_for_sending(), record_id=incident_id)
            variables = self._url_variables() if self._templated(chain) else {}
        except Exception as exc:  # the project's filters or inventory did not load
            return [{"channel": chain[0], "ok": False, "error": _reason(exc)}]
        return channels.send_chain(chain, subject, message, variables, self.timeout)

    def _know_url_secrets(self) -> None:
        """URLs from the environment (``url_env``) carry tokens: masked in every message
        and reason before the first one is sent or recorded."""
        import os

        for spec in self._channels_for_sending().specs.values():
            if spec.get("url_env"):
                self.masker.add(os.environ.get(str(spec["url_env"])))

    def _channels_for_sending(self) -> Channels:
        if self._channels is None:
            raw = self.config.raw.get("channels")
            specs = {str(k): dict(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
            self._channels = Channels(
                specs=specs,
                home=self.config.home,
                project_root=self.config.root,
                templates=self._templates_env(),
                masker=self.masker,
                progress=self._progress,
            )
        return self._channels

    def _templated(self, chain: tuple[str, ...]) -> bool:
        channels = self._channels_for_sending()
        return any("{{" in str((channels.spec(name) or {}).get("url") or "") for name in chain)

    def _url_variables(self) -> dict[str, Any]:
        """What channel URLs are rendered with: the run's variables when a run supplies them,
        else the ``all`` vars of the default inventory (secret-named ones are masked)."""
        if self._channel_vars is None:
            self._channel_vars = _inventory_all_vars(self.config, self.masker)
        return self._channel_vars


def _inventory_all_vars(config: ProjectConfig, masker: Masker) -> dict[str, Any]:
    path = config.default_inventory
    if path is None or not path.is_file():
        return {}
    from respond.inventory import is_secret_name, load_inventory

    group = load_inventory(path).groups.get("all")
    variables = dict(group.vars) if group is not None else {}
    for name, value in variables.items():
        if is_secret_name(name):
            masker.add(value)
    return variables


def _attempt_draft(
    attempt: Mapping[str, Any],
    *,
    what: str,
    recipient: str,
    subject: str,
    message: str,
    level: int,
) -> EventDraft:
    data: dict[str, Any] = {
        "event": what,
        "recipient": recipient,
        "channel": attempt.get("channel"),
        "subject": subject,
        "message": message,
        "level": level,
    }
    if not attempt.get("ok"):
        data["error"] = attempt.get("error") or "failed"
    kind = EventKind.NOTIFICATION_SENT if attempt.get("ok") else EventKind.NOTIFICATION_FAILED
    return EventDraft(kind=kind, data=data)


def _deadline(what: str, summary: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    """The deadline an event's message is about (ISO), or None."""
    if what == "opened":
        return summary.get("respond_due")
    if what == "missed":
        return data.get("due")
    if what in ("escalated", "severity"):
        deadline = data.get("deadline")
        due = deadline.get("due") if isinstance(deadline, Mapping) else None
        return due or summary.get("clock_due") or summary.get("restore_due")
    return summary.get("restore_due")


_CLOCK_WORDS = {
    "respond": "响应时限已过 respond deadline passed",
    "restore": "恢复时限已过 restore deadline passed",
}


def _event_reason(what: str, data: Mapping[str, Any]) -> str:
    if what == "missed":
        return _CLOCK_WORDS.get(str(data.get("clock")), f"{data.get('clock')} deadline passed")
    if what == "resolved":
        return str(data.get("cause") or "")
    return str(data.get("reason") or "")


def _plain_message(what: str, variables: Mapping[str, Any]) -> str:
    incident = variables["incident"]
    return (
        f"[{incident.get('site') or '-'}] {incident.get('incident_id')} level "
        f"{variables['level']}: {SUBJECT_WORDS[what]}: {incident.get('title')}"
        f" ({variables['reason'] or variables['deadline']})"
    )


def _reason(exc: Exception) -> str:
    # respond's errors say it in .message (their str() adds "error: " and a location)
    text = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    return text if len(text) < 300 else text[:297] + "..."
