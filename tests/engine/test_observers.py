"""The run hooks: the terminal's lines come through typed observer methods, and an
observer that raises is reported, never silently swallowed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from enginekit import write_runbook

from respond.engine.observer import NullObserver, Observers, StepSkip, StepStart


def test_step_failing_before_any_host_prints_its_reason(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "nohost",
        """steps:
  - {id: found, kind: local, argv: [echo, nosuch], register: found}
  - {id: a, kind: ssh, targets: "{{ found.stdout | trim }}", command: uptime}
""",
    )
    result = respond("run", "nohost")
    assert result.rc == 1, result
    assert "✗ targets 'nosuch' match no host in inventory/hosts.yaml" in result.stderr
    assert "internal error" not in result.stderr


def test_large_fan_out_prints_counts_and_a_summary(project: Path, respond: Cli) -> None:
    hosts = "\n".join(f"    n{i:02d}: {{ansible_host: 127.0.0.1}}" for i in range(1, 16))
    (project / "inventory" / "many.yaml").write_text(f"all:\n  hosts:\n{hosts}\n", "utf-8")
    write_runbook(
        project,
        "many",
        "steps:\n  - {id: a, kind: ssh, targets: all, command: fail-on n07, max_errors: 1}\n",
    )
    result = respond("run", "many", "-i", "inventory/many.yaml")
    assert result.rc == 0, result
    err = result.stderr
    assert "15/15 hosts done" in err
    assert "n07" in err  # a failed host is always named, even in a large fan-out
    assert "14 ok, 1 failed in" in err
    assert "internal error" not in err


class _Recording(NullObserver):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def step_skipped(self, skip: StepSkip) -> None:
        self.calls.append(f"skipped {skip.step.id}")

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        self.calls.append(f"severity {old}->{new}")


class _Broken(NullObserver):
    def severity_changed(self, old: int, new: int, reason: str) -> None:
        raise RuntimeError("display bug")


def test_a_raising_observer_is_reported_once_and_others_still_hear(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    recording = _Recording()
    observers = Observers([_Broken(), recording])
    with caplog.at_level(logging.ERROR, logger="respond.engine"):
        observers.severity_changed(3, 2, "first")
        observers.severity_changed(2, 1, "second")
    err = capsys.readouterr().err
    assert err.count("internal error in _Broken.severity_changed") == 1
    assert "display bug" in err
    assert recording.calls == ["severity 3->2", "severity 2->1"]
    assert any("display bug" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


class _Collecting(NullObserver):
    """What a test (or any other observer) hears of a run, in order."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    def run_started(self, run_id: str, runbook: Any, severity: int, resumed: bool) -> None:
        self.heard.append(f"run-started {runbook.id} severity={severity}")

    def step_started(self, start: StepStart) -> None:
        self.heard.append(f"step-started {start.index}/{start.total} {start.step.id} {start.hosts}")

    def host_result(self, step: Any, result: Any) -> None:
        self.heard.append(f"host {step.id} {result.host} {result.status}")

    def step_skipped(self, skip: StepSkip) -> None:
        self.heard.append(f"skipped {skip.step.id}")

    def step_finished(self, step: Any, result: Any) -> None:
        self.heard.append(f"step-finished {step.id} {result.status}")

    def run_finished(self, result: Any) -> None:
        self.heard.append(f"run-finished {result.status}")


def test_an_observer_hears_a_run_in_order(project: Path) -> None:
    """The engine built in process, as the CLI builds it, with a collecting observer."""
    from respond.cli.progress import UnattendedAsker
    from respond.config import load_config
    from respond.engine import RunEngine, RunOptions
    from respond.engine.params import resolve_params
    from respond.executors.base import RunContext
    from respond.inventory import load_inventory
    from respond.runbook import load_runbook
    from respond.runbook.templating import Templates
    from respond.secrets import Masker
    from respond.timeline import new_run_id, open_store

    path = write_runbook(
        project,
        "heard",
        """steps:
  - {id: a, kind: ssh, targets: "h1:h2", command: uptime}
  - {id: b, kind: ssh, targets: db, command: uptime, when: "false"}
""",
    )
    config = load_config(project)
    rb = load_runbook(path, config)
    store = open_store(config)
    run_id = new_run_id()
    store.create_run(run_id, {"runbook": rb.id, "runbook_text": rb.text, "sha256": rb.sha256})
    masker = Masker()
    heard = _Collecting()
    engine = RunEngine(
        runbook=rb,
        inventory=load_inventory(project / "inventory" / "hosts.yaml"),
        ctx=RunContext(
            run_id=run_id,
            project_root=project,
            playbooks_dir=project / "playbooks",
            home=config.home,
        ),
        recorder=store.recorder(run_id, masker),
        templates=Templates(project),
        options=RunOptions(params=resolve_params(rb, {}), severity=3, operator="tester"),
        asker=UnattendedAsker(),
        masker=masker,
        observers=[heard],
    )
    result = engine.run()
    assert str(result.status) == "succeeded"
    assert heard.heard == [
        "run-started heard severity=3",
        "step-started 1/2 a ('h1', 'h2')",
        "host a h1 ok",
        "host a h2 ok",
        "step-finished a ok",
        "skipped b",
        "run-finished succeeded",
    ]
