"""`respond lab down` leaves no stale inventory; a run against a stopped lab says so at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from labkit import copy_project, start_lab

from respond.lab.inventoryfile import NOT_RUNNING


def test_lab_down_removes_its_inventory_and_a_run_then_says_the_lab_is_not_running(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path / "project")
    lab = start_lab(project, tmp_path / "home")
    inventory = project / "inventory" / "lab.yaml"
    kept = project / "inventory" / "kept-lab.yaml"
    try:
        assert inventory.exists()
        shutil.copy(inventory, kept)  # a copy carries the marker of a lab that will stop
    finally:
        lab.down(check=True)
    assert not inventory.exists()
    assert kept.exists()  # only the file the lab wrote is removed
    for path in ("inventory/lab.yaml", "inventory/kept-lab.yaml"):
        run = lab.respond("run", "power-outage", "--yes", "-i", path)
        assert run.rc == 2, run.stderr
        assert NOT_RUNNING in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    plan = lab.respond("plan", "power-outage", "-i", "inventory/lab.yaml")
    assert plan.rc == 2 and NOT_RUNNING in plan.stderr
