"""An inspection's ``on_critical`` rules, acting on CRITICAL results against the lab: a
``run`` rule runs the power-outage runbook as an incident run, unattended (it stops at its
first decision for a person, after the diagnosis, recorded as aborted, exit 3); an
``incident`` rule opens an incident, pages the lab's on-call endpoint with the findings, and
while that incident is open a later inspection only adds a note to it. Each action is noted
on the inspection run.

The rules are first given a run record made the way ``inspect run`` makes it (meta with the
lab's inventory and the ``inspection`` section) and per-host check dicts as it passes them;
then, end to end, `respond schedule run` runs a due inspection whose ``ups`` check finds the UPS on
battery (the same lab, shared by the module)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from labkit import Lab, copy_project, start_lab

from respond.cli import AppContext
from respond.cli.inspect_actions import Finding, matching, on_critical
from respond.events import EventDraft, EventKind
from respond.inspections.loader import load_inspection
from respond.inspections.model import CriticalRule, Inspection
from respond.timeline import Store, open_store
from respond.timeline.store import new_run_id

UPS_ON_BATTERY = "UPS CRITICAL - on battery (OB DISCHRG), 29 min left"
DIAGNOSIS = ("ups-status", "hosts-up", "diagnose")
# Scheduled daily at 03:00 UTC; the schedule is run as if it were 03:30 on December 1st.
WATCH = """inspection: power-watch
title: 电源巡检 / Power watch
schedule: {cron: "0 3 * * *", timezone: UTC}
checks:
  - check: ups
    targets: ups1
on_critical:
  - checks: [ups]
    action: run
    runbook: power-outage
    params: {min_runtime: 30}
    severity: 2
"""
NOW = "2026-12-01T03:30:00Z"
OCCURRENCE = "2026-12-01T03:00:00.000000Z"


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("on-critical")
    project = copy_project(base / "project")
    # only this module's inspection is scheduled in its project
    shutil.rmtree(project / "inspections", ignore_errors=True)
    (project / "inspections").mkdir()
    (project / "inspections" / "power-watch.yaml").write_text(WATCH, encoding="utf-8")
    the_lab = start_lab(project, base / "home", hosts=3)
    try:
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture
def lab(module_lab: Lab) -> Lab:
    module_lab.heal()
    module_lab.forget()
    return module_lab


def rule(action: str, runbook: str = "power-outage", **extra: Any) -> CriticalRule:
    return CriticalRule.model_validate(
        {"checks": ["ups"], **extra, "action": action, "runbook": runbook}
    )


def inspection(lab: Lab, name: str, rules: str) -> Inspection:
    """A definition as a user writes it (YAML ``on_critical`` items), loaded by the real
    loader, kept outside inspections/ so the schedule never runs it."""
    folder = lab.project / "definitions"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    checks = "  - {check: ups, targets: ups1}\n  - {check: disk, targets: core1}\n"
    text = f"inspection: {name}\nchecks:\n{checks}on_critical:\n"
    path.write_text(text + rules, encoding="utf-8")
    return load_inspection(path, app_of(lab).config)


def result(host: str, check_id: str, state: str, summary: str) -> dict[str, Any]:
    return {"host": host, "check_id": check_id, "check": check_id, "state": state,
            "summary": summary}  # fmt: skip


UPS_RESULTS = [
    result("ups1", "ups", "CRITICAL", UPS_ON_BATTERY),
    result("core1", "reachable", "OK", "REACHABLE OK - up 3 days"),
    result("core1", "disk", "CRITICAL", "DISK CRITICAL - / 93% used"),
]


def app_of(lab: Lab) -> AppContext:
    return AppContext(str(lab.project), str(lab.home), False)


def store_of(lab: Lab) -> Store:
    return open_store(app_of(lab).config)


def inspection_run(lab: Lab, name: str) -> str:
    """A finished inspection run on the lab's inventory, as ``inspect run`` records it."""
    run_id = new_run_id()
    with store_of(lab) as store:
        store.create_run(
            run_id,
            {
                "runbook": name,
                "version": "1.0.0",
                "operator": "tester@lab",
                "severity": 4,
                "drill": False,
                "inventory": str(lab.project / "inventory" / "lab.yaml"),
                "inspection": {"name": name, "version": "1.0.0", "occurrence": None},
            },
        )
        store.append(
            run_id,
            [
                EventDraft(kind=EventKind.RUN_STARTED, data={}),
                EventDraft(
                    kind=EventKind.RUN_FINISHED, data={"status": "failed", "outcome": "unresolved"}
                ),
            ],
        )
    return run_id


