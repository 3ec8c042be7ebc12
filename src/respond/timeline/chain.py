"""The hash chain: canonical form, event hashes, seals, and the verifier.

``hash = sha256(prev_hash + canonical_json(run_id, seq, ts, kind, actor, step_id, host, data))``
where canonical JSON is ``sort_keys``, compact separators, ``ensure_ascii=False``. The first
event of a run chains to the run's *anchor*, ``run_digest`` of its ``runs`` row (identity,
creation time, meta, runbook text), so editing the run record breaks the chain; runs
recorded before anchors existed chain to ``GENESIS``. A chain alone is tamper-*evident* only
against partial edits: whoever can write the database can recompute every hash. The store's
ledger (``respond.timeline.ledger``) remembers where each run started and ended, and a
*seal* (HMAC-SHA256 or Ed25519 over the last hash, with a key the writer of the database
does not hold) closes the rest of the gap.

The verifier recomputes everything and names the first bad sequence number and what happened
there: ``changed``, ``deleted``, ``inserted``, ``reordered``, ``truncated``, ``re-chained``,
``seal mismatch``, ``meta changed`` (and, over the store, ``run deleted``, ``run inserted``).
A run that is not tampered with gets a verdict: ``intact``, ``in progress``, ``not finished``
or ``not sealed``.
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


def run_digest(run_id: str, created: str, meta: Mapping[str, Any], runbook_text: str | None) -> str:
    """What a run's first event chains to: its identity and the whole run record, so an
    edit of ``runs.meta`` (drill flag, operator, inventory snapshot...) breaks the chain."""
    body = {
        "v": 1,
        "run_id": run_id,
        "created": created,
        "meta": meta,
        "runbook_text": runbook_text,
    }
    return hashlib.sha256(("respond-run:" + canonical_json(body)).encode("utf-8")).hexdigest()


def meta_hash(meta: Mapping[str, Any], runbook_text: str | None) -> str:
    return hashlib.sha256(
        canonical_json({"meta": meta, "runbook_text": runbook_text}).encode("utf-8")
    ).hexdigest()


# --------------------------------------------------------------------------- signing


class Signer:
    """Seals a run: signs ``{run_id, seq, hash, meta}`` with HMAC-SHA256 or Ed25519.

    An Ed25519 signer built from a public key only (``load_public_key``) checks seals but
    cannot make them: an auditor needs no secret of the writer."""

    def __init__(
        self,
        alg: str,
        key: bytes,
        key_id: str,
        private: Any = None,
        *,
        public: Any = None,
        material: Sequence[str] = (),
    ) -> None:
        self.alg = alg
        self._key = key
        self.key_id = key_id
        self._private = private
        self._public: Any = (
            public
            if public is not None
            else (private.public_key() if private is not None else None)
        )
        self._material = tuple(m for m in material if m)

    @property
    def can_sign(self) -> bool:
        return self.alg != "ed25519" or self._private is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Texts that must never reach a sink: the key and the key file's contents."""
        return self._material

    def payload(self, run_id: str, seq: int, last_hash: str, meta_digest: str) -> bytes:
        return canonical_json(
            {"run_id": run_id, "seq": seq, "hash": last_hash, "meta": meta_digest}
        ).encode("utf-8")

    def sign(self, payload: bytes) -> str:
        if self.alg == "ed25519":
            if self._private is None:
                raise ConfigError("an Ed25519 public key can check seals but not make them")
            return base64.b64encode(self._private.sign(payload)).decode("ascii")
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def check(self, payload: bytes, signature: str) -> bool:
        if self.alg == "ed25519":
            from cryptography.exceptions import InvalidSignature

            try:
                self._public.verify(base64.b64decode(str(signature)), payload)
            except (InvalidSignature, ValueError):
                return False
            return True
        return hmac.compare_digest(self.sign(payload), str(signature))

    def public_key_text(self, fmt: str = "pem") -> str:
        """The Ed25519 public key (``pem`` or ``openssh``) for auditors."""
        if self.alg != "ed25519" or self._public is None:
            raise ConfigError(
                "the signing key is an HMAC secret: it has no public key",
                hint="use 'signing_key: ed25519:PATH' so auditors can verify without the secret",
            )
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if fmt == "openssh":
            raw = self._public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
            return str(raw.decode("ascii")) + " respond-seal\n"
        pem = self._public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        return str(pem.decode("ascii"))


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
        value = _take_env(name)
        if not value:
            raise ConfigError(
                f"signing_key names the environment variable {name}, which is not set",
                hint=f"export {name}=<secret> (the key that seals finished runs)",
            )
        key = value.encode("utf-8")
        return Signer("hmac-sha256", key, _key_id(key), material=[value])
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
        return Signer("ed25519", b"", _key_id(public), private, material=_file_material(raw))
    if spec.startswith("ed25519:"):
        raise ConfigError(f"signing key {path} is not a PEM Ed25519 private key")
    key = raw.strip()
    if len(key) < 16:
        raise ConfigError(f"signing key {path} is too short (at least 16 bytes)")
    return Signer("hmac-sha256", key, _key_id(key), material=_file_material(raw))


