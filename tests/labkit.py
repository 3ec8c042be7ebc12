"""The one harness for tests that use the embedded lab.

A :class:`Lab` is a project directory and a RESPOND_HOME; the lab itself is started, changed
and stopped through the real `respond` command (see clikit.py), exactly as a user does, and
the tests talk to its hosts, switches and web services with real clients on loopback.

- ``start_lab(project, home, hosts=None, switches=None)``: `respond lab up` for that project
  and home.
- ``netmiko_switch(lab, name)``: netmiko to a lab switch with its vendor's driver.
- ``copy_project(dest)``: a private copy of the repository's runbooks, playbooks, filters,
  drills, their answers (examples/), schemas and respond.yaml (for scenario and drill tests
  that run the shipped runbooks and drills).
- ``Lab.forget()``: from now on ``messages()`` and ``status()["power_log"]`` show only what
  came later (several tests share one lab, each healed and forgotten before it starts).
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import yaml
from clikit import Cli, Result, Running, wait_until

REPO = Path(__file__).resolve().parent.parent


class Lab:
    def __init__(self, project: Path, home: Path) -> None:
        self.project = project
        self.home = home
        self.lab_dir = home / "lab"  # keys, known_hosts, lab.json of the running lab
        self._seen = {"messages": 0, "power_log": 0}  # what forget() hides
        self._cli = Cli(
            cwd=project,
            env={
                "RESPOND_HOME": str(home),
                "RESPOND_OPERATOR": "tester@lab",
                "RESPOND_DB": None,
                "RESPOND_PROJECT": None,
            },
        )

    # ------------------------------------------------------------------ the CLI

    def _argv(self, args: tuple[str, ...]) -> tuple[str, ...]:
        return ("--project", str(self.project), "--home", str(self.home), *args)

    def respond(self, *args: str, check: bool = False, timeout: float | None = None) -> Result:
        """`respond --project P --home H *args` (stdin empty)."""
        return self._cli(*self._argv(args), check=check, timeout=timeout)

    def spawn(self, *args: str) -> Running:
        """`respond --project P --home H *args` in the background."""
        return self._cli.spawn(*self._argv(args))

    def json(self, *args: str) -> Any:
        return self.respond(*args, "--json", check=True).json()

    def up(self, *extra: str) -> Result:
        return self.respond("lab", "up", *extra, check=True)

    def down(self, check: bool = False) -> Result:
        return self.respond("lab", "down", check=check)

    def inject(self, fault: str, *extra: str) -> None:
        self.respond("lab", "inject", fault, *extra, check=True)

    def heal(self, fault: str | None = None, check: bool = True) -> None:
        self.respond("lab", "heal", *([fault] if fault else []), check=check)

    def status(self) -> dict[str, Any]:
        status = self.json("lab", "status")
        if "power_log" in status:
            status["power_log"] = status["power_log"][self._seen["power_log"] :]
        return status

    def messages(self, *, incident: bool = False) -> list[dict[str, Any]]:
        """What the lab's channels received since ``forget()``: the notices of the runbook's
        own steps, or with ``incident=True`` the announcements of the run's incident
        (opened, escalated, restored...: their title names the incident, ``[respond] INC-``)."""
        received = self.json("lab", "messages")[self._seen["messages"] :]
        return [m for m in received if is_incident_notice(m) == incident]

    def forget(self) -> None:
        """Hide the messages and power log entries so far (the lab keeps them)."""
        self._seen = {"messages": 0, "power_log": 0}
        self._seen = {
            "messages": len(self.json("lab", "messages")),
            "power_log": len(self.status()["power_log"]),
        }

    # ------------------------------------------------------------------ runs

    def run_args(self, runbook: str, answers: dict[str, Any] | None, *extra: str) -> list[str]:
        args = ["run", runbook, "--yes", "--json", "-q", *extra]
        if answers is not None:
            path = self.project / f"answers-{runbook}.yaml"
            path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
            args += ["--answers", str(path)]
        return args

    def run(
        self, runbook: str, answers: dict[str, Any] | None = None, *extra: str
    ) -> tuple[int, dict[str, Any]]:
        """`respond run RUNBOOK --yes --answers FILE --json` (unattended); (exit, result)."""
        result = self.respond(*self.run_args(runbook, answers, *extra))
        return result.rc, result.json()

    def events(self, run_id: str) -> list[dict[str, Any]]:
        data = self.json("timeline", "show", run_id)
        return data["events"] if isinstance(data, dict) else data

    def step_outputs(self, run_id: str, step_id: str) -> dict[str, str]:
        """host → stdout of that step's commands, from the record."""
        out: dict[str, str] = {}
        for e in self.events(run_id):
            if e["kind"] == "host-result" and e["step_id"] == step_id:
                cmds = e["data"].get("commands") or []
                out[e["host"]] = "\n".join(str(c.get("stdout", "")) for c in cmds) or str(
                    e["data"].get("output", "")
                )
        return out

    # ------------------------------------------------------------------ real clients

    @property
    def runtime(self) -> dict[str, Any]:
        return json.loads((self.lab_dir / "lab.json").read_text())

    def port(self, name: str) -> int:
        rt = self.runtime
        return {**rt["hosts"], **rt["switches"], **rt["web"]}[name]

    def accepts(self, name: str) -> bool:
        """Whether the lab host/switch/service ``name`` accepts TCP connections now."""
        return port_accepts(self.port(name))

    def wait_accepts(self, name: str, accepting: bool = True) -> None:
        state = "accept connections" if accepting else "refuse connections"
        port = self.port(name)
        wait_until(lambda: port_accepts(port) is accepting, f"{name} (port {port}) to {state}")

    def ssh(self, host: str) -> Any:
        import paramiko

        client = paramiko.SSHClient()
        client.load_host_keys(str(self.lab_dir / "known_hosts"))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            "127.0.0.1",
            port=self.port(host),
            username=self.runtime["user"],
            key_filename=str(self.lab_dir / "id_ed25519"),
            look_for_keys=False,
            allow_agent=False,
            timeout=60,
            banner_timeout=60,
            auth_timeout=60,
        )
        return client

    def sh(self, host: str, command: str) -> tuple[int, str, str]:
        """Run ``command`` on lab host ``host`` over SSH: (exit code, stdout, stderr)."""
        client = self.ssh(host)
        try:
            return run_on(client, command)
        finally:
            client.close()


