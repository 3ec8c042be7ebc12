"""Engine test fixtures: see enginekit.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli
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
def respond(project: Path) -> Cli:
    """The CLI in this process, through ``main()`` (the real error boundary), so that the
    in-process fake ssh kind above is the one the engine runs."""
    return Cli(in_process=True, cwd=project)
