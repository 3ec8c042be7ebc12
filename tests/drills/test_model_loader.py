"""Drill definitions on their own (respond.drills.loader / model): every kind of bad input is
refused with its file:line:col and a message saying what is wrong; a good file loads with its
shorthands spelled out, its source, text and hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from modelkit import make_project, write_drill

from respond.config import ProjectConfig, load_config
from respond.drills import find_drills, load_drill, resolve_drill
from respond.errors import DrillError


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("drills"))


@pytest.fixture
def config(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectConfig]:
    monkeypatch.chdir(project)  # messages show paths relative to the current directory
    yield load_config(project)


def _errors(config: ProjectConfig, name: str, text: str) -> list[str]:
    write_drill(config.root, name, text)
    with pytest.raises(DrillError) as caught:
        load_drill(name, config)
    assert caught.value.exit_code == 2
    return [str(issue) for issue in caught.value.issues]


BAD = [
    (
        "bad mode",
        "drill: x\nrunbook: power-outage\nmode: labb\n",
        "drills/x.yaml:3:7: error: mode: 'mode' must be one of tabletop, simulate, lab, got "
        "'labb' (did you mean 'lab'?)",
    ),
    (
        "unknown key",
        "drill: x\nrunbook: power-outage\nschedul: quarterly\n",
        "drills/x.yaml:3:1: error: unknown key 'schedul' (did you mean 'schedule'?)",
    ),
    (
        "unknown key in an objective",
        "drill: x\nrunbook: power-outage\nobjectives:\n  - respnd: 10m\n",
        "drills/x.yaml:4:5: error: objective 1: unknown key 'respnd' (did you mean 'respond'?)",
    ),
    (
        "objective with two kinds",
        "drill: x\nrunbook: power-outage\nobjectives:\n  - gates: answered\n"
        "  - respond: 10m\n    diagnose: 20m\n",
        "drills/x.yaml:5:5: error: objective 2: an objective names exactly one of respond, "
        "diagnose, restore, step, gates, skips (got respond, diagnose)",
    ),
    (
        "step without by",
        "drill: x\nrunbook: power-outage\nobjectives: [{step: shed-load}]\n",
        "drills/x.yaml:3:14: error: objective 1: `step: ID` and `by: DURATION` go together",
    ),
    (
        "bad duration in an objective",
        "drill: x\nrunbook: power-outage\nobjectives:\n  - restore: soon\n",
        "drills/x.yaml:4:14: error: objective 1 restore: expected a duration like 10m or 1h, "
        "or `level` (the severity level's limit), got 'soon'",
    ),
    (
        "bad planned duration",
        "drill: x\nrunbook: power-outage\nplanned: {ups-status: 5x}\n",
        "drills/x.yaml:3:23: error: planned.ups-status: expected a duration like 30s, 5m or 1h "
        "(a bare number is seconds), got '5x'",
    ),
    (
        "bad cron",
        "drill: x\nrunbook: power-outage\nschedule: {cron: '0 9 32 3 *'}\n",
        "drills/x.yaml:3:18: error: schedule.cron: '0 9 32 3 *' is not a cron expression "
        "(five fields: minute hour day month weekday, e.g. '0 9 15 3 *') nor one of "
        "quarterly, monthly, weekly",
    ),
    (
        "a shorthand that is no shorthand",
        "drill: x\nrunbook: power-outage\nschedule: yearly\n",
        "drills/x.yaml:3:11: error: schedule.cron: 'yearly' is not a cron expression",
    ),
    (
        "bad zone",
        "drill: x\nrunbook: power-outage\nschedule: {cron: quarterly, timezone: Asia/Shangai}\n",
        "drills/x.yaml:3:39: error: schedule.timezone: unknown time zone 'Asia/Shangai': "
        "expected an IANA name such as Asia/Shanghai or UTC",
    ),
    (
        "bad start",
        "drill: x\nrunbook: power-outage\nschedule: {cron: weekly, start: 2026-1-5}\n",
        "drills/x.yaml:3:33: error: schedule.start: expected a date YYYY-MM-DD, got '2026-1-5'",
    ),
    (
        "bad role",
        "drill: x\nrunbook: power-outage\nparticipants: [{name: 张伟, role: boss}]\n",
        "drills/x.yaml:3:33: error: participant 1 role: 'role' must be one of lead, operator, "
        "recorder, evaluator, observer, got 'boss'",
    ),
    (
        "missing runbook",
        "drill: x\nmode: lab\n",
        "drills/x.yaml:1:1: error: missing required key 'runbook'",
    ),
    (
        "id not the file name",
        "drill: y\nrunbook: power-outage\n",
        "drills/x.yaml:1:8: error: drill: drill id 'y' does not match the file name 'x'",
    ),
    (
        "severity out of range",
        "drill: x\nrunbook: power-outage\nseverity: 7\n",
        "drills/x.yaml:3:11: error: severity: expected less than or equal to 4, got 7",
    ),
    (
        "not a mapping",
        "- drill: x\n",
        "drills/x.yaml:1:1: error: a drill must be a mapping of keys (drill, runbook, mode, ...)",
    ),
]


@pytest.mark.parametrize(("text", "wanted"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused_at_its_place(config: ProjectConfig, text: str, wanted: str) -> None:
    errors = _errors(config, "x", text)
    assert any(e.startswith(wanted) for e in errors), errors


def test_every_problem_of_a_file_is_reported_at_once(config: ProjectConfig) -> None:
    errors = _errors(
        config,
        "x",
        "drill: x\nrunbook: power-outage\nmode: labb\nschedul: weekly\n"
        "objectives: [{restore: soon}]\n",
    )
    assert [e.split(": error")[0] for e in errors] == [
        "drills/x.yaml:3:7",
        "drills/x.yaml:4:1",
        "drills/x.yaml:5:24",
    ]


def test_a_good_drill_loads_with_its_shorthands_and_source(config: ProjectConfig) -> None:
    path = write_drill(
        config.root,
        "q1-power",
        """\
        drill: q1-power
        runbook: power-outage
        schedule: quarterly
        mode: lab
        inject: [power-loss, {fault: link-down, duration: 30s}]
        objectives: [{respond: 10m}, {restore: level}, {step: shed-load, by: 1h}]
        planned: {ups-status: 1m}
        """,
    )
    drill = load_drill("q1-power", config)
    assert drill.schedule is not None and drill.schedule.expression == "0 9 1 1,4,7,10 *"
    assert [(i.fault, i.duration) for i in drill.inject] == [
        ("power-loss", None),
        ("link-down", 30.0),
    ]
    assert [o.kind for o in drill.objectives] == ["respond", "restore", "step"]
    assert (drill.objectives[0].respond, drill.objectives[1].restore) == (600.0, "level")
    assert drill.planned == {"ups-status": 60.0}
    assert drill.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert drill.text == path.read_text(encoding="utf-8")
    assert drill.source == path
    assert load_drill(path, config).id == "q1-power"  # by path too


def test_an_unquoted_start_date_is_read_as_its_text(config: ProjectConfig) -> None:
    # YAML reads 2026-01-01 as a date; the model keeps the text the schedule compares
    write_drill(
        config.root,
        "dated",
        "drill: dated\nrunbook: power-outage\nschedule: {cron: '0 9 15 3 *', start: 2026-01-01}\n",
    )
    schedule = load_drill("dated", config).schedule
    assert schedule is not None and schedule.start == "2026-01-01"


def test_an_unknown_name_lists_the_known_ones_with_a_suggestion(config: ProjectConfig) -> None:
    write_drill(config.root, "q1-power", "drill: q1-power\nrunbook: power-outage\n")
    with pytest.raises(DrillError) as caught:
        resolve_drill("q1-powr", config)
    message = str(caught.value)
    assert message.startswith("no drill named 'q1-powr' (did you mean 'q1-power'?); known: ")
    assert "q1-power" in message.split("known: ")[1]
    assert caught.value.exit_code == 2


def test_find_drills_lists_yaml_and_yml_files_sorted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for name in ("b.yml", "a.yaml", "notes.txt"):
        (root / "drills" / name).write_text("drill: x\n", encoding="utf-8")
    assert [p.name for p in find_drills(load_config(root))] == ["a.yaml", "b.yml"]
