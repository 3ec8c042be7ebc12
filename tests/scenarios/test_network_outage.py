"""The network-outage runbook end to end against the embedded lab, on its three vendors.

The lab's core switch core-sw1 is a Huawei (VRP), acc-sw1 an H3C (Comware), acc-sw2 a Cisco
(IOS); the runbook reads the same facts from all three. Each test takes the module's lab at
its baseline, injects a fault on a switch of one vendor (or none), runs `respond run
network-outage` unattended and checks what a person would check: the diagnosis in the record
(the switches' facts and the `locate` verdicts), what changed in the lab, the configuration
evidence of a change, the messages the lab received, the recorded outcome and the timeline.
Each vendor gets a link-down and a switch-down; the default lab's only Huawei is the core, so
a Huawei access switch (acc-sw4) comes from a second, five-switch lab started for that test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from labkit import Lab, copy_project, start_lab

RUNBOOK = "network-outage"
DIAGNOSIS_STEPS = ("switches", "servers-reach", "findings", "locate")
FACT_KEYS = {"interfaces", "neighbors", "routes"}
INTERFACE_KEYS = {"name", "admin", "oper", "description", "speed_mbps", "in_errors",
                  "out_errors", "crc"}  # fmt: skip


@pytest.fixture
def net(lab: Lab) -> Iterator[Lab]:
    """The scenario lab. Its home is outside the project, so the switches' host keys are
    found only through the inventory's UserKnownHostsFile, as on a real site."""
    assert not (lab.project / ".respond" / "lab" / "known_hosts").exists()
    yield lab


@pytest.fixture(scope="module")
def five_switches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab of five switches, whose acc-sw4 is a Huawei access switch (the default lab's
    only Huawei is the core); started only by the test that needs it."""
    base = tmp_path_factory.mktemp("five-switches")
    lab = start_lab(copy_project(base / "project"), base / "home", hosts=3, switches=5)
    try:
        yield lab
    finally:
        lab.down()


# ----------------------------------------------------------------------------- helpers


_RECORDS: dict[tuple[int, str], list[dict[str, Any]]] = {}


def recorded(lab: Lab, run_id: str) -> list[dict[str, Any]]:
    """The events of a finished run (`timeline show --json`), read once: they never change."""
    key = (id(lab), run_id)
    if key not in _RECORDS:
        _RECORDS[key] = lab.events(run_id)
    return _RECORDS[key]


def step_status(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def host_results(lab: Lab, run_id: str, step_id: str) -> dict[str, dict[str, Any]]:
    """host → the recorded host result of a step."""
    return {
        e["host"]: e["data"]
        for e in recorded(lab, run_id)
        if e["kind"] == "host-result" and e["step_id"] == step_id
    }


def facts(lab: Lab, run_id: str, step_id: str) -> dict[str, Any]:
    """host → the facts the switch gave in that step (None when it did not answer)."""
    return {
        host: (data.get("data") or {}).get("facts")
        for host, data in host_results(lab, run_id, step_id).items()
    }


def port(host_facts: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in host_facts["interfaces"] if i["name"] == name)


def verdict(lab: Lab, run_id: str) -> tuple[list[str], str]:
    """The `locate` decision: (every verdict that applies, their messages joined)."""
    [data] = [d["data"] for d in host_results(lab, run_id, "locate").values()]
    return list(data["verdicts"]), "; ".join(data["messages"])


def outcome(lab: Lab, result: dict[str, Any], expected: str) -> str:
    """The outcome `run --json` gives, also in the record and in `timeline list`; the reason."""
    assert result["outcome"] == expected, (result["outcome"], result["reason"])
    run_id = result["run_id"]
    finished = recorded(lab, run_id)[-1]
    assert finished["kind"] == "run-finished" and finished["data"]["outcome"] == expected
    [listed] = [r for r in lab.json("timeline", "list") if r["run_id"] == run_id]
    assert listed["outcome"] == expected
    return str(result["reason"])


def assert_timeline_complete(lab: Lab, run_id: str, *, through: str | None = None) -> None:
    """`respond timeline verify` is intact, and every step (up to `through`) was recorded as
    started or skipped and then finished."""
    verify = lab.json("timeline", "verify", run_id)
    assert [v["ok"] for v in verify] == [True], verify
    events = recorded(lab, run_id)
    steps = events[0]["data"]["steps"]
    assert events[0]["kind"] == "run-started" and events[-1]["kind"] == "run-finished"
    if through is not None:
        steps = steps[: steps.index(through)]
    seen = {e["step_id"] for e in events if e["kind"] in ("step-started", "step-skipped")}
    finished = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert set(steps) <= seen, set(steps) - seen
    assert set(steps) <= finished, set(steps) - finished
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1))


def new_events(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The lab events of `after` that `before` (an earlier `lab status`) did not have yet."""
    return [e for e in after["events"] if e not in before["events"]]


