"""The hash chain: canonical form, event hashes, seals, and the verifier.

``hash = sha256(prev_hash + canonical_json(run_id, seq, ts, kind, actor, step_id, host, data))``
where canonical JSON is ``sort_keys``, compact separators, ``ensure_ascii=False``. The first
event of a run chains to ``GENESIS``. A chain alone is tamper-*evident* only against partial
edits: whoever can write the database can recompute every hash. A *seal* (HMAC-SHA256 or
Ed25519 over the last hash, with a key the writer of the database does not hold) closes that
gap (RELIABILITY rule 2).

The verifier recomputes everything and names the first bad sequence number and what happened
there: ``changed``, ``deleted``, ``inserted``, ``reordered``, ``seal mismatch``,
``seal missing``, ``meta changed``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respond.errors import ConfigError

GENESIS = "0" * 64
HASHED_FIELDS = ("run_id", "seq", "ts", "kind", "actor", "step_id", "host", "data")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalise(data: Any) -> Any:
    """What ``data`` looks like after a JSON round trip (what the store gives back)."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def event_hash(prev_hash: str, row: Mapping[str, Any], seq: int | None = None) -> str:
    body = {k: row[k] for k in HASHED_FIELDS}
    if seq is not None:
        body["seq"] = seq
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def meta_hash(meta: Mapping[str, Any], runbook_text: str | None) -> str:
    return hashlib.sha256(
        canonical_json({"meta": meta, "runbook_text": runbook_text}).encode("utf-8")
    ).hexdigest()


# --------------------------------------------------------------------------- signing


class Signer:
    """Seals a run: signs ``{run_id, seq, hash, meta}`` with HMAC-SHA256 or Ed25519."""

    def __init__(self, alg: str, key: bytes, key_id: str, private: Any = None) -> None:
        self.alg = alg
        self._key = key
        self.key_id = key_id
        self._private = private

    def payload(self, run_id: str, seq: int, last_hash: str, meta_digest: str) -> bytes:
        return canonical_json(
            {"run_id": run_id, "seq": seq, "hash": last_hash, "meta": meta_digest}
        ).encode("utf-8")

    def sign(self, payload: bytes) -> str:
        if self.alg == "ed25519":
            return base64.b64encode(self._private.sign(payload)).decode("ascii")
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def check(self, payload: bytes, signature: str) -> bool:
        if self.alg == "ed25519":
            from cryptography.exceptions import InvalidSignature

            try:
                self._private.public_key().verify(base64.b64decode(signature), payload)
            except (InvalidSignature, ValueError):
                return False
            return True
        return hmac.compare_digest(self.sign(payload), str(signature))


def load_signer(spec: Any, root: Path | None = None) -> Signer | None:
    """``signing_key:`` from respond.yaml: ``hmac:ENV_VAR``, ``ed25519:PATH`` or a key file
    path (a PEM Ed25519 private key → Ed25519, anything else → HMAC with the file's bytes)."""
    if spec in (None, "", False):
        return None
    if not isinstance(spec, str):
        raise ConfigError(
            "respond.yaml: 'signing_key' must be 'hmac:ENV_VAR_NAME' or a key file path"
        )
    if spec.startswith("hmac:"):
        name = spec[5:]
        value = os.environ.get(name)
        if not value:
            raise ConfigError(
                f"signing_key names the environment variable {name}, which is not set",
                hint=f"export {name}=<secret> (the key that seals finished runs)",
            )
        key = value.encode("utf-8")
        return Signer("hmac-sha256", key, _key_id(key))
    path_text = spec[8:] if spec.startswith("ed25519:") else spec
    path = Path(os.path.expanduser(path_text))
    if not path.is_absolute() and root is not None:
        path = root / path
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read signing key {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in raw:
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import (
                Encoding,
                PublicFormat,
                load_pem_private_key,
            )
        except ImportError:
            raise ConfigError(
                f"signing key {path} is a PEM key; install 'cryptography' for Ed25519 seals"
            ) from None
        private = load_pem_private_key(raw, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigError(f"signing key {path} is not an Ed25519 private key")
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Signer("ed25519", b"", _key_id(public), private)
    if spec.startswith("ed25519:"):
        raise ConfigError(f"signing key {path} is not a PEM Ed25519 private key")
    key = raw.strip()
    if len(key) < 16:
        raise ConfigError(f"signing key {path} is too short (at least 16 bytes)")
    return Signer("hmac-sha256", key, _key_id(key))


def _key_id(material: bytes) -> str:
    return hashlib.sha256(b"respond-key-id:" + material).hexdigest()[:16]


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    run_id: str
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None  # changed|deleted|inserted|reordered|seal mismatch|seal missing|…
    detail: str = ""
    sealed: bool | None = None  # True: seal checked; False: finished but unsealed; None: n/a

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "detail": self.detail,
            "sealed": self.sealed,
        }

    def __str__(self) -> str:
        if self.ok:
            seal = {True: ", seal valid", False: ", not sealed", None: ""}[self.sealed]
            return f"{self.run_id}: intact ({self.checked} events{seal})"
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.run_id}: TAMPERED — {self.problem}{where}{extra}"


