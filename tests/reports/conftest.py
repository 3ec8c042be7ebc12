"""Fixtures for the reports: a store on SQLite and on a real PostgreSQL server.

The PostgreSQL machinery is the journal tests' (tests/timeline/conftest.py), loaded from its
file so both directories share one way of starting a throwaway cluster."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from respond.config import load_config
from respond.timeline import Store, open_store


def _journal_fixtures() -> object:
    path = Path(__file__).resolve().parent.parent / "timeline" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_journal_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PgServer = _journal_fixtures().PgServer  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    server = PgServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: test\n", encoding="utf-8")
    return root


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param != "postgres":
        yield str(request.param)
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_db()
    monkeypatch.setenv("RESPOND_DB", url)
    yield str(request.param)
    server.drop_db(url)


@pytest.fixture
def store(project: Path, backend: str) -> Iterator[Store]:
    opened = open_store(load_config(project))
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(project: Path) -> Iterator[Store]:
    opened = open_store(load_config(project))
    yield opened
    opened.close()
