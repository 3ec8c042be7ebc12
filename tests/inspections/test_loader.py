"""Inspection definitions on their own and in their project (respond.inspections.loader /
model): every key of a good file read as written, every kind of bad input refused at its
file:line:col with a message saying what is wrong, and `respond validate` / `respond schema
inspection` over them."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import Cli

from respond.config import ProjectConfig, load_config
from respond.errors import InspectionError
from respond.inspections.compile import compile_inspection
from respond.inspections.loader import check_inspection, find_inspections, load_inspection

REPO = Path(__file__).resolve().parents[2]

RUNBOOK = """\
runbook: power-outage
version: 1.0.0
title: Power outage
scenario: power
severity: 2
params:
  site: {required: true}
  min_runtime: {type: int, default: 60}
steps:
  - id: ups-status
    kind: local
    command: echo ok
"""

RESPOND_YAML = """\
timezone: Asia/Shanghai
channels:
  oncall: {type: file}
"""

INVENTORY = """\
all:
  children:
    servers:
      hosts:
        db1: {ansible_host: 127.0.0.1}
        oa1: {ansible_host: 127.0.0.1, oa_url: "http://127.0.0.1:1"}
    ups:
      hosts:
        ups1: {ansible_host: 127.0.0.1}
"""

FULL = """\
inspection: full
version: 2.1.0
title: 日常巡检 / Daily inspection
description: every key
inventory: inventory/site.yaml
schedule: {cron: "0 8 * * *", timezone: Asia/Shanghai, start: 2026-12-01}
concurrency: 5
timeout: 45s
checks:
  - id: disk-root
    check: disk
    targets: servers
    title: 磁盘空间 / Disk space
    warn: 80
    crit: "90"
    args: {paths: [/, /var]}
  - check: ups
    targets: ups
  - id: oa
    check: http
    targets: oa1
    args: {url: "{{ oa_url }}/health", status: 200}
on_critical:
  - checks: [ups]
    hosts: ups1
    action: run
    runbook: power-outage
    params: {site: main}
    severity: 1
  - checks: [disk-root, oa]
    action: incident
    runbook: power-outage
    notify: [oncall]
report:
  formats: [html, xlsx]
  to: out/reports
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inspections")
    for folder in ("runbooks", "inspections", "inventory"):
        (root / folder).mkdir()
    (root / "respond.yaml").write_text(RESPOND_YAML, encoding="utf-8")
    (root / "runbooks" / "power-outage.yaml").write_text(RUNBOOK, encoding="utf-8")
    (root / "inventory" / "site.yaml").write_text(INVENTORY, encoding="utf-8")
    return root


@pytest.fixture
def config(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectConfig]:
    monkeypatch.chdir(project)  # messages show paths relative to the current directory
    yield load_config(project)


def _write(root: Path, name: str, text: str) -> Path:
    path = root / "inspections" / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _errors(config: ProjectConfig, name: str, text: str) -> list[str]:
    _write(config.root, name, text)
    with pytest.raises(InspectionError) as caught:
        load_inspection(name, config)
    assert caught.value.exit_code == 2
    return [str(issue) for issue in caught.value.issues]


