"""The after-action document of a drill run recorded at chosen times into a real store
(SQLite and PostgreSQL): all 19 fields, the figures computed here from the times chosen
(drillseed), the markdown showing them, the fields only people can fill marked for the drill
lead, and no secret in any format."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from drillseed import (
    DRILL,
    LEAD_NAME,
    OCCURRENCE,
    ORGANISATION,
    RETENTION,
    SECRET,
    START,
    TITLE,
    SeededDrill,
    clock_on_store,
    record_drill,
    write_project,
)

from respond.clock import ManualClock, iso
from respond.config import ProjectConfig, load_config
from respond.events import EventDraft, EventKind
from respond.reports.drill import FIELDS, LEAD, document_sha256, drill_document
from respond.reports.drill_render import render
from respond.timeline import Store, open_store


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return clock_on_store(monkeypatch)


@pytest.fixture
def drill_project(project: Path) -> Path:
    return write_project(project)


@pytest.fixture
def config(drill_project: Path, backend: str) -> ProjectConfig:
    return load_config(drill_project)


@pytest.fixture
def opened(config: ProjectConfig) -> Iterator[Store]:
    store = open_store(config)
    yield store
    store.close()


def _offset(seeded: SeededDrill, a: str, b: str) -> float:
    return (seeded.ts(b) - seeded.ts(a)).total_seconds()


def test_all_19_fields_with_the_figures_of_the_record(
    opened: Store, config: ProjectConfig, clock: ManualClock
) -> None:
    seeded = record_drill(opened, clock)
    doc = drill_document(opened, seeded.run_id, config)
    fields = doc["fields"]
    assert list(fields) == [key for key, _ in FIELDS] and len(fields) == 19

    ident = fields["identification"]
    assert (ident["drill"], ident["title"], ident["run_id"]) == ("q1-power", TITLE, seeded.run_id)
    assert ident["organisation"] == ORGANISATION and ident["report_version"] == 1
    plan = fields["plan"]
    assert plan["delay_s"] == (START - OCCURRENCE).total_seconds() == 120
    assert plan["missed"] == []

    # the scorecard: t0 is the inject, every objective measured from it
    results = {r["kind"]: r for r in fields["objectives"]["scorecard"]["results"]}
    expected = {
        "respond": _offset(seeded, "inject", "ups-status"),
        "restore": _offset(seeded, "inject", "end"),
        "step": _offset(seeded, "inject", "shed-load-end"),
    }
    for kind, seconds in expected.items():
        assert results[kind]["measured_s"] == pytest.approx(seconds), kind
        assert results[kind]["status"] == "met", kind
    assert results["gates"]["status"] == results["skips"]["status"] == "met"
    assert fields["objectives"]["passed"] is True
    assert fields["objectives"]["level_targets"] == {"respond_s": 600.0, "restore_s": 3600.0}

    steps = {s["step_id"]: s for s in fields["timeline"]["steps"]}
    for step, planned in (("ups-status", 60), ("decide-shed", 30), ("shed-load", 240)):
        assert steps[step]["planned_s"] == planned
        assert steps[step]["actual_s"] == pytest.approx(_offset(seeded, step, f"{step}-end"))
        assert steps[step]["offset_s"] == pytest.approx(_offset(seeded, "inject", step))
    assert steps["ups-status"]["commands"] == ["upsc --password *** ups@localhost"]
    assert steps["ups-status"]["exit"] == [0]
    assert steps["ups-status"]["output_sha256"] == [hashlib.sha256(b"OB").hexdigest()]
    assert steps["shed-load"]["decisions"] == ["gate confirmed by 李娜"]

    measured = fields["measurements"]
    assert measured["respond_s"] == pytest.approx(expected["respond"])
    assert measured["restore_s"] == pytest.approx(expected["restore"])
    # the diagnosis: the decide step's finish (no objective asks for it; it is measured)
    assert measured["diagnose_s"] == pytest.approx(_offset(seeded, "inject", "decide-shed-end"))
    assert (measured["objectives_met"], measured["objectives_total"]) == (5, 5)
    assert measured["outcome"] == "resolved" and measured["steps_failed"] == 0

    assert fields["scenario"]["injects"][0]["fault"] == "power-loss"
    assert fields["scenario"]["planned_steps_s"] == {
        "ups-status": 60,
        "decide-shed": 30,
        "shed-load": 240,
    }
    assert [p["name"] for p in fields["participants"]["people"]] == [LEAD_NAME, "李娜"]
    sent = fields["notifications"]["sent"][0]
    assert (sent["channel"], sent["message"]) == ("drill-sms", "【演练 DRILL】 停电 power lost")
    snapshot = {"ups1": {"ansible_host": "127.0.0.1"}}
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    assert fields["artifacts"]["inventory_sha256"] == hashlib.sha256(canonical).hexdigest()
    skipped = fields["observations"]["skipped"]
    assert skipped == [
        {"step_id": "vendor-call", "reason": "vendor engineer already on site 厂家已到场"}
    ]
    assert fields["integrity"]["verify"]["ok"] is True
    assert fields["integrity"]["retention"] == RETENTION
    for key in ("critical", "hotwash"):
        assert fields[key] == LEAD
    assert fields["signoff"] == {"signoff": LEAD, "distribution": LEAD}
    upcoming = fields["next"]["upcoming"]
    assert upcoming and upcoming[0]["drill"] == "q1-power"
    assert fields["next"]["coverage"]["scenarios"] == ["power"]

    md = render(doc, {"sha256": document_sha256(doc), "version": 1}, "md")
    for n, (_, title) in enumerate(FIELDS, start=1):
        assert f"## {n}. {title}" in md
    assert TITLE in md and "1m (60 s)" in md and "4m (240 s)" in md and LEAD in md


def test_missed_occurrences_and_the_trend_of_earlier_runs(
    opened: Store, config: ProjectConfig, clock: ManualClock
) -> None:
    """A monthly drill from December: December and February were never taken on, January was
    claimed but could not run (the reason recorded); March ran twice, the report of the second
    run shows the first in its trend and not itself."""
    monthly = DRILL.replace('cron: "0 9 15 3 *"', 'cron: "0 9 15 * *"').replace(
        'start: "2025-01-01"', 'start: "2025-12-01"'
    )
    january = "2026-01-15T01:00:00Z"  # written without microseconds: the same time
    assert opened.claim_occurrence("q1-power", january, "cron")
    opened.occurrence_run("q1-power", january, None, "the lab could not start")
    first = record_drill(opened, clock, drill_text=monthly)
    later = START + timedelta(hours=3)
    second = record_drill(opened, clock, drill_text=monthly, start=later, occurrence=None)
    fields = drill_document(opened, second.run_id, config)["fields"]
    assert fields["plan"]["missed"] == [
        {"occurrence": iso(datetime(2025, 12, 15, 1, tzinfo=UTC)), "reason": "not run"},
        {
            "occurrence": iso(datetime(2026, 1, 15, 1, tzinfo=UTC)),
            "reason": "the lab could not start",
        },
        {"occurrence": iso(datetime(2026, 2, 15, 1, tzinfo=UTC)), "reason": "not run"},
    ]
    assert fields["plan"]["planned"] is None and "by hand" in fields["plan"]["text"]
    assert [row["run_id"] for row in fields["actions"]["trend"]] == [first.run_id]


def test_a_secret_param_never_appears_in_any_format(
    opened: Store, config: ProjectConfig, clock: ManualClock
) -> None:
    """The drill file's text (the script) carries the secret as written; the record's
    events are masked when written; the report masks the script too. (The pdf: in
    test_drill_report_page.py, which renders the one PDF of these tests.)"""
    seeded = record_drill(opened, clock)
    doc = drill_document(opened, seeded.run_id, config)
    stamp: dict[str, Any] = {"sha256": document_sha256(doc), "version": 1}
    assert "ups_password" in doc["fields"]["scenario"]["script"]
    for fmt in ("md", "html", "json"):
        assert SECRET not in render(doc, stamp, fmt), fmt


def test_open_actions_are_carried_to_later_reports_until_closed(
    opened: Store, config: ProjectConfig, clock: ManualClock
) -> None:
    """An action left open by one drill shows in the next drill's report (naming where it
    came from) until a later findings file closes it under the same id; a closed one and a
    noted one of the same run behave the same way."""

    def findings(run_id: str, *actions: dict[str, str]) -> None:
        opened.append(
            run_id,
            [
                EventDraft(
                    kind=EventKind.DRILL_FINDINGS, data={"findings": {"actions": list(actions)}}
                )
            ],
        )

    first = record_drill(opened, clock)
    findings(
        first.run_id,
        {"id": "A1", "description": "Update the vendor phone list", "status": "open"},
        {"id": "A2", "description": "Label the UPS panel", "status": "done"},
    )
    opened.append(
        first.run_id,
        [EventDraft(kind=EventKind.NOTE, data={"text": "Test the generator", "action": {}})],
    )
    second = record_drill(opened, clock, start=START + timedelta(days=90), occurrence=None)
    carried = drill_document(opened, second.run_id, config)["fields"]["actions"]["carried"]
    assert [(a["id"], a["from_run"]) for a in carried] == [
        ("A1", first.run_id),
        (carried[1]["id"], first.run_id),
    ]
    assert carried[1]["description"] == "Test the generator" and carried[1]["id"].startswith("N")

    findings(
        second.run_id, {"id": "A1", "description": "Update the vendor phone list", "status": "done"}
    )
    third = record_drill(opened, clock, start=START + timedelta(days=180), occurrence=None)
    carried = drill_document(opened, third.run_id, config)["fields"]["actions"]["carried"]
    assert [a["description"] for a in carried] == ["Test the generator"]  # A1 closed in run 2
