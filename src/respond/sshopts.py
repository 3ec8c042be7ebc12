"""Reading OpenSSH command-line options that an Ansible inventory carries
(``ansible_ssh_common_args``), shared by the ssh, netmiko and ansible step kinds."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def ssh_options(args: str) -> tuple[list[str], list[str]]:
    """Jump specs and known_hosts files named in ssh command-line arguments
    (``-J spec``, ``-o ProxyJump=spec``, ``-o UserKnownHostsFile=path``)."""
    jumps: list[str] = []
    files: list[str] = []
    try:
        tokens = shlex.split(args)
    except ValueError:
        tokens = args.split()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        value: str | None = None
        if tok in ("-J", "-o") and i + 1 < len(tokens):
            value = tokens[i + 1]
            i += 1
            if tok == "-J":
                jumps.extend(value.split(","))
                value = None
        elif tok.startswith("-J"):
            jumps.extend(tok[2:].split(","))
        elif tok.startswith("-o"):
            value = tok[2:]
        if value is not None:
            key, sep, rest = value.partition("=")
            if not sep:
                key, _, rest = value.partition(" ")
            key = key.strip().lower()
            rest = rest.strip()
            if key == "proxyjump" and rest.lower() != "none":
                jumps.extend(rest.split(","))
            elif key in ("userknownhostsfile", "globalknownhostsfile"):
                files.extend(rest.split())
        i += 1
    return [j for j in jumps if j.strip()], files


def known_hosts_files(
    host_vars: Mapping[str, Any], configured: Iterable[Path | str] = ()
) -> list[Path]:
    """Every known_hosts file that applies to a host: respond's configured files, the
    host's ``ansible_ssh_known_hosts_file`` and ``-o UserKnownHostsFile=`` in its ssh args."""
    files = [Path(p).expanduser() for p in configured]
    if host_vars.get("ansible_ssh_known_hosts_file"):
        files.append(Path(str(host_vars["ansible_ssh_known_hosts_file"])).expanduser())
    common = " ".join(
        str(host_vars.get(name) or "")
        for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
    )
    files.extend(Path(p).expanduser() for p in ssh_options(common)[1])
    return list(dict.fromkeys(files))


# --- Ansible connection variables that could switch host-key checking off ------------------

#: ``ansible_connection`` values a playbook step may use: OpenSSH (which checks host keys
#: against respond's known_hosts, respond's options first) or the control host itself.
PLAYBOOK_CONNECTIONS = frozenset(
    {"ssh", "smart", "local", "ansible.builtin.ssh", "ansible.builtin.local"}
)
# Connections that check host keys on their own terms (paramiko and libssh read
# ~/.ssh/known_hosts, not respond's files, and paramiko can be told to add unknown keys).
_OWN_HOST_KEY_CONNECTIONS = frozenset(
    {
        "paramiko",
        "paramiko_ssh",
        "ansible.builtin.paramiko",
        "ansible.builtin.paramiko_ssh",
        "libssh",
        "ansible.netcommon.libssh",
    }
)
#: Variables Ansible reads to decide whether host keys are checked at all.
HOST_KEY_CHECKING_VARS = (
    "ansible_host_key_checking",
    "ansible_ssh_host_key_checking",
    "ansible_paramiko_host_key_checking",
)
_TRUE = frozenset({"true", "yes", "on", "1", "y", "t"})
_CONTROLS = "respond controls SSH host-key checking"


def is_true(value: Any) -> bool:
    """A literal true as Ansible reads booleans (a template or anything else is not)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE


def host_key_var_problem(name: str, value: Any) -> str | None:
    """Why respond refuses an Ansible variable with this value (None: it may stay).

    ``ansible_ssh_args`` replaces the ssh options respond gives Ansible, so it is refused
    whatever it holds; ``ansible_ssh_common_args`` and ``ansible_ssh_extra_args`` are allowed
    because Ansible puts them after respond's options and OpenSSH keeps the first value of an
    option."""
    if name == "ansible_ssh_args":
        return (
            f"{_CONTROLS}; ansible_ssh_args would replace respond's ssh options "
            "(put other ssh options in ansible_ssh_common_args)"
        )
    if name in HOST_KEY_CHECKING_VARS and not is_true(value):
        return f"{_CONTROLS}; it cannot be switched off (remove {name} or set it to true)"
    if name == "ansible_connection" and str(value).strip().lower() in _OWN_HOST_KEY_CONNECTIONS:
        return (
            f"{_CONTROLS}; the {value} connection does not check host keys against "
            "respond's known_hosts (use ssh)"
        )
    return None
