"""SSH hosts and their simulated tools, through a real paramiko client that verifies host keys."""

from __future__ import annotations

import time

import paramiko
import pytest
import yaml
from clikit import wait_until
from labkit import Lab, run_on


def test_up_writes_an_ansible_inventory_and_known_hosts(lab: Lab) -> None:
    inv = yaml.safe_load((lab.project / "inventory" / "lab.yaml").read_text())["all"]
    servers = inv["children"]["servers"]
    assert set(servers["children"]["core"]["hosts"]) == {"oa1", "sms1", "db1", "file1"}
    assert set(servers["children"]["noncritical"]["hosts"]) == {"app1", "app2", "test1"}
    assert set(servers["children"]["ups"]["hosts"]) == {"ups1"}
    assert servers["vars"]["ansible_ssh_private_key_file"] == str(lab.lab_dir / "id_ed25519")
    switches = inv["children"]["switches"]
    assert {name: host["ansible_network_os"] for name, host in switches["hosts"].items()} == {
        "core-sw1": "vrp",
        "acc-sw1": "comware",
        "acc-sw2": "ios",
    }
    assert "netmiko_device_type" not in str(switches)
    assert switches["vars"]["ansible_password"]
    assert (
        f"UserKnownHostsFile={lab.lab_dir / 'known_hosts'}"
        in inv["vars"]["ansible_ssh_common_args"]
    )
    assert inv["vars"]["oa_url"].startswith("http://127.0.0.1:")
    ports = [h["ansible_port"] for g in servers["children"].values() for h in g["hosts"].values()]
    ports += [h["ansible_port"] for h in switches["hosts"].values()]
    assert len(set(ports)) == 11
    lines = [
        x
        for x in (lab.lab_dir / "known_hosts").read_text().splitlines()
        if x and not x.startswith("#")
    ]
    assert len(lines) == 11
    assert {line.split()[0] for line in lines} == {f"[127.0.0.1]:{p}" for p in ports}
    keys = {line.split()[2] for line in lines}
    assert len(keys) == 11, "every host and switch has its own host key"


def test_upsc_goes_on_battery_and_runtime_drains(lab: Lab) -> None:
    client = lab.ssh("ups1")
    try:
        rc, out, _ = run_on(client, "upsc ups@localhost")
        assert rc == 0
        values = dict(line.split(": ", 1) for line in out.splitlines())
        assert values["ups.status"] == "OL"
        assert int(values["battery.charge"]) == 100
        lab.inject("power-loss")
        rc, status, _ = run_on(client, "upsc ups@localhost ups.status")
        assert rc == 0 and status.split()[:2] == ["OB", "DISCHRG"]
        first = int(run_on(client, "upsc ups@localhost battery.runtime")[1])
        second = wait_until(
            lambda: (
                (n := int(run_on(client, "upsc ups@localhost battery.runtime")[1])) < first and n
            ),
            f"the battery runtime to drop below {first}s",
            interval=0.5,
        )
        assert 0 < second < first <= 1800
        assert run_on(client, "upsc ups@localhost input.voltage")[1].strip() == "0.0"
    finally:
        client.close()


def test_real_shell_semantics_and_services(lab: Lab) -> None:
    client = lab.ssh("oa1")
    try:
        assert run_on(client, "systemctl is-active oa-web") == (0, "active\n", "")
        assert run_on(client, "systemctl is-active postgresql")[0] == 3  # not on oa1
        rc, out, _ = run_on(client, "printf '%s\\n' 'x; touch injected'; ls")
        assert (
            rc == 0
            and out.startswith("x; touch injected\n")
            and "injected\n" not in out.split("\n", 1)[1]
        )
        assert run_on(client, "echo a | tr a b; hostname; exit 7") == (7, "b\noa1\n", "")
        rc, out, _ = run_on(client, "journalctl -u oa-web -n 5 --no-pager")
        assert rc == 0 and "Started OA office automation web application." in out
    finally:
        client.close()


def test_unknown_host_key_and_wrong_client_key_are_refused(lab: Lab, tmp_path) -> None:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException):
        client.connect("127.0.0.1", port=lab.port("db1"), username=lab.runtime["user"],
                       key_filename=str(lab.lab_dir / "id_ed25519"), look_for_keys=False, allow_agent=False)  # fmt: skip
    client.close()
    other = paramiko.Ed25519Key.from_private_key_file(str(lab.lab_dir / "keys" / "db1_ed25519"))
    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.lab_dir / "known_hosts"))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect("127.0.0.1", port=lab.port("db1"), username=lab.runtime["user"], pkey=other,
                       look_for_keys=False, allow_agent=False)  # fmt: skip
    client.close()


