"""Credential lines redacted and volatile lines ignored, in each vendor's spelling."""

from __future__ import annotations

import pytest

from respond.netfacts.configdiff import config_diff, is_volatile, redact
from respond.timeline.configs import changed_lines


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        # Cisco IOS
        ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "enable secret"),
        ("username netops privilege 15 secret 9 $9$abc", "username netops privilege 15 secret"),
        ("username admin password 0 Pl4in", "username admin password"),
        ("snmp-server community Publ1c RO", "snmp-server community"),
        (" key-string 7 0822455D0A16", " key-string"),
        ("tacacs-server key 7 0822455D0A16", "tacacs-server key"),
        (
            "radius-server host 10.0.0.9 auth-port 1812 key R4d",
            "radius-server host 10.0.0.9 auth-port 1812 key",
        ),
        ("crypto isakmp key Sh4red address 0.0.0.0", "crypto isakmp key"),
        (" pre-shared-key cipher %^%#abc", " pre-shared-key"),
        # Huawei VRP
        (" local-user admin password irreversible-cipher $1a$xyz$", " local-user admin password"),
        ("snmp-agent community read cipher %^%#Q1", "snmp-agent community"),
        ("super password level 15 cipher %^%#x", "super password"),
        # H3C Comware
        (" password hash $h$6$abc", " password"),
        (" password simple Pl4in", " password"),
    ],
)
def test_credential_lines_are_redacted(line: str, kept: str) -> None:
    assert redact(line) == f"{kept} <redacted>"


@pytest.mark.parametrize(
    "line",
    [
        "service password-encryption",
        "ssl cipher-suite default",
        " description uplink",
        "hostname core-sw1",
        "password",  # no value after it
    ],
)
def test_other_lines_are_kept(line: str) -> None:
    assert redact(line) == line


@pytest.mark.parametrize(
    "line",
    [
        "! Last configuration change at 06:01:02 UTC Wed Dec 2 2026 by netops",
        "! NVRAM config last updated at 05:59:10 UTC Wed Dec 2 2026",
        "Current configuration : 1834 bytes",
        "Building configuration...",
        "ntp clock-period 17179938",
        "!Software Version V200R021C00SPC100",
        "!Last configuration was updated at 2026-12-02 06:01:02+08:00",
        "# 2026-12-02 06:01:02",
    ],
)
def test_volatile_lines_are_ignored_by_the_diff(line: str) -> None:
    assert is_volatile(line)
    before = f"{line}\nhostname core\n"
    after = f"{line.replace('0', '1')}\nhostname core\n"
    assert config_diff(before, after) == ""


def test_a_diff_counts_the_lines_changed() -> None:
    before = "#\ninterface GigabitEthernet0/0/2\n shutdown\n#\n"
    after = "#\ninterface GigabitEthernet0/0/2\n description UPLINK-BACKUP\n#\n"
    diff = config_diff(before, after, "core-sw1")
    assert diff.splitlines()[:2] == ["--- core-sw1 before", "+++ core-sw1 after"]
    assert "- shutdown" in diff and "+ description UPLINK-BACKUP" in diff
    assert changed_lines(diff) == (1, 1)
    # a removed line that itself starts with "--" is counted, not taken for a header
    assert changed_lines(config_diff("-- x\na\n", "a\n")) == (0, 1)
    assert config_diff(before, before.replace("\n", "\r\n")) == ""
