"""The netmiko step kind against fake-switches Cisco IOS devices on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from clikit import DEADLINE, PROMPTLY
from switches import FakeSwitch, Interface, generate_rsa_host_key, start_switch, write_known_hosts

from respond.executors.base import RunContext
from respond.executors.netmiko import (
    CLI_ERROR,
    DEVICE_TYPES,
    NetmikoExecutor,
    _error_line,
    device_type_for,
    unsafe_line,
)
from respond.kinds.netmiko import DeviceSession
from respond.results import StepStatus


def _host(sw: FakeSwitch, **overrides: Any) -> SimpleNamespace:
    """A stand-in for respond.inventory.Host (the attributes the executor reads)."""
    vars_ = sw.inventory_vars()
    vars_.update(overrides.pop("vars", {}))
    fields = {
        "name": sw.name,
        "address": sw.host,
        "port": sw.port,
        "user": sw.username,
        "password": sw.password,
        "key_file": None,
        "network_os": vars_["ansible_network_os"],
        "vars": vars_,
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


def _step(textfsm: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id="s1", kind="netmiko", textfsm=textfsm, timeout=None)


def _rendered(*commands: str, config: tuple[str, ...] = (), save: bool = False) -> DeviceSession:
    """As the netmiko kind renders a step: show commands, then configuration lines."""
    return DeviceSession(commands=commands, config=config, save=save)


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "known_hosts"


@pytest.fixture
def switch_factory(known_hosts: Path) -> Iterator[Callable[..., FakeSwitch]]:
    """Start switches on free loopback ports; their key goes to known_hosts unless trust=False."""
    started: list[FakeSwitch] = []

    def make(name: str = "core1", *, trust: bool = True, **kwargs: Any) -> FakeSwitch:
        sw = start_switch(name, **kwargs)
        started.append(sw)
        if trust:
            write_known_hosts(known_hosts, [sw], append=True)
        return sw

    yield make
    for sw in started:
        sw.stop()


@pytest.fixture
def executor(tmp_path: Path, known_hosts: Path) -> Iterator[NetmikoExecutor]:
    ctx = RunContext(
        run_id="r1",
        project_root=tmp_path,
        playbooks_dir=tmp_path / "playbooks",
        home=tmp_path / "home",
        known_hosts=(known_hosts,),
    )
    ex = NetmikoExecutor(ctx)
    yield ex
    ex.close()


def test_unmodified_fake_switch_show_and_config(switch_factory, executor) -> None:
    sw = switch_factory("plain1", extended=False)
    host = _host(sw)

    res = executor.run(_step(textfsm=True), host, _rendered("show version", "show vlan"), DEADLINE)
    assert res.status is StepStatus.OK, res.error
    version, vlan = res.commands
    assert "plain1 uptime is" in version.stdout
    assert version.exit_code == 0
    assert version.parsed and version.parsed[0]["hostname"] == "plain1"
    assert [v["vlan_id"] for v in vlan.parsed] == ["1"]

    # packaged fake-switches has no `end`: leave config mode with `exit` explicitly
    cfg = _rendered(config=("vlan 42", "name lab-test", "exit", "exit"))
    res = executor.run(_step(), host, cfg, DEADLINE)
    assert res.status is StepStatus.OK, res.error
    assert res.changed

    res = executor.run(_step(textfsm=True), host, _rendered("show vlan"), DEADLINE)
    vlans = {v["vlan_id"]: v["vlan_name"] for v in res.commands[0].parsed}
    assert vlans == {"1": "default", "42": "lab-test"}
    assert sw.vlans()[42] == "lab-test"


def test_extended_switch_interfaces_parsed_and_config_change_visible(
    switch_factory, executor
) -> None:
    sw = switch_factory(
        "dist1",
        interfaces=[
            Interface("GigabitEthernet0/1", description="uplink-core1"),
            "GigabitEthernet0/2",
            Interface("GigabitEthernet0/3", vlan=20),
        ],
    )
    host = _host(sw)
    sw.set_link("GigabitEthernet0/2", up=False)
    show = _rendered("show interfaces status", "show ip interface brief")

    res = executor.run(_step(textfsm=True), host, show, DEADLINE)
    assert res.status is StepStatus.OK, res.error
    status = {r["port"]: r for r in res.commands[0].parsed}
    assert status["Gi0/1"]["status"] == "connected"
    assert status["Gi0/1"]["name"] == "uplink-core1"
    assert status["Gi0/2"]["status"] == "notconnect"
    assert status["Gi0/3"]["vlan_id"] == "20"
    brief = {r["interface"]: r for r in res.commands[1].parsed}
    assert brief["GigabitEthernet0/2"]["proto"] == "down"

    cfg = _rendered(config=("interface GigabitEthernet0/3", "shutdown"), save=True)
    res = executor.run(_step(), host, cfg, DEADLINE)
    assert res.status is StepStatus.OK, res.error
    assert "Building configuration" in res.commands[-1].stdout  # saved (write mem)

    res = executor.run(_step(textfsm=True), host, show, DEADLINE)
    status = {r["port"]: r["status"] for r in res.commands[0].parsed}
    assert status == {"Gi0/1": "connected", "Gi0/2": "notconnect", "Gi0/3": "disabled"}
    brief = {r["interface"]: r["status"] for r in res.commands[1].parsed}
    assert brief["GigabitEthernet0/3"] == "administratively down"
    # one SSH session served all three steps
    assert sw.configuration is not None
    assert executor._connections and len(executor._connections) == 1


def test_connection_is_reused_across_steps_and_closed(switch_factory, executor) -> None:
    sw = switch_factory("acc1")
    core_logins = _login_counter(sw)
    for _ in range(3):
        res = executor.run(_step(), _host(sw), _rendered("show version"), DEADLINE)
        assert res.status is StepStatus.OK, res.error
    assert core_logins() == 1
    executor.close()
    res = executor.run(_step(), _host(sw), _rendered("show version"), DEADLINE)
    assert res.status is StepStatus.OK
    assert core_logins() == 2


class _SlowToClose:
    """A connection whose disconnect returns only once every other one is disconnecting too."""

    def __init__(self, everyone: threading.Barrier, closed: list[int]) -> None:
        self.everyone, self.closed = everyone, closed

    def disconnect(self) -> None:
        self.everyone.wait()  # BrokenBarrierError (swallowed by close) if closed one by one
        self.closed.append(1)


def test_close_disconnects_every_device_at_once(executor) -> None:
    # netmiko's disconnect waits about half a second on each device: ten switches closed one
    # after another held the end of every run for five seconds.
    n = 10
    everyone = threading.Barrier(n, timeout=PROMPTLY)
    closed: list[int] = []
    executor._connections = {f"sw{i}": _SlowToClose(everyone, closed) for i in range(n)}
    executor._configured = set(executor._connections)  # the graceful logout, all at once
    executor.close()
    assert not everyone.broken and len(closed) == n
    assert executor._connections == {}


class _Session:
    """Records how it was closed: netmiko's disconnect runs cleanup (the logout) first."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def cleanup(self, command: str = "") -> None:
        self.calls.append("logout")

    def disconnect(self) -> None:
        self.cleanup()
        self.calls.append("closed")


