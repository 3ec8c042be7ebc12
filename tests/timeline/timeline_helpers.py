"""Sample runs for the journal tests."""

from __future__ import annotations

import json
import time
from typing import Any

from respond.events import EventDraft, EventKind
from respond.timeline import Store, ledger, new_run_id
from respond.timeline.chain import event_hash

RUNBOOK_TEXT = "runbook: power-outage\nversion: 1.2.0\ntitle: 机房断电\nsteps: []\n"


def sample_meta(**over: Any) -> dict[str, Any]:
    import hashlib

    meta = {
        "runbook": "power-outage",
        "version": "1.2.0",
        "sha256": hashlib.sha256(RUNBOOK_TEXT.encode()).hexdigest(),
        "runbook_text": RUNBOOK_TEXT,
        "title": "机房断电 Power outage",
        "inventory": {"ups1": {"ansible_host": "10.0.0.5"}},
        "params": {"site": "A栋", "password": "***"},
        "operator": "alice@ops",
        "hostname": "ops-laptop",
        "severity": 2,
        "drill": False,
        "respond_version": "0.1.0",
    }
    meta.update(over)
    return meta


def record_sample_run(
    store: Store, run_id: str | None = None, *, finish: bool = True, steps: int = 3, **meta: Any
) -> str:
    rid = run_id or new_run_id()
    m = sample_meta(**meta)
    store.create_run(rid, m)
    rec = store.recorder(rid)
    rec.record(
        [
            EventDraft(
                kind=EventKind.RUN_STARTED,
                actor="alice@ops",
                data={
                    "runbook": m["runbook"],
                    "version": m["version"],
                    "sha256": m["sha256"],
                    "severity": m["severity"],
                    "params": m["params"],
                    "drill": m["drill"],
                },
            )
        ]
    )
    statuses = ["ok", "failed", "skipped", "ok", "simulated"]
    for i in range(steps):
        sid = f"step-{i}"
        rec.record(
            [
                EventDraft(
                    kind=EventKind.STEP_STARTED,
                    step_id=sid,
                    data={"name": f"检查 UPS {i}", "kind": "ssh", "hosts": ["ups1", "ups2"]},
                ),
                EventDraft(
                    kind=EventKind.HOST_INTENT,
                    step_id=sid,
                    host="ups1",
                    data={"attempt": 1, "commands": ["upsc ups@localhost"]},
                ),
                EventDraft(
                    kind=EventKind.HOST_INTENT,
                    step_id=sid,
                    host="ups2",
                    data={"attempt": 1, "commands": ["upsc ups@localhost"]},
                ),
            ]
        )
        time.sleep(0.002)
        st = statuses[i % len(statuses)]
        rec.record(
            [
                EventDraft(
                    kind=EventKind.HOST_RESULT,
                    step_id=sid,
                    host="ups1",
                    data={
                        "status": st,
                        "commands": [{"command": "upsc", "rc": 0, "stdout": "battery.charge: 97"}],
                    },
                ),
                EventDraft(
                    kind=EventKind.HOST_RESULT,
                    step_id=sid,
                    host="ups2",
                    data={"status": st, "commands": [{"command": "upsc", "rc": 1}]},
                ),
                EventDraft(
                    kind=EventKind.STEP_FINISHED,
                    step_id=sid,
                    data={"status": st, "ok": 2, "failed": 0, "duration_s": 0.002},
                ),
            ]
        )
    rec.record(
        [
            EventDraft(
                kind=EventKind.GATE_CONFIRMED,
                step_id="step-1",
                actor="alice@ops",
                data={"text": "关闭非关键服务器？", "by": "operator"},
            ),
            EventDraft(
                kind=EventKind.ANSWER,
                step_id="step-1",
                actor="alice@ops",
                data={"answer": "是的，市电已恢复", "by": "operator"},
            ),
            EventDraft(kind=EventKind.ESCALATED, data={"from": 2, "to": 1, "reason": "恢复超时"}),
        ]
    )
    if finish:
        rec.record(
            [
                EventDraft(
                    kind=EventKind.RUN_FINISHED,
                    actor="alice@ops",
                    data={"status": "succeeded", "severity": 1},
                )
            ]
        )
    return rid


# ------------------------------------------------------------------ tampering, as an attacker

COLS = "run_id, seq, ts, kind, actor, step_id, host, data, prev_hash, hash"


def rows(store: Store, rid: str) -> list[dict[str, Any]]:
    with store._read() as tx:
        return store._event_rows(tx, rid)


