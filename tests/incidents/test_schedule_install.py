"""`respond schedule install`: the crontab line and the systemd units it prints (it installs
nothing), with absolute paths that work from cron's directory and environment."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from clikit import Cli

from respond.schedule.install import Every, crontab, systemd_units


@pytest.fixture
def odd_project(tmp_path: Path) -> Path:
    root = tmp_path / "机房 project%1"  # a space, Chinese and cron's special %
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: test\n", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("seconds", "cron", "calendar"),
    [
        (60, "* * * * *", "*-*-* *:00/1:00"),
        (300, "*/5 * * * *", "*-*-* *:00/5:00"),
        (1800, "*/30 * * * *", "*-*-* *:00/30:00"),
        (3600, "0 * * * *", "*-*-* 00/1:00:00"),
        (6 * 3600, "0 */6 * * *", "*-*-* 00/6:00:00"),
    ],
)
def test_every_is_said_the_same_to_cron_and_systemd(
    seconds: float, cron: str, calendar: str
) -> None:
    every = Every.parse(seconds)
    assert (every.cron, every.calendar) == (cron, calendar)


@pytest.mark.parametrize("seconds", [30, 90, 7 * 60, 5 * 3600, 0])
def test_an_interval_cron_cannot_keep_evenly_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="--every"):
        Every.parse(seconds)


def test_crontab_line_escapes_percent_and_quotes_paths(tmp_path: Path) -> None:
    project = tmp_path / "a b%c"
    argv = ["/opt/respond env/bin/respond", "--project", str(project), "schedule", "run"]
    text = crontab(Every.parse(300), argv, project, tmp_path / "home" / "schedule.log")
    comment, how, line = text.splitlines()
    assert comment.startswith("# respond: escalate overdue incidents") and how.startswith("#")
    assert line.startswith("*/5 * * * * cd ")
    # cron turns an unescaped % into a newline; the shell then sees the path back intact
    assert "%" not in line.replace("\\%", "")
    command = line[len("*/5 * * * * ") :].replace("\\%", "%")
    words = shlex.split(command)
    assert words[:7] == ["cd", str(project), "&&", "mkdir", "-p", str(tmp_path / "home"), "&&"]
    assert words[7:12] == argv
    assert words[-3:] == [">>", str(tmp_path / "home/schedule.log"), "2>&1"]


def test_systemd_units_are_a_oneshot_service_and_a_persistent_timer(tmp_path: Path) -> None:
    argv = ["/usr/bin/respond", "--project", "/srv/x 1", "schedule", "run"]
    text = systemd_units(Every.parse(600), argv, Path("/srv/x 1"))
    assert "Type=oneshot" in text and "WorkingDirectory=/srv/x 1" in text
    assert 'ExecStart=/usr/bin/respond --project "/srv/x 1" schedule run' in text
    assert "OnCalendar=*-*-* *:00/10:00" in text and "Persistent=true" in text
    assert "WantedBy=timers.target" in text and "enable --now respond-schedule.timer" in text


def test_install_prints_a_line_that_cron_would_run(
    odd_project: Path, respond: Cli, tmp_path: Path
) -> None:
    cli = respond.bind(cwd=odd_project)
    printed = cli("schedule", "install", check=True)
    line = printed.stdout.splitlines()[-1]
    assert printed.stdout.startswith("# respond:")
    assert line.startswith("*/5 * * * * cd ")
    # run the command part as cron would: /bin/sh, another directory, a bare environment
    command = line[len("*/5 * * * * ") :].replace("\\%", "%")
    command = command.replace(" schedule run ", " schedule install --every 1h ")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(["/bin/sh", "-c", command], cwd="/", env=env, check=True, timeout=100)
    log = Path(tmp_path / "respond-home" / "schedule.log")
    assert "0 * * * * cd " in log.read_text(encoding="utf-8")


def test_install_systemd_uses_the_absolute_respond(odd_project: Path, respond: Cli) -> None:
    shown = respond("schedule", "install", "--systemd", "--every", "15m", "--json", cwd=odd_project)
    assert shown.rc == 0, shown
    data = shown.json()
    assert data["format"] == "systemd" and data["every"] == "15m"
    assert Path(data["argv"][0]).is_absolute() and data["argv"][-2:] == ["schedule", "run"]
    assert str(odd_project) in data["argv"]
    assert "OnCalendar=*-*-* *:00/15:00" in data["text"]


@pytest.mark.parametrize("every", ["7m", "soon", "30s"])
def test_install_refuses_an_every_cron_cannot_keep(
    odd_project: Path, respond: Cli, every: str
) -> None:
    refused = respond("schedule", "install", "--every", every, cwd=odd_project)
    assert refused.rc == 2, refused
    assert refused.stderr.startswith("error: --every") and "Traceback" not in refused.stderr
    assert refused.stdout == ""


def test_systemd_accepts_the_units(odd_project: Path, respond: Cli, tmp_path: Path) -> None:
    """systemd's own checker reads the printed units (the ExecStart binary must exist)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed to check the printed units"
    text = respond("schedule", "install", "--systemd", "--json", cwd=odd_project, check=True).json()
    service, timer = text["text"].split("\n\n# ~/.config/systemd/user/respond-schedule.timer\n")
    units = tmp_path / "units"
    units.mkdir()
    (units / "respond-schedule.service").write_text(service, encoding="utf-8")
    (units / "respond-schedule.timer").write_text(timer.split("\n# then")[0], encoding="utf-8")
    checked = subprocess.run(
        [analyze, "verify", "respond-schedule.service", "respond-schedule.timer"],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert checked.returncode == 0, checked.stderr
    assert "respond-schedule" not in checked.stderr, checked.stderr
