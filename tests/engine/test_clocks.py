"""An incident's clocks keep running during a run: a deadline that passes while a step or a
prompt waits escalates at that moment, a resumed run catches up before its first step, and a
deadline is recorded once even when the schedule's cron entry point checks at the same time.

The engine runs in a thread of the test against the real SQLite store and the real incident
book, on a ``ManualClock``: the test moves the time and waits for the record, never sleeps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli, wait_until
from enginekit import FakeShell, events_of, write_runbook

from respond.clock import ManualClock, iso
from respond.config import load_config
from respond.engine import NullObserver, RunEngine, RunOptions
from respond.engine.deadlines import ClockView, IncidentLink, clock_view, span
from respond.engine.params import resolve_params
from respond.engine.resume import state_from_events
from respond.errors import TimelineError
from respond.events import EventKind
from respond.executors.base import RunContext
from respond.incidents import IncidentBook
from respond.results import RunResult, RunStatus
from respond.runbook import load_runbook
from respond.runbook.templating import Templates
from respond.secrets import Masker
from respond.timeline import Store, new_run_id, open_store

H = 3600.0
LIMITS = {
    1: {"respond": 1 * H, "restore": 4 * H},
    2: {"respond": 1 * H, "restore": 8 * H},
    3: {"respond": 1 * H, "restore": 12 * H},
    4: {"respond": 1 * H, "restore": 24 * H},
}
T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


# -- the clocks line ---------------------------------------------------------------------------


def test_span_reads_at_a_glance() -> None:
    assert [span(s) for s in (0, 45, 60, 4 * 60 + 59, 7 * H + 12 * 60, 4 * H, 26 * H)] == [
        "0s",
        "45s",
        "1m",
        "4m",
        "7h 12m",
        "4h",
        "1d 2h",
    ]


def _local(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def test_clock_view_shows_time_left_met_and_missed() -> None:
    now = T0 + timedelta(minutes=48)
    running = {
        "incident_id": "INC-1",
        "level": 2,
        "status": "open",
        "respond_due": iso(T0 + timedelta(hours=1)),
        "respond_met": True,
        "respond_s": 240.0,
        "clock_due": iso(T0 + timedelta(hours=8)),
        "restore_due": iso(T0 + timedelta(hours=8)),
        "restore_met": None,
    }
    due = _local(T0 + timedelta(hours=8))
    assert clock_view(running, now).line() == (
        f"level 2 · respond: met (4m) · restore: 7h 12m left (due {due})"
    )
    late = {
        **running,
        "level": 1,
        "respond_met": None,
        "clock_due": iso(T0 + timedelta(minutes=36)),
    }
    assert clock_view(late, now).line() == (
        f"level 1 · respond: 12m left (due {_local(T0 + timedelta(hours=1))}) · "
        "restore: missed by 12m"
    )
    closed = {
        **running,
        "status": "restored",
        "respond_met": False,
        "acked_at": iso(T0 + timedelta(hours=1, minutes=3)),
        "restore_met": False,
        "restored_at": iso(T0 + timedelta(hours=9)),
        "clock_due": None,
    }
    assert clock_view(closed, now).line() == (
        "level 2 · respond: missed by 3m · restore: missed by 1h"
    )


# -- a run on an incident, in a thread ---------------------------------------------------------


class Recording(NullObserver):
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.views: list[ClockView] = []

    def severity_changed(self, old: int, new: int, reason: str) -> None:
        self.lines.append(f"severity {old}->{new}: {reason}")

    def clocks(self, view: ClockView) -> None:
        self.views.append(view)

    def deadline_missed(self, clock: str, level: int, due: str) -> None:
        self.lines.append(f"missed {clock} {level} {due}")

    def progress(self, text: str) -> None:
        self.lines.append(f"progress {text}")


class HeldAsker:
    """A person who takes their time: answers a prompt only when the test says so."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()

    def confirm(self, step_id: str, text: str) -> bool:
        return True

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        self.asked.set()
        assert self.release.wait(60), "the test never answered"
        return "yes"


class NobodyAsker:
    def confirm(self, step_id: str, text: str) -> bool:
        from respond.errors import GateRefused

        raise GateRefused("nobody at the terminal")

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        from respond.errors import GateRefused

        raise GateRefused("nobody at the terminal")