def verify_rows(
    run_id: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    signer: Signer | None = None,
    meta: Mapping[str, Any] | None = None,
    runbook_text: str | None = None,
) -> VerifyResult:
    """Check a run's rows (ordered by seq). Each row has the hashed fields plus
    ``prev_hash`` and ``hash``; ``data`` is the decoded JSON."""
    n = len(rows)

    def bad(seq: int | None, problem: str, detail: str = "") -> VerifyResult:
        return VerifyResult(False, run_id, n, seq, problem, detail)

    by_hash: dict[str, int] = {}
    for i, r in enumerate(rows):
        by_hash.setdefault(r["hash"], i)
        if r["run_id"] != run_id:
            return bad(r["seq"], "inserted", f"event belongs to run {r['run_id']}")

    prev = GENESIS
    for i, r in enumerate(rows):
        expected = i + 1
        seq = r["seq"]
        if seq != expected:
            return bad(expected, "deleted", f"no event with seq {expected} (next is {seq})")
        self_ok = event_hash(r["prev_hash"], r) == r["hash"]
        link_ok = r["prev_hash"] == prev
        if self_ok and link_ok:
            prev = r["hash"]
            continue
        problem, at, detail = _classify(rows, i, prev, by_hash, self_ok)
        return bad(at, problem, detail)

    # The stored run record (runbook text, params, ...) must match what the run announced.
    if meta is not None:
        declared = meta.get("sha256") or meta.get("runbook_sha256")
        if runbook_text is not None and declared and declared not in _text_digests(runbook_text):
            return bad(None, "meta changed", "stored runbook text does not match its sha256")
        started = next((r for r in rows if r["kind"] == "run-started"), None)
        if started is not None and declared:
            sha = started["data"].get("sha256") or started["data"].get("runbook_sha256")
            if sha and sha != declared:
                return bad(
                    started["seq"], "meta changed", "runbook sha256 differs from run-started"
                )

    return _check_seals(run_id, rows, signer, meta, runbook_text)


def _text_digests(text: str) -> set[str]:
    """sha256 of the text as it may have been on disk (LF or CRLF, with or without BOM)."""
    forms = {text, text.replace("\n", "\r\n"), "\ufeff" + text}
    return {hashlib.sha256(f.encode("utf-8")).hexdigest() for f in forms}


def _original_seq(r: Mapping[str, Any], limit: int) -> int | None:
    for s in range(1, limit + 1):
        if s != r["seq"] and event_hash(r["prev_hash"], r, seq=s) == r["hash"]:
            return s
    return None


