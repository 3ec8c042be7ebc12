from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import Lab, make_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A fresh project copy with its own lab running; stopped afterwards."""
    the_lab = make_lab(tmp_path)
    try:
        yield the_lab
    finally:
        the_lab.respond("lab", "down")