@dataclass
class Bench:
    project: Path
    store: Store
    clock: ManualClock
    book: IncidentBook
    incident_id: str = ""
    threads: list[threading.Thread] = field(default_factory=list)

    def open(self, severity: int = 3) -> str:
        self.incident_id = self.book.open(
            title="机房断电 power out",
            runbook="long",
            version="1.0.0",
            scenario="power",
            severity=severity,
            detected_at=self.clock.now(),
            reported_by="guard",
            site="A栋机房",
            description="UPS alarm",
            operator="tester",
        )
        return self.incident_id

    def new_run(self, name: str) -> str:
        rb = load_runbook(name, load_config(self.project))
        run_id = new_run_id()
        self.store.create_run(
            run_id,
            {
                "runbook": rb.id,
                "version": rb.version,
                "sha256": rb.sha256,
                "runbook_text": rb.text,
                "severity": self.level(),
                "drill": False,
                "incident": self.incident_id,
            },
        )
        self.book.attach(
            self.incident_id, run_id, runbook=rb.id, version=rb.version, operator="tester"
        )
        return run_id

    def level(self) -> int:
        return int(self.book.state(self.incident_id).summary()["level"])

    def engine(
        self, name: str, run_id: str, asker: Any, observer: Recording, resume: Any = None
    ) -> RunEngine:
        config = load_config(self.project)
        rb = load_runbook(name, config)
        masker = Masker([])
        ctx = RunContext(
            run_id=run_id,
            project_root=self.project,
            playbooks_dir=self.project / "playbooks",
            home=config.home,
            masker=masker,
        )
        options = RunOptions(
            params=resolve_params(rb, {}),
            severity=self.level(),
            operator="tester",
            severity_policy=LIMITS,
            incident=IncidentLink(self.book, self.incident_id),
            clock=self.clock,
        )
        return RunEngine(
            runbook=rb,
            inventory=None,
            ctx=ctx,
            recorder=self.store.recorder(run_id, masker),
            templates=Templates(self.project),
            options=options,
            asker=asker,
            masker=masker,
            observers=[observer],
            resume=resume,
        )

    def start(self, engine: RunEngine) -> dict[str, RunResult]:
        """The run in a thread; its result lands in the returned dict under "result"."""
        out: dict[str, RunResult] = {}
        thread = threading.Thread(target=lambda: out.update(result=engine.run()), daemon=True)
        thread.start()
        self.threads.append(thread)
        return out

    def kinds(self, record_id: str) -> list[str]:
        return [str(e.kind) for e in self.store.events(record_id)]

    def of_kind(self, record_id: str, kind: EventKind) -> list[Any]:
        return [e for e in self.store.events(record_id) if e.kind == kind]


@pytest.fixture
def bench(project: Path) -> Iterator[Bench]:
    config = load_config(project)
    store = open_store(config)
    clock = ManualClock(T0)
    made = Bench(project, store, clock, IncidentBook(store, clock=clock, limits=LIMITS))
    yield made
    for thread in made.threads:
        thread.join(60)
        assert not thread.is_alive(), "a run thread was left running"
    store.close()


def _watchers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("deadlines-")]


def _fifo_runbook(project: Path) -> Path:
    fifo = project / "release.fifo"
    os.mkfifo(fifo)
    write_runbook(
        project,
        "long",
        f"""steps:
  - {{id: long, name: replace the UPS module, kind: local, argv: [cat, "{fifo}"], timeout: 1h}}
  - {{id: after, name: check, kind: local, argv: [echo, after]}}
""",
    )
    return fifo


def _release(fifo: Path) -> None:
    with open(fifo, "w", encoding="utf-8") as writer:  # cat reads this and ends
        writer.write("module replaced\n")


