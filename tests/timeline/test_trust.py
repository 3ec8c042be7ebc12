"""What the record proves, through `respond timeline verify` (exit codes included), on SQLite and
PostgreSQL: every kind of tampering is named and exits 1; an untouched run is never called
plain "intact" unless its seal was checked; seals verify with only the public key; the signing
key never reaches a child process or a sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from timeline_helpers import (
    insert_forged_event,
    record_sample_run,
    rehash_from,
    rewrite_ledger,
    sql,
)

from respond.timeline import Store

SEAL_ENV = "RESPOND_TRUST_SEAL_KEY"


@pytest.fixture
def respond(project: Path) -> Cli:
    return Cli(in_process=True, cwd=project)


def ed25519_key(path: Path) -> Path:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def verify(respond: Cli, *args: str) -> tuple[int, str, list[dict[str, Any]]]:
    text = respond("timeline", "verify", *args)
    as_json = respond("timeline", "verify", *args, "--json")
    assert as_json.rc == text.rc, (text, as_json)
    assert "Traceback" not in text.stderr
    return text.rc, text.stdout, as_json.json()


# ------------------------------------------------------------------ eight kinds of tampering


def _edit(store: Store, rid: str) -> None:
    sql(store, "UPDATE events SET data = ? WHERE run_id = ? AND seq = ?", '{"answer":"否"}', rid, 7)


def _delete_event(store: Store, rid: str) -> None:
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq = ?", rid, 6)


def _reorder(store: Store, rid: str) -> None:
    sql(store, "UPDATE events SET seq = -1 WHERE run_id = ? AND seq = ?", rid, 8)
    sql(store, "UPDATE events SET seq = 8 WHERE run_id = ? AND seq = ?", rid, 9)
    sql(store, "UPDATE events SET seq = 9 WHERE run_id = ? AND seq = -1", rid)


def _truncate(store: Store, rid: str) -> None:
    """Cut the tail: the last step's events, run-finished (and the seal, if any)."""
    sql(store, "DELETE FROM events WHERE run_id = ? AND seq > ?", rid, 18)


def _rechain(store: Store, rid: str) -> None:
    sql(store, "UPDATE events SET data = ? WHERE run_id = ? AND seq = ?", '{"status":"ok"}', rid, 8)
    rehash_from(store, rid, 8)


def _edit_drill_flag(store: Store, rid: str) -> None:
    _edit_meta(store, rid, drill=True)
    sql(store, "UPDATE runs SET drill = 1 WHERE run_id = ?", rid)


def _edit_operator(store: Store, rid: str) -> None:
    _edit_meta(store, rid, operator="someone-else@ops")
    sql(store, "UPDATE runs SET operator = ? WHERE run_id = ?", "someone-else@ops", rid)


def _edit_inventory_snapshot(store: Store, rid: str) -> None:
    _edit_meta(store, rid, inventory={"ups1": {"ansible_host": "10.9.9.9"}})


def _edit_drill_column_only(store: Store, rid: str) -> None:
    sql(store, "UPDATE runs SET drill = 1 WHERE run_id = ?", rid)


def _edit_meta(store: Store, rid: str, **change: Any) -> None:
    with store._read() as tx:
        meta = json.loads(tx.query("SELECT meta FROM runs WHERE run_id = ?", (rid,))[0][0])
    meta.update(change)
    sql(store, "UPDATE runs SET meta = ? WHERE run_id = ?", json.dumps(meta, sort_keys=True), rid)


