"""The hardware checks grade captured ipmitool, /proc/mdstat and NUT upsc outputs (real
tools' layouts and the lab's)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from respond.checks.result import State
from tests.checks.kit import NOW, assert_non_ok_has_advice, commands, grade, problems, ssh

# the lab's 3-column `ipmitool sensor` (db1, healthy)
SENSORS_LAB = """\
Fan1             | 5040 RPM          | ok
Inlet Temp       | 23 degrees C      | ok
CPU1 Temp        | 49 degrees C      | ok
PS1 Status       | 0x01              | ok
PS2 Status       | 0x01              | ok
Drive 1          | 0x01              | ok
"""
SENSORS_LAB_PSU = SENSORS_LAB.replace(
    "PS2 Status       | 0x01              | ok", "PS2 Status       | 0x0b              | cr"
)
# real ipmitool's 10 columns (a Dell R640), one sensor over its non-critical threshold
SENSORS_REAL = """\
Fan1             | 5400.000   | RPM        | ok    | na        | 360.000   | 600.000   | na        | na        | na
Inlet Temp       | 43.000     | degrees C  | nc    | na        | -7.000    | 3.000     | 38.000    | 42.000    | na
Exhaust Temp     | 51.000     | degrees C  | ok    | na        | 3.000     | 8.000     | 70.000    | 75.000    | na
PS1 Status       | 0x0        | discrete   | 0x0100| na        | na        | na        | na        | na        | na
Intrusion        | na         | discrete   | na    | na        | na        | na        | na        | na        | na
"""


def test_sensors_ok_on_the_lab_with_temperatures_as_perfdata():
    result = grade("sensors", ssh(SENSORS_LAB))
    assert result.state is State.OK
    assert result.summary == "SENSORS OK - 6 sensors ok"
    assert result.plugin_line().endswith("| 'Inlet Temp'=23C 'CPU1 Temp'=49C")


def test_sensors_critical_and_warning_states():
    psu = grade("sensors", ssh(SENSORS_LAB_PSU))
    assert (psu.state, psu.value) == (State.CRITICAL, 1)
    assert psu.summary == "SENSORS CRITICAL - 1 of 6 sensors not ok: PS2 Status (cr)"
    assert psu.details == ("PS2 Status: cr (0x0b)",)
    assert_non_ok_has_advice(psu)
    real = grade("sensors", ssh(SENSORS_REAL))
    assert (real.state, real.value) == (State.WARNING, 1)  # a discrete 0x0100 is not graded
    assert real.details == ("Inlet Temp: nc (43.000 degrees C)",)
    assert [p.format() for p in real.perfdata] == ["'Inlet Temp'=43C", "'Exhaust Temp'=51C"]
    odd = grade("sensors", ssh("Fan1 | 100 RPM | lnc\n"))
    assert odd.state is State.WARNING
    assert grade("sensors", ssh(SENSORS_LAB_PSU), warn="5", crit="5").state is State.CRITICAL
    assert grade("sensors", ssh(SENSORS_LAB), crit="@0").state is State.CRITICAL


def test_sensors_without_a_bmc_is_unknown():
    no_bmc = (
        1,
        "",
        "Could not open device at /dev/ipmi0 or /dev/ipmi/0: No such file or directory\n",
    )
    result = grade("sensors", ssh(no_bmc))
    assert result.state is State.UNKNOWN
    assert result.summary.startswith(
        "SENSORS UNKNOWN - cannot read `ipmitool sensor`: Could not open"
    )
    assert result.advice


def _sel(*rows: tuple[timedelta, str, str, str]) -> str:
    lines = []
    for n, (ago, sensor, what, direction) in enumerate(rows, 1):
        at = NOW - ago
        lines.append(f"{n:>4x} | {at:%m/%d/%Y} | {at:%H:%M:%S} | {sensor} | {what} | {direction}")
    return "\n".join(lines) + "\n"


OLD = timedelta(days=40)
RECENT = timedelta(hours=2)
BOOT = (timedelta(days=12), "System Boot Initiated #0x1d", "Initiated by power up", "Asserted")
CLEARED = (OLD, "Event Logging Disabled SEL", "Log area reset/cleared", "Asserted")


def test_ipmi_sel_informational_and_old_events_are_ok():
    result = grade("ipmi-sel", ssh(_sel(CLEARED, BOOT, (RECENT, *BOOT[1:]))))
    assert (result.state, result.value) == (State.OK, 0)
    assert result.summary == "IPMI-SEL OK - no events in the last 24 h (3 entries in the log)"
    old_failure = (timedelta(hours=30), "Power Supply #0x63", "Failure detected", "Asserted")
    assert grade("ipmi-sel", ssh(_sel(old_failure))).state is State.OK
    assert grade("ipmi-sel", ssh(_sel(old_failure)), {"hours": 48}).state is State.CRITICAL
    assert grade("ipmi-sel", ssh("SEL has no entries\n")).state is State.OK


def test_ipmi_sel_failures_are_critical_and_others_warning():
    psu = _sel(
        BOOT,
        (RECENT, "Power Supply #0x63", "Failure detected", "Asserted"),
        (RECENT, "Power Supply #0x63", "Power Supply AC lost", "Asserted"),
    )
    result = grade("ipmi-sel", ssh(psu))
    assert (result.state, result.value) == (State.CRITICAL, 2)
    assert result.summary == (
        "IPMI-SEL CRITICAL - 2 events in the last 24 h: Power Supply #0x63 Failure detected, "
        "Power Supply #0x63 Power Supply AC lost"
    )
    assert result.details[0] == "2026-12-02 06:00 Power Supply #0x63: Failure detected"
    assert result.plugin_line().endswith("| events=2;;;0")
    assert_non_ok_has_advice(result)
    fan = grade(
        "ipmi-sel", ssh(_sel((RECENT, "Fan #0x30", "Lower Non-critical going low", "Asserted")))
    )
    assert fan.state is State.WARNING
    assert (
        grade("ipmi-sel", ssh(_sel((RECENT, "Drive Slot #0x81", "Drive Fault", "Asserted")))).state
        is State.CRITICAL
    )


def test_ipmi_sel_a_failure_since_deasserted_is_a_warning():
    healed = _sel(
        (RECENT, "Drive Slot / Bay #0x81", "Drive Fault", "Asserted"),
        (timedelta(hours=1), "Drive Slot / Bay #0x81", "Drive Fault", "Deasserted"),
    )
    result = grade("ipmi-sel", ssh(healed))
    assert (result.state, result.value) == (State.WARNING, 1)
    assert result.details[0].endswith("Drive Fault (since deasserted)")


def test_ipmi_sel_unreadable_and_bad_hours():
    result = grade("ipmi-sel", ssh((1, "", "Error: Unable to establish IPMI v2 / RMCP+ session\n")))
    assert result.state is State.UNKNOWN
    assert "ipmitool sel elist" in result.summary
    assert grade("ipmi-sel", ssh("something else\n")).state is State.UNKNOWN
    assert problems("ipmi-sel", {"hours": 0}) == [
        "argument 'hours' of check ipmi-sel must be above 0"
    ]
    assert problems("ipmi-sel", {"hours": "x"}) == [
        "argument 'hours' of check ipmi-sel must be number"
    ]


MDSTAT_CLEAN = """\
Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10]
md1 : active raid1 sdb2[1] sda2[0]
      976630464 blocks super 1.2 [2/2] [UU]
      bitmap: 2/8 pages [8KB], 65536KB chunk

