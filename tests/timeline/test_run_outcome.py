"""A run's outcome in the record: the run-finished event, the runs.outcome column (SQLite
and PostgreSQL), `timeline list`, `show` and the four exports; the run still verifies
intact (the outcome is not part of the run's anchor)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from clikit import Cli
from timeline_helpers import record_legacy_run

from respond.config import load_config
from respond.timeline import Store, new_run_id, open_store

RUNBOOK = """runbook: ups-check
version: 1.0.0
title: UPS check
scenario: other
severity: 3
steps:
  - id: look
    kind: local
    argv: [echo, "OL"]
    register: ups
  - id: all-clear
    kind: finish
    when: "'OL' in ups.stdout"
    outcome: no-fault
    message: "UPS on line ({{ ups.stdout | trim }})"
  - id: repair
    kind: local
    argv: [echo, repair]
"""
REASON = "UPS on line (OL)"


def _outcome_column(project: Path, run_id: str) -> str | None:
    store = open_store(load_config(project))
    try:
        with store._read() as tx:
            return tx.query("SELECT outcome FROM runs WHERE run_id = ?", (run_id,))[0][0]
    finally:
        store.close()


def test_the_outcome_is_recorded_listed_shown_exported_and_verifies(
    project: Path, backend: str, respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "respond.yaml").write_text(
        "project: test\nsigning_key: hmac:OUTCOME_SEAL_KEY\n", encoding="utf-8"
    )
    # RESPOND_DB (the PostgreSQL backend) comes from the test's environment
    monkeypatch.setenv("RESPOND_HOME", str(project / ".respond"))
    monkeypatch.setenv("OUTCOME_SEAL_KEY", "s" * 32)
    cli = respond.bind(cwd=project)
    (project / "runbooks" / "ups-check.yaml").write_text(RUNBOOK, encoding="utf-8")
    run = cli("run", "ups-check", "--json")
    assert run.rc == 0, run
    run_id = run.json()["run_id"]
    assert (run.json()["outcome"], run.json()["reason"]) == ("no-fault", REASON)

    listed = cli("timeline", "list", "--json", check=True).json()
    assert [(r["outcome"], r["reason"]) for r in listed] == [("no-fault", REASON)]
    for wanted, found in (("no-fault", [run_id]), ("resolved", [])):
        only = cli("timeline", "list", "--outcome", wanted, "--json", check=True).json()
        assert [r["run_id"] for r in only] == found
    table = cli("timeline", "list", check=True).stdout
    assert "no-fault" in table.splitlines()[-1]

    shown = cli("timeline", "show", run_id, check=True).stdout
    assert f"outcome no-fault — {REASON} (succeeded)" in shown
    assert f"run finished — no-fault (succeeded): {REASON}" in shown

    for fmt in ("json", "md", "html", "csv"):
        text = cli("timeline", "export", run_id, "--format", fmt, check=True).stdout
        assert "no-fault" in text and REASON in text, fmt
    exported = json.loads(cli("timeline", "export", run_id, "--format", "json").stdout)
    assert exported["run"]["outcome"] == "no-fault"

    verified = cli("timeline", "verify", run_id, check=True)
    assert f"{run_id}: intact" in verified.stdout + verified.stderr
    assert _outcome_column(project, run_id) == "no-fault"


def test_migration_4_fills_the_outcome_of_runs_recorded_before(
    make_store: Callable[..., Store],
) -> None:
    old = make_store(migrate=False)
    assert old.migrate(target=3) == [1, 2, 3]
    ended, resumed = new_run_id(), new_run_id()
    # run-finished events as a respond with outcomes wrote them, before the column existed
    record_legacy_run(
        old, ended, [("run-finished", {"status": "failed", "outcome": "unresolved"})], outcome=False
    )
    record_legacy_run(
        old,
        resumed,
        [("run-finished", {"status": "aborted", "outcome": "aborted"}), ("run-resumed", {})],
        outcome=False,
    )
    old.close()
    new = make_store()
    with new._read() as tx:
        column = dict(tx.query("SELECT run_id, outcome FROM runs"))
    assert column == {ended: "unresolved", resumed: None}  # a resumed run's end decides
