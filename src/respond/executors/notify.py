"""notify: tell people, through whichever channel still works.

Channels are named in ``respond.yaml``::

    channels:
      sms:     {url: "json://127.0.0.1:8025/notify/sms"}     # any apprise URL
      oa:      {url: "{{ oa_notify_url }}"}                    # templated from inventory vars
      console: {type: terminal}
      log:     {type: file, path: .respond/notifications.log}
    notify:
      default: [sms, oa, console]

A step's ``channels`` list is a fallback chain: the message goes to the first channel that
accepts it. With no ``channels`` and no ``notify.default``, the message goes to the terminal
and to ``<home>/notifications.log``.
Secrets in URLs come from the environment with ``url_env: VAR``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.notify import DRILL_MARK, Notice
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step
    from respond.runbook.templating import Templates
    from respond.secrets import Masker

BUILTIN_CHANNELS: dict[str, dict[str, Any]] = {
    "terminal": {"type": "terminal"},
    "file": {"type": "file"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Channels:
    """respond.yaml's channels and how to send through them: used by the notify kind
    during a run and by incident announcements without one."""

    specs: Mapping[str, Mapping[str, Any]]
    home: Path
    project_root: Path
    # renders templated URLs (``{{ sms_url }}``) with the variables each send gives
    templates: Templates | None = None
    # masks a URL taken from the environment (url_env) wherever it shows
    masker: Masker | None = None
    # where the terminal channel writes; None: standard error
    progress: Callable[[str], None] | None = None
    # the run or incident a file channel's line names
    record_id: str | None = None

    @classmethod
    def of_run(cls, ctx: RunContext) -> Channels:
        return cls(
            specs={str(k): dict(v) for k, v in ctx.channels.items()},
            home=ctx.home,
            project_root=ctx.project_root,
            templates=ctx.templates,
            masker=ctx.masker,
            progress=ctx.progress,
            record_id=ctx.run_id,
        )

    def spec(self, name: str) -> Mapping[str, Any] | None:
        return self.specs.get(name) or BUILTIN_CHANNELS.get(name)

    def send_chain(
        self,
        chain: Sequence[str],
        subject: str,
        message: str,
        variables: Mapping[str, Any],
        timeout: float,
    ) -> list[dict[str, Any]]:
        """Try each channel in order until one accepts the message; every attempt as
        ``{"channel", "ok", "error"?}`` (a dead channel is data, never an exception)."""
        attempts: list[dict[str, Any]] = []
        for name in chain:
            try:
                self.send(name, subject, message, variables, timeout)
            except Exception as exc:
                attempts.append({"channel": name, "ok": False, "error": self._reason(exc)})
                continue
            attempts.append({"channel": name, "ok": True})
            break
        return attempts

    def _reason(self, exc: Exception) -> str:
        # respond's own errors say it in .message (str() adds "error: " and a location)
        text = _short(getattr(exc, "message", None) or str(exc) or exc.__class__.__name__)
        return self.masker.mask(text) if self.masker is not None else text

    def send(
        self,
        name: str,
        subject: str,
        message: str,
        variables: Mapping[str, Any],
        timeout: float,
    ) -> None:
        """Send through one channel; raise with the reason when it does not accept."""
        spec = self.spec(name)
        if spec is None:
            raise RuntimeError(f"no channel named {name!r} in respond.yaml")
        kind = spec.get("type") or ("apprise" if spec.get("url") or spec.get("url_env") else None)
        if kind == "terminal":
            self._terminal(f"NOTIFY [{name}] {subject}: {message}")
        elif kind == "file":
            self._file(name, spec, subject, message)
        elif kind == "apprise":
            _send_apprise(self._url(spec, variables), subject, message, timeout)
        else:
            raise RuntimeError(f"channel {name!r} has no url and no known type")

    def _terminal(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)
        else:
            import sys

            print(line, file=sys.stderr, flush=True)

    def _file(self, name: str, spec: Mapping[str, Any], subject: str, message: str) -> None:
        path = Path(spec.get("path") or (self.home / "notifications.log"))
        if not path.is_absolute():
            path = self.project_root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "ts": utcnow().isoformat(),
            "run_id": self.record_id,
            "channel": name,
            "subject": subject,
            "message": message,
        }
        _append_private(path, json.dumps(record, ensure_ascii=False) + "\n")

    def _url(self, spec: Mapping[str, Any], variables: Mapping[str, Any]) -> str:
        url = spec.get("url")
        if spec.get("url_env"):
            url = os.environ.get(str(spec["url_env"]))
            if not url:
                raise RuntimeError(f"environment variable {spec['url_env']} is not set")
            if self.masker is not None:  # before anything can show it
                self.masker.add(url)
        if self.templates is not None and url and "{{" in url:
            url = self.templates.render_text(url, variables)
            if self.masker is not None and spec.get("url_env"):
                self.masker.add(url)
        return str(url)


class NotifyExecutor:
    kind: ClassVar[str] = "notify"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.channels = Channels.of_run(ctx)

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Notice), "the notify kind renders a Notice"
        # every channel is a sink: a file, a chat room, an SMS gateway's logs
        masker = self.ctx.masker
        message = masker.mask(rendered.message) if masker else rendered.message
        subject = rendered.subject or f"[respond] {step.name or step.id}"
        subject = masker.mask(subject) if masker else subject
        chain = rendered.channels
        if self.ctx.drill:
            # A drill never reaches people unmarked: its own channels, or the usual ones
            # with every message saying it is a drill (escalation notices come here too).
            if self.ctx.drill_channels:
                chain = self.ctx.drill_channels
            else:
                message, subject = DRILL_MARK + message, DRILL_MARK + subject
        variables = rendered.variables
        if not chain:
            # Nothing configured: show it on the terminal and keep it in the notifications file.
            attempts: list[dict[str, Any]] = []
            for name in ("terminal", "file"):
                self.channels.send(name, subject, message, variables, timeout)
                attempts.append({"channel": name, "ok": True})
            return host_result(
                "localhost",
                StepStatus.OK,
                started,
                output="sent via terminal and file",
                data={
                    "channel": "file",
                    "attempts": attempts,
                    "message": message,
                    "subject": subject,
                },
            )
        attempts = self.channels.send_chain(chain, subject, message, variables, timeout)
        if attempts and attempts[-1]["ok"]:
            name = attempts[-1]["channel"]
            return host_result(
                "localhost",
                StepStatus.OK,
                started,
                output=f"sent via {name}" + (" (fallback)" if len(attempts) > 1 else ""),
                data={
                    "channel": name,
                    "attempts": attempts,
                    "message": message,
                    "subject": subject,
                },
            )
        required = rendered.required
        return host_result(
            "localhost",
            StepStatus.FAILED if required else StepStatus.OK,
            started,
            output=""
            if required
            else "no channel accepted the message (notification not required)",
            error="no channel accepted the message: "
            + "; ".join(f"{a['channel']}: {a.get('error')}" for a in attempts),
            data={"channel": None, "attempts": attempts, "message": message, "subject": subject},
        )

    def close(self) -> None:
        pass


def _send_apprise(url: str, subject: str, message: str, timeout: float) -> None:
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL)
    ap = apprise.Apprise()
    if not ap.add(url):
        raise RuntimeError("not a valid notification URL (see apprise's URL formats)")
    for server in ap:
        # apprise's plugins honour socket timeouts set through these attributes
        for attr in ("socket_connect_timeout", "socket_read_timeout"):
            if hasattr(server, attr):
                setattr(server, attr, min(timeout, 10.0))
    if not ap.notify(body=message, title=subject):
        raise RuntimeError("the channel refused or could not be reached")


def _append_private(path: Path, line: str) -> None:
    """Append a line to a file only its owner may read (0600, tightened if it was wider):
    notices name hosts, people and faults."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        data = line.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _short(text: str) -> str:
    return text if len(text) < 300 else text[:297] + "..."
