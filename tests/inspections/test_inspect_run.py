"""`respond inspect run` against the real lab (one lab for the module): the daily inspection
green on a healthy lab (exit 0, table, JSON, the run record, `timeline list` and `timeline
verify`), one fault turning exactly its check CRITICAL (exit 1), and the one-line refusals
(unknown inspection, lab not running)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import Cli
from labkit import Lab, copy_project, start_lab

from respond.checks.catalog import checks
from respond.config import load_config
from respond.inspections.loader import load_inspection
from respond.timeline import open_store


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("inspect-run")
    lab = start_lab(copy_project(root / "proj"), root / "home")
    try:
        yield lab
    finally:
        lab.down()


def _record(lab: Lab, run_id: str) -> tuple[dict[str, object], str | None]:
    """The run's meta and its stored text."""
    store = open_store(load_config(lab.project, home=str(lab.home)))
    try:
        return store.meta(run_id), store.runbook_text(run_id)
    finally:
        store.close()


def test_daily_on_a_healthy_lab_is_all_ok(lab: Lab) -> None:
    lab.heal()
    shown = lab.respond("inspect", "run", "daily", "--no-actions")
    assert shown.rc == 0, shown.stdout + shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["device", "check", "state", "value", "threshold", "summary"]
    rows = [line.split() for line in lines[1:] if line and not line.startswith(("run ", " "))]
    table = [r for r in rows if r[0] in ("acc-sw1", "core-sw1", "db1", "oa1", "sms1", "ups1")]
    assert table and all(r[2] == "OK" for r in table), shown.stdout
    devices = [r[0] for r in table]
    assert devices == sorted(devices)  # by device, then in the order of the checks
    assert [r[1] for r in table if r[0] == "oa1"][:2] == ["reachable", "load"]
    assert "Problems found" not in shown.stdout
    assert " · 0 WARNING · 0 CRITICAL · 0 UNKNOWN · " in shown.stdout
    run_id = lines[-1].split()[1]
    assert lines[-1] == f"run {run_id} · report: respond inspect report {run_id} --format html"

    meta, text = _record(lab, run_id)
    assert "incident" not in meta and meta["drill"] is False and meta["severity"] == 4
    inspection = meta["inspection"]
    assert isinstance(inspection, dict)
    assert (inspection["name"], inspection["version"], inspection["occurrence"]) == (
        "daily",
        "1.0.0",
        None,
    )
    assert [c["id"] for c in inspection["checks"]][:4] == ["reachable", "load", "memory", "disk"]
    source = (lab.project / "inspections" / "daily.yaml").read_text(encoding="utf-8")
    assert text == source and meta["runbook"] == "daily"

    listed = lab.respond("timeline", "list", "--inspection")
    assert "inspection:daily@1.0.0" in listed.stdout and run_id in listed.stdout
    assert lab.respond("timeline", "list", "--no-inspection").stdout.count("daily") == 0
    resumed = lab.respond("resume", run_id)
    assert resumed.rc == 2 and resumed.stderr.strip() == (
        f"error: run {run_id} is an inspection (daily); inspections are not resumed: "
        "run it again with `respond inspect run daily`"
    )
    verified = lab.respond("timeline", "verify", run_id)
    assert verified.rc == 0, verified.stdout + verified.stderr
    events = lab.events(run_id)
    results = [e for e in events if e["kind"] == "host-result" and e["step_id"] == "http-oa"]
    check = results[0]["data"]["data"]["check"]
    assert (check["id"], check["name"], check["state"], check["code"]) == (
        "http-oa",
        "http",
        "OK",
        0,
    )
    assert events[-1]["data"]["outcome"] == "no-fault"

    listing = json.loads(lab.respond("inspect", "list", "--json", check=True).stdout)
    daily = next(i for i in listing if i["name"] == "daily")
    assert daily["last_run"]["run_id"] == run_id and daily["last_run"]["worst"] == "OK"
    assert daily["schedule"]["cron"] == "0 8 * * *" and daily["next_due"]


