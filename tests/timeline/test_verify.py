"""Negative tests for the verifier: every kind of tampering is found and named, on SQLite and
PostgreSQL, with and without a seal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from timeline_helpers import (
    insert_forged_event,
    put,
    record_sample_run,
    rehash_from,
    rewrite_ledger,
    rows,
    sql,
)

from respond.events import EventDraft, EventKind
from respond.timeline import Store
from respond.timeline.chain import event_hash, verify_rows


@pytest.fixture
def run(store: Store) -> str:
    rid = record_sample_run(store)
    assert store.verify(rid).ok
    return rid


def test_untouched_run_without_a_key_is_not_sealed_never_plain_intact(
    store: Store, run: str
) -> None:
    res = store.verify(run)
    assert res.ok and res.checked == len(store.events(run)) and res.first_bad_seq is None
    assert (res.verdict, res.failed) == ("not sealed", False)
    assert f"{run}: not sealed" in str(res) and "intact" not in str(res)


def test_changed_event(store: Store, run: str) -> None:
    sql(
        store,
        "UPDATE events SET data = ? WHERE run_id = ? AND seq = ?",
        json.dumps({"answer": "否"}),
        run,
        7,
    )
    res = store.verify(run)
    assert (res.ok, res.problem, res.first_bad_seq) == (False, "changed", 7)


def test_changed_actor_only(store: Store, run: str) -> None:
    sql(store, "UPDATE events SET actor = ? WHERE run_id = ? AND seq = ?", "mallory", run, 3)
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("changed", 3)


def test_changed_and_rehashed_event(store: Store, run: str) -> None:
    r = rows(store, run)[4]
    r["data"] = {"status": "ok", "forged": True}
    sql(
        store,
        "UPDATE events SET data = ?, hash = ? WHERE run_id = ? AND seq = ?",
        json.dumps(r["data"]),
        event_hash(r["prev_hash"], r),
        run,
        5,
    )
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("changed", 5)


def test_deleted_event(store: Store, run: str) -> None:
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq = ?", run, 6)
    res = store.verify(run)
    assert (res.ok, res.problem, res.first_bad_seq) == (False, "deleted", 6)


def test_deleted_and_renumbered(store: Store, run: str) -> None:
    n = len(rows(store, run))
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq = ?", run, 4)
    for seq in range(5, n + 1):
        sql(store, "UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?", seq - 1, run, seq)
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("deleted", 4)


def test_deleted_renumbered_and_rehashed_needs_the_seal(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESPOND_SEAL_KEY", "k" * 32)
    store = make_store("hmac:RESPOND_SEAL_KEY")
    rid = record_sample_run(store)
    n = len(rows(store, rid))
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq = ?", rid, 4)
    for seq in range(5, n + 1):
        sql(store, "UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?", seq - 1, rid, seq)
    rehash_from(store, rid, 4)
    rs = rows(store, rid)
    assert verify_rows(rid, rs, anchor=rs[0]["prev_hash"]).ok  # the chain alone cannot tell
    assert store.verify(rid).problem == "truncated"  # the ledger saw a longer run
    rewrite_ledger(store, rid)
    res = store.verify(rid)
    assert not res.ok and res.problem == "seal mismatch"


def test_inserted_event_with_forged_hash(store: Store, run: str) -> None:
    insert_forged_event(store, run)
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("inserted", 5)


def test_inserted_event_with_garbage_hash(store: Store, run: str) -> None:
    rs = rows(store, run)
    for r in reversed(rs[2:]):
        sql(
            store,
            "UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?",
            r["seq"] + 1,
            run,
            r["seq"],
        )
    put(store, run, dict(rs[2], seq=3, kind="note", data={"text": "x"}, hash="f" * 64))
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("inserted", 3)


def test_swapped_events(store: Store, run: str) -> None:
    sql(store, "UPDATE events SET seq = -1 WHERE run_id = ? AND seq = ?", run, 8)
    sql(store, "UPDATE events SET seq = 8 WHERE run_id = ? AND seq = ?", run, 9)
    sql(store, "UPDATE events SET seq = 9 WHERE run_id = ? AND seq = -1", run)
    res = store.verify(run)
    assert (res.ok, res.problem, res.first_bad_seq) == (False, "reordered", 8)


def test_swapped_contents_hashes_left_in_place(store: Store, run: str) -> None:
    rs = rows(store, run)
    a, b = rs[9], rs[10]
    for src, dst in ((a, b), (b, a)):
        sql(
            store,
            "UPDATE events SET ts = ?, kind = ?, actor = ?, step_id = ?, host = ?, data = ? "
            "WHERE run_id = ? AND seq = ?",
            src["ts"],
            src["kind"],
            src["actor"],
            src["step_id"],
            src["host"],
            json.dumps(src["data"], ensure_ascii=False),
            run,
            dst["seq"],
        )
    res = store.verify(run)
    assert (res.problem, res.first_bad_seq) == ("reordered", 10)


def test_runbook_text_changed(store: Store, run: str) -> None:
    sql(store, "UPDATE runs SET runbook_text = ? WHERE run_id = ?", "steps: [rm -rf /]\n", run)
    res = store.verify(run)
    assert not res.ok and res.problem == "meta changed"


def test_whole_chain_rewrite_without_a_seal_is_caught_by_the_ledger(store: Store, run: str) -> None:
    sql(
        store,
        "UPDATE events SET data = ? WHERE run_id = ? AND seq = ?",
        json.dumps({"status": "ok"}),
        run,
        8,
    )
    rehash_from(store, run, 8)
    res = store.verify(run)
    assert (res.ok, res.problem) == (False, "re-chained")
    # tamper-evident is not tamper-proof: rewriting the ledger too needs a seal to catch
    rewrite_ledger(store, run)
    assert store.verify(run).verdict == "not sealed"


# ----------------------------------------------------------------------------- seals


@pytest.fixture(params=["hmac-env", "hmac-file", "ed25519"])
def sealed_store(
    request: pytest.FixtureRequest,
    make_store: Callable[..., Store],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Store:
    if request.param == "hmac-env":
        monkeypatch.setenv("RESPOND_SEAL_KEY", "correct horse battery staple")
        return make_store("hmac:RESPOND_SEAL_KEY")
    if request.param == "hmac-file":
        key = tmp_path / "seal.key"
        key.write_bytes(b"0123456789abcdef0123456789abcdef\n")
        return make_store(str(key))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = tmp_path / "seal.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    return make_store(f"ed25519:{key}")


def test_finished_run_is_sealed(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    events = sealed_store.events(rid)
    assert events[-1].kind == "sealed" and events[-2].kind == "run-finished"
    assert events[-1].data["seq"] == events[-2].seq
    assert events[-1].data["hash"] == events[-2].hash
    res = sealed_store.verify(rid)
    assert res.ok and res.sealed is True and res.verdict == "intact" and not res.failed
    assert str(res).startswith(f"{rid}: intact (") and "seal valid" in str(res)


def test_unfinished_run_is_not_sealed(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store, finish=False)
    assert all(e.kind != "sealed" for e in sealed_store.events(rid))
    res = sealed_store.verify(rid)
    assert res.ok and (res.verdict, res.failed) == ("not finished", True)
    assert "no run-finished" in res.detail


def test_note_after_finish_is_resealed(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    sealed_store.append(rid, [EventDraft(kind=EventKind.NOTE, data={"text": "事后备注"})])
    kinds = [e.kind for e in sealed_store.events(rid)]
    assert kinds[-3:] == ["sealed", "note", "sealed"]
    assert sealed_store.verify(rid).ok


def test_whole_chain_rewrite_breaks_the_seal(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    sql(
        sealed_store,
        "UPDATE events SET data = ? WHERE run_id = ? AND seq = ?",
        json.dumps({"status": "ok"}),
        rid,
        8,
    )
    rehash_from(sealed_store, rid, 8)
    rewrite_ledger(sealed_store, rid)
    res = sealed_store.verify(rid)
    assert (res.ok, res.problem) == (False, "seal mismatch")


def test_resealed_with_attacker_key_fails(sealed_store: Store) -> None:
    """A journal re-sealed after tampering (with a key the attacker made up) must fail."""
    import hashlib
    import hmac

    rid = record_sample_run(sealed_store)
    seal = rows(sealed_store, rid)[-1]
    d = dict(seal["data"])
    d["signature"] = hmac.new(b"attacker", b"whatever", hashlib.sha256).hexdigest()
    seal["data"] = d
    sql(
        sealed_store,
        "UPDATE events SET data = ?, hash = ? WHERE run_id = ? AND seq = ?",
        json.dumps(d),
        event_hash(seal["prev_hash"], seal),
        rid,
        seal["seq"],
    )
    rewrite_ledger(sealed_store, rid)
    res = sealed_store.verify(rid)
    assert (res.ok, res.problem) == (False, "seal mismatch")


def test_seal_deleted(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    last = rows(sealed_store, rid)[-1]["seq"]
    sql(sealed_store, "DELETE FROM events WHERE run_id = ? AND seq = ?", rid, last)
    res = sealed_store.verify(rid)
    assert (res.ok, res.problem, res.first_bad_seq) == (False, "truncated", last)
    assert "finished and sealed" in res.detail


def test_event_appended_after_seal(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    last = rows(sealed_store, rid)[-1]
    forged = dict(last, seq=last["seq"] + 1, kind="note", data={"text": "added later"})
    forged["prev_hash"] = last["hash"]
    forged["hash"] = event_hash(last["hash"], forged)
    put(sealed_store, rid, forged)
    res = sealed_store.verify(rid)
    assert (res.ok, res.problem, res.first_bad_seq) == (False, "inserted", forged["seq"])


def test_meta_rewrite_is_meta_changed(sealed_store: Store) -> None:
    rid = record_sample_run(sealed_store)
    with sealed_store._read() as tx:
        meta = json.loads(tx.query("SELECT meta FROM runs WHERE run_id = ?", (rid,))[0][0])
    meta["operator"] = "someone-else@ops"
    sql(sealed_store, "UPDATE runs SET meta = ? WHERE run_id = ?", json.dumps(meta), rid)
    res = sealed_store.verify(rid)
    assert (res.ok, res.problem) == (False, "meta changed")


def test_wrong_key_at_verify_time(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_A", "a" * 32)
    monkeypatch.setenv("KEY_B", "b" * 32)
    rid = record_sample_run(make_store("hmac:KEY_A"))
    res = make_store("hmac:KEY_B").verify(rid)
    assert (res.ok, res.problem) == (False, "seal mismatch")


def test_missing_key_env_fails_before_recording(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    from respond.errors import ConfigError

    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    store = make_store("hmac:NOT_SET_KEY")
    rid = "20261123T051200Z-0001"
    with pytest.raises(ConfigError, match="NOT_SET_KEY"):
        store.create_run(rid, {"runbook": "x"})
    assert store.runs() == []  # reading still works without the key; nothing was recorded
