"""What an inspection reads from the lab: the hosts' health tools (``free``, ``nproc``,
``uptime``, ``df -Pi``, ``chronyc tracking``, the virtual /proc files, ``stat`` on the backup
files), OA's HTTPS certificate and the switches' error counters; each fault changes exactly
its reading and healing it gives the healthy one back. One lab (the session's) over SSH."""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from clikit import wait_until
from labkit import Lab, netmiko_switch, run_on

from respond.checks import catalog
from respond.lab import control, model, topology
from respond.netfacts import command_for, facts_from_outputs

FREE_HEAD = "               total        used        free      shared  buff/cache   available"
FREE_ROW = re.compile(r"^(Mem|Swap):\s+(\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+)\s+(\d+)\s+(\d+))?$")
DF_I_HEAD = re.compile(r"^Filesystem\s+Inodes\s+IUsed\s+IFree\s+IUse% Mounted on$")
DF_I_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-) (/\S*)$")
LOADAVG = re.compile(r"^(\d+\.\d\d) (\d+\.\d\d) (\d+\.\d\d) (\d+)/(\d+) (\d+)$")
UPTIME_LOAD = re.compile(r"load average: (\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d)$")
SYSTEM_TIME = re.compile(r"^System time     : (\d+\.\d{9}) seconds (fast|slow) of NTP time$", re.M)
MD = re.compile(r"^(md\d) : active raid1 (sda\d\[0\]) (sdb\d\[1\](?:\(F\))?)$")
MD_BLOCKS = re.compile(r"^      \d+ blocks super 1\.2 \[2/(\d)\] \[(U[U_])\]$")
BACKUP = "backup/db1-full.tar.gz"


@pytest.fixture(scope="module")
def db1(lab: Lab) -> Iterator[Any]:
    client = lab.ssh("db1")
    yield client
    client.close()


def _sh(client: Any, command: str) -> tuple[int, str, str]:
    return run_on(client, command)


def _out(client: Any, command: str) -> str:
    rc, out, err = _sh(client, command)
    assert rc == 0, (command, err)
    return out


# every reading in one SSH command (each tool is a process start on the lab host)
READ_ALL = {
    "free": "free -b",
    "nproc": "nproc",
    "uptime": "uptime",
    "df_i": "df -Pi",
    "df": "df -P /",
    "chronyc": "chronyc tracking",
    "loadavg": "cat /proc/loadavg",
    "mdstat": "cat /proc/mdstat",
    "stat": f"stat -c '%Y %n' {BACKUP}",
}


def _read_all(client: Any) -> dict[str, Any]:
    """What each check reads, parsed (layouts checked on the way)."""
    line = "; echo @@; ".join(READ_ALL.values())
    parts = _out(client, line).split("@@\n")
    outputs = dict(zip(READ_ALL, parts, strict=True))
    return {
        "load": _loads(outputs["loadavg"], outputs["uptime"])[1] / int(outputs["nproc"]),
        "memory": _memory_used(outputs["free"]),
        "disk": _disk_used(outputs["df"]),
        "inodes": _inodes(outputs["df_i"])["/"],
        "time": _offset(outputs["chronyc"]),
        "backup": _backup_age_hours(outputs["stat"]),
        "raid": _mirrors(outputs["mdstat"]),
    }


def _memory_used(out: str) -> float:
    """procps ``free -b``: (total − available) / total, as the memory check reads it."""
    lines = out.splitlines()
    assert lines[0] == FREE_HEAD and len(lines) == 3
    mem = FREE_ROW.match(lines[1])
    assert mem and mem[1] == "Mem" and FREE_ROW.match(lines[2])
    total, used, free, _shared, cache, available = (int(mem[n]) for n in range(2, 8))
    assert used + free + cache == total
    return (total - available) / total