def test_oa_down_turns_only_the_oa_checks_critical(lab: Lab) -> None:
    # the lab's oa-down fails the oa-web unit, so OA's service check finds it as well as its
    # health endpoint; every other check on every host stays OK
    lab.inject("oa-down")
    try:
        out = lab.respond("inspect", "run", "daily", "--json", "--no-actions")
    finally:
        lab.heal()
    assert out.rc == 1, out.stderr
    data = json.loads(out.stdout)
    bad = [(r["host"], r["check_id"], r["state"]) for r in data["results"] if r["state"] != "OK"]
    assert bad == [("oa1", "service-oa", "CRITICAL"), ("oa1", "http-oa", "CRITICAL")], bad
    assert data["counts"]["CRITICAL"] == 2 and data["outcome"] == "unresolved"
    problem = next(r for r in data["results"] if r["check_id"] == "http-oa")
    assert problem["summary"].startswith("HTTP CRITICAL") and problem["advice"]
    events = lab.events(data["run_id"])
    assert (
        events[-1]["data"]["reason"]
        == f"problems found: 2 CRITICAL of {len(data['results'])} results"
    )


def test_an_unknown_inspection_is_refused_naming_the_known_ones(lab: Lab) -> None:
    got = lab.respond("inspect", "run", "dayly")
    assert got.rc == 2 and got.stdout == ""
    assert got.stderr.strip() == (
        "error: no inspection named 'dayly' (did you mean 'daily'?); "
        "known: daily, monthly, pre-holiday"
    )


def test_the_lab_not_running_is_one_line(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "proj")
    got = Cli(cwd=project)("--home", str(tmp_path / "home"), "inspect", "run", "daily")
    assert got.rc == 2 and got.stdout == ""
    assert got.stderr.strip() == "error: the lab is not running (start it with `respond lab up`)"


def test_the_full_samples_are_green_on_a_healthy_lab(lab: Lab) -> None:
    # pre-holiday is monthly with stricter thresholds (and on_critical rules): the same checks
    # on the same hosts, so green under pre-holiday's limits is green under monthly's
    config = load_config(lab.project, home=str(lab.home))
    full, strict = (load_inspection(n, config) for n in ("monthly", "pre-holiday"))
    assert [(c.id, c.check, c.targets, c.args) for c in full.checks] == [
        (c.id, c.check, c.targets, c.args) for c in strict.checks
    ]
    lab.heal()
    out = lab.respond("inspect", "run", "pre-holiday", "--json", "--no-actions")
    data = json.loads(out.stdout)
    bad = [(r["host"], r["check_id"], r["summary"]) for r in data["results"] if r["state"] != "OK"]
    assert out.rc == 0 and not bad, bad
    assert {r["check"] for r in data["results"]} == set(checks()) - {"nagios"}
    # the backup job's form too: the lab's backup.service ran last night on db1 and file1
    jobs = [(r["host"], r["summary"]) for r in data["results"] if r["check_id"] == "backup-job"]
    assert [host for host, _ in jobs] == ["db1", "file1"], jobs
    assert all(" - last run of backup.service ended " in summary for _, summary in jobs)
    assert set(data) >= {"run_id", "inspection", "counts", "results", "actions"}
    assert (data["inspection"], data["outcome"], data["actions"]) == ("pre-holiday", "no-fault", [])
    assert data["counts"] == {"OK": len(data["results"]), "WARNING": 0, "CRITICAL": 0, "UNKNOWN": 0}
    first = data["results"][0]
    assert set(first) >= {"host", "check_id", "check", "state", "code", "summary", "value", "at"}
    cert = next(r for r in data["results"] if r["check"] == "certificate")
    assert cert["unit"] == "d" and cert["value"] > 200  # a templated port reached the right port
