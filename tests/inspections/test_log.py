"""`respond inspect log --from --to`: the daily check record (日常检查记录) over the record
of several inspection runs, on SQLite and on PostgreSQL: every result in the period sorted by
time then device, filters, four formats, a password from the inventory masked; an empty
period is one clear line (exit 0), bad dates exit 2."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from clikit import Cli
from records import (
    SECRET,
    START,
    clock_on_store,
    disk,
    load,
    record_inspection,
    unreachable,
    ups,
    write_project,
)

from respond.timeline import Store

DAY = timedelta(days=1)
BEFORE = [disk("db1", 85), disk("web1", 55), load("db1", 0.2), ups("ups1", 29, on_battery=True)]
NOW = [
    disk("db1", 93, summary=f"DISK CRITICAL - / 93% used (password={SECRET})"),
    load("db1", 0.3),
    unreachable("load", "web1"),
    ups("ups1", 42),
]
COLUMNS = [
    "time",
    "device",
    "check",
    "what is checked",
    "state",
    "value",
    "threshold",
    "problem found",
    "run",
]


@pytest.fixture
def three_days(
    store: Store, project: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Cli, list[str]]:
    """Runs at 00:00Z on 1, 2 and 3 December; the CLI in the project over the same store."""
    write_project(project)
    clock = clock_on_store(monkeypatch)
    ids = [
        record_inspection(store, clock, BEFORE, start=START).run_id,
        record_inspection(store, clock, NOW, start=START + DAY).run_id,
        record_inspection(store, clock, BEFORE, start=START + 2 * DAY).run_id,
    ]
    return Cli(cwd=project, in_process=True), ids


def test_a_day_in_every_format_sorted_by_time_then_device(
    three_days: tuple[Cli, list[str]],
) -> None:
    respond, ids = three_days
    # 2 December in Shanghai: 1 Dec 16:00Z .. 2 Dec 16:00Z holds the second run only
    day = ("inspect", "log", "--from", "2026-12-02+08:00", "--to", "2026-12-02+08:00")
    table = respond(*day)
    assert table.rc == 0, table
    lines = table.stdout.splitlines()
    assert (
        lines[0]
        == "日常检查记录 Daily check record — 2026-12-02+08:00 – 2026-12-02+08:00: 4 result(s)"
    )
    assert lines[2].split() == [
        "time",
        "device",
        "check",
        "what",
        "is",
        "checked",
        "state",
        "value",
        "threshold",
        "problem",
        "found",
        "run",
    ]
    assert SECRET not in table.stdout and "password=***" in table.stdout

    parsed = list(csv.reader(io.StringIO(respond(*day, "--format", "csv").stdout.lstrip("\ufeff"))))
    assert parsed[0] == COLUMNS
    assert [(r[1], r[2], r[4], r[5]) for r in parsed[1:]] == [
        ("db1", "disk", "CRITICAL", "93%"),
        ("db1", "load", "OK", "0.3"),
        ("web1", "load", "UNKNOWN", "-"),
        ("ups1", "ups", "OK", "42 min"),
    ]
    assert parsed[1][3] == "磁盘空间 / Disk space" and parsed[1][6] == "warn 80 / crit 90"
    assert parsed[1][7] == "DISK CRITICAL - / 93% used (password=***)"
    assert parsed[2][7] == "-" and {r[8] for r in parsed[1:]} == {ids[1]}

    data = respond(*day, "--json").json()
    assert data["count"] == 4 and [r["time"] for r in data["results"]] == sorted(
        r["time"] for r in data["results"]
    )
    assert data["results"][0]["run_id"] == ids[1] and data["results"][0]["unit"] == "%"
    md = respond(*day, "--format", "md").stdout
    assert "| time | device | check | what is checked |" in md and md.count("\n| ") == 5


def test_filters_and_a_period_across_runs(three_days: tuple[Cli, list[str]]) -> None:
    respond, ids = three_days
    span = ("inspect", "log", "--from", "2026-12-01Z", "--to", "2026-12-03Z", "--json")
    assert respond(*span).json()["count"] == 4 + 4 + 4
    db1_disk = respond(*span, "--device", "db1", "--check", "disk").json()["results"]
    assert [(r["run_id"], r["state"]) for r in db1_disk] == [
        (ids[0], "WARNING"),
        (ids[1], "CRITICAL"),
        (ids[2], "WARNING"),
    ]
    assert respond(*span, "--inspection", "monthly").json()["count"] == 0


def test_an_empty_period_and_bad_dates(three_days: tuple[Cli, list[str]]) -> None:
    respond, _ = three_days
    empty = respond("inspect", "log", "--from", "2027-01-01", "--to", "2027-01-02")
    assert empty.rc == 0 and empty.stdout == ""
    assert empty.stderr.strip() == "no inspection results from 2027-01-01 to 2027-01-02"
    filtered = respond(
        "inspect", "log", "--from", "2026-12-01Z", "--to", "2026-12-03Z", "--device", "nas9"
    )
    assert filtered.stderr.strip().endswith("(device nas9)") and filtered.rc == 0

    bad = respond("inspect", "log", "--from", "2026-13-45", "--to", "2026-12-02")
    assert bad.rc == 2 and bad.stderr.strip() == "error: not a date: '2026-13-45' (use YYYY-MM-DD)"
    backwards = respond("inspect", "log", "--from", "2026-12-03", "--to", "2026-12-01")
    assert backwards.rc == 2 and "is before --from" in backwards.stderr
    missing = respond("inspect", "log", "--from", "2026-12-01")
    assert missing.rc == 2 and "--to" in missing.stderr and "Traceback" not in missing.stderr
