"""server-failure against the lab: the diagnosis follows the injected fault (disk, crash or
none), the remote fix really changes the lab, the vendor case comes from the operator's
answers, the backup archive lands on the server, and the record holds every step."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path
from typing import Any

from labkit import Lab

CASE = {
    "supplier": "浪潮 Inspur service",
    "case-number": "INS-2026-4711",
    "engineer-eta": "today 15:30",
    "parts-eta": "tomorrow 09:00 (备品备件: 2 TB SAS disk)",
}
VENDOR_CASE_STEPS = ["report-supplier", *CASE, "case-recorded"]


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def _not_ok(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"]


def _messages(lab: Lab) -> dict[str, list[str]]:
    by_channel: dict[str, list[str]] = {}
    for m in lab.messages():
        by_channel.setdefault(m["channel"], []).append(f"{m['title']}: {m['message']}")
    return by_channel


def _check_record(lab: Lab, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of the runbook is in the timeline, and the chain verifies."""
    events = lab.events(result["run_id"])
    done = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert done == set(_steps(result))
    lab.respond("timeline", "verify", result["run_id"], check=True)
    return events


def test_disk_failure_is_diagnosed_escalated_recorded_and_backed_up(lab: Lab) -> None:
    lab.inject("disk-failure", "--target", "file1")
    code, result = lab.run("server-failure", CASE, "-p", "server=file1")
    run_id = result["run_id"]
    steps = _steps(result)
    # a failed disk cannot be fixed remotely: the run ends unresolved (exit 1)
    assert code == 1 and result["status"] == "failed", _not_ok(result)

    # the diagnosis names the disk, from what the server and its BMC said
    diagnosis = lab.step_outputs(run_id, "diagnose")["localhost"]
    assert diagnosis.startswith("disk-failure: file1"), diagnosis
    assert "Drive 1" in diagnosis and "Input/output error" in diagnosis
    assert "Drive Fault" in lab.step_outputs(run_id, "hardware")["ups1"]

    # the remote fix was tried and failed on the server itself; no power action
    assert steps["restart-service"] == "failed" and steps["power-on"] == "skipped"
    assert lab.status()["hosts"]["file1"]["services"]["smbd"] != "active"
    assert lab.status()["power_log"] == []

    # the vendor case: the operator's answers are in the record and in the notifications
    events = _check_record(lab, result)
    answers = {e["step_id"]: e["data"]["answer"] for e in events if e["kind"] == "answer"}
    assert answers == CASE
    for step in VENDOR_CASE_STEPS:
        assert steps[step] == "ok", step
    messages = _messages(lab)
    assert any("disk-failure" in m for m in messages["vendor"])
    assert any(CASE["case-number"] in m and CASE["parts-eta"] in m for m in messages["oncall"])

    # escalated one level and reported up the chain, with the case and the backup in it
    escalations = [e["data"] for e in events if e["kind"] == "escalated"]
    assert [(x["from"], x["to"]) for x in escalations] == [(2, 1)]
    # the escalation itself is announced to the leaders (notify.escalation), then the
    # runbook's own report with the case and the backup result
    leaders = messages["leaders"]
    assert len(leaders) == 2 and "escalated from level 2 to level 1" in leaders[0]
    assert "[level 1]" in leaders[1]
    assert CASE["case-number"] in leaders[1] and "Backup: done" in leaders[1]

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


def test_crashed_server_is_a_different_diagnosis_and_powered_back_on(lab: Lab) -> None:
    lab.inject("server-down", "--target", "app1")
    assert lab.status()["hosts"]["app1"]["power"] == "crashed"
    code, result = lab.run("server-failure", {}, "-p", "server=app1")
    assert code == 0, _not_ok(result)
    run_id = result["run_id"]
    steps = _steps(result)

    diagnosis = lab.step_outputs(run_id, "diagnose")["localhost"]
    assert diagnosis.startswith("server-down: app1 does not answer SSH"), diagnosis
    assert "Chassis Power is off" in diagnosis and "IERR" in diagnosis
    assert steps["reach"] == "failed" and steps["logs"] == "skipped"

    # powered on through the BMC from the management host, and really back
    assert steps["power-on"] == "ok" and steps["restart-service"] == "skipped"
    assert steps["verify-fix"] == "ok"
    status = lab.status()
    assert status["hosts"]["app1"]["power"] == "on" and status["hosts"]["app1"]["reachable"]
    assert [(e["host"], e["action"]) for e in status["power_log"]][-1] == ("app1", "power-on")
    assert status["power_log"][-1]["by"] == "ipmitool chassis power on"

    # fixed remotely: no supplier case, no backup, no escalation; a recovery notice
    for step in [*VENDOR_CASE_STEPS, "backup", "hardware-recheck", "escalate", "all-clear"]:
        assert steps[step] == "skipped", step
    events = _check_record(lab, result)
    assert not [e for e in events if e["kind"] in ("escalated", "prompt")]
    assert any(e["kind"] == "gate-confirmed" and e["step_id"] == "power-on" for e in events)
    messages = _messages(lab)
    assert any("server-down: app1" in m for m in messages["vendor"])
    assert any("app1 is back" in m for m in messages["oncall"])
    assert "leaders" not in messages
    assert not (lab.lab_dir / "hosts" / "app1" / "respond-backups").exists()


def test_no_fault_finishes_with_no_fault_found_and_changes_nothing(lab: Lab) -> None:
    before = lab.status()
    code, result = lab.run("server-failure", {})
    assert code == 0, _not_ok(result)
    steps = _steps(result)
    diagnosis = lab.step_outputs(result["run_id"], "diagnose")["localhost"]
    assert diagnosis.startswith("no-fault: file1"), diagnosis
    assert steps["all-clear"] == "ok"
    for step in ["call-vendor", "restart-service", "power-on", "verify-fix", *VENDOR_CASE_STEPS,
                 "backup", "hardware-recheck", "escalate", "restored"]:  # fmt: skip
        assert steps[step] == "skipped", step
    events = _check_record(lab, result)
    assert not [e for e in events if e["kind"] in ("escalated", "prompt", "gate-confirmed")]
    messages = _messages(lab)
    assert set(messages) == {"oncall"}
    [notice] = messages["oncall"]
    assert "no fault found" in notice and "smbd is active" in notice
    after = lab.status()
    assert after["hosts"] == before["hosts"] and after["power_log"] == before["power_log"] == []
    assert after["events"] == before["events"]
    assert not (lab.lab_dir / "hosts" / "file1" / "respond-backups").exists()
