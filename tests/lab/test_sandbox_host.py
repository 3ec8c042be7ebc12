"""A lab host is a sandbox: what a runbook does there never reaches the operator's machine.

Each escape a runbook written for real servers could try is run on lab host db1 over SSH; the
operator's files (a directory outside the lab) are checked after each one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import Lab

from respond.lab import landlock


@pytest.fixture
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory of the operator's, with a secret and a file that must survive."""
    place = tmp_path_factory.mktemp("operator")
    (place / "secret.txt").write_text("operator-secret\n")
    (place / "keep").mkdir()
    (place / "keep" / "data").write_text("data\n")
    yield place
    assert (place / "keep" / "data").read_text() == "data\n"
    assert sorted(os.listdir(place)) == ["keep", "secret.txt"]


ESCAPES = [
    ("touch {op}/x", 1, "touch: {op}/x: No such file or directory"),
    ("psql -h 127.0.0.1 -c 'select 1'", 127, "psql: command not found"),
    ("pg_ctl status", 127, "pg_ctl: command not found"),
    ("/usr/local/bin/pg_ctl status", 1, "restricted: cannot specify `/' in command names"),
    ("/bin/rm -rf {op}/keep", 1, "restricted: cannot specify `/' in command names"),
    ("python3 -c \"open('{op}/x', 'w')\"", 127, "python3: command not found"),
    ("cd / && touch {op}/x", 1, "cd: restricted"),
    ("echo x > {op}/x", 1, "restricted: cannot redirect output"),
    ("$(printf /bin/touch) {op}/x", 1, "restricted: cannot specify `/' in command names"),
    ("env PATH=/usr/bin touch {op}/x", 126, "env: running commands through env is not available"),
    ("PATH=/usr/bin touch {op}/x", 1, "PATH: readonly variable"),
    ("awk 'BEGIN{{system(\"touch {op}/x\")}}'", 2, "awk: system(), getline, pipes and output"),
    ("cat ~/../../../../../../../..{op}/secret.txt", 1, "secret.txt: No such file or directory"),
    ("rm -rf {op}/keep", 1, "rm: {op}/keep: No such file or directory"),
    ("cp ~/../../../../../../../..{op}/secret.txt .", 1, "No such file or directory"),
    ("sudo touch {op}/x", 1, "touch: {op}/x: No such file or directory"),
    ("sudo /bin/touch {op}/x", 1, "restricted: cannot specify `/' in command names"),
    ("sh -c 'cd /; touch {op}/x'", 1, "touch: {op}/x: No such file or directory"),
    ("echo x | tee {op}/x", 1, "tee: {op}/x: No such file or directory"),
    ("exec touch {op}/x", 1, "exec: restricted"),
    ("command -p touch {op}/x", 1, "command: -p: restricted"),
    ("kill -9 $PPID", 127, "kill: command not found"),
]


@pytest.mark.parametrize(("command", "code", "error"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_an_escape_does_not_touch_the_operators_files(
    lab: Lab, operator: Path, command: str, code: int, error: str
) -> None:
    rc, out, err = lab.sh("db1", command.format(op=operator))
    assert error.format(op=operator) in err, err
    assert rc == code, (rc, out, err)
    assert "operator-secret" not in out + err


def test_rm_rf_home_clears_the_host_tree_only(lab: Lab, operator: Path) -> None:
    rc, out, err = lab.sh(
        "db1", "mkdir -p junk/a && touch junk/a/b && rm -rf ~/junk; ls ~; rm -rf ~"
    )
    assert "junk" not in out
    assert "rm: it is dangerous to operate recursively on" in err and rc == 1
    assert lab.sh("db1", "pwd")[1].strip() == str(lab.home.resolve() / "lab" / "hosts" / "db1")


def test_reading_through_the_shell_itself_is_confined_by_landlock(lab: Lab, operator: Path) -> None:
    rc, out, err = lab.sh("db1", f"cat < {operator}/secret.txt")
    if landlock.abi_version() == 0:  # only the allowlist: bash itself may read world files
        assert rc == 0
        return
    assert "operator-secret" not in out and "Permission denied" in err and rc == 1


def test_a_process_the_operator_runs_is_not_signalled(lab: Lab) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        rc, _, err = lab.sh("db1", f"kill -9 {sleeper.pid}; sh -c 'kill -9 {sleeper.pid}'")
        assert "kill: command not found" in err and rc == 127
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


IPMI_LIKE = r"""
ipmi() { h=$1; shift; ipmitool -I lanplus -H "$h-bmc" "$@"; }
for h in db1 file1; do
  sdr=$(ipmi "$h" sdr 2>/dev/null)
  echo "$h power=$(ipmi "$h" chassis power status | awk '{print $NF}')" \
    "psu=$(echo "$sdr" | grep -c '^PS.*| cr')" "crash=$(ipmi "$h" sel list | grep -c -E 'IERR|critical stop')"
done
ls /nonexistent >/dev/null 2>&1 || echo "quiet=$?"
uptime 2>&1 | wc -l
echo "home=$(pwd | sed 's|.*/||') $(hostname)" && false || echo or-ok
"""


def test_the_shell_constructs_runbooks_use_still_work(lab: Lab) -> None:
    rc, out, err = lab.sh("ups1", IPMI_LIKE)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "db1 power=on psu=0 crash=0" and lines[1] == "file1 power=on psu=0 crash=0"
    assert lines[2:] == ["quiet=2", "1", "home=ups1 ups1", "or-ok"]
    assert err == ""


def test_files_a_runbook_makes_stay_in_the_hosts_own_tree(lab: Lab) -> None:
    command = (
        "mkdir -p ~/backup && echo data | tee ~/backup/a >/dev/null && "
        "tar czf backup.tgz backup && sha256sum backup.tgz | cut -c1-8 && ls"
    )
    rc, out, err = lab.sh("file1", command)
    assert rc == 0, err
    assert out.splitlines()[-2:] == ["backup", "backup.tgz"] or "backup.tgz" in out
    assert (lab.home / "lab" / "hosts" / "file1" / "backup" / "a").read_text() == "data\n"


def test_an_interactive_shell_is_the_same_sandbox(lab: Lab, operator: Path) -> None:
    client = lab.ssh("db1")
    try:
        shell = client.invoke_shell()
        shell.send(f"cd /\npsql\ntouch {operator}/x\necho done-$((1 + 1))\nexit\n")
        assert shell.recv_exit_status() == 0
        text = b""
        while chunk := shell.recv(65536):
            text += chunk
    finally:
        client.close()
    output = text.decode()
    assert f"[{lab.runtime['user']}@db1 ~]$ " in output
    assert "cd: restricted" in output and "psql: command not found" in output
    assert f"touch: {operator}/x: No such file or directory" in output
    assert "done-2" in output
