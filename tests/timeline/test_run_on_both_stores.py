"""`respond run`, `note`, `timeline verify` and `resume` through the CLI, on SQLite and on a
real PostgreSQL server (RESPOND_DB): the same record either way."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import Cli

RUNBOOK = """runbook: two-steps
version: 1.0.0
title: 两步 / two steps
scenario: other
severity: 3
params:
  token: {secret: true, default: pg-canary-5521}
steps:
  - id: one
    name: one
    kind: local
    argv: [sh, -c, 'echo 第一步 "$TOKEN"']
    env: {TOKEN: "{{ token }}"}
    register: first
  - id: two
    name: two
    kind: manual
    prompt: "继续? {{ first.stdout | trim }}"
"""


def test_run_note_resume_verify(project: Path, backend: str, respond: Cli) -> None:
    # RESPOND_DB (the PostgreSQL backend) comes from the test's environment
    cli = respond.bind(cwd=project, env={"RESPOND_HOME": str(project / ".respond")})
    (project / "runbooks" / "two-steps.yaml").write_text(RUNBOOK, encoding="utf-8")
    first = cli("run", "two-steps", "--json")
    assert first.rc == 3, first  # unattended: the prompt has no answer
    run_id = first.json()["run_id"]
    cli("note", run_id, "值班员: 已到机房 / on site", check=True)
    answers = project / "answers.yaml"
    answers.write_text("two: 继续\n", encoding="utf-8")
    resumed = cli("resume", run_id, "--answers", str(answers), "--json")
    assert resumed.rc == 0, resumed
    shown = cli("timeline", "show", run_id, "--json", check=True).json()
    events = shown["events"] if isinstance(shown, dict) else shown
    kinds = [e["kind"] for e in events]
    assert kinds.count("run-finished") == 2 and kinds[-1] == "run-finished"
    assert "note" in kinds and "run-resumed" in kinds
    answer = next(e for e in events if e["kind"] == "answer")
    assert answer["data"]["answer"] == "继续"
    assert "pg-canary-5521" not in json.dumps(events, ensure_ascii=False)
    cli("timeline", "verify", run_id, check=True)
    listed = cli("timeline", "list", "--json", check=True).json()
    assert [r["status"] for r in listed if r["run_id"] == run_id] == ["succeeded"]
    # the record went to the backend under test, not to a SQLite file beside it
    assert (project / ".respond" / "respond.db").exists() == (backend == "sqlite")
