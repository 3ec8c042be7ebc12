"""ssh: shell commands on inventory hosts over SSH (paramiko), with the host key verified.

Every ``{{ }}`` in a command is shell-quoted where it is rendered, so a value is always
one word for the remote shell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


class SshKind(StepKind):
    name = "ssh"
    executor = "respond.executors.ssh:SshExecutor"
    summary = "Shell commands on inventory hosts over SSH."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "command",
            "text",
            "ssh: shell command; local: command split into argv.",
            template="command",
        ),
        KindField(
            "commands",
            "texts",
            "ssh: shell commands.",
            template="command",
        ),
        KindField("become", "flag", "ssh: run the commands with sudo.", default=False),
    )
    on_hosts = True
    default_timeout = 60.0
    pollable = True
    exit_codes = True
    argument_fields = ("command", "commands")
    required = (("command", "commands"),)

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Rendered:
        raw = list(step.commands or ([step.command] if step.command else []))
        commands = tuple(env.templates.render_command(c, variables) for c in raw)
        return Rendered(commands=commands, variables=variables)


KIND = SshKind()
