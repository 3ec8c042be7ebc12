"""Grading against the lab's real hosts: the monthly inspection (every built-in check) through
`respond inspect run`, after each of the lab's faults and on a healthy lab.

Each fault, injected at its default target, turns exactly the results its row of ``FAULTS``
names and nothing else (exit 1); ``FAULTS`` is also the table "What the lab's faults show"
of docs/inspections.md, and a test keeps the two equal. Between faults the lab is healed: a
leftover would show up as an extra row in the next fault's set, and after the last one
monthly itself is all OK (exit 0). Thresholds come from the definition: the same healthy
readings graded against a definition's own ``warn``/``crit`` are WARNING and CRITICAL.

The faults run a copy of monthly without its ``report`` (same checks, same hosts), so that
each run does not also write three report files; the healthy run is monthly itself, reports
included.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import REPO, Lab

from respond.lab.state import FAULTS as LAB_FAULTS

ROUND = "monthly-round"  # monthly's checks, no report (written into the lab's project)

# fault → (its default target, what the monthly inspection shows, why). "What it shows" is
# every result that is not OK: groups "HOSTS CHECK-IDS STATE" separated by "; " (hosts and
# check ids comma-separated). Every other result stays OK.
FAULTS: dict[str, tuple[str, str, str]] = {
    "power-loss": (
        "ups1",
        "ups1 ups CRITICAL",
        "on battery (OB): CRITICAL whatever the runtime left",
    ),
    "ups-fault": (
        "ups1",
        "ups1 ups CRITICAL",
        "replace battery (RB) and about 4.5 min of runtime, below crit 5:",
    ),
    "link-down": (
        "core-sw1:GE0/0/1",
        "core-sw1 interfaces,interface-errors CRITICAL",
        "the uplink is down, and the failing line counted CRC errors (over 1000; they stay "
        "counted when it comes back by itself, until `lab heal`)",
    ),
    "switch-down": (
        "acc-sw2",
        "acc-sw2 interfaces,interface-errors UNKNOWN; core-sw1 interfaces CRITICAL; "
        "app1,app2,test1 reachable CRITICAL; "
        "app1,app2,test1 load,memory,disk,inodes,service-base,time UNKNOWN",
        "the switch refuses connections (nothing read: UNKNOWN); the core's trunk port toward "
        "it is down; the servers behind it are cut off: not reachable, so nothing else is read",
    ),
    "disk-failure": (
        "file1",
        "file1 disk,inodes,raid,sensors,ipmi-sel,service-file CRITICAL",
        "the failed disk is in both mirrors (md0, md1 degraded), IPMI shows Drive 1 critical "
        "and logs a Drive Fault; it holds file1's data: /srv/share gives I/O errors (df) and "
        "Samba fails",
    ),
    "psu-failure": (
        "db1",
        "db1 sensors,ipmi-sel CRITICAL",
        "PS2, the redundancy, its current and voltage sensors critical; AC lost and the "
        "failure in the event log",
    ),
    "server-down": (
        "app1",
        "app1 reachable CRITICAL; app1 load,memory,disk,inodes,service-base,time UNKNOWN; "
        "acc-sw2 interfaces CRITICAL",
        "the server is off: not reachable, so nothing else is read; its switch port goes down",
    ),
    "service-down": (
        "db1",
        "db1 service-db CRITICAL; oa1 http-oa CRITICAL",
        "PostgreSQL fails, and OA, which needs the database on db1, answers 503",
    ),
    "oa-down": (
        "oa1",
        "oa1 service-apps,http-oa CRITICAL",
        "oa-web fails; OA's health endpoint answers 503",
    ),
    "sms-down": (
        "sms1",
        "sms1 service-sms,http-sms CRITICAL",
        "sms-gateway fails; the SMS health endpoint answers 503",
    ),
    "high-load": ("app1", "app1 load CRITICAL", "5 per CPU over 5 minutes, above crit 4"),
    "memory-pressure": ("app1", "app1 memory CRITICAL", "97% used, above crit 95"),
    "disk-full": ("db1:/", "db1 disk CRITICAL", "/ 93% used, above crit 90"),
    "inode-exhaustion": ("file1:/", "file1 inodes CRITICAL", "96% of / inodes, above crit 90"),
    "time-drift": ("db1", "db1 time CRITICAL", "2.5 s fast, above crit 1"),
    "backup-stale": (
        "db1",
        "db1 backup-db,backup-job CRITICAL",
        "the newest backup file and backup.service's last run are 72 h old, above crit 50",
    ),
    "backup-failed": (
        "db1",
        "db1 backup-job CRITICAL",
        "backup.service's last run failed (Result=exit-code, status 1); the backup file is "
        "left as it was, so backup-db stays OK",
    ),
    "cert-expiring": (
        "oa1",
        "oa1 certificate CRITICAL",
        "the HTTPS certificate expires in 5 days, below crit 7:",
    ),
    "crc-errors": (
        "acc-sw1:GE1/0/1",
        "acc-sw1 interface-errors CRITICAL",
        "250 CRC errors on the port, above crit 100 (the link stays up)",
    ),
}

DOC = REPO / "docs" / "inspections.md"
DOC_HEADING = "## What the lab's faults show"
DOC_ROW = re.compile(
    r"^\| `(?P<fault>[a-z-]+)` \| `(?P<target>[^`]+)` \| (?P<shows>[^|]+) \| (?P<why>[^|]+) \|$"
)


def shown(text: str) -> set[tuple[str, str, str]]:
    """The (host, check id, state) set a "What it shows" cell names."""
    expected: set[tuple[str, str, str]] = set()
    for group in text.split("; "):
        hosts, check_ids, state = group.split()
        expected |= {(h, c, state) for h in hosts.split(",") for c in check_ids.split(",")}
    return expected


def not_ok(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["host"], r["check_id"], r["state"]) for r in report["results"] if r["state"] != "OK"}


def inspect(lab: Lab, name: str) -> tuple[int, dict[str, Any]]:
    """`respond inspect run NAME --json --no-actions`: (exit code, the JSON)."""
    result = lab.respond("inspect", "run", name, "--json", "--no-actions")
    return result.rc, result.json()


@pytest.fixture(scope="module")
def round_lab(module_lab: Lab) -> Lab:
    """The module's lab with monthly's checks as ``monthly-round``, without the report."""
    monthly = yaml.safe_load((module_lab.project / "inspections" / "monthly.yaml").read_text())
    del monthly["report"], monthly["schedule"]
    monthly["inspection"] = ROUND
    path = module_lab.project / "inspections" / f"{ROUND}.yaml"
    path.write_text(yaml.safe_dump(monthly, allow_unicode=True, sort_keys=False), "utf-8")
    return module_lab


@pytest.fixture
def healed(round_lab: Lab) -> Lab:
    """The module's lab with every fault healed (the lab's messages are not looked at here,
    so unlike the scenarios' ``lab`` nothing is forgotten)."""
    round_lab.heal()
    return round_lab


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_turns_exactly_its_checks(healed: Lab, fault: str) -> None:
    _target, shows, _why = FAULTS[fault]
    healed.inject(fault)
    code, report = inspect(healed, ROUND)
    assert not_ok(report) == shown(shows), fault
    assert (code, report["outcome"]) == (1, "unresolved")
    counts = report["counts"]
    assert counts["OK"] == len(report["results"]) - len(shown(shows))


