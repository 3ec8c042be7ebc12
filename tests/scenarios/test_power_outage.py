"""power-outage against the lab: the verdict follows the injected fault, the recovery really
changes the lab, the announcements arrive, the recorded outcome says how the run ended, and
the record holds every step."""

from __future__ import annotations

from typing import Any

from clikit import CLI_TIMEOUT, Journal
from labkit import Lab

RUNBOOK = "power-outage"
NONCRITICAL = ["app1", "app2", "test1"]  # inventory order = the defined shutdown order
ON_BATTERY = ["notify-incident", "check-panel", "shutdown-noncritical", "wait-mains",
              "announce-recovery", "restored"]  # fmt: skip


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def _not_ok(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["id"], s["status"], s["message"]) for s in result["steps"] if s["status"] != "ok"]


def _verdicts(lab: Lab, run_id: str) -> list[str]:
    [data] = [
        e["data"]["data"]
        for e in lab.events(run_id)
        if e["kind"] == "host-result" and e["step_id"] == "diagnose"
    ]
    return list(data["verdicts"])


def _check_record(lab: Lab, result: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    run_id = result["run_id"]
    assert result["outcome"] == outcome, (result["outcome"], result["reason"], _not_ok(result))
    events = lab.events(run_id)
    finished = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert finished == set(_steps(result))
    assert events[-1]["kind"] == "run-finished" and events[-1]["data"]["outcome"] == outcome
    [listed] = [r for r in lab.json("timeline", "list") if r["run_id"] == run_id]
    assert listed["outcome"] == outcome
    lab.respond("timeline", "verify", run_id, check=True)
    return events


def test_power_loss_sheds_load_in_order_waits_for_mains_and_restores(lab: Lab) -> None:
    lab.inject("power-loss")  # mains stay off until the run is waiting for them
    journal = Journal(lab.project, lab.home)
    with lab.spawn(*lab.run_args(RUNBOOK, {"check-panel": "mains-off"})) as run:
        journal.wait_for(
            "the run to wait for mains power",
            lambda evs: any(e.kind == "step-started" and e.step_id == "wait-mains" for e in evs),
            running=run,
            timeout=CLI_TIMEOUT,
        )
        lab.inject("power-loss", "--for", "1s")  # mains come back by themselves
        done = run.wait()
    code, result = done.rc, done.json()
    assert code == 0, _not_ok(result)
    events = _check_record(lab, result, "resolved")
    assert result["reason"] == (
        "power restored at main: mains back, the UPS on line, every server answers "
        "(shed and restarted in order: app1, app2, test1)"
    )
    steps = _steps(result)
    assert steps["notify-incident"] == "ok" and steps["no-fault"] == "skipped"
    assert steps["ups-fault"] == "skipped"
    # the diagnosis came from the UPS itself, parsed once
    assert _verdicts(lab, result["run_id"]) == ["on-battery"]
    [facts] = [e for e in events if e["kind"] == "host-result" and e["step_id"] == "facts"]
    assert "OB" in str(facts["data"])
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
    assert any("UPS on battery" in m for m in by_channel.get("oncall", []))
    assert by_channel.get("vendor")
    assert any("恢复公告" in m for m in by_channel.get("sms", []))
    # the run's incident was announced by respond.yaml's policy: when it opened, and when
    # the run restored it
    notices = lab.messages(incident=True)
    opened = {m["channel"] for m in notices if m["title"].endswith("incident opened")}
    restored = {m["channel"] for m in notices if m["title"].endswith("restored")}
    assert {"leaders", "oncall"} <= opened and {"leaders", "oncall"} <= restored
    assert any(
        e["kind"] == "gate-confirmed" and e["step_id"] == "shutdown-noncritical" for e in events
    )


def test_a_refused_load_shed_keeps_every_server_running_and_the_plan_goes_on(lab: Lab) -> None:
    lab.inject("power-loss")
    answers = {"check-panel": "mains-off", "shutdown-noncritical": "no"}
    journal = Journal(lab.project, lab.home)
    with lab.spawn("run", RUNBOOK, "--json", "-q", *_answers(lab, answers)) as run:
        journal.wait_for(
            "the run to wait for mains power",
            lambda evs: any(e.kind == "step-started" and e.step_id == "wait-mains" for e in evs),
            running=run,
            timeout=CLI_TIMEOUT,
        )
        lab.inject("power-loss", "--for", "1s")
        done = run.wait()
    code, result = done.rc, done.json()
    assert code == 0, _not_ok(result)
    events = _check_record(lab, result, "resolved")
    steps = _steps(result)
    assert steps["shutdown-noncritical"] == "skipped" and steps["power-on-noncritical"] == "skipped"
    assert [s["message"] for s in result["steps"] if s["id"] == "shutdown-noncritical"] == [
        "gate refused: " + next(e["data"]["text"] for e in events if e["kind"] == "gate-refused")
    ]
    for step in ("protect-data", "wait-mains", "verify-servers", "announce-recovery", "restored"):
        assert steps[step] == "ok", step
    assert (
        result["reason"]
        == "power restored at main: mains back, the UPS on line, every server answers"
    )
    assert lab.status()["power_log"] == []  # nothing was shut down


def _answers(lab: Lab, answers: dict[str, str]) -> list[str]:
    path = lab.project / "answers-refused.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in answers.items()), encoding="utf-8")
    return ["--answers", str(path)]


def test_ups_fault_on_mains_calls_the_vendor_and_ends_unresolved(lab: Lab) -> None:
    lab.inject("ups-fault")
    code, result = lab.run(RUNBOOK, {})
    assert code == 1, _not_ok(result)
    _check_record(lab, result, "unresolved")
    assert _verdicts(lab, result["run_id"]) == ["ups-fault"]
    assert result["reason"].startswith("UPS fault at main, vendor called: UPS fault while on mains")
    steps = _steps(result)
    assert steps["ups-fault"] == steps["vendor-case"] == "ok"
    for step in ["no-fault", "no-diagnosis", *ON_BATTERY]:
        assert steps[step] == "skipped", step
    vendor = [m["message"] for m in lab.messages() if m["channel"] == "vendor"]
    assert len(vendor) == 1 and "Replace battery" in vendor[0]
    assert lab.status()["power_log"] == []


def test_no_fault_finishes_no_fault_and_says_so_on_the_terminal(lab: Lab) -> None:
    proc = lab.respond("run", RUNBOOK, "--yes")
    assert proc.rc == 0, proc
    [run] = [r for r in lab.json("timeline", "list") if r["runbook"] == RUNBOOK][-1:]
    reason = "no power fault at main: UPS on line (OL), charge 100 %, 7 servers answer"
    assert run["outcome"] == "no-fault"
    assert f"NO FAULT FOUND — {reason}" in proc.output
    assert _verdicts(lab, run["run_id"]) == ["no-fault"]
    skipped = {e["step_id"] for e in lab.events(run["run_id"]) if e["kind"] == "step-skipped"}
    assert {"ups-fault", "no-diagnosis", *ON_BATTERY} <= skipped
    assert lab.status()["power_log"] == []
    assert lab.messages() == []
    log = (lab.home / "notifications.log").read_text(encoding="utf-8")
    assert reason in log


def test_a_ups_that_does_not_answer_is_reported_to_on_call(lab: Lab) -> None:
    lab.inject("server-down", "--target", "ups1")
    code, result = lab.run(RUNBOOK, {})
    assert code == 1, _not_ok(result)
    _check_record(lab, result, "unresolved")
    assert _verdicts(lab, result["run_id"]) == ["unreachable"]
    assert result["reason"].startswith(
        "[main] power diagnosis impossible: the UPS monitor ups1 does not answer"
    )
    steps = _steps(result)
    assert steps["ups-status"] == "failed" and steps["no-diagnosis"] == "ok"
    for step in ["no-fault", "ups-fault", *ON_BATTERY]:
        assert steps[step] == "skipped", step
    [notice] = lab.messages()
    assert notice["channel"] == "oncall" and "ups1 does not answer" in notice["message"]
    assert [e["action"] for e in lab.status()["power_log"]] == ["crash"]  # the fault, no more


def test_unattended_without_answers_stops_before_touching_anything(lab: Lab) -> None:
    lab.inject("power-loss")
    proc = lab.respond("run", RUNBOOK, "--json", "-q")
    assert proc.rc == 3, proc
    assert "--answers" in proc.output
    assert proc.json()["outcome"] == "aborted"
    assert lab.status()["power_log"] == []
