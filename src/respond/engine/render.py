"""Rendering a step's templated fields for one target, the same way for `run` and `plan`.

Commands for the remote shell are shell-quoted per expression; device CLI lines refuse line
breaks and control characters; a local command is split into words *before* rendering, so a
value is always exactly one argument.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.executors.base import Rendered

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step
    from respond.runbook.templating import Templates

_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def split_template_words(command: str) -> list[str]:
    """shlex-split a command template, keeping each ``{{ ... }}`` intact inside its word."""
    blocks: list[str] = []

    def hide(match: re.Match[str]) -> str:
        blocks.append(match.group(0))
        return f"\x00{len(blocks) - 1}\x00"

    hidden = _JINJA_BLOCK.sub(hide, command)
    words = shlex.split(hidden)
    return [re.sub("\x00(\\d+)\x00", lambda m: blocks[int(m.group(1))], w) for w in words]


def actions(rendered: Rendered | str) -> list[str]:
    """What a target will be sent: commands, then configuration lines."""
    if not isinstance(rendered, Rendered):
        return []
    return [*rendered.commands, *(f"(config) {c}" for c in rendered.fields.get("config") or [])]


def render_step(
    step: Step,
    variables: dict[str, Any],
    hosts: list[Host],
    *,
    templates: Templates,
    playbooks_dir: Path,
    inventory_path: Path | None,
    params: Mapping[str, Any],
    default_channels: list[str] | None,
) -> Rendered:
    """The step's fields rendered with ``variables`` (one target's view); raises
    ``TemplateError`` for undefined names and refused values."""
    t = templates
    kind = step.kind
    fields: dict[str, Any] = {}
    commands: tuple[str, ...] = ()
    if kind == "ssh":
        raw = list(step.commands or ([step.command] if step.command else []))
        commands = tuple(t.render_command(c, variables) for c in raw)
    elif kind == "netmiko":
        commands = tuple(t.render_device_line(c, variables) for c in (step.commands or []))
        if step.config:
            fields["config"] = [t.render_device_line(c, variables) for c in step.config]
            fields["save"] = bool(getattr(step, "save", False))
    elif kind == "local":
        if getattr(step, "argv", None):
            argv = [t.render_text(a, variables) for a in step.argv]
        else:
            argv = [t.render_text(w, variables) for w in split_template_words(step.command or "")]
        fields["argv"] = argv
        commands = (shlex.join(argv),)
    elif kind == "http":
        fields["url"] = t.render_text(step.url, variables)
        fields["method"] = (step.method or "GET").upper()
        fields["headers"] = t.render_value(dict(step.headers or {}), variables)
        fields["body"] = t.render_value(step.body, variables) if step.body is not None else None
        fields["verify_tls"] = getattr(step, "verify_tls", True)
        commands = (f"{fields['method']} {fields['url']}",)
    elif kind == "ansible":
        from respond.executors._sshargs import known_hosts_files

        fields["playbook"] = str(playbooks_dir / step.playbook)
        fields["limit"] = ",".join(h.name for h in hosts)
        fields["inventory"] = str(inventory_path) if inventory_path else None
        extra = dict(params)
        extra.update(t.render_value(dict(step.extra_vars or {}), variables))
        fields["extra_vars"] = {k: v for k, v in extra.items() if v is not None}
        fields["tags"] = list(step.tags or [])
        # the hosts' own known_hosts files (UserKnownHostsFile=...) are trusted too
        fields["known_hosts"] = list(
            dict.fromkeys(str(p) for h in hosts for p in known_hosts_files(h.vars))
        )
        commands = (f"ansible-playbook {step.playbook} --limit {fields['limit']}",)
    elif kind == "manual":
        fields["prompt"] = t.render_text(step.prompt, variables)
        fields["choices"] = list(step.choices) if step.choices else None
    elif kind == "notify":
        fields["message"] = t.render_text(step.message, variables)
        fields["subject"] = t.render_text(step.subject, variables) if step.subject else None
        fields["channels"] = list(step.channels) if step.channels else default_channels
        fields["required"] = bool(getattr(step, "required", False))
        fields["variables"] = variables
    elif kind == "wait":
        fields["interval"] = float(step.interval or 10.0)
        fields["check"] = step.check
        fields["variables"] = variables
    return Rendered(commands=commands, fields=fields, variables=variables)
