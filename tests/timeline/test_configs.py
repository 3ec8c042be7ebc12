"""The device archive (``Store.config_changes``) on SQLite and PostgreSQL, with the events
written by the engine's own journal from ``HostResult.config``."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from timeline_helpers import sample_meta, sql

from respond.engine.journal import Journal
from respond.errors import UnknownRun
from respond.results import ConfigSnapshot, HostResult, StepStatus
from respond.secrets import Masker
from respond.timeline import Store

BASE = "sysname core-sw1\n#\ninterface GigabitEthernet0/0/2\n shutdown\n#\nreturn\n"
UP = BASE.replace(" shutdown\n", " description UPLINK-BACKUP\n")
SECRET = "S3cret-Snmp"  # known to the run (a secret of its inventory): masked everywhere


def _record(
    store: Store, rid: str, operator: str, results: list[tuple[str, str, str, str]]
) -> None:
    """A run whose config steps found (host, step, before, after)."""
    store.create_run(rid, sample_meta(operator=operator))
    masker = Masker([SECRET])
    journal = Journal(store.recorder(rid, masker), masker, operator)
    now = datetime.now(UTC)
    for host, step_id, before, after in results:
        hr = HostResult(
            host=host,
            status=StepStatus.OK,
            started_at=now,
            ended_at=now,
            changed=True,
            config=ConfigSnapshot(
                command="display current-configuration", before=before, after=after
            ),
        )
        step = SimpleNamespace(id=step_id, no_log=False)
        journal.record(journal.host_event(step, hr))  # type: ignore[arg-type]


def test_archive_lists_every_config_step_across_runs(store: Store) -> None:
    _record(store, "run-a", "alice@ops", [("core-sw1", "failover", BASE, UP)])
    _record(
        store,
        "run-b",
        "bob@ops",
        [("core-sw1", "revert", UP, BASE), ("acc-sw1", "check", BASE, BASE)],
    )

    core = store.config_changes(device="core-sw1")
    assert [(c.run_id, c.step_id, c.operator, c.added, c.removed) for c in core] == [
        ("run-a", "failover", "alice@ops", 1, 1),
        ("run-b", "revert", "bob@ops", 1, 1),
    ]
    # content-addressed: the configuration run-a left is the one run-b found, stored once
    assert core[0].after == core[1].before
    assert core[0].before == core[1].after
    assert store.get_artifact(core[0].after or "").decode() == UP
    assert core[0].diff.startswith("--- core-sw1 before\n+++ core-sw1 after\n@@")

    (unchanged,) = store.config_changes(device="acc-sw1")
    assert (unchanged.changed, unchanged.diff, unchanged.summary) == (False, "", "no change")
    assert [c.device for c in store.config_changes(run_id="run-b")] == ["core-sw1", "acc-sw1"]
    later = store.config_changes(since=core[1].ts)
    assert [c.run_id for c in later] == ["run-b", "run-b"]
    with pytest.raises(UnknownRun):
        store.config_changes(run_id="run-none")
    assert store.verify("run-a").ok and store.verify("run-b").ok


def test_known_secrets_are_masked_in_the_stored_configurations(store: Store) -> None:
    with_secret = UP + f"snmp-agent usm-user v3 ops authentication-mode sha {SECRET}\n"
    _record(store, "run-s", "alice@ops", [("core-sw1", "failover", BASE, with_secret)])
    (change,) = store.config_changes(run_id="run-s")
    after = store.get_artifact(change.after or "").decode()
    assert SECRET not in after and SECRET not in change.diff
    assert "authentication-mode sha ***" in after


def test_verify_names_a_configuration_artifact_changed_or_gone(store: Store) -> None:
    _record(store, "run-t", "alice@ops", [("core-sw1", "failover", BASE, UP)])
    (change,) = store.config_changes(run_id="run-t")
    assert store.verify("run-t").ok
    edited = UP.replace("UPLINK-BACKUP", "UPLINK-FORGED").encode()
    sql(store, "UPDATE artifacts SET data = ? WHERE sha256 = ?", edited, change.after)
    result = store.verify("run-t")
    assert not result.ok and result.problem == "artifact changed", result
    sql(store, "UPDATE artifacts SET data = ? WHERE sha256 = ?", UP.encode(), change.after)
    assert store.verify("run-t").ok
    sql(store, "DELETE FROM artifacts WHERE sha256 = ?", change.before)
    result = store.verify("run-t")
    assert not result.ok and result.problem == "artifact missing", result


def test_a_configuration_not_read_after_the_change_is_recorded_as_missing(store: Store) -> None:
    _record(store, "run-u", "alice@ops", [("core-sw1", "failover", BASE, "")])
    (change,) = store.config_changes(run_id="run-u")
    assert change.after is None and change.before is not None
    assert (change.changed, change.diff) == (False, "")
    assert change.summary == "after not read"  # not "no change": nobody knows
    (ev,) = [e for e in store.events("run-u") if e.kind == "host-result"]
    assert ev.data["config"]["after"] is None