def test_a_healthy_lab_passes_the_monthly_inspection(healed: Lab) -> None:
    """Run after the faults: each one healed leaves nothing behind."""
    lab = healed
    code, report = inspect(lab, "monthly")
    assert (code, report["outcome"], not_ok(report)) == (0, "no-fault", set()), report["counts"]
    hosts = {r["host"] for r in report["results"]}
    assert hosts == {"oa1", "sms1", "db1", "file1", "app1", "app2", "test1", "ups1",
                     "core-sw1", "acc-sw1", "acc-sw2"}  # fmt: skip
    # every check of the definition graded on at least one host
    monthly = yaml.safe_load((lab.project / "inspections" / "monthly.yaml").read_text())
    ids = [c.get("id", c["check"]) for c in monthly["checks"]]
    assert {r["check_id"] for r in report["results"]} == set(ids)
    written = sorted(p.name for p in (lab.project / "reports" / "inspections").iterdir())
    assert written == [f"{report['run_id']}.{ext}" for ext in ("docx", "html", "xlsx")]


def test_thresholds_come_from_the_definition(healed: Lab, tmp_path: Path) -> None:
    """The lab's healthy readings (db1: disk 66%, memory 41%; ups1: 30 min) against a
    definition's own ranges: disk WARNING, memory CRITICAL, ups WARNING (below 45:); load,
    left at its defaults, OK."""
    definition = {
        "inspection": "strict",
        "title": "Strict thresholds",
        "checks": [
            {"check": "disk", "targets": "db1", "warn": "10", "crit": "95"},
            {"check": "memory", "targets": "db1", "warn": 20, "crit": "30"},
            {"check": "ups", "targets": "ups1", "warn": "45:", "crit": "5:"},
            {"check": "load", "targets": "db1"},
        ],
    }
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(definition), encoding="utf-8")
    result = healed.respond("inspect", "run", str(path), "--json", "--no-actions")
    graded = {r["check_id"]: r for r in result.json()["results"]}
    assert result.rc == 1
    assert {k: (r["state"], r["warn"], r["crit"]) for k, r in graded.items()} == {
        "disk": ("WARNING", "10", "95"),
        "memory": ("CRITICAL", "20", "30"),
        "ups": ("WARNING", "45:", "5:"),
        "load": ("OK", "2", "4"),
    }


def test_the_faults_table_is_the_docs_and_covers_every_lab_fault() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(DOC_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [DOC_ROW.match(line) for line in section.splitlines() if line.startswith("| `")]
    documented = {
        m["fault"]: (m["target"], m["shows"].strip(), m["why"].strip()) for m in rows if m
    }
    assert len(documented) == len(rows), "a row of the docs' table is malformed"
    assert documented == FAULTS
    assert set(FAULTS) == set(LAB_FAULTS)
    assert {fault: target for fault, (target, _, _) in FAULTS.items()} == {
        fault: LAB_FAULTS[fault][0] for fault in FAULTS
    }
