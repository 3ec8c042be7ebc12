"""The store's ledger: one hash chain over the life of every run in the store.

Each run's own chain proves its events; it cannot show that a whole run was deleted, that a
run was slipped in, or that the tail of a finished run was cut off. The ledger can: every run
creation, import and finish (or seal) appends an entry ``{seq, ts, kind, run_id, last_seq,
last_hash, anchor, meta_digest, sealed}`` chained like events
(``hash = sha256("respond-ledger:" + prev_hash + canonical_json(entry))``) and, when a
signing key is configured, signed. Entry kinds: ``created``, ``imported``, ``migrated`` (a
run recorded before the ledger existed, entered once by the schema migration) and
``checkpoint`` (where a run stood when it finished).

Functions take anything with ``execute``/``query`` (a store transaction or a migration
context), so the migration and the store write entries the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from respond.timeline.chain import (
    GENESIS,
    INTACT,
    TAMPERED,
    Checkpoint,
    Signer,
    VerifyResult,
    canonical_json,
)
from respond.timeline.migrations import MigrationContext

OPENING_KINDS = ("created", "imported", "migrated")
HASHED = ("seq", "ts", "kind", "run_id", "last_seq", "last_hash", "anchor", "meta_digest", "sealed")
COLUMNS = ", ".join((*HASHED, "prev_hash", "hash", "key_id", "signature"))
LEDGER_SCOPE = "ledger"


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    ts: str
    kind: str
    run_id: str
    last_seq: int | None
    last_hash: str | None
    anchor: str | None
    meta_digest: str | None
    sealed: bool
    prev_hash: str
    hash: str
    key_id: str | None
    signature: str | None

    def body(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in HASHED}

    def checkpoint(self) -> Checkpoint | None:
        if self.last_seq is None or self.last_hash is None:
            return None
        return Checkpoint(self.last_seq, self.last_hash, self.sealed)


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    text = "respond-ledger:" + prev_hash + canonical_json(body)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed_text(entry_hash_hex: str) -> bytes:
    return ("respond-ledger-entry:" + entry_hash_hex).encode("utf-8")


def append(
    tx: MigrationContext,
    *,
    ts: str,
    kind: str,
    run_id: str,
    last_seq: int | None = None,
    last_hash: str | None = None,
    anchor: str | None = None,
    meta_digest: str | None = None,
    sealed: bool = False,
    signer: Signer | None = None,
) -> Entry:
    """Append one entry. The caller holds the store's ledger lock (one writer at a time)."""
    last = tx.query("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS)
    body: dict[str, Any] = {
        "seq": seq,
        "ts": ts,
        "kind": kind,
        "run_id": run_id,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "anchor": anchor,
        "meta_digest": meta_digest,
        "sealed": sealed,
    }
    h = entry_hash(prev, body)
    key_id = signature = None
    if signer is not None and signer.can_sign:
        key_id, signature = signer.key_id, signer.sign(_signed_text(h))
    tx.execute(
        f"INSERT INTO ledger ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            ts,
            kind,
            run_id,
            last_seq,
            last_hash,
            anchor,
            meta_digest,
            1 if sealed else 0,
            prev,
            h,
            key_id,
            signature,
        ),
    )
    return Entry(**body, prev_hash=prev, hash=h, key_id=key_id, signature=signature)


def _entry(row: Sequence[Any]) -> Entry:
    (seq, ts, kind, run_id, last_seq, last_hash, anchor, digest, sealed, prev, h, kid, sig) = row
    return Entry(
        seq=int(seq),
        ts=ts,
        kind=kind,
        run_id=run_id,
        last_seq=None if last_seq is None else int(last_seq),
        last_hash=last_hash,
        anchor=anchor,
        meta_digest=digest,
        sealed=bool(sealed),
        prev_hash=prev,
        hash=h,
        key_id=kid,
        signature=sig,
    )


def entries(tx: MigrationContext, run_id: str | None = None) -> list[Entry]:
    if run_id is None:
        rows = tx.query(f"SELECT {COLUMNS} FROM ledger ORDER BY seq")
    else:
        rows = tx.query(f"SELECT {COLUMNS} FROM ledger WHERE run_id = ? ORDER BY seq", (run_id,))
    return [_entry(r) for r in rows]


def anchor_of(tx: MigrationContext, run_id: str) -> str:
    """What the run's first event chains to (GENESIS for a run older than anchors)."""
    rows = tx.query(
        "SELECT anchor FROM ledger WHERE run_id = ? AND kind IN (?, ?, ?) ORDER BY seq LIMIT 1",
        (run_id, *OPENING_KINDS),
    )
    return str(rows[0][0]) if rows and rows[0][0] else GENESIS


def check_entry(entry: Entry, signer: Signer | None) -> tuple[str, str] | None:
    """``(problem, detail)`` when this one entry cannot be trusted (its own hash, its
    signature), else None."""
    if entry_hash(entry.prev_hash, entry.body()) != entry.hash:
        return "ledger changed", f"ledger entry {entry.seq} does not match its hash"
    if signer is None or entry.signature is None:
        return None
    if entry.key_id != signer.key_id:
        return (
            "seal mismatch",
            f"ledger entry {entry.seq} was signed with key {entry.key_id}, "
            f"the key given is {signer.key_id}",
        )
    if not signer.check(_signed_text(entry.hash), entry.signature):
        return "seal mismatch", f"ledger entry {entry.seq}: signature does not match"
    return None


def verify(
    all_entries: Sequence[Entry], run_ids: Iterable[str], signer: Signer | None
) -> list[VerifyResult]:
    """Walk the whole ledger; then every run it records must still be in the store."""
    n = len(all_entries)

    def bad(seq: int, problem: str, detail: str) -> list[VerifyResult]:
        return [
            VerifyResult(
                False, "(ledger)", n, seq, problem, detail, verdict=TAMPERED, scope=LEDGER_SCOPE
            )
        ]

    prev = GENESIS
    signed_seen = False
    for i, e in enumerate(all_entries):
        if e.seq != i + 1:
            return bad(i + 1, "deleted", f"no entry {i + 1} (next is {e.seq})")
        why = check_entry(e, signer)
        if why is not None:
            return bad(e.seq, "changed" if why[0] == "ledger changed" else why[0], why[1])
        if e.prev_hash != prev:
            return bad(e.seq, "changed", f"entry {e.seq} does not chain to entry {e.seq - 1}")
        if signer is not None and e.signature is None and signed_seen:
            return bad(e.seq, "inserted", "unsigned entry after signed ones")
        signed_seen = signed_seen or e.signature is not None
        prev = e.hash
    signed = "signed" if signed_seen else "unsigned"
    results = [
        VerifyResult(
            True,
            "(ledger)",
            n,
            detail=f"{signed}; head {prev[:16]}",
            verdict=INTACT,
            scope=LEDGER_SCOPE,
        )
    ]
    present = set(run_ids)
    seen: set[str] = set()
    for e in all_entries:
        if e.kind in OPENING_KINDS and e.run_id not in present and e.run_id not in seen:
            seen.add(e.run_id)
            results.append(
                VerifyResult(
                    False,
                    e.run_id,
                    0,
                    None,
                    "run deleted",
                    f"the ledger records this run ({e.kind}, entry {e.seq}) but the store "
                    "has no such run",
                    verdict=TAMPERED,
                )
            )
    return results
