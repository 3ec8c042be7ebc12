"""``execute_drill`` as the periodic job calls it (in this process), and what `respond drill
run` records around the run: the occurrence it takes on, narrated faults, masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from runkit import DrillProject, first

from respond.cli import AppContext
from respond.cli.drill_exec import DrillRun, execute_drill
from respond.drills.loader import load_drill
from respond.timeline import open_store

STEPS = """\
  - {id: diag, kind: local, command: "test -n $TOKEN", env: {TOKEN: "{{ token }}"}}
  - {id: ask, kind: manual, prompt: "Is the room dark?"}
"""
PARAMS = "params:\n  token: {secret: true, default: none}\n"


@pytest.fixture
def project(tmp_path: Path) -> DrillProject:
    project = DrillProject(tmp_path / "proj")
    (project.root / "runbooks" / "room.yaml").write_text(
        "runbook: room\nversion: 1.0.0\ntitle: room\nscenario: power\nseverity: 2\n"
        + PARAMS
        + "steps:\n"
        + STEPS,
        encoding="utf-8",
    )
    return project


def app_for(project: DrillProject) -> AppContext:
    return AppContext(str(project.root), str(project.root / ".respond"), False)


def test_an_unattended_drill_is_never_asked_even_at_a_terminal(
    project: DrillProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("respond.cli.progress.stdin_is_terminal", lambda: True)
    project.drill("sched", runbook="room", mode="simulate")
    app = app_for(project)
    occurrence = "2026-01-01T01:00:00.000000Z"
    done = execute_drill(
        app, load_drill("sched", app.config), unattended=True, occurrence=occurrence, quiet=True
    )
    assert isinstance(done, DrillRun) and done.run_id is not None
    assert (done.exit_code, done.outcome, done.error) == (3, "aborted", None)
    store = open_store(app.config)
    assert store.meta(done.run_id)["occurrence"] == occurrence
    refused = [e for e in store.events(done.run_id) if e.kind == "gate-refused"]
    assert "respond runs unattended" in refused[0].data["reason"]


def test_a_drill_that_cannot_start_comes_back_with_its_error(project: DrillProject) -> None:
    project.drill("nowhere", runbook="room", mode="lab", inventory="inventory/prod.yaml")
    app = app_for(project)
    done = execute_drill(app, load_drill("nowhere", app.config), unattended=True, quiet=True)
    assert (done.run_id, done.exit_code, done.outcome) == (None, 2, None)
    assert done.error is not None
    assert "lab drills run only against the lab's inventory (inventory/lab.yaml)" in done.error
    assert open_store(app.config).runs(drill=True) == []


def test_drill_run_takes_on_the_current_occurrence_once(project: DrillProject) -> None:
    # 00:00 UTC on the 1st of January: this year's has passed whenever the test runs
    project.drill(
        "yearly",
        runbook="room",
        mode="simulate",
        schedule={"cron": "0 0 1 1 *", "timezone": "UTC"},
        answers={"ask": "yes"},
        params={"token": "canary-s3cret-77"},
        inject=["power-loss"],
    )
    result, out = project.drill_run("yearly")
    assert result.rc == 0, result
    meta = project.meta(out["run_id"])
    year = out["run_id"][:4]  # run ids start with their UTC date
    assert meta["occurrence"] == f"{year}-01-01T00:00:00.000000Z"
    store = open_store(app_for(project).config)
    [claim] = store.drill_occurrences("yearly")
    assert claim["occurrence"] == meta["occurrence"] and claim["run_id"] == out["run_id"]
    assert claim["claimed_by"] == "drill-tester"
    # a second rehearsal is a drill run of its own, not that occurrence again
    again, out2 = project.drill_run("yearly")
    assert again.rc == 0, again
    assert project.meta(out2["run_id"])["occurrence"] is None
    assert len(store.drill_occurrences("yearly")) == 1
    # the fault of a simulate drill is narrated, not applied
    narrated = first(project.events(out["run_id"]), "drill-inject")["data"]
    assert narrated["applied"] is False
    assert narrated["result"] == "narrated: only lab drills inject faults"
    # the secret param is in no part of the record
    shown = project.respond("timeline", "show", out["run_id"], "--json", check=True).stdout
    assert "canary-s3cret-77" not in shown
    assert meta["drill_definition"]["params"] == {"token": "***"}
    assert "canary-s3cret-77" not in meta["drill_text"]