def test_a_session_that_only_read_is_closed_without_the_logout(executor) -> None:
    # netmiko's logout first waits for quiet output to see whether config mode must be left
    # (2 s on Huawei VRP): only a session that was sent configuration can be in it
    reader, writer = _Session(), _Session()
    executor._connections = {"reader": reader, "writer": writer}
    executor._configured = {"writer"}
    executor.close()
    assert (reader.calls, writer.calls) == (["closed"], ["logout", "closed"])
    assert executor._configured == set()


def test_unknown_host_key_is_refused(switch_factory, executor) -> None:
    sw = switch_factory("rogue1", trust=False)
    res = executor.run(_step(), _host(sw), _rendered("show version"), DEADLINE)
    assert res.status is StepStatus.FAILED
    assert "host key unknown" in res.error
    assert _login_counter(sw)() == 0  # no shell was ever opened


def test_changed_host_key_is_refused(switch_factory, executor, known_hosts: Path) -> None:
    sw = switch_factory("core9", trust=False)
    other_public, _ = generate_rsa_host_key()
    known_hosts.write_text(sw.known_hosts_line(other_public) + "\n")
    res = executor.run(_step(), _host(sw), _rendered("show version"), DEADLINE)
    assert res.status is StepStatus.FAILED
    assert "host key CHANGED" in res.error
    assert _login_counter(sw)() == 0


