"""Fixtures: real OpenSSH sshd servers on loopback (see ``sshdkit.py`` for the machinery).

``sshd_hosts(n)`` gives ``n`` running sshd hosts with an Ansible inventory and a known_hosts
file for them. If sshd is missing it is installed; if that is impossible the tests FAIL
with the reason (they are never skipped). Every sshd is stopped at the end of the session.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sshdkit import SshdFarm, SshdGroup, SshdUnavailable, make_step

from respond.executors.base import RunContext


@pytest.fixture(scope="session")
def sshd_farm() -> Iterator[SshdFarm]:
    try:
        farm = SshdFarm()
    except (SshdUnavailable, subprocess.CalledProcessError, OSError) as exc:
        pytest.fail(f"cannot provide a real OpenSSH sshd for the integration tests: {exc}")
    try:
        yield farm
    finally:
        farm.stop()


@pytest.fixture(scope="session")
def sshd_hosts(sshd_farm: SshdFarm) -> Callable[[int], SshdGroup]:
    """``sshd_hosts(n)`` → n running sshd hosts, their inventory and known_hosts."""

    def get(n: int) -> SshdGroup:
        try:
            return sshd_farm.group(n)
        except SshdUnavailable as exc:
            pytest.fail(str(exc))

    return get


@pytest.fixture
def run_ctx(tmp_path: Path, sshd_farm: SshdFarm) -> RunContext:
    """A RunContext that trusts exactly the farm's known_hosts file."""
    return RunContext(
        run_id="test-run",
        project_root=tmp_path,
        playbooks_dir=tmp_path / "playbooks",
        home=tmp_path / "home",
        known_hosts=(sshd_farm.known_hosts,),
    )


@pytest.fixture
def step_factory() -> Callable[..., SimpleNamespace]:
    return make_step
