"""check steps against a real OpenSSH server: Debian's Nagios plugins (monitoring-plugins-basic)
run as the `nagios` check, graded from their exit code and output, and the built-in `load`
and `disk` checks reading the real `uptime`, `nproc` and `df -P`. One runbook run through
the real `respond run`, its record read back with `respond timeline show`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli

PLUGINS = Path("/usr/lib/nagios/plugins")

STEPS = """steps:
  - id: disk-ok
    kind: check
    targets: all
    check: nagios
    args: {command: "{plugins}/check_disk -w 0% -c 0% -p /"}
  - id: disk-warning
    kind: check
    targets: all
    check: nagios
    args: {command: "{plugins}/check_disk -w 100% -c 0% -p /"}
  - id: disk-critical
    kind: check
    targets: all
    check: nagios
    args: {command: "{plugins}/check_disk -w 100% -c 100% -p /"}
  - id: plugin-load
    kind: check
    targets: all
    check: nagios
    args: {command: "{plugins}/check_load -w 1000,1000,1000 -c 2000,2000,2000"}
  - id: missing
    kind: check
    targets: all
    check: nagios
    args: {command: "{plugins}/check_not_installed -w 1"}
  - id: injected
    kind: check
    targets: all
    check: nagios
    args:
      command: "{plugins}/check_dummy 0 fine; touch {marks}/semicolon | touch {marks}/pipe $(touch {marks}/subshell) `touch {marks}/backtick`"
  - id: control
    kind: ssh
    targets: all
    command: "touch {marks}/control"
  - id: load-ok
    kind: check
    targets: all
    check: load
    warn: "1000"
    crit: "2000"
  - id: load-critical
    kind: check
    targets: all
    check: load
    crit: "@0:"
  - id: disk-root
    kind: check
    targets: all
    check: disk
    args: {paths: [/]}
    warn: "101"
    crit: "@0:100"
    register: root
  - id: until-ok
    kind: wait
    timeout: 60s
    interval: 1s
    check:
      kind: check
      targets: all
      check: nagios
      args: {command: "{plugins}/check_dummy 0 up"}
      expect: {that: ["result.check.state == 'OK'"]}
  - id: read-back
    kind: local
    command: "echo state={{ root.check.state }} first={{ root.hosts[groups['all'][0]].check.state }}"
"""


@pytest.fixture
def marks() -> Iterator[Path]:
    """A directory the sshd test user may write to: the control step proves it can."""
    path = Path("/tmp") / f"respond-nagios-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o777)
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_nagios_plugins_and_ssh_checks_graded_over_real_openssh(
    tmp_path: Path, sshd_hosts: Any, respond: Cli, marks: Path
) -> None:
    assert (PLUGINS / "check_disk").exists(), "install monitoring-plugins-basic (scripts/test.sh)"
    group = sshd_hosts(1)
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "respond.yaml").write_text(
        f"runbooks: runbooks\ndefault_inventory: {group.inventory}\n", encoding="utf-8"
    )
    steps = STEPS.replace("{plugins}", str(PLUGINS)).replace("{marks}", str(marks))
    (tmp_path / "runbooks" / "plugins.yaml").write_text(
        "runbook: plugins\nversion: 1.0.0\ntitle: plugins\nscenario: other\nseverity: 4\n" + steps,
        encoding="utf-8",
    )
    cli = respond.bind(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    run = cli("run", "plugins", "--json")
    assert run.rc == 0, run  # every grade, CRITICAL included, is a finding, not a failure
    result = run.json()
    assert {s["id"]: s["status"] for s in result["steps"]} == {
        s: "ok" for s in [line.split("id: ")[1] for line in steps.splitlines() if "- id: " in line]
    }
    shown = cli("timeline", "show", result["run_id"], "--json", check=True).json()
    events = shown["events"] if isinstance(shown, dict) else shown
    graded = {
        e["step_id"]: e["data"]["data"]["check"]
        for e in events
        if e["kind"] == "host-result" and "check" in e["data"].get("data", {})
    }
    sent = {
        e["step_id"]: [c["command"] for c in e["data"]["commands"]]
        for e in events
        if e["kind"] == "host-result"
    }
    codes = {
        e["step_id"]: [c["rc"] for c in e["data"]["commands"]]
        for e in events
        if e["kind"] == "host-result"
    }

    # the plugin's own grade, its first line and its perfdata, unchanged
    for step, state, code in (
        ("disk-ok", "OK", 0),
        ("disk-warning", "WARNING", 1),
        ("disk-critical", "CRITICAL", 2),
    ):
        check = graded[step]
        assert (check["state"], check["code"], check["name"]) == (state, code, "nagios"), check
        assert check["id"] == step and check["summary"].startswith(f"DISK {state} - free space: /")
        root = check["perfdata"][0]
        assert root["label"] == "/" and root["uom"] == "B" and root["value"] > 0, root
        assert check["value"] == root["value"] and check["unit"] == "B"
    assert graded["disk-critical"]["crit"] == "0" and graded["disk-warning"]["warn"] == "0"
    assert graded["disk-ok"]["advice"] is None and graded["disk-critical"]["advice"]

    load = graded["plugin-load"]
    assert load["state"] == "OK" and load["summary"].startswith("LOAD OK")
    assert [p["label"] for p in load["perfdata"]] == ["load1", "load5", "load15"]
    assert load["perfdata"][0]["warn"] == "1000.000"

    missing = graded["missing"]
    assert missing["state"] == "UNKNOWN" and missing["code"] == 3, missing
    assert codes["missing"] == [127] and "127" in missing["summary"], missing  # not found

    # shell syntax in the command reaches the plugin as words: nothing else ran
    assert graded["injected"]["state"] == "OK", graded["injected"]
    assert sorted(p.name for p in marks.iterdir()) == ["control"]
    assert "'fine;'" in sent["injected"][0] and "'$(touch'" in sent["injected"][0]

    # the built-in checks read the real Debian tools
    assert sent["load-ok"] == ["uptime", "nproc"]
    assert graded["load-ok"]["state"] == "OK" and graded["load-ok"]["unit"] == ""
    assert graded["load-ok"]["warn"] == "1000" and graded["load-ok"]["crit"] == "2000"
    assert {p["label"] for p in graded["load-ok"]["perfdata"]} >= {"load1", "load5", "load15"}
    assert graded["load-critical"]["state"] == "CRITICAL", graded["load-critical"]
    disk = graded["disk-root"]
    assert sent["disk-root"] == ["df -P /"]
    assert disk["state"] == "CRITICAL" and disk["unit"] == "%", disk
    assert 0 < disk["value"] < 100 and [p["label"] for p in disk["perfdata"]] == ["/"]

    # a later step reads the grade through register
    outputs = [
        c.get("stdout", "")
        for e in events
        if e["kind"] == "host-result" and e["step_id"] == "read-back"
        for c in e["data"]["commands"]
    ]
    assert outputs == ["state=CRITICAL first=CRITICAL\n"], outputs
