"""Bad input to the incident commands: one clear line and exit 2, never a traceback, and
nothing recorded. These checks run before the record is opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clikit import Cli

from respond.cli.incident import date_bound, parse_level, span, time_option
from respond.errors import UsageError


@pytest.mark.parametrize("given", ["0", "5", "high", "1.5", "+2", " ", "０"])
def test_a_level_outside_1_to_4_is_refused(given: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_level(given)
    assert str(caught.value) == f"severity must be 1-4 (1 is the worst), got {given}"


@pytest.mark.parametrize("given", ["1", "2", "3", "4"])
def test_levels_1_to_4_are_read(given: str) -> None:
    assert parse_level(given) == int(given)


@pytest.mark.parametrize("given", ["0", "5", "high"])
def test_severity_command_refuses_a_bad_level(project: Path, respond: Cli, given: str) -> None:
    refused = respond("severity", "INC-1", given, "--reason", "r", cwd=project)
    assert refused.rc == 2, refused
    assert refused.stderr == f"error: severity must be 1-4 (1 is the worst), got {given}\n"
    assert refused.stdout == ""
    assert not (project.parent / "respond-home" / "respond.db").exists()  # nothing opened


def test_severity_needs_a_reason(project: Path, respond: Cli) -> None:
    refused = respond("severity", "INC-1", "2", cwd=project)
    assert refused.rc == 2 and "Missing option '--reason'" in refused.stderr, refused
    empty = respond("severity", "INC-1", "2", "--reason", " ", cwd=project)
    assert empty.rc == 2 and empty.stderr == "error: --reason is empty\n", empty


@pytest.mark.parametrize(
    "args",
    [("--cause", "UPS battery aged"), ("--prevention", "replace batteries every 4 years")],
)
def test_resolve_wants_cause_and_prevention_together(
    project: Path, respond: Cli, args: tuple[str, str]
) -> None:
    refused = respond("resolve", "INC-1", *args, cwd=project)
    assert refused.rc == 2, refused
    assert refused.stderr == (
        "error: give --cause and --prevention together: the incident record needs both to close\n"
    )


def test_a_time_in_the_future_is_refused(project: Path, respond: Cli) -> None:
    refused = respond("ack", "INC-1", "--at", "+1h", cwd=project)
    assert refused.rc == 2 and refused.stderr.startswith("error: --at: not a time"), refused
    later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%MZ")
    refused = respond("resolve", "INC-1", "--at", later, cwd=project)
    assert refused.rc == 2 and "is in the future" in refused.stderr, refused


def test_time_option_allows_five_minutes_of_clock_skew() -> None:
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert time_option("--at", "2026-12-02T01:04Z", now) == now + timedelta(minutes=4)
    with pytest.raises(UsageError, match="in the future"):
        time_option("--at", "2026-12-02T01:06Z", now)
    assert time_option("--at", "-20m", now) == now - timedelta(minutes=20)
    assert time_option("--at", None, now) is None


def test_a_date_bound_covers_the_whole_local_day() -> None:
    start, end = date_bound("--from", "2026-12-01"), date_bound("--to", "2026-12-01", end=True)
    assert start is not None and end is not None
    local_start = start.astimezone()
    assert (local_start.hour, local_start.minute, local_start.day) == (0, 0, 1)
    assert end - start == timedelta(days=1) - timedelta(microseconds=1)
    with pytest.raises(UsageError, match="--from: not a time"):
        date_bound("--from", "yesterday")


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(None, "-"), (45, "45s"), (720, "12m"), (7 * 3600 + 12 * 60, "7h 12m"), (3600, "1h"),
     (2 * 86400 + 3 * 3600, "2d 3h"), (-180, "3m")],
)  # fmt: skip
def test_spans_read_like_people_say_them(seconds: float | None, said: str) -> None:
    assert span(seconds) == said