def _inodes(out: str) -> dict[str, str]:
    """coreutils ``df -Pi``: mount → IUse%."""
    lines = out.splitlines()
    assert DF_I_HEAD.match(lines[0]), lines[0]
    rows = [DF_I_ROW.match(line) for line in lines[1:]]
    assert all(rows), lines
    for row in rows:
        assert row is not None
        inodes, used, free = int(row[2]), int(row[3]), int(row[4])
        assert used + free == inodes
    return {row[6]: row[5] for row in rows if row is not None}


def _disk_used(out: str) -> str:
    lines = out.splitlines()
    assert lines[0].split() == [
        "Filesystem",
        "1K-blocks",
        "Used",
        "Available",
        "Use%",
        "Mounted",
        "on",
    ]
    return lines[1].split()[4]


def _loads(loadavg: str, uptime: str) -> tuple[float, ...]:
    """``/proc/loadavg`` and ``uptime`` agree."""
    proc = LOADAVG.match(loadavg.strip())
    assert proc, "loadavg layout"
    found = UPTIME_LOAD.search(uptime.strip())
    assert found and found.groups() == proc.groups()[:3]
    return tuple(float(v) for v in proc.groups()[:3])


def _offset(out: str) -> float:
    names = [line.split(":", 1)[0].rstrip() for line in out.splitlines()]
    assert names == ["Reference ID", "Stratum", "Ref time (UTC)", "System time", "Last offset",
                     "RMS offset", "Frequency", "Residual freq", "Skew", "Root delay",
                     "Root dispersion", "Update interval", "Leap status"]  # fmt: skip
    found = SYSTEM_TIME.search(out)
    assert found and "Leap status     : Normal" in out
    return float(found[1]) * (1 if found[2] == "fast" else -1)


def _mirrors(out: str) -> dict[str, str]:
    """``/proc/mdstat`` of the two-disk mirror: md → UU or U_ (its members' states)."""
    lines = out.splitlines()
    assert lines[0].startswith("Personalities : [raid1]") and lines[-1] == "unused devices: <none>"
    arrays: dict[str, str] = {}
    for index, line in enumerate(lines):
        md = MD.match(line)
        if md:
            blocks = MD_BLOCKS.match(lines[index + 1])
            assert blocks, lines[index + 1]
            assert (blocks[1] == "1") == md[3].endswith("(F)")
            arrays[md[1]] = blocks[2]
    return arrays


def _backup_age_hours(out: str) -> float:
    mtime, name = out.split()
    assert name == BACKUP
    return (time.time() - int(mtime)) / 3600


# fault → (the reading it changes, healthy?, faulty?)
FAULTS: dict[str, tuple[str, Any, Any]] = {
    "high-load": ("load", lambda v: v < 1, lambda v: v >= 5),
    "memory-pressure": ("memory", lambda v: v < 0.9, lambda v: 0.97 <= v < 0.98),
    "disk-full": ("disk", lambda v: int(v[:-1]) < 80, lambda v: v == "93%"),
    "inode-exhaustion": ("inodes", lambda v: int(v[:-1]) < 80, lambda v: v == "96%"),
    "time-drift": ("time", lambda v: abs(v) < 0.001, lambda v: 2.5 <= v < 2.51),
    "backup-stale": ("backup", lambda v: 0 <= v < 24, lambda v: 72 <= v < 73),
    "disk-failure": ("raid", lambda v: v == {"md1": "UU", "md0": "UU"},
                     lambda v: v == {"md1": "U_", "md0": "U_"}),
}  # fmt: skip


def _check(readings: dict[str, Any], faulty: set[str]) -> None:
    for fault, (name, healthy, broken) in FAULTS.items():
        ok = broken(readings[name]) if fault in faulty else healthy(readings[name])
        assert ok, (fault, "faulty" if fault in faulty else "healthy", name, readings[name])


