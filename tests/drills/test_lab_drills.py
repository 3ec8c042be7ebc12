"""The four sample drills (drills/) end to end against one lab, through `respond drill run`
exactly as a user (or `respond schedule run`) starts them: unattended, answered by the
drill's own answers file.

Each lab drill injects its fault before the first step and heals it after, really changes
the lab (its command log shows the recovery command arriving), ends resolved with exit 0 and
is recorded as a drill. A SIMULATE copy of the power drill reaches the lab with its diagnostic
commands but never with its gated load shed; a TABLETOP copy reaches nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from clikit import CLI_TIMEOUT, Journal
from labkit import REPO, Lab, copy_project, start_lab

DRILL = "【演练 DRILL】"
NONCRITICAL = ["app1", "app2", "test1"]

# drill → (lab host, a command it must receive): the drill's gated and recovery steps reached
# the lab (the load shed is an Ansible playbook: its modules arrive as AnsiballZ files)
RECOVERY = {
    "q1-power-outage": [("app1", "AnsiballZ_command.py"), ("ups1", "-H app1 chassis power on")],
    "q2-network-outage": [
        ("core-sw1", "interface GigabitEthernet0/0/2"),
        ("core-sw1", "undo shutdown"),
    ],
    "q3-server-failure": [("ups1", "-H db1-bmc chassis power on")],
    "q4-oa-sms-outage": [("oa1", "systemctl restart oa-web"), ("sms1", "restart sms-gateway")],
}


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A copy of the project (with its drills and their answers) and one lab for the module."""
    base = tmp_path_factory.mktemp("drills")
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


# ----------------------------------------------------------------------------- helpers


def _drill(lab: Lab, name: str, *extra: str) -> tuple[int, dict[str, Any]]:
    """`respond drill run NAME --json -q` with no terminal and no --yes: (exit, result)."""
    done = lab.respond("drill", "run", name, "--json", "-q", *extra, timeout=CLI_TIMEOUT)
    return done.rc, done.json()


def _commands(lab: Lab) -> list[dict[str, Any]]:
    return list(lab.json("lab", "commands"))


def _sent(lines: list[dict[str, Any]], host: str, text: str) -> bool:
    return any(e["host"] == host and text in e["command"] for e in lines)


def _variant(lab: Lab, source: str, name: str, *changes: tuple[str, str]) -> str:
    """A copy of a sample drill under another name, with these lines changed."""
    text = (REPO / "drills" / f"{source}.yaml").read_text(encoding="utf-8")
    for old, new in ((f"drill: {source}", f"drill: {name}"), *changes):
        assert text.count(f"{old}\n") == 1, old
        text = text.replace(f"{old}\n", f"{new}\n")
    (lab.project / "drills" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return name


def _recorded_as_drill(lab: Lab, run_id: str, mode: str) -> list[dict[str, Any]]:
    """The run is listed by `timeline list --drill`, its chain verifies; its events."""
    assert run_id in [r["run_id"] for r in lab.json("timeline", "list", "--drill")]
    lab.respond("timeline", "verify", run_id, check=True)
    events = lab.events(run_id)
    started = events[0]
    assert started["kind"] == "run-started" and started["data"]["drill_mode"] == mode
    return events


def _kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in events]


# ----------------------------------------------------------------------------- lab mode


@pytest.mark.parametrize("name", sorted(RECOVERY))
def test_each_sample_drill_runs_in_the_lab_with_its_fault_and_ends_resolved(
    lab: Lab, name: str
) -> None:
    sample = yaml.safe_load((REPO / "drills" / f"{name}.yaml").read_text(encoding="utf-8"))
    faults = [i if isinstance(i, str) else i["fault"] for i in sample["inject"]]
    before = len(_commands(lab))

    code, result = _drill(lab, name)

    assert code == 0, result
    assert (result["drill"], result["mode"], result["outcome"]) == (name, "lab", "resolved")
    events = _recorded_as_drill(lab, result["run_id"], "lab")
    kinds = _kinds(events)
    first_step = kinds.index("step-started")
    injects = [e for e in events if e["kind"] == "drill-inject"]
    # each fault injected (recorded, applied) before the first step ...
    assert [e["data"]["fault"] for e in injects] == faults
    assert all(e["data"]["applied"] and not e["data"].get("error") for e in injects)
    assert max(i for i, k in enumerate(kinds) if k == "drill-inject") < first_step
    # ... and healed after the last one: the lab has no fault left
    last_step = max(i for i, k in enumerate(kinds) if k in ("step-finished", "step-skipped"))
    assert kinds.index("drill-heal") > last_step
    assert lab.status()["faults"] == []
    # the recovery really reached the lab; every notice it received was marked as a drill
    arrived = _commands(lab)[before:]
    assert [hc for hc in RECOVERY[name] if not _sent(arrived, *hc)] == []
    # the sample's objectives are realistic for it: every one met, the scorecard passed
    wanted = [next(k for k in ("step", *o) if k in o) for o in sample["objectives"]]
    card = result["scorecard"]
    assert [(r["kind"], r["status"]) for r in card["results"]] == [(k, "met") for k in wanted]
    assert card["passed"] is True
    received = lab.messages()
    assert received and all(DRILL in f"{m.get('title')} {m['message']}" for m in received)
    assert lab.messages(incident=True) == []  # a drill opens no incident


