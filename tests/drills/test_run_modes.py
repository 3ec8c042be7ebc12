"""`respond drill run` in tabletop and simulate mode against real OpenSSH hosts: what each
mode lets reach a host (a marker file each command would create), what the record says of
every step, and where a drill's notices go."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from runkit import DrillProject, first, kinds_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from sshdkit import SshdFarm, SshdGroup

MARK = "【演练 DRILL】 "


@pytest.fixture(scope="module")
def hosts() -> Iterator[SshdGroup]:
    farm = SshdFarm()
    try:
        yield farm.group(2)
    finally:
        farm.stop()


@pytest.fixture
def markers() -> Iterator[Path]:
    """A folder the hosts' login user may write to: a command that ran leaves its file."""
    folder = Path(tempfile.mkdtemp(prefix="respond-drill-"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def outage_steps(markers: Path) -> str:
    """A diagnostic, a notice, a gated step marked ``drill: run``, a prompt, a gated step."""
    return f"""\
  - {{id: diag, kind: ssh, targets: all, command: "touch {markers}/diag-{{{{ inventory_hostname }}}}"}}
  - {{id: tell, kind: notify, message: "UPS on battery / 市电中断"}}
  - {{id: shed, kind: ssh, targets: all, command: "touch {markers}/shed", confirm: "shed load?", drill: run}}
  - {{id: ask, kind: manual, prompt: "Is the room dark?"}}
  - {{id: restart, kind: ssh, targets: all, command: "touch {markers}/restart", confirm: "restart?"}}
"""


@pytest.fixture
def project(tmp_path: Path, hosts: SshdGroup, markers: Path) -> DrillProject:
    project = DrillProject(tmp_path / "proj", inventory=hosts.inventory)
    project.runbook("outage", outage_steps(markers))
    return project


def test_a_simulate_drill_runs_diagnostics_and_never_a_gated_step(
    project: DrillProject, markers: Path, hosts: SshdGroup
) -> None:
    path = project.drill("sim", runbook="outage", mode="simulate", answers={"ask": "yes"})
    result, out = project.drill_run("sim")
    assert result.rc == 0, result
    assert out["mode"] == "simulate" and out["outcome"] == "resolved" and out["exit_code"] == 0
    # the diagnostic reached both hosts; the gated steps (one says `drill: run`) reached none
    assert sorted(p.name for p in markers.iterdir()) == sorted(f"diag-{h.name}" for h in hosts)
    events = project.events(out["run_id"])
    for gated in ("shed", "restart"):
        assert first(events, "step-started", gated)["data"]["drill_mode"] == "simulate"
        assert "host-intent" not in kinds_of(events, gated)
        assert "gate-confirmed" not in kinds_of(events, gated)
    started = events[0]["data"]
    assert (started["drill"], started["drill_mode"], started["drill_name"]) == (
        True,
        "simulate",
        "sim",
    )
    assert started["gated"] == ["shed", "restart"]
    meta = project.meta(out["run_id"])
    assert meta["drill"] is True and meta["drill_mode"] == "simulate"
    assert meta["drill_name"] == "sim" and meta["occurrence"] is None
    assert meta["drill_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["drill_text"] == path.read_text(encoding="utf-8")
    assert meta["drill_definition"]["runbook"] == "outage"
    assert meta["drill_definition"]["answers"] == {"ask": "yes"}
    assert project.drill_runs() == [out["run_id"]]
    # no drill channel: the runbook's channel gets the notice, marked as a drill's
    [notice] = project.notices("notices.log")
    assert notice["message"] == MARK + "UPS on battery / 市电中断"
    assert notice["subject"].startswith(MARK)


def test_a_tabletop_drill_executes_nothing_and_records_every_walk(
    project: DrillProject, markers: Path
) -> None:
    answers = {
        "shed": "yes",
        "restart": "yes",
        "ask": "no",
        "steps": {
            "diag": "done",
            "tell": "skip: the phone list is out of date",
            "shed": "done",
            "ask": "done",
            "restart": "skip",
        },
    }
    project.file("room.yaml", answers)
    project.drill("table", runbook="outage", mode="tabletop", answers="room.yaml")
    result, out = project.drill_run("table")
    assert result.rc == 0, result
    assert out["mode"] == "tabletop" and out["outcome"] == "resolved"
    assert list(markers.iterdir()) == []  # not one command reached a host
    assert project.notices("notices.log") == []  # not one notice was sent
    events = project.events(out["run_id"])
    assert "host-intent" not in kinds_of(events) and "host-result" not in kinds_of(events)
    diag = first(events, "step-started", "diag")["data"]
    assert diag["drill_mode"] == "tabletop" and "touch" in diag["text"]
    walked = first(events, "step-finished", "diag")["data"]
    assert {"status": "simulated", "walked": "done", "by": "answers file"}.items() <= walked.items()
    skipped = {e["step_id"]: e["data"]["reason"] for e in events if e["kind"] == "step-skipped"}
    assert skipped == {"tell": "the phone list is out of date", "restart": ""}
    # the gates and the prompt were asked and answered as in a real run
    assert first(events, "gate-confirmed", "shed")["data"]["by"] == "answers file"
    assert first(events, "gate-confirmed", "restart")["data"]["by"] == "answers file"
    assert first(events, "answer", "ask")["data"]["answer"] == "no"


def test_an_unattended_tabletop_walk_without_an_answer_stops_and_resumes_walked(
    project: DrillProject, markers: Path
) -> None:
    project.drill("table", runbook="outage", mode="tabletop")
    result, out = project.drill_run("table")
    assert result.rc == 3 and out["outcome"] == "aborted", result
    assert (
        "step 1 (diag) is walked in a tabletop drill and needs done or skip, but respond runs unattended"
        in out["reason"]
    )
    assert (
        "pass --yes (every step done) or --answers FILE with 'steps: {diag: done}'"
        in (out["reason"])
    )
    [run_id] = project.drill_runs()
    # resumed, it is still a tabletop drill: --yes walks every step, nothing executes
    resumed = project.respond(
        "resume", run_id, "--yes", "--answers", str(project.file("a.yaml", {"ask": "yes"}))
    )
    assert resumed.rc == 0, resumed
    assert list(markers.iterdir()) == []
    events = project.events(run_id)
    walked = [
        e["step_id"] for e in events if e["kind"] == "step-finished" and e["data"].get("walked")
    ]
    assert walked == ["diag", "tell", "shed", "ask", "restart"]


def test_a_drill_with_its_own_channels_notifies_only_them(
    project: DrillProject, markers: Path
) -> None:
    project.runbook(
        "noisy",
        f"""\
  - {{id: tell, kind: notify, message: "OA down", channels: [log]}}
  - {{id: broken, kind: local, command: "false", on_failure: escalate}}
  - {{id: after, kind: ssh, targets: all, command: "touch {markers}/after"}}
""",
    )
    project.drill("routed", runbook="noisy", mode="simulate", notify=["drill-log"])
    result, out = project.drill_run("routed")
    assert result.rc == 1 and out["outcome"] == "unresolved", result
    assert project.notices("notices.log") == []  # never the runbook's channel
    received = project.notices("drill-notices.log")
    assert received[0]["message"] == "OA down"  # the drill's own: unmarked
    # the escalation's notice went to the drill's channel too
    assert any("escalated from level 2 to level 1" in n["message"] for n in received), received


def test_bad_walk_answers_are_refused_with_their_place(project: DrillProject) -> None:
    bad = project.root / "bad.yaml"
    bad.write_text("steps:\n  diag: maybe\n", encoding="utf-8")
    project.drill("table", runbook="outage", mode="tabletop")
    result = project.respond("drill", "run", "table", "--answers", str(bad))
    assert result.rc == 2, result
    assert "bad.yaml:2:9" in result.stderr
    assert "steps: 'diag' must be done or 'skip: REASON', got 'maybe'" in result.stderr
    assert project.drill_runs() == []


def test_an_unknown_drill_names_the_known_ones(project: DrillProject) -> None:
    project.drill("sim", runbook="outage")
    result = project.respond("drill", "run", "sims")
    assert result.rc == 2, result
    assert "sim" in result.stderr.split("known")[-1]


def test_plan_drill_shows_a_gated_step_simulated_even_with_drill_run(
    project: DrillProject,
) -> None:
    plan = project.respond("plan", "outage", "--drill", "--json", check=True).json()
    shown = {s["id"]: s["drill"] for s in plan["steps"]}
    assert shown == {
        "diag": "run",
        "tell": "run",
        "shed": "simulate",
        "ask": "run",
        "restart": "simulate",
    }
