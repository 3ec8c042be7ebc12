"""Any Nagios/Icinga plugin on the host as a check: its exit code and output are the result
(the plugin contract in ``respond.checks.result``), its thresholds its own options."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from respond.checks._grading import quoted, unreadable
from respond.checks.catalog import ArgSpec, CheckSpec, Collected
from respond.checks.result import CheckResult, State, Thresholds, parse_plugin_output


def _words(command: str) -> list[str]:
    """The command line split as a shell would split words (ValueError: unbalanced quotes)."""
    return shlex.split(command)


class Nagios(CheckSpec):
    name = "nagios"
    summary = "a Nagios/Icinga plugin run on the host"
    transport = "ssh"
    reads = "`COMMAND` (each word quoted: no shell syntax)"
    value_text = "the plugin's first perfdata value"
    accepts_thresholds = False
    args = (
        ArgSpec(
            "command",
            "text",
            "the plugin command line, e.g. /usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /",
            required=True,
        ),
    )
    advice: ClassVar[Mapping[State, str]] = {
        State.WARNING: "The plugin reports a problem: read its message and act on what it names.",
        State.CRITICAL: "The plugin reports a critical problem: read its message and act on "
        "what it names now.",
        State.UNKNOWN: "The plugin could not check: run the command on the host by hand (is "
        "it installed, are its options right?).",
    }

    def problems(self, args: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        try:
            words = _words(str(args.get("command") or ""))
        except ValueError as exc:
            return [(f"argument 'command' cannot be split into words: {exc}", "command")]
        if not words:
            return [("argument 'command' is empty", "command")]
        return []

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        # every word re-quoted: `;`, `|` and `$(...)` reach the plugin as literal words
        return [quoted(_words(str(args["command"])))]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        if not got.commands:
            return unreadable(self, str(args.get("command")), "the command was not run")
        out = got.commands[0]  # exit code None (never finished) or 127 (missing) is UNKNOWN
        return parse_plugin_output(out.exit_code, out.stdout, stderr=out.stderr, advice=self.advice)


CHECKS: tuple[CheckSpec, ...] = (Nagios(),)
