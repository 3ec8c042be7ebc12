"""The network-outage runbook end to end against the embedded lab.

Each test takes the module's lab at its baseline, injects a fault (or none), runs `respond
run network-outage` unattended and checks what a person would check: the diagnosis in the
record (parsed switch output and the `locate` verdicts), what changed in the lab, the
messages the lab received, the recorded outcome and the timeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from labkit import Lab

RUNBOOK = "network-outage"
DIAGNOSIS_STEPS = (
    "interfaces",
    "errors",
    "routes",
    "neighbours",
    "servers-reach",
    "facts",
    "locate",
)


@pytest.fixture
def net(lab: Lab) -> Iterator[Lab]:
    """The scenario lab. Its home is outside the project, so the switches' host keys are
    found only through the inventory's UserKnownHostsFile, as on a real site."""
    assert not (lab.project / ".respond" / "lab" / "known_hosts").exists()
    yield lab


# ----------------------------------------------------------------------------- helpers


def step_status(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def parsed(lab: Lab, run_id: str, step_id: str) -> dict[str, Any]:
    """host → TextFSM rows of the step's (single) show command, from the record."""
    out: dict[str, Any] = {}
    for e in lab.events(run_id):
        if e["kind"] == "host-result" and e["step_id"] == step_id:
            cmds = e["data"].get("commands") or []
            out[e["host"]] = cmds[0].get("parsed") if cmds else None
    return out


def errors_of(lab: Lab, run_id: str, step_id: str) -> dict[str, str]:
    return {
        e["host"]: str(e["data"].get("error") or "")
        for e in lab.events(run_id)
        if e["kind"] == "host-result" and e["step_id"] == step_id
    }


def verdict(lab: Lab, run_id: str) -> tuple[list[str], str]:
    """The `locate` decision: (every verdict that applies, their messages joined)."""
    [data] = [
        e["data"]["data"]
        for e in lab.events(run_id)
        if e["kind"] == "host-result" and e["step_id"] == "locate"
    ]
    return list(data["verdicts"]), "; ".join(data["messages"])


def outcome(lab: Lab, result: dict[str, Any], expected: str) -> str:
    """The outcome `run --json` gives, also in the record and in `timeline list`; the reason."""
    assert result["outcome"] == expected, (result["outcome"], result["reason"])
    run_id = result["run_id"]
    finished = lab.events(run_id)[-1]
    assert finished["kind"] == "run-finished" and finished["data"]["outcome"] == expected
    [listed] = [r for r in lab.json("timeline", "list") if r["run_id"] == run_id]
    assert listed["outcome"] == expected
    return str(result["reason"])


def row(rows: list[dict[str, str]], port: str) -> dict[str, str]:
    return next(r for r in rows if r["port"] == port)


def has_default_route(rows: list[dict[str, str]] | None) -> bool:
    return any(r["network"] == "0.0.0.0" and r["prefix_length"] == "0" for r in rows or [])


def assert_timeline_complete(lab: Lab, run_id: str, *, through: str | None = None) -> None:
    """`respond timeline verify` is intact, and every step (up to `through`) was recorded as
    started or skipped and then finished."""
    verify = lab.json("timeline", "verify", run_id)
    assert [v["ok"] for v in verify] == [True], verify
    events = lab.events(run_id)
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


# ----------------------------------------------------------------------------- scenarios


def test_link_down_is_located_and_failed_over_to_the_backup_uplink(net: Lab) -> None:
    net.inject("link-down")
    assert net.status()["uplink"] == "none"

    code, result = net.run(RUNBOOK)
    assert code == 0, result
    assert result["status"] == "succeeded"
    assert outcome(net, result, "resolved").startswith(
        "网络已恢复 / The network is restored over the backup uplink Gi0/2 of core-sw1"
    )
    run_id = result["run_id"]
    status = step_status(result)

    # the diagnosis, from the parsed switch output in the record
    ports = parsed(net, run_id, "interfaces")
    assert set(ports) == {"core-sw1", "acc-sw1", "acc-sw2"}
    assert row(ports["core-sw1"], "Gi0/1")["status"] == "notconnect"
    assert row(ports["core-sw1"], "Gi0/2")["status"] == "disabled"
    assert not has_default_route(parsed(net, run_id, "routes")["core-sw1"])
    cdp = parsed(net, run_id, "neighbours")["core-sw1"]
    assert "wan-rtr1" not in {n["neighbor_name"] for n in cdp}
    tags, text = verdict(net, run_id)
    assert tags == ["uplink-down"]
    assert 'core-sw1 Gi0/1 "UPLINK-PRIMARY" notconnect' in text
    assert "CRC errors" in text and "default route on core-sw1: MISSING" in text

    # the gate was confirmed by --yes, then the config went to the core switch only
    gates = [e for e in net.events(run_id) if e["kind"].startswith("gate-")]
    assert [(g["kind"], g["step_id"], g["data"]["by"]) for g in gates] == [
        ("gate-confirmed", "failover", "--yes")
    ]
    assert status["failover"] == "ok"

    # the lab really failed over, and the verification saw it
    lab_status = net.status()
    assert lab_status["uplink"] == "backup"
    assert any(
        "core-sw1 interface GigabitEthernet0/2: no shutdown" in e["text"]
        for e in lab_status["events"]
    )
    route_after = parsed(net, run_id, "verify-route")["core-sw1"]
    assert has_default_route(route_after)
    assert any(r["nexthop_ip"] == "10.0.0.5" for r in route_after)
    for step in ("verify-route", "verify-switches", "verify-servers", "restored"):
        assert status[step] == "ok", (step, status)
    for step in ("all-clear", "escalate-vendor", "escalate-leaders", "onsite-check", "still-down"):
        assert status[step] == "skipped", (step, status)

    # announcements reached the lab: the diagnosis to on-call and vendor, recovery by SMS
    messages = net.messages()
    assert any("Gi0/1" in m and "uplink-down" in m for m in sent(messages, "oncall"))
    assert any("Gi0/1" in m for m in sent(messages, "vendor"))
    assert any("网络已恢复" in m and "backup uplink Gi0/2" in m for m in sent(messages, "sms"))
    assert not sent(messages, "leaders")

    assert_timeline_complete(net, run_id)


def test_switch_down_gives_a_different_diagnosis_and_no_failover(net: Lab) -> None:
    net.inject("switch-down")

    before = net.status()
    code, result = net.run(RUNBOOK, {"onsite-check": "no power"})
    # a dead switch cannot be fixed by configuration: escalated, the run ends unresolved
    assert code == 1, result
    assert result["status"] == "failed"
    assert outcome(net, result, "unresolved").startswith("[network] NOT restored after run")
    run_id = result["run_id"]
    status = step_status(result)

    ports = parsed(net, run_id, "interfaces")
    assert ports["acc-sw2"] is None
    assert "connection refused" in errors_of(net, run_id, "interfaces")["acc-sw2"]
    assert row(ports["core-sw1"], "Gi0/1")["status"] == "connected"
    assert row(ports["core-sw1"], "Gi0/4")["status"] == "notconnect"  # the trunk to acc-sw2
    assert has_default_route(parsed(net, run_id, "routes")["core-sw1"])
    tags, text = verdict(net, run_id)
    assert tags == ["device-down"]
    assert "switch DOWN (unreachable): acc-sw2" in text
    assert "(toward unreachable acc-sw2)" in text
    assert "app1" in text and "oa1" not in text  # the servers cut off behind acc-sw2

    # no failover: the step was skipped, no gate, nothing configured in the lab
    assert status["failover"] == "skipped"
    assert not [e for e in net.events(run_id) if e["kind"].startswith("gate-")]
    lab_status = net.status()
    assert lab_status["uplink"] == "primary"
    assert not any("no shutdown" in e["text"] for e in new_events(before, lab_status))

    # vendor and leaders told, the on-site answer recorded, escalated, no recovery notice
    messages = net.messages()
    assert any("acc-sw2" in m and "on-site" in m for m in sent(messages, "vendor"))
    assert any("acc-sw2" in m for m in sent(messages, "leaders"))
    assert any("NOT restored" in m and "no power" in m for m in sent(messages, "leaders"))
    assert not sent(messages, "sms") and not sent(messages, "oa")
    events = net.events(run_id)
    assert any(e["kind"] == "answer" and e["step_id"] == "onsite-check" for e in events)
    assert any(e["kind"] == "escalated" for e in events)
    assert status["verify-switches"] == "failed"
    assert status["restored"] == "skipped"
    assert status["still-down"] == "ok"

    assert_timeline_complete(net, run_id)


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
    assert "default route on core-sw1: present" in text
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


def test_unattended_without_yes_stops_at_the_gate(net: Lab) -> None:
    net.inject("link-down")

    proc = net.respond("run", RUNBOOK, "--json", "-q")  # no --yes, no answers, no terminal
    assert proc.rc == 3, proc

    result = proc.json()
    assert result["status"] == "aborted" and result["outcome"] == "aborted"
    assert "failover" in result["message"] and "--yes" in result["message"]
    assert f"`respond resume {result['run_id']}` offers the gate again" in result["message"]
    run_id = result["run_id"]

    events = net.events(run_id)
    assert [(e["kind"], e["step_id"]) for e in events if e["kind"].startswith("gate-")] == [
        ("gate-refused", "failover")
    ]
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
