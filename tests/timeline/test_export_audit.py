"""The run export as an auditor reads it: who acted, the outcome, the clock, the diagnosis,
each notification's full text, whether the run is sealed, and a chart of the run itself
that a note added long afterwards does not squash (measured in headless Chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clikit import Cli
from pagekit import measure
from timeline_helpers import record_sample_run

from respond.clock import ManualClock, iso
from respond.events import EventDraft, EventKind
from respond.timeline import Store

START = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


@pytest.fixture
def manual_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManualClock]:
    """The store stamps events from this clock, so a test can place them in time."""
    clock = ManualClock(START)
    monkeypatch.setattr("respond.timeline.store.utc_now", lambda: iso(clock.now()))
    yield clock


def _run_with_steps(store: Store, clock: ManualClock, step_s: float) -> str:
    """A run of three steps of ``step_s`` seconds each, finished."""
    rid = record_sample_run(store, finish=False, steps=0)
    rec = store.recorder(rid)
    for i in range(3):
        rec.record(
            [
                EventDraft(
                    kind=EventKind.STEP_STARTED,
                    step_id=f"s{i}",
                    data={"name": f"步骤 {i}", "kind": "local"},
                )
            ]
        )
        clock.advance(step_s)
        rec.record(
            [
                EventDraft(
                    kind=EventKind.STEP_FINISHED, step_id=f"s{i}", data={"status": "ok", "ok": 1}
                )
            ]
        )
    rec.record(
        [
            EventDraft(
                kind=EventKind.RUN_FINISHED,
                data={"status": "succeeded", "outcome": "resolved", "reason": "UPS back on line"},
            )
        ]
    )
    return rid


def test_a_note_ten_minutes_later_does_not_squash_the_chart(
    store: Store, manual_time: ManualClock, tmp_path: Path
) -> None:
    from respond.cli.timeline import render

    rid = _run_with_steps(store, manual_time, 20)  # the run lasts one minute
    manual_time.advance(600)
    store.append(rid, [EventDraft(kind=EventKind.NOTE, actor="王工", data={"text": "厂家已确认"})])

    page = render(store, rid, "html")
    chart = measure(page, tmp_path)["charts"][0]
    left = min(b["x"] for b in chart["bars"])
    right = max(b["x"] + b["w"] for b in chart["bars"])
    # the three bars cover the plot; drawn to the note they would cover a tenth of it
    assert (right - left) / chart["plot_w"] > 0.95, chart
    assert abs(left - chart["plot_x"]) < 2
    assert "1 later event(s), listed below, not drawn to scale" in page
    assert "After the run (listed, not drawn to scale)" in page and "+10m after the end" in page

    md = render(store, rid, "md")
    bars = [line.rsplit("`", 2)[1] for line in md.splitlines() if "— 步骤" in line]
    assert len(bars) == 3 and bars[-1].endswith("█") and bars[0].startswith("█"), bars
    assert "厂家已确认" in md  # the note is still listed, in full


def _colour(rows: list[dict[str, str]], label: str) -> tuple[str, str]:
    row = next(r for r in rows if r["label"] == label)
    return row["value"], row["colour"]


def test_sealed_unsealed_and_tampered_runs_read_differently(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from respond.cli.timeline import render

    plain = make_store()
    unsealed = record_sample_run(plain)
    monkeypatch.setenv("EXPORT_SEAL_KEY", "k" * 32)
    keyed = make_store("hmac:EXPORT_SEAL_KEY")
    sealed = record_sample_run(keyed)
    key_id = next(e for e in keyed.events(sealed) if e.kind == "sealed").data["key_id"]

    shown = {
        "sealed": measure(render(keyed, sealed, "html"), tmp_path / "a")["rows"],
        "unsealed": measure(render(plain, unsealed, "html"), tmp_path / "b")["rows"],
        "unchecked": measure(render(plain, sealed, "html"), tmp_path / "c")["rows"],
    }
    text = {k: _colour(v, "Integrity") for k, v in shown.items()}
    assert text["sealed"][0].startswith(f"intact, sealed by key {key_id} (hmac-sha256)")
    assert text["unsealed"][0].startswith("intact, not sealed: no signing key was configured")
    assert text["unchecked"][0].startswith(
        f"chain intact, sealed by key {key_id} but the seal was NOT checked"
    )
    assert text["sealed"][1] == "rgb(46, 125, 50)"  # green
    assert text["unsealed"][1] == text["unchecked"][1] == "rgb(230, 81, 0)"  # orange

    with plain._transaction() as tx:  # edit an event behind respond's back
        tx.execute(
            "UPDATE events SET data = ? WHERE run_id = ? AND seq = 2",
            (json.dumps({"name": "edited"}), unsealed),
        )
    rows = measure(render(plain, unsealed, "html"), tmp_path / "d")["rows"]
    assert rows[0]["label"] == "Integrity" and rows[0]["value"].startswith("TAMPERED — changed")
    assert rows[0]["colour"] == "rgb(183, 28, 28)"  # red, and first
    md = render(plain, unsealed, "md")
    assert "| **Integrity** | TAMPERED — changed at seq 2" in md


RUNBOOK = """runbook: ups-diag
version: 2.1.0
title: UPS 诊断 / UPS diagnosis
scenario: power
severity: 2
params:
  token: {secret: true, required: true}
