"""`pip install .` with no extras gives a working lab: a fresh virtual environment, the
package built from this source tree, then `respond lab up`, a link-down on the Huawei core
that `respond run network-outage --yes` locates (facts from the Huawei, H3C and Cisco
switches through netmiko and ntc-templates) and fails over, and `respond lab down`, all with
that environment's own `respond`.

Packages come from the registry through pip's cache (as a user's install would). The source
is copied first so the build never writes into the working tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from labkit import REPO, copy_project

INSTALL_TIMEOUT = 600.0  # pip over a cold cache on a slow line; a warm one takes under a minute
COMMAND_TIMEOUT = 100.0
# Test-only packages: the lab of the product must not need them. (lxml is not among them: the
# Word inspection report's python-docx is built on it.)
TEST_ONLY = ("twisted", "fake-switches", "fake_switches", "tftpy", "netaddr")

# the install is in the (module) fixture, which counts toward the first test's time limit
pytestmark = [pytest.mark.slow, pytest.mark.timeout(INSTALL_TIMEOUT + 2 * COMMAND_TIMEOUT)]


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that points at the development venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("RESPOND_")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return {**env, **extra}


def _call(argv: list[str], timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=_clean_env(RESPOND_OPERATOR="tester@fresh-install"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run(argv: list[str], timeout: float = COMMAND_TIMEOUT) -> str:
    """Run ``argv``; its stdout, after checking it exited 0."""
    proc = _call(argv, timeout)
    assert proc.returncode == 0, f"{' '.join(argv)} → exit {proc.returncode}\n{proc.stderr}"
    return proc.stdout


def _source_copy(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy(REPO / "pyproject.toml", dest)
    shutil.copy(REPO / "README.md", dest)
    shutil.copytree(
        REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return dest


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with `pip install <source>`, no extras."""
    base = tmp_path_factory.mktemp("fresh-install")
    env = base / "venv"
    python = getattr(sys, "_base_executable", sys.executable)
    _run([python, "-m", "venv", str(env)])
    _run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "-q", str(_source_copy(base / "s"))],
        timeout=INSTALL_TIMEOUT,
    )
    return env


def test_pip_install_without_extras_has_no_test_only_packages(venv: Path) -> None:
    names = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))",
        ]
    )
    installed = {n.strip().lower() for n in names.splitlines()}
    assert "respond" in installed
    assert not installed & set(TEST_ONLY), installed & set(TEST_ONLY)


def test_pip_install_without_extras_runs_the_lab_and_network_outage(
    venv: Path, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    respond = [str(venv / "bin" / "respond"), "--project", str(project)]
    respond += ["--home", str(tmp_path / "home")]
    _run([*respond, "lab", "up"])
    try:
        _run([*respond, "lab", "inject", "link-down"])  # the Huawei core's primary uplink
        run = _call([*respond, "run", "network-outage", "--yes", "--json", "-q"])
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)
        assert result["outcome"] == "resolved", result
        steps = {s["id"]: s for s in result["steps"]}
        assert steps["failover"]["status"] == "ok", steps["failover"]
    finally:
        down = _call([*respond, "lab", "down"])
    assert down.returncode == 0, down.stderr
    assert not (project / "inventory" / "lab.yaml").exists()
