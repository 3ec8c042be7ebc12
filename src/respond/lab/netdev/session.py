"""A CLI session on a lab switch, and the protocol each vendor dialect implements.

The engine that reads the SSH channel (echo, line editing, paging, hidden input, the command
log) drives a :class:`Session`; the dialect answers one line at a time.
"""

from __future__ import annotations

import contextlib
import logging
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


log = logging.getLogger("respond.lab.netdev")


class Channel(Protocol):
    """What the engine needs of a paramiko channel (tests may pass a stand-in)."""

    def recv(self, nbytes: int) -> bytes: ...
    def sendall(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class LineLog(Protocol):
    def append(self, host: str, command: str) -> None: ...


CTRL_C = "\x03"
CTRL_Z = "\x1a"
BACKSPACE = ("\x7f", "\x08")
MAX_LINE = 4096  # a line longer than this is cut (a runaway paste)


class Engine:
    """Drives one :class:`Session` over a channel: echo, line editing, paging, hidden input,
    ``\\r\\n`` line ends and the command log. One engine per shell channel, in its own thread."""

    def __init__(
        self,
        channel: Channel,
        session: Session,
        dialect: Dialect,
        commands: LineLog | None = None,
    ) -> None:
        self.channel = channel
        self.session = session
        self.dialect = dialect
        self.commands = commands
        self._line: list[str] = []
        self._after_cr = False  # a "\n" right after "\r" ends no second line
        self._pages: list[str] = []  # output lines waiting behind the more prompt

    # -------------------------------------------------------------- loop

    def run(self) -> None:
        """Serve the session until the client leaves or the dialect closes it."""
        try:
            self._write(self.dialect.banner(self.session))
            self._write_raw(self.dialect.prompt(self.session))
            while not self.session.closed:
                data = self.channel.recv(1024)
                if not data:
                    break
                for char in data.decode("utf-8", "replace"):
                    self._key(char)
                    if self.session.closed:
                        break
        except (OSError, EOFError):
            pass  # the client went away (or the switch went down)
        finally:
            self.session.close()
            with contextlib.suppress(Exception):
                self.channel.close()

    def resize(self, width: int, height: int) -> None:
        """The client's terminal changed size (a window-change request)."""
        self.session.width = max(1, width)
        self.session.height = max(1, height)

    # -------------------------------------------------------------- keys

    def _key(self, char: str) -> None:
        if char == "\n" and self._after_cr:
            self._after_cr = False  # the "\n" of a "\r\n" line end
            return
        self._after_cr = char == "\r"
        if self._pages:
            self._page_key(char)
            return
        if char in "\r\n":
            self._enter()
            return
        if char == CTRL_C:
            self._cancel()
        elif char in BACKSPACE:
            self._backspace()
        elif char == CTRL_Z:
            # back to the top mode: IOS's `end`, or what the dialect says (VRP's `return`)
            self._line = list(getattr(self.dialect, "ctrl_z", "end"))
            self._enter()
        elif char.isprintable() and len(self._line) < MAX_LINE:
            self._line.append(char)
            if not self.session.hidden:
                self._write_raw(char)

    def _backspace(self) -> None:
        if self._line:
            self._line.pop()
            if not self.session.hidden:
                self._write_raw("\b \b")

    def _cancel(self) -> None:
        self._line = []
        self.session.hidden = False
        self._write_raw("^C\r\n" + self.dialect.prompt(self.session))

    def _enter(self) -> None:
        line = "".join(self._line)
        self._line = []
        hidden = self.session.hidden
        self._write_raw("\r\n")
        if not hidden and line.strip() and self.commands is not None:
            self.commands.append(self.session.device.name, line.strip())
        output = self._handle(line)
        prompt = "" if self.session.closed else self.dialect.prompt(self.session)
        if output and prompt and not output.endswith("\n"):
            output += "\n"  # a question (prompt "") waits on its own line's end
        self._output(output, prompt)

    def _handle(self, line: str) -> str:
        """The dialect's answer; a dialect's own failure is one error line, not a dead session."""
        try:
            return self.dialect.handle(self.session, line)
        except Exception:
            log.exception("%s: %r failed", self.session.device.name, line)
            return "% Error: the lab switch could not run this command (see the lab log)\n"

    # -------------------------------------------------------------- output and paging

    def _output(self, output: str, prompt: str) -> None:
        page = max(1, self.session.height - 1)
        ends_with_newline = output.endswith("\n")
        lines = (output[:-1] if ends_with_newline else output).split("\n")
        if self.session.paging and output and len(lines) > page:
            self._write("\n".join(lines[:page]) + "\n")
            self._pages = lines[page:]
            self._tail_newline = ends_with_newline
            self._pending_prompt = prompt
            self._write_raw(self.dialect.more_prompt)
            return
        self._write(output)
        self._write_raw(prompt)

    def _page_key(self, char: str) -> None:
        """Space: the next page; Enter: one more line; q or Ctrl-C: stop."""
        self._write_raw("\r" + " " * len(self.dialect.more_prompt) + "\r")
        if char in ("q", "Q", CTRL_C):
            self._pages = []
            self._write_raw(self._pending_prompt)
            return
        count = 1 if char in "\r\n" else max(1, self.session.height - 1)
        shown, self._pages = self._pages[:count], self._pages[count:]
        if self._pages:
            self._write("\n".join(shown) + "\n")
            self._write_raw(self.dialect.more_prompt)
            return
        self._write("\n".join(shown) + ("\n" if self._tail_newline else ""))
        self._write_raw(self._pending_prompt)

    _pending_prompt = ""
    _tail_newline = False

    def _write(self, text: str) -> None:
        """Text with any line ends written as ``\\r\\n``."""
        if text:
            self._write_raw(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    def _write_raw(self, text: str) -> None:
        if text:
            self.channel.sendall(text.encode("utf-8"))
