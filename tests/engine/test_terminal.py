"""What the on-call engineer reads: the run's progress on stderr and its summary on stdout,
checked through the CLI as a terminal (``TTY_COMPATIBLE=1`` and ``COLUMNS``) and as a pipe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from enginekit import write_runbook
from rich.cells import cell_len

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``terminal(columns)``: stdout and stderr are a terminal of that width."""
    from respond.cli import output

    def make(columns: int) -> None:
        monkeypatch.setenv("TTY_COMPATIBLE", "1")
        monkeypatch.setenv("COLUMNS", str(columns))
        output.out.cache_clear()  # the consoles read the environment when made
        output.err.cache_clear()

    yield make
    monkeypatch.undo()
    output.out.cache_clear()
    output.err.cache_clear()


def lines_with(text: str, fragment: str) -> list[str]:
    return [line for line in plain(text).splitlines() if fragment in line]


def host_lines(text: str, host: str) -> list[str]:
    """The lines of one host's results: ``    ✓ h1 0.00s ...``."""
    return [line for line in plain(text).splitlines() if re.match(rf"    \S {host} ", line)]


# -- 1. step lines name the hosts the targets resolved to ------------------------------------


def test_step_lines_show_resolved_hosts_never_templates(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "where",
        """params:
  one: {default: h1}
  two: {default: "h2:db1"}
steps:
  - {id: single, kind: ssh, targets: "{{ one }}", command: uptime}
  - {id: pair, kind: ssh, targets: "{{ two }}", command: uptime}
  - {id: note, kind: notify, channels: [log], message: hi}
""",
    )
    result = respond("run", "where")
    assert result.rc == 0, result.stderr
    err = result.stderr
    assert "{{" not in err
    # the elapsed time is [00:00] unless the machine is busy: only its form is asserted
    assert re.search(r"^\[\d\d:\d\d\] 1/3 single · ssh → h1 \(1 host\)", err, re.M), err
    assert "2/3 pair · ssh → h2, db1 (2 hosts)" in err
    assert "3/3 note · notify: note" in err  # the operator's side: no arrow, no host


def test_many_hosts_are_abbreviated_on_the_step_line(project: Path, respond: Cli) -> None:
    hosts = "\n".join(f"    n{i:03d}: {{ansible_host: 127.0.0.1}}" for i in range(1, 101))
    (project / "inventory" / "many.yaml").write_text(f"all:\n  hosts:\n{hosts}\n", "utf-8")
    write_runbook(project, "many", "steps:\n  - {id: a, kind: ssh, targets: all, command: up}\n")
    result = respond("run", "many", "-i", "inventory/many.yaml")
    assert result.rc == 0, result.stderr
    (line,) = lines_with(result.stderr, "1/1 a · ssh → ")
    assert re.search(r"→ n001, n002, .* \+\d+ more \(100 hosts\): a$", line), line
    assert "n100" not in line


def test_a_step_failing_before_any_host_gets_its_step_line(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "nohost",
        """steps:
  - {id: first, kind: local, argv: [echo, nosuch], register: found}
  - {id: probe, name: Probe the target, kind: ssh, targets: "{{ found.stdout | trim }}", command: uptime}
""",
    )
    result = respond("run", "nohost")
    assert result.rc == 1
    lines = plain(result.stderr).splitlines()
    heading = next(i for i, line in enumerate(lines) if "2/2 probe · ssh: Probe the target" in line)
    assert lines[heading + 1] == "    ✗ targets 'nosuch' match no host in inventory/hosts.yaml"


# -- 2. host lines use the terminal's width and show stderr ----------------------------------


LONG = " ".join(f"word{i:02d}" for i in range(40))  # 279 characters, spaces every 7


