"""What the stand-in switches of the dialect tests share (they drive a dialect without sockets)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from respond.lab.netdev.device import PortView


def gigabit_port(slot: str, n: int, **fields: Any) -> PortView:
    """Port ``n`` of a gigabit slot (``"0/0/"``: GigabitEthernet0/0/n, short GE0/0/n): admin
    up, 1000 Mb/s full duplex, MTU 1500, no errors, in VLAN 1, down; ``fields`` say the rest."""
    port = PortView(
        name=f"GigabitEthernet{slot}{n}",
        short=f"GE{slot}{n}",
        admin_up=True,
        oper_up=False,
        description="",
        speed_mbps=1000,
        duplex="full",
        mtu=1500,
        mac=f"52:54:00:20:01:{n:02x}",
        in_errors=0,
        out_errors=0,
        crc=0,
        vlan="1",
        last_change=0.0,
    )
    return replace(port, **fields)
