"""The lab's state model and simulated tools, without starting servers (fast)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from respond.lab import model, tools, topology
from respond.lab.state import StateFile, new_state

T0 = 1_800_000_000.0


@pytest.fixture
def topo() -> topology.Topology:
    return topology.build(3)


@pytest.fixture
def state(topo: topology.Topology) -> dict:
    return new_state(topo.noncritical, now=T0 - 100)


def test_fault_targets_are_validated_and_normalised(state: dict, topo: topology.Topology) -> None:
    assert model.normalize_target(topo, "link-down", None) == "core-sw1:GE0/0/1"
    # any name form, written in the vendor's short form
    for given in ("core-sw1:GigabitEthernet0/0/2", "core-sw1:gi0/0/2", "core-sw1:g 0/0/2"):
        assert model.normalize_target(topo, "link-down", given) == "core-sw1:GE0/0/2"
    assert model.normalize_target(topo, "link-down", "acc-sw1:ge1/0/3") == "acc-sw1:GE1/0/3"
    assert model.normalize_target(topo, "link-down", "acc-sw2:gi0/2") == "acc-sw2:Gi0/2"
    assert model.normalize_target(topo, "link-down", "acc-sw2:FastEthernet0/7") == "acc-sw2:Fa0/7"
    # a switch alone: its uplink toward the core
    assert model.normalize_target(topo, "link-down", "acc-sw1") == "acc-sw1:GE1/0/25"
    assert model.normalize_target(topo, "disk-failure", "db1") == "db1"
    for name, target in (
        ("nope", None),
        ("disk-failure", "core-sw1"),
        ("oa-down", "db1"),
        ("link-down", "x:1"),
        ("link-down", "acc-sw2:0/1"),  # Fa0/1 or Gi0/1: ambiguous
        ("link-down", "core-sw1:Gi0/1"),  # IOS numbering on a Huawei switch
    ):
        with pytest.raises(model.LabActionError):
            model.normalize_target(topo, name, target)


def test_power_loss_drains_the_battery_and_heals_lazily(
    state: dict, topo: topology.Topology
) -> None:
    assert model.ups_readings(state, topo, T0)["ups.status"] == "OL"
    model.inject(state, topo, "power-loss", None, 1700, T0)
    r = model.ups_readings(state, topo, T0 + 600)
    assert r["ups.status"] == "OB DISCHRG"
    assert int(r["battery.runtime"]) == 1200 and int(r["battery.charge"]) == 67
    assert model.ups_readings(state, topo, T0 + 1550)["ups.status"] == "OB DISCHRG LB"
    after = model.ups_readings(state, topo, T0 + 1710)
    assert after["ups.status"] == "OL CHRG" and after["input.voltage"] != "0.0"
    assert model.active_faults(state, T0 + 1710) == []


def test_shutting_down_servers_extends_the_runtime(state: dict, topo: topology.Topology) -> None:
    model.inject(state, topo, "power-loss", None, None, T0)
    before = int(model.ups_readings(state, topo, T0 + 10)["battery.runtime"])
    for host in topo.noncritical:
        model.power_off(state, topo, host, "test", T0 + 10)
    after = int(model.ups_readings(state, topo, T0 + 10)["battery.runtime"])
    assert after > before * 1.3
    assert [e["host"] for e in state["power_log"]] == topo.noncritical


def test_an_empty_battery_blacks_out_the_room_until_mains_return(
    state: dict, topo: topology.Topology
) -> None:
    model.inject(state, topo, "power-loss", None, None, T0, {"runtime": 60})
    assert model.host_powered(state, "db1", T0 + 30)
    assert not model.host_powered(state, "db1", T0 + 61)
    assert not model.switch_up(state, "core-sw1", T0 + 61)
    model.heal(state, topo, "power-loss", T0 + 70)
    assert model.host_powered(state, "db1", T0 + 71)


def test_ups_fault_raises_an_alarm(state: dict, topo: topology.Topology) -> None:
    model.inject(state, topo, "ups-fault", None, None, T0)
    r = model.ups_readings(state, topo, T0 + 1)
    assert r["ups.status"] == "ALARM OL RB" and r["ups.alarm"] == "Replace battery!"
    assert int(r["battery.runtime"]) < 300


def test_a_timed_fault_expires_without_a_timer(state: dict, topo: topology.Topology) -> None:
    model.inject(state, topo, "oa-down", None, 5, T0)
    assert model.service_state(state, topo, "oa1", "oa-web", T0 + 1)[0] == "failed"
    assert not model.oa_health(state, topo, T0 + 1)[0]
    assert model.service_state(state, topo, "oa1", "oa-web", T0 + 6)[0] == "active"
    assert model.oa_health(state, topo, T0 + 6)[0]


def test_switch_down_isolates_its_hosts(state: dict, topo: topology.Topology) -> None:
    model.inject(state, topo, "switch-down", None, None, T0)
    assert not model.host_reachable(state, topo, "app1", T0 + 1)
    assert model.host_reachable(state, topo, "db1", T0 + 1)
    assert not model.can_ping(state, topo, "db1", "app1", T0 + 1)
    assert (
        model.port_status(state, topo, "core-sw1", "GigabitEthernet0/0/4", T0 + 1) == "notconnect"
    )


def test_failover_is_recorded(state: dict, topo: topology.Topology) -> None:
    model.inject(state, topo, "link-down", None, None, T0)
    assert model.uplink(state, topo, T0 + 1) == "none"
    model.set_port_shutdown(state, topo, "core-sw1", "GigabitEthernet0/0/2", False, T0 + 2)
    assert model.uplink(state, topo, T0 + 3) == "backup"
    assert state["events"][-1]["text"] == "WAN uplink: none -> backup (failed over)"
    model.heal(state, topo, None, T0 + 4)
    assert model.port_admin_down(state, "core-sw1", "GigabitEthernet0/0/2")


@pytest.fixture
def tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: dict):
    path = tmp_path / "lab" / "state.json"
    sf = StateFile(path)
    sf.replace(state)
    monkeypatch.setenv("RESPOND_LAB_STATE", str(path))

    def call(host: str | None, name: str, *args: str) -> tuple[int, str, str]:
        if host:
            monkeypatch.setenv("LAB_HOST", host)
        else:
            monkeypatch.delenv("LAB_HOST", raising=False)
        return tools.run(name, list(args))

    call.file = sf  # type: ignore[attr-defined]
    return call


def test_tools_answer_from_the_state(tool) -> None:
    assert tool("ups1", "upsc", "ups@localhost", "ups.status")[:2] == (0, "OL\n")
    assert tool("db1", "upsc", "ups@localhost")[0] == 1  # no upsd on db1
    assert tool("db1", "upsc", "ups@ups1", "ups.status")[1] == "OL\n"
    with tool.file.update() as data:
        topo = topology.build(3)
        for fault in ("psu-failure", "disk-failure"):
            model.inject(data, topo, fault, None, None, time.time() - 1)
    assert "PS2 Status       | 0x0b              | cr" in tool("db1", "ipmitool", "sdr")[1]
    assert "Redundancy Lost" in tool("db1", "ipmitool", "sel", "list")[1]
    assert (
        "Redundancy Lost"
        in tool(None, "ipmitool", "-I", "lanplus", "-H", "db1", "-U", "x", "sel", "list")[1]
    )
    rc, out, err = tool("file1", "df", "-h")
    assert rc == 1 and "/srv/share: Input/output error" in err and "/dev/md0" in out
    assert "Remounting filesystem read-only" in tool("file1", "journalctl", "-k", "--no-pager")[1]
    rc, out, _ = tool("file1", "systemctl", "status", "smbd")
    assert rc == 3 and "Active: failed" in out
    assert tool("db1", "ping", "-c", "1", "nosuch")[0] == 2
    assert tool("db1", "systemctl", "status", "nosuch")[0] == 4
    assert tool(None, "shutdown", "-h", "now")[0] == 1  # never the operator's machine


def test_scheduled_shutdown_and_cancel(tool) -> None:
    rc, _, err = tool("app1", "shutdown", "-h", "+5")
    assert rc == 0 and "Shutdown scheduled" in err
    data = tool.file.read()
    assert model.host_powered(data, "app1", time.time())
    assert not model.host_powered(data, "app1", time.time() + 301)
    assert tool("app1", "shutdown", "-c")[0] == 0
    assert model.host_powered(tool.file.read(), "app1", time.time() + 301)


def test_service_down_targets_a_host_or_one_of_its_units(topo: topology.Topology) -> None:
    assert model.normalize_target(topo, "service-down", None) == "db1/postgresql"
    assert model.normalize_target(topo, "service-down", "app1") == "app1/cron"
    assert model.normalize_target(topo, "service-down", "ups1") == "ups1/nut-monitor"
    assert model.normalize_target(topo, "service-down", "oa1/oa-web.service") == "oa1/oa-web"
    with pytest.raises(
        model.LabActionError, match=r"db1 has no unit 'smbd' \(ssh, cron, postgresql\)"
    ):
        model.normalize_target(topo, "service-down", "db1/smbd")
    with pytest.raises(model.LabActionError, match="'core-sw1' is not a lab server"):
        model.normalize_target(topo, "service-down", "core-sw1")


def test_hardware_and_crash_faults_hit_any_server(state: dict, topo: topology.Topology) -> None:
    for host in topo.servers:
        for fault in ("server-down", "psu-failure", "disk-failure"):
            assert model.normalize_target(topo, fault, host) == host
    model.inject(state, topo, "server-down", "ups1", None, T0)
    assert model.host_power_state(state, "ups1", T0 + 1) == "crashed"
    assert not model.can_ping(state, topo, "db1", "ups1", T0 + 1)


def test_a_killed_service_fails_until_restarted(tool) -> None:
    with tool.file.update() as data:
        model.inject(data, topology.build(3), "service-down", "app1", None, time.time() - 1)
    assert tool("app1", "systemctl", "is-active", "cron")[:2] == (3, "failed\n")
    assert tool("app1", "systemctl", "is-active", "ssh")[0] == 0
    assert tool("app2", "systemctl", "is-active", "cron")[0] == 0  # only that host
    rc, out, _ = tool("app1", "systemctl", "status", "cron")
    assert rc == 3 and "Active: failed (Result: signal)" in out and "status=9/KILL" in out
    shown = tool("app1", "systemctl", "show", "cron", "--property=Result,ExecMainStatus")
    assert shown == (0, "Result=signal\nExecMainStatus=9\n", "")
    journal = tool("app1", "journalctl", "--no-pager")[1]
    assert "Out of memory: Killed process" in journal and "(cron)" in journal
    assert "● cron.service" in tool("app1", "systemctl", "list-units", "--failed")[1]
    assert tool("app1", "systemctl", "restart", "cron")[0] == 0
    assert tool("app1", "systemctl", "is-active", "cron")[0] == 0
    assert tool.file.read()["faults"] == []


SHOW = ("--property=LoadState,Result,ExecMainExitTimestamp,ExecMainStatus",
        "--timestamp=unix")  # fmt: skip


def test_backup_service_last_run_follows_the_backup_faults(tool) -> None:
    now = time.time()
    night = int(model.last_night(now))
    healthy = (
        f"Result=success\nExecMainExitTimestamp=@{night}\nExecMainStatus=0\nLoadState=loaded\n"
    )
    assert tool("db1", "systemctl", "show", "backup.service", *SHOW) == (0, healthy, "")
    # systemd's own time format without --timestamp=unix, only the properties asked
    local = time.strftime("%a %Y-%m-%d %H:%M:%S %Z", time.localtime(night))
    asked = tool("file1", "systemctl", "show", "backup", "--property=ExecMainExitTimestamp")
    assert asked == (0, f"ExecMainExitTimestamp={local}\n", "")
    # a unit systemd does not know still prints, exit 0, as real systemctl does
    unknown = "Result=success\nExecMainExitTimestamp=\nExecMainStatus=0\nLoadState=not-found\n"
    assert tool("db1", "systemctl", "show", "nosuch.service", *SHOW) == (0, unknown, "")
    with tool.file.update() as data:
        model.inject(data, topology.build(3), "backup-stale", "db1", None, now - 1)
        model.inject(data, topology.build(3), "backup-failed", "file1", None, now - 1)
    stale = tool("db1", "systemctl", "show", "backup.service", *SHOW)[1]
    assert f"ExecMainExitTimestamp=@{int(now - 1 - 72 * 3600)}\n" in stale
    assert "Result=success\n" in stale
    failed = tool("file1", "systemctl", "show", "backup.service", *SHOW)[1]
    assert failed == (
        f"Result=exit-code\nExecMainExitTimestamp=@{int(now - 1)}\nExecMainStatus=1\n"
        "LoadState=loaded\n"
    )
    # status and is-active/is-failed tell the same last runs (a oneshot: never running)
    rc, out, _ = tool("db1", "systemctl", "status", "backup.service")
    assert rc == 3 and "Active: inactive (dead) since" in out and "status=0/SUCCESS" in out
    assert tool("db1", "systemctl", "is-active", "backup")[:2] == (3, "inactive\n")
    rc, out, _ = tool("file1", "systemctl", "status", "backup.service")
    assert rc == 3 and "Active: failed (Result: exit-code)" in out and "status=1/FAILURE" in out
    assert tool("file1", "systemctl", "is-failed", "backup.service")[:2] == (0, "failed\n")
    # only the faults' own hosts
    assert tool("app1", "systemctl", "show", "backup.service", *SHOW)[1] == healthy


def test_disk_failure_without_a_data_disk_degrades_the_mirror(tool) -> None:
    with tool.file.update() as data:
        model.inject(data, topology.build(3), "disk-failure", "app2", None, time.time() - 1)
    kernel = tool("app2", "journalctl", "-k", "--no-pager")[1]
    assert "I/O error, dev sdb" in kernel and "md/raid1:md0: Disk failure on sdb2" in kernel
    assert "Remounting filesystem read-only" not in kernel
    assert "Drive 1          | 0x02              | cr" in tool("app2", "ipmitool", "sdr")[1]
    assert "Drive Fault          : true" in tool("app2", "ipmitool", "chassis", "status")[1]
    assert "Drive Fault" in tool("ups1", "ipmitool", "-H", "app2-bmc", "sel", "list")[1]
    # the system keeps running: its disks read, its services are up
    assert tool("app2", "df", "-h")[0] == 0
    assert tool("app2", "systemctl", "is-active", "cron")[0] == 0
    assert tool("app1", "ipmitool", "sdr")[1].count("| cr") == 0  # only that host


def test_extra_switches_cycle_the_vendors_on_the_core() -> None:
    topo = topology.build(3, 10)
    assert list(topo.switches) == ["core-sw1"] + [f"acc-sw{n}" for n in range(1, 10)]
    dialects = [s.dialect for s in topo.switches.values()]
    assert dialects == [
        "vrp",
        "comware",
        "ios",
        "ios",
        "vrp",
        "comware",
        "ios",
        "vrp",
        "comware",
        "ios",
    ]
    assert [s.network_os for s in topo.switches.values()][:3] == ["vrp", "comware", "ios"]
    for number in range(1, 10):
        name = f"acc-sw{number}"
        link = topo.link_at("core-sw1", f"GigabitEthernet0/0/{number + 2}")
        assert link is not None and link.peer == name
        assert topo.link_at(name, topo.switches[name].uplink).peer == "core-sw1"
        assert topo.resolve(f"10.10.0.{number + 1}") == ("switch", name)
    assert topo.switches["acc-sw4"].short("GigabitEthernet0/0/24") == "GE0/0/24"
    assert topo.switches["acc-sw2"].port("gig0/1") == "GigabitEthernet0/1"
    with pytest.raises(ValueError, match="3 to 22 switches"):
        topology.build(3, 2)


def test_a_state_remembers_its_switches(topo: topology.Topology) -> None:
    state = new_state(topo.noncritical, switches=5)
    assert list(topology.for_state(state).switches)[-1] == "acc-sw4"
    assert list(topology.for_state({"noncritical": []}).switches) == [
        "core-sw1",
        "acc-sw1",
        "acc-sw2",
    ]
