"""Ansible-format inventories (YAML and INI) without importing Ansible.

``load_inventory(path) -> Inventory``; ``Inventory.hosts``/``groups``/``select(pattern)``/
``variable_names()``/``to_dict(redact=True)``; ``Host`` with the connection properties the
executors use. See ``loader`` for variable precedence and ``patterns`` for host patterns.
"""

from __future__ import annotations

from .loader import load_inventory
from .model import (
    MAGIC_VARIABLES,
    REDACTED,
    Group,
    Host,
    Inventory,
    VaultedValue,
    is_secret_name,
)

__all__ = [
    "MAGIC_VARIABLES",
    "REDACTED",
    "Group",
    "Host",
    "Inventory",
    "VaultedValue",
    "is_secret_name",
    "load_inventory",
]
