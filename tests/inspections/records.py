"""Inspection runs recorded straight into a real store, as `respond inspect run` records
them (the spec's run meta with ``inspection``; one ``host-result`` per host and check whose
``data.data.check`` is the graded result), at chosen times, for the report and log tests.

``record_inspection(store, clock, results, start=...)`` writes one run; ``Graded`` says what
one check on one host gave. ``write_project(root)`` lays out respond.yaml and an inventory
whose ``ansible_password`` is ``SECRET`` (a report must mask it wherever it shows up).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from respond.checks.result import CheckResult, Perfdatum, State
from respond.clock import ManualClock, iso
from respond.events import EventDraft, EventKind
from respond.timeline import Store, new_run_id

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
SECRET = "Canary-inspect-S3cret-7731"
OPERATOR = "王芳"
TITLE = "日常巡检 / Daily inspection"

INVENTORY = f"""all:
  children:
    servers:
      hosts:
        db1: {{ansible_host: 127.0.0.1, ansible_password: "{SECRET}"}}
        web1: {{ansible_host: 127.0.0.1}}
    power:
      hosts:
        ups1: {{ansible_host: 127.0.0.1}}
"""

INSPECTION = f"""inspection: daily
version: 1.0.0
title: "{TITLE}"
checks:
  - {{id: disk, check: disk, targets: servers, title: "磁盘空间 / Disk space", warn: "80", crit: "90"}}
  - {{id: load, check: load, targets: servers}}
  - {{id: ups, check: ups, targets: power, title: "UPS 电池 / UPS battery"}}
