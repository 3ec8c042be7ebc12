"""The backup check grades `stat -c '%Y %n'` against the collection time; the certificate
check grades the certificate a TLS server presented."""

from __future__ import annotations

from datetime import timedelta

from respond.checks.catalog import CertInfo, get
from respond.checks.result import State
from tests.checks.kit import NOW, assert_non_ok_has_advice, cert, commands, grade, problems, ssh

NIGHT = int((NOW - timedelta(hours=6, minutes=30)).timestamp())  # 01:30 UTC


def test_backup_age_of_the_newest_file():
    assert commands("backup", {"path": ["/srv/backup/db1 full.tar.gz", "/b/x"]}) == [
        "stat -c '%Y %n' '/srv/backup/db1 full.tar.gz' /b/x"
    ]
    out = f"{NIGHT - 86400} /b/db1-full.tar.gz\n{NIGHT} /b/db1-incr.tar.gz\n"
    result = grade("backup", ssh(out), {"path": ["/b/db1-full.tar.gz", "/b/db1-incr.tar.gz"]})
    assert (result.state, result.value, result.unit) == (State.OK, 6.5, "h")
    assert result.summary == (
        "BACKUP OK - newest backup /b/db1-incr.tar.gz is 6.5 h old (2026-12-02 01:30 UTC)"
    )
    assert result.plugin_line().endswith("| age=6.5h;26;50;0")
    assert len(result.details) == 2


def test_backup_stale_and_threshold_overrides():
    stale = f"{NIGHT - 3 * 86400} /b/db1-full.tar.gz\n"
    result = grade("backup", ssh(stale), {"path": "/b/db1-full.tar.gz"})
    assert (result.state, result.value) == (State.CRITICAL, 78.5)
    assert_non_ok_has_advice(result)
    warn = grade("backup", ssh(stale), {"path": "/b/x"}, warn="48", crit="100")
    assert warn.state is State.WARNING


def test_backup_missing_file_is_critical():
    err = "stat: cannot statx '/b/gone.tar.gz': No such file or directory\n"
    result = grade("backup", ssh((1, "", err)), {"path": "/b/gone.tar.gz"})
    assert result.state is State.CRITICAL
    assert result.summary == "BACKUP CRITICAL - no backup file /b/gone.tar.gz"
    assert result.advice
    old_stat = "stat: cannot stat ‘/b/x’: No such file or directory\n"
    assert grade("backup", ssh((1, "", old_stat)), {"path": "/b/x"}).summary.endswith("file /b/x")


def test_backup_unreadable_and_argument_rules():
    refused = (1, "", "stat: cannot statx '/root/b': Permission denied\n")
    result = grade("backup", ssh(refused), {"path": "/root/b"})
    assert result.state is State.UNKNOWN
    assert "Permission denied" in result.summary
    one = "check backup needs exactly one of the arguments 'path' and 'unit'"
    assert problems("backup", {}) == [one]
    assert problems("backup", {"path": "/b/x", "unit": "backup.service"}) == [one]
    assert problems("backup", {"path": []}) == [one]
    assert problems("backup", {"path": "--version"})
    assert problems("backup", {"path": ["/b/\x1b[2J"]})


JOB = "systemctl show backup.service --property=LoadState,Result,ExecMainExitTimestamp,ExecMainStatus --timestamp=unix"


def _job(ended: str, result: str = "success", status: str = "0", load: str = "loaded") -> str:
    """What systemd prints: the Service properties, then the Unit's (not the order asked)."""
    return (
        f"Result={result}\nExecMainExitTimestamp={ended}\nExecMainStatus={status}\n"
        f"LoadState={load}\n"
    )


def test_backup_job_last_run_age_graded():
    assert commands("backup", {"unit": "backup.service"}) == [JOB]
    result = grade("backup", ssh(_job(f"@{NIGHT}")), {"unit": "backup.service"})
    assert (result.state, result.value, result.unit) == (State.OK, 6.5, "h")
    assert result.summary == (
        "BACKUP OK - last run of backup.service ended 6.5 h ago (2026-12-02 01:30 UTC), "
        "Result=success"
    )
    assert result.plugin_line().endswith("| age=6.5h;26;50;0")
    assert f"ExecMainExitTimestamp=@{NIGHT}" in result.details
    aged = grade("backup", ssh(_job(f"@{NIGHT - 3 * 86400}")), {"unit": "backup.service"})
    assert (aged.state, aged.value) == (State.CRITICAL, 78.5)
    assert_non_ok_has_advice(aged)
    warn = grade("backup", ssh(_job(f"@{NIGHT - 86400}")), {"unit": "b"}, warn="24", crit="48")
    assert (warn.state, warn.value) == (State.WARNING, 30.5)


