"""The lab's background process: ``python -m respond.lab.daemon --home DIR ...``.

Started detached by ``respond lab up``. It resets the lab state, makes sure the keys exist,
binds every server on 127.0.0.1 (ports reused from the last run when free), writes the
known_hosts and the inventory, then writes ``lab.json`` with the caller's token: that file is
the readiness signal. The SSH hosts, the switches (paramiko servers speaking each vendor's
CLI), the web services and a monitor (which opens and closes ports as hosts and switches go
down and come back) run in threads; the main thread waits for SIGTERM. The command log starts empty with each start. SIGTERM stops
everything, kills the commands still running on the hosts and removes the pid and runtime
files.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.lab import backups, files, model
from respond.lab import topology as topo_mod
from respond.lab.paths import LabPaths
from respond.lab.state import StateFile, new_state

if TYPE_CHECKING:
    from respond.lab.commandlog import CommandLog
    from respond.lab.netdev.server import SwitchServer
    from respond.lab.sshhost import SSHHosts
    from respond.lab.web import WebServices

log = logging.getLogger("respond.lab")

MONITOR_INTERVAL = 0.2
OA_HTTPS = "oa-https"  # the port name of OA's HTTPS service


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="respond.lab.daemon")
    parser.add_argument("--home", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--switches", type=int, default=topo_mod.MIN_SWITCHES)
    parser.add_argument("--port-base", type=int, default=None)
    parser.add_argument("--token", required=True)
    return parser.parse_args(argv)


def _order(topo: topo_mod.Topology) -> list[str]:
    return [*topo.servers, *topo.switches, *topo_mod.WEB, OA_HTTPS]


def _preferred_ports(
    paths: LabPaths, names: list[str], port_base: int | None
) -> dict[str, int | None]:
    if port_base:
        return {name: port_base + i for i, name in enumerate(names)}
    previous: dict[str, Any] = {}
    try:
        previous = json.loads(paths.ports.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    return {
        name: previous.get(name) if isinstance(previous.get(name), int) else None for name in names
    }


class Monitor(threading.Thread):
    """Applies the lab state to the listening ports: down hosts and switches refuse connections."""

    def __init__(
        self,
        state_file: StateFile,
        topo: topo_mod.Topology,
        ssh: Any,
        switches: dict[str, SwitchServer],
    ) -> None:
        super().__init__(name="lab-monitor", daemon=True)
        self.state_file = state_file
        self.topo = topo
        self.ssh = ssh
        self.switches = switches
        self.stopping = threading.Event()
        self.paths: LabPaths | None = None  # set: backup times follow a backup-stale that ends
        self.stale: set[str] = set()

    def run(self) -> None:
        while not self.stopping.wait(MONITOR_INTERVAL):
            try:
                state = self.state_file.snapshot()
            except Exception as exc:
                log.warning("monitor: cannot read state: %s", exc)
                continue
            now = time.time()
            for name in self.topo.servers:
                self.ssh.set_available(name, model.host_reachable(state, self.topo, name, now))
            for name, server in self.switches.items():
                server.set_available(model.switch_reachable(state, self.topo, name, now))
            self._backup_times(state, now)

    def _backup_times(self, state: dict[str, Any], now: float) -> None:
        """A backup-stale fault injected ``--for`` a while ends without anyone healing it."""
        if self.paths is None:
            return
        stale = backups.stale_hosts(state, self.topo, now)
        if stale != self.stale:
            backups.apply(self.paths, state, self.topo, stale ^ self.stale, now)
            self.stale = stale


def run(args: argparse.Namespace) -> int:
    import paramiko

    from respond.lab.commandlog import CommandLog
    from respond.lab.sshhost import SSHHosts
    from respond.lab.web import WebServices

    paths = LabPaths.for_home(args.home)
    paths.root.mkdir(parents=True, exist_ok=True)
    topo = topo_mod.build(args.hosts, args.switches)
    user = getpass.getuser()
    strict = bool(args.port_base)

    state_file = StateFile(paths.state)
    state = new_state(topo.noncritical, switches=len(topo.switches))
    state_file.replace(state)
    backups.write_all(paths, state, topo, time.time())
    files.write_bin(paths)
    client_public = files.ensure_ed25519(paths.client_key, f"respond-lab-client@{user}")
    authorized = paramiko.PKey.from_type_string(*_split_key(client_public))
    switch_secrets = files.secrets_for(paths)

    names = _order(topo)
    preferred = _preferred_ports(paths, names, args.port_base)
    known: list[tuple[str, int, str]] = []

    commands = CommandLog(paths.commands, secrets=[switch_secrets["switch_password"]])
    ssh = SSHHosts(
        user=user,
        authorized_key=authorized,
        env=files.session_env(paths, user),
        paths=paths,
        commands=commands,
    )
    host_ports = _add_hosts(ssh, topo, paths, preferred, strict, known)
    switches = _add_switches(
        topo, state_file, paths, switch_secrets, commands, preferred, strict, known
    )
    switch_ports = {name: server.port for name, server in switches.items()}

    web = WebServices(state_file, topo)
    web_ports = {kind: web.add(kind, preferred[kind], strict) for kind in topo_mod.WEB}
    web_ports[OA_HTTPS] = web.add_https("oa", preferred[OA_HTTPS], strict, paths.root)
    web_urls = _web_urls(web_ports)

    ports = {**host_ports, **switch_ports, **web_ports}
    paths.ports.write_text(json.dumps(ports, indent=1), encoding="utf-8")
    files.write_known_hosts(paths, known)
    inventory_path = Path(args.inventory)
    files.write_inventory(
        inventory_path,
        files.inventory(paths, topo, host_ports, switch_ports, web_urls, switch_secrets, user),
        paths,
    )

    ssh.start()
    for server in switches.values():
        server.start()
    web.start()
    monitor = Monitor(state_file, topo, ssh, switches)
    monitor.paths = paths
    monitor.start()

    _write_runtime(
        paths,
        _runtime(args, paths, topo, user, switch_secrets, host_ports, switch_ports, web_ports),
    )
    log.info(
        "lab ready: %d hosts, %d switches, web %s", len(host_ports), len(switch_ports), web_urls
    )

    try:
        _wait_for_signal()
    finally:
        _stop(paths, monitor, switches, ssh, web, commands)
    return 0


def _web_urls(web_ports: dict[str, int]) -> dict[str, str]:
    return {
        "oa": f"http://127.0.0.1:{web_ports['oa']}",
        "sms": f"http://127.0.0.1:{web_ports['sms']}",
        "notify": f"http://127.0.0.1:{web_ports['sink']}/notify",
        "oa_https": f"https://127.0.0.1:{web_ports[OA_HTTPS]}",
    }


def _runtime(
    args: argparse.Namespace,
    paths: LabPaths,
    topo: topo_mod.Topology,
    user: str,
    switch_secrets: dict[str, str],
    host_ports: dict[str, int],
    switch_ports: dict[str, int],
    web_ports: dict[str, int],
) -> dict[str, Any]:
    """What ``lab.json`` tells the callers: the pid, the ports, the files and the users."""
    return {
        "pid": os.getpid(),
        "token": args.token,
        "started_at": time.time(),
        "noncritical": topo.noncritical,
        "hosts": host_ports,
        "switches": switch_ports,
        "switch_info": {
            name: {
                "vendor": spec.vendor,
                "dialect": spec.dialect,
                "network_os": spec.network_os,
            }
            for name, spec in topo.switches.items()
        },
        "web": web_ports,
        "urls": _web_urls(web_ports),
        "inventory": str(Path(args.inventory)),
        "known_hosts": str(paths.known_hosts),
        "client_key": str(paths.client_key),
        "user": user,
        "switch_user": switch_secrets["switch_user"],
        "state": str(paths.state),
        "log": str(paths.log),
        "bin": str(paths.bin),
    }


def _stop(
    paths: LabPaths,
    monitor: Monitor,
    switches: dict[str, SwitchServer],
    ssh: SSHHosts,
    web: WebServices,
    commands: CommandLog,
) -> None:
    """Stop the monitor and every server, close the command log, remove the run files."""
    log.info("stopping")
    monitor.stopping.set()
    monitor.join(timeout=2)
    for server in switches.values():
        server.stop()
    ssh.stop()
    web.stop()
    commands.close()
    _remove_run_files(paths)
    log.info("stopped")


def _add_hosts(
    ssh: SSHHosts,
    topo: topo_mod.Topology,
    paths: LabPaths,
    preferred: dict[str, int | None],
    strict: bool,
    known: list[tuple[str, int, str]],
) -> dict[str, int]:
    """Each server as an SSH host with its own Ed25519 host key; its port, by name."""
    import paramiko

    ports: dict[str, int] = {}
    for name in topo.servers:
        key_path = paths.keys / f"{name}_ed25519"
        public = files.ensure_ed25519(key_path, f"root@{name}")
        host_key = paramiko.Ed25519Key.from_private_key_file(str(key_path))
        ports[name] = ssh.add(name, preferred[name], host_key, paths.scratch / name, strict)
        known.append((name, ports[name], public))
    return ports


def _add_switches(
    topo: topo_mod.Topology,
    state_file: StateFile,
    paths: LabPaths,
    switch_secrets: dict[str, str],
    commands: CommandLog,
    preferred: dict[str, int | None],
    strict: bool,
    known: list[tuple[str, int, str]],
) -> dict[str, SwitchServer]:
    """Each switch listening for SSH with its RSA host key and its vendor's CLI, by name."""
    import paramiko

    from respond.lab.netdev.device import Device
    from respond.lab.netdev.server import SwitchServer

    user, password = switch_secrets["switch_user"], switch_secrets["switch_password"]
    switches: dict[str, SwitchServer] = {}
    for name in topo.switches:
        key_path = paths.keys / f"{name}_rsa"
        public = files.ensure_rsa(key_path)
        host_key = paramiko.RSAKey.from_private_key_file(str(key_path))
        device = Device(name, topo, state_file, password)
        server = SwitchServer(device, host_key, user, password, commands)
        port = server.listen(preferred[name], strict)
        switches[name] = server
        known.append((name, port, public))
    return switches


