"""The run hooks: the terminal's lines come through typed observer methods, and an
observer that raises is reported, never silently swallowed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from enginekit import write_runbook

from respond.engine.observer import NullObserver, Observers, StepSkip


def test_step_failing_before_any_host_prints_its_reason(project: Path, respond: Any) -> None:
    write_runbook(
        project,
        "nohost",
        """params:
  target: {default: h1}
steps:
  - {id: a, kind: ssh, targets: "{{ target }}", command: uptime}
""",
    )
    result = respond("run", "nohost", "-p", "target=nosuch")
    assert result.exit_code == 1
    assert "✗ target pattern 'nosuch' matches no host in the inventory" in result.stderr
    assert "internal error" not in result.stderr


def test_large_fan_out_prints_counts_and_a_summary(project: Path, respond: Any) -> None:
    hosts = "\n".join(f"    n{i:02d}: {{ansible_host: 127.0.0.1}}" for i in range(1, 16))
    (project / "inventory" / "many.yaml").write_text(f"all:\n  hosts:\n{hosts}\n", "utf-8")
    write_runbook(
        project,
        "many",
        "steps:\n  - {id: a, kind: ssh, targets: all, command: fail-on n07, max_errors: 1}\n",
    )
    result = respond("run", "many", "-i", "inventory/many.yaml")
    assert result.exit_code == 0, result.stderr
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