def sent(messages: list[dict[str, Any]], channel: str) -> list[str]:
    return [f"{m.get('title') or ''} {m['message']}" for m in messages if m["channel"] == channel]


def run_unresolved(lab: Lab, *, onsite: str) -> tuple[dict[str, Any], str, dict[str, str], str]:
    """Run the runbook, answering ``onsite`` on-site, on a fault it cannot repair: the run
    fails, unresolved and not restored. (`lab status` before it, run id, step statuses, reason.)"""
    before = lab.status()
    code, result = lab.run(RUNBOOK, {"onsite-check": onsite})
    assert code == 1, result
    assert result["status"] == "failed"
    reason = outcome(lab, result, "unresolved")
    assert reason.startswith("[network] NOT restored after run"), reason
    return before, result["run_id"], step_status(result), reason


def assert_switch_unreachable(lab: Lab, run_id: str, switch: str, trunk: str) -> dict[str, Any]:
    """A dead switch as the run saw it: no facts (connection refused), core-sw1's trunk port
    ``trunk`` toward it down, and `locate`'s device-down verdict naming both. The facts."""
    seen = facts(lab, run_id, "switches")
    assert seen[switch] is None
    assert "connection refused" in host_results(lab, run_id, "switches")[switch]["error"]
    assert port(seen["core-sw1"], trunk)["oper"] == "down"
    tags, text = verdict(lab, run_id)
    assert tags == ["device-down"]
    assert f"switch DOWN (unreachable): {switch}" in text
    assert f'core-sw1 {trunk} "TRUNK {switch}" down (toward unreachable {switch})' in text
    return seen


def assert_nothing_configured(
    lab: Lab, run_id: str, status: dict[str, str], before: dict[str, Any]
) -> None:
    """No failover, no gate, the uplink still the primary and no shutdown in the lab since
    ``before`` (its `lab status` before the run)."""
    assert status["failover"] == "skipped"
    assert not [e for e in recorded(lab, run_id) if e["kind"].startswith("gate-")]
    lab_status = lab.status()
    assert lab_status["uplink"] == "primary"
    assert not any("shutdown" in e["text"] for e in new_events(before, lab_status))


def removed_under(diff: str, section: str) -> list[str]:
    """The lines a unified diff removes inside the configuration section ``section`` (the
    last unindented line before them, from the diff's context or its own lines)."""
    removed, current = [], ""
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        text = line[1:]
        if text and not text[0].isspace():
            current = text.strip()
        elif line.startswith("-") and current == section:
            removed.append(text.strip())
    return removed


# ----------------------------------------------------------------------------- scenarios


