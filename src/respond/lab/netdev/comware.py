"""The H3C Comware 7 dialect: user view ``<acc-sw1>``, system view ``[acc-sw1]``, interface
view ``[acc-sw1-GigabitEthernet1/0/1]``.

Keywords may be shortened to any unique prefix (``dis int br``); input that does not fit is
answered with Comware's own messages and a caret under the offending word. ``save`` asks the
questions a real switch asks; ``save force`` (what netmiko's ``hp_comware`` driver sends)
saves without asking. What the ``display`` commands print lives in :mod:`.comware_display`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from respond.lab.netdev import comware_display as show
from respond.lab.netdev.device import DeviceLike
from respond.lab.netdev.session import Session
from respond.lab.netdev.views import (
    ALL_VIEWS,
    CONFIG_VIEWS,
    INTERFACE,
    SYSTEM,
    USER,
    quit_view,
    return_to_user,
)

# argument slots in a command's words; the angle brackets keep them from matching typed input
PORT = "<interface>"
TEXT = "<text>"

BANNER = (
    "******************************************************************************\n"
    f"* {show.COPYRIGHT}*\n"
    "* Without the owner's prior written consent,                                 *\n"
    "* no decompiling or reverse-engineering shall be allowed.                    *\n"
    "******************************************************************************\n"
    "\n"
)

SAVE_CONFIRM = "The current configuration will be written to the device. Are you sure? [Y/N]:"
SAVE_FILE = (
    "Please input the file name(*.cfg)[flash:/startup.cfg]\n"
    "(To leave the existing filename unchanged, press the enter key):"
)
SAVE_OVERWRITE = "flash:/startup.cfg exists, overwrite? [Y/N]:"
SAVED = (
    "Validating file. Please wait...\n"
    "Saved the current configuration to mainboard device successfully."
)


class CliError(Exception):
    """Input a Comware switch refuses: the message and the column the caret points at."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


UNRECOGNIZED = "Unrecognized command found at '^' position."
INCOMPLETE = "Incomplete command found at '^' position."
WRONG_PARAMETER = "Wrong parameter found at '^' position."
AMBIGUOUS = "Ambiguous command found at '^' position."
TOO_MANY = "Too many parameters found at '^' position."

Runner = Callable[[Session, list[str]], str]


@dataclass(frozen=True, slots=True)
class Command:
    words: tuple[str, ...]  # keywords, PORT (an interface name) or TEXT (the rest of the line)
    views: frozenset[str]
    run: Runner


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    column: int


def tokens(line: str) -> list[Token]:
    return [Token(m.group(), m.start()) for m in re.finditer(r"\S+", line)]


def _port_argument(device: DeviceLike, toks: list[Token], i: int) -> tuple[str, int]:
    """(long port name, tokens used) for an interface written as one word (GE1/0/1) or two
    (GigabitEthernet 1/0/1); a name the switch does not have is a wrong parameter."""
    first = toks[i]
    name, used = first.text, 1
    if first.text.isalpha() and i + 1 < len(toks) and toks[i + 1].text[:1].isdigit():
        name, used = first.text + toks[i + 1].text, 2
    port = device.port(name)
    if port is None:
        raise CliError(WRONG_PARAMETER, first.column)
    return port.name, used


def _keyword(candidates: set[str], token: Token) -> str | None:
    """The keyword ``token`` abbreviates among ``candidates``, None when it names none."""
    typed = token.text.lower()
    keywords = sorted(w for w in candidates if w not in (PORT, TEXT))
    if typed in keywords:
        return typed
    hits = [w for w in keywords if w.startswith(typed)]
    if len(hits) > 1:
        raise CliError(AMBIGUOUS, token.column)
    return hits[0] if hits else None