# Values of ``hmac:ENV_VAR`` keys taken out of the environment, so a store opened again in
# the same process still finds its key while no child process can inherit it.
_TAKEN_KEYS: dict[str, str] = {}


def take_key_from_environment(spec: Any) -> None:
    """For ``signing_key: hmac:ENV_VAR``: move the key out of the environment now (it stays
    available to ``load_signer`` in this process)."""
    if isinstance(spec, str) and spec.startswith("hmac:"):
        _take_env(spec[5:])


def _take_env(name: str) -> str | None:
    """Read the signing key from the environment and remove it there, so that no child
    (a local step, ansible-playbook, ssh) inherits it."""
    value = os.environ.get(name)
    if value:
        _wipe_initial_env(name)
        os.environ.pop(name, None)
        _TAKEN_KEYS[name] = value
        return value
    return _TAKEN_KEYS.get(name)


def _wipe_initial_env(name: str) -> None:
    """Overwrite the value in the C environment block too: ``os.environ.pop`` only unlinks
    it, and the kernel keeps showing the original block in ``/proc/<pid>/environ`` to every
    process of the same user (a step could read its parent's)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        getenv = libc.getenv
        getenv.restype = ctypes.c_void_p
        getenv.argtypes = [ctypes.c_char_p]
        encoded = os.fsencode(name)
        # glibc keeps every definition of a name; wipe and unlink each of them
        for _ in range(16):
            ptr = getenv(encoded)
            if not ptr:
                break
            ctypes.memset(ptr, ord("x"), len(ctypes.string_at(ptr)))
            libc.unsetenv(encoded)
    except (OSError, AttributeError, TypeError):
        pass  # no C library to reach (not Linux): the environment was cleaned above


def _file_material(raw: bytes) -> list[str]:
    """The key file as text and each of its lines (a PEM body may be printed line by line)."""
    text = raw.decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "-----" not in ln]
    return [text.strip(), *lines]


def load_public_key(path: Path) -> Signer:
    """An Ed25519 public key (PEM ``PUBLIC KEY`` or an OpenSSH ``ssh-ed25519`` line) that
    checks seals made with its private key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read public key {path}: {exc.strerror}") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_public_key,
        load_ssh_public_key,
    )

    try:
        if raw.lstrip().startswith(b"ssh-"):
            public: Any = load_ssh_public_key(raw.strip())
        else:
            public = load_pem_public_key(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not a PEM or OpenSSH public key ({exc})",
            hint="respond timeline public-key prints the public key of the signing key",
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    key = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Signer("ed25519", b"", _key_id(key), public=public)


def _key_id(material: bytes) -> str:
    return hashlib.sha256(b"respond-key-id:" + material).hexdigest()[:16]


# --------------------------------------------------------------------------- verify


INTACT = "intact"
IN_PROGRESS = "in progress"
NOT_FINISHED = "not finished"
NOT_SEALED = "not sealed"
TAMPERED = "tampered"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool  # no tampering found (the verdict says whether the record is also complete)
    run_id: str
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None  # changed|deleted|inserted|reordered|seal mismatch|truncated|…
    detail: str = ""
    sealed: bool | None = None  # True: seal checked; False: finished but unsealed; None: n/a
    verdict: str = INTACT  # intact|in progress|not finished|not sealed|tampered
    strict: bool = False  # a key was given to check seals: "not sealed" fails too
    scope: str = "run"  # run|ledger

    @property
    def failed(self) -> bool:
        """Whether ``verify`` exits 1 for this result."""
        if self.verdict in (TAMPERED, NOT_FINISHED):
            return True
        return self.verdict == NOT_SEALED and self.strict

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "scope": self.scope,
            "verdict": self.verdict,
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "detail": self.detail,
            "sealed": self.sealed,
        }

    def __str__(self) -> str:
        name = "ledger" if self.scope == "ledger" else self.run_id
        unit = "entries" if self.scope == "ledger" else "events"
        if self.ok:
            seal = ", seal valid" if self.sealed else ""
            extra = f"; {self.detail}" if self.detail else ""
            return f"{name}: {self.verdict} ({self.checked} {unit}{seal}{extra})"
        where = ""
        if self.first_bad_seq is not None:
            where = f" at {'entry' if self.scope == 'ledger' else 'seq'} {self.first_bad_seq}"
        extra = f": {self.detail}" if self.detail else ""
        return f"{name}: TAMPERED — {self.problem}{where}{extra}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where the store's ledger says a run stood when it finished (or was sealed)."""

    last_seq: int
    last_hash: str
    sealed: bool = False