TAMPERING: dict[str, tuple[Callable[[Store, str], None], str]] = {
    "edit": (_edit, "changed at seq 7"),
    "delete event": (_delete_event, "deleted at seq 6"),
    "insert event": (insert_forged_event, "inserted at seq 5"),
    "reorder": (_reorder, "reordered at seq 8"),
    "truncate": (_truncate, "truncated at seq 19"),
    "re-chain": (_rechain, "re-chained at seq 23"),
    "edit metadata: drill flag": (_edit_drill_flag, "meta changed"),
    "edit metadata: operator": (_edit_operator, "meta changed"),
    "edit metadata: inventory snapshot": (_edit_inventory_snapshot, "meta changed"),
    "edit metadata: runs.drill column": (_edit_drill_column_only, "meta changed: runs.drill"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_each_kind_of_tampering_exits_1_and_is_named(store: Store, respond: Cli, kind: str) -> None:
    """No key configured: the chain and the store's ledger alone catch each of these."""
    tamper, named = TAMPERING[kind]
    rid = record_sample_run(store)
    other = record_sample_run(store)
    assert verify(respond, rid)[0] == 0
    tamper(store, rid)
    code, out, doc = verify(respond, rid)
    assert code == 1 and f"{rid}: TAMPERED — {named}" in out, out
    assert doc[0]["verdict"] == "tampered" and doc[0]["ok"] is False
    code, out, doc = verify(respond, "--all")
    assert code == 1 and f"{other}: not sealed" in out and named in out


def test_a_truncated_sealed_run_exits_1_with_a_key(
    make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEAL_ENV, "truncation-seal-key-" + uuid.uuid4().hex)
    store = make_store(f"hmac:{SEAL_ENV}")
    rid = record_sample_run(store)
    assert verify(respond, rid)[1].startswith(f"{rid}: intact (")
    _truncate(store, rid)  # run-finished and the seal are gone
    code, out, _ = verify(respond, rid)
    assert code == 1 and "truncated at seq 19" in out and "finished and sealed at seq 24" in out


def test_rechain_with_a_key_breaks_the_seal_even_with_the_ledger_rewritten(
    make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEAL_ENV, "rechain-seal-key-" + uuid.uuid4().hex)
    store = make_store(f"hmac:{SEAL_ENV}")
    rid = record_sample_run(store)
    _rechain(store, rid)
    rewrite_ledger(store, rid)
    code, out, _ = verify(respond, rid)
    assert code == 1 and f"{rid}: TAMPERED — seal mismatch" in out


def test_a_deleted_run_is_found_by_verify_all(store: Store, respond: Cli) -> None:
    keep, gone = record_sample_run(store), record_sample_run(store)
    sql(store, "DELETE FROM events WHERE run_id = ?", gone)
    sql(store, "DELETE FROM runs WHERE run_id = ?", gone)
    code, out, doc = verify(respond, "--all")
    assert code == 1
    assert f"{gone}: TAMPERED — run deleted: the ledger records this run (created" in out
    assert f"{keep}: not sealed" in out
    assert {d["run_id"]: d["problem"] for d in doc}[gone] == "run deleted"


def test_a_run_slipped_into_the_store_is_found(store: Store, respond: Cli) -> None:
    """A run copied in with SQL (not through respond) is not in the ledger."""
    rid = record_sample_run(store)
    fake = "20260101T000000Z-f00d"
    with store._transaction() as tx:
        tx.execute(
            "INSERT INTO runs (run_id, created, meta, runbook_text, runbook, drill, operator) "
            "SELECT ?, created, meta, runbook_text, runbook, drill, operator FROM runs "
            "WHERE run_id = ?",
            (fake, rid),
        )
    code, out, _ = verify(respond, "--all")
    assert code == 1 and f"{fake}: TAMPERED — run inserted" in out


def test_a_rewritten_ledger_entry_is_found_by_verify_all(store: Store, respond: Cli) -> None:
    rid = record_sample_run(store)
    sql(store, "UPDATE ledger SET run_id = ? WHERE seq = 1", "20260101T000000Z-0000")
    code, out, _ = verify(respond, "--all")
    assert code == 1 and "ledger: TAMPERED — changed at entry 1" in out
    assert "the store's ledger failed verification" in respond("timeline", "verify").stderr
    assert rid in out


# ------------------------------------------------------------------ verdicts without tampering


def test_untouched_sealed_run_is_intact_exit_0(
    make_store: Callable[..., Store], respond: Cli, tmp_path: Path
) -> None:
    store = make_store(f"ed25519:{ed25519_key(tmp_path / 'seal.pem')}")
    rid = record_sample_run(store)
    code, out, doc = verify(respond, rid)
    assert code == 0 and out.startswith(f"{rid}: intact (24 events, seal valid)")
    assert (doc[0]["verdict"], doc[0]["sealed"]) == ("intact", True)
    code, out, doc = verify(respond)
    assert code == 0 and out.startswith("ledger: intact (2 entries; signed; head ")


def test_unsealed_run_is_not_sealed_exit_0_without_a_key_and_1_with_one(
    make_store: Callable[..., Store], respond: Cli, tmp_path: Path
) -> None:
    rid = record_sample_run(make_store())
    code, out, doc = verify(respond, rid)
    assert code == 0 and f"{rid}: not sealed" in out and "intact" not in out
    assert doc[0]["verdict"] == "not sealed"
    make_store(f"ed25519:{ed25519_key(tmp_path / 'seal.pem')}")  # a key is configured now
    code, out, _ = verify(respond, rid)
    assert code == 1 and f"{rid}: not sealed" in out


def test_live_run_is_in_progress_and_a_dead_one_is_not_finished(store: Store, respond: Cli) -> None:
    rid = record_sample_run(store, finish=False)
    with store.lock(rid, "runner@host"):
        code, out, doc = verify(respond, rid)
        assert code == 0 and f"{rid}: in progress (" in out and "held by" in out
        assert doc[0]["verdict"] == "in progress"
    code, out, doc = verify(respond, rid)
    assert code == 1 and f"{rid}: not finished (" in out
    assert "no run-finished and no live process holds the run" in out
    assert doc[0]["verdict"] == "not finished" and doc[0]["ok"] is True


# ------------------------------------------------------------------ Ed25519: the auditor's side


def test_seal_checks_with_only_the_public_key_in_another_process(
    make_store: Callable[..., Store], project: Path, tmp_path: Path, backend: str
) -> None:
    private = ed25519_key(tmp_path / "seal.pem")
    store = make_store(f"ed25519:{private}")
    rid = record_sample_run(store)
    writer = Cli(cwd=project)
    pem = writer("timeline", "public-key", check=True).stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    ssh = writer("timeline", "public-key", "--format", "openssh", check=True).stdout
    assert ssh.startswith("ssh-ed25519 ")
    (tmp_path / "seal.pub").write_text(pem)
    (tmp_path / "seal.ssh.pub").write_text(ssh)
    # the auditor: another process, a project without the private key (the file is gone)
    auditor = project.parent / "auditor"
    auditor.mkdir()
    (auditor / "respond.yaml").write_text("project: audit\n", encoding="utf-8")
    private.unlink()
    cli = Cli(cwd=auditor)  # the same store (RESPOND_HOME or RESPOND_DB), another project
    for pub in ("seal.pub", "seal.ssh.pub"):
        result = cli("timeline", "verify", rid, "--public-key", str(tmp_path / pub))
        assert result.rc == 0 and f"{rid}: intact (24 events, seal valid)" in result.stdout, result
    # without a key the seal cannot be checked: said so, never "intact"
    result = cli("timeline", "verify", rid)
    assert result.rc == 0 and "not sealed" in result.stdout and "no key was given" in result.stdout


def test_a_wrong_public_key_is_a_seal_mismatch(
    make_store: Callable[..., Store], respond: Cli, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    store = make_store(f"ed25519:{ed25519_key(tmp_path / 'seal.pem')}")
    rid = record_sample_run(store)
    other = load_pem_private_key(ed25519_key(tmp_path / "other.pem").read_bytes(), None)
    wrong = tmp_path / "wrong.pub"
    wrong.write_bytes(
        other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    code, out, _ = verify(respond, rid, "--public-key", str(wrong))
    assert code == 1 and f"{rid}: TAMPERED — seal mismatch" in out


def test_bad_public_key_file_is_a_clear_error(respond: Cli, store: Store, tmp_path: Path) -> None:
    rid = record_sample_run(store)
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key\n")
    result = respond("timeline", "verify", rid, "--public-key", str(junk))
    assert result.rc == 2 and "is not a PEM or OpenSSH public key" in result.stderr
    assert "Traceback" not in result.stderr


def test_public_key_of_an_hmac_key_is_a_clear_error(
    make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEAL_ENV, "hmac-key-" + uuid.uuid4().hex)
    make_store(f"hmac:{SEAL_ENV}")
    result = respond("timeline", "public-key")
    assert result.rc == 2 and "HMAC secret: it has no public key" in result.stderr


# ------------------------------------------------------------------ the key never leaks

RUNBOOK = """runbook: env-dump
version: 1.0.0
title: env
scenario: other
severity: 4
steps:
  - id: dump
    name: dump the environment
    kind: local
    command: >-
      sh -c 'env; echo ---self; tr "\\000" "\\n" < /proc/self/environ;
      echo ---parent; tr "\\000" "\\n" < /proc/$PPID/environ'
"""


def test_signing_key_is_not_inherited_by_a_local_step_nor_stored(
    project: Path, backend: str, tmp_path: Path
) -> None:
    key = "SEALKEY-" + uuid.uuid4().hex
    control = "CONTROL-" + uuid.uuid4().hex
    (project / "respond.yaml").write_text(
        f"project: test\nsigning_key: hmac:{SEAL_ENV}\n", encoding="utf-8"
    )
    (project / "runbooks" / "env-dump.yaml").write_text(RUNBOOK, encoding="utf-8")
    home = project / ".respond"
    cli = Cli(cwd=project, env={SEAL_ENV: key, "RESPOND_HOME": str(home), "CONTROL": control})
    run = cli("run", "env-dump", "--json")
    assert run.rc == 0, run
    rid = run.json()["run_id"]
    shown = cli("timeline", "show", rid, "--json", check=True)
    exported = cli("timeline", "export", rid, "--format", "json", check=True)
    events = shown.json()["events"]
    output = json.dumps(events, ensure_ascii=False)
    assert control in output  # the dump was recorded: the test can see the environment
    assert "---parent" in output
    assert SEAL_ENV not in output.split("---self")[0]  # not in the step's environment at all
    assert f"{SEAL_ENV}=***" not in output  # not even masked: nowhere to mask
    for text in (run.stdout, run.stderr, shown.stdout, exported.stdout, output):
        assert key not in text
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert key.encode() not in stored
    assert cli("timeline", "verify", rid).stdout.startswith(f"{rid}: intact (")


PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - name: dump the environment
      shell: 'env; echo ---parent; tr "\\000" "\\n" < /proc/$PPID/environ'
      register: dump
    - debug: {var: dump.stdout_lines}
"""


def test_signing_key_is_not_inherited_by_ansible_playbook(project: Path) -> None:
    key = "SEALKEY-" + uuid.uuid4().hex
    control = "CONTROL-" + uuid.uuid4().hex
    (project / "respond.yaml").write_text(
        f"project: test\nsigning_key: hmac:{SEAL_ENV}\n", encoding="utf-8"
    )
    (project / "playbooks").mkdir()
    (project / "playbooks" / "env.yml").write_text(PLAYBOOK, encoding="utf-8")
    (project / "inventory.yaml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n",
        encoding="utf-8",
    )
    (project / "runbooks" / "ansible-env.yaml").write_text(
        "runbook: ansible-env\nversion: 1.0.0\ntitle: env\nscenario: other\nseverity: 4\n"
        "steps:\n  - {id: dump, name: dump, kind: ansible, targets: all, playbook: env.yml}\n",
        encoding="utf-8",
    )
    home = project / ".respond"
    cli = Cli(cwd=project, env={SEAL_ENV: key, "RESPOND_HOME": str(home), "CONTROL": control})
    run = cli("run", "ansible-env", "-i", "inventory.yaml", "--json")
    assert run.rc == 0, run
    shown = cli("timeline", "show", run.json()["run_id"], "--json", check=True).stdout
    assert control in shown and "---parent" in shown  # the playbook's environment was recorded
    assert SEAL_ENV not in shown.split("---parent")[0] and f"{SEAL_ENV}=***" not in shown
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(control.encode() in p.read_bytes() for p in files)
    assert not [p for p in files if key.encode() in p.read_bytes()]  # nor ansible's artifacts


def test_the_key_is_masked_in_the_record(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that prints the key (read from a file the operator left around) is masked."""
    key = "SEALKEY-" + uuid.uuid4().hex
    (project / "leak.txt").write_text(key)
    (project / "respond.yaml").write_text(
        f"project: test\nsigning_key: hmac:{SEAL_ENV}\n", encoding="utf-8"
    )
    (project / "runbooks" / "leak.yaml").write_text(
        RUNBOOK.replace("env-dump", "leak").split("    command:")[0]
        + "    command: cat leak.txt\n",
        encoding="utf-8",
    )
    home = project / ".respond"
    cli = Cli(cwd=project, env={SEAL_ENV: key, "RESPOND_HOME": str(home)})
    run = cli("run", "leak", "--json")
    assert run.rc == 0, run
    shown = cli("timeline", "show", run.json()["run_id"], "--json", check=True).stdout
    assert "***" in shown and key not in shown and key not in run.stdout + run.stderr
    assert key.encode() not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_key_is_taken_out_of_the_environment_of_this_process(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "RESPOND_TRUST_TAKEN_" + uuid.uuid4().hex[:8].upper()
    monkeypatch.setenv(name, "taken-key-" + uuid.uuid4().hex)
    store = make_store(f"hmac:{name}")
    assert name not in os.environ
    child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
    assert name not in child
    rid = record_sample_run(store)  # the store still seals with it
    assert make_store(f"hmac:{name}").verify(rid).verdict == "intact"


# ------------------------------------------------------------------ reports, imports, writers


def test_show_and_reports_flag_an_edited_record(store: Store, respond: Cli) -> None:
    rid = record_sample_run(store)
    _edit_drill_flag(store, rid)
    shown = respond("timeline", "show", rid)
    assert shown.rc == 0 and "(drill)" in shown.stdout
    assert "this record failed verification" in shown.stderr and "meta changed" in shown.stderr
    doc = respond("timeline", "show", rid, "--json").json()
    assert doc["verify"]["verdict"] == "tampered"
    md = respond("timeline", "export", rid, "--format", "md").stdout
    first_row = next(line for line in md.splitlines() if line.startswith("| **"))
    assert first_row.startswith("| **Integrity** | TAMPERED — meta changed")


def test_imported_runs_enter_the_ledger(
    store: Store,
    respond: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_store: Callable[..., Store],
) -> None:
    ids = [record_sample_run(store), record_sample_run(store, finish=False)]
    dump = tmp_path / "all.json"
    assert respond("timeline", "export", "--all", "-o", str(dump)).rc == 0
    monkeypatch.delenv("RESPOND_DB", raising=False)
    monkeypatch.setenv("RESPOND_HOME", str(tmp_path / "other-home"))
    assert respond("timeline", "import", str(dump)).rc == 0
    code, _, doc = verify(respond, "--all")
    assert code == 1  # the unfinished run is reported as such, nothing else
    assert {d["run_id"]: d["verdict"] for d in doc} == {
        "(ledger)": "intact",
        ids[0]: "not sealed",
        ids[1]: "not finished",
    }
    other = make_store()
    _truncate(other, ids[0])
    assert "truncated at seq 19" in verify(respond, ids[0])[1]
    sql(other, "DELETE FROM events WHERE run_id = ?", ids[1])
    sql(other, "DELETE FROM runs WHERE run_id = ?", ids[1])
    assert (
        f"{ids[1]}: TAMPERED — run deleted: the ledger records this run (imported"
        in (verify(respond, "--all")[1])
    )


def test_concurrent_writers_share_one_ledger(make_store: Callable[..., Store]) -> None:
    """Runs created and finished at once from several connections: the ledger stays one
    unbroken chain (PostgreSQL serialises its writers with an advisory lock)."""
    import threading

    stores = [make_store() for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def work(s: Store) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(4):
                record_sample_run(s, steps=1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    results = stores[0].verify_all()
    assert results[0].verdict == "intact" and results[0].checked == 24
    assert [r.verdict for r in results[1:]] == ["not sealed"] * 12
