"""The core's uplinks and failover, switch-down, and the OA/SMS/sink web services."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from clikit import wait_until
from labkit import Lab, netmiko_switch

from respond.lab.netdev.device import Device


def _row(output: str, port: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith(port + " "))


def _core(lab: Lab) -> Device:
    """core-sw1 as the lab state shows it (the same views its CLI prints)."""
    from respond.lab import topology
    from respond.lab.state import StateFile

    state_file = StateFile(lab.lab_dir / "state.json")
    return Device("core-sw1", topology.for_state(state_file.read()), state_file)


def test_link_down_and_failover_to_the_backup_uplink(lab: Lab) -> None:
    core = _core(lab)
    assert core.vendor == "Huawei" and core.port("GE0/0/1").oper_up
    assert not core.port("GigabitEthernet0/0/2").admin_up  # the backup is shut in the baseline
    assert [(r.prefix, r.next_hop) for r in core.routes() if r.length == 0] == [
        ("0.0.0.0", "10.0.0.1")
    ]

    lab.inject("link-down")
    status = lab.status()
    assert [(f["name"], f["target"]) for f in status["faults"]] == [
        ("link-down", "core-sw1:GE0/0/1")
    ]
    primary = core.port("ge0/0/1")
    assert not primary.oper_up and primary.admin_up and primary.crc > 0
    assert not [r for r in core.routes() if r.length == 0]
    assert "wan-rtr1" not in [n.remote_name for n in core.neighbors()]
    assert status["uplink"] == "none"
    assert lab.sh("db1", "ping -c 1 internet")[0] == 1

    core.set_admin("GE0/0/2", True)  # what `undo shutdown` on the core's CLI does
    status = lab.status()
    assert status["uplink"] == "backup" and status["switches"]["core-sw1"]["shutdown"] == []
    assert any("failed over" in e["text"] for e in status["events"])
    assert [r.next_hop for r in core.routes() if r.length == 0] == ["10.0.0.5"]
    assert "wan-rtr2" in [n.remote_name for n in core.neighbors()]
    assert lab.sh("db1", "ping -c 1 internet")[0] == 0


def test_switch_has_its_own_host_key_and_switch_down_refuses(lab: Lab) -> None:
    dev = netmiko_switch(lab, "acc-sw2")
    try:
        neighbours = dev.send_command("show cdp neighbors")
        assert "core-sw1" in neighbours
        assert "connected" in _row(dev.send_command("show interfaces status"), "Fa0/1")  # app1
        lab.inject("switch-down")  # until told otherwise: the checks cannot race its end
        lab.wait_accepts("acc-sw2", False)
        transport = dev.remote_conn.get_transport()
        wait_until(lambda: not transport.is_active(), "acc-sw2 to end the open session")
    finally:
        dev.disconnect()
    assert not _core(lab).port("GE0/0/4").oper_up  # the core's port toward acc-sw2
    lab.inject("switch-down", "--for", "1s")  # now it ends by itself
    lab.wait_accepts("acc-sw2")
    assert lab.status()["faults"] == []


def _http(method: str, url: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_oa_and_sms_health_and_the_message_sink(lab: Lab) -> None:
    urls = lab.runtime["urls"]
    assert _http("GET", urls["oa"] + "/health") == (200, {"status": "ok", "service": "oa"})
    assert _http("GET", urls["sms"] + "/health")[0] == 200

    lab.inject("oa-down")
    code, body = _http("GET", urls["oa"] + "/health")
    assert code == 503 and "oa-web" in body["reason"]
    assert _http("POST", urls["oa"] + "/api/announce", {"title": "x", "message": "y"})[0] == 503
    assert _http("GET", urls["sms"] + "/health")[0] == 200
    # OA down: announce through SMS; the apprise json:// payload reaches the sink
    assert (
        _http("POST", urls["sms"] + "/api/send", {"to": ["13800000000"], "message": "OA系统故障"})[
            0
        ]
        == 200
    )
    apprise_payload = {
        "version": "1.0",
        "title": "停机公告",
        "message": "OA down",
        "type": "warning",
    }
    assert _http("POST", urls["notify"] + "/email", apprise_payload)[0] == 200

    lab.inject("sms-down")
    assert _http("POST", urls["sms"] + "/api/send", {"to": "x", "message": "y"})[0] == 503

    lab.heal()
    assert _http("GET", urls["oa"] + "/health")[0] == 200
    assert (
        _http("POST", urls["oa"] + "/api/announce", {"title": "恢复公告", "message": "OA back"})[0]
        == 201
    )

    messages = lab.messages()
    got = [(m["channel"], m["title"], m["message"]) for m in messages]
    assert got == [
        ("sms", "", "OA系统故障"),
        ("email", "停机公告", "OA down"),
        ("oa", "恢复公告", "OA back"),
    ]
    assert messages[0]["to"] == "13800000000"


def test_oa_health_follows_the_host_and_the_service(lab: Lab) -> None:
    url = lab.runtime["urls"]["oa"] + "/health"
    assert lab.sh("oa1", "systemctl stop oa-web")[0] == 0
    assert _http("GET", url)[0] == 503
    assert lab.sh("oa1", "systemctl start oa-web")[0] == 0
    assert _http("GET", url)[0] == 200
    assert lab.sh("db1", "systemctl stop postgresql")[0] == 0  # OA needs its database
    code, body = _http("GET", url)
    assert code == 503 and "db1" in body["reason"]
