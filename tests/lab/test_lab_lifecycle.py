"""Start, restart and stop: stable ports, no process left behind, clean errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from labfixture import Lab


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline or text in environ:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def fresh(tmp_path: Path) -> Lab:
    project = tmp_path / "project"
    project.mkdir()
    (project / "respond.yaml").write_text("project: lifecycle\n")
    return Lab(project, tmp_path / "home")


def test_up_down_up_keeps_ports_and_down_leaves_nothing(fresh: Lab) -> None:
    lab = fresh
    assert lab.cli("lab", "status", check=False).returncode == 1
    assert lab.cli("lab", "inject", "oa-down", check=False).returncode != 0
    try:
        lab.cli("lab", "up", "--hosts", "4")
        first = lab.runtime
        pid = first["pid"]
        assert set(first["hosts"]) >= {"app1", "app2", "test1", "app3"}
        again = lab.cli("lab", "up", "--hosts", "4")
        assert "already running" in again.stderr
        # a long command on a host must not survive `lab down`
        client = lab.ssh("app3")
        client.exec_command("sleep 300")
        bad = lab.cli("lab", "inject", "server-down", "--target", "nosuch", check=False)
        assert bad.returncode == 2 and "nosuch" in bad.stderr
        lab.cli("lab", "down")
        client.close()
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
        assert _processes_mentioning(str(lab.root)) == []
        assert not (lab.root / "lab.pid").exists()
        lab.cli("lab", "up", "--hosts", "4")
        second = lab.runtime
        assert second["pid"] != pid
        assert {**second["hosts"], **second["switches"], **second["web"]} == {
            **first["hosts"],
            **first["switches"],
            **first["web"],
        }
        assert lab.status()["faults"] == []
    finally:
        lab.cli("lab", "down", check=False)
    assert _processes_mentioning(str(lab.root)) == []
    assert "not running" in lab.cli("lab", "down").stderr
