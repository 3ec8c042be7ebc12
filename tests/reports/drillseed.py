"""A drill run recorded into a real store at chosen times, as the drill runner records one,
and the project around it (respond.yaml with levels, a runbook with a secret parameter, the
drill file), for the after-action report tests.

The times are chosen (the store's clock is a ManualClock): every figure a test expects is
computed from the offsets below, never read back from the report code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from respond.clock import ManualClock, iso
from respond.events import EventDraft, EventKind
from respond.secrets import Masker
from respond.timeline import Store, new_run_id

# 09:00 in Shanghai on 15 March: the drill's scheduled occurrence; the run starts 2 min later
OCCURRENCE = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
START = OCCURRENCE + timedelta(minutes=2)
SECRET = "Canary-drill-S3cret-9921"
LEAD_NAME = "张伟"
TITLE = "Q1 power outage drill / 一季度机房停电演练"
ORGANISATION = "信息管理科 Information Management"
RETENTION = "10 years (archive class: audit records)"

RESPOND_YAML = f"""project: drills
organisation: "{ORGANISATION}"
retention: "{RETENTION}"
severity:
  1: {{respond: 10m, restore: 1h}}
  2: {{respond: 1h, restore: 8h}}
  3: {{respond: 1h, restore: 12h}}
  4: {{respond: 1h, restore: 24h}}
"""
RUNBOOK = """runbook: power-outage
version: 1.2.0
title: "机房断电 Power outage"
scenario: power
severity: 1
params:
  site: {description: site, default: main}
  ups_password: {description: UPS web password, secret: true}
steps:
  - {id: ups-status, kind: ssh, targets: ups, command: "upsc ups@localhost"}
  - {id: decide-shed, kind: decide, when: "true"}
  - {id: shed-load, kind: ssh, targets: ups, command: "shed", confirm: "Shed load?"}
  - {id: vendor-call, kind: manual, prompt: "Vendor called?"}
  - {id: notify-leaders, kind: notify, message: "停电"}
"""
DRILL = f"""drill: q1-power
title: "{TITLE}"
runbook: power-outage
scenario: "Mains lost at 09:00; UPS on battery 电池供电"
schedule: {{cron: "0 9 15 3 *", timezone: Asia/Shanghai, start: "2025-01-01"}}
mode: lab
params: {{site: main, ups_password: "{SECRET}"}}
inject: [power-loss]
objectives:
  - respond: 2m
  - restore: level
  - {{step: shed-load, by: 10m}}
  - gates: answered
  - skips: reasoned
participants:
  - {{name: {LEAD_NAME}, role: lead, organisation: 信息管理科, contact: "138-0000-0000"}}
  - {{name: 李娜, role: operator}}