def test_a_healthy_server_reads_like_a_real_one(db1: Any) -> None:
    assert _out(db1, "nproc") == "8\n" and _out(db1, "nproc --ignore=2") == "6\n"
    _check(_read_all(db1), set())
    meminfo = _out(db1, "cat /proc/meminfo")
    assert re.match(r"MemTotal: +16367504 kB\nMemFree: +\d+ kB\nMemAvailable: +\d+ kB\n", meminfo)
    # several files at once, the lab's /proc and the host's own, in order
    rc, out, _ = _sh(db1, f"cat /proc/loadavg {BACKUP} | wc -c")
    assert rc == 0 and int(out) > 40


# fault → the built-in check it turns CRITICAL, with the check's arguments
GRADED = {
    "high-load": ("load", {}),
    "memory-pressure": ("memory", {}),
    "disk-full": ("disk", {}),
    "inode-exhaustion": ("inodes", {}),
    "time-drift": ("time", {}),
    "backup-stale": ("backup", {"path": [BACKUP]}),
    "disk-failure": ("raid", {}),
}


def _grade_on(client: Any, name: str, args: dict[str, Any]) -> Any:
    """The real check ``name`` run over ``client`` and graded (default thresholds)."""
    spec = catalog.get(name)
    assert spec is not None
    outputs = []
    for command in spec.commands(catalog.with_defaults(spec, args)):
        rc, out, err = _sh(client, command)
        outputs.append(catalog.CommandOutput(command, rc, out, err))
    got = catalog.Collected(host="db1", now=datetime.now(UTC), commands=tuple(outputs))
    return spec.grade(got, args, spec.thresholds(None, None))


def _grades(client: Any) -> dict[str, str]:
    """fault → the state its check grades db1 with (the real catalogue, default thresholds)."""
    return {
        fault: _grade_on(client, name, args).state.word for fault, (name, args) in GRADED.items()
    }


def test_each_server_fault_changes_its_reading_and_heals(lab: Lab, db1: Any) -> None:
    assert set(_grades(db1).values()) == {"OK"}
    # in-process, as `respond lab inject/heal` calls it (the CLI itself is used below)
    for fault in FAULTS:
        control.inject(lab.home, fault, target="db1")
    _check(_read_all(db1), set(FAULTS))
    assert set(_grades(db1).values()) == {"CRITICAL"}, _grades(db1)
    shown = {(f["name"], f["target"]) for f in lab.status()["faults"]}
    assert shown == {(fault, _target(fault)) for fault in FAULTS}
    for fault in FAULTS:
        assert control.heal(lab.home, fault) == [f"healed {fault} on {_target(fault)}"]
    _check(_read_all(db1), set())
    assert set(_grades(db1).values()) == {"OK"}


def _target(fault: str) -> str:
    return "db1:/" if fault in ("disk-full", "inode-exhaustion") else "db1"


def test_disk_full_names_a_mount_and_spares_the_others(lab: Lab, db1: Any) -> None:
    lab.inject("disk-full", "--target", "db1:/var/lib/postgresql/")
    assert _disk_used(_out(db1, "df -P /var/lib/postgresql")) == "93%"
    assert int(_disk_used(_out(db1, "df -P /"))[:-1]) < 80
    bad = lab.respond("lab", "inject", "disk-full", "db1:/nope")
    assert bad.rc == 2 and "db1 has no filesystem on '/nope'" in bad.stderr
    both = lab.respond("lab", "inject", "disk-full", "db1", "--target", "app1")
    assert both.rc == 2 and "two targets given: 'db1' and --target 'app1'" in both.stderr


def test_a_backup_stale_for_a_while_comes_back_by_itself(lab: Lab, db1: Any) -> None:
    lab.inject("backup-stale", "db1", "--for", "2s")

    def age() -> float:
        return _backup_age_hours(_out(db1, READ_ALL["stat"]))

    assert age() >= 72
    wait_until(lambda: age() < 24, "the backup time to be restored")