def test_backup_job_failed_or_never_run_is_critical():
    failed = grade("backup", ssh(_job(f"@{NIGHT}", "exit-code", "1")), {"unit": "backup.service"})
    assert failed.state is State.CRITICAL
    assert failed.summary == (
        "BACKUP CRITICAL - the last backup run failed: Result=exit-code, status 1 "
        "(2026-12-02 01:30 UTC)"
    )
    assert_non_ok_has_advice(failed)
    # a success Result with a non-zero status still failed (SuccessExitStatus aside)
    odd = grade("backup", ssh(_job(f"@{NIGHT}", status="2")), {"unit": "backup.service"})
    assert odd.summary.endswith("failed: Result=success, status 2 (2026-12-02 01:30 UTC)")
    never = grade("backup", ssh(_job("")), {"unit": "backup.service"})
    assert never.state is State.CRITICAL
    assert never.summary == (
        "BACKUP CRITICAL - backup.service has no finished run (none since the host booted, "
        "or one is running)"
    )


def test_backup_job_unknown_unit_and_unreadable_output():
    missing = grade("backup", ssh(_job("", load="not-found")), {"unit": "nobackup.service"})
    assert missing.state is State.UNKNOWN
    assert missing.summary == "BACKUP UNKNOWN - systemd knows no unit nobackup.service on this host"
    assert missing.advice and "systemctl list-units" in missing.advice
    old = (1, "", "systemctl: unrecognized option '--timestamp=unix'\n")
    result = grade("backup", ssh(old), {"unit": "backup.service"})
    assert result.state is State.UNKNOWN
    assert result.summary == (
        "BACKUP UNKNOWN - cannot read `command0`: systemctl: unrecognized option '--timestamp=unix'"
    )
    garbled = grade("backup", ssh("Id=backup.service\n"), {"unit": "backup.service"})
    assert garbled.state is State.UNKNOWN
    # a time in another format than --timestamp=unix's is not read as "never ran"
    local = grade("backup", ssh(_job("Wed 2026-12-02 01:30:00 UTC")), {"unit": "b"})
    assert local.state is State.UNKNOWN
    assert local.summary.endswith(": ExecMainExitTimestamp=Wed 2026-12-02 01:30:00 UTC")


def test_backup_job_unit_is_quoted_and_checked():
    assert commands("backup", {"unit": "my backup;reboot"}) == [
        "systemctl show 'my backup;reboot' --property=LoadState,Result,ExecMainExitTimestamp,"
        "ExecMainStatus --timestamp=unix"
    ]
    assert problems("backup", {"unit": "--all"}) == [
        "argument 'unit': '--all' starts with '-' (it would be an option)"
    ]
    assert problems("backup", {"unit": "backup\n.service"}) == [
        "argument 'unit': 'backup\\n.service' holds a control character"
    ]
    assert problems("backup", {"unit": "backup.service"}) == []


def _cert(days: float, verified: bool = False) -> CertInfo:
    return CertInfo(
        not_after=NOW + timedelta(days=days),
        not_before=NOW - timedelta(days=65),
        subject="CN=oa1",
        issuer="CN=respond lab CA",
        verified=verified,
    )


def test_certificate_days_left_graded():
    ok = grade("certificate", cert(_cert(299.54)))
    assert (ok.state, ok.value, ok.unit) == (State.OK, 299.5, "d")
    assert ok.summary == (
        "CERTIFICATE OK - 299.5 days left (expires 2027-09-27 20:57 UTC), CN=oa1, not trusted "
        "by this machine"
    )
    assert ok.plugin_line().endswith("| days_left=299.5d;30:;7:")
    soon = grade("certificate", cert(_cert(20, verified=True)))
    assert soon.state is State.WARNING and soon.summary.endswith("CN=oa1, trusted")
    assert grade("certificate", cert(_cert(5))).state is State.CRITICAL
    assert grade("certificate", cert(_cert(20)), warn="10:", crit="3:").state is State.OK
    assert_non_ok_has_advice(soon)


def test_certificate_expired_not_yet_valid_and_none():
    expired = grade("certificate", cert(_cert(-2)), warn="@0:1000", crit="@1000:2000")
    assert expired.state is State.CRITICAL
    assert expired.summary.startswith("CERTIFICATE CRITICAL - expired 2 days ago")
    early = CertInfo(not_after=NOW + timedelta(days=300), not_before=NOW + timedelta(days=1))
    assert grade("certificate", cert(early)).state is State.CRITICAL
    none = grade("certificate", cert(None))
    assert none.state is State.UNKNOWN and none.advice


def test_certificate_target_and_sni():
    spec = get("certificate")
    assert spec is not None
    target = spec.tls_target({"port": 8443}, "oa1.example.net")
    assert (target.host, target.port, target.server_name) == (
        "oa1.example.net",
        8443,
        "oa1.example.net",
    )
    by_ip = spec.tls_target({}, "127.0.0.1")
    assert (by_ip.port, by_ip.server_name) == (443, None)
    named = spec.tls_target({"server_name": "oa1", "host": "127.0.0.1", "port": 4443}, "10.0.0.1")
    assert (named.host, named.port, named.server_name) == ("127.0.0.1", 4443, "oa1")
    assert problems("certificate", {"port": 70000}) == [
        "argument 'port' of check certificate must be a port number (1-65535)"
    ]