def test_huawei_core_uplink_down_is_failed_over_with_the_vrp_config_diff_recorded(
    net: Lab,
) -> None:
    net.inject("link-down")  # the core's primary uplink, core-sw1:GE0/0/1
    assert net.status()["uplink"] == "none"

    code, result = net.run(RUNBOOK)
    assert code == 0, result
    assert result["status"] == "succeeded"
    assert outcome(net, result, "resolved").startswith(
        "网络已恢复 / The network is restored over the backup uplink GigabitEthernet0/0/2 of"
        " core-sw1 (the primary line GigabitEthernet0/0/1 awaits the vendor)"
    )
    run_id = result["run_id"]
    status = step_status(result)

    # the same facts from the three vendors, each with its own port names
    seen = facts(net, run_id, "switches")
    assert set(seen) == {"core-sw1", "acc-sw1", "acc-sw2"}
    for host, host_facts in seen.items():
        assert set(host_facts) >= FACT_KEYS, host
        assert all(set(i) >= INTERFACE_KEYS for i in host_facts["interfaces"]), host
    assert port(seen["acc-sw1"], "GigabitEthernet1/0/25")["oper"] == "up"
    assert port(seen["acc-sw2"], "FastEthernet0/1")["oper"] == "up"
    core = seen["core-sw1"]
    assert port(core, "GigabitEthernet0/0/1")["admin"] == "up"
    assert port(core, "GigabitEthernet0/0/1")["oper"] == "down"
    assert port(core, "GigabitEthernet0/0/2")["admin"] == "down"
    assert core["routes"]["default"] is False
    assert "wan-rtr1" not in {n["name"] for n in core["neighbors"]}

    # the diagnosis
    tags, text = verdict(net, run_id)
    assert tags == ["uplink-down"]
    assert 'core-sw1 GigabitEthernet0/0/1 "UPLINK-PRIMARY" down' in text
    assert "CRC errors" in text and "default route on core-sw1: MISSING" in text
    assert "backup uplink GigabitEthernet0/0/2: administratively down" in text

    # the gate was confirmed by --yes, then the VRP configuration went to the core only
    gates = [e for e in recorded(net, run_id) if e["kind"].startswith("gate-")]
    assert [(g["kind"], g["step_id"], g["data"]["by"]) for g in gates] == [
        ("gate-confirmed", "failover", "--yes")
    ]
    assert status["failover"] == "ok"
    [(host, failover)] = host_results(net, run_id, "failover").items()
    assert host == "core-sw1"
    [session] = [c["stdout"] for c in failover["commands"] if c["command"] == "<config>"]
    assert "[core-sw1-GigabitEthernet0/0/2]undo shutdown" in session, session
    assert "no shutdown" not in session

    # the configuration evidence: before, after, and the diff (the shutdown is gone)
    config = failover["config"]
    assert config["command"] == "display current-configuration"
    assert config["changed"] is True
    assert removed_under(config["diff"], "interface GigabitEthernet0/0/2") == ["shutdown"]
    assert config["before"]["artifact"] != config["after"]["artifact"]
    assert_config_diff_shown_and_exported(net, run_id, config)

    # the lab really failed over, and the verification saw it
    assert net.status()["uplink"] == "backup"
    route_after = facts(net, run_id, "verify-route")["core-sw1"]["routes"]
    assert route_after["default"] is True and route_after["next_hop"] == "10.0.0.5"
    for step in ("verify-route", "verify-switches", "verify-servers", "restored"):
        assert status[step] == "ok", (step, status)
    for step in ("all-clear", "escalate-vendor", "escalate-leaders", "onsite-check", "still-down"):
        assert status[step] == "skipped", (step, status)

    # announcements reached the lab: the diagnosis to on-call and vendor, recovery by SMS
    messages = net.messages()
    assert any("GigabitEthernet0/0/1" in m and "uplink-down" in m for m in sent(messages, "oncall"))
    assert any("GigabitEthernet0/0/1" in m for m in sent(messages, "vendor"))
    assert any(
        "网络已恢复" in m and "backup uplink GigabitEthernet0/0/2" in m
        for m in sent(messages, "sms")
    )
    assert not sent(messages, "leaders")

    assert_timeline_complete(net, run_id)


