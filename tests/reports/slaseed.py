"""A seeded store of incidents for the SLA report, and the figures it must give, computed from
the seed's own parameters (never from the summaries the store keeps).

``plans(n, seed, now)`` draws each incident's parameters: its SLA level (some opened at
another level and re-classified), the detection time (near midnight in one of several time
zones), how and when it was first acknowledged, whether one or two runs worked on it (the
first of two interrupted and resumed, recorded as real run records), how and when it was
restored, automatic and run-made escalations, a vendor case, no-fault incidents. ``seed``
writes them through the store's API, every incident's events in one append (times of the
past are carried in the events' data, as `--detected-at` and `--at` do). ``expected``
computes the report's figures from the plans alone.

The benchmark (benchmarks/sla.py) seeds its 10,000 incidents with this module too, so it
measures data this test proves the report right on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from respond.clock import iso
from respond.events import EventDraft, EventKind

H = 3600.0
# level → limits (s); respond differs per level so a wrong level shows in the figures
LIMITS: dict[int, dict[str, float]] = {
    1: {"respond": 0.5 * H, "restore": 4 * H},
    2: {"respond": 1 * H, "restore": 8 * H},
    3: {"respond": 1 * H, "restore": 12 * H},
    4: {"respond": 2 * H, "restore": 24 * H},
}
VENDOR: dict[str, Any] = {
    "name": "Vendor Co. 维保厂商",
    "accept": 1 * H,
    "on_site": 2 * H,
    "restore": {"1": 4 * H, "2": 8 * H, "3": 12 * H, "4": 24 * H},
}
# detections cluster around these zones' midnights, so a date range in the wrong zone shows
ZONES = ("Asia/Shanghai", "America/New_York", "UTC", "Europe/Berlin")
SITES = ("主机房 main room", "灾备机房 DR room", "Branch office")


@dataclass
class VendorPlan:
    reported: float  # seconds after detection
    accepted: float | None
    on_site: float | None
    restored: float | None  # the vendor's own restore time (None: use the incident's)


@dataclass
class Plan:
    incident_id: str
    detected: datetime
    level: int  # the SLA level (after any re-classification)
    initial: int  # the opening severity
    respond_by: str | None  # ack | run | None
    respond_after: float | None
    runs: int  # 0, 1 or 2 attached runs
    resumed: bool  # the first run was interrupted and resumed
    restore_via: str | None  # run | restored | resolved | None
    restore_after: float | None
    no_fault: bool
    auto_escalations: int = 0
    manual_escalation: bool = False
    respond_miss_recorded: bool = False
    vendor: VendorPlan | None = None
    run_ids: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- drawing


def _detected(rng: random.Random, first_day: datetime, days: int) -> datetime:
    zone = ZoneInfo(rng.choice(ZONES))
    day = (first_day + timedelta(days=rng.randrange(days))).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    # within three hours either side of that zone's midnight, to the second
    return (midnight + timedelta(seconds=rng.randint(-3 * 3600, 3 * 3600))).astimezone(UTC)


def _plan(i: int, rng: random.Random, when: datetime, now: datetime) -> Plan:
    level = rng.choice((1, 2, 3, 4))
    initial = rng.choice((1, 2, 3, 4)) if rng.random() < 0.1 else level
    no_fault = rng.random() < 0.05
    limits = LIMITS[level]
    respond_by = None if rng.random() < 0.1 and not no_fault else rng.choice(("ack", "run"))
    respond_after = None if respond_by is None else rng.uniform(60, 2.5 * limits["respond"])
    runs = 0 if respond_by is None else (1 if respond_by == "run" else rng.choice((0, 1)))
    if respond_by is not None and rng.random() < 0.15:
        runs = 2
    restore_via = restore_after = None
    if respond_by is not None and not no_fault and rng.random() < 0.85:
        restore_via = "run" if runs else rng.choice(("restored", "resolved"))
        assert respond_after is not None
        restore_after = respond_after + rng.uniform(600, 1.6 * limits["restore"])
        restore_after += 2400 if runs == 2 else 0  # after the second run started
    plan = Plan(
        incident_id=f"INC-{when:%Y%m%dT%H%M%SZ}-{i:04x}",
        detected=when,
        level=level,
        initial=initial,
        respond_by=respond_by,
        respond_after=respond_after,
        runs=runs if not no_fault else max(runs, 1),
        resumed=runs == 2 and rng.random() < 0.5,
        restore_via=restore_via,
        restore_after=restore_after,
        no_fault=no_fault,
    )
    if no_fault and plan.respond_by is None:
        plan.respond_by, plan.respond_after = "run", rng.uniform(60, H)
    _draw_escalations(plan, rng, now)
    if not no_fault and rng.random() < 0.25:
        plan.vendor = _draw_vendor(plan, rng)
    return plan


def _draw_escalations(plan: Plan, rng: random.Random, now: datetime) -> None:
    """Automatic escalations: each live restore deadline that passed before restoration (or
    now), one level at a time, as the schedule or a run's watcher records them."""
    if plan.no_fault:
        return
    end = plan.detected + timedelta(seconds=plan.restore_after) if plan.restore_after else now
    level, since = plan.level, plan.detected
    while level > 1:
        due = since + timedelta(seconds=LIMITS[level]["restore"])
        if due >= end:
            break
        plan.auto_escalations += 1
        level, since = level - 1, due
    if plan.auto_escalations == 0 and plan.level > 1 and plan.runs and rng.random() < 0.2:
        plan.manual_escalation = True  # a step's on_failure: escalate
    plan.respond_miss_recorded = plan.respond_by is None and rng.random() < 0.5