notify: [drill-sms]
planned: {{ups-status: 1m, decide-shed: 30s, shed-load: 4m}}
scope: "主机房 main room UPS and the non-critical racks; the utility feed is simulated"
safety: "Abort if a production rack loses power; rollback: restore the feed breaker"
"""


@dataclass
class SeededDrill:
    """The run and the offsets (seconds after START) its events were recorded at."""

    run_id: str
    start: datetime = START
    at: dict[str, float] = field(default_factory=dict)

    def ts(self, name: str) -> datetime:
        return self.start + timedelta(seconds=self.at[name])


def write_project(root: Path) -> Path:
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    (root / "drills").mkdir(exist_ok=True)
    (root / "respond.yaml").write_text(RESPOND_YAML, encoding="utf-8")
    (root / "runbooks" / "power-outage.yaml").write_text(RUNBOOK, encoding="utf-8")
    (root / "drills" / "q1-power.yaml").write_text(DRILL, encoding="utf-8")
    return root


def definition(text: str = DRILL) -> dict[str, Any]:
    """The definition as the drill runner records it: model dump, secrets masked."""
    import yaml

    from respond.drills.model import Drill

    drill = Drill.model_validate(yaml.safe_load(text))
    dumped: dict[str, Any] = drill.model_dump(mode="json", by_alias=True)
    masked: dict[str, Any] = Masker([SECRET]).mask(dumped)
    return masked


def record_drill(
    store: Store,
    clock: ManualClock,
    *,
    drill_text: str = DRILL,
    start: datetime = START,
    occurrence: datetime | None = OCCURRENCE,
) -> SeededDrill:
    """A lab drill of q1-power: inject at +0:05, ups-status +1:05..+2:05, decide-shed
    +2:10..+2:20, shed-load +2:30 (gate confirmed +2:50) ..+6:30, vendor-call skipped, the
    leaders told through drill-sms, the run ends resolved at +10:00."""
    clock.set(start)
    rid = new_run_id(start)
    seeded = SeededDrill(rid, start)
    store.create_run(rid, _meta(drill_text, occurrence))
    rec = store.recorder(rid, Masker([SECRET]))

    def put(name: str, offset: float, *drafts: EventDraft) -> None:
        clock.set(start + timedelta(seconds=offset))
        seeded.at[name] = offset
        rec.record(list(drafts))

    started = {
        "runbook": "power-outage",
        "version": "1.2.0",
        "severity": 1,
        "operator": LEAD_NAME,
        "params": {"site": "main", "ups_password": "***"},
        "drill": True,
        "drill_mode": "lab",
        "drill_name": "q1-power",
    }
    put("start", 0, _ev(EventKind.RUN_STARTED, actor=LEAD_NAME, data=started))
    inject = {"fault": "power-loss", "target": None, "duration": None, "applied": True}
    put("inject", 5, _ev(EventKind.DRILL_INJECT, data={**inject, "result": "ok"}))
    _steps(put)
    put("end", 600, _ev(EventKind.RUN_FINISHED, actor=LEAD_NAME, data=_END))
    return seeded


_END = {"status": "succeeded", "outcome": "resolved", "reason": "load shed, mains back"}


def _steps(put: Any) -> None:
    def started(step: str, kind: str, hosts: list[str]) -> EventDraft:
        data = {"name": step, "kind": kind, "hosts": hosts, "drill_mode": "run"}
        return _ev(EventKind.STEP_STARTED, step=step, data=data)

    def finished(step: str) -> EventDraft:
        return _ev(EventKind.STEP_FINISHED, step=step, data={"status": "ok", "ok": 1})

    out = {"status": "ok", "commands": [{"cmd": "upsc ups@localhost", "rc": 0, "stdout": "OB"}]}
    put("ups-status", 65, started("ups-status", "ssh", ["ups1"]))
    put(
        "ups-intent",
        66,
        _ev(
            EventKind.HOST_INTENT,
            step="ups-status",
            host="ups1",
            data={"commands": [f"upsc --password {SECRET} ups@localhost"]},
        ),
    )
    put("ups-result", 70, _ev(EventKind.HOST_RESULT, step="ups-status", host="ups1", data=out))
    put("ups-status-end", 125, finished("ups-status"))
    put("decide-shed", 130, started("decide-shed", "decide", []))
    verdict = {"status": "ok", "data": {"verdict": "shed", "message": "UPS on battery"}}
    put("decide-result", 135, _ev(EventKind.HOST_RESULT, step="decide-shed", data=verdict))
    put("decide-shed-end", 140, finished("decide-shed"))
    put("shed-load", 150, started("shed-load", "ssh", ["ups1"]))
    gate = {"text": "Shed load?", "by": "李娜"}
    put("gate", 170, _ev(EventKind.GATE_CONFIRMED, step="shed-load", actor="李娜", data=gate))
    put("shed-load-end", 390, finished("shed-load"))
    skip = {"reason": "vendor engineer already on site 厂家已到场"}
    put("skip", 395, _ev(EventKind.STEP_SKIPPED, step="vendor-call", data=skip))
    result = {
        "status": "ok",
        "data": {"message": "【演练 DRILL】 停电 power lost", "subject": "停电"},
    }
    sent = {"channel": "drill-sms", "recipient": "leaders", "subject": "停电"}
    put(
        "notify",
        400,
        _ev(EventKind.HOST_RESULT, step="notify-leaders", data=result),
        _ev(EventKind.NOTIFICATION_SENT, step="notify-leaders", data=sent),
    )


def _ev(
    kind: EventKind,
    *,
    step: str | None = None,
    host: str | None = None,
    actor: str = "respond",
    data: dict[str, Any],
) -> EventDraft:
    return EventDraft(kind=kind, step_id=step, host=host, actor=actor, data=data)


def _meta(drill_text: str, occurrence: datetime | None) -> dict[str, Any]:
    return {
        "runbook": "power-outage",
        "version": "1.2.0",
        "title": "机房断电 Power outage",
        "sha256": hashlib.sha256(RUNBOOK.encode()).hexdigest(),
        "runbook_text": RUNBOOK,
        "params": {"site": "main", "ups_password": "***"},
        "operator": LEAD_NAME,
        "hostname": "drill-host",
        "severity": 1,
        "drill": True,
        "respond_version": "0.1.0",
        "inventory": "inventory/lab.yaml",
        "inventory_snapshot": {"ups1": {"ansible_host": "127.0.0.1"}},
        "drill_mode": "lab",
        "drill_name": "q1-power",
        "drill_sha256": hashlib.sha256(drill_text.encode()).hexdigest(),
        "drill_definition": definition(drill_text),
        "drill_text": drill_text,
        "occurrence": iso(occurrence) if occurrence else None,
    }


def clock_on_store(monkeypatch: Any) -> ManualClock:
    """A ManualClock that also gives the store its event times."""
    manual = ManualClock(START)
    monkeypatch.setattr("respond.timeline.store.utc_now", lambda: iso(manual.now()))
    return manual
