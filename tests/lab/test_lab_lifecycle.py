"""Start, restart and stop: stable ports, no process left behind, clean errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from labkit import Lab


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
    return Lab(project, tmp_path / "home")  # not started: the test drives `lab up` itself


def test_up_down_up_keeps_ports_and_down_leaves_nothing(fresh: Lab) -> None:
    lab = fresh
    status = lab.respond("lab", "status")
    assert status.rc == 1, status
    not_up = lab.respond("lab", "inject", "oa-down")
    assert not_up.rc != 0 and "Traceback" not in not_up.stderr, not_up
    try:
        lab.up("--hosts", "4")
        first = lab.runtime
        pid = first["pid"]
        assert set(first["hosts"]) >= {"app1", "app2", "test1", "app3"}
        again = lab.up("--hosts", "4")
        assert "already running" in again.stderr, again
        # a long command on a host must not survive `lab down`
        client = lab.ssh("app3")
        client.exec_command("sleep 300")
        bad = lab.respond("lab", "inject", "server-down", "--target", "nosuch")
        assert bad.rc == 2 and "nosuch" in bad.stderr, bad
        lab.down(check=True)
        client.close()
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
        assert _processes_mentioning(str(lab.lab_dir)) == []
        assert not (lab.lab_dir / "lab.pid").exists()
        lab.up("--hosts", "4")
        second = lab.runtime
        assert second["pid"] != pid
        assert {**second["hosts"], **second["switches"], **second["web"]} == {
            **first["hosts"],
            **first["switches"],
            **first["web"],
        }
        assert lab.status()["faults"] == []
    finally:
        lab.down()
    assert _processes_mentioning(str(lab.lab_dir)) == []
    assert "not running" in lab.down(check=True).stderr