def assert_config_diff_shown_and_exported(lab: Lab, run_id: str, config: dict[str, Any]) -> None:
    """`timeline show` (plain in a pipe) displays the diff under the host result; the json
    export carries the event as recorded plus the before and after configurations."""
    shown = lab.respond("timeline", "show", run_id, check=True).stdout
    assert "interface GigabitEthernet0/0/2" in shown
    assert any(line.strip() == "- shutdown" for line in shown.splitlines()), shown
    assert "\x1b[" not in shown

    record = json.loads(lab.respond("timeline", "export", run_id, check=True).stdout)["record"]
    [event] = [
        e for e in record["events"] if e["kind"] == "host-result" and e["step_id"] == "failover"
    ]
    assert event["data"]["config"] == config
    artifacts = record["artifacts"]
    before, after = (
        base64.b64decode(artifacts[config[side]["artifact"]]).decode()
        for side in ("before", "after")
    )
    assert "shutdown" in section(before, "interface GigabitEthernet0/0/2")
    assert "shutdown" not in section(after, "interface GigabitEthernet0/0/2")


def section(config: str, header: str) -> list[str]:
    """The stripped lines of one section of a configuration text (``interface X`` …)."""
    lines = config.splitlines()
    start = lines.index(header) + 1
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append(line.strip())
    return body


def test_h3c_access_port_down_is_a_link_down_needing_on_site_repair(net: Lab) -> None:
    net.inject("link-down", "--target", "acc-sw1:GE1/0/3")  # db1's port, in H3C's short form

    before = net.status()
    code, result = net.run(RUNBOOK, {"onsite-check": "replaced"})
    run_id = result["run_id"]
    status = step_status(result)

    port_facts = port(facts(net, run_id, "switches")["acc-sw1"], "GigabitEthernet1/0/3")
    assert (port_facts["admin"], port_facts["oper"]) == ("up", "down")
    tags, text = verdict(net, run_id)
    assert tags == ["link-down"]
    assert text.startswith('link DOWN acc-sw1 GigabitEthernet1/0/3 "db1" down'), text

    # nothing to configure: no failover, no gate; the vendor and the leaders are told
    assert_nothing_configured(net, run_id, status, before)
    messages = net.messages()
    assert any("GigabitEthernet1/0/3" in m and "on-site" in m for m in sent(messages, "vendor"))
    assert any("GigabitEthernet1/0/3" in m for m in sent(messages, "leaders"))
    assert status["onsite-check"] == "ok"

    # the port is still down after the on-site answer: not restored, the link named
    assert code == 1, result
    reason = outcome(net, result, "unresolved")
    assert 'links down: acc-sw1 GigabitEthernet1/0/3 "db1" down' in reason, reason
    assert "on-site: replaced" in reason
    assert status["restored"] == "skipped" and status["still-down"] == "ok"
    assert any("NOT restored" in m and "db1" in m for m in sent(net.messages(), "leaders"))
    assert_timeline_complete(net, run_id)


def test_cisco_access_switch_down_is_a_device_down_with_its_servers_cut_off(net: Lab) -> None:
    net.inject("switch-down", "--target", "acc-sw2")

    # a dead switch cannot be fixed by configuration: escalated, the run ends unresolved
    before, run_id, status, _ = run_unresolved(net, onsite="no power")

    seen = assert_switch_unreachable(net, run_id, "acc-sw2", trunk="GigabitEthernet0/0/4")
    assert port(seen["core-sw1"], "GigabitEthernet0/0/1")["oper"] == "up"
    assert seen["core-sw1"]["routes"]["default"] is True
    assert "servers cut off: app1, app2, test1" in verdict(net, run_id)[1]

    # no failover: the step was skipped, no gate, nothing configured in the lab
    assert_nothing_configured(net, run_id, status, before)

    # vendor and leaders told, the on-site answer recorded, escalated, no recovery notice
    messages = net.messages()
    assert any("acc-sw2" in m and "on-site" in m for m in sent(messages, "vendor"))
    assert any("acc-sw2" in m for m in sent(messages, "leaders"))
    assert any("NOT restored" in m and "no power" in m for m in sent(messages, "leaders"))
    assert not sent(messages, "sms") and not sent(messages, "oa")
    events = recorded(net, run_id)
    assert any(e["kind"] == "answer" and e["step_id"] == "onsite-check" for e in events)
    assert any(e["kind"] == "escalated" for e in events)
    assert status["verify-switches"] == "failed"
    assert status["restored"] == "skipped"
    assert status["still-down"] == "ok"

    assert_timeline_complete(net, run_id)


