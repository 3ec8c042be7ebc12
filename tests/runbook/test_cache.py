"""The cache behind `respond list` and `respond show`: used only for unchanged files and
unchanged code, never for a runbook that fails to load, never holding a secret."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from respond.cli import cli
from respond.errors import RespondError
from respond.runbook import cache

REPO = Path(__file__).resolve().parents[2]

RUNBOOK = """\
runbook: {id}
version: "1.0.0"
title: "Check {id}"
scenario: other
severity: {severity}
params:
  token: {{secret: true, default: "hunter2-not-in-any-cache"}}
steps:
  - id: check
    kind: ssh
    targets: all
    command: "uptime"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: cache-test\n", encoding="utf-8")
    (root / "runbooks" / "alpha.yaml").write_text(
        RUNBOOK.format(id="alpha", severity=2), encoding="utf-8"
    )
    monkeypatch.chdir(root)
    return root


def respond(*args: str) -> tuple[int, str]:
    """(exit code, output) as `respond` gives them: a RespondError is its message and code."""
    result = CliRunner().invoke(cli, list(args))
    if isinstance(result.exception, RespondError):
        return result.exception.exit_code, result.output + str(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def home() -> Path:
    return Path(os.environ["RESPOND_HOME"])


def test_second_list_reads_the_cache_and_prints_the_same(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = respond("list", "--json")
    assert first[0] == 0 and len(list((home() / "cache" / "runbooks").glob("*.json"))) == 1

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged runbook was validated again")

    monkeypatch.setattr("respond.runbook.loader.load_runbook", no_loading)
    assert respond("list", "--json") == first
    assert respond("show", "alpha")[0] == 0


def test_an_edited_runbook_is_validated_again(project: Path) -> None:
    path = project / "runbooks" / "alpha.yaml"
    assert respond("list")[0] == 0
    path.write_text(RUNBOOK.format(id="alpha", severity=9), encoding="utf-8")
    code, out = respond("list")
    assert "✗ invalid" in out and "less than or equal to 4" in out, out
    code, out = respond("show", "alpha")
    assert code == 2 and "severity" in out
    path.write_text(RUNBOOK.format(id="alpha", severity=3), encoding="utf-8")
    rows = json.loads(respond("list", "--json")[1])
    assert rows[0]["ok"] and rows[0]["severity"] == 3


def test_changed_code_is_a_miss(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert respond("list")[0] == 0
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "respond changed since")
    calls = []
    real = cache.describe
    monkeypatch.setattr(cache, "describe", lambda rb: calls.append(rb.id) or real(rb))
    assert respond("list")[0] == 0
    assert calls == ["alpha"]


def test_the_same_file_under_another_name_is_checked_under_that_name(project: Path) -> None:
    assert respond("list")[0] == 0
    (project / "runbooks" / "beta.yaml").symlink_to(project / "runbooks" / "alpha.yaml")
    rows = {r["id"]: r for r in json.loads(respond("list", "--json")[1])}
    assert rows["alpha"]["ok"]
    assert not rows["beta"]["ok"] and "does not match the file name" in rows["beta"]["error"]


def test_secret_defaults_never_reach_the_cache(project: Path) -> None:
    code, out = respond("show", "alpha", "--json")
    assert code == 0 and json.loads(out)["params"]["token"]["default"] == "***"
    files = list((home() / "cache").rglob("*"))
    assert files
    for file in files:
        if file.is_file():
            assert "hunter2" not in file.read_text(encoding="utf-8")
            assert file.stat().st_mode & 0o077 == 0


def test_a_home_that_cannot_be_written_only_means_no_cache(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("RESPOND_HOME", str(blocker / "home"))
    assert respond("list") == respond("list")
    assert "alpha" in respond("list")[1]


def test_a_warm_list_imports_neither_pydantic_nor_jinja(project: Path) -> None:
    for name in ("runbooks", "filters"):  # the shipped runbooks use the project's filters
        shutil.copytree(REPO / name, project / name, dirs_exist_ok=True)
    code = (
        "import sys\n"
        "from respond.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'jinja2'}), file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, "list"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert "LOADED ['jinja2', 'pydantic']" in runs[0].stderr  # cold: validated in full
    assert "LOADED []" in runs[1].stderr, runs[1].stderr
    assert runs[0].stdout == runs[1].stdout


# ---------------------------------------------------------------------------------------------
# validate: an unchanged project answers from the cache; any input it read, changed, is
# checked again


CHECKED = """\
runbook: beta
version: "1.0.0"
title: "Uses the inventory and a playbook"
scenario: power
severity: 1
steps:
  - id: look
    kind: ssh
    targets: ups
    command: "echo {{ battery_min }} {{ site_name }}"
  - id: fix
    kind: ansible
    targets: ups
    playbook: fix.yml
"""


@pytest.fixture
def checked(project: Path) -> Path:
    (project / "respond.yaml").write_text(
        "default_inventory: inventory/lab.yaml\n", encoding="utf-8"
    )
    (project / "inventory").mkdir()
    (project / "inventory" / "lab.yaml").write_text(
        "all:\n  vars: {site_name: room-a}\n  children:\n    ups:\n      hosts:\n"
        "        ups1: {ansible_host: 127.0.0.1}\n",
        encoding="utf-8",
    )
    (project / "inventory" / "group_vars").mkdir()
    (project / "inventory" / "group_vars" / "ups.yaml").write_text(
        "battery_min: 30\n", encoding="utf-8"
    )
    (project / "playbooks").mkdir()
    (project / "playbooks" / "fix.yml").write_text("- hosts: all\n  tasks: []\n", encoding="utf-8")
    (project / "runbooks" / "beta.yaml").write_text(CHECKED, encoding="utf-8")
    return project


def validate(*args: str) -> tuple[int, str]:
    return respond("validate", *args)


def test_an_unchanged_project_validates_from_the_cache(
    checked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = validate()
    assert first == (0, "ok: 2 runbooks, 1 inventory, 0 drills\n")

    def no_checking(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was checked again")

    monkeypatch.setattr("respond.cli.validate._validate_runbook_file", no_checking)
    monkeypatch.setattr("respond.cli.validate._validate_inventory_file", no_checking)
    monkeypatch.setattr("respond.cli.validate._runbook_inventory", no_checking)
    assert validate() == first


def test_validate_checks_again_what_changed(checked: Path) -> None:
    assert validate()[0] == 0
    # the inventory's group_vars lose a variable the runbook reads
    (checked / "inventory" / "group_vars" / "ups.yaml").write_text("other: 1\n", encoding="utf-8")
    code, out = validate()
    assert code == 2 and "unknown name 'battery_min'" in out, out
    (checked / "inventory" / "group_vars" / "ups.yaml").write_text(
        "battery_min: 30\n", encoding="utf-8"
    )
    assert validate()[0] == 0
    # the playbook goes away
    (checked / "playbooks" / "fix.yml").unlink()
    code, out = validate()
    assert code == 2 and "playbook 'fix.yml' not found" in out, out
    (checked / "playbooks" / "fix.yml").write_text("- hosts: all\n  tasks: []\n", encoding="utf-8")
    assert validate()[0] == 0
    # the runbook itself
    path = checked / "runbooks" / "beta.yaml"
    path.write_text(CHECKED.replace("site_name", "site_nam"), encoding="utf-8")
    code, out = validate()
    assert code == 2 and "unknown name 'site_nam' (did you mean 'site_name'?)" in out, out
    # another inventory chosen with -i
    path.write_text(CHECKED, encoding="utf-8")
    (checked / "other.yaml").write_text("all:\n  hosts:\n    x: {}\n", encoding="utf-8")
    code, out = validate("-i", "other.yaml")
    assert code == 2 and "unknown name 'battery_min'" in out, out
    assert validate()[0] == 0


def test_a_broken_file_reports_the_same_errors_every_time(checked: Path) -> None:
    (checked / "runbooks" / "beta.yaml").write_text(
        CHECKED.replace("severity: 1", "severity: 7"), encoding="utf-8"
    )
    first = validate()
    assert first[0] == 2 and "runbooks/beta.yaml:5:11: error: severity" in first[1]
    assert validate() == first


def test_messages_follow_the_current_directory(
    checked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (checked / "runbooks" / "beta.yaml").write_text(
        CHECKED.replace("severity: 1", "severity: 7"), encoding="utf-8"
    )
    assert validate()[1].startswith("runbooks/beta.yaml:5:11:")
    monkeypatch.chdir(checked / "runbooks")
    assert validate()[1].startswith("beta.yaml:5:11:")


def test_a_warm_validate_imports_neither_pydantic_nor_jinja_nor_inventories(
    project: Path,
) -> None:
    for name in ("runbooks", "filters", "playbooks", "inventory"):
        shutil.copytree(REPO / name, project / name, dirs_exist_ok=True)
    code = (
        "import sys\n"
        "from respond.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    heavy = {m.split('.')[0] for m in sys.modules} & {'pydantic', 'jinja2'}\n"
        "    heavy |= {m for m in sys.modules if m.startswith('respond.inventory')}\n"
        "    print('LOADED', sorted(heavy), file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, "validate"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert "LOADED []" not in runs[0].stderr  # cold: checked in full
    assert "LOADED []" in runs[1].stderr, runs[1].stderr
    assert runs[0].stdout == runs[1].stdout
