"""Jinja filters for the network runbooks: the switches' parsed `show` output → findings.

Loaded by respond for this project's runbooks (docs/runbooks.md, "Project filters"). Each
filter takes registered step results (``R.hosts`` maps a host to its result: ``parsed``
rows from TextFSM, ``error``, ``stderr``, ...) and returns plain lists and dicts.
"""

from __future__ import annotations

from typing import Any

DOWN = ("notconnect", "err-disabled")


def short_port(name: str) -> str:
    """``GigabitEthernet0/1`` → ``Gi0/1`` (how ``show interfaces status`` names ports)."""
    letters = len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz- "))
    return name[:2] + name[letters:]


def refused_login(result: Any) -> list[str]:
    """Hosts that answered but refused the login (host key or credentials): reachable, so
    not an outage by themselves."""
    refused = []
    for host, r in result.hosts.items():
        why = f"{r.get('error') or ''} {r.get('stderr') or ''}".lower()
        if r.get("failed") and ("host key" in why or "authentication" in why):
            refused.append(host)
    return refused


def down_links(ports: Any, counters: Any, dead: list[str]) -> list[dict[str, Any]]:
    """Cabled ports (those with a description) that are down, on every switch that answered:
    ``{switch, port, name, status, crc, toward, text}``; ``toward`` names the unreachable
    switches the description points to (the link is down because that switch is)."""
    links = []
    for switch in ports.ok_hosts:
        rows = ports.hosts[switch].get("parsed") or []
        counted = (counters.hosts.get(switch) or {}).get("parsed") or []
        crc = {short_port(c["interface"]): int(c.get("crc") or 0) for c in counted}
        for row in rows:
            if not row.get("name") or row.get("status") not in DOWN:
                continue
            toward = [d for d in dead if d in row["name"]]
            errors = crc.get(row["port"], 0)
            text = f'{switch} {row["port"]} "{row["name"]}" {row["status"]}'
            text += f", {errors} CRC errors" if errors else ""
            text += f" (toward unreachable {', '.join(toward)})" if toward else ""
            links.append({"switch": switch, "port": row["port"], "name": row["name"],
                          "status": row["status"], "crc": errors, "toward": toward, "text": text})  # fmt: skip
    return links


def neighbours(cdp: Any, switch: str) -> list[str]:
    """CDP neighbours of ``switch`` as ``NAME on PORT``."""
    rows = (cdp.hosts.get(switch) or {}).get("parsed") or []
    return [f"{n['neighbor_name']} on {short_port(n['local_interface'])}" for n in rows]


FILTERS = {
    "refused_login": refused_login,
    "down_links": down_links,
    "neighbours": neighbours,
}
