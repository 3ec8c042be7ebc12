from __future__ import annotations

from collections.abc import Iterator

import pytest
from labkit import Lab, copy_project, start_lab


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A copy of the project with its own lab running (3 hosts), shared by a module's tests."""
    base = tmp_path_factory.mktemp("scenario")
    the_lab = start_lab(copy_project(base / "project"), base / "home", hosts=3)
    try:
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture
def lab(module_lab: Lab) -> Lab:
    """The module's lab back at its baseline (no fault, every host and service up, ports as
    configured), with the earlier tests' messages and power log forgotten."""
    module_lab.heal()
    module_lab.forget()
    return module_lab