def test_h3c_access_switch_down_cuts_off_the_core_servers_and_is_escalated(net: Lab) -> None:
    net.inject("switch-down", "--target", "acc-sw1")  # the H3C the core servers hang off

    before, run_id, status, _ = run_unresolved(net, onsite="no power")

    seen = assert_switch_unreachable(net, run_id, "acc-sw1", trunk="GigabitEthernet0/0/3")
    assert port(seen["acc-sw2"], "FastEthernet0/1")["oper"] == "up"
    assert port(seen["core-sw1"], "GigabitEthernet0/0/4")["oper"] == "up"
    assert "servers cut off: oa1, sms1, db1, file1, ups1" in verdict(net, run_id)[1]

    # nothing to configure: no gate, the uplink untouched, no shutdown in the lab
    assert_nothing_configured(net, run_id, status, before)

    messages = net.messages()
    assert any("acc-sw1" in m and "on-site" in m for m in sent(messages, "vendor"))
    assert any("NOT restored" in m and "no power" in m for m in sent(messages, "leaders"))
    assert not sent(messages, "sms")
    assert any(e["kind"] == "escalated" for e in recorded(net, run_id))
    assert status["verify-switches"] == "failed" and status["restored"] == "skipped"
    assert status["still-down"] == "ok"

    assert_timeline_complete(net, run_id)


def test_cisco_access_port_down_is_a_link_down_naming_the_server(net: Lab) -> None:
    net.inject("link-down", "--target", "acc-sw2:Fa0/1")  # app1's port, in IOS's short form

    before = net.status()
    code, result = net.run(RUNBOOK, {"onsite-check": "powered, no link lights"})
    run_id = result["run_id"]
    status = step_status(result)

    seen = facts(net, run_id, "switches")
    port_facts = port(seen["acc-sw2"], "FastEthernet0/1")
    assert (port_facts["admin"], port_facts["oper"]) == ("up", "down")
    assert port(seen["acc-sw2"], "FastEthernet0/2")["oper"] == "up"
    tags, text = verdict(net, run_id)
    assert tags == ["link-down"]
    assert text.startswith('link DOWN acc-sw2 FastEthernet0/1 "app1" down'), text

    # nothing to configure: no failover, no gate, no shutdown in the lab
    assert_nothing_configured(net, run_id, status, before)
    messages = net.messages()
    assert any("FastEthernet0/1" in m and "on-site" in m for m in sent(messages, "vendor"))

    assert code == 1, result
    reason = outcome(net, result, "unresolved")
    assert 'links down: acc-sw2 FastEthernet0/1 "app1" down' in reason, reason
    assert "on-site: powered, no link lights" in reason
    assert status["restored"] == "skipped" and status["still-down"] == "ok"
    assert any("NOT restored" in m and "app1" in m for m in sent(net.messages(), "leaders"))
    assert_timeline_complete(net, run_id)


def test_huawei_access_switch_down_is_a_device_down_naming_its_trunk(
    five_switches: Lab,
) -> None:
    lab = five_switches
    assert lab.status()["switches"]["acc-sw4"]["dialect"] == "vrp"
    lab.inject("switch-down", "--target", "acc-sw4")

    before, run_id, status, reason = run_unresolved(lab, onsite="no power")
    assert "switches not answering: acc-sw4" in reason

    seen = assert_switch_unreachable(lab, run_id, "acc-sw4", trunk="GigabitEthernet0/0/6")
    assert port(seen["core-sw1"], "GigabitEthernet0/0/5")["oper"] == "up"  # trunk to acc-sw3
    # no server hangs off the extra switches
    assert "servers cut off: none" in verdict(lab, run_id)[1]

    assert_nothing_configured(lab, run_id, status, before)
    assert any("acc-sw4" in m and "on-site" in m for m in sent(lab.messages(), "vendor"))
    assert any(e["kind"] == "escalated" for e in recorded(lab, run_id))
    assert_timeline_complete(lab, run_id)


