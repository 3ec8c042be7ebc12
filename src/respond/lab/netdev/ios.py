"""The Cisco IOS dialect (a Catalyst 2960 access switch): what netmiko's ``cisco_ios`` driver
and ntc-templates' ``cisco_ios`` templates expect.

Modes: ``user`` (``acc-sw2>``), ``enable`` (``acc-sw2#``, where a login lands: the lab user
has privilege 15), ``config`` (``acc-sw2(config)#``) and ``config-if``
(``acc-sw2(config-if)#``). Everything shown is read from the :class:`Device` at the moment
of the command; ``shutdown``, ``description`` and ``write memory`` change the lab state.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from respond.lab.netdev import ios_show
from respond.lab.netdev.words import Command, Match, NoMatch, resolve, rest_of_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from respond.lab.netdev.device import DeviceLike
    from respond.lab.netdev.session import Session

INVALID = "% Invalid input detected at '^' marker."
MAX_ENABLE_TRIES = 3


class IOS:
    name = "ios"
    more_prompt = " --More-- "

    def __init__(self) -> None:
        self.exec_commands = _exec_commands()
        self.config_commands = _config_commands()
        self.interface_commands = _interface_commands()

    # -------------------------------------------------------------- the Dialect protocol

    def banner(self, s: Session) -> str:
        s.mode = "enable"
        return ""

    def prompt(self, s: Session) -> str:
        if s.hidden:
            return "Password: "
        if "confirm" in s.context:
            return str(s.context["confirm"][0])
        name = s.device.name
        return {
            "user": f"{name}>",
            "config": f"{name}(config)#",
            "config-if": f"{name}(config-if)#",
        }.get(s.mode, f"{name}#")

    def handle(self, s: Session, line: str) -> str:
        if s.hidden:
            return self._password(s, line)
        if "confirm" in s.context:
            _question, action = s.context.pop("confirm")
            return str(action(s, line))
        if not line.strip():
            return ""
        if s.mode in ("config", "config-if"):
            return self._config_line(s, line)
        return self._run(s, line, self.exec_commands, self.prompt(s))

    # -------------------------------------------------------------- dispatch

    def _run(self, s: Session, line: str, commands: list[Command], prompt: str) -> str:
        found = resolve(line, commands)
        if isinstance(found, NoMatch):
            return _error(found, prompt, line)
        needs_enable = found.command.path[0] not in USER_COMMANDS
        if s.mode == "user" and needs_enable:
            return _error(NoMatch("invalid", 0), prompt, line)
        return found.command.handler(s, line, found)

    def _config_line(self, s: Session, line: str) -> str:
        prompt = self.prompt(s)
        words = line.split()
        if words[0].lower() == "do" and len(words) > 1:
            return self._run(s, rest_of_line(line, 1), self.exec_commands, prompt)
        if s.mode == "config-if":
            found = resolve(line, self.interface_commands)
            if isinstance(found, Match):
                return found.command.handler(s, line, found)
        return self._run(s, line, self.config_commands, prompt)

    # -------------------------------------------------------------- enable password

    def _password(self, s: Session, line: str) -> str:
        s.hidden = False
        if line == s.device.password:
            s.mode = "enable"
            s.context.pop("enable_tries", None)
            return ""
        tries = int(s.context.get("enable_tries", 0)) + 1
        if tries >= MAX_ENABLE_TRIES:
            s.context.pop("enable_tries", None)
            return "% Bad secrets\n"
        s.context["enable_tries"] = tries
        s.hidden = True
        return ""


USER_COMMANDS = frozenset({"enable", "exit", "quit", "logout", "terminal", "show"})


def _error(found: NoMatch, prompt: str, line: str) -> str:
    if found.kind == "ambiguous":
        return f'% Ambiguous command:  "{line.strip()}"\n'
    if found.kind == "incomplete":
        return "% Incomplete command.\n\n"
    return " " * (len(prompt) + found.column) + "^\n" + INVALID + "\n\n"


# ---------------------------------------------------------------- exec mode


def _enable(s: Session, line: str, m: Match) -> str:
    if s.mode != "user":
        return ""
    s.hidden = True
    return ""


def _disable(s: Session, line: str, m: Match) -> str:
    s.mode = "user"
    return ""


def _leave(s: Session, line: str, m: Match) -> str:
    s.close()
    return ""


def _terminal_length(s: Session, line: str, m: Match) -> str:
    value = _number(m.args)
    if value is None:
        return "% Incomplete command.\n\n" if not m.args else f"{INVALID}\n\n"
    s.paging = value != 0
    if value:
        s.height = value
    return ""


def _terminal_width(s: Session, line: str, m: Match) -> str:
    value = _number(m.args)
    if value is None:
        return "% Incomplete command.\n\n" if not m.args else f"{INVALID}\n\n"
    s.width = max(0, value)
    return ""


def _number(args: list[str]) -> int | None:
    if len(args) != 1 or not args[0].isdigit():
        return None
    return int(args[0])


def _configure(s: Session, line: str, m: Match) -> str:
    s.mode = "config"
    return "Enter configuration commands, one per line.  End with CNTL/Z.\n"


def _write_memory(s: Session, line: str, m: Match) -> str:
    s.device.save()
    return "Building configuration...\n[OK]\n"


def _copy_run_start(s: Session, line: str, m: Match) -> str:
    s.context["confirm"] = ("Destination filename [startup-config]? ", _copy_confirmed)
    return ""


def _copy_confirmed(s: Session, answer: str) -> str:
    if answer.strip() not in ("", "startup-config"):
        return "%Error opening flash:" + answer.strip() + " (Permission denied)\n"
    s.device.save()
    return "Building configuration...\n[OK]\n"


def _show(render: Callable[[DeviceLike], str]) -> Callable[[Session, str, Match], str]:
    """A handler that prints what ``render`` makes of the device."""

    def handler(s: Session, line: str, m: Match) -> str:
        return render(s.device)

    return handler


def _show_interfaces(s: Session, line: str, m: Match) -> str:
    if not m.args:
        return ios_show.interfaces(s.device, None)
    port = s.device.port("".join(m.args))
    if port is None:
        column = len(line) - len(line.lstrip()) + line.lower().find(m.args[0].lower())
        return _error(NoMatch("invalid", max(0, column)), f"{s.device.name}#", line)
    return ios_show.interfaces(s.device, port.name)


def _show_running(s: Session, line: str, m: Match) -> str:
    if m.args and "interface".startswith(m.args[0].lower()) and len(m.args) > 1:
        port = s.device.port("".join(m.args[1:]))
        if port is None:
            return f"{INVALID}\n\n"
        return ios_show.running_interface(s.device, port.name)
    return ios_show.running_config(s.device, startup=False)


def _exec_commands() -> list[Command]:
    c = Command.of
    return [
        c("enable", _enable),
        c("disable", _disable),
        c("exit", _leave),
        c("quit", _leave),
        c("logout", _leave),
        c("terminal length", _terminal_length, "required"),
        c("terminal width", _terminal_width, "required"),
        c("configure terminal", _configure),
        c("write memory", _write_memory),
        c("copy running-config startup-config", _copy_run_start),
        c("show version", _show(ios_show.version)),
        c("show clock", _show(ios_show.clock)),
        c("show running-config", _show_running, "optional"),
        c("show startup-config", _show(ios_show.startup_config)),
        c("show interfaces", _show_interfaces, "optional"),
        c("show interfaces status", _show(ios_show.interfaces_status)),
        c("show interfaces description", _show(ios_show.interfaces_description)),
        c("show ip interface brief", _show(ios_show.ip_interface_brief)),
        c("show ip route", _show(ios_show.ip_route)),
        c("show cdp neighbors", _show(ios_show.cdp_neighbors)),
        c("show cdp neighbors detail", _show(ios_show.cdp_neighbors_detail)),
        c("show lldp neighbors", _show(ios_show.lldp_neighbors)),
        c("show lldp neighbors detail", _show(ios_show.lldp_neighbors_detail)),
        c("show logging", _show(ios_show.logging)),
        c("show vlan", _show(ios_show.vlan)),
        c("show vlan brief", _show(ios_show.vlan)),
    ]


# ---------------------------------------------------------------- configuration modes


def _end(s: Session, line: str, m: Match) -> str:
    s.mode = "enable"
    s.context.pop("interface", None)
    return ""


def _exit_config(s: Session, line: str, m: Match) -> str:
    if s.mode == "config-if":
        s.mode = "config"
        s.context.pop("interface", None)
    else:
        s.mode = "enable"
    return ""


def _interface(s: Session, line: str, m: Match) -> str:
    port = s.device.port("".join(m.args))
    if port is None:
        column = line.lower().find(m.args[0].lower()) if m.args else len(line)
        prompt = f"{s.device.name}(config)#"
        return _error(NoMatch("invalid", max(0, column)), prompt, line)
    s.mode = "config-if"
    s.context["interface"] = port.name
    return ""


def _hostname(s: Session, line: str, m: Match) -> str:
    return f"% Error: the lab's switch names are fixed; the hostname stays {s.device.name}\n"


def _config_commands() -> list[Command]:
    c = Command.of
    return [
        c("end", _end),
        c("exit", _exit_config),
        c("interface", _interface, "required"),
        c("hostname", _hostname, "required"),
    ]


def _shutdown(s: Session, line: str, m: Match) -> str:
    s.device.set_admin(s.context["interface"], False)
    return ""


def _no_shutdown(s: Session, line: str, m: Match) -> str:
    s.device.set_admin(s.context["interface"], True)
    return ""


def _description(s: Session, line: str, m: Match) -> str:
    s.device.set_description(s.context["interface"], rest_of_line(line, 1))
    return ""


def _no_description(s: Session, line: str, m: Match) -> str:
    s.device.set_description(s.context["interface"], "")
    return ""


def _interface_commands() -> list[Command]:
    c = Command.of
    return [
        c("shutdown", _shutdown),
        c("no shutdown", _no_shutdown),
        c("description", _description, "required"),
        c("no description", _no_description, "optional"),
    ]


def now_text(at: float) -> str:
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(at))
