"""Two `respond drill due --run` started at once, against one SQLite store and once against
a real PostgreSQL server: the occurrence runs exactly once.

Each command is a real child process running the CLI's ``main``. A barrier makes the race
certain rather than likely: each process stops right before it claims the occurrence, after
it has found the drill due, until the other has got there too. Both then claim together;
only the record's claim can keep the drill from running twice.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from clikit import Cli
from storekit import backend, make_store, project

from respond.timeline import Store

__all__ = ["backend", "make_store", "project"]

NOW = "2026-06-01T10:00:00Z"
OCCURRENCE = "2026-06-01T09:00:00.000000Z"
NEXT_DAY = "2026-06-02T12:00:00Z"
NEXT = "2026-06-02T09:00:00.000000Z"

RUNBOOK = """runbook: rehearse
version: 1.0.0
title: rehearse
scenario: other
severity: 3
steps:
  - id: note
    name: note the rehearsal
    kind: local
    command: sh -c "echo rehearsed >> marker"
"""

DRILL = """drill: daily
title: daily rehearsal
runbook: rehearse
schedule: {cron: "0 9 * * *", timezone: UTC}
mode: simulate
"""

# The CLI's main, with a barrier in front of the claim (argv: my flag, the other's flag,
# then the command's arguments).
BARRIER = """
import sys, time
from pathlib import Path
from respond.timeline.store import Store

mine, other = Path(sys.argv[1]), Path(sys.argv[2])
claim = Store.claim_occurrence

def claim_together(self, drill, occurrence, by):
    mine.touch()
    deadline = time.monotonic() + 60
    while not other.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the other process never reached its claim")
        time.sleep(0.01)
    return claim(self, drill, occurrence, by)

Store.claim_occurrence = claim_together
from respond.cli import main
main(sys.argv[3:])
"""


def test_two_due_runs_at_once_run_the_occurrence_once(
    project: Path, make_store: Callable[..., Store], respond: Cli, tmp_path: Path
) -> None:
    store = make_store()
    (project / "runbooks" / "rehearse.yaml").write_text(RUNBOOK, encoding="utf-8")
    (project / "drills").mkdir()
    (project / "drills" / "daily.yaml").write_text(DRILL, encoding="utf-8")
    flags = [tmp_path / "one.ready", tmp_path / "two.ready"]
    command = ["drill", "due", "--run", "--now", NOW]
    procs = [
        _start(project, [str(flags[0]), str(flags[1]), *command]),
        _start(project, [str(flags[1]), str(flags[0]), *command]),
    ]
    results = [_finish(p) for p in procs]
    assert all(rc == 0 for rc, _, _ in results), results
    lines = [line for _, out, _ in results for line in out.splitlines()]
    (ran,) = lines  # the winner says what it ran; the loser found it taken and says nothing
    assert ran.startswith("daily: drill run ") and " resolved (occurrence " in ran
    assert sorted(err.splitlines()[-1].split(": ", 1)[1] for _, _, err in results) == [
        "1 drill(s) run",
        "no drill is due",
    ]
    assert (project / "marker").read_text() == "rehearsed\n"  # the step ran once
    runs = respond("timeline", "list", "--drill", "--json", cwd=project, check=True).json()
    (run,) = runs
    assert run["meta"]["drill_name"] == "daily" and run["meta"]["occurrence"] == OCCURRENCE
    (claim,) = store.drill_occurrences("daily")
    assert (claim["occurrence"], claim["run_id"]) == (OCCURRENCE, run["run_id"])
    assert run["run_id"] in ran
    # a third call, later that day, finds it done
    again = respond("drill", "due", "--run", "--now", NOW, cwd=project)
    assert (again.rc, again.stdout) == (0, ""), again
    # the next day's occurrence runs from the one periodic entry point, its JSON unmixed
    # with the run's own output
    scheduled = respond("schedule", "run", "--now", NEXT_DAY, "--json", cwd=project)
    assert scheduled.rc == 0, scheduled
    (action,) = scheduled.json()["actions"]
    assert (action["job"], action["kind"], action["at"]) == ("drills", "drill-run", NEXT)
    assert action["data"]["outcome"] == "resolved" and action["data"]["exit_code"] == 0
    assert (project / "marker").read_text() == "rehearsed\n" * 2
    assert [c["run_id"] for c in store.drill_occurrences("daily")] == [
        run["run_id"],
        action["data"]["run_id"],
    ]


def _start(project: Path, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", BARRIER, *args],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=100)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"drill due --run did not end:\n{out}\n{err}") from None
    return proc.returncode, out, err


def test_a_drill_run_by_hand_takes_the_occurrence_on(
    project: Path, make_store: Callable[..., Store], respond: Cli
) -> None:
    """`respond drill run` rehearses the current occurrence: the schedule then finds
    nothing due and `drill list` names that run."""
    store = make_store()
    (project / "runbooks" / "rehearse.yaml").write_text(RUNBOOK, encoding="utf-8")
    (project / "drills").mkdir()
    yearly = DRILL.replace('"0 9 * * *"', '"0 0 1 1 *"').replace("daily", "yearly")
    (project / "drills" / "yearly.yaml").write_text(yearly, encoding="utf-8")
    cli = respond.bind(cwd=project)
    before = cli("drill", "list", "--json", check=True).json()
    assert [(d["drill"], d["due"]) for d in before] == [("yearly", True)]
    by_hand = cli("drill", "run", "yearly", "--yes", "--json")
    assert by_hand.rc == 0, by_hand
    run_id = by_hand.json()["run_id"]
    due = cli("drill", "due", "--run")
    assert (due.rc, due.stdout) == (0, ""), due
    assert due.stderr.endswith(": no drill is due\n")
    (after,) = cli("drill", "list", "--json", check=True).json()
    assert (after["due"], after["state"], after["run_id"]) == (False, f"done by {run_id}", run_id)
    assert after["last_run"]["run_id"] == run_id
    assert (project / "marker").read_text() == "rehearsed\n"
    assert len(store.runs(drill=True)) == 1
