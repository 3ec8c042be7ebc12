"""Configuration evidence end to end: a runbook's `config` steps against a fake-switches
Cisco IOS switch (an independent peer, not the lab) record the running configuration before
and after as artifacts and the diff in the timeline; `timeline show`, the exports and the
device archive (`timeline configs`) show them; the record verifies.

One run (module scope) serves every test here: three config steps on one switch (whose
configuration holds a credential) — a change, the same change again (nothing changes), and
a change the device refuses half-way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from switches import FakeSwitch, Interface, start_switch, write_known_hosts

from respond.config import load_config
from respond.timeline import Store, open_store

# On the switch before the run, in a line with the word "password": the runbook never names
# it, so only redaction keeps it out of the record.
CREDENTIAL = "Hunter2-Cfg"
RUNBOOK = """\
runbook: cfg
version: 1.0.0
title: configuration evidence
scenario: network
severity: 3
steps:
  - id: backup-port
    kind: netmiko
    targets: all
    confirm: bring up the backup port
    config:
      - interface GigabitEthernet0/2
      - description backup
      - no shutdown
    save: true
  - id: again
    kind: netmiko
    targets: all
    confirm: the same again
    config:
      - interface GigabitEthernet0/2
      - description backup
  - id: refused
    kind: netmiko
    targets: all
    confirm: a change the switch refuses half-way
    on_failure: continue
    config:
      - interface GigabitEthernet0/3
      - description half-done
      - exit
      - default interface GigabitEthernet0/99
