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


def write_bin(paths: LabPaths, python: str | None = None) -> None:
    """The tool wrappers every lab host's PATH starts with."""
    python = python or sys.executable
    tools_py = Path(__file__).with_name("toolrun.py").resolve()
    paths.bin.mkdir(parents=True, exist_ok=True)
    header = f'#!/bin/sh\n: "${{RESPOND_LAB_STATE:={paths.state}}}"\nexport RESPOND_LAB_STATE\n'
    scripts = {tool: f'{header}exec "{python}" -I -S "{tools_py}" {tool} "$@"\n' for tool in TOOLS}
    scripts["hostname"] = (
        '#!/bin/sh\nif [ -n "$LAB_HOST" ]; then echo "$LAB_HOST"; else uname -n; fi\n'
    )
    scripts["sudo"] = _SUDO
    for name, text in scripts.items():
        target = paths.bin / name
        tmp = target.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, target)


_SUDO = """#!/bin/sh
# The lab's sudo: everyone may do anything; options are accepted and the command is run.
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-p|-C|-r|-t|-U|-D|-T) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && exit 0
exec "$@"
"""


def session_env(paths: LabPaths, user: str | None = None) -> dict[str, str]:
    """The clean environment of every command run on a lab host (LAB_HOST, HOME added per host)."""
    user = user or getpass.getuser()
    return {
        "PATH": f"{paths.bin}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
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
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={paths.known_hosts} -o StrictHostKeyChecking=yes",
            },
            "children": {
                "servers": {
                    "vars": {
                        "ansible_user": user,
                        "ansible_ssh_private_key_file": str(paths.client_key),
                        "ansible_ssh_transfer_method": "piped",
                        "ansible_python_interpreter": sys.executable,
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

    header = (
        "# The respond lab's inventory, written by `respond lab up` (loopback only).\n"
        "# Regenerated on every start: edit nothing here. Keys and known_hosts live in\n"
        f"# {paths.root}\n"
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