def test_wrong_password_is_refused_and_not_echoed(switch_factory, executor) -> None:
    sw = switch_factory("core2")
    res = executor.run(
        _step(), _host(sw, password="Wr0ng-Secret-1"), _rendered("show version"), DEADLINE
    )
    assert res.status is StepStatus.FAILED
    assert "authentication refused" in res.error
    assert "Wr0ng-Secret-1" not in res.error + res.output
    assert res.not_started  # nothing reached the device: safe to retry


def test_closed_port_is_refused_quickly(executor, switch_factory) -> None:
    sw = switch_factory("gone1")
    sw.stop()  # nothing listens there any more
    t0 = time.monotonic()
    res = executor.run(_step(), _host(sw), _rendered("show version"), 600)
    assert res.status is StepStatus.FAILED
    assert "connection refused" in res.error
    assert res.not_started
    assert time.monotonic() - t0 < PROMPTLY  # refused at once, not at the deadline


@pytest.mark.parametrize(
    "line",
    ["show version\nreload", "show version\rreload", "show clock\x1bx", "vlan 5\u2028reload"],
)
def test_line_breaks_and_control_characters_are_rejected(switch_factory, executor, line) -> None:
    sw = switch_factory("core3")
    res = executor.run(_step(), _host(sw), _rendered(line), DEADLINE)
    assert res.status is StepStatus.FAILED
    assert "refused to send" in res.error
    res = executor.run(_step(), _host(sw), _rendered(config=("vlan 7", line)), DEADLINE)
    assert res.status is StepStatus.FAILED
    assert _login_counter(sw)() == 0  # nothing reached the device
    assert 7 not in sw.vlans()


def test_command_past_timeout_is_timed_out_and_session_renewed(switch_factory, executor) -> None:
    sw = switch_factory("core4")
    host = _host(sw)
    # logged in first, so that the timeout below falls on the command, not on the login
    assert executor.run(_step(), host, _rendered("show version"), DEADLINE).status is StepStatus.OK
    assert _login_counter(sw)() == 1
    # `copy` asks "Destination filename [...]?" and waits: no prompt comes back
    t0 = time.monotonic()
    res = executor.run(_step(), host, _rendered("copy tftp://127.0.0.1/x flash:x"), 3)
    assert res.status is StepStatus.TIMED_OUT, res.error
    assert time.monotonic() - t0 < PROMPTLY  # the 3 s timeout, not for ever
    res = executor.run(_step(), host, _rendered("show version"), DEADLINE)
    assert res.status is StepStatus.OK, res.error
    assert _login_counter(sw)() == 2  # the timed-out session was dropped, a new one opened


def test_device_rejection_fails_the_host(switch_factory, executor) -> None:
    sw = switch_factory("core5")
    res = executor.run(
        _step(), _host(sw), _rendered("show running-config interface Gi0/9"), DEADLINE
    )
    assert res.status is StepStatus.FAILED
    # the device's whole line, not only the start the error pattern matches
    assert res.error.endswith("% Invalid input detected at '^' marker."), res.error
    assert res.commands[0].exit_code == 1


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("\n         ^\n % Unrecognized command found at '^' position.\n",
         "% Unrecognized command found at '^' position."),
        ("\nError: Wrong parameter found at '^' position.", "Error: Wrong parameter found at '^' position."),
        ("show foo\n% Invalid input detected at '^' marker.\n\nsw1#", "% Invalid input detected at '^' marker."),
    ],
)  # fmt: skip
def test_a_rejection_is_reported_by_the_devices_whole_line(raw: str, line: str) -> None:
    match = CLI_ERROR.search(raw)
    assert match is not None
    assert _error_line(raw, match) == line


def test_secrets_are_masked_in_output(switch_factory, executor) -> None:
    sw = switch_factory("core6")
    host = _host(sw)
    cfg = _rendered(config=("interface GigabitEthernet0/1", f"description key-{sw.password}"))
    res = executor.run(_step(), host, cfg, DEADLINE)
    assert res.status is StepStatus.OK, res.error
    res = executor.run(_step(), host, _rendered("show running-config interface Gi0/1"), DEADLINE)
    assert "description key-***" in res.output
    assert sw.password not in res.output + "".join(c.stdout for c in res.commands)


