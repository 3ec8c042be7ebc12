"""A lab started through the real CLI, once per test session, in a temporary project and home."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labkit import Lab, start_lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    project = base / "project"
    project.mkdir()
    (project / "respond.yaml").write_text("project: lab-test\n")
    the_lab = start_lab(project, base / "home")
    try:
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture(autouse=True)
def _heal_after(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "lab" in request.fixturenames:
        request.getfixturevalue("lab").heal(check=False)
