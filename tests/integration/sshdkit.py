"""Real OpenSSH servers on loopback for the integration tests and the benchmark.

``sshd_hosts(n)`` gives ``n`` running ``sshd`` instances on free 127.0.0.1 ports, each with
its own ed25519 host key and config file, accepting one client key generated for the test
session, plus a known_hosts file with their ``[127.0.0.1]:PORT`` entries and an
Ansible-format inventory that names them. They log in as ``respondtest`` (created if absent,
login shell /bin/sh, empty rc files so shell start-up costs nothing), or as the current user
when not running as root. If OpenSSH is missing the fixture installs it; if that is
impossible the tests fail with the reason — they are never skipped.

This module holds the machinery (:class:`SshdFarm`), free of pytest, so
``benchmarks/fanout.py`` can start the same servers; ``conftest.py`` wraps it in fixtures.
(A uniquely named module, not ``conftest``: several conftest modules share that name.)
"""

from __future__ import annotations

import atexit
import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

TEST_USER = "respondtest"
SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


class SshdUnavailable(RuntimeError):
    """OpenSSH's server cannot be found, installed or started here."""


def find_sshd(*, install: bool = True) -> str:
    """Path of the sshd binary; installs openssh-server with apt when missing."""
    for path in SSHD_CANDIDATES:
        if os.access(path, os.X_OK) and shutil.which("ssh-keygen"):
            return path
    if not install:
        raise SshdUnavailable("OpenSSH sshd is not installed")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SshdUnavailable(
            "OpenSSH sshd is not installed and cannot be installed from here "
            "(needs root and apt-get): install openssh-server and openssh-client"
        )
    proc = subprocess.run(
        ["apt-get", "install", "-y", "openssh-server", "openssh-client"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    for path in SSHD_CANDIDATES:
        if os.access(path, os.X_OK) and shutil.which("ssh-keygen"):
            return path
    raise SshdUnavailable(
        f"installing openssh-server failed (apt-get exit {proc.returncode}): "
        f"{(proc.stderr or proc.stdout).strip()[-800:]}"
    )


def ensure_sudo() -> str:
    """Path of sudo (for ``become`` tests); installs it with apt when missing."""
    found = shutil.which("sudo")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SshdUnavailable("sudo is not installed and cannot be installed from here")
    proc = subprocess.run(
        ["apt-get", "install", "-y", "sudo"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    found = shutil.which("sudo")
    if not found:
        raise SshdUnavailable(
            f"installing sudo failed (apt-get exit {proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()[-800:]}"
        )
    return found


def ensure_test_user() -> str:
    """The user the servers log in as: ``respondtest`` with empty shell rc files when we
    are root (created if absent), else the current user."""
    if os.geteuid() != 0:
        return getpass.getuser()
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        made = subprocess.run(
            ["useradd", "-m", "-s", "/bin/sh", TEST_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0 and made.returncode != 9:  # 9: exists (race)
            return "root"
    # UsePAM no: sshd refuses accounts whose password field starts with "!" (locked);
    # "*" means "no password login" without locking the account.
    subprocess.run(["usermod", "-p", "*", TEST_USER], capture_output=True, check=False)
    entry = pwd.getpwnam(TEST_USER)
    home = Path(entry.pw_dir)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    for rc in (".profile", ".bashrc", ".bash_logout"):
        path = home / rc
        path.write_text("")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return TEST_USER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path, comment: str = "respond-test") -> str:
    """Make an ed25519 key pair at ``path``; returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


@dataclass
class SshdHost:
    """One running sshd."""

    name: str
    port: int
    user: str
    key: Path  # the client's private key
    known_hosts: Path  # a known_hosts file that lists every server of the farm
    host_key_line: str  # "ssh-ed25519 AAAA... comment" of this server
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)
    address: str = "127.0.0.1"

    @property
    def known_hosts_entry(self) -> str:
        kind, blob = self.host_key_line.split()[:2]
        return f"[{self.address}]:{self.port} {kind} {blob}"

    def inventory_vars(self) -> dict[str, Any]:
        return {
            "ansible_host": self.address,
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.key),
        }

    def as_host(self, **vars_: Any) -> SimpleNamespace:
        """A stand-in for ``respond.inventory.Host`` with the documented attributes."""
        return SimpleNamespace(
            name=self.name,
            address=self.address,
            port=self.port,
            user=self.user,
            key_file=str(self.key),
            password=None,
            vars={**self.inventory_vars(), **vars_},
            groups=("all",),
        )


@dataclass
class SshdGroup(Sequence[SshdHost]):
    """What ``sshd_hosts(n)`` returns: the hosts plus the files that describe them."""

    hosts: list[SshdHost]
    inventory: Path
    known_hosts: Path
    key: Path
    user: str

    def __getitem__(self, i: Any) -> Any:
        return self.hosts[i]

    def __len__(self) -> int:
        return len(self.hosts)


class SshdFarm:
    """Starts and stops real sshd processes under one private directory."""

    def __init__(self, root: Path | None = None, *, user: str | None = None) -> None:
        self.sshd = find_sshd()
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="respond-sshd-"))
            self._own_root = True
        else:
            root.mkdir(parents=True, exist_ok=True)
            self._own_root = False
        # The login user reads AuthorizedKeysFile itself, so the directory must be
        # traversable by it (pytest's tmp dirs are 0700 root).
        root.chmod(0o755)
        self.root = root
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        self.user = user or ensure_test_user()
        self.key = root / "client_ed25519"
        self.authorized_keys = root / "authorized_keys"
        self.authorized_keys.write_text(keygen(self.key, "respond-test-client") + "\n")
        self.authorized_keys.chmod(0o644)
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text("")
        self.hosts: list[SshdHost] = []  # the shared pool handed out by group()
        self._all: list[SshdHost] = []
        self._inventories = 0
        atexit.register(self.stop)

    def start(
        self, *, name: str | None = None, extra: Sequence[str] = (), ports: Sequence[int] = ()
    ) -> SshdHost:
        """Start one sshd (listening on ``ports`` or one free port) and wait until it
        answers with an SSH banner."""
        last_error = ""
        for _attempt in range(3):
            port_list = list(ports) or [free_port()]
            port = port_list[0]
            label = name or f"sshd{port}"
            host_key = self.root / f"hostkey-{port}"
            if host_key.exists():
                host_key.unlink()
                host_key.with_name(host_key.name + ".pub").unlink()
            host_line = keygen(host_key, label)
            config = self.root / f"sshd-{port}.conf"
            log = self.root / f"sshd-{port}.log"
            # sshd keeps the FIRST value of a keyword: the caller's lines go first.
            lines = [
                *extra,
                "ListenAddress 127.0.0.1",
                *(f"Port {p}" for p in port_list),
                f"HostKey {host_key}",
                f"PidFile {self.root / f'sshd-{port}.pid'}",
                f"AuthorizedKeysFile {self.authorized_keys}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                "UseDNS no",
                "PrintMotd no",
                "PrintLastLog no",
                "MaxStartups 500",
                "MaxSessions 50",
                "AllowTcpForwarding yes",
                "Subsystem sftp internal-sftp",
                "LogLevel INFO",
            ]
            config.write_text("\n".join(lines) + "\n")
            with log.open("wb") as log_fh:
                proc = subprocess.Popen(
                    [self.sshd, "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log_fh,
                    stderr=subprocess.STDOUT,
                )
            host = SshdHost(
                name=label,
                port=port,
                user=self.user,
                key=self.key,
                known_hosts=self.known_hosts,
                host_key_line=host_line,
                config=config,
                log=log,
                proc=proc,
            )
            self._all.append(host)
            if all(self._wait_ready(proc, p) for p in port_list):
                with self.known_hosts.open("a") as fh:
                    for p in port_list:
                        kind, blob = host_line.split()[:2]
                        fh.write(f"[127.0.0.1]:{p} {kind} {blob}\n")
                return host
            self._stop_one(host)
            last_error = log.read_text(errors="replace").strip()[-800:]
            if ports:
                break
        raise SshdUnavailable(f"sshd did not start: {last_error or 'no output'}")

    @staticmethod
    def _wait_ready(proc: subprocess.Popen[bytes], port: int, limit: float = 60.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def group(self, n: int) -> SshdGroup:
        """The first ``n`` pooled servers (starting more as needed) and an inventory."""
        while len(self.hosts) < n:
            self.hosts.append(self.start(name=f"host{len(self.hosts) + 1:03d}"))
        hosts = self.hosts[:n]
        self._inventories += 1
        inventory = self.root / f"inventory-{self._inventories}.yaml"
        write_inventory(inventory, hosts, self.known_hosts)
        return SshdGroup(hosts, inventory, self.known_hosts, self.key, self.user)

    def _stop_one(self, host: SshdHost) -> None:
        if host.proc.poll() is None:
            host.proc.terminate()
            try:
                host.proc.wait(5)
            except subprocess.TimeoutExpired:
                host.proc.kill()
                host.proc.wait(5)

    def stop(self) -> None:
        for host in self._all:
            self._stop_one(host)
        self._all.clear()
        self.hosts.clear()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


def write_inventory(path: Path, hosts: Sequence[SshdHost], known_hosts: Path) -> Path:
    """An Ansible YAML inventory for ``hosts``; host keys are checked by ssh and by respond
    through the same known_hosts file."""
    import yaml

    data = {
        "all": {
            "hosts": {h.name: h.inventory_vars() for h in hosts},
            "vars": {
                "ansible_ssh_common_args": (
                    f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
                ),
                "ansible_python_interpreter": "/usr/bin/python3",
            },
        }
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def make_step(commands: Sequence[str] = (), **fields: Any) -> SimpleNamespace:
    """A stand-in for ``respond.runbook.Step`` with the documented attributes."""
    base: dict[str, Any] = {
        "id": "step",
        "name": "step",
        "kind": "ssh",
        "commands": tuple(commands),
        "command": None,
        "become": False,
        "timeout": 10.0,
        "no_log": False,
        "expect": None,
    }
    base.update(fields)
    return SimpleNamespace(**base)
