"""Fixtures for the reports: the journal store on SQLite and on a real PostgreSQL server
(tests/storekit.py), and a SQLite-only store for the tests of formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storekit import backend, make_store, project, store

from respond.config import load_config
from respond.timeline import Store, open_store

__all__ = ["backend", "make_store", "project", "store"]


@pytest.fixture
def sqlite_store(project: Path) -> Iterator[Store]:
    opened = open_store(load_config(project))
    yield opened
    opened.close()
