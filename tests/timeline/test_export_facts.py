"""The facts the exports show, computed from events alone: how long, met or missed and by how
much, the window a run's chart is drawn over, and one entry per notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from respond.clock import iso
from respond.events import RunEvent
from respond.timeline import facts
from respond.timeline.chain import VerifyResult

T0 = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


def _events(*specs: tuple[float, str, dict[str, Any]]) -> list[RunEvent]:
    """(seconds after T0, kind, data) → chained-looking events (hashes do not matter here)."""
    return [
        RunEvent(
            run_id="r",
            seq=i,
            ts=iso(T0 + timedelta(seconds=at)),
            kind=kind,
            actor="op",
            step_id=data.pop("step_id", None),
            host=None,
            data=data,
            prev_hash="",
            hash="",
        )
        for i, (at, kind, data) in enumerate(specs, start=1)
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45s"),
        (720, "12m"),
        (750, "12m 30s"),
        (3600, "1h"),
        (25920, "7h 12m"),
        (-720, "12m"),
        (183600, "2d 3h"),
    ],
)
def test_spans_read_like_people_write_them(seconds: float, text: str) -> None:
    assert facts.human_span(seconds) == text


def _summary(**over: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "sla_level": 2,
        "limits": {"respond": 3600, "restore": 28800},
        "respond_due": iso(T0 + timedelta(hours=1)),
        "restore_due": iso(T0 + timedelta(hours=8)),
        "acked_at": None,
        "restored_at": None,
        "respond_met": None,
        "restore_met": None,
        "missed": [],
    }
    summary.update(over)
    return summary


def test_incident_clocks_pending_met_and_missed_before_and_after_the_end() -> None:
    pending = facts.incident_clocks(_summary())
    assert [(c.met, c.margin_s) for c in pending] == [(None, None), (None, None)]
    assert pending[1].text.startswith("pending: due ")

    late_ack = iso(T0 + timedelta(hours=1, minutes=5))
    open_missed = facts.incident_clocks(
        _summary(acked_at=late_ack, respond_met=False, missed=[{"clock": "restore"}])
    )
    assert (open_missed[0].met, open_missed[0].margin_s) == (False, -300.0)
    assert open_missed[0].text.startswith("MISSED by 5m: acknowledged ")
    assert (open_missed[1].met, open_missed[1].margin_s) == (False, None)
    assert open_missed[1].text.startswith("MISSED: not restored by the deadline ")

    early = iso(T0 + timedelta(hours=7))
    met = facts.incident_clocks(_summary(restored_at=early, restore_met=True))[1]
    assert (met.met, met.margin_s, met.limit_s, met.level) == (True, 3600.0, 28800.0, 2)
    assert met.text.startswith("met: restored ") and met.text.endswith(", 1h before the deadline")


def _run(end_at: float, outcome: str, *, resumed_end: float | None = None) -> list[RunEvent]:
    specs: list[tuple[float, str, dict[str, Any]]] = [
        (0, "run-started", {"severity": 3, "clock": {"respond": 3600, "restore": 600}}),
        (end_at, "run-finished", {"status": "failed", "outcome": "unresolved"}),
    ]
    if resumed_end is not None:
        specs += [
            (end_at + 1, "run-resumed", {}),
            (resumed_end, "run-finished", {"status": "succeeded", "outcome": outcome}),
        ]
    else:
        specs[1][2]["outcome"] = outcome
    return _events(*specs)


def test_a_run_without_incident_keeps_its_own_restore_clock_to_its_last_end() -> None:
    (within,) = facts.run_clocks(_run(300, "resolved"))
    assert (within.met, within.margin_s, within.level) == (True, 300.0, 3)
    (late,) = facts.run_clocks(_run(300, "resolved", resumed_end=900))  # resumed, then resolved
    assert (late.met, late.margin_s) == (False, -300.0)
    assert late.text.startswith("MISSED by 5m: restored ")
    assert late.text.endswith("(the run's own clock, from run start)")
    (unresolved,) = facts.run_clocks(_run(300, "unresolved"))
    assert unresolved.met is None
    assert unresolved.text.startswith("not restored by this run (ended unresolved)")
    assert facts.run_clocks(_events((0, "run-started", {"severity": 3}))) == []


def test_the_chart_window_ends_with_the_run_not_with_what_came_later() -> None:
    finished = _events(
        (0, "run-started", {}),
        (60, "run-finished", {"status": "succeeded"}),
        (60.1, "sealed", {}),
        (660, "note", {"text": "late"}),
    )
    window = facts.chart_window(finished)
    assert window.seconds == 60.0
    assert [e.kind for e in window.later] == ["sealed", "note"]

    resumed = _events(
        (0, "run-started", {}),
        (60, "run-finished", {"status": "aborted"}),
        (600, "note", {"text": "on site"}),
        (900, "run-resumed", {}),
        (960, "run-finished", {"status": "succeeded"}),
    )
    assert facts.chart_window(resumed).seconds == 960.0  # the resumed run is the run too

    unfinished = _events((0, "run-started", {}), (30, "step-started", {}), (900, "note", {}))
    window = facts.chart_window(unfinished)
    assert window.seconds == 30.0 and [e.kind for e in window.later] == ["note"]
    assert facts.chart_window([]).seconds == 0.0


def test_each_notice_is_one_entry_with_every_channel_it_tried() -> None:
    events = _events(
        (0, "notification-failed", {"channel": "sms", "subject": "A", "error": "down"}),
        (1, "notification-sent", {"channel": "log", "subject": "A"}),
        (2, "notification-failed", {"channel": "sms", "subject": "B", "error": "down"}),
        (3, "notification-sent", {"channel": "sms", "subject": "C", "message": "text C"}),
    )
    groups = facts.notice_groups(facts.notifications(events))
    assert [[n.channel for n in g] for g in groups] == [["sms", "log"], ["sms"], ["sms"]]
    assert [g[-1].fallback for g in groups] == [True, False, False]
    assert facts.notice_heading(groups[1], "t") == "t · subject: B · sms: FAILED (down)"
    assert groups[2][0].message == "text C"


def test_verification_words_for_every_verdict() -> None:
    def result(**kw: Any) -> VerifyResult:
        return VerifyResult(kw.pop("ok", True), "r", 3, **kw)

    assert facts.seal_state(None) == "unverified"
    assert facts.seal_state(result(sealed=True)) == "sealed"
    assert facts.seal_state(result(sealed=False, verdict="not sealed")) == "unsealed"
    assert facts.seal_state(result(verdict="in progress")) == "open"
    assert facts.seal_state(result(ok=False, problem="changed", verdict="tampered")) == "tampered"
    unfinished = result(verdict="not finished", detail="last event seq 3")
    assert facts.seal_text(unfinished, []) == "not finished (3 events); last event seq 3"