def _classify(
    rows: Sequence[Mapping[str, Any]],
    i: int,
    prev: str,
    by_hash: Mapping[str, int],
    self_ok: bool,
) -> tuple[str, int, str]:
    r = rows[i]
    seq = r["seq"]
    limit = max(len(rows), max(x["seq"] for x in rows)) + len(rows) + 1
    if not self_ok:
        orig = _original_seq(r, limit)
        if orig is not None:
            # An intact event carrying another sequence number: it was moved.
            owner = by_hash.get(r["prev_hash"])
            if orig < seq:
                first = rows[owner + 1]["seq"] if owner is not None and owner + 1 < i else seq - 1
                return "inserted", first, f"event originally seq {orig} is now seq {seq}"
            if owner is not None and owner > i:
                return "reordered", seq, f"event seq {orig} was moved to seq {seq}"
            return "deleted", seq, f"event seq {orig} renumbered to {seq}; its predecessor is gone"
        # The next event skips this one and links to our predecessor: this one was added.
        if i + 1 < len(rows) and rows[i + 1]["prev_hash"] == prev:
            return "inserted", seq, "event is not part of the chain"
        # The content belongs at another position (events swapped, hashes left in place)?
        for j, q in enumerate(rows):
            if j != i and event_hash(q["prev_hash"], r, seq=q["seq"]) == q["hash"]:
                return "reordered", seq, f"content of seq {q['seq']} found at seq {seq}"
        return "changed", seq, "content does not match its hash"
    # Self-consistent, but not chained to the event before it.
    owner = by_hash.get(r["prev_hash"])
    if owner is not None and owner > i:
        return "reordered", seq, "event chains to a later event"
    if owner is not None and owner < i - 1:
        first = rows[owner + 1]["seq"]
        return "inserted", first, f"events {first}..{seq - 1} are not part of the chain"
    if i == 0:
        return "changed", seq, "first event does not start the chain"
    before = rows[i - 1]["seq"]
    return "changed", before, f"seq {seq} was chained to a different version of seq {before}"


def _check_seals(
    run_id: str,
    rows: Sequence[Mapping[str, Any]],
    signer: Signer | None,
    meta: Mapping[str, Any] | None,
    runbook_text: str | None,
) -> VerifyResult:
    n = len(rows)
    seals = [r for r in rows if r["kind"] == "sealed"]
    finished = any(r["kind"] == "run-finished" for r in rows)
    if signer is None:
        note = "seal not checked: no signing key configured" if seals else ""
        return VerifyResult(True, run_id, n, detail=note, sealed=None)
    if not seals:
        if finished:
            return VerifyResult(
                False, run_id, n, None, "seal missing", "finished run has no seal", sealed=False
            )
        return VerifyResult(True, run_id, n, sealed=None)
    digest = meta_hash(meta or {}, runbook_text)
    for s in seals:
        d = s["data"]
        over_seq = int(d.get("seq", 0))
        target = rows[over_seq - 1] if 1 <= over_seq <= n else None
        if target is None or target["hash"] != d.get("hash") or s["prev_hash"] != d.get("hash"):
            return VerifyResult(
                False, run_id, n, s["seq"], "seal mismatch", "seal covers a different chain"
            )
        if d.get("key_id") != signer.key_id:
            return VerifyResult(
                False,
                run_id,
                n,
                s["seq"],
                "seal mismatch",
                f"sealed with key {d.get('key_id')}, configured key is {signer.key_id}",
            )
        payload = signer.payload(run_id, over_seq, d["hash"], digest)
        if not signer.check(payload, d.get("signature", "")):
            return VerifyResult(
                False,
                run_id,
                n,
                s["seq"],
                "seal mismatch",
                "signature does not match (chain or run record rewritten)",
            )
    last = seals[-1]
    after = [r for r in rows if r["seq"] > last["seq"]]
    if after and finished:
        return VerifyResult(
            False, run_id, n, after[0]["seq"], "inserted", "events after the last seal"
        )
    return VerifyResult(True, run_id, n, sealed=True)
