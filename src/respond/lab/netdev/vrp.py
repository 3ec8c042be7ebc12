"""The Huawei VRP dialect: core-sw1's CLI (an S5735-S24T4X).

Views: user ``<core-sw1>``, system ``[core-sw1]`` (``system-view``) and interface
``[core-sw1-GigabitEthernet0/0/1]`` (``interface IF``); ``quit`` goes up one view (and ends the
session from the user view), ``return`` goes back to the user view. Every keyword may be
abbreviated to a unique prefix (``dis int br``), an interface may be named in any form
(``GE0/0/1``, ``g0/0/1``, ``GigabitEthernet 0/0/1``), and a line may end in a filter
(``| include TEXT``, ``| exclude TEXT``, ``| begin TEXT``). Bad input gets VRP's own errors,
with the caret under the word at fault::

    <core-sw1>dis foo
                  ^
    Error: Unrecognized command found at '^' position.

``save`` asks ``Continue? [Y/N]:`` (the question netmiko's ``huawei`` driver answers) and
saves on ``y``. Output is paged (``  ---- More ----``) until ``screen-length 0 temporary``.
What each ``display`` command prints is in :mod:`.vrp_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from respond.lab.netdev import vrp_text as text
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

# placeholders in a command's words
IF, TEXT, NUMBER = "<interface>", "<text>", "<number>"
PLACEHOLDERS = (IF, TEXT, NUMBER)

# interface types a name may start with (any prefix of one: "g", "gig", "GE", "Vlanif")
_TYPES = ("gigabitethernet", "ge", "xgigabitethernet", "vlanif", "null")
_NUMBER_PART = re.compile(r"^\d+(/\d+)*$")

SAVE_QUESTION = "Warning: The current configuration will be written to the device. Continue? [Y/N]:"
SAVED = "Now saving the current configuration to the slot 0.\nInfo: Save the configuration successfully.\n"


class CommandError(Exception):
    """Input VRP refuses: ``kind`` is Unrecognized, Wrong parameter, Incomplete, Ambiguous or
    Too many parameters; ``column`` is where the caret goes (0 = the line's first character)."""

    def __init__(self, kind: str, column: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.column = column


@dataclass(frozen=True, slots=True)
class Token:
    word: str
    column: int


@dataclass(slots=True)
class Args:
    """What the placeholders of a matched command took."""

    interface: str = ""  # the long name: GigabitEthernet0/0/1, Vlanif10, NULL0
    text: str = ""
    number: int = 0
    tokens: list[Token] = field(default_factory=list)


Handler = Callable[["VRP", Session, Args], str]


@dataclass(frozen=True, slots=True)
class Command:
    words: tuple[str, ...]
    views: frozenset[str]
    run: Handler


def tokenize(line: str) -> list[Token]:
    """Words and their columns; an interface type followed by its number (``GigabitEthernet
    0/0/1``) is one word, as VRP reads it."""
    tokens = [Token(m.group(), m.start()) for m in re.finditer(r"\S+", line)]
    merged: list[Token] = []
    for token in tokens:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and _NUMBER_PART.match(token.word)
            and previous.word.isalpha()
            and any(t.startswith(previous.word.lower()) for t in _TYPES)
        ):
            merged[-1] = Token(previous.word + token.word, previous.column)
            continue
        merged.append(token)
    return merged


def match(commands: list[Command], view: str, line: str) -> tuple[Command, list[Token]]:
    """The command a line names in this view (keywords by unique prefix), or CommandError."""
    tokens = tokenize(line)
    alive = [c for c in commands if view in c.views]
    for index, token in enumerate(tokens):
        alive = _step(alive, index, token)
        if any(c.words[index] == TEXT for c in alive):
            break
    else:
        index = len(tokens) - 1
    complete = [c for c in alive if len(c.words) == index + 1 or c.words[index] == TEXT]
    if not complete:
        raise CommandError("Incomplete command", tokens[-1].column)
    return complete[0], tokens


def _step(alive: list[Command], index: int, token: Token) -> list[Command]:
    """The commands still possible once the word at ``index`` is read."""
    word = token.word.lower()
    longer = [c for c in alive if len(c.words) > index]
    keywords = [
        c for c in longer if c.words[index] not in PLACEHOLDERS and c.words[index].startswith(word)
    ]
    if keywords:
        exact = [c for c in keywords if c.words[index] == word]
        if not exact and len({c.words[index] for c in keywords}) > 1:
            raise CommandError("Ambiguous command", token.column)
        return exact or keywords
    placeholders = [c for c in longer if c.words[index] in PLACEHOLDERS]
    if placeholders:
        return placeholders
    if alive and not longer:
        raise CommandError("Too many parameters", token.column)
    raise CommandError("Unrecognized command", token.column)


def caret(kind: str, column: int) -> str:
    return " " * column + "^\n" + f"Error: {kind} found at '^' position.\n"


def arguments(s: Session, command: Command, tokens: list[Token], line: str) -> Args:
    """The placeholders' values, checked: an unknown interface or a non-number is VRP's
    ``Wrong parameter`` (a word that names no interface type at all is ``Unrecognized``)."""
    args = Args(tokens=tokens)
    for word, token in zip(command.words, tokens, strict=False):
        if word == TEXT:
            args.text = line[token.column :].strip()
        elif word == NUMBER:
            if not token.word.isdigit() or int(token.word) > 512:
                raise CommandError("Wrong parameter", token.column)
            args.number = int(token.word)
        elif word == IF:
            args.interface = interface_name(s, token)
    return args


def interface_name(s: Session, token: Token) -> str:
    """The long name of the interface a word names, or CommandError."""
    word = token.word
    lower = word.lower()
    if lower == "null0":
        return "NULL0"
    vlanif = re.fullmatch(r"vlanif(\d+)", lower)
    if vlanif and any(svi.vlan == int(vlanif.group(1)) for svi in s.device.svis()):
        return f"Vlanif{vlanif.group(1)}"
    port = s.device.port(word)
    if port is not None:
        return port.name
    kind = re.match(r"[a-z-]*", lower)
    known_type = (
        kind is not None and kind.group() and any(t.startswith(kind.group()) for t in _TYPES)
    )
    raise CommandError("Wrong parameter" if known_type else "Unrecognized command", token.column)


FILTERS = ("include", "exclude", "begin")


def split_filter(line: str) -> tuple[str, tuple[str, str] | None]:
    """``display x | include y`` → (``display x``, (``include``, ``y``)); CommandError for a
    filter VRP does not know. Only display commands take filters (a description may hold
    a ``|``)."""
    first = line.split(None, 1)[0].lower() if line.strip() else ""
    command, bar, rest = line.partition("|")
    if not bar or not "display".startswith(first):
        return line, None
    words = rest.split(None, 1)
    offset = len(command) + 1 + (len(rest) - len(rest.lstrip()))
    if not words:
        raise CommandError("Incomplete command", len(command))
    kinds = [f for f in FILTERS if f.startswith(words[0].lower())]
    if len(kinds) != 1:
        raise CommandError("Unrecognized command", offset)
    if len(words) < 2:
        raise CommandError("Incomplete command", offset)
    return command, (kinds[0], words[1].strip())


def apply_filter(output: str, how: tuple[str, str] | None) -> str:
    if how is None or not output:
        return output
    kind, pattern = how
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(re.escape(pattern))
    lines = output.rstrip("\n").split("\n")
    if kind == "include":
        kept = [line for line in lines if regex.search(line)]
    elif kind == "exclude":
        kept = [line for line in lines if not regex.search(line)]
    else:
        start = next((i for i, line in enumerate(lines) if regex.search(line)), len(lines))
        kept = lines[start:]
    return "".join(line + "\n" for line in kept)


class VRP:
    """The Huawei VRP dialect (see the module's docstring)."""

    name = "vrp"
    more_prompt = "  ---- More ----"
    ctrl_z = "return"  # the line the session engine hands over for Ctrl-Z

    def banner(self, s: Session) -> str:
        now = text.clock(s.device.now())
        return (
            "\nInfo: The max number of VTY users is 5, the number of current VTY users online"
            " is 1, and total number of terminal users online is 1.\n"
            f"      The current login time is {now}.\n"
        )

    def prompt(self, s: Session) -> str:
        if "confirm" in s.context:
            return ""  # the question on screen is the prompt
        name = s.device.name
        if s.mode == SYSTEM:
            return f"[{name}]"
        if s.mode == INTERFACE:
            return f"[{name}-{s.context.get('interface', '')}]"
        return f"<{name}>"

    def handle(self, s: Session, line: str) -> str:
        pending = s.context.pop("confirm", None)
        if pending is not None:
            return self._answer(s, pending, line)
        if not line.strip():
            return ""
        typed_at = len(self.prompt(s))
        try:
            command_line, how = split_filter(line)
            command, tokens = match(COMMANDS, s.mode, command_line)
            args = arguments(s, command, tokens, command_line)
            return apply_filter(command.run(self, s, args), how)
        except CommandError as error:
            return caret(error.kind, typed_at + error.column)

    def _answer(self, s: Session, pending: str, line: str) -> str:
        """The reply to a [Y/N] question: only ``y``/``yes`` goes ahead."""
        if pending == "save" and line.strip().lower() in ("y", "yes"):
            s.device.save()
            return SAVED
        return ""


# ---------------------------------------------------------------------- handlers


def _screen_length(_: VRP, s: Session, args: Args) -> str:
    s.paging = args.number > 0
    if args.number > 0:
        s.height = args.number + 1  # N lines of output, then the more prompt
    return "Info: The configuration takes effect on the current user terminal interface only.\n"


def _system_view(_: VRP, s: Session, __: Args) -> str:
    s.mode = SYSTEM
    s.context.pop("interface", None)
    return "Enter system view, return user view with Ctrl+Z.\n"


def _interface(_: VRP, s: Session, args: Args) -> str:
    if s.device.port(args.interface) is None:
        # Vlanif and NULL0 exist but their settings are not part of the lab
        raise CommandError("Wrong parameter", args.tokens[-1].column)
    s.mode = INTERFACE
    s.context["interface"] = args.interface
    return ""


def _quit(_: VRP, s: Session, __: Args) -> str:
    quit_view(s)
    return ""


def _return(_: VRP, s: Session, __: Args) -> str:
    return_to_user(s)
    return ""


def _save(_: VRP, s: Session, __: Args) -> str:
    s.context["confirm"] = "save"
    return SAVE_QUESTION


def _sysname(_: VRP, s: Session, args: Args) -> str:
    if args.text == s.device.name:
        return ""
    return "Error: The device name is fixed in this lab (the lab's inventory uses it).\n"


def _port(s: Session) -> str:
    return str(s.context["interface"])


def _shutdown(_: VRP, s: Session, __: Args) -> str:
    s.device.set_admin(_port(s), False)
    return ""


def _undo_shutdown(_: VRP, s: Session, __: Args) -> str:
    s.device.set_admin(_port(s), True)
    return ""


def _description(_: VRP, s: Session, args: Args) -> str:
    if len(args.text) > 242:
        raise CommandError("Wrong parameter", args.tokens[-1].column)
    s.device.set_description(_port(s), args.text)
    return ""


def _undo_description(_: VRP, s: Session, __: Args) -> str:
    s.device.set_description(_port(s), "")
    return ""


def _display_this(_: VRP, s: Session, __: Args) -> str:
    if s.mode == INTERFACE:
        port = s.device.port(_port(s))
        lines = text.interface_config(s.device, port) if port is not None else []
        return "#\n" + "".join(line + "\n" for line in lines) + "#\nreturn\n"
    return text.configuration(s.device, s.device.ports())


def _display_configuration_of(_: VRP, s: Session, args: Args) -> str:
    port = s.device.port(args.interface)
    if port is None:
        raise CommandError("Wrong parameter", args.tokens[-1].column)
    lines = text.interface_config(s.device, port)
    return "#\n" + "".join(line + "\n" for line in lines) + "#\nreturn\n"


def _show(render: Callable[..., str]) -> Handler:
    """A handler that prints ``render(device)``."""
    return lambda _, s, __: render(s.device)


def _display_interface(_: VRP, s: Session, args: Args) -> str:
    return text.display_interface(s.device, args.interface or None)


def _config(*words: str, run: Handler, views: frozenset[str] = CONFIG_VIEWS) -> Command:
    return Command(words, views, run)


def _display(*words: str, run: Handler) -> Command:
    return Command(("display", *words), ALL_VIEWS, run)


COMMANDS: list[Command] = [
    _display("version", run=_show(text.display_version)),
    _display("clock", run=_show(text.display_clock)),
    _display("current-configuration", run=_show(lambda d: text.configuration(d, d.ports()))),
    _display("current-configuration", "interface", IF, run=_display_configuration_of),
    _display("saved-configuration", run=_show(lambda d: text.configuration(d, d.saved_ports()))),
    _display("this", run=_display_this),
    _display("interface", run=_display_interface),
    _display("interface", IF, run=_display_interface),
    _display("interface", "brief", run=_show(text.display_interface_brief)),
    _display("interface", "description", run=_show(text.display_interface_description)),
    _display("ip", "interface", "brief", run=_show(text.display_ip_interface_brief)),
    _display("ip", "routing-table", run=_show(text.display_ip_routing_table)),
    _display("ip", "routing-table", "verbose", run=_show(text.display_ip_routing_table_verbose)),
    _display("lldp", "neighbor", run=_show(text.display_lldp_neighbor)),
    _display("lldp", "neighbor", "brief", run=_show(text.display_lldp_neighbor_brief)),
    _display("vlan", run=_show(text.display_vlan)),
    _display("logbuffer", run=_show(text.display_logbuffer)),
    Command(("screen-length", NUMBER, "temporary"), frozenset({USER}), _screen_length),
    Command(("system-view",), frozenset({USER}), _system_view),
    Command(("save",), frozenset({USER, SYSTEM}), _save),
    Command(("quit",), ALL_VIEWS, _quit),
    Command(("return",), ALL_VIEWS, _return),  # (Ctrl-Z: harmless in the user view)
    _config("interface", IF, run=_interface),
    _config("sysname", TEXT, run=_sysname, views=frozenset({SYSTEM})),
    _config("shutdown", run=_shutdown, views=frozenset({INTERFACE})),
    _config("undo", "shutdown", run=_undo_shutdown, views=frozenset({INTERFACE})),
    _config("description", TEXT, run=_description, views=frozenset({INTERFACE})),
    _config("undo", "description", run=_undo_description, views=frozenset({INTERFACE})),
]
