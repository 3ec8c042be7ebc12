"""`respond run`, `note`, `timeline verify` and `resume` through the CLI, on SQLite and on a
real PostgreSQL server (RESPOND_DB): the same record either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUNBOOK = """runbook: two-steps
version: 1.0.0
title: 两步 / two steps
scenario: other
severity: 3
params:
  token: {secret: true, default: pg-canary-5521}
steps:
  - {id: one, name: one, kind: local, command: "echo 第一步 {{ token }}", register: first}
  - id: two
    name: two
    kind: manual
    prompt: "继续? {{ first.stdout | trim }}"
"""


def _respond(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "respond", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RESPOND_HOME": str(project / ".respond")},
    )


def test_run_note_resume_verify(project: Path, backend: str) -> None:
    (project / "runbooks" / "two-steps.yaml").write_text(RUNBOOK, encoding="utf-8")
    first = _respond(project, "run", "two-steps", "--json")
    assert first.returncode == 3, first.stderr  # unattended: the prompt has no answer
    run_id = json.loads(first.stdout)["run_id"]
    noted = _respond(project, "note", run_id, "值班员: 已到机房 / on site")
    assert noted.returncode == 0, noted.stderr
    answers = project / "answers.yaml"
    answers.write_text("two: 继续\n", encoding="utf-8")
    resumed = _respond(project, "resume", run_id, "--answers", str(answers), "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    shown = json.loads(_respond(project, "timeline", "show", run_id, "--json").stdout)
    events = shown["events"] if isinstance(shown, dict) else shown
    kinds = [e["kind"] for e in events]
    assert kinds.count("run-finished") == 2 and kinds[-1] == "run-finished"
    assert "note" in kinds and "run-resumed" in kinds
    answer = next(e for e in events if e["kind"] == "answer")
    assert answer["data"]["answer"] == "继续"
    assert "pg-canary-5521" not in json.dumps(events, ensure_ascii=False)
    assert _respond(project, "timeline", "verify", run_id).returncode == 0
    listed = json.loads(_respond(project, "timeline", "list", "--json").stdout)
    assert [r["status"] for r in listed if r["run_id"] == run_id] == ["succeeded"]
