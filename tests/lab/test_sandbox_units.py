"""The lab sandbox's pieces on their own: the command rewrite, the argument checks, Landlock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from respond.lab import landlock, safecmd, shell
from respond.lab.inventoryfile import lab_root_of, marker_line, remove_if_lab


@pytest.mark.parametrize(
    ("command", "rewritten"),
    [
        ("ls x 2>/dev/null", "ls x 2>&3"),
        ("rm -f -r d/ > /dev/null 2>&1 && sleep 0", "rm -f -r d/ >&3 2>&1 && sleep 0"),
        ("a &>/dev/null; b >>/dev/null", "a >&3 2>&3; b >&3"),
        ('x=$(ipmi h sdr 2>/dev/null) "$(c 1>/dev/null)"', 'x=$(ipmi h sdr 2>&3) "$(c 1>&3)"'),
        # quoted text is data, not a redirection
        ("echo '2>/dev/null' \"2>/dev/null\" \\>/dev/null", None),
        ("echo 2>/dev/nullx", None),
        ("echo ~lab && sleep 0", "echo ~ && sleep 0"),
        ("cat ~lab/x ~labrat/x '~lab'", "cat ~/x ~labrat/x '~lab'"),
    ],
)
def test_rewrite_turns_only_unquoted_null_redirections_and_the_users_home(
    command: str, rewritten: str | None
) -> None:
    assert shell.rewrite(command, "lab") == (command if rewritten is None else rewritten)


def test_unwrap_takes_the_line_out_of_sh_c_and_nothing_else() -> None:
    assert shell.unwrap("/bin/sh -c 'echo ~lab && sleep 0'") == "echo ~lab && sleep 0"
    for command in ("/bin/sh -c 'x' ; touch y", "/bin/sh script.sh", "shutdown -h now"):
        assert shell.unwrap(command) == command


@pytest.fixture
def host_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "hosts" / "db1"
    root.mkdir(parents=True)
    (root / "link-out").symlink_to(tmp_path)
    monkeypatch.setenv("RESPOND_LAB_HOST_DIR", str(root))
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("cat", ["/etc/passwd"], "cat: /etc/passwd: No such file or directory"),
        ("cat", ["../../x"], "cat: ../../x: No such file or directory"),
        ("cat", ["link-out/secret"], "cat: link-out/secret: No such file or directory"),
        ("touch", ["-r", "/etc/hostname", "x"], "touch: /etc/hostname: No such file or directory"),
        ("sort", ["--output=/tmp/x", "a"], "sort: /tmp/x: No such file or directory"),
        ("sort", ["--compress-program=sh", "a"], "sort: option --compress-program is not"),
        ("grep", ["-f", "/etc/shadow", "a"], "grep: /etc/shadow: No such file or directory"),
        ("sed", ["-i", "s/a/b/", "f"], "sed: option -i is not available on a lab host"),
        ("date", ["-s", "2020-01-01"], "date: option -s is not available on a lab host"),
        ("tar", ["--to-command=sh", "-xf", "a.tar"], "tar: option --to-command is not"),
        ("tar", ["czf", "/tmp/a.tgz", "x"], "tar: /tmp/a.tgz: No such file or directory"),
        ("rm", ["-rf", "."], "rm: it is dangerous to operate recursively on '.'"),
        ("awk", ["-f", "prog.awk"], "awk: option -f is not available on a lab host"),
    ],
)
def test_file_operands_stay_in_the_host_tree(
    host_tree: Path, name: str, args: list[str], message: str
) -> None:
    with pytest.raises(safecmd.Refused) as refused:
        safecmd.check_args(name, args) if name not in safecmd.REWRITE else safecmd.REWRITE[name](
            args
        )
    assert str(refused.value).startswith(message)


def test_patterns_programs_and_modes_are_not_files(host_tree: Path) -> None:
    assert safecmd.check_args("grep", ["-c", "^PS.*| cr", "sdr.txt"]) == ["^PS.*| cr", "sdr.txt"]
    assert safecmd.check_args("sed", ["-n", "s/a/b/p", "f"]) == ["s/a/b/p", "f"]
    assert safecmd.check_args("chmod", ["u+x", "f"]) == ["u+x", "f"]
    assert safecmd.check_args("date", ["-u", "+%Y/%m/%d"]) == ["+%Y/%m/%d"]
    assert safecmd.check_args("cut", ["-d", "/", "-f", "2", "f"]) == ["f"]


@pytest.mark.parametrize(
    "program",
    [
        'BEGIN{system("touch /tmp/x")}',
        '{ "date" | getline d }',
        '{ print $1 | "sh" }',
        '{ print $1 > "/tmp/x" }',
        '{ printf "%s", $1 >> "out" }',
    ],
)
def test_awk_programs_cannot_run_commands_or_write_files(program: str) -> None:
    with pytest.raises(safecmd.Refused, match="system\\(\\), getline, pipes"):
        safecmd.check_awk_program(program)


def test_awk_programs_the_runbooks_use_are_fine() -> None:
    for program in ("{print $NF}", '$1 > 5 || /a|b/ { print "x|y" }', "NR==1{print $2}"):
        safecmd.check_awk_program(program)


def test_tar_ignores_unreadable_outside_paths_like_tar_does(
    host_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = safecmd.REWRITE["tar"](["czf", "a.tgz", "--ignore-failed-read", "snap", "/etc/samba"])
    assert args == ["--force-local", "-czf", "a.tgz", "--ignore-failed-read", "snap"]
    assert "tar: /etc/samba: Cannot stat: No such file or directory" in capsys.readouterr().err


def test_the_lab_inventory_marker_decides_what_lab_down_removes(tmp_path: Path) -> None:
    root = tmp_path / "home" / "lab"
    ours, users = tmp_path / "lab.yaml", tmp_path / "mine.yaml"
    ours.write_text("# header\n" + marker_line(root) + "all: {}\n")
    users.write_text("# my own inventory\nall: {}\n")
    assert lab_root_of(ours) == root and lab_root_of(users) is None
    assert not remove_if_lab(ours, tmp_path / "other" / "lab") and ours.exists()
    assert not remove_if_lab(users, root) and users.exists()
    assert remove_if_lab(ours, root) and not ours.exists()


def test_landlock_alone_keeps_writes_and_reads_in_the_host_tree(tmp_path: Path) -> None:
    """Defence in depth: a process under the host's ruleset (no allowlist involved)."""
    if landlock.abi_version() == 0:  # this kernel has none: the lab says so in its log
        assert landlock.build([]) is None
        return
    host, outside = tmp_path / "lab" / "hosts" / "db1", tmp_path / "operator"
    host.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("s3cret\n")
    rules = landlock.host_rules(host, tmp_path / "lab", tmp_path / "lab" / "bin", [])
    ruleset = landlock.build(rules)
    assert ruleset is not None
    script = (
        "import sys\n"
        "for path, mode in ((sys.argv[1], 'w'), (sys.argv[2], 'w'), (sys.argv[3], 'r')):\n"
        "    try:\n"
        "        open(path, mode).close(); print(path, 'ok')\n"
        "    except PermissionError:\n"
        "        print(path, 'denied')\n"
    )
    args = [str(host / "f"), str(outside / "f"), str(outside / "secret")]
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", script, *args],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=ruleset.preexec,
            timeout=60,
        )
    finally:
        ruleset.close()
    assert done.stdout.split("\n")[:3] == [
        f"{args[0]} ok",
        f"{args[1]} denied",
        f"{args[2]} denied",
    ]
    assert not (outside / "f").exists() and (host / "f").exists()
    assert os.listdir(outside) == ["secret"]