def is_finished(rows: Sequence[Mapping[str, Any]]) -> bool:
    """A run-finished event with no run-resumed after it."""
    for r in reversed(rows):
        if r["kind"] == "run-finished":
            return True
        if r["kind"] == "run-resumed":
            return False
    return False


def verify_rows(
    run_id: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    signer: Signer | None = None,
    meta: Mapping[str, Any] | None = None,
    runbook_text: str | None = None,
    anchor: str = GENESIS,
    checkpoints: Sequence[Checkpoint] | None = None,
    live: str | None = None,
    strict: bool | None = None,
) -> VerifyResult:
    """Check a run's rows (ordered by seq). Each row has the hashed fields plus
    ``prev_hash`` and ``hash``; ``data`` is the decoded JSON. ``anchor`` is what the first
    event must chain to, ``checkpoints`` where the ledger saw the run finish (None: no
    ledger to consult), ``live`` who
    holds the run now (None: nobody), ``strict`` whether a missing seal fails."""
    n = len(rows)
    strict = signer is not None if strict is None else strict

    def bad(seq: int | None, problem: str, detail: str = "") -> VerifyResult:
        return VerifyResult(False, run_id, n, seq, problem, detail, verdict=TAMPERED)

    found = _walk(run_id, rows, anchor)
    if found is not None:
        return bad(*found)
    found = _check_checkpoints(rows, checkpoints)
    if found is not None:
        return bad(*found)

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

    sealed = _check_seals(run_id, rows, signer, meta, runbook_text)
    if sealed is not None and not sealed.ok:
        return sealed
    return _verdict(run_id, rows, sealed, live, strict)


def _walk(
    run_id: str, rows: Sequence[Mapping[str, Any]], anchor: str
) -> tuple[int | None, str, str] | None:
    by_hash: dict[str, int] = {}
    for i, r in enumerate(rows):
        by_hash.setdefault(r["hash"], i)
        if r["run_id"] != run_id:
            return r["seq"], "inserted", f"event belongs to run {r['run_id']}"
    prev = anchor
    for i, r in enumerate(rows):
        expected = i + 1
        seq = r["seq"]
        if seq != expected:
            return expected, "deleted", f"no event with seq {expected} (next is {seq})"
        self_ok = event_hash(r["prev_hash"], r) == r["hash"]
        link_ok = r["prev_hash"] == prev
        if self_ok and link_ok:
            prev = r["hash"]
            continue
        if i == 0 and self_ok and anchor != GENESIS:
            return (
                seq,
                "re-chained",
                "the first event does not chain to the run's anchor (the chain was recomputed)",
            )
        problem, at, detail = _classify(rows, i, prev, by_hash, self_ok)
        return at, problem, detail
    return None


