"""`respond drill run` in lab mode against the real embedded lab: the lab started when it is
not running (and stopped after only then), faults injected once the run has started and
healed after it, each recorded first; a failed inject; inventories that are not the lab's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from runkit import DrillProject, first, kinds_of

from respond.config import load_config
from respond.timeline import open_store

OA_STEPS = """\
  - {id: check-oa, kind: http, url: "{{ oa_url }}/health", expect: {status: 200}, on_failure: continue}
  - {id: restart-oa, kind: local, command: "true", confirm: "restart OA?"}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrillProject]:
    project = DrillProject(tmp_path_factory.mktemp("lab-drills") / "proj")
    project.runbook("oa", OA_STEPS)
    try:
        yield project
    finally:
        project.respond("lab", "down")


@pytest.fixture
def lab_running(project: DrillProject) -> DrillProject:
    project.respond("lab", "up", check=True)
    return project


def test_a_lab_drill_starts_the_lab_it_needs_and_stops_it_after(project: DrillProject) -> None:
    assert project.respond("lab", "status").rc == 1  # not running
    project.drill("started", runbook="oa", mode="lab")
    result, out = project.drill_run("started", "--yes")
    assert result.rc == 0, result
    meta = project.meta(out["run_id"])
    assert meta["drill_mode"] == "lab"
    assert meta["inventory"] == str(project.root / "inventory" / "lab.yaml")
    assert "host-result" in kinds_of(project.events(out["run_id"]), "check-oa")
    assert project.respond("lab", "status").rc == 1  # the drill started it: stopped again


def test_a_lab_drill_injects_its_fault_first_and_heals_the_lab_after(
    lab_running: DrillProject,
) -> None:
    project = lab_running
    project.drill(
        "oa-down", runbook="oa", mode="lab", inject=["oa-down"], objectives=[{"respond": "10m"}]
    )
    result, out = project.drill_run("oa-down", "--yes")
    assert result.rc == 0, result
    events = project.events(out["run_id"])
    kinds = kinds_of(events)
    inject = kinds.index("drill-inject")
    assert kinds[0] == "run-started" and inject < kinds.index("step-started")
    assert first(events, "drill-inject")["data"] == {
        "fault": "oa-down",
        "target": "oa1",
        "duration": None,
        "applied": True,
        "result": first(events, "drill-inject")["data"]["result"],
    }
    # the drill's clock starts at the fault (the scorecard's t0)
    assert out["scorecard"]["t0"] == first(events, "drill-inject")["ts"]
    assert out["scorecard"]["passed"] is True
    # the fault was on while the steps ran: OA's health check failed
    check = first(events, "host-result", "check-oa")["data"]
    assert check["status"] == "failed" and "503" in str(check), check
    # healed after the run ended, recorded first; the lab still runs (it was not started
    # by the drill) and has no fault left
    assert kinds.index("drill-heal") > kinds.index("run-finished")
    assert first(events, "drill-heal")["data"] == {"faults": ["oa-down"], "result": "healing"}
    status = project.respond("lab", "status", "--json", check=True).json()
    assert status["running"] and status["faults"] == [], status
    project.respond("timeline", "verify", out["run_id"], check=True)


def test_a_failed_inject_fails_the_drill_before_any_step(lab_running: DrillProject) -> None:
    project = lab_running
    project.drill(
        "bad-inject",
        runbook="oa",
        mode="lab",
        inject=[{"fault": "link-down", "target": "nosuch-sw:Gi0/9"}],
    )
    result, out = project.drill_run("bad-inject", "--yes")
    assert result.rc == 1 and out["outcome"] == "failed", result
    assert "the lab fault link-down could not be injected" in out["reason"]
    events = project.events(out["run_id"])
    assert "step-started" not in kinds_of(events)
    intent, failed = [e["data"] for e in events if e["kind"] == "drill-inject"]
    assert intent["applied"] is True and intent["target"] == "nosuch-sw:Gi0/9"
    assert failed["applied"] is False and failed["result"] == "failed" and failed["error"]
    assert "drill-heal" in kinds_of(events)


def test_a_lab_drill_refuses_a_production_inventory_and_records_nothing(
    lab_running: DrillProject,
) -> None:
    project = lab_running
    (project.root / "inventory" / "prod.yaml").write_text(
        "all:\n  hosts:\n    core1: {ansible_host: 10.1.1.1}\n", encoding="utf-8"
    )
    before = project.drill_runs()
    project.drill("prod", runbook="oa", mode="lab", inventory="inventory/prod.yaml")
    result = project.respond("drill", "run", "prod", "--yes")
    assert result.rc == 2, result
    assert "lab drills run only against the lab's inventory (inventory/lab.yaml)" in (result.stderr)
    assert "drills/prod.yaml:" in result.stderr
    assert project.drill_runs() == before


def test_a_lab_inventory_with_a_host_off_loopback_is_refused(lab_running: DrillProject) -> None:
    project = lab_running
    lab_yaml = project.root / "inventory" / "lab.yaml"
    original = lab_yaml.read_text(encoding="utf-8")
    before = project.drill_runs()
    project.drill("tampered", runbook="oa", mode="lab", schedule="quarterly")
    try:
        lab_yaml.write_text(
            original.replace("ansible_host: 127.0.0.1", "ansible_host: 10.10.1.11", 1),
            encoding="utf-8",
        )
        result = project.respond("drill", "run", "tampered", "--yes")
    finally:
        lab_yaml.write_text(original, encoding="utf-8")
    assert result.rc == 2, result
    assert "lab drills run only against the lab, on loopback; inventory inventory/lab.yaml" in (
        result.stderr
    )
    assert "(10.10.1.11)" in result.stderr
    assert project.drill_runs() == before
    # the quarter's occurrence was taken on by this attempt: it says why nothing ran
    [taken] = open_store(
        load_config(str(project.root), str(project.root / ".respond"))
    ).drill_occurrences("tampered")
    assert taken["run_id"] is None
    assert taken["detail"].startswith(
        "not run: drill tampered: lab drills run only against the lab"
    )