def put(store: Store, rid: str, r: dict[str, Any]) -> None:
    with store._transaction() as tx:
        tx.execute(
            f"INSERT INTO events ({COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                r["seq"],
                r["ts"],
                r["kind"],
                r["actor"],
                r["step_id"],
                r["host"],
                json.dumps(r["data"], ensure_ascii=False),
                r["prev_hash"],
                r["hash"],
            ),
        )


def sql(store: Store, statement: str, *params: Any) -> None:
    with store._transaction() as tx:
        tx.execute(statement, params)


def insert_forged_event(store: Store, rid: str) -> None:
    """Slip a forged event in at seq 5, renumbering the ones after it; its own hash is
    right, the chain around it is not."""
    rs = rows(store, rid)
    for r in reversed(rs[4:]):
        sql(
            store,
            "UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?",
            r["seq"] + 1,
            rid,
            r["seq"],
        )
    forged = dict(rs[4], seq=5, kind="note", actor="mallory", data={"text": "all fine"})
    forged["prev_hash"] = rs[3]["hash"]
    forged["hash"] = event_hash(forged["prev_hash"], forged)
    put(store, rid, forged)


def rehash_from(store: Store, rid: str, start_seq: int) -> None:
    """What an attacker with database access but no key does: recompute the chain."""
    rs = rows(store, rid)
    prev = rs[start_seq - 2]["hash"] if start_seq > 1 else "0" * 64
    for r in rs[start_seq - 1 :]:
        h = event_hash(prev, r)
        sql(
            store,
            "UPDATE events SET prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?",
            prev,
            h,
            rid,
            r["seq"],
        )
        prev = h


def rewrite_ledger(store: Store, rid: str) -> None:
    """An attacker with database access but no key also fixes the store's ledger: moves the
    run's checkpoints to the rewritten chain, drops the signatures they cannot make, and
    recomputes the ledger chain."""
    rs = {r["seq"]: r["hash"] for r in rows(store, rid)}
    with store._transaction() as tx:
        entries = ledger.entries(tx)
        tx.execute("DELETE FROM ledger")
        for e in entries:
            last_seq = e.last_seq
            if e.run_id == rid and last_seq is not None:
                last_seq = min(last_seq, max(rs))
            ledger.append(
                tx,
                ts=e.ts,
                kind=e.kind,
                run_id=e.run_id,
                last_seq=last_seq,
                last_hash=rs[last_seq] if e.run_id == rid and last_seq else e.last_hash,
                anchor=e.anchor,
                meta_digest=e.meta_digest,
                sealed=e.sealed,
            )


# ------------------------------------------------------------------ older schemas


def record_legacy_run(
    store: Store, rid: str, events: list[tuple[str, dict[str, Any]]], *, outcome: bool = True
) -> None:
    """Write a run as a respond with schema 3 (``outcome=False``) or 4 wrote it: the run row
    without the later columns, its ledger entries and its chained events."""
    from respond.timeline.chain import is_finished, normalise, run_digest
    from respond.timeline.lock import utc_now
    from respond.timeline.migrations import outcome_after

    meta = normalise({k: v for k, v in sample_meta().items() if k != "runbook_text"})
    created = utc_now()
    digest = run_digest(rid, created, meta, RUNBOOK_TEXT)
    with store._transaction() as tx:
        tx.execute(
            "INSERT INTO runs (run_id, created, meta, runbook_text, runbook, drill, operator) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rid, created, json.dumps(meta), RUNBOOK_TEXT, meta["runbook"], 0, meta["operator"]),
        )
        ledger.append(tx, ts=created, kind="created", run_id=rid, anchor=digest, meta_digest=digest)
        prev, chained = digest, []
        for seq, (kind, data) in enumerate(events, start=1):
            row = {"run_id": rid, "seq": seq, "ts": utc_now(), "kind": kind, "actor": "alice@ops"}
            row.update(step_id=None, host=None, data=normalise(data))
            row["prev_hash"], row["hash"] = prev, event_hash(prev, row)
            prev = row["hash"]
            chained.append(row)
            tx.execute(
                f"INSERT INTO events ({COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row[c] if c != "data" else json.dumps(row[c]) for c in COLS.split(", ")],
            )
        if is_finished(chained):
            last = chained[-1]
            ledger.append(
                tx,
                ts=utc_now(),
                kind="checkpoint",
                run_id=rid,
                last_seq=last["seq"],
                last_hash=last["hash"],
            )
        if outcome:
            value = outcome_after([(k, d) for k, d in events])[1]
            tx.execute("UPDATE runs SET outcome = ? WHERE run_id = ?", (value, rid))