def _draw_vendor(plan: Plan, rng: random.Random) -> VendorPlan:
    reported = rng.uniform(300, 2 * H)
    accepted = reported + rng.uniform(60, 2 * H) if rng.random() < 0.9 else None
    on_site = None
    if accepted is not None and rng.random() < 0.8:
        on_site = accepted + rng.uniform(60, 3 * H)
    restored = None
    if on_site is not None and rng.random() < 0.5:
        restored = on_site + rng.uniform(600, 10 * H)
    return VendorPlan(reported, accepted, on_site, restored)


def plans(n: int, seed: int, now: datetime, *, first_day: datetime, days: int) -> list[Plan]:
    """``n`` incidents detected over ``days`` days from ``first_day``; the last 2 % are
    recent (detected within the hour before ``now``), so some clocks are still pending."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i >= n - max(1, n // 50):
            out.append(_recent(i, now - timedelta(seconds=rng.randint(60, 600))))
        else:
            out.append(_plan(i, rng, _detected(rng, first_day, days), now))
    return out


def _recent(i: int, when: datetime) -> Plan:
    """Detected minutes ago, nobody has answered yet: both clocks pending."""
    return Plan(
        incident_id=f"INC-{when:%Y%m%dT%H%M%SZ}-{i:04x}",
        detected=when,
        level=1 + i % 4,
        initial=1 + i % 4,
        respond_by=None,
        respond_after=None,
        runs=0,
        resumed=False,
        restore_via=None,
        restore_after=None,
        no_fault=False,
    )


# --------------------------------------------------------------------------- writing


def _at(plan: Plan, seconds: float) -> str:
    return iso(plan.detected + timedelta(seconds=seconds))


def _opened(plan: Plan) -> EventDraft:
    return EventDraft(
        kind=EventKind.INCIDENT_OPENED,
        actor="Zhang Wei",
        data={
            "detected_at": iso(plan.detected),
            "severity": plan.initial,
            "title": f"UPS 告警 / UPS alarm #{plan.incident_id[-4:]}",
            "runbook": "power-outage",
            "version": "1.2.0",
            "site": SITES[int(plan.incident_id[-4:], 16) % len(SITES)],
            "reported_by": "值班员 Li",
            "description": "机房断电 mains lost",
            "limits": {str(k): dict(v) for k, v in LIMITS.items()},
            "vendor": dict(VENDOR),
        },
    )


def _response_events(plan: Plan) -> list[tuple[float, EventDraft]]:
    timed: list[tuple[float, EventDraft]] = []
    if plan.initial != plan.level:
        data = {"from": plan.initial, "to": plan.level, "reason": "re-classified", "at": None}
        data["at"] = _at(plan, 30)
        timed.append((30, EventDraft(kind=EventKind.SEVERITY_CHANGED, actor="Li", data=data)))
    if plan.respond_after is None:
        return timed
    start = plan.respond_after
    if plan.respond_by == "ack":
        ack = {"at": _at(plan, start), "by": "Li", "note": "on my way"}
        timed.append((start, EventDraft(kind=EventKind.ACKNOWLEDGED, actor="Li", data=ack)))
        start += 120
    for n, run_id in enumerate(plan.run_ids):
        at = start + n * 1800
        data = {"run_id": run_id, "runbook": "power-outage", "version": "1.2.0", "at": None}
        data["at"] = _at(plan, at)
        timed.append((at, EventDraft(kind=EventKind.RUN_ATTACHED, actor="Li", data=data)))
    return timed


def _run_end_events(plan: Plan) -> list[tuple[float, EventDraft]]:
    timed: list[tuple[float, EventDraft]] = []
    if not plan.run_ids or plan.respond_after is None:
        return timed
    start = plan.respond_after + (120 if plan.respond_by == "ack" else 0)
    for n, run_id in enumerate(plan.run_ids):
        last = n == len(plan.run_ids) - 1
        if plan.no_fault:
            outcome, at = "no-fault", start + n * 1800 + 600
        elif last and plan.restore_via == "run":
            assert plan.restore_after is not None
            outcome, at = "resolved", plan.restore_after
        elif not last:
            outcome, at = "unresolved", start + n * 1800 + 900
        else:
            continue  # still being worked on: the run has not ended
        data = {"run_id": run_id, "outcome": outcome, "status": "succeeded", "reason": ""}
        data["at"] = _at(plan, at)
        timed.append((at, EventDraft(kind=EventKind.RUN_ENDED, data=data)))
    return timed


def _restore_events(plan: Plan) -> list[tuple[float, EventDraft]]:
    if plan.restore_after is None or plan.restore_via == "run":
        return []
    at = plan.restore_after
    if plan.restore_via == "restored":
        data = {"at": _at(plan, at), "by": "Li", "via": "resolve"}
        return [(at, EventDraft(kind=EventKind.RESTORED, actor="Li", data=data))]
    data = {"at": _at(plan, at), "by": "Li", "cause": "UPS 电池老化", "prevention": "换电池"}
    return [(at, EventDraft(kind=EventKind.RESOLVED, actor="Li", data=data))]


def _escalation_events(plan: Plan) -> list[tuple[float, EventDraft]]:
    timed: list[tuple[float, EventDraft]] = []
    level, since = plan.level, 0.0
    for _ in range(plan.auto_escalations):
        due = since + LIMITS[level]["restore"]
        data = {
            "from": level,
            "to": level - 1,
            "reason": f"not restored within {LIMITS[level]['restore'] / H:.0f}h at level {level}",
            "at": _at(plan, due),
            "automatic": True,
            "deadline": {"clock": "restore", "level": level, "due": _at(plan, due)},
        }
        timed.append((due, EventDraft(kind=EventKind.ESCALATED, data=data)))
        level, since = level - 1, due
    if plan.manual_escalation:
        assert plan.respond_after is not None
        at = plan.respond_after + 300
        data = {"from": level, "to": level - 1, "reason": "step failed", "at": _at(plan, at)}
        data.update(automatic=False, deadline=None, run_id=plan.run_ids[0], step_id="ups")
        timed.append((at, EventDraft(kind=EventKind.ESCALATED, actor="Li", data=data)))
    if plan.respond_miss_recorded:
        due = LIMITS[plan.level]["respond"]
        data = {"clock": "respond", "level": plan.level, "due": _at(plan, due)}
        timed.append((due, EventDraft(kind=EventKind.DEADLINE_MISSED, data=data)))
    return timed


def _vendor_events(plan: Plan) -> list[tuple[float, EventDraft]]:
    v = plan.vendor
    if v is None:
        return []
    first = {"case": f"VC-{plan.incident_id[-4:]}", "name": VENDOR["name"]}
    first["reported_at"] = _at(plan, v.reported)
    timed = [(v.reported, EventDraft(kind=EventKind.VENDOR_CASE, actor="Li", data=first))]
    later = {
        key: _at(plan, value)
        for key, value in (
            ("accepted_at", v.accepted),
            ("on_site_at", v.on_site),
            ("restored_at", v.restored),
        )
        if value is not None
    }
    if later:
        at = max(v.accepted or 0, v.on_site or 0, v.restored or 0)
        timed.append((at, EventDraft(kind=EventKind.VENDOR_CASE, actor="Li", data=later)))
    return timed


def incident_events(plan: Plan) -> list[EventDraft]:
    """Every event of the incident's record, in the order they happened."""
    timed = [
        *_response_events(plan),
        *_escalation_events(plan),
        *_run_end_events(plan),
        *_restore_events(plan),
        *_vendor_events(plan),
    ]
    timed.sort(key=lambda pair: pair[0])
    return [_opened(plan), *(draft for _, draft in timed)]


