from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import Lab, copy_project, start_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A fresh copy of the project with its own lab running (3 hosts); stopped afterwards."""
    the_lab = start_lab(copy_project(tmp_path / "project"), tmp_path / "home", hosts=3)
    try:
        yield the_lab
    finally:
        the_lab.down()
