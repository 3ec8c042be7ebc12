"""The incident document an auditor receives, from a real incident recorded through the
incident book with two runs, on SQLite and PostgreSQL, rendered in headless Chromium: its
first screen answers who, what, when, where, which runbook version, the outcome and the SLA;
Chinese renders; a note added long after a run does not squash that run's chart; secrets
never appear; the verification of the incident and of each run is shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pagekit import VIEWPORT, measure

from respond.clock import ManualClock, iso
from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.incidents import book_for
from respond.incidents.book import IncidentBook
from respond.reports.incident import export_incident, incident_document
from respond.secrets import Masker
from respond.timeline import Store, new_run_id

DETECTED = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
POLICY = """project: test
signing_key: hmac:INCIDENT_DOC_KEY
severity:
  1: {respond: 1h, restore: 4h}
  2: {respond: 1h, restore: 8h}
  3: {respond: 1h, restore: 12h}
  4: {respond: 1h, restore: 24h}
channels:
  sms: {url: "json://127.0.0.1:9/refused"}
  log: {type: file, path: notices.log}
recipients:
  default: [sms, log]
  escalation: [sms, log]
vendor:
  name: "厂家 Vendor Co."
  accept: 1h
  on_site: 2h
  restore: {1: 4h, 2: 8h, 3: 12h, 4: 24h}
