"""server-failure against the lab: without `-p server` the runbook finds the failing server
itself among `servers`, whatever host the fault is on; the verdict follows the fault
(server-down, disk-failure, psu-failure, service-failure or none), the remote fix really
changes the lab, hardware ends unresolved with the vendor case from the operator's answers,
and the recorded outcome says how the run ended."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import REPO, Lab

RUNBOOK = "server-failure"
# the vendor case as the operator answers it: the shipped example answers file
CASE = yaml.safe_load((REPO / "examples" / "answers" / "server-failure.yaml").read_text("utf-8"))
VENDOR_CASE_STEPS = ["report-supplier", *CASE, "case-recorded"]


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def _not_ok(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"]


def _messages(lab: Lab) -> dict[str, list[str]]:
    by_channel: dict[str, list[str]] = {}
    for m in lab.messages():
        by_channel.setdefault(m["channel"], []).append(f"{m.get('title') or ''}: {m['message']}")
    return by_channel


def _decision(lab: Lab, run_id: str) -> dict[str, Any]:
    """What the `diagnose` step decided, from the record: verdict(s) and message(s)."""
    [result] = [
        e["data"]["data"]
        for e in lab.events(run_id)
        if e["kind"] == "host-result" and e["step_id"] == "diagnose"
    ]
    return result


def _check_record(lab: Lab, result: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    """Every step is in the timeline, the chain verifies, and the outcome is recorded in the
    run-finished event and in `timeline list`, as `run --json` said."""
    run_id = result["run_id"]
    assert result["outcome"] == outcome, (result["outcome"], result["reason"], _not_ok(result))
    events = lab.events(run_id)
    done = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert done == set(_steps(result))
    [finished] = [e for e in events if e["kind"] == "run-finished"]
    assert (finished["data"]["outcome"], finished["data"]["reason"]) == (outcome, result["reason"])
    [listed] = [r for r in lab.json("timeline", "list") if r["run_id"] == run_id]
    assert listed["outcome"] == outcome
    lab.respond("timeline", "verify", run_id, check=True)
    return events


def _case_answers(events: list[dict[str, Any]]) -> dict[str, str]:
    return {e["step_id"]: e["data"]["answer"] for e in events if e["kind"] == "answer"}


# ----------------------------------------------------------------------------- found by itself


@pytest.mark.parametrize(
    ("host", "params"),
    [("app1", ()), ("ups1", ())],  # ups1 is also where the BMCs are read from: another host is
)
def test_a_crashed_server_is_found_and_powered_on_through_its_bmc(
    lab: Lab, host: str, params: tuple[str, ...]
) -> None:
    lab.inject("server-down", "--target", host)
    code, result = lab.run(RUNBOOK, {}, *params)
    assert code == 0, _not_ok(result)
    events = _check_record(lab, result, "resolved")
    steps = _steps(result)
    decision = _decision(lab, result["run_id"])
    assert decision["verdicts"] == ["server-down"], decision
    assert decision["message"].startswith(f"{host} down: no SSH answer, BMC power off")
    assert f"crashed (IERR in the event log): {host}" in decision["message"]

    # powered on through a BMC, and really back; nothing for the vendor
    assert steps["power-on"] == "ok" and steps["restart-service"] == "skipped"
    assert steps["verify-fix"] == steps["restored"] == "ok"
    status = lab.status()
    assert status["hosts"][host]["power"] == "on" and status["hosts"][host]["reachable"]
    assert [(e["host"], e["by"]) for e in status["power_log"]][-1] == (
        host,
        "ipmitool chassis power on",
    )
    for step in [*VENDOR_CASE_STEPS, "backup", "hardware-recheck", "escalate", "all-clear"]:
        assert steps[step] == "skipped", step
    assert not [e for e in events if e["kind"] in ("escalated", "prompt")]
    assert any(e["kind"] == "gate-confirmed" and e["step_id"] == "power-on" for e in events)
    assert f"{host} back after a BMC power-on" in result["reason"]
    messages = _messages(lab)
    assert any(f"{host} down" in m for m in messages["vendor"])
    assert any(f"{host} back" in m for m in messages["oncall"])
    assert "leaders" not in messages


@pytest.mark.parametrize(
    ("target", "unit", "params"),
    [("app1", "cron", ()), ("db1/postgresql", "postgresql", ("-p", "server=db1"))],
)
def test_a_failed_service_is_found_and_restarted(
    lab: Lab, target: str, unit: str, params: tuple[str, ...]
) -> None:
    host = target.split("/")[0]
    lab.inject("service-down", "--target", target)
    code, result = lab.run(RUNBOOK, {}, *params)
    assert code == 0, _not_ok(result)
    events = _check_record(lab, result, "resolved")
    steps = _steps(result)
    decision = _decision(lab, result["run_id"])
    assert decision["verdicts"] == ["service-failure"], decision
    assert decision["message"] == f"failed units: {host} {unit}"
    assert steps["restart-service"] == "ok" and steps["power-on"] == "skipped"
    assert steps["restored"] == "ok" and steps["backup"] == "skipped"
    assert [e["host"] for e in events if e["kind"] == "host-intent" and e["step_id"] == "restart-service"] == [host]  # fmt: skip
    status = lab.status()
    assert status["faults"] == [] and status["hosts"][host]["services"][unit] == "active"
    assert status["power_log"] == []


@pytest.mark.parametrize(("host", "params"), [("db1", ()), ("app2", ("-p", "server=app2"))])
def test_a_failed_power_supply_ends_unresolved_with_the_vendor_case(
    lab: Lab, host: str, params: tuple[str, ...]
) -> None:
    lab.inject("psu-failure", "--target", host)
    code, result = lab.run(RUNBOOK, CASE, *params)
    assert code == 1, _not_ok(result)
    events = _check_record(lab, result, "unresolved")
    steps = _steps(result)
    decision = _decision(lab, result["run_id"])
    assert decision["verdicts"] == ["psu-failure"], decision
    assert f"power supply failed on {host}" in decision["message"]
    assert steps["restart-service"] == steps["power-on"] == steps["verify-fix"] == "skipped"
    assert _case_answers(events) == CASE
    # no remote fix clears a hardware alarm: re-checked, escalated once, leaders told
    assert steps["hardware-recheck"] == "failed"
    assert [(x["data"]["from"], x["data"]["to"]) for x in events if x["kind"] == "escalated"] == [(2, 1)]  # fmt: skip
    assert result["reason"].startswith("[level 1] not fixed remotely: power supply failed")
    assert CASE["case-number"] in result["reason"]
    assert any(CASE["case-number"] in m for m in _messages(lab)["leaders"])


def test_a_failed_disk_on_a_server_without_a_data_disk_is_found_and_ends_unresolved(
    lab: Lab,
) -> None:
    lab.inject("disk-failure", "--target", "app1")  # the system mirror degrades, services run
    code, result = lab.run(RUNBOOK, CASE)
    assert code == 1, _not_ok(result)
    events = _check_record(lab, result, "unresolved")
    decision = _decision(lab, result["run_id"])
    assert decision["verdicts"] == ["disk-failure"], decision
    assert (
        decision["message"] == "disk failed on app1; Drive critical: app1; kernel I/O errors: app1"
    )
    steps = _steps(result)
    assert steps["restart-service"] == steps["power-on"] == "skipped"  # nothing to restart
    assert _case_answers(events) == CASE
    assert steps["backup"] == "ok" and steps["hardware-recheck"] == "failed"
    assert result["reason"].startswith("[level 1] not fixed remotely: disk failed on app1")
    assert "Backup: done on app1, services stopped for a safe shutdown" in result["reason"]


def test_disk_failure_is_diagnosed_escalated_recorded_and_backed_up(lab: Lab) -> None:
    lab.inject("disk-failure", "--target", "file1")
    code, result = lab.run(RUNBOOK, CASE, "-p", "server=file1")
    run_id = result["run_id"]
    steps = _steps(result)
    # a failed disk cannot be fixed remotely: the run ends unresolved (exit 1), not failed
    assert code == 1 and result["status"] == "failed", _not_ok(result)
    events = _check_record(lab, result, "unresolved")

    # the diagnosis names the disk, from what the server and its BMC said
    decision = _decision(lab, run_id)
    assert decision["verdicts"] == ["disk-failure"], decision
    hardware = lab.step_outputs(run_id, "hardware")["ups1"]
    assert hardware.strip() == "file1 power=on psu=0 drive=1 crash=0"
    assert "I/O error" in lab.step_outputs(run_id, "kernel-log")["file1"]

    # the remote fix was tried and failed on the server itself; no power action
    assert steps["restart-service"] == "failed" and steps["power-on"] == "skipped"
    assert lab.status()["hosts"]["file1"]["services"]["smbd"] != "active"
    assert lab.status()["power_log"] == []

    # the vendor case: the operator's answers are in the record and in the notifications
    assert _case_answers(events) == CASE
    for step in VENDOR_CASE_STEPS:
        assert steps[step] == "ok", step
    messages = _messages(lab)
    assert any("disk failed on file1" in m for m in messages["vendor"])
    assert any(CASE["case-number"] in m and CASE["parts-eta"] in m for m in messages["oncall"])

    # escalated one level and reported up the chain, with the case and the backup in it
    escalations = [e["data"] for e in events if e["kind"] == "escalated"]
    assert [(x["from"], x["to"]) for x in escalations] == [(2, 1)]
    leaders = messages["leaders"]
    assert len(leaders) == 1 and "[level 1]" in leaders[0]
    assert CASE["case-number"] in leaders[0] and "Backup: done" in leaders[0]
    # the escalation is the incident's: announced by its policy to level 1's people
    escalated = [
        m
        for m in lab.messages(incident=True)
        if m["channel"] == "leaders" and "escalated to level 1" in m["message"]
    ]
    assert len(escalated) == 1 and "升级至1级" in escalated[0]["message"]

    # the backup archive exists on the server (its scratch directory), is intact, and
    # holds the state snapshot with the disk errors; the service was stopped afterwards
    assert steps["backup"] == "ok"
    assert any(e["kind"] == "gate-confirmed" and e["step_id"] == "backup" for e in events)
    backups = lab.lab_dir / "hosts" / "file1" / "respond-backups"
    archive = backups / f"file1-{run_id}.tar.gz"
    digest = (backups / f"file1-{run_id}.tar.gz.sha256").read_text().split()[0]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest
    with tarfile.open(archive) as tar:
        names = {Path(n).name for n in tar.getnames()}
        journal = tar.extractfile(f"file1-{run_id}/journal.txt")
        assert journal is not None and b"I/O error" in journal.read()
    assert {"service-status.txt", "df.txt", "ipmi-sel.txt", "ipmi-sdr.txt"} <= names
    [backup] = [e for e in events if e["kind"] == "host-result" and e["step_id"] == "backup"]
    tasks = {t["task"]: t for t in backup["data"]["data"]["tasks"]}
    assert tasks["Stop the services in order"]["status"] == "ok"
    assert str(archive) in tasks["Ready for a safe shutdown"]["msg"]


def test_servers_that_are_up_but_cannot_be_reached_are_reported_to_on_call(lab: Lab) -> None:
    lab.inject("switch-down")  # acc-sw2: app1, app2 and test1 run but are cut off
    code, result = lab.run(RUNBOOK, {})
    assert code == 1, _not_ok(result)
    _check_record(lab, result, "unresolved")
    decision = _decision(lab, result["run_id"])
    assert decision["verdicts"] == ["unreachable"], decision
    assert result["reason"] == (
        "server diagnosis incomplete: app1, app2, test1 do not answer SSH although powered on: "
        f"a network or OS fault. Run {result['run_id']}."
    )
    steps = _steps(result)
    assert steps["no-diagnosis"] == "ok"
    assert all(steps[s] == "skipped" for s in ("call-vendor", "power-on", "escalate"))
    [notice] = lab.messages()
    assert notice["channel"] == "oncall" and "app1, app2, test1 do not answer" in notice["message"]


# ----------------------------------------------------------------------------- no fault


def test_no_fault_finishes_no_fault_on_the_terminal_and_changes_nothing(lab: Lab) -> None:
    before = lab.status()
    proc = lab.respond("run", RUNBOOK, "--yes")  # as an engineer runs it: the terminal output
    assert proc.rc == 0, proc
    [run] = [r for r in lab.json("timeline", "list") if r["runbook"] == RUNBOOK][-1:]
    run_id = run["run_id"]
    reason = "no server fault found: 8 servers answer, no failed unit, no critical sensor, no disk error. Nothing changed."  # fmt: skip
    assert run["outcome"] == "no-fault"
    assert f"NO FAULT FOUND — {reason}" in proc.output
    assert _decision(lab, run_id)["verdicts"] == ["no-fault"]
    events = lab.events(run_id)
    skipped = {e["step_id"] for e in events if e["kind"] == "step-skipped"}
    assert {"call-vendor", "restart-service", "power-on", *VENDOR_CASE_STEPS, "escalate"} <= skipped
    assert not [e for e in events if e["kind"] in ("escalated", "prompt", "gate-confirmed")]
    [notice] = _messages(lab)["oncall"]
    assert reason in notice
    after = lab.status()
    assert after["hosts"] == before["hosts"] and after["power_log"] == []
    assert after["events"] == before["events"]