def _graded(lab: Lab, run_id: str) -> list[Any]:
    """What the run graded, to explain a missing action."""
    with store_of(lab) as store:
        return [
            (
                e.host,
                e.data.get("status"),
                e.data.get("error"),
                e.data.get("data", {}).get("check", {}).get("summary"),
                e.data.get("commands"),
            )
            for e in store.events(run_id)
            if e.kind == EventKind.HOST_RESULT
        ]


def notes(lab: Lab, run_id: str) -> list[dict[str, Any]]:
    with store_of(lab) as store:
        return [dict(e.data) for e in store.events(run_id) if e.kind == EventKind.NOTE]


def test_a_rule_counts_the_critical_results_of_its_checks_on_its_hosts() -> None:
    criticals = [
        Finding(host="ups1", check_id="ups", check="ups", summary="on battery"),
        Finding(host="ups2", check_id="ups", check="ups", summary="low battery"),
        Finding(host="core1", check_id="disk", check="disk", summary="93%"),
    ]
    assert [f.host for f in matching(rule("run"), criticals, None)] == ["ups1", "ups2"]
    assert [f.host for f in matching(rule("run", hosts="ups2"), criticals, None)] == ["ups2"]
    assert [f.host for f in matching(rule("run", hosts="ups*"), criticals, None)] == [
        "ups1",
        "ups2",
    ]
    assert matching(rule("run", checks=("memory",)), criticals, None) == []


def test_no_critical_result_takes_no_action(lab: Lab) -> None:
    run_id = inspection_run(lab, "quiet")
    said: list[str] = []
    ok = [result("ups1", "ups", "WARNING", "UPS WARNING - replace battery")]
    quiet = inspection(
        lab, "quiet", "  - {checks: [ups], action: incident, runbook: power-outage}\n"
    )
    taken = on_critical(app_of(lab), quiet, run_id, ok, unattended=True, say=said.append)
    assert taken == [] and said == [] and notes(lab, run_id) == []


def test_incident_rule_opens_and_pages_once_then_notes(lab: Lab) -> None:
    lab.inject("power-loss")
    daily = inspection(
        lab,
        "nightly",
        "  - {checks: [ups], action: incident, runbook: power-outage, severity: 3}\n",
    )
    first_run = inspection_run(lab, "nightly")
    (opened,) = on_critical(
        app_of(lab), daily, first_run, UPS_RESULTS, unattended=True, say=lambda _: None
    )
    assert (opened.action, opened.failed) == ("incident", False)
    assert opened.text == (
        f"on_critical: opened {opened.incident} (power-outage, level 3); findings sent via oncall"
    )
    # titled "[respond] INC-...": the lab kit counts them among the incident's notices
    pages = [m for m in lab.messages(incident=True) if m["channel"] == "oncall"]
    (findings,) = [m for m in pages if "巡检 nightly" in m["title"]]
    assert opened.incident in findings["title"]
    assert f"ups on ups1: {UPS_ON_BATTERY}" in findings["message"]
    # the level's own announcement went out too (respond.yaml: level 3 tells oncall)
    assert any(m["title"].startswith(f"[respond] {opened.incident}") for m in pages)
    assert notes(lab, first_run)[0]["on_critical"]["incident"] == opened.incident

    # the next inspection, the incident still open: a note on it, nobody paged again
    lab.forget()
    second_run = inspection_run(lab, "nightly")
    (noted,) = on_critical(
        app_of(lab), daily, second_run, UPS_RESULTS, unattended=True, say=lambda _: None
    )
    assert (noted.action, noted.incident) == ("note", opened.incident)
    assert lab.messages() == [] and lab.messages(incident=True) == []
    with store_of(lab) as store:
        mine = [s for s in store.incident_summaries() if s["reported_by"] == "inspection nightly"]
        incident_notes = [
            e.data["text"] for e in store.events(opened.incident) if e.kind == EventKind.NOTE
        ]
    assert [s["incident_id"] for s in mine if s["status"] == "open"] == [opened.incident]
    assert incident_notes == [
        f"inspection nightly (run {second_run}): 巡检 nightly found CRITICAL: ups on ups1: "
        f"{UPS_ON_BATTERY}"
    ]
    assert notes(lab, second_run)[0]["text"] == noted.text