def test_a_due_sample_drill_runs_unattended_from_the_schedule(lab: Lab) -> None:
    """`drill due --run` (what `schedule run` does for drills) runs the Q4 drill on its day."""
    start = ('  start: "2026-12-01"', '  start: "2025-01-01"')  # the samples owe nothing in 2025
    name = _variant(lab, "q4-oa-sms-outage", "q4-scheduled", start)
    before = len(_commands(lab))

    done = lab.respond("drill", "due", "--run", "--now", "2025-12-09 09:30+08:00", "--json")

    assert done.rc == 0, done
    [action] = done.json()["actions"]
    assert (action["subject"], action["kind"]) == (name, "drill-run")
    ran = action["data"]
    assert (ran["occurrence"], ran["outcome"], ran["exit_code"]) == (
        "2025-12-09T01:00:00.000000Z",  # 09:00 in Shanghai
        "resolved",
        0,
    )
    _recorded_as_drill(lab, ran["run_id"], "lab")
    assert _sent(_commands(lab)[before:], "oa1", "systemctl restart oa-web")
    assert lab.status()["faults"] == []


# ----------------------------------------------------------------------------- simulate


def test_a_simulated_power_drill_never_sends_the_gated_load_shed_to_the_lab(lab: Lab) -> None:
    name = _variant(lab, "q1-power-outage", "q1-power-simulate", ("mode: lab", "mode: simulate"))
    lab.inject("power-loss")  # simulate mode narrates injects: the lab's fault is set by hand
    before = len(_commands(lab))
    journal = Journal(lab.project, lab.home)
    with lab.spawn("drill", "run", name, "--json", "-q") as run:
        journal.wait_for(
            "the drill to wait for mains power",
            lambda evs: any(e.kind == "step-started" and e.step_id == "wait-mains" for e in evs),
            running=run,
            timeout=CLI_TIMEOUT,
        )
        lab.inject("power-loss", "--for", "1s")  # mains come back by themselves
        done = run.wait()
    assert done.rc == 0, done
    result = done.json()
    assert (result["mode"], result["outcome"]) == ("simulate", "resolved")
    events = _recorded_as_drill(lab, result["run_id"], "simulate")
    [shed] = [
        e for e in events if e["kind"] == "step-finished" and e["step_id"] == "shutdown-noncritical"
    ]
    assert shed["data"]["status"] == "simulated"
    assert not [e for e in events if e["kind"] == "drill-inject" and e["data"]["applied"]]

    arrived = _commands(lab)[before:]
    # the diagnosis reached the UPS and the servers ...
    assert _sent(arrived, "ups1", "upsc ups@localhost")
    assert all(_sent(arrived, host, "uptime") for host in NONCRITICAL)
    # ... and the load shed none: all the non-critical servers got is the diagnosis's uptime
    assert {e["command"].split("\n")[-1] for e in arrived if e["host"] in NONCRITICAL} == {"uptime"}
    assert not [e for e in arrived if "ansible" in e["command"].lower()]
    assert [e for e in lab.status()["power_log"] if e["action"] == "shutdown"] == []


# ----------------------------------------------------------------------------- tabletop


def test_a_tabletop_power_drill_sends_nothing_to_the_lab(lab: Lab) -> None:
    name = _variant(lab, "q1-power-outage", "q1-power-tabletop", ("mode: lab", "mode: tabletop"))
    before = _commands(lab)

    code, result = _drill(lab, name, "--yes")  # --yes: every step walked as done

    assert code == 0, result
    assert (result["mode"], result["outcome"]) == ("tabletop", "resolved")
    events = _recorded_as_drill(lab, result["run_id"], "tabletop")
    walked = {e["step_id"] for e in events if e["kind"] in ("step-finished", "step-skipped")}
    assert {"ups-status", "shutdown-noncritical", "wait-mains", "restored"} <= walked
    assert _commands(lab) == before  # not one line reached a host or a switch
    assert lab.messages() == []
    assert lab.status()["power_log"] == []
