"""The check executor's ssh reading against a real OpenSSH server, with a check registered by
the test: every command of a check runs whatever the exit code of the one before, values
reach the host as one word each, and the run's one ssh connection per host is reused."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from respond.checks import catalog
from respond.checks.catalog import ArgSpec, CheckSpec, Collected
from respond.checks.result import CheckResult, Thresholds
from respond.executors.base import RunContext
from respond.executors.check import CheckExecutor
from respond.executors.ssh import SshExecutor
from respond.inventory.model import Host
from respond.kinds.check import CheckRequest
from respond.results import StepStatus
from respond.runbook.model import Step


class ExitCodes(CheckSpec):
    """Prints its words, fails, prints again: the headline is how many commands failed."""

    name = "kt-exit-codes"
    summary = "three commands, the second fails"
    transport = "ssh"
    args = (ArgSpec("words", "text", "what to print", required=True),)
    crit = "0"

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        return [f"echo {shlex.quote(str(args['words']))}", "exit 3", "echo after"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        failed = sum(1 for c in got.commands if c.exit_code)
        state = limits.grade(failed)
        return CheckResult(state=state, summary=f"CODES {state.word} - {failed}", value=failed)


@pytest.fixture
def exit_codes() -> Iterator[CheckSpec]:
    spec = ExitCodes()
    catalog.checks()[spec.name] = spec
    try:
        yield spec
    finally:
        catalog.checks().pop(spec.name, None)


def test_every_command_of_a_check_runs_on_one_reused_connection(
    sshd_hosts: Any, run_ctx: RunContext, exit_codes: CheckSpec
) -> None:
    sshd = sshd_hosts(1)[0]
    host = Host(name=sshd.name, vars=sshd.inventory_vars(), groups=("all",))
    words = "a; exit 9 $(id -u) `id -u`"  # printed as it is: one word for the shell
    request = CheckRequest(
        check=exit_codes.name,
        args={"words": words},
        commands=tuple(exit_codes.commands({"words": words})),
    )
    step = Step.model_validate(
        {"id": "codes", "kind": "check", "targets": "all", "check": exit_codes.name}
    )
    executor = CheckExecutor(run_ctx)
    try:
        first = executor.run(step, host, request, 30)
        second = executor.run(step, host, request, 30)
        ssh = executor._executors["ssh"]
        assert isinstance(ssh, SshExecutor) and ssh.connections_opened == 1
    finally:
        executor.close()
    assert executor._executors == {}
    for hr in (first, second):
        assert hr.status is StepStatus.OK, hr
        assert [(c.exit_code, c.stdout) for c in hr.commands] == [
            (0, f"{words}\n"),
            (3, ""),
            (0, "after\n"),
        ]
        assert hr.data["check"]["state"] == "CRITICAL" and hr.output == "CODES CRITICAL - 1"