def test_host_lines_use_the_terminal_width_and_cut_between_words(
    project: Path, respond: Cli, terminal: Any
) -> None:
    write_runbook(
        project, "wide", f"steps:\n  - {{id: a, kind: ssh, targets: h1, command: {LONG}}}\n"
    )
    terminal(160)
    result = respond("run", "wide")
    assert result.rc == 0, result.stderr
    (line,) = lines_with(result.stderr, "✓ h1 ")
    assert 140 < cell_len(line) <= 160, line  # the width, not a fixed ~120
    assert line.endswith("…") and re.search(r" word\d\d…$", line), line  # whole words only

    terminal(80)
    (narrow,) = lines_with(respond("run", "wide").stderr, "✓ h1 ")
    assert cell_len(narrow) <= 80 and re.search(r" word\d\d…$", narrow), narrow


def test_without_a_terminal_host_lines_are_not_cut_to_80(project: Path, respond: Cli) -> None:
    write_runbook(
        project, "wide", f"steps:\n  - {{id: a, kind: ssh, targets: h1, command: {LONG}}}\n"
    )
    (line,) = lines_with(respond("run", "wide").stderr, "✓ h1 ")
    assert cell_len(line) > 150, line


def test_wide_characters_count_two_cells(project: Path, respond: Cli, terminal: Any) -> None:
    text = "机房停电 " * 30
    write_runbook(
        project, "cjk", f"steps:\n  - {{id: a, kind: ssh, targets: h1, command: '{text}'}}\n"
    )
    terminal(100)
    (line,) = lines_with(respond("run", "cjk").stderr, "✓ h1 ")
    assert 90 < cell_len(line) <= 100, line


def test_stderr_of_a_failed_command_is_shown(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "loud",
        """steps:
  - id: warn
    kind: local
    argv: [sh, -c, "echo 'only a warning on stderr' >&2"]
  - id: fail
    kind: local
    argv: [sh, -c, "echo 'Init SSL without certificate database' >&2; echo 'Error: Unknown UPS' >&2; exit 3"]
""",
    )
    result = respond("run", "loud")
    assert result.rc == 1
    err = plain(result.stderr)
    assert "✓ localhost" in err and "stderr: only a warning on stderr" in err
    lines = err.splitlines()
    failed = next(i for i, line in enumerate(lines) if "✗ localhost" in line)
    assert "exit code 3" in lines[failed]
    assert lines[failed + 1] == "        stderr: Init SSL without certificate database"
    assert lines[failed + 2] == "                Error: Unknown UPS"


def test_a_gate_is_wrapped_in_full_never_cut(project: Path, respond: Cli, terminal: Any) -> None:
    confirm = "Shut down the non-critical systems " + ", ".join(f"h{i}" for i in range(1, 7))
    confirm += " in this order, one by one, waiting for each to power off?"
    write_runbook(
        project,
        "gated",
        f"steps:\n  - {{id: shed, kind: ssh, targets: web, command: shutdown, confirm: '{confirm}'}}\n",
    )
    terminal(60)
    result = respond("run", "gated")
    assert result.rc == 3
    lines = plain(result.stderr).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  GATE step 1 (shed): "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not re.match(r" {7}\S", line):
            break
        block.append(line)
    assert len(block) > 2 and all(cell_len(line) <= 60 for line in block), block
    assert " ".join(line.strip() for line in block) == f"GATE step 1 (shed): {confirm}"
    previews = [line for line in lines if re.match(r" {4}h\d: shutdown$", line)]
    assert len(previews) == 6  # what it will do, on every host


# -- 3. tolerated failures have their own mark and wording -----------------------------------


def test_failures_within_max_errors_are_marked_tolerated(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "budget",
        "steps:\n  - {id: a, kind: ssh, targets: web, command: fail-on h3, max_errors: 1}\n",
    )
    result = respond("run", "budget")
    assert result.rc == 0, result.stderr
    err = plain(result.stderr)
    assert "✗" not in err  # the step is ok: no red cross inside it
    (line,) = host_lines(err, "h3")
    assert line.startswith("    ! h3 ")
    assert line.endswith("exit code 1 from fail-on h3 (expected 0) (tolerated: max_errors 1)")