def _check_checkpoints(
    rows: Sequence[Mapping[str, Any]], checkpoints: Sequence[Checkpoint] | None
) -> tuple[int | None, str, str] | None:
    if checkpoints is None:
        return None
    n = len(rows)
    for cp in checkpoints:
        if cp.last_seq > n:
            what = "finished and sealed" if cp.sealed else "finished"
            return (
                n + 1,
                "truncated",
                f"the record ends at seq {n}; the ledger saw the run {what} at seq {cp.last_seq}",
            )
        if rows[cp.last_seq - 1]["hash"] != cp.last_hash:
            return (
                cp.last_seq,
                "re-chained",
                "the event's hash differs from the ledger checkpoint (the chain was recomputed)",
            )
    if is_finished(rows):
        last = max((cp.last_seq for cp in checkpoints), default=0)
        if n > last:
            what = f"after the ledger checkpoint at seq {last}" if last else "not in the ledger"
            return last + 1, "inserted", f"events of a finished run {what}"
    return None


def _verdict(
    run_id: str,
    rows: Sequence[Mapping[str, Any]],
    sealed: VerifyResult | None,
    live: str | None,
    strict: bool,
) -> VerifyResult:
    n = len(rows)
    if not is_finished(rows):
        if live is not None:
            return VerifyResult(
                True, run_id, n, detail=f"chain intact so far; held by {live}", verdict=IN_PROGRESS
            )
        if rows:
            last = rows[-1]
            evidence = (
                f"last event seq {last['seq']} ({last['kind']}) at {last['ts']}; no run-finished "
                "and no live process holds the run: it crashed, was killed or was cut short"
            )
        else:
            evidence = "no events recorded and no live process holds the run"
        return VerifyResult(True, run_id, n, detail=evidence, verdict=NOT_FINISHED)
    if sealed is not None and sealed.sealed:
        return VerifyResult(True, run_id, n, sealed=True, verdict=INTACT, strict=strict)
    seals = [r for r in rows if r["kind"] == "sealed"]
    if seals:
        detail = (
            f"sealed with key {seals[-1]['data'].get('key_id')}, but no key was given to "
            "check the seal (--public-key FILE or signing_key)"
        )
    else:
        detail = "finished, no seal: no signing key was configured"
    return VerifyResult(
        True, run_id, n, detail=detail, sealed=False, verdict=NOT_SEALED, strict=strict
    )


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
) -> VerifyResult | None:
    """None: nothing to check (no key or no seal); else the seals' result."""
    n = len(rows)
    seals = [r for r in rows if r["kind"] == "sealed"]
    if signer is None or not seals:
        return None

    def bad(seq: int, problem: str, detail: str) -> VerifyResult:
        return VerifyResult(False, run_id, n, seq, problem, detail, verdict=TAMPERED)

    digest = meta_hash(meta or {}, runbook_text)
    for s in seals:
        d = s["data"]
        over_seq = int(d.get("seq", 0))
        target = rows[over_seq - 1] if 1 <= over_seq <= n else None
        if target is None or target["hash"] != d.get("hash") or s["prev_hash"] != d.get("hash"):
            return bad(s["seq"], "seal mismatch", "seal covers a different chain")
        if d.get("key_id") != signer.key_id:
            return bad(
                s["seq"],
                "seal mismatch",
                f"sealed with key {d.get('key_id')}, the key given is {signer.key_id}",
            )
        payload = signer.payload(run_id, over_seq, d["hash"], digest)
        if not signer.check(payload, d.get("signature", "")):
            return bad(
                s["seq"],
                "seal mismatch",
                "signature does not match (chain or run record rewritten)",
            )
    last = seals[-1]
    after = [r for r in rows if r["seq"] > last["seq"]]
    if after and is_finished(rows):
        return bad(after[0]["seq"], "inserted", "events after the last seal")
    return VerifyResult(True, run_id, n, sealed=True)
