"""The system checks grade captured outputs of uptime, nproc, free, df, systemctl and chronyc
(real tools' layouts and the lab's)."""

from __future__ import annotations

import pytest

from respond.checks.catalog import get
from respond.checks.result import State
from tests.checks.kit import assert_non_ok_has_advice, commands, grade, problems, ssh

# captured from the lab (db1, oa1) and from Debian 12 / RHEL 7 hosts
UPTIME_DAYS = " 08:06:52 up 12 days,  6:20,  1 user,  load average: 0.18, 0.17, 0.15\n"
UPTIME_MIN = " 08:07:03 up 12 days, 20 min,  1 user,  load average: 0.22, 0.19, 0.17\n"
UPTIME_SHORT = " 10:01:33 up 5 min,  2 users,  load average: 9.10, 8.40, 7.90\n"
UPTIME_LOCALE = " 10:01:33 up  3:02,  0 users,  load average: 0,52, 0,58, 0,59\n"

FREE_PROCPS4 = """\
               total        used        free      shared  buff/cache   available
Mem:      8201367552  1345466368  5161353216    12345678  1694547968  6560000000
Swap:     2147479552           0  2147479552
"""
FREE_OLD = """\
             total       used       free     shared    buffers     cached
Mem:    8000000000 7900000000  100000000          0  100000000  120000000
-/+ buffers/cache: 7600000000  400000000
Swap:   2147479552          0 2147479552
"""

DF_LAB = """\
Filesystem       1K-blocks       Used  Available Use% Mounted on
udev               4040152          0    3838144   0% /dev
tmpfs               814964       1160     773055   1% /run
/dev/sda2         51290592   12675164   36050898  25% /
tmpfs              4074808          0    3871067   0% /dev/shm
tmpfs                 5120          0       4864   0% /run/lock
/dev/sda1           523248       5972     491113   2% /boot/efi
/dev/sdb1       1951845952 1210144490  644109164  62% /var/lib/postgresql
"""
DF_REAL = """\
Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/sda2         49283208 44355000   2464200      95% /
overlay           49283208 41891728   4851580      90% /var/lib/docker/overlay2/abc/merged
/dev/loop3           56832    56832         0     100% /snap/core18/2812
/dev/sdb1         98304000 83558400  14745600      86% /srv/my data
"""
DFI_REAL = """\
Filesystem       Inodes  IUsed   IFree IUse% Mounted on
/dev/sda2       3276800 3145728  131072   96% /
/dev/sda1             0       0       0     - /boot/efi
"""

CHRONY_OK = """\
Reference ID    : C0A80101 (ntp1.example.net)
Stratum         : 3
Ref time (UTC)  : Wed Dec 02 07:59:12 2026
System time     : 0.000012345 seconds fast of NTP time
Last offset     : +0.000001234 seconds
RMS offset      : 0.000002345 seconds
Frequency       : 1.234 ppm slow
Leap status     : Normal
"""
CHRONY_DRIFT = CHRONY_OK.replace("0.000012345 seconds fast", "2.500000000 seconds slow")
CHRONY_UNSYNC = """\
Reference ID    : 00000000 ()
Stratum         : 0
System time     : 0.000000000 seconds fast of NTP time
Leap status     : Not synchronised
"""


def test_reachable_is_ok_with_the_uptime_and_critical_when_the_login_fails():
    ok = grade("reachable", ssh(UPTIME_DAYS, latency=0.42))
    assert ok.state is State.OK
    assert ok.summary == "REACHABLE OK - answered in 0.42 s, up 12 days, 6:20"
    assert ok.plugin_line().endswith("| time=0.42s;;;0")
    assert grade("reachable", ssh(UPTIME_MIN)).summary.endswith("up 12 days, 20 min")
    assert grade("reachable", ssh(UPTIME_SHORT)).summary.endswith("up 5 min")
    spec = get("reachable")
    assert spec is not None
    down = spec.failed(_failed("connection refused"))
    assert down.state is State.CRITICAL
    assert down.summary == "REACHABLE CRITICAL - connection refused"
    assert down.advice and "powered on" in down.advice


def _failed(error: str):
    from dataclasses import replace

    return replace(ssh(), error=error)


def test_reachable_grades_the_time_taken_against_given_thresholds():
    slow = grade("reachable", ssh(UPTIME_DAYS, latency=3.2), warn="2", crit="5")
    assert slow.state is State.WARNING
    assert slow.value == 3.2 and slow.warn == "2" and slow.crit == "5"
    assert_non_ok_has_advice(slow)


