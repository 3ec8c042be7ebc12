"""Where a run stopped, read from its record host by host (``state_from_events``)."""

from __future__ import annotations

from typing import Any

from respond.engine.resume import state_from_events
from respond.events import RunEvent

TS = "2026-11-23T05:12:00.000000Z"


def _events(*rows: tuple[str, str | None, str | None, dict[str, Any]]) -> list[RunEvent]:
    first = ("run-started", None, None, {"runbook": "rb", "params": {}, "severity": 3})
    return [
        RunEvent(
            run_id="r",
            seq=i,
            ts=TS,
            kind=kind,
            actor="op",
            step_id=step,
            host=host,
            data=data,
            prev_hash="",
            hash="",
        )
        for i, (kind, step, host, data) in enumerate([first, *rows], start=1)
    ]


def _started(step: str) -> tuple[str, str, None, dict[str, Any]]:
    return ("step-started", step, None, {"kind": "ssh"})


def _intent(step: str, host: str) -> tuple[str, str, str, dict[str, Any]]:
    return ("host-intent", step, host, {"attempt": 1})


def _result(
    step: str, host: str, status: str, **extra: Any
) -> tuple[str, str, str, dict[str, Any]]:
    return ("host-result", step, host, {"status": status, **extra})


def _finished(step: str, status: str, hosts: int) -> tuple[str, str, None, dict[str, Any]]:
    return ("step-finished", step, None, {"status": status, "hosts": hosts})


STOPPED = ("run-finished", None, None, {"status": "failed"})
RESUMED = ("run-resumed", None, None, {})


def test_a_stopped_step_keeps_its_ok_hosts_and_knows_which_are_unsure() -> None:
    state = state_from_events(
        "r",
        _events(
            _started("a"),
            *(_intent("a", h) for h in ("h1", "h2", "h3", "h4", "h5")),
            _result("a", "h1", "ok"),
            _result("a", "h2", "failed"),  # ran and failed: repeated, no question
            _result("a", "h3", "timed_out"),  # may have run: unsure
            _result("a", "h4", "cancelled", not_started=True),  # never started
            # h5: intent only (the process died)
        ),
        {},
    )
    assert state.in_flight == "a" and "a" not in state.finished
    assert set(state.kept["a"]) == {"h1"}
    assert state.unsure["a"] == ["h3", "h5"]


def test_a_step_closed_before_acting_is_not_unsure() -> None:
    # a prompt nobody could answer: the step was closed with no result on any target
    state = state_from_events(
        "r",
        _events(_started("ask"), _intent("ask", "operator"), _finished("ask", "cancelled", 0)),
        {},
    )
    assert state.unsure["ask"] == [] and state.kept["ask"] == {}


def test_a_failed_step_the_run_went_past_is_not_gone_back_to() -> None:
    state = state_from_events(
        "r",
        _events(
            _started("a"),
            _intent("a", "h1"),
            _result("a", "h1", "failed"),
            _finished("a", "failed", 1),  # on_failure: continue
            _started("b"),
            _intent("b", "h1"),
        ),
        {"a": "ra"},
    )
    assert "a" in state.finished and "a" not in state.kept
    assert state.registered["ra"]["h1"]["failed"] is True
    assert state.unsure == {"b": ["h1"]}


def test_a_second_resume_keeps_what_each_attempt_finished() -> None:
    state = state_from_events(
        "r",
        _events(
            _started("a"),
            _intent("a", "h1"),
            _intent("a", "h2"),
            _intent("a", "h3"),
            _result("a", "h1", "ok"),
            _result("a", "h2", "failed"),
            _finished("a", "failed", 3),
            STOPPED,
            RESUMED,
            _started("a"),  # continued on h2 and h3 only
            _intent("a", "h2"),
            _intent("a", "h3"),
            _result("a", "h2", "ok"),
            # killed: h3 still has no result from either attempt
        ),
        {},
    )
    assert state.final_status is None
    assert set(state.kept["a"]) == {"h1", "h2"}
    assert state.unsure["a"] == ["h3"]