"""

CHECKS: tuple[dict[str, Any], ...] = (
    {
        "id": "disk",
        "check": "disk",
        "targets": "servers",
        "warn": "80",
        "crit": "90",
        "args": {},
        "title": "磁盘空间 / Disk space",
    },
    {"id": "load", "check": "load", "targets": "servers", "warn": None, "crit": None, "args": {}},
    {
        "id": "ups",
        "check": "ups",
        "targets": "power",
        "warn": None,
        "crit": None,
        "args": {},
        "title": "UPS 电池 / UPS battery",
    },
)
HOSTS = {"disk": ("db1", "web1"), "load": ("db1", "web1"), "ups": ("ups1",)}


@dataclass(frozen=True)
class Graded:
    """What one check on one host gave."""

    check_id: str
    host: str
    result: CheckResult
    status: str = "ok"
    error: str | None = None


def disk(host: str, used: float, *, summary: str | None = None) -> Graded:
    state = State.CRITICAL if used > 90 else State.WARNING if used > 80 else State.OK
    text = summary or f"DISK {state.word} - / {used:g}% used"
    advice = None if state is State.OK else "Free space: rotate logs, remove old backups."
    result = CheckResult(
        state=state,
        summary=text,
        value=used,
        unit="%",
        warn="80",
        crit="90",
        perfdata=(Perfdatum("/", used, "%", "80", "90", 0, 100),),
        details=(f"/ {used:g}% used",),
        advice=advice,
    )
    return Graded("disk", host, result)


def load(host: str, per_cpu: float) -> Graded:
    state = State.CRITICAL if per_cpu > 4 else State.WARNING if per_cpu > 2 else State.OK
    result = CheckResult(
        state=state,
        summary=f"LOAD {state.word} - load average per CPU {per_cpu:g}",
        value=per_cpu,
        warn="2",
        crit="4",
        advice=None if state is State.OK else "Find the busy processes (top) and stop runaways.",
    )
    return Graded("load", host, result)


def ups(host: str, minutes: float, *, on_battery: bool = False) -> Graded:
    if on_battery:
        state, text = (
            State.CRITICAL,
            f"UPS CRITICAL - on battery (OB DISCHRG), {minutes:g} min left",
        )
    else:
        state, text = State.OK, f"UPS OK - on line, {minutes:g} min runtime"
    result = CheckResult(
        state=state,
        summary=text,
        value=minutes,
        unit="min",
        warn="15:",
        crit="5:",
        advice="Mains power lost: start the power-outage runbook." if on_battery else None,
    )
    return Graded("ups", host, result)


def unreachable(check_id: str, host: str) -> Graded:
    """A host the check could not read: the step failed, the grade UNKNOWN."""
    result = CheckResult(
        state=State.UNKNOWN,
        summary=f"{check_id.upper()} UNKNOWN - connection refused",
        advice="Check that the host is up and respond can log in to it.",
    )
    return Graded(check_id, host, result, status="failed", error="connection refused")


def healthy() -> list[Graded]:
    return [
        disk("db1", 41),
        disk("web1", 55),
        load("db1", 0.2),
        load("web1", 0.4),
        ups("ups1", 42),
    ]


@dataclass
class Recorded:
    run_id: str
    start: datetime
    at: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (check, host) → time


def write_project(root: Path) -> Path:
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    (root / "inspections").mkdir(exist_ok=True)
    (root / "inventory" / "lab.yaml").write_text(INVENTORY, encoding="utf-8")
    (root / "inspections" / "daily.yaml").write_text(INSPECTION, encoding="utf-8")
    return root


def clock_on_store(monkeypatch: Any, start: datetime = START) -> ManualClock:
    """A ManualClock that also gives the store its event times."""
    manual = ManualClock(start)
    monkeypatch.setattr("respond.timeline.store.utc_now", lambda: iso(manual.now()))
    return manual


def meta(name: str = "daily", *, occurrence: datetime | None = None) -> dict[str, Any]:
    sha = hashlib.sha256(INSPECTION.encode()).hexdigest()
    return {
        "runbook": name,
        "version": "1.0.0",
        "title": TITLE,
        "sha256": sha,
        "source": f"inspections/{name}.yaml",
        "runbook_text": INSPECTION,
        "params": {},
        "operator": OPERATOR,
        "severity": 4,
        "drill": False,
        "respond_version": "0.1.0",
        "inventory": "inventory/lab.yaml",
        "inventory_snapshot": {"db1": {"ansible_host": "127.0.0.1"}},
        "inspection": {
            "name": name,
            "version": "1.0.0",
            "sha256": sha,
            "title": TITLE,
            "occurrence": iso(occurrence) if occurrence else None,
            "checks": [dict(c) for c in CHECKS],
        },
    }


def record_inspection(
    store: Store,
    clock: ManualClock,
    results: Sequence[Graded],
    *,
    start: datetime = START,
    name: str = "daily",
    run_meta: dict[str, Any] | None = None,
) -> Recorded:
    """One inspection run: each check step in order, its hosts graded 2 s apart, the run
    ending no-fault when every result is OK, unresolved otherwise."""
    clock.set(start)
    rid = new_run_id(start)
    store.create_run(rid, run_meta or meta(name))
    rec = store.recorder(rid)
    recorded = Recorded(rid, start)
    started = {"runbook": name, "version": "1.0.0", "title": TITLE, "params": {}, "severity": 4}
    rec.record([EventDraft(kind=EventKind.RUN_STARTED, actor=OPERATOR, data=started)])
    offset = 1.0
    for check in CHECKS:
        mine = [g for g in results if g.check_id == check["id"]]
        if not mine:
            continue
        offset = _step(rec, clock, recorded, check, mine, offset)
    worst_ok = all(g.result.state is State.OK and g.status == "ok" for g in results)
    clock.set(start + timedelta(seconds=offset + 1))
    end = {"status": "succeeded", "outcome": "no-fault" if worst_ok else "unresolved"}
    rec.record([EventDraft(kind=EventKind.RUN_FINISHED, actor=OPERATOR, data=end)])
    return recorded


def _step(
    rec: Any,
    clock: ManualClock,
    recorded: Recorded,
    check: dict[str, Any],
    mine: Sequence[Graded],
    offset: float,
) -> float:
    step = str(check["id"])
    name = check.get("title") or f"{check['check']} check"
    clock.set(recorded.start + timedelta(seconds=offset))
    data = {
        "name": name,
        "kind": "check",
        "targets": check["targets"],
        "hosts": [g.host for g in mine],
    }
    rec.record([EventDraft(kind=EventKind.STEP_STARTED, step_id=step, data=data)])
    for g in mine:
        offset += 2
        when = recorded.start + timedelta(seconds=offset)
        clock.set(when)
        recorded.at[(step, g.host)] = when
        rec.record(
            [
                EventDraft(
                    kind=EventKind.HOST_RESULT, step_id=step, host=g.host, data=_host(g, step, when)
                )
            ]
        )
    offset += 1
    clock.set(recorded.start + timedelta(seconds=offset))
    done = {"status": "ok", "ok": len(mine), "failed": 0, "hosts": len(mine)}
    rec.record([EventDraft(kind=EventKind.STEP_FINISHED, step_id=step, data=done)])
    return offset


def _host(g: Graded, step: str, when: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": g.status,
        "attempts": 1,
        "duration_s": 0.5,
        "started": (when - timedelta(seconds=0.5)).isoformat(),
        "ended": when.isoformat(),  # as the engine writes it: +00:00, not Z
        "commands": [],
        "data": {"check": {"id": step, "name": step, **g.result.to_dict()}},
    }
    if g.error:
        data["error"] = g.error
    return data