@pytest.mark.parametrize(
    ("uptime", "cpus", "state", "value"),
    [
        (UPTIME_DAYS, "2\n", State.OK, 0.09),
        (UPTIME_SHORT, "4\n", State.WARNING, 2.1),
        (UPTIME_SHORT, "2\n", State.CRITICAL, 4.2),
        (UPTIME_LOCALE, "1\n", State.OK, 0.58),
    ],
)
def test_load_per_cpu(uptime, cpus, state, value):
    result = grade("load", ssh(uptime, cpus))
    assert (result.state, result.value) == (state, value)
    assert_non_ok_has_advice(result)


def test_load_summary_perfdata_and_raw_mode():
    result = grade("load", ssh(UPTIME_SHORT, "2\n"))
    assert result.summary == (
        "LOAD CRITICAL - load average 9.10, 8.40, 7.90 on 2 CPUs (4.20 per CPU over 5 min)"
    )
    assert result.plugin_line().endswith(
        "| load1=9.1;;;0 load5=8.4;;;0 load15=7.9;;;0 load5_per_cpu=4.2;2;4;0"
    )
    raw = grade("load", ssh(UPTIME_SHORT, "2\n"), {"per_cpu": False}, warn="10", crit="20")
    assert (raw.state, raw.value) == (State.OK, 8.4)
    assert "load5=8.4;10;20;0" in raw.plugin_line()


def test_load_unreadable_output_is_unknown_naming_the_command():
    result = grade("load", ssh("garbage\n", "2\n"))
    assert result.state is State.UNKNOWN
    assert result.summary == "LOAD UNKNOWN - cannot read `uptime`: garbage"
    assert grade("load", ssh(UPTIME_DAYS, "")).summary.startswith(
        "LOAD UNKNOWN - cannot read `nproc`"
    )
    # a digit int() cannot read (superscript two) is unreadable, not a crash
    assert grade("load", ssh(UPTIME_DAYS, "\u00b2\n")).state is State.UNKNOWN
    missing = grade("load", ssh((127, "", "bash: uptime: command not found\n"), "2"))
    assert (
        missing.summary == "LOAD UNKNOWN - cannot read `command0`: bash: uptime: command not found"
    )
    assert_non_ok_has_advice(missing)


def test_memory_reads_available_and_falls_back_on_old_procps():
    ok = grade("memory", ssh(FREE_PROCPS4))
    assert (ok.state, ok.value, ok.unit) == (State.OK, 20.0, "%")
    assert ok.summary == "MEMORY OK - 20.0% used (1.5 GiB of 7.6 GiB)"
    assert ok.perfdata[0].format() == "mem_used=20%;90;95;0;100"
    old = grade("memory", ssh(FREE_OLD))
    assert (old.state, old.value) == (State.CRITICAL, 96.0)
    assert_non_ok_has_advice(old)
    assert grade("memory", ssh(FREE_OLD), warn="97", crit="99").state is State.OK
    warn = grade("memory", ssh(FREE_OLD), warn="90", crit="99")
    assert warn.state is State.WARNING and warn.advice


def test_memory_unparsable_is_unknown():
    result = grade("memory", ssh((127, "", "bash: line 2: free: command not found\n")))
    assert result.state is State.UNKNOWN
    assert "free: command not found" in result.summary
    assert grade("memory", ssh("Mem: lots\n")).summary == (
        "MEMORY UNKNOWN - cannot read `free -b`: Mem: lots"
    )


def test_disk_skips_memory_filesystems_and_reports_the_fullest():
    result = grade("disk", ssh(DF_LAB))
    assert result.state is State.OK
    assert result.value == 62
    assert result.summary == (
        "DISK OK - /var/lib/postgresql 62% used (1154.1 GiB of 1768.4 GiB) (the fullest of 3 "
        "filesystems)"
    )
    assert [p.label for p in result.perfdata] == ["/", "/boot/efi", "/var/lib/postgresql"]
    assert result.perfdata[0].format() == "/=25%;80;90;0;100"
    assert result.details[0] == "/ 25% used (12.1 GiB of 46.5 GiB) on /dev/sda2"


def test_disk_on_real_df_output_grades_each_filesystem():
    result = grade("disk", ssh(DF_REAL))
    assert result.state is State.CRITICAL
    assert result.value == 95
    assert result.summary == (
        "DISK CRITICAL - / 95% used (42.3 GiB of 44.7 GiB), /srv/my data 86% used (79.7 GiB "
        "of 93.8 GiB)"
    )
    assert "'/srv/my data'=86%;80;90;0;100" in result.plugin_line()
    assert_non_ok_has_advice(result)
    assert grade("disk", ssh(DF_REAL), warn="95", crit="99").state is State.OK
    assert grade("disk", ssh(DF_REAL), warn="85", crit="95").state is State.WARNING