def parse(
    commands: list[Command], view: str, line: str, device: DeviceLike
) -> tuple[Command, list[str]]:
    """The command ``line`` names in ``view`` and its arguments, or :class:`CliError`."""
    toks = tokens(line)
    alive = [c for c in commands if view in c.views]
    args: list[str] = []
    depth = i = 0
    while i < len(toks):
        slots = {c.words[depth] for c in alive if len(c.words) > depth}
        if not slots:
            raise CliError(TOO_MANY, toks[i].column)
        word = _keyword(slots, toks[i])
        used = 1
        if word is None and TEXT in slots:
            word, used = TEXT, len(toks) - i
            args.append(line[toks[i].column :].rstrip())
        elif word is None and PORT in slots:
            port, used = _port_argument(device, toks, i)
            word = PORT
            args.append(port)
        elif word is None:
            raise CliError(UNRECOGNIZED, toks[i].column)
        alive = [c for c in alive if len(c.words) > depth and c.words[depth] == word]
        depth, i = depth + 1, i + used
    complete = [c for c in alive if len(c.words) == depth]
    if not complete:
        raise CliError(INCOMPLETE, len(line.rstrip()) + 1)
    return complete[0], args


class Comware:
    name = "comware"
    more_prompt = "---- More ----"
    ctrl_z = "return"  # Ctrl+Z leaves any view for the user view, as `return` does

    def __init__(self) -> None:
        self.commands = _commands()

    def banner(self, s: Session) -> str:
        return BANNER

    def prompt(self, s: Session) -> str:
        if s.context.get("question"):
            return ""  # the question already ends the output
        if s.mode == INTERFACE:
            return f"[{s.device.name}-{s.context['interface']}]"
        if s.mode == SYSTEM:
            return f"[{s.device.name}]"
        return f"<{s.device.name}>"

    def handle(self, s: Session, line: str) -> str:
        if s.mode not in ALL_VIEWS:
            s.mode = USER
        if s.context.get("question"):
            return _answer(s, line.strip())
        if not line.strip():
            return ""
        prompt = self.prompt(s)
        try:
            command, args = parse(self.commands, s.mode, line, s.device)
        except CliError as err:
            return " " * (len(prompt) + err.column) + "^\n % " + err.message
        return command.run(s, args)


# --- views --------------------------------------------------------------------------------------


def _system_view(s: Session, args: list[str]) -> str:
    s.mode = SYSTEM
    return "System View: return to User View with Ctrl+Z."


def _interface(s: Session, args: list[str]) -> str:
    s.mode = INTERFACE
    s.context["interface"] = args[0]
    return ""


def _quit(s: Session, args: list[str]) -> str:
    quit_view(s)
    return ""


def _return(s: Session, args: list[str]) -> str:
    return_to_user(s)
    return ""


def _screen_length(paging: bool) -> Runner:
    def run(s: Session, args: list[str]) -> str:
        s.paging = paging
        return ""

    return run


# --- interface changes ----------------------------------------------------------------------


def _shutdown(up: bool) -> Runner:
    def run(s: Session, args: list[str]) -> str:
        s.device.set_admin(s.context["interface"], up)
        return ""

    return run


def _description(s: Session, args: list[str]) -> str:
    text = args[0] if args else ""
    if len(text) > 255:
        return " % The description can contain at most 255 characters."
    s.device.set_description(s.context["interface"], text)
    return ""


# --- save -----------------------------------------------------------------------------------


def _save(s: Session) -> str:
    s.device.save()
    return SAVED


def _save_command(force: bool) -> Runner:
    def run(s: Session, args: list[str]) -> str:
        if force:
            return _save(s)
        s.context["question"] = "confirm"
        return SAVE_CONFIRM

    return run


def _answer(s: Session, answer: str) -> str:
    """The reply to one of ``save``'s questions."""
    question = s.context.pop("question")
    if question == "file":
        if answer in ("", "startup.cfg", "flash:/startup.cfg"):
            s.context["question"] = "overwrite"
            return SAVE_OVERWRITE
        if not answer.endswith(".cfg"):
            return " % The file name is invalid(does not end with .cfg)."
        return _save(s)
    if answer.lower() in ("y", "yes"):
        if question == "confirm":
            s.context["question"] = "file"
            return SAVE_FILE
        return _save(s)
    if answer.lower() in ("n", "no"):
        return ""
    s.context["question"] = question  # anything else: ask again
    return SAVE_CONFIRM if question == "confirm" else SAVE_OVERWRITE


