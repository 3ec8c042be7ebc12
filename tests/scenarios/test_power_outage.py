"""power-outage against the lab: the diagnosis follows the injected fault, the recovery
really changes the lab, the announcements arrive, and the record holds every step."""

from __future__ import annotations

from clikit import CLI_TIMEOUT, Journal
from labkit import Lab

NONCRITICAL = ["app1", "app2", "test1"]  # inventory order = the defined shutdown order


def _steps(result: dict) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def test_power_loss_sheds_load_in_order_waits_for_mains_and_restores(lab: Lab) -> None:
    lab.inject("power-loss")  # mains stay off until the run is waiting for them
    journal = Journal(lab.project, lab.home)
    with lab.spawn(*lab.run_args("power-outage", {"check-panel": "mains-off"})) as run:
        journal.wait_for(
            "the run to wait for mains power",
            lambda evs: any(e.kind == "step-started" and e.step_id == "wait-mains" for e in evs),
            running=run,
            timeout=CLI_TIMEOUT,
        )
        lab.inject("power-loss", "--for", "1s")  # mains come back by themselves
        done = run.wait()
    code, result = done.rc, done.json()
    assert code == 0, [
        (s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"
    ]
    steps = _steps(result)
    assert steps["notify-incident"] == "ok" and steps["no-fault"] == "skipped"
    assert steps["ups-fault"] == "skipped"
    # the diagnosis came from the UPS itself
    ups = lab.step_outputs(result["run_id"], "ups-status")["ups1"]
    assert "ups.status: OB" in ups
    # non-critical hosts went down through the playbook, one by one, in the defined order
    status = lab.status()
    downs = [e["host"] for e in status["power_log"] if e["action"] == "shutdown"]
    assert downs == NONCRITICAL
    # ... and came back, with the core systems never touched
    assert all(status["hosts"][h]["power"] == "on" for h in status["hosts"])
    ons = [e["host"] for e in status["power_log"] if e["action"] != "shutdown"]
    assert ons == NONCRITICAL
    # the on-call team heard of the incident, the vendor was called, and the recovery
    # notice went out by SMS
    by_channel: dict[str, list[str]] = {}
    for m in lab.messages():
        by_channel.setdefault(m["channel"], []).append(m["message"])
    assert any("on battery" in m for m in by_channel.get("oncall", []))
    assert by_channel.get("vendor")
    assert any("恢复公告" in m for m in by_channel.get("sms", []))
    events = lab.events(result["run_id"])
    finished = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert finished == set(steps)
    assert any(
        e["kind"] == "gate-confirmed" and e["step_id"] == "shutdown-noncritical" for e in events
    )
    lab.respond("timeline", "verify", result["run_id"], check=True)


def test_ups_fault_on_mains_is_a_different_diagnosis_and_sheds_nothing(lab: Lab) -> None:
    lab.inject("ups-fault")
    code, result = lab.run("power-outage", {})
    assert code == 0, [
        (s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"
    ]
    steps = _steps(result)
    assert steps["ups-fault"] == "ok"
    assert steps["notify-incident"] == "skipped" and steps["shutdown-noncritical"] == "skipped"
    assert steps["no-fault"] == "skipped"
    vendor = [m["message"] for m in lab.messages() if m["channel"] == "vendor"]
    assert vendor and "Replace battery" in vendor[0]
    assert lab.status()["power_log"] == []


def test_no_fault_finishes_with_no_fault_found_and_no_recovery(lab: Lab) -> None:
    code, result = lab.run("power-outage", {})
    assert code == 0, [
        (s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"
    ]
    steps = _steps(result)
    assert steps["no-fault"] == "ok"
    for step in (
        "notify-incident",
        "check-panel",
        "shutdown-noncritical",
        "wait-mains",
        "announce-recovery",
    ):
        assert steps[step] == "skipped", step
    assert lab.status()["power_log"] == []
    assert lab.messages() == []
    log = (lab.home / "notifications.log").read_text(encoding="utf-8")
    assert "no fault found" in log


def test_unattended_without_answers_stops_before_touching_anything(lab: Lab) -> None:
    lab.inject("power-loss")
    proc = lab.respond("run", "power-outage", "--json", "-q")
    assert proc.rc == 3, proc
    assert "--answers" in proc.output
    assert lab.status()["power_log"] == []
