"""Helpers for the lab tests: drive the lab through the real CLI, talk to it with real clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def respond_argv() -> list[str]:
    exe = Path(sys.executable).with_name("respond")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "respond"]


class Lab:
    def __init__(self, project: Path, home: Path) -> None:
        self.project = project
        self.home = home
        self.root = home / "lab"

    def cli(
        self, *args: str, check: bool = True, timeout: float = 90
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESPOND_")}
        proc = subprocess.run(
            [*respond_argv(), "--project", str(self.project), "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"respond {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def status(self) -> dict[str, Any]:
        return json.loads(self.cli("lab", "status", "--json").stdout)

    @property
    def runtime(self) -> dict[str, Any]:
        return json.loads((self.root / "lab.json").read_text())

    def port(self, name: str) -> int:
        rt = self.runtime
        return {**rt["hosts"], **rt["switches"], **rt["web"]}[name]

    def ssh(self, host: str) -> Any:
        import paramiko

        client = paramiko.SSHClient()
        client.load_host_keys(str(self.root / "known_hosts"))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            "127.0.0.1",
            port=self.port(host),
            username=self.runtime["user"],
            key_filename=str(self.root / "id_ed25519"),
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
            banner_timeout=10,
            auth_timeout=10,
        )
        return client

    def run(self, host: str, command: str) -> tuple[int, str, str]:
        client = self.ssh(host)
        try:
            return run_on(client, command)
        finally:
            client.close()


def run_on(client: Any, command: str, timeout: float = 20) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read().decode()
    err = stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