def test_the_backup_job_ages_with_backup_stale_and_fails_with_backup_failed(
    lab: Lab, db1: Any
) -> None:
    job, file = {"unit": "backup.service"}, {"path": [BACKUP]}
    healthy = _grade_on(db1, "backup", job)
    assert healthy.state.word == "OK" and healthy.value < 24, healthy
    assert healthy.summary.startswith("BACKUP OK - last run of backup.service ended ")
    control.inject(lab.home, "backup-stale", target="db1")
    stale = _grade_on(db1, "backup", job)
    assert stale.state.word == "CRITICAL" and 72 <= stale.value < 73, stale
    assert control.heal(lab.home, "backup-stale") == ["healed backup-stale on db1"]
    assert _grade_on(db1, "backup", job).state.word == "OK"
    assert "backup-failed" in lab.respond("lab", "inject", "--help", check=True).stdout
    lab.inject("backup-failed", "db1")  # through the CLI
    failed = _grade_on(db1, "backup", job)
    assert failed.state.word == "CRITICAL"
    assert "the last backup run failed: Result=exit-code, status 1" in failed.summary
    assert _grade_on(db1, "backup", file).state.word == "OK"  # the file is left as it was
    assert control.heal(lab.home, "backup-failed") == ["healed backup-failed on db1"]
    assert _grade_on(db1, "backup", job).state.word == "OK"
    unknown = _grade_on(db1, "backup", {"unit": "nobackup.service"})
    assert unknown.summary == "BACKUP UNKNOWN - systemd knows no unit nobackup.service on this host"


def test_the_sandbox_serves_only_three_proc_files(db1: Any) -> None:
    for path in ("/proc/self/environ", "/proc/1/cmdline", "/proc/version", "/proc/../etc/passwd"):
        rc, out, err = _sh(db1, f"cat {path}")
        assert (rc, out, err) == (1, "", f"cat: {path}: No such file or directory\n")
    rc, _, err = _sh(db1, "cat -A /proc/mdstat")
    assert rc == 1 and "option -A is not available" in err
    rc, _, err = _sh(db1, "stat -c %Y /etc/passwd")
    assert rc == 1 and err == "stat: /etc/passwd: No such file or directory\n"


def _certificate(port: int) -> Any:
    from cryptography import x509

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read it without trusting it, as the check does
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    with raw, context.wrap_socket(raw, server_hostname="oa1") as tls:
        tls.sendall(b"GET /health HTTP/1.1\r\nHost: oa1\r\nConnection: close\r\n\r\n")
        assert tls.recv(64).startswith(b"HTTP/1.1 200")
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _certificate_state(cert: Any) -> str:
    info = catalog.CertInfo(not_after=cert.not_valid_after_utc, verified=False)
    return _graded("certificate", catalog.Collected(host="oa1", now=datetime.now(UTC), cert=info))


def _days_left(cert: Any) -> float:
    return (cert.not_valid_after_utc.timestamp() - time.time()) / 86400


