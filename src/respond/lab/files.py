"""Files the lab writes: keys, known_hosts, the tool wrappers and the Ansible inventory.

Host keys are generated once (one ed25519 key per SSH host, one RSA key per switch, since IOS
devices present RSA) and kept under ``<home>/lab/keys``; the client key ``<home>/lab/id_ed25519``
is authorised on every SSH host. Used by the lab daemon at start-up.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from respond.lab.paths import LabPaths
from respond.lab.tools import TOOLS

SWITCH_USER = "netops"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ensure_ed25519(path: Path, comment: str) -> str:
    """Create an OpenSSH ed25519 key pair at ``path`` (+ ``.pub``) if missing; return the public line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pub_path = path.with_name(path.name + ".pub")
    if not path.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        _write_private(
            path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            ),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        pub_path.write_text(f"{public.decode()} {comment}\n", encoding="ascii")
    elif not pub_path.exists():
        private = serialization.load_ssh_private_key(path.read_bytes(), password=None)
        public = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        pub_path.write_text(f"{public.decode()} {comment}\n", encoding="ascii")
    return " ".join(pub_path.read_text(encoding="ascii").split()[:2])


def ensure_rsa(path: Path) -> str:
    """Create an RSA 2048 key (traditional PEM) if missing; return the public line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(
            path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ),
        )
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def secrets_for(paths: LabPaths) -> dict[str, str]:
    """Credentials that stay the same across restarts (the switch password)."""
    if paths.secrets.exists():
        data = json.loads(paths.secrets.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("switch_password"):
            return data
    data = {"switch_user": SWITCH_USER, "switch_password": secrets.token_urlsafe(12)}
    _write_private(paths.secrets, json.dumps(data).encode())
    return data


# Harmless commands without file operands: the wrapper runs the machine's program as is.
PLAIN_COMMANDS = (
    "basename",
    "dirname",
    "false",
    "id",
    "seq",
    "sleep",
    "sync",
    "tr",
    "true",
    "uname",
    "whoami",
)


def write_bin(paths: LabPaths, python: str | None = None) -> None:
    """The lab hosts' whole PATH: one wrapper per simulated tool and per allowed command.

    Whatever else the directory holds (wrappers of an older lab) is removed, so a host runs
    exactly what is listed here.
    """
    from respond.lab import safecmd, shell

    python = python or sys.executable
    runner = Path(__file__).with_name("toolrun.py").resolve()
    paths.bin.mkdir(parents=True, exist_ok=True)
    header = f'#!/bin/sh\n: "${{RESPOND_LAB_STATE:={paths.state}}}"\nexport RESPOND_LAB_STATE\n'
    checked = (*TOOLS, *safecmd.COMMANDS)
    scripts = {name: f'{header}exec "{python}" -I -S "{runner}" {name} "$@"\n' for name in checked}
    for name in PLAIN_COMMANDS:
        program = _system_program(name)
        if program is not None:
            scripts[name] = f'#!/bin/sh\nexec "{program}" "$@"\n'
    scripts["hostname"] = (
        '#!/bin/sh\nif [ -n "$LAB_HOST" ]; then echo "$LAB_HOST"; else uname -n; fi\n'
    )
    for name, text in scripts.items():
        _write_script(paths.bin / name, text)
    for stale in paths.bin.iterdir():
        if stale.name not in scripts:
            stale.unlink()
    paths.rcfile.write_text(shell.rcfile_text(), encoding="utf-8")


def _system_program(name: str) -> str | None:
    import shutil

    return shutil.which(name, path="/usr/bin:/bin")


def _write_script(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, target)


def session_env(paths: LabPaths, user: str | None = None) -> dict[str, str]:
    """The clean environment of every command run on a lab host (LAB_HOST, HOME added per host)."""
    user = user or getpass.getuser()
    return {
        "PATH": str(paths.bin),  # the sandbox: nothing but the lab's own commands
        "USER": user,
        "LOGNAME": user,
        "SHELL": "/bin/sh",
        "LANG": "C.UTF-8",
        "RESPOND_LAB_STATE": str(paths.state),
    }


def write_known_hosts(paths: LabPaths, entries: list[tuple[str, int, str]]) -> None:
    """``entries``: (name, port, "keytype base64")."""
    lines = [
        "# Host keys of the respond lab (written by `respond lab up`; regenerated on every start)."
    ]
    for name, port, public in entries:
        lines.append(f"# {name}")
        lines.append(f"[127.0.0.1]:{port} {public}")
    _write_private(paths.known_hosts, ("\n".join(lines) + "\n").encode())


def inventory(
    paths: LabPaths,
    topo: Any,
    host_ports: dict[str, int],
    switch_ports: dict[str, int],
    web_urls: dict[str, str],
    switch_secrets: dict[str, str],
    user: str | None = None,
) -> dict[str, Any]:
    """The Ansible YAML inventory of the lab, as a mapping."""
    user = user or getpass.getuser()
    groups: dict[str, dict[str, Any]] = {"core": {}, "noncritical": {}, "ups": {}}
    for name, server in topo.servers.items():
        groups[server.group][name] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": host_ports[name],
            "lab_ip": server.ip,
            "mac_address": server.mac,
        }
    return {
        "all": {
            "vars": {
                "oa_url": web_urls["oa"],
                "sms_url": web_urls["sms"],
                "notify_url": web_urls["notify"],
                "oa_https_url": web_urls["oa_https"],
                "oa_https_port": int(web_urls["oa_https"].rsplit(":", 1)[1]),
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={paths.known_hosts} -o StrictHostKeyChecking=yes",
            },
            "children": {
                "servers": {
                    "vars": {
                        "ansible_user": user,
                        "ansible_ssh_private_key_file": str(paths.client_key),
                        "ansible_ssh_transfer_method": "piped",
                        # a wrapper in the hosts' PATH that runs only Ansible's module files
                        "ansible_python_interpreter": "lab-python",
                    },
                    "children": {group: {"hosts": hosts} for group, hosts in groups.items()},
                },
                "switches": {
                    "vars": {
                        "ansible_connection": "ansible.netcommon.network_cli",
                        "ansible_user": switch_secrets["switch_user"],
                        "ansible_password": switch_secrets["switch_password"],
                    },
                    "hosts": {
                        name: {
                            "ansible_host": "127.0.0.1",
                            "ansible_port": port,
                            # vrp → netmiko huawei, comware → hp_comware, ios → cisco_ios
                            "ansible_network_os": topo.switches[name].network_os,
                            "lab_vendor": topo.switches[name].vendor,
                            "lab_ip": topo.switches[name].mgmt_ip,
                        }
                        for name, port in switch_ports.items()
                    },
                },
            },
        }
    }


def write_inventory(path: Path, data: dict[str, Any], paths: LabPaths) -> None:
    import yaml

    from respond.lab.inventoryfile import marker_line

    header = (
        "# The respond lab's inventory, written by `respond lab up` (loopback only).\n"
        "# Regenerated on every start and removed by `respond lab down`: edit nothing here.\n"
        f"# Keys and known_hosts live in {paths.root}\n" + marker_line(paths.root)
    )
    text = header + yaml.safe_dump(
        data, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # the switch password is in it: readable by the owner only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
