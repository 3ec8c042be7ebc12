"""The lab's command log: every command its SSH hosts execute (exec and shell lines) and every
line its switches process, as JSON lines in <home>/lab/commands.log, read by `respond lab
commands`. The drill tests prove with it what did (not) reach the lab."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labkit import Lab, netmiko_switch, start_lab

from respond.lab.commandlog import HIDDEN, CommandLog, LineSplitter, read


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("commands")
    project = base / "project"
    project.mkdir()
    (project / "respond.yaml").write_text("project: lab-commands\n")
    the_lab = start_lab(project, base / "home")
    try:
        yield the_lab
    finally:
        the_lab.down()


def _logged(lab: Lab, *host: str) -> list[dict[str, Any]]:
    return list(lab.json("lab", "commands", *(("--host", host[0]) if host else ())))


def test_an_ssh_command_and_a_switch_show_are_logged_in_order(lab: Lab) -> None:
    before = time.time()
    assert lab.sh("app1", "echo from-the-test && uptime")[0] == 0
    dev = netmiko_switch(lab, "acc-sw2")  # the Cisco access switch
    try:
        assert "Gi0/1" in dev.send_command("show interfaces status")
    finally:
        dev.disconnect()
    after = time.time()

    entries = _logged(lab)
    seen = [(e["host"], e["command"]) for e in entries]
    ran = seen.index(("app1", "echo from-the-test && uptime"))
    shown = seen.index(("acc-sw2", "show interfaces status"))
    assert ran < seen.index(("acc-sw2", "terminal length 0")) < shown
    assert before <= entries[ran]["at"] <= entries[shown]["at"] <= after
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    # --host keeps only that host's lines; the terminal view shows the same
    assert {e["host"] for e in _logged(lab, "acc-sw2")} == {"acc-sw2"}
    text = lab.respond("lab", "commands", "--host", "app1", check=True).output
    assert "echo from-the-test && uptime" in text and "acc-sw2" not in text


def test_lines_typed_into_a_shell_are_logged_one_by_one(lab: Lab) -> None:
    client = lab.ssh("db1")
    try:
        shell = client.invoke_shell()
        shell.send(b"echo typed-one\r\necho typed-")
        shell.send(b"two\recho typed-three\n")
        shell.send(b"exit\n")
        assert shell.recv_exit_status() == 0
    finally:
        client.close()
    typed = [e["command"] for e in _logged(lab, "db1")]
    assert typed[-4:] == ["echo typed-one", "echo typed-two", "echo typed-three", "exit"]


def test_the_switch_password_never_reaches_the_log(lab: Lab) -> None:
    password = json.loads((lab.lab_dir / "secrets.json").read_text())["switch_password"]
    assert lab.sh("file1", f"echo {password} >/dev/null")[0] == 0
    [entry] = [e for e in _logged(lab, "file1") if e["command"].startswith("echo ")][-1:]
    assert entry["command"] == f"echo {HIDDEN} >/dev/null"
    assert password not in (lab.lab_dir / "commands.log").read_text()


def test_an_unknown_host_is_refused_and_a_restart_starts_an_empty_log(lab: Lab) -> None:
    refused = lab.respond("lab", "commands", "--host", "app9")
    assert refused.rc == 2
    assert "unknown lab host 'app9' (known: oa1, sms1," in refused.output
    assert _logged(lab)  # the earlier tests' lines
    lab.down(check=True)
    assert _logged(lab)  # still readable while the lab is down
    lab.up()
    assert _logged(lab) == []
    assert "no commands received" in lab.respond("lab", "commands", check=True).output


def test_a_partly_written_line_is_not_read(tmp_path: Path) -> None:
    log = CommandLog(tmp_path / "commands.log", secrets=["s3cret"])
    splitter = LineSplitter("app1", log)
    splitter.feed(b"ls s3cret\r")
    splitter.feed(b"\n\n  \r")
    splitter.feed("echo 停电".encode()[:-1])  # a character split across two reads
    splitter.feed("echo 停电".encode()[-1:] + b"\n")
    log.close()
    with open(tmp_path / "commands.log", "a", encoding="utf-8") as fh:
        fh.write('{"at": 1, "host": "app1", "comm')  # the daemon is writing this one
    assert [(e["host"], e["command"]) for e in read(tmp_path / "commands.log")] == [
        ("app1", f"ls {HIDDEN}"),
        ("app1", "echo 停电"),
    ]
    assert read(tmp_path / "missing.log") == []
