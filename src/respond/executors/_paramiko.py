"""paramiko, imported without ``invoke``: ``from respond.executors._paramiko import paramiko``.

``paramiko.config`` imports ``invoke`` (and with it ``unittest.mock`` and ``asyncio``:
about 40 ms of CPU, a third of importing paramiko) only to run the ``Match exec`` lines of
an ssh_config file, which respond's ssh steps never read. Here paramiko is imported with
``invoke`` hidden, and ``paramiko.config`` is then handed a stand-in that imports the real
``invoke`` the first time it is used (netmiko's ``ssh_config_file`` with ``Match exec``),
so nothing changes but the start-up. Importing this module is thread-safe: the import
system runs it once while other threads wait for it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class _LazyInvoke:
    """Stands for the ``invoke`` module; imports it on first attribute access (and raises
    ImportError there when it is not installed, as paramiko itself would)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("invoke"), name)


_hide = "paramiko" not in sys.modules and "invoke" not in sys.modules
if _hide:
    sys.modules["invoke"] = None  # type: ignore[assignment]  # `import invoke` → ImportError
try:
    import paramiko
finally:
    if _hide and "invoke" in sys.modules and sys.modules["invoke"] is None:
        del sys.modules["invoke"]
if _hide and getattr(paramiko.config, "invoke", None) is None:
    paramiko.config.invoke = _LazyInvoke()  # type: ignore[attr-defined]

__all__ = ["paramiko"]