"""


@dataclass
class Ran:
    root: Path
    cli: Cli
    switch: FakeSwitch
    run_id: str
    events: list[Any]

    def host_result(self, step: str) -> dict[str, Any]:
        (ev,) = [e for e in self.events if e.kind == "host-result" and e.step_id == step]
        return dict(ev.data)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    root = tmp_path_factory.mktemp("cfg") / "project"
    (root / "runbooks").mkdir(parents=True)
    sw = start_switch(
        "edge7",
        interfaces=[
            Interface("GigabitEthernet0/1", description=f"oob password {CREDENTIAL}"),
            Interface("GigabitEthernet0/2", shutdown=True),
            "GigabitEthernet0/3",
        ],
    )
    try:
        known_hosts = root / "known_hosts"
        write_known_hosts(known_hosts, [sw])
        inventory = {"all": {"hosts": {sw.name: sw.inventory_vars()}}}
        (root / "hosts.yaml").write_text(json.dumps(inventory), encoding="utf-8")
        (root / "respond.yaml").write_text(
            f"default_inventory: hosts.yaml\nknown_hosts: {known_hosts}\n", encoding="utf-8"
        )
        (root / "runbooks" / "cfg.yaml").write_text(RUNBOOK, encoding="utf-8")
        cli = Cli().bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})
        out = cli("run", "cfg", "--yes")
        assert out.rc == 0, out  # the refused step fails; on_failure: continue
        with _store(root) as store:
            (run_id,) = [r.run_id for r in store.runs(runbook="cfg")]
            events = store.events(run_id)
        yield Ran(root, cli, sw, run_id, events)
    finally:
        sw.stop()


def _store(root: Path) -> Store:
    return open_store(load_config(root, home=str(root / ".respond")))


def _artifact(ran: Ran, sha: str) -> str:
    with _store(ran.root) as store:
        return store.get_artifact(sha).decode("utf-8")


def test_a_config_step_records_before_after_and_the_diff(ran: Ran) -> None:
    cfg = ran.host_result("backup-port")["config"]
    assert cfg["command"] == "show running-config"
    assert cfg["changed"] is True
    before = _artifact(ran, cfg["before"]["artifact"])
    after = _artifact(ran, cfg["after"]["artifact"])
    assert cfg["before"]["bytes"] == len(before.encode())
    assert " shutdown" in before.split("interface GigabitEthernet0/2")[1].split("!")[0]
    assert " shutdown" not in after.split("interface GigabitEthernet0/2")[1].split("!")[0]
    diff = cfg["diff"]
    assert diff.startswith("--- edge7 before\n+++ edge7 after\n@@")
    assert "\n- shutdown" in diff
    assert "\n+ description backup" in diff
    # "Current configuration : N bytes" changed too, but is not a configuration change
    assert "Current configuration" not in diff
    assert "Current configuration" in after


def test_credentials_never_reach_the_record_or_an_export(ran: Ran) -> None:
    with _store(ran.root) as store:
        record = json.dumps(store.export_run(ran.run_id))  # events and artifacts
    assert CREDENTIAL not in record
    for fmt in ("json", "md", "html", "csv"):
        out = ran.cli("timeline", "export", ran.run_id, "--format", fmt)
        assert out.rc == 0, out
        assert CREDENTIAL not in out.stdout, fmt
    cfg = ran.host_result("backup-port")["config"]
    for snapshot in (cfg["before"], cfg["after"]):
        assert " description oob password <redacted>" in _artifact(ran, snapshot["artifact"])


def test_artifacts_are_content_addressed_and_an_unchanged_device_diffs_empty(ran: Ran) -> None:
    first = ran.host_result("backup-port")["config"]
    again = ran.host_result("again")["config"]
    # the configuration after the first step is the one the second found, stored once
    assert again["before"]["artifact"] == first["after"]["artifact"]
    assert again["after"]["artifact"] == again["before"]["artifact"]
    assert again["diff"] == ""
    assert again["changed"] is False


def test_a_refused_config_still_records_before_and_after(ran: Ran) -> None:
    data = ran.host_result("refused")
    assert data["status"] == "failed"
    assert "rejected the config" in data["error"]
    cfg = data["config"]
    assert cfg["before"]["artifact"] == ran.host_result("again")["config"]["after"]["artifact"]
    # the lines before the refused one were applied: the after shows them
    assert cfg["changed"] is True
    assert "+ description half-done" in cfg["diff"]


def test_timeline_show_prints_each_diff_under_its_host_result(ran: Ran) -> None:
    out = ran.cli("timeline", "show", ran.run_id)
    assert out.rc == 0, out
    lines = out.stdout.splitlines()
    (result,) = [i for i, line in enumerate(lines) if "backup-port" in line and "config +" in line]
    assert "config +1 -1" in lines[result]
    shown = lines[result + 1 : result + 12]
    assert "       --- edge7 before" in shown
    assert "       - shutdown" in shown
    assert "\x1b[" not in out.stdout  # piped: no colour codes
    (again,) = [line for line in lines if " again " in line and "config " in line]
    assert " · config no change — " in again


def test_exports_include_the_diff(ran: Ran) -> None:
    md = ran.cli("timeline", "export", ran.run_id, "--format", "md").stdout
    assert "## Configuration changes" in md
    assert "```diff\n--- edge7 before" in md
    html = ran.cli("timeline", "export", ran.run_id, "--format", "html").stdout
    assert '<pre class="diff mono">' in html
    assert '<span class="dr">- shutdown</span>' in html
    rows = list(
        csv.DictReader(
            io.StringIO(ran.cli("timeline", "export", ran.run_id, "--format", "csv").stdout)
        )
    )
    (row,) = [r for r in rows if r["kind"] == "host-result" and r["step_id"] == "backup-port"]
    assert "- shutdown" in row["config_diff"]
    doc = json.loads(ran.cli("timeline", "export", ran.run_id, "--format", "json").stdout)
    sha = ran.host_result("backup-port")["config"]["before"]["artifact"]
    assert sha in doc["record"]["artifacts"]


def test_the_record_with_its_configurations_verifies(ran: Ran) -> None:
    out = ran.cli("timeline", "verify", ran.run_id)
    assert out.rc == 0, out
    assert "intact" in out.stdout or "not sealed" in out.stdout


def test_the_device_archive_lists_and_prints_configurations(ran: Ran) -> None:
    out = ran.cli("timeline", "configs", "--device", "edge7", "--json")
    assert out.rc == 0, out
    rows = json.loads(out.stdout)
    assert [(r["step_id"], r["added"], r["removed"], r["changed"]) for r in rows] == [
        ("backup-port", 1, 1, True),
        ("again", 0, 0, False),
        ("refused", 1, 0, True),
    ]
    assert all(r["run_id"] == ran.run_id and r["operator"] for r in rows)
    table = ran.cli("timeline", "configs")
    assert table.rc == 0, table
    assert "+1 -1" in table.stdout and "no change" in table.stdout
    assert ran.cli("timeline", "configs", "--device", "nosuch", "--json").stdout.strip() == "[]"

    show = ran.cli(
        "timeline",
        "configs",
        ran.run_id,
        "--device",
        "edge7",
        "--step",
        "backup-port",
        "--show",
        "after",
    )
    assert show.rc == 0, show
    assert show.stdout == _artifact(ran, rows[0]["after"])
    diff = ran.cli("timeline", "configs", ran.run_id, "--step", "backup-port", "--show", "diff")
    assert diff.rc == 0 and diff.stdout.startswith("--- edge7 before"), diff


def test_archive_usage_errors_exit_2_with_one_line(ran: Ran) -> None:
    cases = {
        ("timeline", "configs", "--show", "diff"): "--show needs a RUN_ID",
        ("timeline", "configs", ran.run_id, "--show", "after"): "3 configurations",
        ("timeline", "configs", "--since", "yesterday"): "not a date",
    }
    for args, said in cases.items():
        out = ran.cli(*args)
        assert out.rc == 2, out
        assert said in out.stderr, out
        assert "Traceback" not in out.stderr


def test_timeline_show_colours_the_diff_on_a_terminal(ran: Ran) -> None:
    import os

    from ptykit import Terminal

    env = {**os.environ, "RESPOND_HOME": str(ran.root / ".respond"), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    term = Terminal(["timeline", "show", ran.run_id], cwd=ran.root, env=env)
    try:
        term.read_until("+ description half-done")  # the last diff's last line
        assert term.wait() == 0, term.shown
        shown = term.shown
    finally:
        term.close()
    assert "\x1b[31m       - shutdown\x1b[0m" in shown, shown
    assert "\x1b[32m       + description backup\x1b[0m" in shown, shown
