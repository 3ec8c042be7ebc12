"""`respond validate` and `respond schema` for drills, the runbook warning about a gated
step that says `drill: run`, and respond.yaml's drill keys (timezone, organisation,
retention)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli
from modelkit import RUNBOOK, make_project, write_drill

from respond.config import load_config

REPO = Path(__file__).resolve().parent.parent.parent
GOOD = "drill: q1\nrunbook: power-outage\nmode: simulate\nparams: {site: main}\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("drills"))
    write_drill(root, "q1", GOOD)
    return root


def test_a_broken_drill_fails_project_validation_at_its_place(
    respond: Cli, project: Path, tmp_path: Path
) -> None:
    write_drill(project, "broken", "drill: broken\nrunbook: power-outage\nmode: labb\n")
    try:
        result = respond("validate", cwd=project)
    finally:
        (project / "drills" / "broken.yaml").unlink()
    assert result.rc == 2, result
    assert (
        "drills/broken.yaml:3:7: error: mode: 'mode' must be one of tabletop, simulate, lab, "
        "got 'labb' (did you mean 'lab'?)"
    ) in result.stdout
    assert "Traceback" not in result.stderr
    assert "1 error; checked 1 runbook, 1 inventory, 2 drills" in result.stderr


def test_one_drill_file_validates_and_is_counted(project: Path) -> None:
    cli = Cli(in_process=True, cwd=project)
    result = cli("validate", "drills/q1.yaml")
    assert (result.rc, result.stdout) == (0, "ok: 0 runbooks, 0 inventories, 1 drill\n")
    data = cli("validate", "drills/q1.yaml", "--json").json()
    assert (data["ok"], data["drills"], data["issues"]) == (True, 1, [])


def test_a_drill_problem_against_the_project_fails_validation(project: Path) -> None:
    path = write_drill(project, "q2", GOOD.replace("drill: q1", "drill: q2") + "notify: [smss]\n")
    try:
        result = Cli(in_process=True, cwd=project)("validate", str(path.relative_to(project)))
    finally:
        path.unlink()
    assert result.rc == 2
    assert "drills/q2.yaml:5:10: error: notify: no channel named 'smss' in respond.yaml" in (
        result.stdout
    )


def test_respond_schema_drill_writes_the_committed_schema(tmp_path: Path) -> None:
    cli = Cli(in_process=True)
    committed = (REPO / "schemas" / "drill.schema.json").read_text(encoding="utf-8")
    assert cli("schema", "drill").stdout == committed
    out = tmp_path / "drill.schema.json"
    assert cli("schema", "drill", "-o", str(out)).rc == 0
    assert out.read_text(encoding="utf-8") == committed
    assert cli("schema").stdout.startswith('{\n  "$defs"')  # runbooks stay the default
    assert '"title": "respond runbook"' in cli("schema").stdout


def test_a_gated_step_that_says_drill_run_is_a_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    text = RUNBOOK.replace(
        "    confirm: Shed the non-critical load?\n",
        "    confirm: Shed the non-critical load?\n    drill: run\n",
    )
    (root / "runbooks" / "power-outage.yaml").write_text(text, encoding="utf-8")
    result = Cli(in_process=True, cwd=root)("validate", "runbooks/power-outage.yaml")
    assert result.rc == 0, result
    assert (
        "runbooks/power-outage.yaml:17:12: warning: step 2 (shed-load) drill: runs only in lab "
        "drills: outside lab mode a gated step is always simulated"
    ) in result.stdout
    ungated = RUNBOOK.replace("    confirm: Shed the non-critical load?\n", "    drill: run\n")
    (root / "runbooks" / "power-outage.yaml").write_text(ungated, encoding="utf-8")
    result = Cli(in_process=True, cwd=root)("validate", "runbooks/power-outage.yaml")
    assert "warning" not in result.stdout, result


def test_respond_yaml_drill_keys(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    config = load_config(root)
    assert (config.timezone, config.organisation, config.retention) == (
        "Asia/Shanghai",
        "信息管理科",
        None,
    )
    text = (root / "respond.yaml").read_text(encoding="utf-8")
    (root / "respond.yaml").write_text(
        text.replace("Asia/Shanghai", "Asia/Shangai") + "retention: [3y]\n", encoding="utf-8"
    )
    result = Cli(in_process=True, cwd=root)("validate")
    assert result.rc == 2
    assert (
        "respond.yaml:4:11: error: unknown time zone 'Asia/Shangai': expected an IANA name such "
        "as Asia/Shanghai or UTC (did you mean 'Asia/Shanghai'?)"
    ) in result.stdout
    assert "respond.yaml:8:12: error: 'retention' must be text (how long records are kept)" in (
        result.stdout
    )


def test_the_shipped_respond_yaml_names_the_zone_and_organisation() -> None:
    config = load_config(REPO)
    assert config.timezone == "Asia/Shanghai" and config.organisation