def test_a_deadline_passing_during_a_long_step_escalates_then(bench: Bench) -> None:
    fifo = _fifo_runbook(bench.project)
    incident = bench.open(severity=3)
    run_id = bench.new_run("long")
    observer = Recording()
    engine = bench.engine("long", run_id, NobodyAsker(), observer)
    out = bench.start(engine)

    wait_until(lambda: "host-intent" in bench.kinds(run_id), "the long step to start")
    assert bench.clock.wait_for_waiters(1), "the deadline watcher is not waiting"
    bench.clock.advance(12 * H + 1)  # level 3's 12 h restore limit passes mid-step

    escalated = wait_until(
        lambda: bench.of_kind(run_id, EventKind.ESCALATED), "the run's escalated event"
    )
    # recorded while the step still runs: it has not finished
    assert "step-finished" not in bench.kinds(run_id)
    data = escalated[0].data
    assert (data["from"], data["to"], data["incident"], data["automatic"]) == (
        3,
        2,
        incident,
        True,
    )
    assert "12h" in data["reason"] or "12 h" in data["reason"] or "level 3" in data["reason"]
    in_incident = bench.of_kind(incident, EventKind.ESCALATED)
    assert len(in_incident) == 1
    assert in_incident[0].data["at"] == iso(T0 + timedelta(hours=12))  # at the deadline
    assert wait_until(lambda: any(v.level == 2 for v in observer.views), "a level 2 clocks line")

    _release(fifo)
    wait_until(lambda: "result" in out, "the run to end")
    result = out["result"]
    assert result.status is RunStatus.SUCCEEDED
    events = bench.store.events(run_id)
    assert events[-1].kind == EventKind.RUN_FINISHED  # nothing after the run's end
    assert events[-1].data["severity"] == 2
    assert engine.watch is not None and not engine.watch.running
    assert _watchers() == []
    assert observer.lines[0].startswith("severity 3->2")


def test_a_deadline_passing_during_an_unanswered_prompt_escalates_then(
    bench: Bench,
) -> None:
    write_runbook(
        bench.project,
        "ask",
        """steps:
  - {id: ups, name: look at the UPS, kind: manual, prompt: "Is the UPS back? 电源恢复了吗"}
""",
    )
    incident = bench.open(severity=2)
    run_id = bench.new_run("ask")
    asker = HeldAsker()
    observer = Recording()
    out = bench.start(bench.engine("ask", run_id, asker, observer))

    assert asker.asked.wait(60), "the prompt was never asked"
    assert bench.clock.wait_for_waiters(1)
    bench.clock.advance(8 * H)  # level 2's restore deadline, to the second

    wait_until(lambda: bench.of_kind(run_id, EventKind.ESCALATED), "the run's escalated event")
    assert "answer" not in bench.kinds(run_id)  # the prompt is still waiting
    assert [(e.data["from"], e.data["to"]) for e in bench.of_kind(incident, "escalated")] == [
        (2, 1)
    ]
    asker.release.set()
    wait_until(lambda: "result" in out, "the run to end")
    kinds = bench.kinds(run_id)
    assert kinds.index("escalated") < kinds.index("answer") < kinds.index("run-finished")
    assert out["result"].status is RunStatus.SUCCEEDED


def test_a_level_1_deadline_is_recorded_missed_during_the_run(bench: Bench) -> None:
    fifo = _fifo_runbook(bench.project)
    incident = bench.open(severity=1)
    run_id = bench.new_run("long")
    observer = Recording()
    out = bench.start(bench.engine("long", run_id, NobodyAsker(), observer))
    wait_until(lambda: "host-intent" in bench.kinds(run_id), "the long step to start")
    assert bench.clock.wait_for_waiters(1)
    bench.clock.advance(4 * H + 60)
    missed = wait_until(
        lambda: bench.of_kind(run_id, EventKind.DEADLINE_MISSED), "the run's missed deadline"
    )
    assert missed[0].data == {
        "incident": incident,
        "clock": "restore",
        "level": 1,
        "due": iso(T0 + timedelta(hours=4)),
    }
    assert not bench.of_kind(run_id, EventKind.ESCALATED)  # nothing above level 1
    assert any(line.startswith("missed restore 1") for line in observer.lines)
    _release(fifo)
    wait_until(lambda: "result" in out, "the run to end")


