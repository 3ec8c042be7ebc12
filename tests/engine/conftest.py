"""Engine test fixtures: see enginekit.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from enginekit import FakeShell

from respond import executors


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / "runbooks").mkdir(parents=True)
    (root / "inventory").mkdir()
    hosts = "\n".join(
        f"        h{i}: {{ansible_host: 127.0.0.1, role: r{i % 2}}}" for i in range(1, 7)
    )
    (root / "inventory" / "hosts.yaml").write_text(
        "all:\n  vars:\n    site: main\n  children:\n    web:\n      hosts:\n" + hosts + "\n"
        "    db:\n      hosts:\n        db1: {ansible_host: 127.0.0.1, ansible_password: hunter2-canary}\n",
        encoding="utf-8",
    )
    (root / "respond.yaml").write_text(
        "runbooks: runbooks\ndefault_inventory: inventory/hosts.yaml\n"
        "channels:\n  log: {type: file, path: notes.log}\n  dead: {url: 'json://127.0.0.1:9/none'}\n"
        "notify:\n  default: [dead, log]\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(root)
    monkeypatch.setitem(executors._classes, "ssh", FakeShell)
    FakeShell.calls.clear()
    FakeShell.flaky_seen.clear()
    return root


@pytest.fixture
def respond(project: Path) -> Any:
    """Invoke the CLI through ``main()``, the real error boundary, and capture its streams."""
    from respond.cli import main

    def invoke(*args: str, input: str | None = None) -> Any:
        runner = CliRunner()
        with runner.isolation(input=input) as streams:
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            stdout = streams[0].getvalue().decode("utf-8", "replace")
            stderr = streams[1].getvalue().decode("utf-8", "replace")
        return SimpleNamespace(exit_code=code, stdout=stdout, stderr=stderr)

    return invoke
