"""The lab's network devices: switches that speak Cisco IOS, Huawei VRP and H3C Comware.

Each switch is a paramiko SSH server (:mod:`.server`) running a CLI :class:`.session.Session`
whose words come from one dialect module (:mod:`.ios`, :mod:`.vrp`, :mod:`.comware`); what a
switch shows is read from the lab state through :class:`.device.Device`. No Twisted and no
fake-switches: the lab installs with the package.

Dialect modules are pure (no sockets): tests drive ``dialect.handle(session, line)`` directly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from respond.lab.netdev.session import Dialect

# dialect name → "module:class", imported on first use
DIALECTS: dict[str, str] = {
    "ios": "respond.lab.netdev.ios:IOS",
    "vrp": "respond.lab.netdev.vrp:VRP",
    "comware": "respond.lab.netdev.comware:Comware",
}


def load_dialect(name: str) -> Dialect:
    """A new instance of the dialect called ``name`` (ios, vrp, comware)."""
    try:
        target = DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r} (known: {', '.join(DIALECTS)})") from None
    module, _, cls = target.partition(":")
    dialect: Dialect = getattr(importlib.import_module(module), cls)()
    return dialect
