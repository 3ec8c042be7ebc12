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
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.notify import Notice
from respond.results import HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

BUILTIN_CHANNELS: dict[str, dict[str, Any]] = {
    "terminal": {"type": "terminal"},
    "file": {"type": "file"},
}


class NotifyExecutor:
    kind: ClassVar[str] = "notify"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        assert isinstance(rendered, Notice), "the notify kind renders a Notice"
        # every channel is a sink: a file, a chat room, an SMS gateway's logs
        masker = self.ctx.masker
        message = masker.mask(rendered.message) if masker else rendered.message
        subject = rendered.subject or f"[respond] {step.name or step.id}"
        subject = masker.mask(subject) if masker else subject
        chain = rendered.channels
        configured = {str(k): dict(v) for k, v in self.ctx.channels.items()}
        attempts: list[dict[str, Any]] = []
        if not chain:
            # Nothing configured: show it on the terminal and keep it in the notifications file.
            for name in ("terminal", "file"):
                self._send(name, BUILTIN_CHANNELS[name], subject, message, rendered, timeout)
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
        for name in chain:
            spec = configured.get(name) or BUILTIN_CHANNELS.get(name)
            if spec is None:
                attempts.append(
                    {
                        "channel": name,
                        "ok": False,
                        "error": f"no channel named {name!r} in respond.yaml",
                    }
                )
                continue
            try:
                self._send(name, spec, subject, message, rendered, timeout)
            except Exception as exc:  # a dead channel is data: try the next one
                attempts.append(
                    {
                        "channel": name,
                        "ok": False,
                        "error": _short(str(exc) or exc.__class__.__name__),
                    }
                )
                continue
            attempts.append({"channel": name, "ok": True})
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

    def _send(
        self,
        name: str,
        spec: dict[str, Any],
        subject: str,
        message: str,
        rendered: Rendered,
        timeout: float,
    ) -> None:
        kind = spec.get("type") or ("apprise" if spec.get("url") or spec.get("url_env") else None)
        if kind == "terminal":
            line = f"NOTIFY [{name}] {subject}: {message}"
            if self.ctx.progress is not None:
                self.ctx.progress(line)
            return
        if kind == "file":
            path = Path(spec.get("path") or (self.ctx.home / "notifications.log"))
            if not path.is_absolute():
                path = self.ctx.project_root / path
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {
                "ts": utcnow().isoformat(),
                "run_id": self.ctx.run_id,
                "channel": name,
                "subject": subject,
                "message": message,
            }
            _append_private(path, json.dumps(record, ensure_ascii=False) + "\n")
            return
        if kind == "apprise":
            url = spec.get("url")
            if spec.get("url_env"):
                url = os.environ.get(str(spec["url_env"]))
                if not url:
                    raise RuntimeError(f"environment variable {spec['url_env']} is not set")
            templates = self.ctx.templates
            if templates is not None and url and "{{" in url:
                url = templates.render_text(url, rendered.variables)
            masker = self.ctx.masker
            if masker is not None and spec.get("url_env"):
                masker.add(url)
            _send_apprise(str(url), subject, message, timeout)
            return
        raise RuntimeError(f"channel {name!r} has no url and no known type")

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
