"""Host addresses, ports and ``[x:y]`` ranges, as Ansible parses them (private).

Mirrors ``ansible.parsing.utils.addresses.parse_address`` and
``ansible.plugins.inventory.expand_hostname_range`` so that the same inventory line gives the
same host names here and in Ansible.
"""

from __future__ import annotations

import re
import string

_NUMERIC_RANGE = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_HEX_RANGE = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"
_ALNUM_RANGE = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_IPV6_COMPONENT = rf"(?:[0-9a-f]{{1,4}}|{_HEX_RANGE})"
_IPV4_COMPONENT = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUMERIC_RANGE})"
_LABEL = rf"(?:[\w]|{_ALNUM_RANGE})(?:[\w_-]|{_ALNUM_RANGE})*(?<![_-])"

_BRACKETED_HOSTPORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOSTPORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_IPV4 = re.compile(rf"^(?:{_IPV4_COMPONENT}\.){{3}}{_IPV4_COMPONENT}$", re.I)
_C6 = _IPV6_COMPONENT
_IPV6 = re.compile(
    rf"""^(
    (?:{_C6}:){{7}}{_C6}|
    (?:{_C6}:){{1,6}}:|
    (?:{_C6}:)(?::{_C6}){{1,6}}|
    (?:{_C6}:){{2}}(?::{_C6}){{1,5}}|
    (?:{_C6}:){{3}}(?::{_C6}){{1,4}}|
    (?:{_C6}:){{4}}(?::{_C6}){{1,3}}|
    (?:{_C6}:){{5}}(?::{_C6}){{1,2}}|
    (?:{_C6}:){{6}}(?::{_C6})|
    :(?::{_C6}){{1,6}}|
    {_C6}?::|
    (?:0:){{6}}(?:{_C6}\.){{3}}{_C6}|
    ::(?:ffff:)?(?:{_C6}\.){{3}}{_C6}|
    (?:0:){{5}}ffff:(?:{_C6}\.){{3}}{_C6})$""",
    re.X | re.I,
)
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.I)

#: Safety cap: one inventory line may not expand to more hosts than this.
MAX_RANGE_HOSTS = 100_000


class AddressError(ValueError):
    pass


def parse_address(address: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` (ranges allowed); raise AddressError when not an address."""
    port: int | None = None
    for pattern in (_BRACKETED_HOSTPORT, _HOSTPORT):
        m = pattern.match(address)
        if m:
            address, port_text = m.groups()
            port = int(port_text)
    for pattern in (_IPV4, _IPV6, _HOSTNAME):
        if pattern.match(address):
            return address, port
    raise AddressError(f"not a valid network hostname: {address}")


def expand_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """A host entry (``web[01:03].example.com:2222``) to host names and an optional port."""
    try:
        name, port = parse_address(pattern)
    except AddressError:
        name, port = pattern, None
    if "[" in name:
        return expand_range(name), port
    return [name], port


def expand_range(line: str) -> list[str]:
    """Expand the first ``[beg:end(:step)]`` in ``line``, recursively (Ansible's rules)."""
    hosts: list[str] = []
    _expand(line, hosts)
    return hosts


def _expand(line: str, out: list[str]) -> None:
    parts = line.replace("[", "|", 1).replace("]", "|", 1).split("|")
    if len(parts) != 3:
        raise AddressError(f"unbalanced brackets in host range {line!r}")
    head, nrange, tail = parts
    bounds = nrange.split(":")
    if len(bounds) not in (2, 3):
        raise AddressError(f"host range must be begin:end or begin:end:step, got [{nrange}]")
    beg, end = bounds[0], bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not beg:
        beg = "0"
    if not end:
        raise AddressError(f"host range must specify end value: [{nrange}]")
    try:
        step = int(step_text)
    except ValueError:
        raise AddressError(f"host range step must be a number: [{nrange}]") from None
    if step <= 0:
        raise AddressError(f"host range step must be positive: [{nrange}]")
    width = 0
    if beg[0] == "0" and len(beg) > 1:
        width = len(beg)
        if width != len(end):
            raise AddressError(
                f"host range must specify equal-length begin and end formats: [{nrange}]"
            )
    seq: list[str]
    letters = string.ascii_letters
    if beg in letters and end in letters and len(beg) == 1 and len(end) == 1:
        i_beg, i_end = letters.index(beg), letters.index(end)
        if i_beg > i_end:
            raise AddressError(f"host range must have begin <= end: [{nrange}]")
        seq = list(letters[i_beg : i_end + 1 : step])
    else:
        try:
            i_beg, i_end = int(beg), int(end)
        except ValueError:
            raise AddressError(
                f"host range bounds must be numbers or single letters: [{nrange}]"
            ) from None
        count = max(0, (i_end - i_beg) // step + 1)
        if count + len(out) > MAX_RANGE_HOSTS:
            raise AddressError(f"host range [{nrange}] expands to over {MAX_RANGE_HOSTS} hosts")
        seq = [str(i).zfill(width) if width else str(i) for i in range(i_beg, i_end + 1, step)]
    for item in seq:
        name = f"{head}{item}{tail}"
        if "[" in name:
            _expand(name, out)
        else:
            out.append(name)
        if len(out) > MAX_RANGE_HOSTS:
            raise AddressError(f"host range in {line!r} expands to over {MAX_RANGE_HOSTS} hosts")
