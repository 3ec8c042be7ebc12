"""Incidents run on both stores (SQLite and a real PostgreSQL): see tests/storekit.py."""

from storekit import backend, make_store, project, store

__all__ = ["backend", "make_store", "project", "store"]