def test_textfsm_without_template_keeps_raw_output(switch_factory, executor) -> None:
    sw = switch_factory("core7")
    # ntc-templates has no template for `show running-config vlan` on cisco_ios
    command = "show running-config vlan 1"
    res = executor.run(_step(textfsm=True), _host(sw), _rendered(command), DEADLINE)
    assert res.status is StepStatus.OK, res.error  # not parsing is not a failure
    (cmd,) = res.commands
    assert cmd.exit_code == 0
    assert cmd.parsed is None
    assert cmd.stderr.startswith("textfsm: output not parsed"), cmd.stderr
    assert "Current configuration:" in cmd.stdout and "\nvlan 1\n" in cmd.stdout  # kept as is
    assert res.output == cmd.stdout


def test_real_inventory_host_with_env_lookup_credentials(
    switch_factory, executor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor with respond's own inventory loader: passwords are env references."""
    from respond.inventory import load_inventory

    sw = switch_factory("inv1")
    monkeypatch.setenv("SW_PASS", sw.password)
    monkeypatch.setenv("SW_ENABLE", sw.enable_password)
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(
        "all:\n"
        "  children:\n"
        "    switches:\n"
        "      hosts:\n"
        f"        inv1: {{ansible_host: 127.0.0.1, ansible_port: {sw.port}}}\n"
        "      vars:\n"
        f"        ansible_user: {sw.username}\n"
        "        ansible_password: \"{{ lookup('env', 'SW_PASS') }}\"\n"
        "        ansible_become_password: \"{{ lookup('env', 'SW_ENABLE') }}\"\n"
        "        ansible_network_os: cisco.ios.ios\n"
    )
    host = load_inventory(inventory).hosts["inv1"]
    res = executor.run(_step(), host, _rendered("show running-config interface Gi0/1"), DEADLINE)
    assert res.status is StepStatus.OK, res.error  # `show running-config` needs enable
    assert "interface GigabitEthernet0/1" in res.output


# --- no network needed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_os", "expected"),
    [
        ("ios", "cisco_ios"),
        ("cisco.ios.ios", "cisco_ios"),
        ("cisco.nxos.nxos", "cisco_nxos"),
        ("arista.eos.eos", "arista_eos"),
        ("junipernetworks.junos.junos", "juniper_junos"),
        ("cisco.iosxr.iosxr", "cisco_xr"),
        ("vrp", "huawei"),
        ("huawei", "huawei"),
        ("community.network.ce", "huawei_vrpv8"),
        ("h3c", "hp_comware"),
        ("hp_comware", "hp_comware"),
        ("comware", "hp_comware"),
        ("cisco_ios", "cisco_ios"),
    ],
)
def test_network_os_maps_to_device_type(network_os: str, expected: str) -> None:
    host = SimpleNamespace(name="h", network_os=network_os, vars={})
    assert device_type_for(host) == expected


def test_netmiko_device_type_var_wins_and_unknown_lists_known() -> None:
    host = SimpleNamespace(name="h", network_os="vyos", vars={"netmiko_device_type": "vyos"})
    assert device_type_for(host) == "vyos"
    with pytest.raises(ValueError, match=r"known: .*comware.*ios") as info:
        device_type_for(SimpleNamespace(name="h", network_os="fortios", vars={}))
    assert "netmiko_device_type" in str(info.value)
    assert set(DEVICE_TYPES) >= {"ios", "nxos", "eos", "junos", "vrp", "comware"}


def test_unknown_network_os_is_a_failed_result(executor) -> None:
    host = SimpleNamespace(
        name="h",
        address="127.0.0.1",
        port=1,
        user="u",
        password="p",
        key_file=None,
        network_os="fortios",
        vars={},
    )
    res = executor.run(_step(), host, _rendered("show version"), 5)
    assert res.status is StepStatus.FAILED
    assert "fortios" in res.error and "known:" in res.error