def test_every_key_is_read_as_written(config: ProjectConfig) -> None:
    path = _write(config.root, "full", FULL)
    got = load_inspection("full", config)
    assert (got.id, got.version, got.title) == ("full", "2.1.0", "日常巡检 / Daily inspection")
    assert got.description == "every key" and got.inventory == "inventory/site.yaml"
    assert got.schedule is not None
    assert (got.schedule.cron, got.schedule.timezone, got.schedule.start) == (
        "0 8 * * *",
        "Asia/Shanghai",
        "2026-12-01",
    )
    assert (got.concurrency, got.timeout) == (5, 45.0)
    disk, ups, oa = got.checks
    assert (disk.id, disk.check, disk.targets, disk.title) == (
        "disk-root",
        "disk",
        "servers",
        "磁盘空间 / Disk space",
    )
    assert (disk.warn, disk.crit, disk.args) == ("80", "90", {"paths": ["/", "/var"]})
    assert (ups.id, ups.warn, ups.crit, ups.args, ups.title) == ("ups", None, None, {}, None)
    assert oa.id == "oa" and oa.args["url"] == "{{ oa_url }}/health"
    run, incident = got.on_critical
    assert (run.checks, run.hosts, run.action, run.runbook) == (
        ("ups",),
        "ups1",
        "run",
        "power-outage",
    )
    assert (run.params, run.severity, run.notify) == ({"site": "main"}, 1, None)
    assert (incident.checks, incident.action, incident.notify) == (
        ("disk-root", "oa"),
        "incident",
        ("oncall",),
    )
    assert got.report is not None and got.report.formats == ("html", "xlsx")
    assert got.report.to == "out/reports"
    assert got.text == path.read_text(encoding="utf-8") and len(got.sha256) == 64
    assert check_inspection(got, config) == []
    assert find_inspections(config)[0].name == "full.yaml"


def test_defaults_and_the_schedule_shorthand(config: ProjectConfig) -> None:
    _write(
        config.root,
        "small",
        "inspection: small\nschedule: monthly\nchecks:\n  - {check: disk, targets: servers}\n",
    )
    got = load_inspection("small", config)
    assert got.version == "1.0.0" and got.concurrency == 20 and got.timeout is None
    assert got.schedule is not None and got.schedule.expression == "0 9 1 * *"
    assert got.on_critical == () and got.report is None


def test_compiled_runbook_has_one_check_step_per_check(config: ProjectConfig) -> None:
    _write(config.root, "full", FULL)
    rb = compile_inspection(load_inspection("full", config))
    assert (rb.id, rb.version, rb.scenario, rb.severity) == ("full", "2.1.0", "other", 4)
    assert [s.id for s in rb.steps] == ["disk-root", "ups", "oa"]
    disk = rb.steps[0]
    assert (disk.kind, disk.targets, disk.on_failure, disk.max_errors) == (
        "check",
        "servers",
        "continue",
        "100%",
    )
    assert (disk.concurrency, disk.timeout, disk.name) == (5, 45.0, "磁盘空间 / Disk space")
    assert rb.text.startswith("inspection: full") and len(rb.sha256) == 64
    # positions are the inspection file's: step 3 is written at check 3
    assert rb.steps[2].location is not None and rb.steps[2].location.line == 19


