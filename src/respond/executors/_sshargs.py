"""SSH details shared by the step kinds that speak SSH.

- OpenSSH command-line options that an Ansible inventory carries
  (``ansible_ssh_common_args``), read by the ssh, netmiko and ansible kinds;
- the paramiko exceptions netmiko lets through, for the netmiko kind: with these, paramiko
  is imported only here and by the ssh kind (tests/test_layers.py), and only when called.
"""

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


def connection_errors() -> tuple[type[BaseException], ...]:
    """What a failed or lost SSH connection raises under paramiko (and netmiko over it)."""
    from paramiko import SSHException

    return (OSError, EOFError, SSHException)


def is_host_key_mismatch(exc: BaseException | None) -> bool:
    """True when paramiko refused a host whose key differs from its known_hosts entry."""
    from paramiko import BadHostKeyException

    return isinstance(exc, BadHostKeyException)


def per_address_errors(exc: BaseException | None) -> list[BaseException] | None:
    """The error for each address tried, when paramiko could connect to none of them
    (``NoValidConnectionsError``); None for any other exception."""
    from paramiko.ssh_exception import NoValidConnectionsError

    if isinstance(exc, NoValidConnectionsError):
        return list(exc.errors.values())
    return None