def test_oa_https_certificate_expires_with_the_fault_and_renews_on_heal(lab: Lab) -> None:
    from cryptography import x509

    inventory = yaml.safe_load((lab.project / "inventory" / "lab.yaml").read_text())
    port = inventory["all"]["vars"]["oa_https_port"]
    assert inventory["all"]["vars"]["oa_https_url"] == f"https://127.0.0.1:{port}"
    fresh = _certificate(port)
    assert fresh.subject.rfc4514_string().endswith("CN=oa1") and 299 < _days_left(fresh) <= 300
    names = fresh.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["oa1"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert _certificate_state(fresh) == "OK"
    lab.inject("cert-expiring")
    expiring = _certificate(port)
    assert 4.99 < _days_left(expiring) <= 5  # the very next handshake
    assert _certificate_state(expiring) == "CRITICAL"
    lab.heal("cert-expiring")
    renewed = _certificate(port)
    assert 299 < _days_left(renewed) <= 300 and renewed.serial_number != fresh.serial_number


SWITCH_PORTS = {"core-sw1": "GE0/0/3", "acc-sw1": "GE1/0/1", "acc-sw2": "Fa0/1"}


@pytest.fixture(scope="module")
def switches(lab: Lab) -> Iterator[dict[str, Any]]:
    """One netmiko session per dialect's switch for the module."""
    sessions: dict[str, Any] = {}
    try:
        for switch in SWITCH_PORTS:
            sessions[switch] = netmiko_switch(lab, switch)
        yield sessions
    finally:
        for session in sessions.values():
            session.disconnect()


def _interfaces(session: Any, switch: str) -> list[dict[str, Any]]:
    family = topology.VENDORS[topology.build_switches()[switch].dialect][1]
    command = command_for(family, "interfaces")
    assert command is not None
    text = session.send_command(command, read_timeout=60)
    facts, notes = facts_from_outputs(family, {"interfaces": text})
    assert not notes
    return list(facts["interfaces"])


def _errors(switches: dict[str, Any]) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """switch → port → (crc, in_errors) of every port that has any."""
    found: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    for switch, session in switches.items():
        for row in _interfaces(session, switch):
            if row["crc"] or row["in_errors"]:
                found.setdefault(switch, {})[row["name"]] = (row["crc"], row["in_errors"])
    return found


def _graded(name: str, got: catalog.Collected) -> str:
    spec = catalog.get(name)
    assert spec is not None
    return spec.grade(got, {}, spec.thresholds(None, None)).state.word


def _switch_grades(switches: dict[str, Any], name: str) -> dict[str, str]:
    """switch → the state the built-in check ``name`` grades it with (default arguments)."""
    now = datetime.now(UTC)
    return {
        switch: _graded(
            name,
            catalog.Collected(
                host=switch, now=now, facts={"interfaces": _interfaces(session, switch)}
            ),
        )
        for switch, session in switches.items()
    }


def test_crc_errors_show_in_every_dialect_and_heal(lab: Lab, switches: dict[str, Any]) -> None:
    assert _errors(switches) == {}
    for switch, port in SWITCH_PORTS.items():
        lab.inject("crc-errors", f"{switch}:{port}")
    topo = topology.build()
    expected = {
        switch: {topo.switches[switch].port(port): (250, 250)}
        for switch, port in SWITCH_PORTS.items()
    }
    assert _errors(switches) == expected
    assert set(_switch_grades(switches, "interface-errors").values()) == {"CRITICAL"}
    lab.heal("crc-errors")
    assert _errors(switches) == {}


def test_connected_ports_are_described_and_no_described_port_is_down(
    switches: dict[str, Any],
) -> None:
    for switch, session in switches.items():
        rows = _interfaces(session, switch)
        watched = [r for r in rows if r["description"] and r["admin"] == "up"]
        assert watched, switch
        assert [r["name"] for r in watched if r["oper"] != "up"] == [], switch
    for check in ("interfaces", "interface-errors"):
        assert set(_switch_grades(switches, check).values()) == {"OK"}, check
    link_ports = {(link.switch, link.port) for link in topology.build().links}
    described = {(link.switch, link.port) for link in topology.build().links if link.description}
    assert described == link_ports


def test_new_fault_targets_are_validated() -> None:
    topo = topology.build()
    assert model.normalize_target(topo, "disk-full", None) == "db1:/"
    assert model.normalize_target(topo, "disk-full", "file1:/srv/share/") == "file1:/srv/share"
    assert model.normalize_target(topo, "inode-exhaustion", "app1") == "app1:/"
    assert model.normalize_target(topo, "crc-errors", "acc-sw2:gi0/1") == "acc-sw2:Gi0/1"
    assert model.normalize_target(topo, "cert-expiring", None) == "oa1"
    assert model.normalize_target(topo, "backup-failed", None) == "db1"
    for name, target in (
        ("disk-full", "app1:/srv/share"),
        ("high-load", "core-sw1"),
        ("cert-expiring", "sms1"),
        ("crc-errors", "db1"),
        ("backup-failed", "core-sw1"),
    ):
        with pytest.raises(model.LabActionError):
            model.normalize_target(topo, name, target)
