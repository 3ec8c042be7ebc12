"""oa-sms-outage against the lab: the outage notice goes out through the platform that still
works (SMS for an OA outage, OA for an SMS outage, the on-call sink when both are down), the
restart really brings the failed service back, the recovery is announced, the recorded
outcome says how the run ended, and the record holds every step."""

from __future__ import annotations

from typing import Any

from labkit import Lab

RECOVERY = ["restart", "wait-oa", "wait-sms", "recovery-notice", "restored"]
NOTICES = ["notice-oa-down", "notice-sms-down", "notice-both-down"]


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def _not_ok(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"]


def _check_record(lab: Lab, result: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    """Every step is recorded, the chain verifies, and the outcome is the one `run --json`
    gave, in the run-finished event and in `timeline list` too."""
    assert result["outcome"] == outcome, (result["outcome"], result["reason"], _not_ok(result))
    events = lab.events(result["run_id"])
    done = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert done == set(_steps(result))
    assert events[-1]["kind"] == "run-finished" and events[-1]["data"]["outcome"] == outcome
    [listed] = [r for r in lab.json("timeline", "list") if r["run_id"] == result["run_id"]]
    assert listed["outcome"] == outcome
    lab.respond("timeline", "verify", result["run_id"], check=True)
    return events


def _verdict(lab: Lab, run_id: str) -> str:
    [data] = [
        e["data"]["data"]
        for e in lab.events(run_id)
        if e["kind"] == "host-result" and e["step_id"] == "diagnose"
    ]
    return str(data["verdict"])


def _restarted(events: list[dict[str, Any]]) -> list[str]:
    """Hosts on which the run issued a command during the restart step."""
    return sorted(
        e["host"] for e in events if e["kind"] == "host-intent" and e["step_id"] == "restart"
    )


def _only(steps: dict[str, str], ran: set[str], among: list[str]) -> None:
    for step in among:
        assert steps[step] == ("ok" if step in ran else "skipped"), step


def test_oa_down_is_announced_by_sms_restarted_and_recovery_announced(lab: Lab) -> None:
    lab.inject("oa-down")
    assert lab.status()["oa"]["ok"] is False
    code, result = lab.run("oa-sms-outage")
    assert code == 0, _not_ok(result)
    steps = _steps(result)
    assert steps["check-oa"] == "failed" and steps["check-sms"] == "ok"
    _only(steps, {"notice-oa-down"}, NOTICES)
    _only(steps, {"restart", "wait-oa", "recovery-notice", "restored"}, RECOVERY)

    messages = lab.messages()
    # the cause, from the OA server's own unit state and journal, went to the on-call team
    [cause] = [m for m in messages if m["channel"] == "oncall"]
    assert "OA: DOWN" in cause["message"] and "SMS: up" in cause["message"]
    assert "oa-web on oa1: failed" in cause["message"]
    # the outage notice reached the SMS platform (OA itself was down), then the recovery
    sms = [m for m in messages if m["channel"] == "sms"]
    assert [m["title"].split(" /")[0] for m in sms] == ["停机公告", "恢复公告"]
    assert "phone or IM" in sms[0]["message"] and "OA" in sms[1]["message"]
    assert not [m for m in messages if m["channel"] in ("oa", "leaders")]

    # the restart on oa1 (only) really fixed OA
    events = _check_record(lab, result, "resolved")
    assert _verdict(lab, result["run_id"]) == "oa-down"
    assert result["reason"].startswith(
        "OA restored by a restart (oa-down: OA: DOWN (oa-web is failed"
    )
    assert _restarted(events) == ["oa1"]
    status = lab.status()
    assert status["oa"]["ok"] and status["sms"]["ok"] and status["faults"] == []
    assert status["hosts"]["oa1"]["services"]["oa-web"] == "active"


def test_sms_down_is_announced_through_oa_and_sms_restarted(lab: Lab) -> None:
    lab.inject("sms-down")
    assert lab.status()["sms"]["ok"] is False
    code, result = lab.run("oa-sms-outage")
    assert code == 0, _not_ok(result)
    steps = _steps(result)
    assert steps["check-oa"] == "ok" and steps["check-sms"] == "failed"
    _only(steps, {"notice-sms-down"}, NOTICES)
    _only(steps, {"restart", "wait-sms", "recovery-notice", "restored"}, RECOVERY)

    messages = lab.messages()
    [cause] = [m for m in messages if m["channel"] == "oncall"]
    assert "SMS: DOWN" in cause["message"] and "sms-gateway on sms1: failed" in cause["message"]
    [outage] = [m for m in messages if m["channel"] == "oa"]
    assert outage["title"].startswith("停机公告") and "SMS platform is down" in outage["message"]
    # the recovery goes out by SMS again, now that it works
    [recovery] = [m for m in messages if m["channel"] == "sms"]
    assert recovery["title"].startswith("恢复公告") and "SMS platform" in recovery["message"]
    assert recovery["id"] > outage["id"]

    events = _check_record(lab, result, "resolved")
    assert _verdict(lab, result["run_id"]) == "sms-down"
    assert _restarted(events) == ["sms1"]
    status = lab.status()
    assert status["sms"]["ok"] and status["oa"]["ok"] and status["faults"] == []
    assert status["hosts"]["sms1"]["services"]["sms-gateway"] == "active"


def test_both_down_goes_to_the_on_call_sink_and_both_are_restarted(lab: Lab) -> None:
    lab.inject("oa-down")
    lab.inject("sms-down")
    code, result = lab.run("oa-sms-outage")
    assert code == 0, _not_ok(result)
    steps = _steps(result)
    _only(steps, {"notice-both-down"}, NOTICES)
    _only(steps, {"restart", "wait-oa", "wait-sms", "recovery-notice", "restored"}, RECOVERY)
    messages = lab.messages()
    oncall = [m["message"] for m in messages if m["channel"] == "oncall"]
    assert any("both down" in m and "phone" in m for m in oncall)
    # neither platform could carry the outage notice; the recovery notice uses SMS again
    assert [m["title"].split(" /")[0] for m in messages if m["channel"] in ("sms", "oa")] == [
        "恢复公告"
    ]
    assert _restarted(_check_record(lab, result, "resolved")) == ["oa1", "sms1"]
    assert _verdict(lab, result["run_id"]) == "both-down"
    assert result["reason"].startswith("OA and SMS restored by a restart")
    status = lab.status()
    assert status["oa"]["ok"] and status["sms"]["ok"]


def test_no_fault_finishes_no_fault_and_restarts_nothing(lab: Lab) -> None:
    before = lab.status()
    code, result = lab.run("oa-sms-outage")
    assert code == 0, _not_ok(result)
    steps = _steps(result)
    assert steps["check-oa"] == steps["check-sms"] == steps["all-clear"] == "ok"
    _only(steps, set(), [*NOTICES, "cause", *RECOVERY, "report-leaders"])
    events = _check_record(lab, result, "no-fault")
    assert _verdict(lab, result["run_id"]) == "no-fault"
    assert result["reason"].startswith("no fault found: OA (http://127.0.0.1:")
    assert _restarted(events) == []
    [notice] = lab.messages()
    assert notice["channel"] == "oncall" and "no fault found" in notice["message"]
    assert "oa-web on oa1 is active" in notice["message"]
    after = lab.status()
    assert after["hosts"] == before["hosts"] and after["events"] == before["events"]


def test_a_service_that_stays_down_is_reported_to_the_leaders_unresolved(lab: Lab) -> None:
    lab.inject("sms-down")
    lab.inject("server-down", "--target", "sms1")  # the restart cannot reach the server
    code, result = lab.run("oa-sms-outage", None, "-p", "restore_wait=3s")
    assert code == 1, _not_ok(result)
    _check_record(lab, result, "unresolved")
    steps = _steps(result)
    assert steps["wait-sms"] == "timed_out" and steps["restored"] == "skipped"
    assert steps["report-leaders"] == "ok"
    assert result["reason"].startswith("[level 1] SMS not restored by a restart")
    leaders = [m["message"] for m in lab.messages() if m["channel"] == "leaders"]
    assert any("SMS not restored" in m and "sms1 failed" in m for m in leaders)