def test_a_failure_past_the_budget_is_not_called_tolerated(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "over",
        "steps:\n  - {id: a, kind: ssh, targets: web, command: fail-on h2 h4, max_errors: 1,"
        " concurrency: 1}\n",
    )
    result = respond("run", "over")
    assert result.rc == 1
    err = plain(result.stderr)
    assert host_lines(err, "h2")[0].startswith("    ! h2 ")  # within the budget when it came
    (over,) = host_lines(err, "h4")
    assert over.startswith("    ✗ h4 ") and "tolerated" not in over


def test_on_failure_continue_and_escalate_are_worded(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "goes-on",
        """steps:
  - {id: a, kind: ssh, targets: h1, command: fail-on h1, on_failure: continue}
  - {id: b, kind: ssh, targets: h2, command: fail-on h2, on_failure: escalate}
  - {id: c, kind: ssh, targets: h3, command: uptime}
""",
    )
    err = plain(respond("run", "goes-on").stderr)
    assert "✗" not in err
    assert host_lines(err, "h1")[0].endswith("(tolerated: on_failure continue)")
    assert "    ! step failed, the run goes on (on_failure: continue)\n" in err
    assert host_lines(err, "h2")[0].endswith("(tolerated: on_failure escalate)")
    assert "    ! step failed, escalated, the run goes on (on_failure: escalate)\n" in err


# -- 4. skips say why, and runs of them are one line ------------------------------------------


def test_skips_give_the_name_and_condition_and_runs_collapse(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "skips",
        """params:
  on_battery: {default: "no"}
steps:
  - {id: probe, kind: ssh, targets: h1, command: uptime, register: probe}
  - id: shed
    name: Shut down non-critical systems
    kind: ssh
    targets: h1
    command: shutdown
    when: >-
      on_battery == 'yes'
      and probe.ok
  - {id: report, kind: ssh, targets: h1, command: uptime}
  - {id: x1, kind: ssh, targets: h1, command: a, when: "on_battery == 'yes'"}
  - {id: x2, kind: ssh, targets: h1, command: b, when: "on_battery == 'yes'"}
  - {id: x3, kind: ssh, targets: h1, command: c, when: "on_battery == 'yes'"}
""",
    )
    result = respond("run", "skips")
    assert result.rc == 0, result.stderr
    err = plain(result.stderr)
    assert (
        "2/6 shed skipped: Shut down non-critical systems — "
        "condition false: on_battery == 'yes' and probe.ok"
    ) in err
    assert "4-6/6 skipped (condition false): x1, x2, x3" in err
    assert len(lines_with(err, "skipped")) == 2
    assert "condition is false" not in err


def test_resume_lists_the_steps_already_done_on_one_line(project: Path, respond: Cli) -> None:
    from respond.config import load_config
    from respond.events import EventDraft, EventKind
    from respond.timeline import open_store

    write_runbook(
        project,
        "res",
        """steps:
  - {id: one, kind: ssh, targets: h1, command: echo one}
  - {id: two, kind: ssh, targets: h1, command: echo two}
  - {id: three, kind: ssh, targets: h2, command: echo three, idempotent: true}
""",
    )
    assert respond("run", "res").rc == 0
    store = open_store(load_config(project))
    run_id = max(store.runs(), key=lambda r: r.created).run_id
    events = store.events(run_id)
    cut = next(
        i for i, e in enumerate(events) if e.kind == EventKind.STEP_STARTED and e.step_id == "three"
    )
    crashed = "20261123T000000Z-dead"  # the same run, its journal ending inside step three
    store.create_run(crashed, {**store.meta(run_id), "runbook_text": store.runbook_text(run_id)})
    store.append(
        crashed,
        [
            EventDraft(kind=e.kind, actor=e.actor, step_id=e.step_id, host=e.host, data=e.data)
            for e in events[: cut + 2]
        ],
    )
    result = respond("resume", crashed)
    assert result.rc == 0, result.stderr
    err = plain(result.stderr)
    assert "[00:00] 1-2/3 already done before the interruption: one, two" in err
    assert "3/3 three · ssh → h2 (1 host)" in err


# -- 5. the summary keeps every value, in a terminal and without one -------------------------

