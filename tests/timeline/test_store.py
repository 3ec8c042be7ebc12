"""The journal store API, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from clikit import wait_until
from timeline_helpers import RUNBOOK_TEXT, record_sample_run, sample_meta

from respond.errors import RunLocked, TimelineError, UnknownRun
from respond.events import EventDraft, EventKind
from respond.secrets import Masker
from respond.timeline import Store, ledger, new_run_id
from respond.timeline.chain import GENESIS, event_hash, run_digest
from respond.timeline.lock import utc_now
from respond.timeline.migrations import LATEST

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_run_id_is_sortable_time_plus_hex() -> None:
    rid = new_run_id()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", rid)
    assert sorted([new_run_id(), rid])[0] <= rid or True


def test_record_assigns_seq_ts_and_chained_hashes(store: Store) -> None:
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    rec = store.recorder(rid)
    first = rec.record([EventDraft(kind=EventKind.RUN_STARTED, data={"a": 1})])
    batch = rec.record(
        [
            EventDraft(kind=EventKind.NOTE, actor="bob", data={"text": f"n{i} 中文"})
            for i in range(5)
        ]
    )
    events = store.events(rid)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.hash for e in events] == [e.hash for e in first + batch]
    prev = run_digest(rid, store.run(rid).created, store.meta(rid), store.runbook_text(rid))
    assert prev != GENESIS  # the run record is anchored in the chain
    for e in events:
        assert TS_RE.match(e.ts)
        body = {
            "run_id": e.run_id,
            "seq": e.seq,
            "ts": e.ts,
            "kind": e.kind,
            "actor": e.actor,
            "step_id": e.step_id,
            "host": e.host,
            "data": e.data,
        }
        canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert e.prev_hash == prev
        assert e.hash == hashlib.sha256((prev + canon).encode()).hexdigest()
        prev = e.hash
    assert events[3].data == {"text": "n2 中文"} and events[3].actor == "bob"
    assert store.verify(rid).ok


def test_batch_is_one_transaction(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import respond.timeline.store as store_mod

    rid = record_sample_run(store, finish=False, steps=1)
    before = store.events(rid)
    real = store_mod.event_hash
    calls = {"n": 0}

    def failing(prev: str, row: dict, seq: int | None = None) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("crash in the middle of a batch")
        return real(prev, row, seq)

    monkeypatch.setattr(store_mod, "event_hash", failing)
    with pytest.raises(RuntimeError):
        store.append(rid, [EventDraft(kind=EventKind.NOTE, data={"i": i}) for i in range(5)])
    monkeypatch.setattr(store_mod, "event_hash", real)
    assert store.events(rid) == before
    store.append(rid, [EventDraft(kind=EventKind.NOTE, data={"i": 0})])
    assert [e.seq for e in store.events(rid)] == list(range(1, len(before) + 2))
    assert store.verify(rid).ok


def test_masker_masks_data_and_artifacts(store: Store) -> None:
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    rec = store.recorder(rid, Masker(["s3cr3t-Pa55"]))
    (ev,) = rec.record(
        [EventDraft(kind=EventKind.HOST_RESULT, host="h1", data={"out": ["x s3cr3t-Pa55 y"]})]
    )
    assert ev.data == {"out": ["x *** y"]}
    assert store.events(rid)[0].data == {"out": ["x *** y"]}
    sha = rec.put_artifact(b"line1\npassword=s3cr3t-Pa55\n")
    assert store.get_artifact(sha) == b"line1\npassword=***\n"


def test_artifacts_content_addressed(store: Store) -> None:
    data = "大量输出\n".encode() * 10000 + bytes(range(256))
    sha = store.put_artifact(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.put_artifact(data) == sha
    assert store.get_artifact(sha) == data
    with pytest.raises(TimelineError):
        store.get_artifact("0" * 64)


def test_run_info_and_runbook_text(store: Store) -> None:
    rid = record_sample_run(store)
    info = store.run(rid)
    assert info.status == "succeeded"
    assert (info.severity_initial, info.severity_final) == (2, 1)
    assert info.runbook == "power-outage" and info.version == "1.2.0"
    assert info.operator == "alice@ops" and info.hostname == "ops-laptop"
    assert info.started and info.ended and info.duration_s is not None and info.duration_s >= 0
    assert info.events == len(store.events(rid))
    assert info.meta["inventory"] == {"ups1": {"ansible_host": "10.0.0.5"}}
    assert "runbook_text" not in info.meta
    assert store.runbook_text(rid) == RUNBOOK_TEXT


def test_status_running_interrupted_and_finished(store: Store) -> None:
    rid = record_sample_run(store, finish=False, steps=1)
    assert store.run(rid).status == "interrupted"  # no finish, nobody holds it: crashed
    with store.lock(rid, "alice@ops"):
        assert store.run(rid).status == "running"
        assert store.run(rid).lock["holder"] == "alice@ops"
    rec = store.recorder(rid)
    rec.record([EventDraft(kind=EventKind.RUN_FINISHED, data={"status": "interrupted"})])
    assert store.run(rid).status == "interrupted"
    rec.record([EventDraft(kind=EventKind.RUN_RESUMED, data={})])
    assert store.run(rid).status == "interrupted"  # resumed, but no live holder now
    rec.record([EventDraft(kind=EventKind.RUN_FINISHED, data={"status": "failed"})])
    assert store.run(rid).status == "failed"


def test_runs_filters(store: Store) -> None:
    a = record_sample_run(store, steps=1)
    b = record_sample_run(store, steps=1, runbook="network-outage", drill=True)
    c = record_sample_run(store, steps=1, finish=False)
    assert [r.run_id for r in store.runs()] == sorted([a, b, c])
    assert [r.run_id for r in store.runs(runbook="network-outage")] == [b]
    assert [r.run_id for r in store.runs(drill=True)] == [b]
    assert sorted(r.run_id for r in store.runs(drill=False)) == sorted([a, c])
    assert [r.run_id for r in store.runs(status="interrupted")] == [c]
    today = utc_now()[:10]
    assert len(store.runs(since=today, until=today)) == 3
    assert store.runs(since="2999-01-01") == []
    assert store.runs(until="2000-01-01") == []


def test_resolve_run_id(store: Store) -> None:
    a = record_sample_run(store, "20261123T051200Z-3fa2", steps=0)
    record_sample_run(store, "20261123T051200Z-3fb9", steps=0)
    assert store.resolve_run_id("20261123T051200Z-3fa") == a
    assert store.resolve_run_id(a) == a
    with pytest.raises(UnknownRun, match="ambiguous") as amb:
        store.resolve_run_id("20261123T0512")
    assert amb.value.exit_code == 2
    with pytest.raises(UnknownRun) as unknown:
        store.resolve_run_id("1999")
    assert unknown.value.exit_code == 2
    with pytest.raises(UnknownRun):
        store.events("nope")
    with pytest.raises(UnknownRun):
        store.recorder("nope")


def test_duplicate_run_id_refused(store: Store) -> None:
    rid = record_sample_run(store, steps=0)
    with pytest.raises(TimelineError, match="already exists"):
        store.create_run(rid, sample_meta())


# ----------------------------------------------------------------------------- locks


def _child(code: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC, **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


HOLDER = """
import os, sys, time
from respond.config import load_config
from respond.timeline import open_store
store = open_store(load_config(sys.argv[1] if len(sys.argv) > 1 else {project!r}))
with store.lock({rid!r}, "carol@night"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_lock_live_holder_refused_then_dead_holder_taken_over(store: Store, project: Path) -> None:
    rid = record_sample_run(store, finish=False, steps=1)
    child = _child(HOLDER.format(project=str(project), rid=rid))
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "locked", child.stderr.read() if child.stderr else ""
        with pytest.raises(RunLocked) as held, store.lock(rid, "dave@day"):
            pass
        assert held.value.exit_code == 4
        assert f"carol@night pid {child.pid} since " in str(held.value)
        assert store.run(rid).status == "running"
    finally:
        child.kill()  # SIGKILL: the lock row stays behind
        child.wait()
    n = len(store.events(rid))
    with store.lock(rid, "dave@day") as handle:
        assert handle.taken_from is not None and handle.taken_from.pid == child.pid
    events = store.events(rid)
    assert len(events) == n + 1 and events[-1].kind == "lock-taken"
    assert events[-1].data["from"]["holder"] == "carol@night"
    assert events[-1].actor == "dave@day"
    assert store.lock_holder(rid) is None  # released on exit
    assert store.verify(rid).ok


def _put_lock(store: Store, rid: str, *, host: str, pid: int, heartbeat: str) -> None:
    with store._transaction() as tx:
        tx.execute(
            "INSERT INTO locks (run_id, holder, hostname, pid, pid_start, since, heartbeat, token) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rid, "erin@far", host, pid, None, heartbeat, heartbeat, "tok"),
        )


def test_lock_other_host_heartbeat(store: Store) -> None:
    rid = record_sample_run(store, finish=False, steps=0)
    _put_lock(store, rid, host="far-away-host", pid=1, heartbeat=utc_now())
    with pytest.raises(RunLocked, match="erin@far pid 1"), store.lock(rid, "dave@day"):
        pass
    with store.lock(rid, "dave@day", steal=True) as h:  # explicit take-over, journaled
        assert h.taken_from is not None
    assert store.events(rid)[-1].data["reason"].startswith("forced")
    _put_lock(store, rid, host="far-away-host", pid=1, heartbeat="2020-01-01T00:00:00.000000Z")
    with store.lock(rid, "dave@day"):
        pass
    assert store.events(rid)[-1].kind == "lock-taken"
    assert store.events(rid)[-1].data["reason"].startswith("stale")


def test_lock_heartbeat_refreshes(store: Store) -> None:
    rid = record_sample_run(store, finish=False, steps=0)
    with store.lock(rid, "dave@day", heartbeat=0.05):
        first = store.lock_holder(rid)
        assert first is not None

        def refreshed() -> bool:
            later = store.lock_holder(rid)
            assert later is not None, "the lock went away while held"
            return later.heartbeat > first.heartbeat

        wait_until(refreshed, "the lock's heartbeat to be refreshed")


WRITER = """
import sys, time
from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.timeline import open_store
store = open_store(load_config({project!r}))
rec = store.recorder({rid!r})
with store.lock({rid!r}, "runner@host"):
    print("locked", flush=True)
    for i in range(150):
        rec.record([EventDraft(kind=EventKind.HOST_RESULT, host="h", data={{"i": i}})])
"""


def test_note_while_run_holds_lock(store: Store, project: Path) -> None:
    rid = record_sample_run(store, finish=False, steps=0)
    child = _child(WRITER.format(project=str(project), rid=rid))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    for i in range(30):
        store.append(rid, [EventDraft(kind=EventKind.NOTE, actor="auditor", data={"text": f"{i}"})])
    assert child.wait(timeout=60) == 0, child.stderr.read() if child.stderr else ""
    events = store.events(rid)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert sum(e.kind == "note" for e in events) == 30
    assert sum(e.kind == "host-result" for e in events) == 150
    assert store.verify(rid).ok


# ----------------------------------------------------------------------------- schema


def test_migration_upgrades_version_1_database_keeping_data(
    make_store: Callable[..., Store],
) -> None:
    old = make_store(migrate=False)
    assert old.migrate(target=1) == [1]
    assert old.schema_version() == 1
    rid = new_run_id()
    meta = sample_meta()
    meta.pop("runbook_text")
    with old._transaction() as tx:  # what a version-1 respond wrote
        tx.execute(
            "INSERT INTO runs (run_id, created, meta, runbook_text) VALUES (?, ?, ?, ?)",
            (rid, utc_now(), json.dumps(meta), RUNBOOK_TEXT),
        )
        prev = GENESIS
        for i in range(10):
            row = {
                "run_id": rid,
                "seq": i + 1,
                "ts": utc_now(),
                "kind": "note",
                "actor": "respond",
                "step_id": None,
                "host": None,
                "data": {"text": f"{i}"},
            }
            h = event_hash(prev, row)
            tx.execute(
                "INSERT INTO events (run_id, seq, ts, kind, actor, step_id, host, data, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *(rid, i + 1, row["ts"], "note", "respond", None, None),
                    *(json.dumps(row["data"]), prev, h),
                ),
            )
            prev = h
    sha = old.put_artifact(b"artifact from v1")
    before = old.events(rid)
    old.close()

    new = make_store()  # opening applies migration 2
    assert new.schema_version() == LATEST >= 2
    assert new.events(rid) == before
    assert new.get_artifact(sha) == b"artifact from v1"
    assert new.runbook_text(rid) == RUNBOOK_TEXT
    assert [r.run_id for r in new.runs(runbook="power-outage")] == [rid]
    with new._read() as tx:
        assert tx.query("SELECT runbook, drill, operator FROM runs WHERE run_id = ?", (rid,)) == [
            ("power-outage", 0, "alice@ops")
        ]
        versions = [r[0] for r in tx.query("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, LATEST + 1))
    res = new.verify(rid)
    assert res.ok and res.verdict == "not finished"  # v1 runs are entered into the ledger
    with new._read() as tx:
        (entry,) = ledger.entries(tx, rid)
    assert (entry.kind, entry.anchor) == ("migrated", GENESIS)
    assert new.migrate() == []  # idempotent


def test_newer_schema_refused(make_store: Callable[..., Store]) -> None:
    s = make_store()
    with s._transaction() as tx:
        tx.execute(
            "INSERT INTO schema_version (version, applied, description) VALUES (?, ?, ?)",
            (LATEST + 7, utc_now(), "from the future"),
        )
    s.close()
    with pytest.raises(TimelineError, match="newer than this respond"):
        make_store()