# --- display --------------------------------------------------------------------------------


def _display(render: Callable[[DeviceLike], str]) -> Runner:
    def run(s: Session, args: list[str]) -> str:
        return render(s.device)

    return run


def _display_port(s: Session, args: list[str]) -> str:
    port = s.device.port(args[0])
    return show.interfaces(s.device, port)


def _display_this(s: Session, args: list[str]) -> str:
    if s.mode != INTERFACE:
        return "#\n sysname " + s.device.name + "\n#\nreturn"
    return _port_configuration(s, [s.context["interface"]])


def _port_configuration(s: Session, args: list[str]) -> str:
    """One interface's configuration: ``display this`` in its view, or
    ``display current-configuration interface IF``."""
    port = s.device.port(args[0])
    if port is None:
        return "#\nreturn"
    return "#\n" + "\n".join(show.port_config(port)) + "\n#\nreturn"


def _saved_configuration(device: DeviceLike) -> str:
    return show.current_configuration(device, device.saved_ports())


def _commands() -> list[Command]:
    def cmd(words: str, views: frozenset[str], run: Runner) -> Command:
        return Command(tuple(words.split()), views, run)

    return [
        cmd("display version", ALL_VIEWS, _display(show.version)),
        cmd("display clock", ALL_VIEWS, _display(show.clock)),
        cmd("display device manuinfo", ALL_VIEWS, _display(show.manuinfo)),
        cmd("display current-configuration", ALL_VIEWS, _display(show.current_configuration)),
        cmd(f"display current-configuration interface {PORT}", ALL_VIEWS, _port_configuration),
        cmd("display saved-configuration", ALL_VIEWS, _display(_saved_configuration)),
        cmd("display this", ALL_VIEWS, _display_this),
        cmd("display interface", ALL_VIEWS, _display(show.interfaces)),
        cmd(f"display interface {PORT}", ALL_VIEWS, _display_port),
        cmd("display interface brief", ALL_VIEWS, _display(show.interface_brief)),
        cmd(
            "display interface brief description",
            ALL_VIEWS,
            _display(lambda d: show.interface_brief(d, full_description=True)),
        ),
        cmd("display ip interface brief", ALL_VIEWS, _display(show.ip_interface_brief)),
        cmd("display ip routing-table", ALL_VIEWS, _display(show.routing_table)),
        cmd("display lldp neighbor-information", ALL_VIEWS, _display(show.lldp_verbose)),
        cmd("display lldp neighbor-information list", ALL_VIEWS, _display(show.lldp_list)),
        cmd("display lldp neighbor-information verbose", ALL_VIEWS, _display(show.lldp_verbose)),
        cmd("display logbuffer", ALL_VIEWS, _display(show.logbuffer)),
        cmd("display vlan brief", ALL_VIEWS, _display(show.vlan_brief)),
        cmd("screen-length disable", frozenset({USER}), _screen_length(False)),
        cmd("undo screen-length disable", frozenset({USER}), _screen_length(True)),
        cmd("system-view", frozenset({USER}), _system_view),
        cmd("save", ALL_VIEWS, _save_command(force=False)),
        cmd("save force", ALL_VIEWS, _save_command(force=True)),
        cmd("quit", ALL_VIEWS, _quit),
        # also in user view, where it changes nothing: Ctrl+Z arrives as `return`
        cmd("return", ALL_VIEWS, _return),
        cmd(f"interface {PORT}", CONFIG_VIEWS, _interface),
        cmd(f"description {TEXT}", frozenset({INTERFACE}), _description),
        cmd("undo description", frozenset({INTERFACE}), _description),
        cmd("shutdown", frozenset({INTERFACE}), _shutdown(up=False)),
        cmd("undo shutdown", frozenset({INTERFACE}), _shutdown(up=True)),
    ]
