"""Session-wide isolation: records go to a temporary RESPOND_HOME, never the developer's."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clikit import Cli
from storekit import pg_server

__all__ = ["pg_server"]  # one PostgreSQL server per session, for every directory's store tests

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a test marked ``slow`` first, then the files with more tests. With two
    processes a file at a time (scripts/test.sh, which keeps this order with
    --no-loadscope-reorder), a long file handed out last leaves the other process idle until
    it ends: the kill -9 file, one test, takes about three minutes."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    tests_in = Counter(item.path for item in items)
    # stable: within a file, and among equals, as collected
    items.sort(key=lambda item: (item.path not in slow_files, -tests_in[item.path]))


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


@pytest.fixture
def local_zone() -> Iterator[Callable[[str], None]]:
    """Set the process's local time zone for a test (``local_zone("Asia/Shanghai")``); put
    back afterwards. Both the environment and the C library's zone state change (``tzset``):
    ``datetime.astimezone()`` reads the latter, which a bare TZ change leaves stale for the
    tests that come after."""
    original = os.environ.get("TZ")

    def use(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield use
    if original is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original
    time.tzset()
