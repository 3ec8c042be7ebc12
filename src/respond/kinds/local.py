"""local: a program on the control host, as an argv list (no shell)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalCommand(Rendered):
    argv: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # never shown: it is how a secret reaches the program


def split_template_words(command: str) -> list[str]:
    """shlex-split a command template, keeping each ``{{ ... }}`` intact inside its word, so
    that a rendered value is always exactly one argument."""
    blocks: list[str] = []

    def hide(match: re.Match[str]) -> str:
        blocks.append(match.group(0))
        return f"\x00{len(blocks) - 1}\x00"

    hidden = _JINJA_BLOCK.sub(hide, command)
    words = shlex.split(hidden)
    return [re.sub("\x00(\\d+)\x00", lambda m: blocks[int(m.group(1))], w) for w in words]


class LocalKind(StepKind):
    name = "local"
    executor = "respond.executors.local:LocalExecutor"
    summary = "A program on the control host (argv, no shell)."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField("command", "text", "ssh: shell command; local: command split into argv."),
        KindField("argv", "argv", "local: the program and its arguments, one item each."),
        KindField(
            "env",
            "headers",
            "local: environment variables for the program; the way to hand it a secret "
            "(a command line is visible to every user of the machine, e.g. in ps).",
        ),
    )
    default_timeout = 60.0
    pollable = True
    exit_codes = True
    argument_fields = ("command", "argv")
    process_fields = ("command", "argv")
    required = (("command", "argv"),)

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> LocalCommand:
        t = env.templates
        # a word that is exactly {{ flags }} (a list param) gives one argument per item
        words = step.argv or split_template_words(step.command or "")
        argv = t.render_argv(words, variables)
        environ = tuple(
            (str(k), t.render_text(str(v), variables)) for k, v in (step.env or {}).items()
        )
        return LocalCommand(
            argv=tuple(argv), env=environ, commands=(shlex.join(argv),), variables=variables
        )


KIND = LocalKind()
