"""ntc-templates parsing with the platform ntc-templates names (``huawei_vrp``), not the
netmiko device type (``huawei``): netmiko's own converter passes its device type through, so
a Huawei host found no template at all."""

from __future__ import annotations

from typing import Any

from respond.netos import NTC_PLATFORM, ntc_platform


class NotParsed(Exception):
    """No template for the command on the platform, or the output did not fit it; the
    message is one line for the operator."""


def platform_of_family(family: str | None) -> str | None:
    """The ntc-templates platform of a network-OS family (None: templates not used)."""
    return NTC_PLATFORM.get(family or "")


def parse_rows(platform: str, command: str, text: str) -> list[dict[str, Any]]:
    """The rows ntc-templates makes of ``text`` (keys in lower case); raises ``NotParsed``."""
    from ntc_templates.parse import parse_output

    try:
        rows: list[dict[str, Any]] = parse_output(platform=platform, command=command, data=text)
    except Exception as exc:  # ntc-templates and TextFSM raise several unrelated types
        raise NotParsed(_first_line(str(exc)) or type(exc).__name__) from None
    return rows


def parse_device_output(device_type: str, command: str, text: str) -> tuple[Any, str]:
    """(rows, "") or (None, note) for a netmiko step's ``textfsm: true``: the template is
    chosen by the ntc-templates platform of the netmiko device type."""
    try:
        return parse_rows(ntc_platform(device_type), command, text), ""
    except NotParsed as exc:
        return None, f"textfsm: output not parsed ({exc})"


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
