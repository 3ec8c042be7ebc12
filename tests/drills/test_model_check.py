"""A drill against its project (respond.drills.loader.check_drill): the runbook, its steps
and params, respond.yaml's channels, the answers and inventory files, the lab's faults; each
problem at its place in the drill's file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelkit import make_project, write_drill

from respond.config import ProjectConfig, load_config
from respond.drills import check_drill, load_drill
from respond.lab.state import FAULTS


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("drills"))


@pytest.fixture
def config(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectConfig]:
    monkeypatch.chdir(project)
    yield load_config(project)


def _issues(config: ProjectConfig, text: str) -> list[str]:
    write_drill(config.root, "x", text)
    drill = load_drill("x", config)
    return [str(i) for i in check_drill(drill, config, faults=tuple(FAULTS))]


GOOD = """\
drill: x
runbook: power-outage
mode: lab
params: {site: main}
answers: answers/power.yaml
inject: [power-loss]
objectives: [{step: shed-load, by: 30m}]
notify: [drill-sms, terminal]
planned: {ups-status: 1m, shed-load: 5m}
"""


def test_a_drill_that_fits_its_project_has_no_issue(config: ProjectConfig) -> None:
    assert _issues(config, GOOD) == []
    assert _issues(config, GOOD + "inventory: inventory/lab.yaml\n") == []


@pytest.mark.parametrize(
    ("change", "wanted"),
    [
        (
            ("runbook: power-outage", "runbook: power-outag"),
            "drills/x.yaml:2:10: error: runbook: unknown runbook 'power-outag' "
            "(did you mean 'power-outage'?)",
        ),
        (
            ("planned: {ups-status: 1m", "planned: {ups-statu: 1m"),
            "drills/x.yaml:9:11: error: planned: no step 'ups-statu' in runbook 'power-outage' "
            "(did you mean 'ups-status'?)",
        ),
        (
            ("{step: shed-load,", "{step: shed,"),
            "drills/x.yaml:7:21: error: objective 1 step: no step 'shed' in runbook "
            "'power-outage' (did you mean 'shed-load'?)",
        ),
        (
            ("params: {site: main}", "params: {site: main, sitee: b}"),
            "drills/x.yaml:4:22: error: params: runbook 'power-outage' has no param 'sitee' "
            "(did you mean 'site'?)",
        ),
        (
            ("params: {site: main}", "params: {min_runtime: 5}"),
            "drills/x.yaml:4:9: error: params: runbook 'power-outage' needs param 'site': "
            "give it under params",
        ),
        (
            ("params: {site: main}", "params: {site: main, min_runtime: lots}"),
            "drills/x.yaml:4:35: error: params: param 'min_runtime': expected an integer, "
            "got 'lots'",
        ),
        (
            ("inject: [power-loss]", "inject: [power-los]"),
            "drills/x.yaml:6:10: error: inject 1: unknown fault 'power-los' "
            "(did you mean 'power-loss'?); the lab's faults: power-loss,",
        ),
        (
            ("notify: [drill-sms", "notify: [drill-smss"),
            "drills/x.yaml:8:10: error: notify: no channel named 'drill-smss' in respond.yaml "
            "(did you mean 'drill-sms'?)",
        ),
        (
            ("answers: answers/power.yaml", "answers: answers/gone.yaml"),
            "drills/x.yaml:5:10: error: answers: answers file 'answers/gone.yaml' not found",
        ),
        (
            ("mode: lab", "mode: lab\ninventory: inventory/prod.yaml"),
            "drills/x.yaml:4:12: error: inventory: lab drills run only against the lab's "
            "inventory (inventory/lab.yaml)",
        ),
        (
            ("mode: lab", "mode: simulate"),
            "drills/x.yaml:6:9: warning: inject: narrated, not applied: only lab drills inject "
            "faults",
        ),
        (
            ("mode: lab", "mode: tabletop\ninventory: inventory/gone.yaml"),
            "drills/x.yaml:4:12: error: inventory: inventory inventory/gone.yaml not found",
        ),
    ],
    ids=[
        "unknown runbook",
        "unknown step in planned",
        "unknown objective step",
        "unknown param",
        "missing required param",
        "param of the wrong type",
        "unknown fault",
        "unknown channel",
        "missing answers file",
        "lab with a production inventory",
        "inject outside lab mode",
        "missing inventory",
    ],
)
def test_each_problem_is_at_its_place(
    config: ProjectConfig, change: tuple[str, str], wanted: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    issues = _issues(config, text)
    if "narrated" not in wanted:  # a mode other than lab also narrates the inject
        issues = [i for i in issues if "narrated" not in i]
    assert len(issues) == 1 and issues[0].startswith(wanted), issues


def test_a_production_inventory_is_fine_outside_lab_mode(config: ProjectConfig) -> None:
    text = GOOD.replace("mode: lab", "mode: simulate\ninventory: inventory/prod.yaml")
    assert [i for i in _issues(config, text) if ": error:" in i] == []


def test_without_the_lab_fault_names_fault_names_are_not_checked(config: ProjectConfig) -> None:
    write_drill(config.root, "x", GOOD.replace("[power-loss]", "[power-los]"))
    assert check_drill(load_drill("x", config), config) == []