def test_unsafe_line() -> None:
    assert unsafe_line("show interfaces status") is None
    assert unsafe_line("description 机房 UPS") is None
    assert unsafe_line("a\tb") is not None
    assert unsafe_line("a\x00b") is not None


def _login_counter(sw: FakeSwitch) -> Callable[[], int]:
    """Shell sessions the switch has opened (fake-switches counts them per core)."""
    core = sw._listener.factory.portal.realm.switch_core
    return lambda: core.last_connection_id


def test_netmiko_debug_log_masks_run_secrets(switch_factory, tmp_path, known_hosts) -> None:
    """netmiko's debug log records everything it reads. netmiko masks the login password
    and enable secret itself; a secret of the run (a secret param) in device output must
    be masked there too."""
    import logging

    secret = "S3cr3t-Param-42"
    ctx = RunContext(
        run_id="r2",
        project_root=tmp_path,
        playbooks_dir=tmp_path,
        home=tmp_path / "home",
        known_hosts=(known_hosts,),
        secrets=(secret,),
    )
    executor = NetmikoExecutor(ctx)
    sw = switch_factory("core8")
    host = _host(sw)
    cfg = _rendered(config=("interface GigabitEthernet0/2", f"description key-{secret}"))
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("netmiko")
    handler = Collect(logging.DEBUG)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        assert executor.run(_step(), host, cfg, DEADLINE).status is StepStatus.OK
        res = executor.run(_step(), host, _rendered("show running-config"), DEADLINE)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        executor.close()
    assert res.status is StepStatus.OK, res.error
    assert "description key-***" in res.output
    assert any("read_channel" in r and "key-***" in r for r in records)  # the log was on
    assert not any(secret in r for r in records)


def test_importing_the_executors_does_not_import_their_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys, respond.executors.netmiko, respond.executors.ansible; "
        "print(sorted(m for m in ('netmiko', 'paramiko', 'ansible_runner', 'twisted') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_parse_textfsm_chooses_the_template_by_network_os_and_command(
    switch_factory, executor
) -> None:
    from respond.engine.parsing import parse_result

    sw = switch_factory("acc1", interfaces=[Interface("GigabitEthernet0/1", description="up1")])
    host = _host(sw)
    show = _rendered("show interfaces status", "show version")
    res = executor.run(_step(), host, show, DEADLINE)
    assert res.status is StepStatus.OK, res.error
    status, version = parse_result("textfsm", res, network_os=host.vars["ansible_network_os"])
    assert [(r["port"], r["name"]) for r in status] == [("Gi0/1", "up1")]
    assert version and "version" in version[0]


def test_a_netmiko_step_parses_by_the_hosts_network_os_in_a_run(
    switch_factory, known_hosts: Path, tmp_path: Path
) -> None:
    import json

    from clikit import Cli

    sw = switch_factory("edge1", interfaces=[Interface("GigabitEthernet0/1", description="wan")])
    sw.set_link("GigabitEthernet0/1", up=False)
    root = tmp_path / "project"
    (root / "runbooks").mkdir(parents=True)
    inventory = {"all": {"hosts": {sw.name: sw.inventory_vars()}}}
    (root / "hosts.yaml").write_text(json.dumps(inventory), encoding="utf-8")
    (root / "respond.yaml").write_text(
        f"default_inventory: hosts.yaml\nknown_hosts: {known_hosts}\n", encoding="utf-8"
    )
    (root / "runbooks" / "ports.yaml").write_text(
        "runbook: ports\nversion: 1.0.0\ntitle: ports\nscenario: network\nseverity: 3\n"
        "steps:\n"
        "  - id: ports\n"
        "    kind: netmiko\n"
        "    targets: all\n"
        "    commands: [show interfaces status]\n"
        "    register: ports\n"
        "    parse: textfsm\n"
        "    expect:\n"
        "      that: [\"result.data[0].status == 'notconnect'\"]\n"
        "  - id: down\n"
        "    kind: notify\n"
        "    message: \"{{ ports.data | map(attribute='name') | join(',') }} down\"\n",
        encoding="utf-8",
    )
    cli = Cli().bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})
    out = cli("run", "ports")
    assert out.rc == 0, out
    assert "wan down" in out.stderr, out