def test_a_rule_that_cannot_act_is_an_error_and_the_others_still_act(lab: Lab) -> None:
    run_id = inspection_run(lab, "broken")
    # the definition loads (its runbooks are checked by `respond validate`), but one rule's
    # runbook is not in the project
    broken = inspection(
        lab,
        "broken",
        "  - {checks: [ups], action: run, runbook: no-such-runbook}\n"
        "  - {checks: [disk], action: incident, runbook: server-failure}\n",
    )
    taken = on_critical(
        app_of(lab), broken, run_id, UPS_RESULTS, unattended=True, say=lambda _: None
    )
    assert [(a.rule, a.action, a.failed) for a in taken] == [
        (0, "error", True),
        (1, "incident", False),
    ]
    assert taken[0].text.startswith("on_critical: could not run no-such-runbook: ")
    assert [n["on_critical"]["action"] for n in notes(lab, run_id)] == ["error", "incident"]


def test_schedule_runs_a_due_inspection_once_unattended(lab: Lab) -> None:
    lab.inject("power-loss")
    status = lab.json("schedule", "status", "--now", NOW)
    (pending,) = [item for item in status if item["job"] == "inspections"]
    assert (pending["subject"], pending["due"]) == ("power-watch", OCCURRENCE)

    first = lab.respond("schedule", "run", "--now", NOW, "--json")
    assert first.rc == 0, first  # problems found are the inspection's finding, not a failure
    (action,) = [a for a in first.json()["actions"] if a["job"] == "inspections"]
    assert (action["subject"], action["kind"], action["at"]) == (
        "power-watch",
        "inspection-run",
        OCCURRENCE,
    )
    assert (action["data"]["exit_code"], action["data"]["outcome"]) == (1, "unresolved")
    run_id = action["data"]["run_id"]
    with store_of(lab) as store:
        assert store.meta(run_id)["inspection"]["occurrence"] == OCCURRENCE
        (claim,) = store.drill_occurrences("inspection:power-watch")
    assert claim["run_id"] == run_id
    # its on_critical rule ran the runbook unattended: stopped at its first decision
    found = notes(lab, run_id)
    assert len(found) == 1, _graded(lab, run_id)
    (note,) = found
    ran = note["on_critical"]
    assert (ran["action"], ran["exit_code"], ran["data"]["outcome"]) == ("run", 3, "aborted")
    assert note["text"].startswith(f"on_critical: ran {ran['run_id']} (power-outage) for INC-")
    with store_of(lab) as store:
        meta = store.meta(ran["run_id"])
        steps = {
            e.step_id: e.data.get("status")
            for e in store.events(ran["run_id"])
            if e.kind == EventKind.STEP_FINISHED
        }
        (incident,) = [s for s in store.incident_summaries() if s["incident_id"] == ran["incident"]]
    assert (meta["incident"], meta["severity"], meta["params"]["min_runtime"]) == (
        ran["incident"],
        2,
        30,
    )
    assert all(steps[step] == "ok" for step in DIAGNOSIS), steps
    assert "shutdown-noncritical" not in steps  # the gated step never ran
    assert lab.status()["power_log"] == []  # nothing was shut down
    assert incident["reported_by"] == "inspection power-watch"
    assert incident["description"].startswith("巡检 power-watch found CRITICAL: ups on ups1: UPS ")

    verified = lab.respond("timeline", "verify", run_id)
    assert verified.rc == 0, verified  # the notes added after the run keep its chain intact

    # a second call for the same occurrence finds it done: nothing runs
    again = lab.respond("schedule", "run", "--now", NOW)
    assert (again.rc, again.stdout) == (0, ""), again
    assert again.stderr.rstrip().endswith(": nothing due")
    with store_of(lab) as store:
        runs = [
            r for r in store.runs() if r.meta.get("inspection", {}).get("name") == "power-watch"
        ]
    assert [r.run_id for r in runs] == [run_id]

    # the next inspection while that incident is open: the findings go to it, the runbook
    # is not started again
    watch = load_inspection(lab.project / "inspections" / "power-watch.yaml", app_of(lab).config)
    later = inspection_run(lab, "power-watch")
    (again_action,) = on_critical(
        app_of(lab), watch, later, UPS_RESULTS, unattended=True, say=lambda _: None
    )
    assert (again_action.action, again_action.incident) == ("note", ran["incident"])
    assert again_action.run_id is None
    with store_of(lab) as store:
        incident_runs = store.incident_runs(ran["incident"])
    assert [r.run_id for r in incident_runs] == [ran["run_id"]]
