"""``respond timeline ...`` and ``respond note`` through the real entry point (exit codes
included), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from clikit import CLI_TIMEOUT, Cli
from timeline_helpers import RUNBOOK_TEXT, record_sample_run

from respond.events import EventDraft, EventKind
from respond.timeline import Store

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def respond(project: Path, local_zone: Callable[[str], None]) -> Cli:
    """The CLI in this process (through ``main()``, the real error boundary and exit codes):
    these tests make dozens of calls against stores they also open and tamper with here."""
    local_zone("Asia/Shanghai")
    return Cli(in_process=True, cwd=project)


def test_list(store: Store, respond: Cli) -> None:
    a = record_sample_run(store)
    b = record_sample_run(store, finish=False, runbook="network-outage", drill=True)
    code, out, _ = respond("timeline", "list")
    assert code == 0
    assert a in out and b in out and "power-outage@1.2.0" in out and "2→1" in out
    assert "succeeded" in out and "interrupted" in out
    code, out, _ = respond("timeline", "list", "--json")
    rows = json.loads(out)
    assert [r["run_id"] for r in rows] == sorted([a, b])
    assert rows[0]["severity_initial"] == 2
    code, out, _ = respond("timeline", "list", "--drill", "--json")
    assert [r["run_id"] for r in json.loads(out)] == [b]
    code, out, _ = respond("--json", "timeline", "list", "--status", "succeeded", "--no-drill")
    assert [r["run_id"] for r in json.loads(out)] == [a]
    code, out, _ = respond("timeline", "list", "--runbook", "network-outage", "--json")
    assert [r["run_id"] for r in json.loads(out)] == [b]
    code, _, err = respond("timeline", "list", "--since", "yesterday-ish")
    assert code == 2 and "not a date" in err


def test_show(store: Store, respond: Cli, project: Path) -> None:
    rid = record_sample_run(store)
    code, out, err = respond("timeline", "show", rid[:-1])
    assert code == 0
    assert "是的，市电已恢复" in out  # answers verbatim, Chinese intact
    assert "gate confirmed: 关闭非关键服务器？" in out
    assert "escalated 2 → 1" in out and "ok · exit 0" in out and "exit 1" in out
    assert "+00:00:00.000" in out  # elapsed since start
    assert "runbook file for 'power-outage' is gone" in err
    (project / "runbooks" / "power-outage.yaml").write_text(RUNBOOK_TEXT, encoding="utf-8")
    code, out, err = respond("timeline", "show", rid)
    assert "changed" not in err and "gone" not in err
    (project / "runbooks" / "power-outage.yaml").write_text(RUNBOOK_TEXT + "# edit\n")
    code, out, err = respond("timeline", "show", rid)
    assert "has changed since this run" in err
    code, out, _ = respond("timeline", "show", rid, "--runbook")
    assert out == RUNBOOK_TEXT
    code, out, _ = respond("timeline", "show", rid, "--json")
    doc = json.loads(out)
    assert doc["run"]["run_id"] == rid and "has changed" in doc["runbook_changed"]
    assert [e["seq"] for e in doc["events"]] == list(range(1, len(doc["events"]) + 1))


def test_unknown_run_exit_2(store: Store, respond: Cli) -> None:
    for args in (
        ("timeline", "show", "nope"),
        ("timeline", "verify", "nope"),
        ("timeline", "export", "nope"),
        ("note", "nope", "text"),
    ):
        code, _, err = respond(*args)
        assert code == 2, args
        assert "no run 'nope'" in err and "Traceback" not in err


def test_verify_exit_codes(store: Store, respond: Cli) -> None:
    a = record_sample_run(store)
    b = record_sample_run(store)
    code, out, _ = respond("timeline", "verify", a)
    assert code == 0 and f"{a}: not sealed" in out  # no signing key: the absence is shown
    with store._transaction() as tx:
        tx.execute("DELETE FROM events WHERE run_id = ? AND seq = ?", (b, 4))
    code, out, err = respond("timeline", "verify", b)
    assert code == 1 and "deleted at seq 4" in out
    code, out, err = respond("timeline", "verify", "--all")
    assert code == 1 and f"{a}: not sealed" in out and f"{b}: TAMPERED" in out
    assert "ledger: intact (" in out
    assert "1 of 2 run(s) failed verification" in err
    code, out, _ = respond("timeline", "verify")
    assert code == 1
    code, out, _ = respond("timeline", "verify", "--json")
    doc = json.loads(out)
    assert {r["run_id"]: r["ok"] for r in doc if r["scope"] == "run"} == {a: True, b: False}
    assert {r["run_id"]: r["verdict"] for r in doc} == {
        "(ledger)": "intact",
        a: "not sealed",
        b: "tampered",
    }


def test_note_after_and_during(store: Store, respond: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = record_sample_run(store)
    monkeypatch.setenv("RESPOND_OPERATOR", "王工@机房")
    code, _, err = respond("note", rid, "UPS 厂家工程师", "已到场")
    assert code == 0 and "note recorded" in err
    ev = store.events(rid)[-1]
    assert (ev.kind, ev.actor, ev.data["text"]) == ("note", "王工@机房", "UPS 厂家工程师 已到场")
    with store.lock(rid, "runner@host"):  # the run is live: notes still go in
        assert respond("note", rid, "during").rc == 0
    assert store.events(rid)[-1].data["text"] == "during"
    assert respond("note", rid, "vendor left", "--operator", "Li Lei (vendor)").rc == 0
    assert store.events(rid)[-1].actor == "Li Lei (vendor)"  # --operator wins over the env
    assert store.verify(rid).ok


@pytest.mark.parametrize("fmt", ["json", "md", "html", "csv"])
def test_export_formats(store: Store, respond: Cli, tmp_path: Path, fmt: str) -> None:
    rid = record_sample_run(store)
    target = tmp_path / f"out.{fmt}"
    code, _, err = respond("timeline", "export", rid, "--format", fmt, "-o", str(target))
    assert code == 0 and "wrote" in err
    raw = target.read_bytes()
    text = raw.decode("utf-8-sig")
    assert ("是的，市电已恢复" in text and "机房断电" in text) or fmt == "csv"
    n = len(store.events(rid))
    if fmt == "json":
        doc = json.loads(text)
        assert doc["run"]["status"] == "succeeded" and doc["verify"]["ok"]
        assert len(doc["record"]["events"]) == n
    elif fmt == "csv":
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read it as UTF-8
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == n and rows[0]["seq"] == "1"
        assert any("是的，市电已恢复" in r["what"] for r in rows)
    elif fmt == "md":
        assert "| **Severity** | 2→1 |" in text and "## Steps" in text
        assert text.count("\n| ") >= n
    else:
        assert '<meta charset="utf-8">' in text
        assert "<svg" in text and text.count('rx="3"') == 3  # one bar per step
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "<script" not in text
    code, out, _ = respond("timeline", "export", rid, "--format", fmt)
    assert code == 0 and out.strip() and (fmt != "json" or json.loads(out))


def test_export_all_and_import_into_other_store(
    store: Store,
    respond: Cli,
    tmp_path: Path,
    make_store: Callable[..., Store],
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    ids = [record_sample_run(store) for _ in range(3)]
    sha = store.put_artifact("大输出".encode() * 1000)
    store.append(
        ids[0],
        [
            EventDraft(
                kind=EventKind.HOST_RESULT,
                host="h",
                data={"output": {"artifact": sha, "bytes": 9000}},
            )
        ],
    )
    dump = tmp_path / "all.json"
    code, _, _ = respond("timeline", "export", "--all", "--format", "json", "-o", str(dump))
    assert code == 0
    assert respond("timeline", "export", "--all", "--format", "md").rc == 2
    # into a fresh store (always SQLite here: moving records between backends)
    monkeypatch.delenv("RESPOND_DB", raising=False)
    monkeypatch.setenv("RESPOND_HOME", str(tmp_path / "other-home"))
    code, out, err = respond("timeline", "import", str(dump))
    assert code == 0, err
    assert out.count(": not sealed (") == 3
    other = make_store()
    for rid in ids:
        assert [e.hash for e in other.events(rid)] == [e.hash for e in store.events(rid)]
        assert other.runbook_text(rid) == RUNBOOK_TEXT
    assert other.get_artifact(sha) == "大输出".encode() * 1000
    code, _, err = respond("timeline", "import", str(dump))  # idempotent
    assert code == 0 and err.count("already in this store") == 3
    # a tampered file is imported but reported, exit 1
    doc = json.loads(dump.read_text())
    doc["runs"][1]["events"][3]["data"] = {"forged": True}
    doc["runs"][1]["run_id"] = "20990101T000000Z-beef"
    for e in doc["runs"][1]["events"]:
        e["run_id"] = "20990101T000000Z-beef"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, out, err = respond("timeline", "import", str(bad))
    assert code == 1 and "TAMPERED" in out


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys\n"
        "from respond.cli import main\n"
        "try:\n    main(['timeline', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('psycopg', 'rich', 'sqlite3', 'paramiko', 'netmiko', "
        "'ansible_runner') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "verify" in proc.stdout and "export" in proc.stdout
