"""Adding a step kind is one module and one registry line: the example kind of
docs/internals.md, registered in a fresh interpreter, works through validate, plan, run,
register, the record and the schema, with no change anywhere else."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent

# The one registry line, made before respond builds its step model.
BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from respond import kinds; kinds.REGISTRY['echo'] = 'example_kind:KIND'; "
    "from respond.cli import main; main(sys.argv[1:])"
)


def _example_module() -> str:
    page = (REPO / "docs" / "internals.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    found = [b for b in blocks if "class EchoKind(StepKind)" in b]
    assert len(found) == 1, "docs/internals.md lost its example kind"
    return found[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "kind").mkdir()
    (tmp_path / "kind" / "example_kind.py").write_text(_example_module(), encoding="utf-8")
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    (tmp_path / "runbooks" / "hello.yaml").write_text(
        """runbook: hello
version: 1.0.0
title: hello
scenario: other
severity: 4
params:
  who: {default: world}
steps:
  - id: greet
    kind: echo
    text: "hello {{ who }}"
    register: greeting
  - id: check
    kind: local
    argv: [echo, "{{ greeting.stdout }}"]
    expect: {stdout: "^hello world$"}
""",
        encoding="utf-8",
    )
    return tmp_path


def _respond(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESPOND_HOME": str(project / ".respond")}
    return subprocess.run(
        [sys.executable, "-c", BOOT, str(project / "kind"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_the_example_kind_validates_plans_runs_and_is_recorded(project: Path) -> None:
    checked = _respond(project, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    plan = _respond(project, "plan", "hello", "--json")
    assert plan.returncode == 0, plan.stderr
    greet = json.loads(plan.stdout)["steps"][0]
    assert greet["kind"] == "echo" and greet["commands"] == {"localhost": ["say hello world"]}

    run = _respond(project, "run", "hello", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert [s["status"] for s in result["steps"]] == ["ok", "ok"]  # the register reached `check`

    shown = _respond(project, "timeline", "export", result["run_id"], "--format", "json")
    assert shown.returncode == 0, shown.stderr
    events = json.loads(shown.stdout)["record"]["events"]
    intent = next(e for e in events if e["kind"] == "host-intent" and e["step_id"] == "greet")
    assert intent["data"]["commands"] == ["say hello world"]
    said = next(e for e in events if e["kind"] == "host-result" and e["step_id"] == "greet")
    assert said["data"]["commands"][0]["stdout"] == "hello world"

    schema = _respond(project, "schema")
    assert schema.returncode == 0, schema.stderr
    assert '"echo"' in schema.stdout and "echo: what to say." in schema.stdout


def test_the_example_kinds_own_rule_is_reported_at_its_step(project: Path) -> None:
    path = project / "runbooks" / "hello.yaml"
    path.write_text(path.read_text().replace('    text: "hello {{ who }}"\n', ""), "utf-8")
    checked = _respond(project, "validate")
    assert checked.returncode == 2
    out = checked.stdout + checked.stderr
    line = next(ln for ln in out.splitlines() if "an echo step needs 'text'" in ln)
    assert line.startswith("runbooks/hello.yaml:9:5: error:"), out  # at the step
    assert "Traceback" not in out