SUMMARY_RUNBOOK = """steps:
  - {id: check-the-uninterruptible-power-supply, kind: ssh, targets: web, command: fail-on h3,
     max_errors: 1}
  - {id: b, kind: ssh, targets: h1, command: uptime, when: "false"}
"""


def test_summary_without_a_terminal_is_plain_aligned_text(project: Path, respond: Cli) -> None:
    write_runbook(project, "summary", SUMMARY_RUNBOOK)
    result = respond("run", "summary")
    assert result.rc == 0, result.stderr
    out = result.stdout
    assert not set("│┃━─┏…") & set(out), out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#  step"))
    assert lines[header].split() == [
        "#",
        "step",
        "status",
        "hosts",
        "ok",
        "failed",
        "duration",
        "note",
    ]
    first, second = lines[header + 1], lines[header + 2]
    assert first.split()[:5] == ["1", "check-the-uninterruptible-power-supply", "ok", "5", "1"]
    assert first.endswith("1 host(s) failed, within max_errors=1")
    assert second.split()[:5] == ["2", "b", "skipped", "0", "0"]
    assert second.endswith("condition false")
    # aligned: each column starts at the same place on every line
    assert first.index(" ok ") == second.index(" skipped ") == lines[header].index(" status")
    assert lines[-2] == "RESOLVED — all steps done"
    assert re.fullmatch(r"run \S+ finished in \S+ · exit 0", lines[-1]), lines[-1]


def test_summary_in_a_terminal_is_a_table_that_drops_no_value(
    project: Path, respond: Cli, terminal: Any
) -> None:
    write_runbook(project, "summary", SUMMARY_RUNBOOK)
    terminal(120)
    out = plain(respond("run", "summary").stdout)
    assert "┃" in out and "…" not in out
    assert "│ check-the-uninterruptible-power-supply │" in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    note = " ".join(row.split("│")[-2].strip() for row in rows[:2])
    assert note == "1 host(s) failed, within max_errors=1"  # wrapped onto two lines, not cut
    terminal(50)  # too narrow for the table to show every value: plain columns instead
    out = plain(respond("run", "summary").stdout)
    assert "┃" not in out and "…" not in out
    assert "1 host(s) failed, within max_errors=1" in out


# -- 6. one numbering: from 1, with the id ---------------------------------------------------


def test_errors_and_progress_count_steps_alike(project: Path, respond: Cli) -> None:
    write_runbook(
        project,
        "numbers",
        """steps:
  - {id: first, kind: ssh, targets: h1, command: uptime}
  - {id: probe, kind: ssh, targets: h1, command: uptime, when: "sitee == 'main'"}
""",
    )
    result = respond("run", "numbers")
    assert result.rc == 2
    assert "step 2 (probe) when: unknown name 'sitee' (did you mean 'site'?)" in result.stderr
    write_runbook(
        project,
        "numbers",
        """steps:
  - {id: first, kind: ssh, targets: h1, command: uptime}
  - {id: probe, kind: ssh, targets: h1, command: uptime, confirm: Really?}
""",
    )
    result = respond("run", "numbers")
    assert result.rc == 3
    assert "1/2 first · ssh" in result.stderr
    assert "step 2 (probe) needs confirmation (Really?)" in result.stdout + result.stderr


# -- 7. each kind's detail --------------------------------------------------------------------


def test_manual_answer_and_notify_channel_are_shown(
    project: Path, respond: Cli, tmp_path: Path
) -> None:
    write_runbook(
        project,
        "people",
        """steps:
  - {id: ask, kind: manual, prompt: Mains off?, choices: [mains-off, mains-on], register: ask}
  - {id: tell, kind: notify, channels: [log], message: "answer was {{ ask.answer }}"}
""",
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("ask: mains-off\n", "utf-8")
    err = plain(respond("run", "people", "--answers", str(answers)).stderr)
    assert lines_with(err, "✓ operator ")[0].endswith("answer: mains-off")
    assert lines_with(err, "✓ localhost ")[0].endswith("sent via log")