def test_restart_fixes_a_failed_service(lab: Lab) -> None:
    lab.inject("oa-down")
    assert lab.sh("oa1", "systemctl is-active oa-web") == (3, "failed\n", "")
    rc, out, _ = lab.sh("oa1", "systemctl status oa-web")
    assert rc == 3 and "Active: failed" in out
    assert lab.sh("oa1", "systemctl restart oa-web")[0] == 0
    assert lab.sh("oa1", "systemctl is-active oa-web")[0] == 0
    assert lab.status()["faults"] == []


def test_disk_failure_shows_in_df_ipmi_and_blocks_restart(lab: Lab) -> None:
    lab.inject("disk-failure")
    rc, out, err = lab.sh("file1", "df -h /srv/share")
    assert rc == 1 and "Input/output error" in err
    rc, out, _ = lab.sh("file1", "ipmitool sdr | grep 'Drive 1'")
    assert rc == 0 and out.rstrip().endswith("| cr")
    assert "Drive Fault" in lab.sh("file1", "ipmitool sel list")[1]
    rc, _, err = lab.sh("file1", "systemctl restart smbd")
    assert rc == 1 and "failed" in err


def test_server_down_heals_itself(lab: Lab) -> None:
    # Down until told otherwise, so the checks below cannot race the fault's end ...
    lab.inject("server-down")
    lab.wait_accepts("app1", False)
    assert lab.status()["hosts"]["app1"]["power"] == "crashed"
    rc, out, _ = lab.sh("db1", "ping -c 2 app1")
    assert rc == 1 and "100% packet loss" in out
    # ... then given a duration: it ends by itself, with nobody healing it.
    lab.inject("server-down", "--for", "1s")
    lab.wait_accepts("app1")
    assert lab.sh("app1", "uptime")[0] == 0
    assert lab.status()["faults"] == []


def test_shutdown_closes_the_host_and_records_the_order(lab: Lab) -> None:
    for host, command in (
        ("test1", "shutdown -h now"),
        ("app2", "poweroff"),
        ("app1", "sudo shutdown -h now"),
    ):
        rc, _, _ = lab.sh(host, command)
        assert rc == 0
        lab.wait_accepts(host, False)
        time.sleep(0.01)  # distinct timestamps in the power log
    log = [e for e in lab.status()["power_log"] if e["action"] == "shutdown"]
    assert [e["host"] for e in log] == ["test1", "app2", "app1"]
    assert log[0]["at"] < log[1]["at"] < log[2]["at"]
    rc, out, _ = lab.sh("ups1", "upsc ups@localhost ups.load")
    assert int(out) < 66  # fewer servers on the UPS
    rc, out, _ = lab.sh("db1", "ipmitool -H app2 chassis power status")
    assert out == "Chassis Power is off\n"
    assert lab.sh("db1", "ipmitool -H app2 chassis power on") == (
        0,
        "Chassis Power Control: Up/On\n",
        "",
    )
    lab.wait_accepts("app2")
    assert lab.sh("db1", "wakeonlan test1")[0] == 0
    lab.wait_accepts("test1")
    lab.heal()
    lab.wait_accepts("app1")


def test_switch_down_cuts_off_the_switch_and_its_hosts(lab: Lab) -> None:
    lab.inject("switch-down")
    lab.wait_accepts("acc-sw2", False)
    lab.wait_accepts("app1", False)
    rc, _, _ = lab.sh("db1", "ping -c 1 acc-sw2")
    assert rc == 1
    lab.heal("switch-down")
    lab.wait_accepts("acc-sw2")
    lab.wait_accepts("app1")


def test_service_down_is_injected_on_any_server_through_the_cli(lab: Lab) -> None:
    assert "service-down" in lab.respond("lab", "inject", "--help", check=True).stdout
    rc, _, err = lab.respond("lab", "inject", "service-down", "--target", "db1/smbd")
    assert rc == 2 and "service-down: db1 has no unit 'smbd' (ssh, cron, postgresql)" in err
    lab.inject("service-down", "--target", "oa1")
    status = lab.status()
    assert [(f["name"], f["target"]) for f in status["faults"]] == [("service-down", "oa1/oa-web")]
    assert status["hosts"]["oa1"]["services"]["oa-web"] == "failed" and not status["oa"]["ok"]
    assert lab.sh("oa1", "systemctl is-active oa-web") == (3, "failed\n", "")
    assert lab.sh("oa1", "systemctl restart oa-web")[0] == 0
    assert lab.status()["faults"] == [] and lab.status()["oa"]["ok"]
