"""Template variables for one run: params, built-ins, set values, registered results and
host vars."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from respond.inventory import Host, Inventory


class _HostVars(Mapping[str, Any]):
    """``hostvars[name]`` without copying every host's vars up front."""

    def __init__(self, inventory: Inventory | None) -> None:
        self._inv = inventory

    def __getitem__(self, key: str) -> Any:
        if self._inv is None or key not in self._inv.hosts:
            raise KeyError(key)
        host = self._inv.hosts[key]
        return {**host.vars, "inventory_hostname": host.name}

    def __iter__(self) -> Iterator[str]:
        return iter(self._inv.hosts if self._inv else ())

    def __len__(self) -> int:
        return len(self._inv.hosts) if self._inv else 0


class _Groups(Mapping[str, list[str]]):
    def __init__(self, inventory: Inventory | None) -> None:
        self._inv = inventory

    def __getitem__(self, key: str) -> list[str]:
        if self._inv is None or (key not in self._inv.groups and key != "all"):
            raise KeyError(key)
        return [h.name for h in self._inv.select(key)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inv.groups if self._inv else ())

    def __len__(self) -> int:
        return len(self._inv.groups) if self._inv else 0


def all_group_vars(inventory: Inventory | None) -> dict[str, Any]:
    """Vars of the ``all`` group, visible in steps that run on the operator's machine."""
    if inventory is None:
        return {}
    group = inventory.groups.get("all")
    return dict(getattr(group, "vars", {}) or {}) if group is not None else {}


def base_variables(
    *,
    runbook: Any,
    params: Mapping[str, Any],
    run_id: str,
    severity: int,
    drill: bool,
    operator: str,
    inventory: Inventory | None,
    now: str,
) -> dict[str, Any]:
    variables: dict[str, Any] = dict(all_group_vars(inventory))
    variables.update(
        {
            "hostvars": _HostVars(inventory),
            "groups": _Groups(inventory),
            "run_id": run_id,
            "runbook": {"id": runbook.id, "version": runbook.version, "title": runbook.title},
            "severity": severity,
            "drill": drill,
            "now": now,
            "operator": operator,
            "params": dict(params),
        }
    )
    variables.update(params)
    return variables


def host_variables(base: Mapping[str, Any], host: Host) -> dict[str, Any]:
    variables = dict(base)
    variables.update(host.vars)
    variables["inventory_hostname"] = host.name
    variables["group_names"] = list(
        getattr(host, "group_names", None) or [g for g in host.groups if g != "all"]
    )
    # params win over host vars of the same name, as -e extra vars do in Ansible
    variables.update(base.get("params", {}))
    return variables


def with_values(variables: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` with the values of earlier set steps as top-level names. They win over
    host vars of the same name, as params do; validation keeps them apart from params,
    built-ins and register names."""
    out = dict(variables)
    out.update(values)
    return out
