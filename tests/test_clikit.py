"""The test harness itself: what the scenario tests wait on must be the run they started."""

from __future__ import annotations

from pathlib import Path

from clikit import Journal

from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.timeline import Store, new_run_id, open_store


def _store(project: Path, home: Path) -> Store:
    return open_store(load_config(project, home=str(home)))


def _run_waiting_for_mains(store: Store) -> str:
    """A run recorded up to its wait for mains power, as power-outage records one."""
    run_id = new_run_id()
    store.create_run(run_id, {"runbook": "power-outage", "version": "1.1.0", "text": "steps: []\n"})
    store.recorder(run_id).record(
        [
            EventDraft(kind=EventKind.RUN_STARTED, actor="tester@lab", data={}),
            EventDraft(kind=EventKind.STEP_STARTED, step_id="wait-mains", data={"kind": "wait"}),
        ]
    )
    return run_id


def _waits_for_mains(events: list[object]) -> bool:
    return any(
        getattr(e, "kind", None) == "step-started" and getattr(e, "step_id", None) == "wait-mains"
        for e in events
    )


def test_a_journal_never_takes_an_earlier_tests_run_for_the_one_it_waits_on(
    tmp_path: Path,
) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    store = _store(project, home)
    try:
        earlier = _run_waiting_for_mains(store)
        journal = Journal(project, home)  # made before the next run starts, as a test does
        # the earlier run already waited for mains: that must not satisfy the wait
        assert journal.events() == []
        assert not _waits_for_mains(journal.events())
        started = _run_waiting_for_mains(store)
        assert {e.run_id for e in journal.events()} == {started}
        assert _waits_for_mains(journal.wait_for("the new run", _waits_for_mains, timeout=5))
        # an earlier run is still there when asked for by name
        assert {e.run_id for e in journal.events(earlier)} == {earlier}
    finally:
        store.close()


def test_a_journal_made_before_the_store_exists_sees_the_first_run(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    journal = Journal(project, home)
    assert journal.events() == []
    store = _store(project, home)
    try:
        first = _run_waiting_for_mains(store)
        assert {e.run_id for e in journal.events()} == {first}
    finally:
        store.close()
