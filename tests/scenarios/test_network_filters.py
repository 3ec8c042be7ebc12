"""The project filters of the network runbook (filters/network.py), on results shaped as the
engine registers them: fast, without the lab."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from labkit import REPO

from respond.runbook.templating import Registered


def _filters() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "network_filters", REPO / "filters" / "network.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(port: str, name: str, status: str) -> dict[str, str]:
    return {"port": port, "name": name, "status": status}


PORTS = Registered(
    {
        "core-sw1": {
            "ok": True,
            "parsed": [
                _row("Gi0/1", "UPLINK-PRIMARY", "notconnect"),
                _row("Gi0/2", "UPLINK-BACKUP", "disabled"),
                _row("Gi0/4", "TRUNK acc-sw2", "notconnect"),
                _row("Gi0/9", "", "notconnect"),
            ],
        },
        "acc-sw1": {"ok": False, "failed": True, "error": "Authentication failed."},
        "acc-sw2": {"ok": False, "failed": True, "error": "connection refused"},
    }
)
COUNTERS = Registered(
    {"core-sw1": {"ok": True, "parsed": [{"interface": "GigabitEthernet0/1", "crc": "12"}]}}
)


def test_refused_logins_are_not_dead_switches() -> None:
    assert _filters().refused_login(PORTS) == ["acc-sw1"]


def test_down_links_are_the_cabled_ports_down_with_their_errors_and_cause() -> None:
    links = _filters().down_links(PORTS, COUNTERS, ["acc-sw2"])
    assert [link["text"] for link in links] == [
        'core-sw1 Gi0/1 "UPLINK-PRIMARY" notconnect, 12 CRC errors',
        'core-sw1 Gi0/4 "TRUNK acc-sw2" notconnect (toward unreachable acc-sw2)',
    ]
    assert [link["toward"] for link in links] == [[], ["acc-sw2"]]


def test_neighbours_name_the_local_port_short() -> None:
    cdp = Registered(
        {
            "core-sw1": {
                "ok": True,
                "parsed": [{"neighbor_name": "wan-rtr1", "local_interface": "Gig 0/1"}],
            }
        }
    )
    assert _filters().neighbours(cdp, "core-sw1") == ["wan-rtr1 on Gi0/1"]
    assert _filters().neighbours(cdp, "acc-sw9") == []
