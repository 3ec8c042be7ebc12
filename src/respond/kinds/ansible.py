"""ansible: a playbook from ``playbooks/`` through ansible-runner, once for every selected
host; the one run's result is split into one result per host for the record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind
from respond.results import CommandResult, HostResult, StepStatus

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

_HOST_STATUS = {
    "ok": StepStatus.OK,
    "failed": StepStatus.FAILED,
    "unreachable": StepStatus.FAILED,
    "skipped": StepStatus.SKIPPED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybookRun(Rendered):
    playbook: str  # absolute, under the project's playbooks/
    limit: str  # the selected hosts, comma-separated
    inventory: str | None = None
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    known_hosts: tuple[str, ...] = ()  # the hosts' own known_hosts files, trusted too
    # host → its inventory ansible_connection, where it sets one
    connections: Mapping[str, str] = field(default_factory=dict)


class AnsibleKind(StepKind):
    name = "ansible"
    executor = "respond.executors.ansible:AnsibleExecutor"
    summary = "An Ansible playbook from playbooks/ on the selected hosts (ansible-runner)."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "playbook",
            "text",
            "ansible: playbook path under playbooks/.",
            template="none",
            under="playbooks",
        ),
        KindField("extra_vars", "mapping", "ansible: variables passed to the playbook."),
        KindField("tags", "texts", "ansible: only tasks with these tags.", template="none"),
    )
    on_hosts = True
    one_run = True
    required = (("playbook",),)
    default_timeout = 1800.0

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        extra = raw.get("extra_vars")
        if isinstance(extra, Mapping):
            found.extend(
                (f"extra_vars sets {key}: {problem}", "extra_vars")
                for key, value in extra.items()
                if (problem := extra_var_problem(str(key), value)) is not None
            )
        return found

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> PlaybookRun:
        from respond.sshopts import known_hosts_files

        limit = ",".join(h.name for h in hosts)
        extra = dict(env.params)
        extra.update(env.templates.render_value(dict(step.extra_vars or {}), variables))
        return PlaybookRun(
            playbook=str(env.playbooks_dir / step.playbook),
            limit=limit,
            inventory=str(env.inventory_path) if env.inventory_path else None,
            extra_vars={k: v for k, v in extra.items() if v is not None},
            tags=tuple(step.tags or ()),
            known_hosts=tuple(
                dict.fromkeys(str(p) for h in hosts for p in known_hosts_files(h.vars))
            ),
            connections={
                h.name: str(h.vars["ansible_connection"])
                for h in hosts
                if h.vars.get("ansible_connection") is not None
            },
            commands=(f"ansible-playbook {step.playbook} --limit {limit}",),
            variables=variables,
        )

    def split(self, whole: HostResult, hosts: Sequence[str]) -> list[HostResult]:
        per_host = {hr.host: hr for hr in split_hosts(whole)}
        out = []
        for name in hosts:
            hr = per_host.get(name)
            if hr is None:
                hr = HostResult(
                    host=name,
                    status=StepStatus.FAILED if whole.status.is_failure else StepStatus.SKIPPED,
                    started_at=whole.started_at,
                    ended_at=whole.ended_at,
                    error=whole.error or "no result for this host",
                    artifacts=whole.artifacts,
                )
            out.append(hr)
        return out


def extra_var_problem(name: str, value: Any) -> str | None:
    """Why a step may not pass this extra var: extra vars beat the inventory, so a connection
    other than ssh or local would apply to every host of the step."""
    from respond.sshopts import PLAYBOOK_CONNECTIONS, host_key_var_problem

    problem = host_key_var_problem(name, value)
    connection = str(value).strip().lower()
    if problem is None and name == "ansible_connection" and connection not in PLAYBOOK_CONNECTIONS:
        problem = (
            "respond controls SSH host-key checking; a playbook step connects with ssh (or local)"
        )
    return problem


def split_hosts(result: HostResult) -> list[HostResult]:
    """One ``HostResult`` per host of a playbook run's result, in the order Ansible reported
    them; ``unreachable`` hosts are failed with the reason in ``error``. The executor puts
    per host ``{status: ok|failed|unreachable|skipped, changed, rc, msg, tasks}`` in
    ``data["hosts"]``."""
    hosts: Mapping[str, Mapping[str, Any]] = result.data.get("hosts") or {}
    out: list[HostResult] = []
    playbook = str(result.data.get("playbook", "playbook"))
    for name, info in hosts.items():
        status = _HOST_STATUS.get(str(info.get("status")), StepStatus.UNKNOWN)
        msg = str(info.get("msg") or "")
        error = ""
        if info.get("status") == "unreachable":
            error = f"unreachable: {msg}" if msg else "unreachable"
        elif status is StepStatus.FAILED:
            error = msg or "a task failed"
        stdout = "\n".join(
            str(t["stdout"]) for t in info.get("tasks", ()) if t.get("stdout") is not None
        )
        started = _parse_time(info.get("started")) or result.started_at
        ended = _parse_time(info.get("ended")) or result.ended_at
        out.append(
            HostResult(
                host=name,
                status=status,
                started_at=started,
                ended_at=max(ended, started),
                commands=(
                    CommandResult(
                        command=f"ansible-playbook {playbook}",
                        exit_code=info.get("rc"),
                        stdout=stdout,
                        stderr=msg if status is StepStatus.FAILED else "",
                        duration_s=max((ended - started).total_seconds(), 0.0),
                    ),
                ),
                output=stdout,
                error=error,
                changed=bool(info.get("changed")),
                attempts=result.attempts,
                data=dict(info),
                artifacts=result.artifacts,
            )
        )
    return out


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


KIND = AnsibleKind()