"""
CANARY = "CANARY-incident-doc-4471"
KEY = "d" * 32


@pytest.fixture
def shanghai(local_zone: Callable[[str], None]) -> None:
    """Local time is China Standard Time, as on the plans' machines."""
    local_zone("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """One clock for the book and for the store's event times."""
    manual = ManualClock(DETECTED + timedelta(minutes=1))
    monkeypatch.setattr("respond.timeline.store.utc_now", lambda: iso(manual.now()))
    return manual


@dataclass
class Incident:
    store: Store
    incident_id: str
    runs: list[str]


def _record_run(
    book: IncidentBook,
    clock: ManualClock,
    incident_id: str,
    *,
    version: str,
    operator: str,
    outcome: str,
    steps: list[tuple[str, str, float]],
    extra: tuple[EventDraft, ...] = (),
) -> str:
    """A run of the incident, attached at its start and ended through the book, its events
    recorded through the store as the engine records them (masked)."""
    store = book.store
    rid = new_run_id(clock.now())
    store.create_run(
        rid,
        {
            "runbook": "power-outage",
            "version": version,
            "title": "机房断电 Power outage",
            "operator": operator,
            "hostname": "ops-laptop",
            "severity": 2,
            "drill": False,
            "incident": incident_id,
            "params": {"token": "***"},
        },
    )
    book.attach(incident_id, rid, runbook="power-outage", version=version, operator=operator)
    rec = store.recorder(rid, Masker([CANARY]))
    started = {"runbook": "power-outage", "version": version, "severity": 2, "operator": operator}
    rec.record([EventDraft(kind=EventKind.RUN_STARTED, actor=operator, data=started)])
    for step_id, kind, seconds in steps:
        name = {"name": f"检查 {step_id}", "kind": kind}
        rec.record([EventDraft(kind=EventKind.STEP_STARTED, step_id=step_id, data=name)])
        clock.advance(seconds)
        done = {"status": "ok", "ok": 1}
        rec.record([EventDraft(kind=EventKind.STEP_FINISHED, step_id=step_id, data=done)])
    rec.record(list(extra))
    status = "succeeded" if outcome == "resolved" else "failed"
    reason = f"{outcome}: 见记录"
    end = {"status": status, "outcome": outcome, "reason": reason}
    rec.record([EventDraft(kind=EventKind.RUN_FINISHED, actor=operator, data=end)])
    book.run_ended(incident_id, rid, outcome=outcome, status=status, reason=reason)
    return rid


def _notice(step_id: str, message: str, attempts: list[tuple[str, bool]]) -> list[EventDraft]:
    """What a notify step leaves in a run's record: its result (with the text), then one
    event per channel it tried."""
    result = {"status": "ok", "data": {"message": message, "subject": "停电通知"}}
    drafts = [
        EventDraft(kind=EventKind.HOST_RESULT, step_id=step_id, host="localhost", data=result)
    ]
    for channel, ok in attempts:
        sent = {"channel": channel, "subject": "停电通知", "error": None if ok else "refused"}
        kind = EventKind.NOTIFICATION_SENT if ok else EventKind.NOTIFICATION_FAILED
        drafts.append(EventDraft(kind=kind, step_id=step_id, data=sent))
    return drafts


def build_incident(book: IncidentBook, clock: ManualClock) -> Incident:
    """Detected 09:30 CST at level 2; the first run (09:34) acknowledges it and ends
    unresolved; the vendor is called; at 17:30 the restore clock escalates it to level 1;
    the second run restores it at 17:42 (12 minutes late); a note on the first run comes
    hours after it ended; cause and prevention close the record at 18:00."""
    store = book.store
    iid = book.open(
        title="机房断电 Power outage",
        runbook="power-outage",
        version="1.2.0",
        scenario="power",
        severity=2,
        detected_at=DETECTED,
        reported_by="李明 (保安)",
        site="A栋机房",
        description="市电中断，UPS 告警。\nMains lost; UPS on battery.",
        operator="Zhang Wei (on-call)",
    )
    clock.set(DETECTED + timedelta(minutes=4))
    diagnosis = {"status": "ok", "data": {"verdict": "on-battery", "message": "电池剩余 40 分钟"}}
    text = f"机房断电，请到场。token={CANARY}"
    first = _record_run(
        book,
        clock,
        iid,
        version="1.2.0",
        operator="Zhang Wei (on-call)",
        outcome="unresolved",
        steps=[("ups", "ssh", 20.0), ("diag", "decide", 20.0), ("call", "notify", 20.0)],
        extra=(
            EventDraft(
                kind=EventKind.HOST_RESULT, step_id="diag", host="localhost", data=diagnosis
            ),
            *_notice("call", text, [("sms", False), ("log", True)]),
        ),
    )
    book.vendor_case(
        iid,
        by="Zhang Wei (on-call)",
        case="VC-2026-118",
        name="厂家 Vendor Co.",
        reported_at=DETECTED + timedelta(minutes=30),
        accepted_at=DETECTED + timedelta(hours=1),
        on_site_at=DETECTED + timedelta(hours=3, minutes=30),
    )
    clock.set(DETECTED + timedelta(hours=8, minutes=1))
    book.check_deadlines(iid)  # level 2's 8 h restore clock passed: escalated to level 1
    clock.set(DETECTED + timedelta(hours=8, minutes=5))
    second = _record_run(
        book,
        clock,
        iid,
        version="1.2.1",
        operator="Li Na 李娜",
        outcome="resolved",
        steps=[("swap", "ansible", 240.0), ("check", "ssh", 180.0)],
    )
    clock.set(DETECTED + timedelta(hours=8, minutes=20))
    late = EventDraft(kind=EventKind.NOTE, actor="王工", data={"text": "厂家已换电池"})
    store.append(first, [late])
    clock.set(DETECTED + timedelta(hours=8, minutes=30))
    book.resolve(
        iid,
        by="Wang Fang",
        cause="UPS 电池组老化 battery string worn out",
        prevention="每三年更换电池 replace batteries every 3 years",
    )
    return Incident(store, iid, [first, second])


@pytest.fixture
def incident(
    make_store: Callable[..., Store],
    project: Path,
    clock: ManualClock,
    shanghai: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Incident:
    monkeypatch.setenv("INCIDENT_DOC_KEY", KEY)
    store = make_store("hmac:INCIDENT_DOC_KEY")
    (project / "respond.yaml").write_text(POLICY, encoding="utf-8")
    return build_incident(book_for(store, load_config(project), clock=clock), clock)


def _rows(measured: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in measured["rows"]:
        found.setdefault(row["label"], row)
    return found


FIRST_SCREEN = {
    "Status / outcome": "resolved · last run ",
    "Operator(s)": "Zhang Wei (on-call), Li Na 李娜, Wang Fang",
    "Reported by": "李明 (保安)",
    "Site": "A栋机房",
    "Runbook(s)": "power-outage@1.2.0, power-outage@1.2.1",
    "Detected": "2026-12-02 09:30:00 CST (01:30:00Z)",
    "Acknowledged": "2026-12-02 09:34:00 CST (01:34:00Z)",
    "Restored": "2026-12-02 17:42:00 CST (09:42:00Z)",
    "Resolved": "2026-12-02 18:00:00 CST (10:00:00Z)",
    "Level": "1 now; SLA level 2 (opened at 2)",
    "SLA respond (within 1h)": "met: acknowledged 2026-12-02 09:34:00 CST (01:34:00Z), "
    "56m before the deadline",
    "SLA restore (within 8h)": "MISSED by 12m: restored 2026-12-02 17:42:00 CST (09:42:00Z)",
    "Escalations": "2 → 1 at 2026-12-02 17:30:00 CST (09:30:00Z) (automatic)",
}


def test_the_first_screen_answers_who_what_when_where_outcome_and_sla(
    incident: Incident, tmp_path: Path
) -> None:
    page = export_incident(incident.store, incident.incident_id, "html")
    measured = measure(page, tmp_path)
    assert measured["viewport"]["w"] == VIEWPORT[0]
    # the first screen: the 1280×800 screenshot, or less when the window shows less
    screen = min(VIEWPORT[1], measured["viewport"]["h"])
    rows = _rows(measured)
    for label, value in FIRST_SCREEN.items():
        row = rows[label]
        assert row["value"].startswith(value), (label, row["value"])
        assert row["box"]["y"] + row["box"]["h"] <= screen, (label, row["box"])
    assert rows["SLA restore (within 8h)"]["colour"] == "rgb(183, 28, 28)"  # missed: red
    assert rows["SLA respond (within 1h)"]["colour"] == "rgb(46, 125, 50)"  # met: green
    assert measured["cjk"]["drawn"], measured["cjk"]  # 机 drawn with a real glyph, not a box


def test_a_note_hours_after_a_run_does_not_squash_its_chart(
    incident: Incident, tmp_path: Path
) -> None:
    page = export_incident(incident.store, incident.incident_id, "html")
    first = measure(page, tmp_path)["charts"][0]
    left = min(b["x"] for b in first["bars"])
    right = max(b["x"] + b["w"] for b in first["bars"])
    assert (right - left) / first["plot_w"] > 0.95, first
    assert "厂家已换电池" in page  # the note itself is in the document


def test_the_document_holds_the_record_the_plans_ask_for(incident: Incident) -> None:
    store, iid = incident.store, incident.incident_id
    texts = {fmt: export_incident(store, iid, fmt) for fmt in ("md", "html", "json")}
    for fmt, text in texts.items():
        assert CANARY not in text, fmt
    md = texts["md"]
    for part in (
        "## Description\n\n市电中断，UPS 告警。\nMains lost; UPS on battery.",
        "## Cause\n\nUPS 电池组老化 battery string worn out",
        "## Prevention\n\n每三年更换电池 replace batteries every 3 years",
        "| **diag (decide)** | verdict on-battery: 电池剩余 40 分钟 |",
        "| **Accepted** | 2026-12-02 10:30:00 CST (02:30:00Z) — after 30m (promised 1h: met) |",
        "after 3h (promised 2h: MISSED by 1h)",
        "(01:35:00Z) · subject: 停电通知 · sms: FAILED (refused) → log: sent (fallback)\n"
        "\n  > 机房断电，请到场。token=***\n",
        f"(09:31:00Z) · to escalation [escalated] · subject: [respond] {iid} level 1: 故障升级 "
        "escalated · sms: FAILED (the channel refused or could not be reached) → log: sent "
        "(fallback)\n\n  > [A栋机房] ",
        "厂家已换电池",
    ):
        assert part in md, part
    doc = json.loads(texts["json"])
    assert doc["format"] == "respond-incident" and doc["incident_id"] == iid
    assert [a["run_id"] for a in doc["actions"]] == incident.runs
    assert [a["outcome"] for a in doc["actions"]] == ["unresolved", "resolved"]
    restore = next(c for c in doc["sla"]["clocks"] if c["clock"] == "restore")
    assert (restore["met"], restore["margin_s"]) == (False, -720.0)
    runs = doc["verification"]["runs"]
    assert [v["state"] for v in runs] == ["sealed", "sealed"], runs
    assert all(v["text"].startswith("intact, sealed by key ") for v in runs)
    # any run's id names its incident
    assert incident_document(store, incident.runs[1])["incident_id"] == iid


def test_a_run_export_of_an_incident_run_shows_the_incident(incident: Incident) -> None:
    from respond.cli.timeline import render

    md = render(incident.store, incident.runs[0], "md")
    assert f"| **Incident** | {incident.incident_id} — 机房断电 Power outage (resolved) |" in md
    assert "| **Reported by** | 李明 (保安) |" in md and "| **Site** | A栋机房 |" in md
    assert "| **restore (level 2, limit 8h)** | MISSED by 12m" in md
    assert "| **Case** | VC-2026-118 |" in md
    report = json.loads(render(incident.store, incident.runs[0], "json"))
    assert report["incident"]["incident_id"] == incident.incident_id
    assert report["report"]["site"] == "A栋机房"


def test_the_incident_record_itself_exports_readably(incident: Incident) -> None:
    from respond.cli.timeline import render

    md = render(incident.store, incident.incident_id, "md")
    assert "| **Outcome** | incident resolved |" in md  # not "interrupted": it has no end
    assert (
        "escalated 2 → 1 at 2026-12-02 17:30:00 CST (09:30:00Z) (automatic): not restored "
        "within 8h at level 2 |" in md
    )
    assert "| **restore (level 2, limit 8h)** | MISSED by 12m" in md
    record = incident_document(incident.store, incident.incident_id)["record"]
    opened = [r["what"] for r in record if r["kind"].startswith("notification-")][:2]
    assert opened == [
        "to default via sms [opened]: FAILED (the channel refused or could not be reached)",
        "to default via log [opened]: sent (fallback)",
    ]


def test_an_open_incident_without_runs_shows_its_clocks_pending(
    make_store: Callable[..., Store], project: Path, clock: ManualClock, shanghai: None
) -> None:
    store = make_store()
    book = book_for(store, load_config(project), clock=clock)
    iid = book.open(
        title="OA 系统故障",
        runbook="oa-down",
        version="1.0.0",
        scenario="application",
        severity=3,
        detected_at=DETECTED,
        reported_by=None,
        site=None,
        description=None,
        operator="Zhang Wei (on-call)",
    )
    doc = incident_document(store, iid)
    assert (doc["status"], doc["outcome"], doc["actions"]) == ("open", "open", [])
    md = export_incident(store, iid, "md")
    assert (
        "| **SLA respond (within 1h)** | pending: due 2026-12-02 10:30:00 CST (02:30:00Z) |" in md
    )
    assert "| **Reported by** | - |" in md and "| **Restored** | - |" in md
    assert "## Cause\n\n(not recorded yet)" in md
    assert export_incident(store, iid, "html").count("<svg") == 0
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        export_incident(store, iid, "pdf")
