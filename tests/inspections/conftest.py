"""Fixtures for the inspection tests: the journal store on SQLite and on a real PostgreSQL
server (tests/storekit.py)."""

from __future__ import annotations

from storekit import backend, make_store, project, store

__all__ = ["backend", "make_store", "project", "store"]
