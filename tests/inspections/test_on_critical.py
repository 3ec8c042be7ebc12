"""An inspection's ``on_critical`` rules, acting on CRITICAL results against the lab: a
``run`` rule runs the power-outage runbook as an incident run, unattended (it stops at its
first decision for a person, after the diagnosis, recorded as aborted, exit 3); an
``incident`` rule opens an incident, pages the lab's on-call endpoint with the findings, and
while that incident is open a later inspection only adds a note to it. Each action is noted
on the inspection run.

The inspection run here is a record made the way ``inspect run`` makes it (meta with the
lab's inventory and the ``inspection`` section); the results are its per-host check dicts."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from labkit import Lab, copy_project, start_lab

from respond.cli import AppContext
from respond.cli.inspect_actions import Finding, matching, on_critical
from respond.events import EventDraft, EventKind
from respond.timeline import Store, open_store
from respond.timeline.store import new_run_id

UPS_ON_BATTERY = "UPS CRITICAL - on battery (OB DISCHRG), 29 min left"
DIAGNOSIS = ("ups-status", "hosts-up", "diagnose")


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("on-critical")
    the_lab = start_lab(copy_project(base / "project"), base / "home", hosts=3)
    try:
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture
def lab(module_lab: Lab) -> Lab:
    module_lab.heal()
    module_lab.forget()
    return module_lab


def rule(action: str, runbook: str = "power-outage", **extra: Any) -> Any:
    fields = {"checks": ("ups",), "hosts": None, "params": {}, "severity": None, "notify": None}
    return SimpleNamespace(**{**fields, **extra, "action": action, "runbook": runbook})


def inspection(name: str, *rules: Any) -> Any:
    return SimpleNamespace(id=name, title=f"{name} 巡检", on_critical=list(rules))


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
    taken = on_critical(
        app_of(lab), inspection("quiet", rule("incident")), run_id, ok, unattended=True,
        say=said.append,
    )  # fmt: skip
    assert taken == [] and said == [] and notes(lab, run_id) == []


def test_run_rule_runs_the_runbook_unattended_to_its_first_decision(lab: Lab) -> None:
    lab.inject("power-loss")
    run_id = inspection_run(lab, "daily")
    said: list[str] = []
    (action,) = on_critical(
        app_of(lab),
        inspection("daily", rule("run", params={"min_runtime": 30}, severity=2)),
        run_id,
        UPS_RESULTS,
        unattended=True,
        say=said.append,
    )
    assert (action.action, action.exit_code, action.failed) == ("run", 3, False)
    assert action.data["outcome"] == "aborted"
    assert action.text.startswith(f"on_critical: ran {action.run_id} (power-outage) for INC-")
    assert said == [action.text]
    with store_of(lab) as store:
        meta = store.meta(action.run_id)
        assert (meta["incident"], meta["severity"], meta["params"]["min_runtime"]) == (
            action.incident,
            2,
            30,
        )
        steps = {
            e.step_id: e.data.get("status")
            for e in store.events(action.run_id)
            if e.kind == EventKind.STEP_FINISHED
        }
        (summary,) = [s for s in store.incident_summaries() if s["incident_id"] == action.incident]
    assert all(steps[step] == "ok" for step in DIAGNOSIS), steps
    assert "shutdown-noncritical" not in steps  # the gated step never ran
    assert lab.status()["power_log"] == []  # nothing was shut down
    assert summary["reported_by"] == "inspection daily"
    assert summary["description"] == f"巡检 daily found CRITICAL: ups on ups1: {UPS_ON_BATTERY}"
    (note,) = notes(lab, run_id)
    assert note["text"] == action.text and note["on_critical"]["run_id"] == action.run_id


def test_incident_rule_opens_and_pages_once_then_notes(lab: Lab) -> None:
    lab.inject("power-loss")
    daily = inspection("nightly", rule("incident", severity=3))
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
    rules = (rule("run", runbook="no-such-runbook"), rule("incident", checks=("disk",)))
    taken = on_critical(
        app_of(lab), inspection("broken", *rules), run_id, UPS_RESULTS, unattended=True,
        say=lambda _: None,
    )  # fmt: skip
    assert [(a.rule, a.action, a.failed) for a in taken] == [
        (0, "error", True),
        (1, "incident", False),
    ]
    assert taken[0].text.startswith("on_critical: could not run no-such-runbook: ")
    assert [n["on_critical"]["action"] for n in notes(lab, run_id)] == ["error", "incident"]
