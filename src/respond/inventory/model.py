"""The resolved inventory: frozen ``Host`` and ``Group`` records and the ``Inventory``."""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import InventoryError, Issue
from ._addresses import _IPV4, _IPV6
from .patterns import PatternError, evaluate, parse_pattern

REDACTED = "***"


class VaultedValue(str):
    """An ``!vault`` value kept encrypted: respond cannot decrypt it, Ansible can.

    It is a ``str`` (the ciphertext) so it can be handed on to ansible-runner unchanged; its
    ``repr`` never shows the ciphertext and ``to_dict`` redacts it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "VaultedValue(<encrypted>)"


#: Variables every host has in Ansible without an inventory defining them ("magic" vars).
MAGIC_VARIABLES = frozenset(
    {
        "inventory_hostname",
        "inventory_hostname_short",
        "group_names",
        "groups",
        "hostvars",
        "inventory_file",
        "inventory_dir",
    }
)


def is_secret_name(name: str) -> bool:
    """Names whose values ``to_dict(redact=True)`` hides: ``*password*``, ``*pass``,
    ``*passphrase*``, ``*secret*``, ``*token*`` (so also ``ansible_become_pass``)."""
    n = name.lower()
    return (
        "password" in n or n.endswith("pass") or "passphrase" in n or "secret" in n or "token" in n
    )


# ``{{ lookup('env', 'NAME') }}`` (or ansible.builtin.env): the one template respond resolves
# itself, so an inventory can refer to a secret without holding it and still work unchanged
# for Ansible playbooks.
_ENV_LOOKUP = re.compile(
    r"""^\s*\{\{\s*lookup\(\s*(['"])(?:ansible\.builtin\.)?env\1\s*,\s*
        (['"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\)\s*\}\}\s*$""",
    re.X,
)


def _secret(value: Any) -> str | None:
    if value is None or isinstance(value, VaultedValue):
        return value
    text = str(value)
    m = _ENV_LOOKUP.match(text)
    if m:
        return os.environ.get(m.group(3)) or None
    return text


def _first(vars: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        value = vars.get(n)
        if value is not None:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Host:
    """One inventory host with its variables merged as Ansible merges them.

    ``vars`` is read-only; ``groups`` holds ``all`` then every group the host belongs to,
    directly or through a child group, sorted by name (Ansible's ``group_names`` + ``all``).
    """

    name: str
    vars: Mapping[str, Any]
    groups: tuple[str, ...]
    base_dir: Path | None = field(default=None, repr=False, compare=False)

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def address(self) -> str:
        """Where to connect: ``ansible_host`` (or the old ``ansible_ssh_host``), else the name."""
        value = _first(self.vars, "ansible_host", "ansible_ssh_host")
        return str(value) if value is not None else self.name

    @property
    def port(self) -> int:
        """``ansible_port`` / ``ansible_ssh_port`` (validated at load time), default 22."""
        value = _first(self.vars, "ansible_port", "ansible_ssh_port")
        return int(value) if value is not None else 22

    @property
    def user(self) -> str | None:
        value = _first(self.vars, "ansible_user", "ansible_ssh_user")
        return str(value) if value is not None else None

    @property
    def key_file(self) -> Path | None:
        """``ansible_ssh_private_key_file`` (or ``ansible_private_key_file``), with ``~`` and
        ``$VARS`` expanded; a relative path is taken from the inventory file's directory."""
        value = _first(self.vars, "ansible_ssh_private_key_file", "ansible_private_key_file")
        if value is None or value == "":
            return None
        path = Path(os.path.expandvars(os.path.expanduser(str(value))))
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path

    @property
    def password(self) -> str | None:
        """``ansible_password`` / ``ansible_ssh_pass``; a value that is exactly
        ``{{ lookup('env', 'NAME') }}`` is read from the environment (None when unset)."""
        return _secret(
            _first(self.vars, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
        )

    @property
    def become_password(self) -> str | None:
        """``ansible_become_password`` / ``ansible_become_pass``, env lookups resolved."""
        return _secret(_first(self.vars, "ansible_become_password", "ansible_become_pass"))

    @property
    def network_os(self) -> str | None:
        value = self.vars.get("ansible_network_os")
        return str(value) if value is not None else None

    @property
    def connection(self) -> str | None:
        value = self.vars.get("ansible_connection")
        return str(value) if value is not None else None

    @property
    def group_names(self) -> list[str]:
        """Ansible's ``group_names``: sorted, without ``all``."""
        return [g for g in self.groups if g != "all"]

    @property
    def magic_vars(self) -> dict[str, Any]:
        """``inventory_hostname``, ``inventory_hostname_short`` and ``group_names``."""
        if _IPV4.match(self.name) or _IPV6.match(self.name):
            short = self.name
        else:
            short = self.name.split(".")[0]
        return {
            "inventory_hostname": self.name,
            "inventory_hostname_short": short,
            "group_names": self.group_names,
        }


@dataclass(frozen=True, slots=True)
class Group:
    """One group. ``vars`` are the group's own variables (inventory file, then its
    ``group_vars/`` file), ``hosts`` its direct members, ``all_hosts`` every member including
    the hosts of descendant groups in Ansible's order; ``depth`` is the longest path from
    ``all`` and, with ``priority`` (``ansible_group_priority``) and the name, orders
    precedence."""

    name: str
    vars: Mapping[str, Any]
    hosts: tuple[str, ...]
    children: tuple[str, ...]
    parents: tuple[str, ...]
    depth: int
    priority: int
    all_hosts: tuple[str, ...]

    def __hash__(self) -> int:
        return hash(self.name)


class Inventory:
    """A loaded inventory. Treat it as read-only: it is shared by every step of a run."""

    __slots__ = ("_variable_names", "groups", "hosts", "sha256", "source", "warnings")

    def __init__(
        self,
        source: Path,
        hosts: dict[str, Host],
        groups: dict[str, Group],
        *,
        variable_names: frozenset[str] = frozenset(),
        warnings: tuple[Issue, ...] = (),
        sha256: str = "",
    ) -> None:
        self.source = source
        self.hosts = hosts
        self.groups = groups
        self.warnings = warnings
        self.sha256 = sha256
        self._variable_names = variable_names

    def __repr__(self) -> str:
        return f"<Inventory {self.source} hosts={len(self.hosts)} groups={len(self.groups)}>"

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())

    def __contains__(self, name: object) -> bool:
        return name in self.hosts

    # -- selection --------------------------------------------------------------------
    def select(self, pattern: str) -> list[Host]:
        """Hosts matching an Ansible host pattern, in the order Ansible would use.

        Raises InventoryError for a malformed pattern; returns ``[]`` when nothing matches.
        """
        try:
            terms = parse_pattern(pattern)
        except PatternError as exc:
            raise InventoryError(
                f"bad host pattern {pattern!r}: {exc}",
                [Issue(f"bad host pattern {pattern!r}: {exc}")],
            ) from None
        names = evaluate(
            terms, list(self.hosts), list(self.groups), lambda g: self.groups[g].all_hosts
        )
        return [self.hosts[n] for n in names]

    def groups_dict(self) -> dict[str, list[str]]:
        """Ansible's ``groups`` magic variable: every group → all its hosts."""
        return {name: list(g.all_hosts) for name, g in self.groups.items()}

    def variable_names(self) -> set[str]:
        """Every variable name defined anywhere (hosts, groups, group_vars/, host_vars/),
        plus the magic names every host has (``inventory_hostname``, ``groups``, ...)."""
        return set(self._variable_names) | MAGIC_VARIABLES

    # -- snapshots --------------------------------------------------------------------
    def to_dict(self, redact: bool = True) -> dict[str, Any]:
        """A JSON-able snapshot; with ``redact`` password-like values become ``***``."""
        return {
            "source": str(self.source),
            "sha256": self.sha256,
            "groups": {
                name: {
                    "hosts": list(g.hosts),
                    "children": list(g.children),
                    "vars": _jsonable(g.vars, redact),
                }
                for name, g in self.groups.items()
            },
            "hosts": {
                name: {"groups": list(h.groups), "vars": _jsonable(h.vars, redact)}
                for name, h in self.hosts.items()
            },
        }


def _jsonable(value: Any, redact: bool, key: str = "") -> Any:
    if redact and key and is_secret_name(key):
        return REDACTED
    if isinstance(value, VaultedValue):
        return REDACTED
    if isinstance(value, Mapping | MappingProxyType):
        return {str(k): _jsonable(v, redact, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, redact) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