BAD = [
    (
        "unknown check",
        "inspection: x\nchecks:\n  - {check: dsk, targets: servers}\n",
        "inspections/x.yaml:3:13: error: check 1: unknown check 'dsk' (did you mean 'disk'?); "
        "the built-in checks: ",
    ),
    (
        "duplicate ids",
        "inspection: x\nchecks:\n  - {check: disk, targets: servers}\n"
        "  - {check: disk, targets: db1}\n",
        "inspections/x.yaml:4:13: error: check 2: duplicate check id 'disk' (also check 1); "
        "give one of them an `id:`",
    ),
    (
        "bad range",
        "inspection: x\nchecks:\n  - {check: disk, targets: servers, warn: '90:80'}\n",
        "inspections/x.yaml:3:43: error: check 1: warn: threshold range '90:80' starts above "
        "its end",
    ),
    (
        "not a range",
        "inspection: x\nchecks:\n  - {check: disk, targets: servers, crit: lots}\n",
        "inspections/x.yaml:3:43: error: check 1: crit: not a Nagios threshold range: 'lots'",
    ),
    (
        "unknown argument",
        "inspection: x\nchecks:\n  - check: disk\n    targets: servers\n    args: {path: /}\n",
        "inspections/x.yaml:5:18: error: check 1: check disk takes no argument 'path'",
    ),
    (
        "missing targets",
        "inspection: x\nchecks:\n  - {check: disk}\n",
        "inspections/x.yaml:3:5: error: check 1: missing required key 'targets'",
    ),
    (
        "unknown key",
        "inspection: x\nschedul: monthly\nchecks:\n  - {check: disk, targets: servers}\n",
        "inspections/x.yaml:2:1: error: unknown key 'schedul' (did you mean 'schedule'?)",
    ),
    (
        "name differs from the file",
        "inspection: y\nchecks:\n  - {check: disk, targets: servers}\n",
        "inspections/x.yaml:1:13: error: inspection: inspection name 'y' does not match the "
        "file name 'x'",
    ),
    (
        "bad version",
        "inspection: x\nversion: one\nchecks:\n  - {check: disk, targets: servers}\n",
        "inspections/x.yaml:2:10: error: version: ",
    ),
    (
        "no checks",
        "inspection: x\nchecks: []\n",
        "inspections/x.yaml:2:9: error: checks: ",
    ),
    (
        "bad cron",
        "inspection: x\nschedule: every day\nchecks:\n  - {check: disk, targets: servers}\n",
        "inspections/x.yaml:2:11: error: schedule.cron: 'every day' is not a cron expression",
    ),
    (
        "bad action",
        "inspection: x\nchecks:\n  - {check: ups, targets: ups}\non_critical:\n"
        "  - {checks: [ups], action: page, runbook: power-outage}\n",
        "inspections/x.yaml:5:29: error: on_critical rule 1 action: 'action' must be one of "
        "run, incident, got 'page'",
    ),
    (
        "rule names an unknown check id",
        "inspection: x\nchecks:\n  - {check: ups, targets: ups}\non_critical:\n"
        "  - {checks: [usp], action: run, runbook: power-outage}\n",
        "inspections/x.yaml:5:15: error: on_critical rule 1: no check with id 'usp' in this "
        "inspection (did you mean 'ups'?); its checks: ups",
    ),
    (
        "notify on a run rule",
        "inspection: x\nchecks:\n  - {check: ups, targets: ups}\non_critical:\n"
        "  - {checks: [ups], action: run, runbook: power-outage, notify: [oncall]}\n",
        "inspections/x.yaml:5:65: error: on_critical rule 1: notify goes with action incident",
    ),
    (
        "bad report format",
        "inspection: x\nchecks:\n  - {check: ups, targets: ups}\nreport: {formats: [htm]}\n",
        "inspections/x.yaml:4:20: error: report.formats #1: expected 'html', 'md', 'json', "
        "'xlsx', 'docx' or 'pdf', got 'htm'",
    ),
    (
        "not a mapping",
        "- just a list\n",
        "inspections/x.yaml:1:1: error: an inspection must be a mapping of keys",
    ),
    (
        "duplicate key",
        "inspection: x\ninspection: x\nchecks: []\n",
        "inspections/x.yaml:2:1: error: duplicate key 'inspection'",
    ),
]