def _wait_for_signal() -> None:
    """Block the main thread until SIGTERM or SIGINT."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop.wait(1.0):
        pass


def _write_runtime(paths: LabPaths, runtime: dict[str, Any]) -> None:
    """The pid file, then ``lab.json`` (atomically): the caller waits for the latter."""
    paths.pid.write_text(f"{os.getpid()}\n", encoding="ascii")
    tmp = paths.runtime.with_name(".lab.json.tmp")
    tmp.write_text(json.dumps(runtime, indent=1), encoding="utf-8")
    os.replace(tmp, paths.runtime)


def _remove_run_files(paths: LabPaths) -> None:
    """``lab.json`` and the pid file, unless a newer daemon already wrote its own pid."""
    for path in (paths.runtime, paths.pid):
        try:
            if path == paths.pid and path.read_text().strip() != str(os.getpid()):
                continue
            path.unlink()
        except OSError:
            pass


def _split_key(line: str) -> tuple[str, bytes]:
    import base64

    kind, data = line.split()[:2]
    return kind, base64.b64decode(data)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    paths = LabPaths.for_home(args.home)
    paths.root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=str(paths.log),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # paramiko logs every probe or aborted handshake as an ERROR with a traceback
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    log.info(
        "starting (pid %d, %d non-critical hosts, %d switches)",
        os.getpid(),
        args.hosts,
        args.switches,
    )
    try:
        return run(args)
    except Exception:
        log.exception("the lab failed to start")
        return 1


if __name__ == "__main__":
    sys.exit(main())
