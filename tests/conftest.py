"""Session-wide isolation: records go to a temporary RESPOND_HOME, never the developer's."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli
from storekit import pg_server

__all__ = ["pg_server"]  # one PostgreSQL server per session, for every directory's store tests

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPOND_HOME", str(tmp_path / "respond-home"))
    monkeypatch.delenv("RESPOND_DB", raising=False)
    monkeypatch.delenv("RESPOND_PROJECT", raising=False)


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def respond() -> Cli:
    """``respond(*args, cwd=..., env=..., input=..., timeout=...)`` runs the real `respond`
    command in a child process and returns its Result(rc, stdout, stderr); see clikit.py."""
    return Cli()