def _write_runs(store: Any, plan: Plan) -> None:
    """The incident's runs as run records: the first of two was interrupted and resumed."""
    for n, run_id in enumerate(plan.run_ids):
        meta = {"runbook": "power-outage", "version": "1.2.0", "severity": plan.level}
        store.create_run(run_id, {**meta, "incident": plan.incident_id, "drill": False})
        started = EventDraft(
            kind=EventKind.RUN_STARTED, data={**meta, "incident": plan.incident_id}
        )
        drafts = [started]
        if n == 0 and plan.resumed:
            resumed = {"completed_steps": ["diagnose"], "in_flight": None}
            drafts.append(EventDraft(kind=EventKind.RUN_RESUMED, data=resumed))
        outcome = "resolved" if n == len(plan.run_ids) - 1 and plan.restore_via == "run" else None
        if plan.no_fault:
            outcome = "no-fault"
        if outcome or n < len(plan.run_ids) - 1:
            data = {"status": "succeeded", "outcome": outcome or "unresolved", "reason": ""}
            drafts.append(EventDraft(kind=EventKind.RUN_FINISHED, data=data))
        store.append(run_id, drafts)


def seed(store: Any, all_plans: Sequence[Plan], *, drills: int = 0) -> list[str]:
    """Write the incidents (and ``drills`` drill runs) to ``store``; the drill run ids."""
    for plan in all_plans:
        plan.run_ids = [f"{plan.incident_id[4:]}-r{n}" for n in range(plan.runs)]
        meta = {
            "record": "incident",
            "title": f"UPS 告警 / UPS alarm #{plan.incident_id[-4:]}",
            "runbook": "power-outage",
            "version": "1.2.0",
            "detected_at": iso(plan.detected),
            "severity": plan.initial,
        }
        store.create_run(plan.incident_id, meta)
        _write_runs(store, plan)
        store.append(plan.incident_id, incident_events(plan))
    drill_ids = []
    for n in range(drills):
        run_id = f"drill-{n:03d}"
        meta = {"runbook": "power-outage", "version": "1.2.0", "severity": 3, "drill": True}
        store.create_run(run_id, meta)
        finished = {"status": "succeeded", "outcome": "resolved" if n % 3 else "unresolved"}
        store.append(
            run_id,
            [
                EventDraft(kind=EventKind.RUN_STARTED, data={**meta, "title": "演练 drill"}),
                EventDraft(kind=EventKind.RUN_FINISHED, data=finished),
            ],
        )
        drill_ids.append(run_id)
    return drill_ids


