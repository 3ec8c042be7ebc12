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