def test_a_resumed_run_escalates_for_the_time_no_process_ran_before_its_first_step(
    bench: Bench,
) -> None:
    write_runbook(
        bench.project,
        "ask",
        """steps:
  - {id: look, name: look, kind: local, argv: [echo, look]}
  - {id: ups, name: look at the UPS, kind: manual, prompt: "Is the UPS back?"}
""",
    )
    incident = bench.open(severity=3)
    run_id = bench.new_run("ask")
    first = bench.engine("ask", run_id, NobodyAsker(), Recording()).run()
    assert first.status is RunStatus.ABORTED  # nobody answered: resumable

    bench.clock.advance(12 * H + 8 * H + 60)  # both 3→2 and 2→1 pass with no process
    assert not bench.of_kind(incident, EventKind.ESCALATED)

    state = state_from_events(run_id, bench.store.events(run_id), {})
    asker = HeldAsker()
    asker.release.set()
    observer = Recording()
    resumed = bench.engine("ask", run_id, asker, observer, resume=state).run()
    assert resumed.status is RunStatus.SUCCEEDED

    kinds = bench.kinds(run_id)
    after = kinds[kinds.index("run-resumed") :]
    # caught up at once, in order, before the first step of the resumed run
    assert after[1:3] == ["escalated", "escalated"]
    assert after.index("escalated") < after.index("step-started")
    moves = [(e.data["from"], e.data["to"]) for e in bench.of_kind(run_id, "escalated")]
    assert moves == [(3, 2), (2, 1)]
    assert [e.data["at"] for e in bench.of_kind(incident, "escalated")] == [
        iso(T0 + timedelta(hours=12)),
        iso(T0 + timedelta(hours=20)),
    ]
    assert observer.lines[:2] == [
        f"severity 3->2: {bench.of_kind(incident, 'escalated')[0].data['reason']}",
        f"severity 2->1: {bench.of_kind(incident, 'escalated')[1].data['reason']}",
    ]


def test_each_deadline_is_recorded_once_when_the_watcher_and_cron_race(bench: Bench) -> None:
    fifo = _fifo_runbook(bench.project)
    incident = bench.open(severity=3)
    run_id = bench.new_run("long")
    observer = Recording()
    out = bench.start(bench.engine("long", run_id, NobodyAsker(), observer))
    wait_until(lambda: "host-intent" in bench.kinds(run_id), "the long step to start")
    # the cron path: another connection to the store, another book, the same clock
    cron_store = open_store(load_config(bench.project))
    cron = IncidentBook(cron_store, clock=bench.clock, limits=LIMITS)
    try:
        for hours, recorded in ((12, 1), (8, 2), (4, 3)):
            assert bench.clock.wait_for_waiters(1)
            start = threading.Barrier(2)

            def cron_checks(start: threading.Barrier = start) -> None:
                start.wait(10)
                cron.check_deadlines(incident)

            racer = threading.Thread(target=cron_checks)
            racer.start()
            start.wait(10)
            bench.clock.advance(hours * H)  # the watcher wakes as cron checks
            racer.join(60)

            def mirrored(n: int = recorded) -> bool:
                told = bench.of_kind(run_id, EventKind.ESCALATED)
                told += bench.of_kind(run_id, EventKind.DEADLINE_MISSED)
                return len(told) >= n

            wait_until(mirrored, f"deadline {recorded} in the run's record")
    finally:
        cron_store.close()
    _release(fifo)
    wait_until(lambda: "result" in out, "the run to end")
    in_incident = [
        (e.kind, e.data.get("from"), e.data.get("to"), e.data.get("clock"))
        for e in bench.store.events(incident)
        if e.kind in (EventKind.ESCALATED, EventKind.DEADLINE_MISSED)
    ]
    # 3→2 and 2→1 once each, level 1's restore deadline missed once; and the respond clock
    # was met by the run's attachment
    assert in_incident == [
        ("escalated", 3, 2, None),
        ("escalated", 2, 1, None),
        ("deadline-missed", None, None, "restore"),
    ]
    in_run = [
        e.kind for e in bench.store.events(run_id) if e.kind in ("escalated", "deadline-missed")
    ]
    assert in_run == ["escalated", "escalated", "deadline-missed"]


