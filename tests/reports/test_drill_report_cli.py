"""`respond drill report` on a recorded drill run: the report's hash (sha256 of the json
document) appended to the run's record as drill-report, a new version each time, signed
with the project's key, the record still verifying; the findings file recorded (masked)
only when it changed and used by later reports; `respond note --action` in field 15; and
the refusals: a run that is no drill, an unknown run, a broken findings file, a bad --due."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from drillseed import SECRET, clock_on_store, record_drill, write_project

from respond.config import load_config
from respond.events import EventKind
from respond.reports.drill import LEAD, stamp_payload
from respond.timeline import new_run_id, open_store

KEY_ENV = "DRILL_REPORT_TEST_KEY"
FINDINGS = f"""observations:
  what happened: "UPS carried the room 电池供电 for 10 minutes"
critical: "none"
hotwash: "Debrief 09:30; vendor phone list out of date; password {SECRET} was read aloud"
actions:
  - {{id: A1, description: "Update the vendor phone list", owner: 李娜, due: 2026-04-01,
     ref: "runbooks/power-outage.yaml#vendor-call"}}
signoff:
  - {{name: 张伟, role: lead, date: 2026-03-16}}
distribution: [信息管理科, vendor]
"""


def _project(project: Path, monkeypatch: pytest.MonkeyPatch, *, signed: bool = False) -> str:
    write_project(project)
    if signed:
        monkeypatch.setenv(KEY_ENV, "k" * 32)
        path = project / "respond.yaml"
        path.write_text(path.read_text() + f"signing_key: hmac:{KEY_ENV}\n", encoding="utf-8")
    clock = clock_on_store(monkeypatch)
    with open_store(load_config(project)) as store:
        return record_drill(store, clock).run_id


def _events(project: Path, run_id: str, kind: str) -> list[Any]:
    with open_store(load_config(project)) as store:
        return [e for e in store.events(run_id) if e.kind == kind]


def _canonical_sha(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def cli(project: Path) -> Cli:
    return Cli(in_process=True, cwd=project)


def test_each_report_appends_its_hash_and_the_record_still_verifies(
    project: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    run_id = _project(project, monkeypatch)
    first = cli("drill", "report", run_id, "--format", "json", "-o", "aar.json")
    assert first.rc == 0 and first.stderr.strip() == "wrote aar.json", first
    doc = json.loads((project / "aar.json").read_text(encoding="utf-8"))
    stamp = doc.pop("stamp")
    (event,) = _events(project, run_id, EventKind.DRILL_REPORT)
    assert event.data["sha256"] == stamp["sha256"] == _canonical_sha(doc)
    assert (event.data["format"], event.data["version"], event.data["signature"]) == (
        "json",
        1,
        "unsigned",
    )
    assert doc["fields"]["identification"]["report_version"] == 1
    assert stamp["verify"].startswith("intact, not sealed")

    second = cli("drill", "report", run_id[:15])  # markdown on stdout; a prefix of the id
    assert second.rc == 0, second
    reports = _events(project, run_id, EventKind.DRILL_REPORT)
    assert [e.data["version"] for e in reports] == [1, 2] and reports[1].data["format"] == "md"
    assert f"| **Report sha256** | {reports[1].data['sha256']} |" in second.stdout
    assert "| **Report version** | 2 |" in second.stdout
    assert "**earlier reports**" in second.stdout and "| 1 | json |" in second.stdout
    verify = cli("timeline", "verify", run_id)
    assert verify.rc == 0 and "not sealed" in verify.stdout, verify


def test_a_report_is_signed_with_the_project_key(
    project: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    run_id = _project(project, monkeypatch, signed=True)
    result = cli("drill", "report", run_id, "--format", "html", "-o", "aar.html")
    assert result.rc == 0, result
    (event,) = _events(project, run_id, EventKind.DRILL_REPORT)
    with open_store(load_config(project)) as store:
        signer = store.signer
        assert signer is not None and event.data["key_id"] == signer.key_id
        payload = stamp_payload(run_id, event.data["sha256"], 1)
        assert signer.check(payload, event.data["signature"])
        assert not signer.check(stamp_payload(run_id, "0" * 64, 1), event.data["signature"])
    page = (project / "aar.html").read_text(encoding="utf-8")
    assert event.data["sha256"] in page and event.data["signature"] in page
    verify = cli("timeline", "verify", run_id)
    assert verify.rc == 0 and "intact" in verify.stdout and "seal valid" in verify.stdout, verify


def test_findings_are_recorded_masked_once_and_used_by_later_reports(
    project: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    run_id = _project(project, monkeypatch)
    (project / "findings.yaml").write_text(FINDINGS, encoding="utf-8")
    for _ in range(2):
        result = cli("drill", "report", run_id, "--findings", "findings.yaml", "--format", "json")
        assert result.rc == 0, result
    (recorded,) = _events(project, run_id, EventKind.DRILL_FINDINGS)  # the same file: once
    assert SECRET not in json.dumps(recorded.data, ensure_ascii=False)
    assert "password *** was read aloud" in recorded.data["findings"]["hotwash"]

    note = cli(
        "note",
        run_id,
        "Test",
        "the",
        "generator",
        "--action",
        "--owner",
        "王强",
        "--due",
        "2026-05-01",
    )
    assert note.rc == 0 and "corrective action recorded" in note.stderr, note
    later = cli("drill", "report", run_id, "--format", "json")  # no --findings: the recorded
    fields = later.json()["fields"]
    assert fields["critical"] == "none" and "10 minutes" in json.dumps(
        fields["observations"]["findings"], ensure_ascii=False
    )
    items = fields["actions"]["items"]
    assert items[0] == {
        "id": "A1",
        "description": "Update the vendor phone list",
        "owner": "李娜",
        "due": "2026-04-01",
        "ref": "runbooks/power-outage.yaml#vendor-call",
        "status": "open",
    }
    assert items[1]["description"] == "Test the generator"
    assert (items[1]["owner"], items[1]["due"], items[1]["status"]) == (
        "王强",
        "2026-05-01",
        "open",
    )
    assert fields["signoff"]["signoff"] == [{"name": "张伟", "role": "lead", "date": "2026-03-16"}]
    assert fields["hotwash"] != LEAD and SECRET not in later.stdout


def test_refusals_are_one_line_exit_2_and_record_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    run_id = _project(project, monkeypatch)
    plain = new_run_id()
    with open_store(load_config(project)) as store:
        store.create_run(plain, {"runbook": "power-outage", "version": "1.2.0", "drill": False})
    refused = cli("drill", "report", plain)
    assert refused.rc == 2 and f"run {plain} is not a drill" in refused.stderr, refused
    unknown = cli("drill", "report", "20990101T000000Z-dead")
    assert unknown.rc == 2 and "Traceback" not in unknown.stderr, unknown

    (project / "findings.yaml").write_text(
        "observation: typo\nactions:\n  - {id: A1, owner: x}\nhotwash: a\nhotwash: b\n",
        encoding="utf-8",
    )
    broken = cli("drill", "report", run_id, "--findings", "findings.yaml")
    assert broken.rc == 2, broken
    assert "findings.yaml:5:1" in broken.stderr and "hotwash" in broken.stderr  # duplicate key
    (project / "findings.yaml").write_text(
        "observation: typo\nactions:\n  - {id: A1, owner: x, when: soon}\n", encoding="utf-8"
    )
    broken = cli("drill", "report", run_id, "--findings", "findings.yaml")
    assert broken.rc == 2, broken
    assert "findings.yaml:1:1: error: unknown key 'observation' (did you mean 'observations'?)" in (
        broken.stderr
    )
    assert "actions[0]: description is required" in broken.stderr
    assert "findings.yaml:3:24: error: actions[0]: unknown key 'when'" in broken.stderr
    bad_due = cli("note", run_id, "x", "--action", "--due", "next week")
    assert bad_due.rc == 2 and "--due: not a date (YYYY-MM-DD): next week" in bad_due.stderr
    assert not _events(project, run_id, EventKind.DRILL_REPORT)
    assert not _events(project, run_id, EventKind.DRILL_FINDINGS)
    assert not _events(project, run_id, EventKind.NOTE)


def test_the_report_of_a_real_tabletop_drill_run(tmp_path: Path) -> None:
    """`respond drill run` records the drill (RUN part's runner); its report reads it."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "drills"))
    from runkit import DrillProject

    project = DrillProject(tmp_path / "proj")
    project.runbook(
        "room",
        '  - {id: look, kind: manual, prompt: "Is the room dark? 机房是否断电"}\n'
        '  - {id: tell, kind: notify, message: "UPS on battery / 市电中断"}\n',
    )
    answers = {
        "look": "yes",
        "steps": {"look": "done", "tell": "skip: 电话表过期 list out of date"},
    }
    project.file("room.yaml", answers)
    project.drill(
        "walk",
        runbook="room",
        answers="room.yaml",
        title="桌面推演 tabletop",
        mode="tabletop",
        objectives=[{"respond": "5m"}, {"skips": "reasoned"}],
        participants=[{"name": "张伟", "role": "lead"}],
        planned={"look": "1m", "tell": "30s"},
    )
    result, out = project.drill_run("walk")
    assert result.rc == 0 and out["mode"] == "tabletop", result
    report = project.respond("drill", "report", out["run_id"], "--format", "json")
    assert report.rc == 0, report
    doc = report.json()
    stamp = doc.pop("stamp")
    fields = doc["fields"]
    assert fields["scope"]["mode"] == "tabletop"
    assert fields["scope"]["simulated_steps"] == ["look", "tell"]
    steps = fields["timeline"]["steps"]
    assert [(s["step_id"], s["planned_s"]) for s in steps] == [("look", 60), ("tell", 30)]
    assert fields["observations"]["skipped"] == [
        {"step_id": "tell", "reason": "电话表过期 list out of date"}
    ]
    card = fields["objectives"]["scorecard"]
    assert (card["drill"], card["total"], card["met"], card["passed"]) == ("walk", 2, 2, True)
    assert fields["participants"]["people"][0]["name"] == "张伟"
    assert stamp["sha256"] == _canonical_sha(doc)
    events = project.events(out["run_id"])
    assert events[-1]["kind"] == "drill-report" and events[-1]["data"]["sha256"] == stamp["sha256"]
    assert project.respond("timeline", "verify", out["run_id"]).rc == 0