md0 : active raid1 sdb1[1] sda1[0]
      523712 blocks super 1.2 [2/2] [UU]

unused devices: <none>
"""
MDSTAT_DEGRADED = MDSTAT_CLEAN.replace(
    "md0 : active raid1 sdb1[1] sda1[0]\n      523712 blocks super 1.2 [2/2] [UU]",
    "md0 : active raid1 sdb1[1](F) sda1[0]\n      523712 blocks super 1.2 [2/1] [U_]",
)
MDSTAT_RECOVERING = MDSTAT_DEGRADED.replace(
    "[2/1] [U_]\n",
    "[2/1] [U_]\n      [=>...................]  recovery =  8.5% (44800/523712) "
    "finish=1.2min speed=6400K/sec\n",
)
MDSTAT_NONE = "Personalities : \nunused devices: <none>\n"


@pytest.mark.parametrize(
    ("mdstat", "state", "value", "summary"),
    [
        (MDSTAT_CLEAN, State.OK, 0, "RAID OK - 2 arrays clean"),
        (MDSTAT_DEGRADED, State.CRITICAL, 1, "RAID CRITICAL - md0 raid1 [U_] degraded"),
        (MDSTAT_RECOVERING, State.WARNING, 0, "RAID WARNING - md0 raid1 [U_] recovery 8.5%"),
        (MDSTAT_NONE, State.OK, 0, "RAID OK - no software RAID arrays"),
    ],
)
def test_raid(mdstat, state, value, summary):
    result = grade("raid", ssh(mdstat))
    assert (result.state, result.value, result.summary) == (state, value, summary)
    assert_non_ok_has_advice(result)


def test_raid_details_perfdata_and_inactive_arrays():
    result = grade("raid", ssh(MDSTAT_DEGRADED))
    assert result.details == ("md1 raid1 [UU]", "md0 raid1 [U_] degraded")
    assert result.plugin_line().endswith("| degraded=1;;0;0;2")
    inactive = grade("raid", ssh("md127 : inactive sdb[0](S)\n      976630464 blocks\n"))
    assert (inactive.state, inactive.summary) == (
        State.CRITICAL,
        "RAID CRITICAL - md127 inactive degraded",
    )
    no_md = grade("raid", ssh((1, "", "cat: /proc/mdstat: No such file or directory\n")))
    assert no_md.summary == "RAID OK - no software RAID arrays"
    refused = grade("raid", ssh((1, "", "cat: /proc/mdstat: Permission denied\n")))
    assert (
        refused.summary
        == "RAID UNKNOWN - cannot read `cat /proc/mdstat`: cat: /proc/mdstat: Permission denied"
    )


UPSC = """\
battery.charge: 100
battery.runtime: 1800
battery.runtime.low: 300
device.model: Smart-UPS SRT 6000
input.voltage: 229.6
ups.load: 66
ups.status: OL
"""


def _ups(status: str, runtime: int, charge: int = 100) -> str:
    return (
        UPSC.replace("ups.status: OL", f"ups.status: {status}")
        .replace("battery.runtime: 1800", f"battery.runtime: {runtime}")
        .replace("battery.charge: 100", f"battery.charge: {charge}")
    )


def test_ups_on_line_power_grades_the_runtime():
    ok = grade("ups", ssh((0, UPSC, "Init SSL without certificate database\n")))
    assert ok.state is State.OK
    assert ok.summary == "UPS OK - on line power (OL), 30 min left"
    assert (ok.value, ok.unit) == (30.0, "min")
    assert ok.plugin_line().endswith("| charge=100%;;;0;100 runtime=30;15:;5:;0 load=66%;;;0;100")
    short = grade("ups", ssh(_ups("OL CHRG", 600)))
    assert (short.state, short.value) == (State.WARNING, 10.0)
    assert grade("ups", ssh(_ups("OL", 240))).state is State.CRITICAL
    assert grade("ups", ssh(_ups("OL", 600)), warn="5:", crit="2:").state is State.OK


def test_ups_on_battery_low_battery_and_replace_battery():
    on_battery = grade("ups", ssh(_ups("OB DISCHRG", 1740, 80)))
    assert on_battery.state is State.CRITICAL
    assert on_battery.summary == "UPS CRITICAL - on battery (OB DISCHRG), 29 min left"
    assert_non_ok_has_advice(on_battery)
    low = grade("ups", ssh(_ups("OB DISCHRG LB", 200, 15)))
    assert low.summary == "UPS CRITICAL - on battery, battery low (OB DISCHRG LB), 3.3 min left"
    replace = grade("ups", ssh(_ups("ALARM OL RB", 1800)))
    assert replace.state is State.WARNING
    assert replace.summary == "UPS WARNING - alarm, replace battery (ALARM OL RB), 30 min left"


def test_ups_command_unreadable_and_argument_rules():
    assert commands("ups") == ["upsc ups@localhost"]
    assert commands("ups", {"ups": "ups@10.0.0.5:3493"}) == ["upsc ups@10.0.0.5:3493"]
    assert problems("ups", {"ups": "ups; reboot"}) == [
        "argument 'ups': 'ups; reboot' is not a NUT UPS name (ups@host)"
    ]
    assert problems("ups", {"ups": "-l"})
    refused = (
        1,
        "",
        "Init SSL without certificate database\nError: Connection failure: Connection refused\n",
    )
    result = grade("ups", ssh(refused))
    assert result.state is State.UNKNOWN
    assert result.summary == (
        "UPS UNKNOWN - cannot read `upsc ups@localhost`: Error: Connection failure: Connection refused"
    )
    assert result.advice