def run_on(client: Any, command: str, timeout: float = 120) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read().decode()
    err = stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


# ansible_network_os → netmiko's driver (as respond's netmiko executor maps them)
NETMIKO_DRIVER = {"ios": "cisco_ios", "vrp": "huawei", "comware": "hp_comware"}


def netmiko_switch(lab: Lab, name: str, device_type: str | None = None) -> Any:
    """A netmiko connection to the lab switch ``name`` with the driver its inventory entry
    names (``ansible_network_os``), host key checked."""
    from netmiko import ConnectHandler

    inv = yaml.safe_load((lab.project / "inventory" / "lab.yaml").read_text())["all"]
    switches = inv["children"]["switches"]
    network_os = switches["hosts"][name]["ansible_network_os"]
    return ConnectHandler(
        device_type=device_type or NETMIKO_DRIVER[network_os],
        host="127.0.0.1",
        port=switches["hosts"][name]["ansible_port"],
        username=switches["vars"]["ansible_user"],
        password=switches["vars"]["ansible_password"],
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(lab.lab_dir / "known_hosts"),
        fast_cli=True,
        conn_timeout=60,
        auth_timeout=60,
        banner_timeout=60,
    )


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def copy_project(dest: Path) -> Path:
    """A private copy of the repository's project files (runbooks, playbooks, drills,
    inspections, the answers the drills name under examples/, schemas, respond.yaml) with
    an empty inventory directory for the lab to fill."""
    dest.mkdir(parents=True)
    for name in (
        "runbooks",
        "playbooks",
        "filters",
        "drills",
        "inspections",
        "examples",
        "schemas",
    ):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, dest / name)
    (dest / "inventory").mkdir()
    shutil.copy(REPO / "respond.yaml", dest / "respond.yaml")
    return dest


def start_lab(
    project: Path, home: Path, hosts: int | None = None, switches: int | None = None
) -> Lab:
    lab = Lab(project, home)
    extra = ["--hosts", str(hosts)] if hosts else []
    extra += ["--switches", str(switches)] if switches else []
    lab.up(*extra)
    return lab


def is_incident_notice(message: dict[str, Any]) -> bool:
    """An announcement of a run's incident (the policy's ``tell``), not a runbook's notice."""
    return str(message.get("title") or "").startswith("[respond] INC-")