def test_no_fault_found_and_nothing_recovered(net: Lab) -> None:
    before = net.status()
    assert before["faults"] == [] and before["uplink"] == "primary"

    code, result = net.run(RUNBOOK)
    assert code == 0, result
    reason = outcome(net, result, "no-fault")
    assert reason.startswith("no fault found: 3 switch(es) answer, no cabled port down")
    run_id = result["run_id"]
    status = step_status(result)

    tags, text = verdict(net, run_id)
    assert tags == ["no-fault"]
    assert "default route on core-sw1: present via 10.0.0.1" in text
    assert status["all-clear"] == "ok"
    for step in DIAGNOSIS_STEPS:
        assert status[step] == "ok", (step, status)
    skipped = [s for s, st in status.items() if st == "skipped"]
    assert skipped == [s for s in status if s not in (*DIAGNOSIS_STEPS, "all-clear")]
    assert "failover" in skipped

    after = net.status()
    assert after["uplink"] == "primary" and after["faults"] == []
    assert after["switches"] == before["switches"] and after["hosts"] == before["hosts"]
    assert not any("shutdown" in e["text"] for e in new_events(before, after))
    messages = net.messages()
    assert [m["channel"] for m in messages] == ["oncall"]
    assert "no fault found" in messages[0]["message"]

    assert_timeline_complete(net, run_id)


def test_unattended_without_yes_stops_at_the_gate_that_names_the_ports(net: Lab) -> None:
    net.inject("link-down")

    # no --yes, no answers, no terminal; the uplinks given in Huawei's short form
    proc = net.respond(
        "run", RUNBOOK, "--json", "-q", "-p", "uplink=GE0/0/1", "-p", "backup=GE0/0/2"
    )
    assert proc.rc == 3, proc

    result = proc.json()
    assert result["status"] == "aborted" and result["outcome"] == "aborted"
    assert "failover" in result["message"] and "--yes" in result["message"]
    assert f"`respond resume {result['run_id']}` offers the gate again" in result["message"]
    run_id = result["run_id"]

    events = recorded(net, run_id)
    [gate] = [e for e in events if e["kind"].startswith("gate-")]
    assert (gate["kind"], gate["step_id"]) == ("gate-refused", "failover")
    assert "Bring up the backup uplink GigabitEthernet0/0/2 on core-sw1?" in json.dumps(
        gate["data"], ensure_ascii=False
    )
    assert not any(e["kind"] == "step-started" and e["step_id"] == "failover" for e in events)
    assert verdict(net, run_id)[0] == ["uplink-down"]
    assert net.status()["uplink"] == "none"  # still down: nothing was configured
    assert any("uplink-down" in m for m in sent(net.messages(), "oncall"))

    assert_timeline_complete(net, run_id, through="failover")


def test_no_switch_answering_is_reported_to_on_call_and_ends_unresolved(net: Lab) -> None:
    net.inject("switch-down", "--target", "core-sw1")  # the management network goes with it

    code, result = net.run(RUNBOOK)
    assert code == 1, result
    reason = outcome(net, result, "unresolved")
    assert reason.startswith("[network] cannot diagnose from here: no switch answers (")
    tags, _ = verdict(net, result["run_id"])
    assert tags[0] == "unreachable"
    status = step_status(result)
    assert status["no-diagnosis"] == "ok"
    assert all(status[s] == "skipped" for s in ("notify-oncall", "failover", "still-down"))
    [notice] = net.messages()
    assert notice["channel"] == "oncall" and "core-sw1" in notice["message"]
    assert_timeline_complete(net, result["run_id"])
