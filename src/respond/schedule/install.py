"""What ``respond schedule install`` prints: a crontab line, or a systemd service and timer.

It only prints. Installing a crontab or a unit is the user's move (and needs their rights);
a tool that edits them behind the user's back is one more thing to audit.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UNIT = "respond-schedule"


@dataclass(frozen=True, slots=True)
class Every:
    """How often, as cron and systemd can both say it: whole minutes that divide an hour,
    or whole hours that divide a day (cron cannot say "every 7 minutes" evenly)."""

    minutes: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, seconds: float) -> Every:
        whole_minutes = int(seconds // 60)
        if seconds != whole_minutes * 60 or whole_minutes < 1:
            raise ValueError(f"--every must be whole minutes, at least 1m (got {seconds:g}s)")
        if whole_minutes < 60 and 60 % whole_minutes == 0:
            return cls(minutes=whole_minutes)
        if whole_minutes % 60 == 0 and 24 % (whole_minutes // 60) == 0:
            return cls(hours=whole_minutes // 60)
        raise ValueError(
            "--every must divide an hour (1m, 2m, 5m, 10m, 15m, 20m, 30m) or a day "
            f"(1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h), got {whole_minutes}m"
        )

    @property
    def cron(self) -> str:
        if self.minutes:
            return "* * * * *" if self.minutes == 1 else f"*/{self.minutes} * * * *"
        return "0 * * * *" if self.hours == 1 else f"0 */{self.hours} * * *"

    @property
    def calendar(self) -> str:
        """systemd's OnCalendar= form of the same times."""
        if self.minutes:
            return f"*-*-* *:00/{self.minutes}:00"
        return f"*-*-* 00/{self.hours}:00:00"

    @property
    def text(self) -> str:
        return f"{self.minutes}m" if self.minutes else f"{self.hours}h"


def command_line(respond: Sequence[str], project: Path, home: Path | None) -> list[str]:
    """The schedule command with absolute paths: cron and systemd start it in another
    directory with another environment."""
    argv = [*respond, "--project", str(project)]
    if home is not None:
        argv += ["--home", str(home)]
    return [*argv, "schedule", "run"]


def crontab(every: Every, argv: Sequence[str], project: Path, log: Path) -> str:
    """A comment and one crontab line (``%`` is a newline to cron, so it is escaped). The
    log's folder is made first: the shell opens the log before respond would make it."""
    command = (
        f"cd {shlex.quote(str(project))} && mkdir -p {shlex.quote(str(log.parent))} && "
        f"{shlex.join(argv)} >> {shlex.quote(str(log))} 2>&1"
    )
    return (
        f"# respond: escalate overdue incidents, run due drills and inspections every {every.text}\n"
        "# install with `crontab -e` (paste this line) as the user who owns the records\n"
        f"{every.cron} {command.replace('%', chr(92) + '%')}\n"
    )


def systemd_units(every: Every, argv: Sequence[str], project: Path) -> str:
    """The .service and .timer pair, each preceded by the file it goes to."""
    service = (
        f"# ~/.config/systemd/user/{UNIT}.service (or /etc/systemd/system/)\n"
        "[Unit]\n"
        "Description=respond schedule: escalate overdue incidents, run due drills and inspections\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        # a path as is (no quoting here), specifiers escaped
        f"WorkingDirectory={str(project).replace('%', '%%')}\n"
        f"ExecStart={' '.join(_unit_quote(a) for a in argv)}\n"
    )
    timer = (
        f"# ~/.config/systemd/user/{UNIT}.timer\n"
        "[Unit]\n"
        f"Description=respond schedule every {every.text}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={every.calendar}\n"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    how = (
        f"# then: systemctl --user daemon-reload && systemctl --user enable --now {UNIT}.timer\n"
        f"# output goes to the journal: journalctl --user -u {UNIT}\n"
    )
    return f"{service}\n{timer}\n{how}"


def _unit_quote(arg: str) -> str:
    """One ExecStart= argument: quoted when it has spaces or quotes, ``%`` and ``$`` doubled
    (systemd expands specifiers and variables in them)."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if any(c in text for c in " \t\"'\\"):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