def test_on_failure_escalate_escalates_the_incident_once(bench: Bench) -> None:
    write_runbook(
        bench.project,
        "fails",
        """steps:
  - {id: fix, name: remote fix, kind: local, argv: ["false"], on_failure: escalate}
  - {id: after, name: after, kind: local, argv: [echo, after]}
""",
    )
    incident = bench.open(severity=3)
    run_id = bench.new_run("fails")
    observer = Recording()
    result = bench.engine("fails", run_id, NobodyAsker(), observer).run()
    assert str(result.outcome) == "unresolved"
    book_side = bench.of_kind(incident, EventKind.ESCALATED)
    assert [(e.data["from"], e.data["to"], e.data["automatic"]) for e in book_side] == [
        (3, 2, False)
    ]
    assert book_side[0].data["run_id"] == run_id
    run_side = bench.of_kind(run_id, EventKind.ESCALATED)
    assert len(run_side) == 1  # the watcher does not record the run's own escalation again
    assert run_side[0].data["incident"] == incident
    assert run_side[0].step_id == "fix" and run_side[0].actor == "tester"
    assert bench.store.events(run_id)[-1].data["severity"] == 2
    assert bench.level() == 2


def test_a_run_stopped_at_once_leaves_no_watcher(bench: Bench) -> None:
    write_runbook(
        bench.project, "quick", "steps:\n  - {id: a, name: a, kind: local, argv: [echo, a]}\n"
    )
    bench.open(severity=4)
    run_id = bench.new_run("quick")
    observer = Recording()
    result = bench.engine("quick", run_id, NobodyAsker(), observer).run()
    assert result.status is RunStatus.SUCCEEDED
    assert _watchers() == []
    # the clocks line at the start and after the step
    assert len(observer.views) == 2
    assert observer.views[0].line().startswith("level 4 · respond: met (0s) · restore: 1d left")


def test_an_escalated_failure_escalates_the_incident_and_its_people_are_told(
    project: Path, respond: Cli
) -> None:
    write_runbook(
        project,
        "esc",
        """steps:
  - {id: a, name: a, kind: ssh, targets: h1, command: fail-on h1, on_failure: escalate}
  - {id: b, name: b, kind: ssh, targets: h2, command: echo b}
""",
    )
    result = respond("run", "esc", "--json")
    assert result.rc == 1, result  # unresolved
    incident = result.json()["incident"]["id"]
    assert result.json()["incident"]["level"] == 2
    run_side = [e for e in events_of(project) if e.kind == EventKind.ESCALATED]
    assert [(e.data["from"], e.data["to"], e.data["incident"]) for e in run_side] == [
        (3, 2, incident)
    ]
    store = open_store(load_config(project))
    try:
        record = store.events(incident)
    finally:
        store.close()
    book_side = [e for e in record if e.kind == EventKind.ESCALATED]
    assert [(e.data["from"], e.data["to"], e.data["step_id"]) for e in book_side] == [(3, 2, "a")]
    # told through the escalation chain (here the default one: the dead channel, then the
    # log file), each attempt in the incident's record
    told = [
        (e.kind, e.data["channel"])
        for e in record
        if e.kind.startswith("notification") and e.data["event"] == "escalated"
    ]
    assert told == [("notification-failed", "dead"), ("notification-sent", "log")]
    assert incident in (project / "notes.log").read_text(encoding="utf-8")
    assert ("h2", "echo b") in FakeShell.calls


class _FlakyBook(IncidentBook):
    """The store away for the first deadline check (a database restarting)."""

    failures = 1

    def check_deadlines(self, incident_id: str) -> list[Any]:
        if self.failures:
            self.failures -= 1
            raise TimelineError("the timeline database stayed locked for 30s")
        return super().check_deadlines(incident_id)


def test_a_failed_deadline_check_is_said_once_and_the_watch_goes_on(bench: Bench) -> None:
    fifo = _fifo_runbook(bench.project)
    bench.book = _FlakyBook(bench.store, clock=bench.clock, limits=LIMITS)
    incident = bench.open(severity=3)
    run_id = bench.new_run("long")
    observer = Recording()
    out = bench.start(bench.engine("long", run_id, NobodyAsker(), observer))
    wait_until(lambda: "host-intent" in bench.kinds(run_id), "the long step to start")
    assert observer.lines == [
        "progress the incident's deadlines could not be checked "
        "(TimelineError: the timeline database stayed locked for 30s)"
    ]
    assert bench.clock.wait_for_waiters(1)
    bench.clock.advance(12 * H)
    wait_until(lambda: bench.of_kind(run_id, EventKind.ESCALATED), "the escalation after all")
    assert len(bench.of_kind(incident, EventKind.ESCALATED)) == 1
    _release(fifo)
    wait_until(lambda: "result" in out, "the run to end")
    assert out["result"].status is RunStatus.SUCCEEDED