steps:
  - id: probe
    kind: local
    argv: [echo, "OB DISCHRG"]
    register: ups
  - id: facts
    kind: set
    values:
      on_battery: "'OB' in ups.stdout"
      runtime_min: 42
  - id: judge
    kind: decide
    register: diag
    rules:
      - {when: "on_battery", verdict: on-battery, message: "UPS 放电中, {{ runtime_min }} min left"}
    otherwise: {verdict: on-line}
  - id: tell
    kind: notify
    subject: "UPS 告警 {{ runtime_min }}"
    message: "市电中断, UPS on battery. token={{ token }}\\nsecond line"
    channels: [dead, log]
  - id: all-clear
    kind: finish
    outcome: unresolved
    message: "vendor called: battery string to replace"
"""


def test_run_export_names_the_operator_and_holds_the_diagnosis_and_notice_texts(
    project: Path, backend: str, respond: Cli, tmp_path: Path
) -> None:
    canary = "CANARY-export-8813"
    (project / "runbooks" / "ups-diag.yaml").write_text(RUNBOOK, encoding="utf-8")
    (project / "respond.yaml").write_text(
        "project: test\nchannels:\n"
        '  dead: {url: "json://127.0.0.1:9/refused"}\n'
        "  log: {type: file, path: notices.log}\n",
        encoding="utf-8",
    )
    cli = respond.bind(
        cwd=project,
        env={"RESPOND_HOME": str(project / ".respond"), "RESPOND_OPERATOR": "王工 (on-call)"},
    )
    run = cli("run", "ups-diag", "-p", f"token={canary}", "--json")
    assert run.rc == 1, run  # unresolved
    rid = run.json()["run_id"]
    exports = {
        f: cli("timeline", "export", rid, "--format", f, check=True).stdout
        for f in ("md", "html", "json")
    }
    for fmt, text in exports.items():
        assert canary not in text, fmt

    md = exports["md"]
    assert "| **Operator** | 王工 (on-call) on " in md
    assert "| **Outcome** | unresolved — vendor called: battery string to replace (failed) |" in md
    assert "| **facts (set)** | on_battery = true, runtime_min = 42 |" in md
    assert "| **judge (decide)** | verdict on-battery: UPS 放电中, 42 min left |" in md
    assert (
        "| **run ended** | unresolved (ended by step all-clear): vendor called: battery "
        "string to replace |" in md
    )
    assert (
        "subject: UPS 告警 42 · dead: FAILED (the channel refused or could not be reached) "
        "→ log: sent (fallback)\n" in md
    )
    assert "  > 市电中断, UPS on battery. token=***\n  > second line" in md
    assert "restore (level 2, limit 8h)" in md  # the run's own clock, from respond.yaml defaults

    doc = json.loads(exports["json"])
    assert {"run", "verify", "record"} <= set(doc)  # the import contract is kept
    report = doc["report"]
    assert report["operator"] == "王工 (on-call)" and report["outcome"] == "unresolved"
    sent = [n for n in report["notifications"] if n["ok"]]
    assert [(n["channel"], n["fallback"]) for n in sent] == [("log", True)]
    assert sent[0]["message"] == "市电中断, UPS on battery. token=***\nsecond line"
    assert report["seal"]["state"] == "unsealed"
    assert [f["kind"] for f in report["diagnosis"]] == ["set", "decide", "finish", "end"]


def test_a_run_that_opened_an_incident_exports_who_reported_it_where_and_its_clocks(
    project: Path, backend: str, respond: Cli
) -> None:
    (project / "runbooks" / "ups-diag.yaml").write_text(RUNBOOK, encoding="utf-8")
    cli = respond.bind(cwd=project, env={"RESPOND_HOME": str(project / ".respond")})
    run = cli(
        "run", "ups-diag", "-p", "token=t0k3n-x", "--detected-at", "-20m",
        "--reported-by", "李明 (保安)", "--site", "A栋机房", "--operator", "王工", "--json",
    )  # fmt: skip
    assert run.rc == 1, run
    rid, incident = run.json()["run_id"], run.json()["incident"]["id"]
    md = cli("timeline", "export", rid, "--format", "md", check=True).stdout
    assert f"| **Incident** | {incident} — UPS 诊断 / UPS diagnosis (open) |" in md
    assert "| **Operator** | 王工 on " in md
    assert "| **Reported by** | 李明 (保安) |" in md and "| **Site** | A栋机房 |" in md
    respond_row = next(line for line in md.splitlines() if "**respond (level 2" in line)
    # acknowledged when the run started, about 20 minutes after detection
    assert re.search(r"\| met: acknowledged .*, (40m|39m \d+s) before the deadline;", respond_row)
    restore_row = next(line for line in md.splitlines() if "**restore (level 2" in line)
    assert "| pending: due " in restore_row
    doc = json.loads(cli("timeline", "export", rid, "--format", "json", check=True).stdout)
    assert doc["incident"]["incident_id"] == incident
    assert (doc["report"]["operator"], doc["report"]["reported_by"]) == ("王工", "李明 (保安)")
