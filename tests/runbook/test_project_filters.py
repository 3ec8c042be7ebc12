"""Project filters (``filters/*.py``): loaded for the project's runbooks by validate, plan,
run and resume; every problem in them is a ``filters/FILE.py:LINE`` error (exit 2)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from clikit import Cli

RUNBOOK = """\
runbook: lag
version: 1.0.0
title: Replication lag
scenario: other
severity: 3
params:
  status:
    default: "Seconds_Behind_Master: 7"
steps:
  - id: read
    kind: local
    argv: [echo, "lag={{ status | seconds_behind }} {{ status | shout }}"]
    register: lag
    expect:
      that: ["'lag=7 ' in result.stdout"]
"""

GOOD = {
    "replication.py": """\
        import re


        def seconds_behind(text):
            return int(re.search(r"Seconds_Behind_Master: *(\\d+)", text).group(1))


        class FilterModule:
            def filters(self):
                return {"seconds_behind": seconds_behind}
        """,
    "words.py": """\
        from dataclasses import dataclass


        @dataclass
        class Suffix:  # a module that uses what importing it normally provides
            text: str = "!"


        FILTERS = {"shout": lambda text: text.upper() + Suffix().text}
        """,
}


def project(root: Path, filters: dict[str, str]) -> Cli:
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: filters-test\n", encoding="utf-8")
    (root / "runbooks" / "lag.yaml").write_text(RUNBOOK, encoding="utf-8")
    other = RUNBOOK.replace("runbook: lag", "runbook: lag-again")
    (root / "runbooks" / "lag-again.yaml").write_text(other, encoding="utf-8")
    (root / "filters").mkdir()
    for name, text in filters.items():
        (root / "filters" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return Cli().bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})


def test_project_filters_work_in_validate_plan_and_run(tmp_path: Path) -> None:
    cli = project(tmp_path, GOOD)
    assert cli("validate").rc == 0
    plan = cli("plan", "lag")
    assert plan.rc == 0, plan
    assert "lag=7 SECONDS_BEHIND_MASTER: 7!" in plan.stdout
    run = cli("run", "lag", "-p", "status=Seconds_Behind_Master: 12", "--json")
    assert run.rc == 1, run  # 12 is not 7: the filter's value reaches the step
    assert "lag=12 SECONDS_BEHIND_MASTER: 12!" in outputs(cli, run.json()["run_id"])
    assert cli("run", "lag").rc == 0


def outputs(cli: Cli, run_id: str) -> str:
    data = cli("timeline", "show", run_id, "--json", check=True).json()
    events = data["events"] if isinstance(data, dict) else data
    return "".join(
        c.get("stdout", "")
        for e in events
        if e["kind"] == "host-result"
        for c in e["data"].get("commands", [])
    )


def test_a_runbook_outside_the_project_does_not_see_them(tmp_path: Path) -> None:
    cli = project(tmp_path / "p", GOOD)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "respond.yaml").write_text("project: other\n", encoding="utf-8")
    (other / "lag.yaml").write_text(RUNBOOK, encoding="utf-8")
    out = cli("validate", str(other / "lag.yaml"), cwd=other)
    assert out.rc == 2, out
    assert "no filter named 'seconds_behind'" in out.stdout + out.stderr


BROKEN = [
    (
        {"bad.py": "x = 1\ndef f(:\n    pass\n"},
        "filters/bad.py:2:7: error: syntax error: invalid syntax",
    ),
    (
        {"bad.py": "import json\n\nraise RuntimeError('no database driver')\n"},
        "filters/bad.py:3:1: error: import failed: RuntimeError: no database driver",
    ),
    (
        {"bad.py": "import no_such_module_here\n"},
        "filters/bad.py:1:1: error: import failed: ModuleNotFoundError: "
        "No module named 'no_such_module_here'",
    ),
    (
        {"bad.py": "LIMIT = 3\n\nFILTERS = {'limit': LIMIT}\n"},
        "filters/bad.py:3:1: error: filter 'limit' is not a function (got int)",
    ),
    (
        {"bad.py": "\n\ndef length(x):\n    return 0\n\n\nFILTERS = {'length': length}\n"},
        "filters/bad.py:3:1: error: filter 'length' shadows a built-in filter; choose another name",
    ),
    (
        {"bad.py": "FILTERS = {'int': float}\n"},
        "filters/bad.py:1:1: error: filter 'int' shadows a built-in filter",
    ),
    (
        {"bad.py": "def shout(t):\n    return t\n\n\nFILTERS = {'shout': shout}\n"},
        "filters/words.py:9:1: error: filter 'shout' is also defined in filters/bad.py; "
        "filter names must be unique",
    ),
    (
        {"bad.py": "HELPERS = {}\n"},
        "filters/bad.py:1:1: error: defines neither FILTERS = {name: function} nor class "
        "FilterModule",
    ),
]


@pytest.mark.parametrize(("files", "expected"), BROKEN)
def test_each_filter_problem_names_file_and_line(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    cli = project(tmp_path, {**GOOD, **files})
    for args in (("validate",), ("plan", "lag"), ("run", "lag")):
        out = cli(*args)
        assert out.rc == 2, out
        assert expected in out.stdout + out.stderr, out
        assert "Traceback" not in out.stdout + out.stderr
    assert not (tmp_path / ".respond" / "respond.db").exists()  # no run was recorded


def test_a_changed_filter_file_is_loaded_again(tmp_path: Path) -> None:
    cli = project(tmp_path, GOOD)
    assert cli("validate").rc == 0
    words = tmp_path / "filters" / "words.py"
    words.write_text("FILTERS = {'whisper': str.lower}\n", encoding="utf-8")
    out = cli("validate")
    assert out.rc == 2 and "no filter named 'shout'" in out.stdout + out.stderr, out


def test_resume_sees_the_project_filters(tmp_path: Path) -> None:
    cli = project(tmp_path, GOOD)
    gated = RUNBOOK + (
        "  - id: promote\n"
        "    kind: local\n"
        "    confirm: 'promote with lag {{ status | seconds_behind }}?'\n"
        "    argv: [echo, promoted]\n"
    )
    (tmp_path / "runbooks" / "lag.yaml").write_text(gated, encoding="utf-8")
    stopped = cli("run", "lag", "--json")
    assert stopped.rc == 3, stopped  # no terminal to confirm the gate: resumable
    resumed = cli("resume", stopped.json()["run_id"], "--yes")
    assert resumed.rc == 0, resumed
    assert "promoted" in outputs(cli, stopped.json()["run_id"])


def test_the_documented_filter_module_works(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "runbooks.md").read_text("utf-8")
    block = re.search(r"```python\n(# filters/replication\.py\n.*?)```", page, re.DOTALL)
    assert block, "docs/runbooks.md lost its project filter example"
    cli = project(tmp_path, {"replication.py": block.group(1)})
    runbook = RUNBOOK.replace("{{ status | shout }}", "").replace("'lag=7 '", "'lag='")
    runbook += (
        "  - id: promote\n"
        "    kind: local\n"
        "    when: status | seconds_behind <= 5\n"
        "    argv: [echo, promote]\n"
    )
    (tmp_path / "runbooks" / "lag.yaml").write_text(runbook, encoding="utf-8")
    (tmp_path / "runbooks" / "lag-again.yaml").unlink()
    assert cli("validate").rc == 0
    close = cli("run", "lag", "-p", "status=Seconds_Behind_Master: 3", "--json")
    assert {s["id"]: s["status"] for s in close.json()["steps"]}["promote"] == "ok"
    far = cli("run", "lag", "-p", "status=Seconds_Behind_Master: 7", "--json")
    assert {s["id"]: s["status"] for s in far.json()["steps"]}["promote"] == "skipped"


def test_a_value_like_an_option_is_refused_in_a_command_using_a_project_filter(
    tmp_path: Path,
) -> None:
    cli = project(tmp_path, GOOD)
    out = cli("run", "lag", "-p", "status=-oProxyCommand=touch owned")
    assert out.rc == 2, out
    assert "parameter 'status' value '-oProxyCommand=touch owned' starts with '-'" in out.stderr
