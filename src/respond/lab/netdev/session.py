"""A CLI session on a lab switch, and the protocol each vendor dialect implements.

The engine that reads the SSH channel (echo, line editing, paging, hidden input, the command
log) drives a :class:`Session`; the dialect answers one line at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from respond.lab.netdev.device import DeviceLike


@dataclass(slots=True)
class Session:
    device: DeviceLike
    mode: str = "user"  # dialect-defined: "user", "enable", "config", "config-if", …
    context: dict[str, Any] = field(default_factory=dict)  # dialect scratch
    paging: bool = True  # until `terminal length 0` / `screen-length 0 temporary` / `… disable`
    height: int = 24  # pty rows
    width: int = 80  # pty columns
    hidden: bool = False  # the next line is a password: not echoed, not logged
    closed: bool = False

    def close(self) -> None:
        self.closed = True


class Dialect(Protocol):
    name: str  # "ios" | "vrp" | "comware"
    more_prompt: str  # IOS " --More-- ", VRP "  ---- More ----", Comware "---- More ----"

    def banner(self, s: Session) -> str:
        """Text shown right after login (may be empty)."""
        ...

    def prompt(self, s: Session) -> str:
        """The prompt for the session's current mode: "acc-sw2#", "<core-sw1>", "[acc-sw1]"."""
        ...

    def handle(self, s: Session, line: str) -> str:
        """The output for one input line ("" for none). May change ``s.mode``, ``s.context``,
        ``s.paging`` and ``s.hidden``, or close the session."""
        ...