@pytest.mark.parametrize(("what", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_at_its_place(
    config: ProjectConfig, what: str, text: str, expected: str
) -> None:
    errors = _errors(config, "x", text)
    assert any(e.startswith(expected) for e in errors), errors


def test_unknown_inspection_names_the_known_ones(config: ProjectConfig) -> None:
    _write(config.root, "daily", "inspection: daily\nchecks:\n  - {check: disk, targets: all}\n")
    with pytest.raises(InspectionError) as caught:
        load_inspection("dayly", config)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("no inspection named 'dayly' (did you mean 'daily'?);")
    assert "known: " in str(caught.value) and "daily" in str(caught.value)


PROJECT_BAD = [
    (
        "unknown runbook",
        "  - {checks: [ups], action: run, runbook: power-outag, params: {site: a}}\n",
        "inspections/x.yaml:5:43: error: on_critical rule 1: unknown runbook 'power-outag' "
        "(did you mean 'power-outage'?)",
    ),
    (
        "unknown param",
        "  - {checks: [ups], action: run, runbook: power-outage, params: {sit: a}}\n",
        "inspections/x.yaml:5:71: error: on_critical rule 1: runbook 'power-outage' has no "
        "param 'sit' (did you mean 'site'?)",
    ),
    (
        "param of the wrong type",
        "  - {checks: [ups], action: run, runbook: power-outage,"
        " params: {site: a, min_runtime: soon}}\n",
        "inspections/x.yaml:5:88: error: on_critical rule 1: param 'min_runtime': ",
    ),
    (
        "required param missing",
        "  - {checks: [ups], action: run, runbook: power-outage}\n",
        "inspections/x.yaml:5:5: error: on_critical rule 1: runbook 'power-outage' needs "
        "param 'site': give it under params",
    ),
    (
        "unknown channel",
        "  - {checks: [ups], action: incident, runbook: power-outage, notify: [oncal]}\n",
        "inspections/x.yaml:5:71: error: on_critical rule 1: no channel named 'oncal' in "
        "respond.yaml (did you mean 'oncall'?)",
    ),
]


@pytest.mark.parametrize(("what", "rule", "expected"), PROJECT_BAD, ids=[b[0] for b in PROJECT_BAD])
def test_rules_are_checked_against_the_project(
    config: ProjectConfig, what: str, rule: str, expected: str
) -> None:
    text = "inspection: x\nchecks:\n  - {check: ups, targets: ups}\non_critical:\n" + rule
    _write(config.root, "x", text)
    issues = [str(i) for i in check_inspection(load_inspection("x", config), config)]
    assert any(i.startswith(expected) for i in issues), issues


def test_validate_checks_inspections_and_a_path_to_one(project: Path) -> None:
    for stale in (project / "inspections").iterdir():
        stale.unlink()
    _write(project, "full", FULL)
    _write(project, "bad", "inspection: bad\nchecks:\n  - {check: dsk, targets: servers}\n")
    respond = Cli(cwd=project)
    every = respond("validate")
    assert every.rc == 2
    assert "inspections/bad.yaml:3:13: error: check 1: unknown check 'dsk'" in every.stdout
    assert "checked 1 runbook, 1 inventory, 0 drills, 2 inspections" in every.stderr
    one = respond("validate", "inspections/full.yaml", "--json")
    assert one.rc == 0, one.stdout
    assert json.loads(one.stdout)["inspections"] == 1


def test_the_committed_schema_is_current() -> None:
    respond = Cli(cwd=REPO)
    got = respond("schema", "inspection", check=True).stdout
    committed = (REPO / "schemas" / "inspection.schema.json").read_text(encoding="utf-8")
    assert got == committed, (
        "schemas/inspection.schema.json is stale: run respond schema inspection -o "
        "schemas/inspection.schema.json"
    )
    schema = json.loads(got)
    assert schema["required"] == ["inspection", "checks"]


def test_the_sample_inspections_validate() -> None:
    respond = Cli(cwd=REPO)
    result = respond("validate", "inspections/")
    assert result.rc == 0, result.stdout + result.stderr
    assert "3 inspections" in result.stdout


def test_inspect_checks_lists_the_catalogue() -> None:
    from respond.checks.catalog import checks

    respond = Cli(cwd=REPO)
    listed = json.loads(respond("inspect", "checks", "--json", check=True).stdout)
    assert [c["name"] for c in listed] == list(checks())
    nagios = next(c for c in listed if c["name"] == "nagios")
    assert nagios["accepts_thresholds"] is False and nagios["args"][0]["required"] is True
    plain = respond("inspect", "checks", check=True).stdout.splitlines()
    assert plain[0].split()[:3] == ["check", "transport", "runs"]
    assert any(line.split()[:2] == ["disk", "ssh"] and " 80 " in line for line in plain)
