"""`respond drill list|due|install` and the drills in `respond schedule status`, through the
command's own error boundary (in process: many cheap calls). The drills and the record are
made by hand; what is due is computed by the command at a fixed ``--now``."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli

from respond.config import load_config
from respond.timeline import open_store

# Quarterly at 09:00 in Shanghai (01:00 UTC), from 2026 on. At NOW (April 2nd) April 1st's
# occurrence is the current one and January's was never taken: missed.
NOW = "2026-04-02T00:00:00Z"
Q1 = "2026-01-01T01:00:00.000000Z"
Q2 = "2026-04-01T01:00:00.000000Z"
LIST_KEYS = {
    "drill",
    "path",
    "title",
    "mode",
    "runbook",
    "schedule",
    "timezone",
    "zone",
    "start",
    "occurrence",
    "next_due",
    "due",
    "state",
    "run_id",
    "claim",
    "missed",
    "last_run",
    "error",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "drills").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: test\n", encoding="utf-8")
    drills = {
        "q-power": "schedule: {cron: quarterly, timezone: Asia/Shanghai, start: '2026-01-01'}\n"
        "mode: lab\n",
        "by-hand": "mode: tabletop\n",
        "broken": "mode: rehearse\n",
    }
    for name, rest in drills.items():
        (root / "drills" / f"{name}.yaml").write_text(
            f"drill: {name}\ntitle: {name} 演练\nrunbook: power-outage\n{rest}", encoding="utf-8"
        )
    return root


@pytest.fixture
def cli(project: Path) -> Cli:
    return Cli(in_process=True, cwd=project)


def test_drill_list_json_shape(cli: Cli) -> None:
    result = cli("drill", "list", "--json", "--now", NOW)
    assert result.rc == 0, result
    by_name = {d["drill"]: d for d in result.json()}
    assert list(by_name) == ["broken", "by-hand", "q-power"]  # by file name
    assert all(set(d) == LIST_KEYS for d in by_name.values())
    q = by_name["q-power"]
    assert (q["mode"], q["runbook"], q["title"]) == ("lab", "power-outage", "q-power 演练")
    assert (q["schedule"], q["timezone"], q["zone"], q["start"]) == (
        "0 9 1 1,4,7,10 *",
        "Asia/Shanghai",
        "Asia/Shanghai",
        "2026-01-01",
    )
    assert (q["occurrence"], q["next_due"]) == (Q2, "2026-07-01T01:00:00.000000Z")
    assert (q["due"], q["state"], q["missed"], q["last_run"]) == (True, "due", [Q1], None)
    hand = by_name["by-hand"]
    assert (hand["schedule"], hand["occurrence"], hand["due"]) == (None, None, False)
    assert hand["state"] == "by hand only (no schedule)"
    bad = by_name["broken"]
    assert bad["mode"] is None and bad["state"] == f"invalid: {bad['error']}"
    assert "broken.yaml" in bad["error"]


def test_drill_list_shows_what_became_of_the_occurrence(cli: Cli, project: Path) -> None:
    with open_store(load_config(project)) as store:
        store.claim_occurrence("q-power", Q2, "ops@host")
        store.occurrence_run("q-power", Q2, None, "the lab is not installed")
    result = cli("drill", "list", "--now", NOW)
    assert result.rc == 0, result
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "drill", "mode", "runbook", "schedule", "next", "due", "last", "run", "occurrence"
    ]  # fmt: skip
    (power,) = [r for r in rows if r.startswith("q-power")]
    assert "0 9 1 1,4,7,10 * (Asia/Shanghai)" in power and " lab " in power
    assert "never" in power
    assert power.rstrip().endswith("failed to start: the lab is not installed; missed 1")
    (json_q,) = [
        d for d in cli("drill", "list", "--json", "--now", NOW).json() if d["drill"] == "q-power"
    ]
    assert json_q["claim"]["claimed_by"] == "ops@host" and not json_q["due"]


def test_drill_due_lists_without_running(cli: Cli) -> None:
    result = cli("drill", "due", "--now", NOW)
    # the broken definition is reported (exit 1); the due one is listed, not run
    assert result.rc == 1, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("broken: not loaded: ")
    assert lines[1].startswith("q-power: would run the lab drill of power-outage (occurrence ")
    assert lines[1].endswith("; missed 1 earlier, not run)")
    assert "1 drill(s) due" in result.stderr and "1 failed" in result.stderr
    data = cli("drill", "due", "--now", NOW, "--json").json()
    assert (data["run"], data["count"], data["failed"]) == (False, 1, 1)
    due = data["actions"][1]
    assert (due["subject"], due["kind"], due["at"]) == ("q-power", "drill-due", Q2)
    assert due["data"]["missed"] == [Q1]
    listed = cli("drill", "list", "--json", "--now", NOW).json()
    assert [d["claim"] for d in listed] == [None, None, None]  # nothing was claimed


def test_schedule_status_lists_the_drills(cli: Cli) -> None:
    result = cli("schedule", "status", "--now", NOW, "--json")
    assert result.rc == 0, result
    (item,) = result.json()
    assert (item["job"], item["subject"], item["due"]) == ("drills", "q-power", Q2)
    assert item["what"] == "lab drill of power-outage" and item["missed"] == [Q1]
    shown = cli("schedule", "status", "--now", NOW)
    (line,) = shown.stdout.splitlines()
    assert "(overdue by 23h)  q-power  lab drill of power-outage  q-power 演练" in line


@pytest.mark.parametrize("options", [(), ("--systemd", "--every", "1h")])
def test_drill_install_prints_the_schedule_entry(cli: Cli, options: tuple[str, ...]) -> None:
    """One periodic entry point: what `drill install` prints is `schedule install`'s."""
    drill = cli("drill", "install", *options)
    schedule = cli("schedule", "install", *options)
    assert drill.rc == schedule.rc == 0, (drill, schedule)
    assert drill.stdout == schedule.stdout and "schedule run" in drill.stdout
    assert "drills have no timer of their own" in drill.stderr
    assert cli("drill", "install", "--cron").stdout == cli("schedule", "install").stdout


def test_drill_install_refuses_both_formats(cli: Cli) -> None:
    result = cli("drill", "install", "--cron", "--systemd")
    assert (result.rc, result.stdout) == (2, "")
    assert result.stderr.strip() == "error: --cron and --systemd exclude each other: give one"


@pytest.mark.parametrize("command", [("drill", "due"), ("drill", "list")])
def test_a_bad_now_is_one_line_and_exit_2(cli: Cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--now", "next tuesday")
    assert (result.rc, result.stdout) == (2, ""), result
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --now: ") and "next tuesday" in line