# --------------------------------------------------------------------------- expecting


def _clock(
    seconds: float | None, limit: float, due: datetime, now: datetime, into: dict[str, Any]
) -> None:
    if seconds is not None:
        into["met" if seconds <= limit else "missed"] += 1
        into["times"].append(seconds)
    else:
        into["missed" if now > due else "pending"] += 1


def _new() -> dict[str, Any]:
    return {"met": 0, "missed": 0, "pending": 0, "times": []}


def _vendor_clock(
    plan: Plan, stop: float | None, limit: float, now: datetime, into: dict[str, Any]
) -> None:
    assert plan.vendor is not None
    seconds = None if stop is None else stop - plan.vendor.reported
    due = plan.detected + timedelta(seconds=plan.vendor.reported + limit)
    _clock(seconds, limit, due, now, into)


def expected(
    all_plans: Sequence[Plan], now: datetime, start: datetime | None, end: datetime | None
) -> dict[int, dict[str, Any]]:
    """Per SLA level: incidents, clocks (met/missed/pending and measured times), escalations
    and vendor clocks, from the plans alone."""
    out: dict[int, dict[str, Any]] = {}
    for p in all_plans:
        if p.no_fault or (start and p.detected < start) or (end and p.detected >= end):
            continue
        row = out.setdefault(
            p.level,
            {"incidents": 0, "respond": _new(), "restore": _new(), "auto": 0, "escalated": 0}
            | {"cases": 0, "accept": _new(), "on_site": _new(), "v_restore": _new()},
        )
        row["incidents"] += 1
        limits = LIMITS[p.level]
        for clock, after in (("respond", p.respond_after), ("restore", p.restore_after)):
            due = p.detected + timedelta(seconds=limits[clock])
            _clock(after, limits[clock], due, now, row[clock])
        row["auto"] += p.auto_escalations
        row["escalated"] += 1 if (p.auto_escalations or p.manual_escalation) else 0
        if p.vendor is not None:
            v = p.vendor
            row["cases"] += 1
            _vendor_clock(p, v.accepted, VENDOR["accept"], now, row["accept"])
            _vendor_clock(p, v.on_site, VENDOR["on_site"], now, row["on_site"])
            restored = v.restored if v.restored is not None else p.restore_after
            limit = VENDOR["restore"][str(p.level)]
            _vendor_clock(p, restored, limit, now, row["v_restore"])
    return out
