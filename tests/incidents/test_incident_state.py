"""The clock rules of respond.incident_state (pure): deadlines, escalation, exactly-once, the
summary's keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from incidentkit import LIMITS, T0, VENDOR, as_event, at, ev, opened

from respond.clock import iso
from respond.events import RunEvent
from respond.incident_state import fold, overdue

SUMMARY_KEYS = {
    "incident_id", "title", "runbook", "site", "reported_by", "description", "operator",
    "detected_at", "opened_at", "status", "level", "initial_level", "sla_level", "limits",
    "respond_due", "restore_due", "clock_due", "acked_at", "acked_by", "restored_at",
    "restored_by", "restored_via", "resolved_at", "resolved_by", "cause", "prevention",
    "respond_s", "restore_s", "respond_met", "restore_met", "escalations", "severity_changes",
    "missed", "runs", "vendor", "notifications", "next_due",
}  # fmt: skip


def check(events: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """What one schedule pass at ``now`` records (the store appends the drafts as events)."""
    return [as_event(d, now) for d in overdue(fold(events), now)]


def run_checks(events: list[dict[str, Any]], times: list[datetime]) -> list[dict[str, Any]]:
    for now in times:
        events = events + check(events, now)
    return events


def deadline_keys(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = []
    for e in events:
        d = e["data"]
        if e["kind"] == "deadline-missed":
            keys.append((d["clock"], d["level"], d["due"]))
        elif e["kind"] == "escalated" and d.get("deadline"):
            keys.append((d["deadline"]["clock"], d["deadline"]["level"], d["deadline"]["due"]))
    return keys


def test_the_summary_has_exactly_the_spec_keys() -> None:
    summary = fold([opened(2)]).summary()
    assert set(summary) == SUMMARY_KEYS
    assert summary["limits"] == {"respond": 3600.0, "restore": 8 * 3600.0}
    assert summary["respond_due"] == iso(at(1)) and summary["restore_due"] == iso(at(8))
    assert summary["clock_due"] == iso(at(8)) and summary["next_due"] == iso(at(1))
    assert summary["status"] == "open" and summary["respond_met"] is None
    assert summary["operator"] == "zhang" and summary["site"] == "A栋机房"


def test_escalation_chain_4_3_2_1_then_missed() -> None:
    found = check([opened(4)], at(1000))
    kinds = [(e["kind"], e["data"].get("from"), e["data"].get("to")) for e in found]
    assert kinds == [
        ("deadline-missed", None, None),  # respond, at T0+1h
        ("escalated", 4, 3),
        ("escalated", 3, 2),
        ("escalated", 2, 1),
        ("deadline-missed", None, None),  # restore at level 1: nothing above, reported up
    ]
    # each level's clock starts when the previous one escalated: 24h, +12h, +8h, +4h
    assert [e["data"].get("at") or e["data"]["due"] for e in found] == [
        iso(at(1)),
        iso(at(24)),
        iso(at(36)),
        iso(at(44)),
        iso(at(48)),
    ]
    assert found[1]["data"]["reason"] == "not restored within 24h at level 4"
    assert found[1]["data"]["automatic"] is True
    assert found[1]["data"]["deadline"] == {"clock": "restore", "level": 4, "due": iso(at(24))}
    assert found[-1]["data"] == {"clock": "restore", "level": 1, "due": iso(at(48))}
    state = fold([opened(4), *found])
    assert state.level == 1 and state.sla_level == 4 and state.next_due() is None
    assert overdue(state, at(10_000)) == []


@settings(max_examples=150, deadline=None)
@given(
    severity=st.integers(1, 4),
    steps=st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=12),
)
def test_each_deadline_is_recorded_exactly_once_however_often_it_is_checked(
    severity: int, steps: list[float]
) -> None:
    times, now = [], T0
    for hours in steps:
        now += timedelta(hours=hours)
        times += [now, now]  # a second pass at the same moment records nothing
    many = run_checks([opened(severity)], times)
    once = run_checks([opened(severity)], [times[-1]])
    keys = deadline_keys(many)
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(deadline_keys(once))
    # the loop is bounded: at most one escalation per level above 1 and two misses
    assert len(keys) <= (severity - 1) + 2
    assert check(many, times[-1]) == []


@settings(max_examples=100, deadline=None)
@given(severity=st.integers(1, 4), hours=st.floats(0, 200, allow_nan=False))
def test_next_due_is_the_earliest_deadline_without_an_event(severity: int, hours: float) -> None:
    events = run_checks([opened(severity)], [at(hours)])
    state = fold(events)
    due = state.next_due()
    if due is not None:
        assert due > at(hours)  # everything up to now has its event
        assert check(events, due - timedelta(microseconds=1)) == []
        assert check(events, due) != []


def test_re_classification_moves_the_sla_deadlines() -> None:
    events = [
        opened(4),
        ev("acknowledged", at(0.5), "li", at=iso(at(0.5)), by="li"),
        ev("severity-changed", at(1), "li", **{"from": 4, "to": 2, "reason": "OA down"}),
    ]
    state = fold(events)
    assert (state.sla_level, state.level, state.initial_level) == (2, 2, 4)
    assert state.restore_due == at(8) and state.clock_due == at(8)  # it was level 2 all along
    assert state.severity_changes[0]["by"] == "li"
    found = check(events, at(9))
    assert [e["data"]["from"] for e in found] == [2]
    assert found[0]["data"]["at"] == iso(at(8))
    assert fold(events + found).summary()["restore_met"] is False  # the SLA deadline passed


def test_re_classification_to_a_level_already_escalated_from_does_not_escalate_twice() -> None:
    events = run_checks([opened(3)], [at(13)])  # 3 → 2 at 12h
    events.append(ev("severity-changed", at(13), "li", **{"from": 2, "to": 3, "reason": "x"}))
    # level 3's clock from detection passed at 12h, and that deadline has its event already
    assert check(events, at(14)) == []
    assert fold(events).next_due() is None


def test_restoring_stops_the_clocks() -> None:
    events = [
        opened(2),
        ev("run-attached", at(0.2), "zhang", run_id="R1", runbook="power-outage", at=iso(at(0.2))),
        ev("run-ended", at(3), run_id="R1", outcome="resolved", status="succeeded", at=iso(at(3))),
    ]
    state = fold(events)
    assert state.status == "restored" and state.restored_via == "run"
    assert state.next_due() is None and state.clock_due is None
    assert overdue(state, at(1000)) == []
    summary = state.summary()
    assert summary["respond_s"] == 0.2 * 3600 and summary["respond_met"] is True
    assert summary["restore_s"] == 3 * 3600 and summary["restore_met"] is True
    assert summary["runs"][0]["outcome"] == "resolved"


def test_a_late_restore_misses_the_sla_and_an_unacknowledged_incident_misses_respond() -> None:
    events = run_checks([opened(2)], [at(2)])
    assert [e["data"]["clock"] for e in events[1:]] == ["respond"]
    events.append(ev("restored", at(9), "li", at=iso(at(9)), by="li", via="resolve"))
    summary = fold(events).summary()
    assert summary["respond_met"] is False and summary["restore_met"] is False
    assert summary["acked_at"] == iso(at(9))  # restoring acknowledges too, late
    assert summary["restored_by"] == "li" and summary["restored_via"] == "resolve"


def test_no_fault_when_every_run_found_nothing() -> None:
    events = [
        opened(3),
        ev("run-attached", at(0.1), "zhang", run_id="R1", at=iso(at(0.1))),
        ev("run-ended", at(0.5), run_id="R1", outcome="no-fault", status="ok", at=iso(at(0.5))),
    ]
    state = fold(events)
    assert state.status == "no-fault" and state.next_due() is None
    assert overdue(state, at(1000)) == []
    events.append(ev("run-attached", at(1), "zhang", run_id="R2", at=iso(at(1))))
    assert fold(events).status == "open"  # a run still going: not decided yet


def test_a_resolved_incident_has_no_next_due() -> None:
    events = [
        opened(1),
        ev(
            "resolved",
            at(2),
            "li",
            at=iso(at(2)),
            by="li",
            cause="UPS battery",
            prevention="replace batteries yearly",
        ),
    ]
    state = fold(events)
    assert state.status == "resolved" and state.next_due() is None
    summary = state.summary()
    assert summary["restored_at"] == iso(at(2)) and summary["resolved_by"] == "li"
    assert summary["cause"] == "UPS battery" and summary["restore_met"] is True
    assert overdue(state, at(1000)) == []


def test_vendor_case_fields_merge_over_earlier_ones() -> None:
    events = [
        opened(2, vendor=VENDOR),
        ev("vendor-case", at(1), case="V-1", reported_at=iso(at(1))),
        ev("vendor-case", at(2), accepted_at=iso(at(1.5)), note="engineer on the way"),
        ev("vendor-case", at(3), case="V-1b", on_site_at=iso(at(2.5))),
    ]
    vendor = fold(events).summary()["vendor"]
    assert vendor == {
        "case": "V-1b",
        "name": "Vendor Co.",
        "reported_at": iso(at(1)),
        "accepted_at": iso(at(1.5)),
        "on_site_at": iso(at(2.5)),
        "restored_at": None,
        "limits": {"accept": 3600.0, "on_site": 7200.0, "restore": 8 * 3600.0},
    }
    assert fold(events[:1]).summary()["vendor"] is None  # no case, no vendor figures


def test_stored_events_and_dicts_fold_alike() -> None:
    dicts = [opened(3), ev("note", at(1), "li", text="x")]
    stored = [
        RunEvent(
            run_id="INC-1",
            seq=i + 1,
            ts=d["ts"],
            kind=d["kind"],
            actor=d["actor"],
            step_id=None,
            host=None,
            data=d["data"],
            prev_hash="0",
            hash="1",
        )
        for i, d in enumerate(dicts)
    ]
    assert fold(stored).summary() == fold(dicts).summary()
    assert fold(dicts).summary()["incident_id"] == "INC-1"


def test_a_level_without_a_restore_limit_has_no_live_deadline() -> None:
    limits = {**LIMITS, "4": {"respond": 3600.0}}
    state = fold([opened(4, limits=limits), ev("acknowledged", T0, at=iso(T0), by="x")])
    assert state.clock_due is None and state.next_due() is None
    assert overdue(state, at(10_000)) == []


@settings(max_examples=100, deadline=None)
@given(
    severity=st.integers(1, 4),
    restored=st.floats(0, 60, allow_nan=False),
    later=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=5),
)
def test_after_restoring_no_deadline_passes(
    severity: int, restored: float, later: list[float]
) -> None:
    events = run_checks([opened(severity)], [at(restored)])
    events.append(ev("restored", at(restored), "li", at=iso(at(restored)), by="li"))
    after = run_checks(events, [at(restored + h) for h in sorted(later)])
    assert after == events  # the clocks stopped
    assert fold(after).next_due() is None and fold(after).status == "restored"
    # every deadline recorded before had passed by the restore time
    assert all(k[2] <= iso(at(restored)) for k in deadline_keys(after))


@settings(max_examples=100, deadline=None)
@given(
    opening=st.integers(1, 4),
    reclassified=st.integers(1, 4),
    when=st.floats(0, 3, allow_nan=False),
)
def test_a_re_classification_counts_from_detection(
    opening: int, reclassified: int, when: float
) -> None:
    events = [
        opened(opening),
        ev("severity-changed", at(when), "li", **{"from": opening, "to": reclassified}),
    ]
    state = fold(events)
    limits = LIMITS[str(reclassified)]
    assert state.sla_level == state.level == reclassified
    assert state.respond_due == T0 + timedelta(seconds=limits["respond"])
    assert state.restore_due == T0 + timedelta(seconds=limits["restore"])
    assert state.clock_due == state.restore_due


def test_a_late_acknowledgement_leaves_the_respond_deadline_missed_once() -> None:
    late = [opened(2), ev("acknowledged", at(3), "li", at=iso(at(3)), by="li")]
    state = fold(late)
    assert state.next_due() == at(1)  # the passed respond deadline is still to be recorded
    found = check(late, at(3))
    assert [(e["kind"], e["data"]["clock"]) for e in found] == [("deadline-missed", "respond")]
    assert check(late + found, at(3)) == []  # once
    in_time = [opened(2), ev("acknowledged", at(0.5), "li", at=iso(at(0.5)), by="li")]
    assert check(in_time, at(3)) == []
    assert fold(in_time).next_due() == at(8)  # only the restore clock is left
