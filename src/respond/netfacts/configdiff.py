"""Configuration evidence: credential lines redacted, and a diff that ignores what changes
on its own.

A ``config`` step records the device's running configuration before and after the change.
Those texts carry passwords, SNMP communities and keys in the vendors' own spellings
(IOS ``enable secret 5 …``, VRP ``local-user admin password irreversible-cipher …``,
Comware ``password hash …``): the value after the keyword becomes ``<redacted>`` before the
text leaves the executor, so the record never holds it even when the run does not know it
as a secret. Lines the device rewrites by itself (timestamps, byte counts, the clock's
drift) stay in the snapshots but not in the diff, so an unchanged device diffs empty.
"""

from __future__ import annotations

import difflib
import re

REDACTED = "<redacted>"

# keyword … value: everything after the first credential keyword is the value
_CREDENTIAL = re.compile(
    r"^(?P<keep>.*?\b(?:password|secret|cipher|community|key-string|pre-shared-key)\b)"
    r"(?P<value>\s+\S.*)$",
    re.IGNORECASE,
)
# shared keys: "tacacs-server key 7 0822455D0A16", "radius-server host … key x",
# "crypto isakmp key K address 0.0.0.0"
_SERVER_KEY = re.compile(
    r"^(?P<keep>\s*(?:radius-server|tacacs-server|crypto isakmp)\b.*?\bkey\b)"
    r"(?P<value>\s+\S.*)$",
    re.IGNORECASE,
)
_VOLATILE = re.compile(
    r"^\s*(?:"
    r"!\s*Last configuration change at|!\s*NVRAM config last updated at|"
    r"!\s*No configuration change since last restart|"
    r"Current configuration\s*:\s*\d+\s*bytes|Building configuration|"
    r"ntp clock-period\b|"
    r"!\s*Software Version\b|!\s*Last configuration was (?:updated|saved) at|"
    r"!\s*Time:|"
    r"[#!].*\b\d{1,2}:\d{2}:\d{2}\b"  # a comment line stamped with a time of day
    r")",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the value of every credential line replaced by ``<redacted>``."""
    return "\n".join(_redact_line(line) for line in text.split("\n"))


def _redact_line(line: str) -> str:
    for pattern in (_SERVER_KEY, _CREDENTIAL):
        m = pattern.match(line)
        if m:
            return f"{m.group('keep')} {REDACTED}"
    return line


def is_volatile(line: str) -> bool:
    """A line the device rewrites without a configuration change."""
    return bool(_VOLATILE.match(line))


def _lines(text: str) -> list[str]:
    lines = (line.rstrip("\r").rstrip() for line in text.split("\n"))
    return [line for line in lines if not is_volatile(line)]


def config_diff(before: str, after: str, device: str = "") -> str:
    """The unified diff of two configurations ("" when they differ only in volatile lines)."""
    label = f"{device} " if device else ""
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        fromfile=f"{label}before",
        tofile=f"{label}after",
        lineterm="",
    )
    return "\n".join(lines)