def test_disk_paths_are_quoted_and_refused_when_they_look_like_options():
    assert commands("disk") == ["df -P"]
    assert commands("disk", {"paths": ["/", "/srv/my data", "$(reboot)"]}) == [
        "df -P / '/srv/my data' '$(reboot)'"
    ]
    assert commands("inodes", {"paths": "/var"}) == ["df -Pi /var"]
    assert problems("disk", {"paths": ["-h"]}) == [
        "argument 'paths': '-h' starts with '-' (it would be an option)"
    ]
    assert problems("inodes", {"paths": ["/var\nrm"]}) == [
        "argument 'paths': '/var\\nrm' holds a control character"
    ]
    assert problems("disk", {"paths": ["/", "/var"]}) == []


def test_disk_with_paths_keeps_every_filesystem_named():
    only = "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
    only += "tmpfs 1000 950 50 95% /run\n"
    result = grade("disk", ssh(only), {"paths": ["/run"]})
    assert (result.state, result.value) == (State.CRITICAL, 95)


def test_disk_io_error_is_critical_and_a_bad_path_unknown():
    got = ssh((1, DF_LAB, "df: /data: Input/output error\n"))
    broken = grade("disk", got)
    assert broken.state is State.CRITICAL
    assert broken.summary == "DISK CRITICAL - df: /data: Input/output error"
    assert "df: /data: Input/output error" in broken.details
    missing = grade(
        "disk", ssh((1, "", "df: /nope: No such file or directory\n")), {"paths": "/nope"}
    )
    assert missing.state is State.UNKNOWN
    assert grade("disk", ssh("nothing here\n")).summary == (
        "DISK UNKNOWN - cannot read `df -P`: nothing here"
    )


def test_inodes_grade_the_inode_use_and_skip_filesystems_without_inodes():
    result = grade("inodes", ssh(DFI_REAL))
    assert (result.state, result.value) == (State.CRITICAL, 96)
    assert result.summary == "INODES CRITICAL - / 96% of inodes used (3145728 of 3276800)"
    assert [p.label for p in result.perfdata] == ["/"]
    assert result.advice and "inodes" in result.advice


def test_service_counts_units_not_active():
    assert commands("service", {"units": ["nginx", "oa app"]}) == [
        "systemctl is-active nginx 'oa app'"
    ]
    ok = grade("service", ssh("active\nactive\n"), {"units": ["ssh", "postgresql"]})
    assert ok.state is State.OK
    assert ok.summary == "SERVICE OK - 2 units active (ssh, postgresql)"
    down = grade("service", ssh((3, "active\nfailed\n", "")), {"units": ["ssh", "postgresql"]})
    assert (down.state, down.value) == (State.CRITICAL, 1)
    assert down.summary == "SERVICE CRITICAL - 1 of 2 units not active: postgresql (failed)"
    assert down.details == ("ssh: active", "postgresql: failed")
    assert down.plugin_line().endswith("| not_active=1;;0;0;2")
    assert_non_ok_has_advice(down)
    lenient = grade("service", ssh("inactive\n"), {"units": "x"}, warn="0", crit="5")
    assert lenient.state is State.WARNING


def test_service_needs_units_and_refuses_options():
    assert problems("service", {}) == ["check service needs the argument 'units'"]
    assert problems("service", {"units": []}) == [
        "check service needs at least one unit in 'units'"
    ]
    assert problems("service", {"units": ["--all"]})
    unknown = grade("service", ssh((1, "", "Failed to connect to bus\n")), {"units": ["a"]})
    assert unknown.summary == (
        "SERVICE UNKNOWN - cannot read `systemctl is-active a`: Failed to connect to bus"
    )


def test_time_offset_and_leap_status():
    ok = grade("time", ssh(CHRONY_OK))
    assert ok.state is State.OK
    assert ok.summary == "TIME OK - clock 1.2345e-05 s fast of NTP time (source ntp1.example.net)"
    drift = grade("time", ssh(CHRONY_DRIFT))
    assert (drift.state, drift.value) == (State.CRITICAL, 2.5)
    assert drift.plugin_line().endswith("| offset=2.5s;0.5;1;0")
    assert grade("time", ssh(CHRONY_DRIFT), warn="2", crit="5").state is State.WARNING
    unsync = grade("time", ssh(CHRONY_UNSYNC), warn="100", crit="100")
    assert unsync.state is State.CRITICAL
    assert (
        unsync.summary == "TIME CRITICAL - not synchronised to NTP (Leap status: Not synchronised)"
    )
    assert_non_ok_has_advice(unsync)


def test_time_without_chronyd_is_unknown():
    result = grade("time", ssh((1, "", "506 Cannot talk to daemon\n")))
    assert result.state is State.UNKNOWN
    assert (
        result.summary == "TIME UNKNOWN - cannot read `chronyc tracking`: 506 Cannot talk to daemon"
    )
    assert result.advice and "chronyd" in result.advice
