"""check steps in a runbook against the lab, one per transport: `disk` over SSH on db1,
`interfaces` over netmiko on core-sw1, `http` on oa1's health page, `certificate` against a
throwaway local TLS server, and an unreachable host whose checks fail while the run goes on.
The run goes through the real `respond run`; the graded results are read from its record.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from labkit import Lab, start_lab
from tlskit import TlsServer

RUNBOOK = """runbook: checks
version: 1.0.0
title: checks over every transport
scenario: other
severity: 4
steps:
  - id: disk
    kind: check
    targets: db1
    check: disk
  - id: interfaces
    kind: check
    targets: core-sw1
    check: interfaces
  - id: http
    kind: check
    targets: oa1
    check: http
    args: {url: "{{ oa_url }}/health"}
  - id: cert-soon
    kind: check
    targets: oa1
    check: certificate
    args: {host: 127.0.0.1, port: SOON_PORT, server_name: localhost}
  - id: cert-later
    kind: check
    targets: oa1
    check: certificate
    args: {host: 127.0.0.1, port: LATER_PORT, server_name: localhost}
  - id: reachable
    kind: check
    targets: app1
    check: reachable
    on_failure: continue
  - id: app1-disk
    kind: check
    targets: app1
    check: disk
    on_failure: continue
  - id: after
    kind: check
    targets: db1
    check: load
    warn: "1000"
    crit: "2000"
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("check-lab")
    project = base / "project"
    (project / "runbooks").mkdir(parents=True)
    (project / "respond.yaml").write_text(
        "runbooks: runbooks\ndefault_inventory: inventory/lab.yaml\n", encoding="utf-8"
    )
    the_lab = start_lab(project, base / "home", hosts=3)
    try:
        yield the_lab
    finally:
        the_lab.down()


def test_check_steps_over_every_transport_against_the_lab(lab: Lab, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    (tmp_path / "soon").mkdir()
    (tmp_path / "later").mkdir()
    with (
        TlsServer(tmp_path / "soon", not_after=now + timedelta(days=5)) as soon,
        TlsServer(tmp_path / "later", not_after=now + timedelta(days=20)) as later,
    ):
        text = RUNBOOK.replace("SOON_PORT", str(soon.port)).replace("LATER_PORT", str(later.port))
        (lab.project / "runbooks" / "checks.yaml").write_text(text, encoding="utf-8")
        # app1 stays down: the lab is this module's and goes down with it
        lab.inject("server-down", "--target", "app1")
        rc, result = lab.run("checks")
    statuses = {s["id"]: s["status"] for s in result["steps"]}
    assert statuses == {
        "disk": "ok",
        "interfaces": "ok",
        "http": "ok",
        "cert-soon": "ok",
        "cert-later": "ok",
        "reachable": "failed",
        "app1-disk": "failed",
        "after": "ok",  # the failed readings did not stop the run
    }, result
    assert rc == 0 and result["outcome"] == "resolved", result  # failures tolerated: continue

    results = {
        (e["step_id"], e["host"]): e["data"]
        for e in lab.events(result["run_id"])
        if e["kind"] == "host-result"
    }
    graded = {step: data["data"]["check"] for (step, _), data in results.items()}
    for step, check in graded.items():
        assert check["id"] == step
        assert set(check) == {
            "id", "name", "state", "code", "summary", "value", "unit",
            "warn", "crit", "perfdata", "details", "advice",
        }  # fmt: skip

    disk = graded["disk"]
    assert (disk["name"], disk["state"], disk["unit"]) == ("disk", "OK", "%"), disk
    assert (disk["warn"], disk["crit"]) == ("80", "90") and disk["perfdata"], disk
    assert [c["command"] for c in results[("disk", "db1")]["commands"]] == ["df -P"]

    interfaces = graded["interfaces"]
    assert (interfaces["name"], interfaces["state"], interfaces["value"]) == (
        "interfaces",
        "OK",
        0,
    ), interfaces

    http = graded["http"]
    assert (http["state"], http["unit"]) == ("OK", "s") and http["value"] >= 0, http

    soon_cert, later_cert = graded["cert-soon"], graded["cert-later"]
    assert soon_cert["state"] == "CRITICAL" and 4.9 <= soon_cert["value"] <= 5.0, soon_cert
    assert later_cert["state"] == "WARNING" and 19.9 <= later_cert["value"] <= 20.0, later_cert
    assert soon_cert["advice"] and soon_cert["unit"] == "d"

    reachable, app1_disk = graded["reachable"], graded["app1-disk"]
    assert reachable["state"] == "CRITICAL" and reachable["summary"].startswith(
        "REACHABLE CRITICAL - "
    ), reachable
    assert app1_disk["state"] == "UNKNOWN" and app1_disk["summary"].startswith("DISK UNKNOWN - ")
    for step in ("reachable", "app1-disk"):
        data: dict[str, Any] = results[(step, "app1")]
        assert data["status"] == "failed" and data["error"], data
        assert data["error"] in graded[step]["summary"]
