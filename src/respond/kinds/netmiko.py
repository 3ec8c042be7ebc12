"""netmiko: show commands and configuration on network devices (Cisco, Huawei VRP, H3C
Comware, ...). Configuration always passes a gate; device lines refuse line breaks and
control characters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import KindField, Rendered, RenderEnv, StepKind

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSession(Rendered):
    config: tuple[str, ...] = ()
    save: bool = False
    textfsm: bool = False


class NetmikoKind(StepKind):
    name = "netmiko"
    executor = "respond.executors.netmiko:NetmikoExecutor"
    summary = "Show commands and configuration on network devices (netmiko)."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "commands", "texts", "ssh: shell commands; netmiko: show commands.", template="device"
        ),
        KindField(
            "config", "texts", "netmiko: configuration lines (always gated).", template="device"
        ),
        KindField("textfsm", "flag", "netmiko: parse show output with TextFSM.", default=False),
        KindField("save", "flag", "netmiko: save the configuration after `config`.", default=False),
    )
    on_hosts = True
    default_timeout = 60.0
    pollable = True
    exit_codes = True
    required = (("commands", "config"),)

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        present = {k for k, v in raw.items() if v is not None}
        out: list[tuple[str, str | None]] = []
        if "config" in present and inline:
            out.append(
                ("a wait check may not change a device ('config' is not allowed here)", "config")
            )
        elif "config" in present and not raw.get("confirm"):
            out.append(
                (
                    "a netmiko step with 'config' changes the device and needs 'confirm' (the gate text)",
                    "config",
                )
            )
        return out

    def gated_by_default(self, step: Step) -> bool:
        return bool(step.config)

    def default_gate_text(self, step: Step, hosts: Sequence[str]) -> str:
        return f"apply configuration to {', '.join(hosts)}"

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> DeviceSession:
        t = env.templates
        return DeviceSession(
            commands=tuple(t.render_device_line(c, variables) for c in (step.commands or ())),
            config=tuple(t.render_device_line(c, variables) for c in (step.config or ())),
            save=bool(step.save),
            textfsm=bool(step.textfsm),
            variables=variables,
        )

    def actions(self, rendered: Rendered) -> list[str]:
        config = rendered.config if isinstance(rendered, DeviceSession) else ()
        return [*rendered.commands, *(f"(config) {c}" for c in config)]


KIND = NetmikoKind()
