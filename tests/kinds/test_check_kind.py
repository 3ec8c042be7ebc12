"""The check step kind without a host: validation at file:line:col, what `plan` shows per
host, and the TLS reading against a throwaway local TLS server.

The checks here are small specs registered by the test (``probe_checks``), so that each
rule of the kind is proven on its own; the built-in checks run against real hosts in
tests/integration/test_check_nagios.py and tests/checks/test_check_kind_lab.py.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli
from tlskit import TlsServer

from respond import kinds
from respond.checks import catalog
from respond.checks.catalog import (
    ArgSpec,
    CheckSpec,
    Collected,
    HttpRequestSpec,
    TlsTarget,
)
from respond.checks.result import CheckResult, Thresholds
from respond.executors import executor_class
from respond.executors.base import RunContext
from respond.executors.check import read_certificate
from respond.inventory.model import Host
from respond.kinds.base import RenderEnv
from respond.results import HostResult, StepStatus
from respond.runbook.model import Step
from respond.runbook.templating import Templates


class WordsCheck(CheckSpec):
    name = "kt-words"
    summary = "prints its words"
    transport = "ssh"
    args = (
        ArgSpec("words", "texts", "what to print", required=True),
        ArgSpec("times", "number", "how often", default=1),
    )
    warn = "1"
    crit = "2"

    def commands(self, args: Mapping[str, Any]) -> list[str]:
        words = [args["words"]] if isinstance(args["words"], str) else args["words"]
        return ["echo " + " ".join(shlex.quote(str(w)) for w in words), "false", "echo after"]

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        failed = sum(1 for c in got.commands if c.exit_code)
        return CheckResult(state=limits.grade(failed), summary=f"WORDS {failed}", value=failed)


class OwnThresholdsCheck(WordsCheck):
    name = "kt-own"
    accepts_thresholds = False


class FactsCheck(CheckSpec):
    name = "kt-facts"
    summary = "reads interfaces"
    transport = "netmiko"

    def facts(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        return ("interfaces",)


class WebCheck(CheckSpec):
    name = "kt-web"
    summary = "gets a page"
    transport = "http"
    args = (ArgSpec("url", "text", "the page", required=True),)

    def request(self, args: Mapping[str, Any]) -> HttpRequestSpec:
        return HttpRequestSpec(url=str(args["url"]))


class TlsCheck(CheckSpec):
    name = "kt-tls"
    summary = "reads a certificate"
    transport = "tls"
    args = (ArgSpec("port", "number", "TLS port", default=443),)
    warn = "30:"
    crit = "7:"
    unit = "d"

    def tls_target(self, args: Mapping[str, Any], address: str) -> TlsTarget:
        return TlsTarget(address, int(args["port"]))

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        assert got.cert is not None
        days = round((got.cert.not_after - got.now).total_seconds() / 86400, 1)
        state = limits.grade(days)
        return CheckResult(state=state, summary=f"TLS {state.word} - {days} days", value=days)


class BrokenTlsCheck(TlsCheck):
    name = "kt-broken"

    def grade(self, got: Collected, args: Mapping[str, Any], limits: Thresholds) -> CheckResult:
        raise KeyError("notAfter")


PROBES = (
    WordsCheck(),
    OwnThresholdsCheck(),
    FactsCheck(),
    WebCheck(),
    TlsCheck(),
    BrokenTlsCheck(),
)


@pytest.fixture
def probe_checks() -> Iterator[None]:
    registry = catalog.checks()
    for spec in PROBES:
        registry[spec.name] = spec
    try:
        yield
    finally:
        for spec in PROBES:
            registry.pop(spec.name, None)


INVENTORY = """all:
  vars:
    web_url: http://127.0.0.1:9
  children:
    servers:
      hosts:
        app1: {ansible_host: 127.0.0.1, ansible_port: 2201}
        app2: {ansible_host: 127.0.0.2, ansible_port: 2202}
    switches:
      hosts:
        sw1: {ansible_host: 127.0.0.1, ansible_network_os: vrp}
"""


def project(root: Path, steps: str) -> Cli:
    (root / "runbooks").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "inventory" / "t.yaml").write_text(INVENTORY, encoding="utf-8")
    (root / "respond.yaml").write_text(
        "runbooks: runbooks\ndefault_inventory: inventory/t.yaml\n", encoding="utf-8"
    )
    (root / "runbooks" / "probe.yaml").write_text(
        "runbook: probe\nversion: 1.0.0\ntitle: probe\nscenario: other\nseverity: 3\n"
        f"steps:\n{steps}",
        encoding="utf-8",
    )
    return Cli(in_process=True, cwd=root, env={"RESPOND_HOME": str(root / ".respond")})


BAD_STEPS = """\
  - id: typo
    kind: check
    targets: servers
    check: kt-wrods
  - id: args
    kind: check
    targets: servers
    check: kt-words
    args: {times: many, colour: red}
  - id: missing
    kind: check
    targets: servers
    check: kt-words
  - id: ranges
    kind: check
    targets: servers
    check: kt-words
    args: {words: hi}
    warn: "10:5"
    crit: lots
  - id: own
    kind: check
    targets: servers
    check: kt-own
    args: {words: hi}
    crit: "2"
  - id: inline
    kind: check
    targets: servers
    check: {kind: ssh, command: uptime}
  - id: named
    kind: wait
    timeout: 10s
    check: kt-words
"""


def test_validate_reports_each_problem_of_a_check_step_at_its_place(
    tmp_path: Path, probe_checks: None
) -> None:
    cli = project(tmp_path, BAD_STEPS)
    out = cli("validate", "runbooks/probe.yaml")
    assert out.rc == 2, out
    path = "runbooks/probe.yaml"
    expected = [
        f"{path}:10:5: error: step 1 (typo): unknown check 'kt-wrods' (did you mean 'kt-words'?)",
        f"{path}:15:5: error: step 2 (args): check kt-words needs the argument 'words'",
        f"{path}:15:12: error: step 2 (args): argument 'times' of check kt-words must be number",
        f"{path}:15:25: error: step 2 (args): check kt-words takes no argument 'colour'",
        f"{path}:16:5: error: step 3 (missing): check kt-words needs the argument 'words'",
        f"{path}:25:5: error: step 4 (ranges): warn: threshold range '10:5' starts above its end",
        f"{path}:26:5: error: step 4 (ranges): crit: not a Nagios threshold range: 'lots'",
        f"{path}:32:5: error: step 5 (own): check kt-own takes no 'crit'",
        f"{path}:36:5: error: step 6 (inline): 'check' names a built-in check, e.g. check: disk",
        f"{path}:40:5: error: step 7 (named): the 'check' of a wait step is an inline step",
    ]
    lines = out.stdout.splitlines() + out.stderr.splitlines()
    for wanted in expected:
        assert any(line.startswith(wanted) for line in lines), (wanted, out.output)


def test_templated_arguments_are_checked_when_rendered_not_before(
    tmp_path: Path, probe_checks: None
) -> None:
    cli = project(
        tmp_path,
        """\
  - id: t
    kind: check
    targets: servers
    check: kt-words
    args: {words: "{{ inventory_hostname }}", times: "{{ params.n }}"}
""",
    )
    out = cli("validate", "runbooks/probe.yaml")
    assert out.rc == 0, out


def test_plan_shows_what_each_host_will_be_sent(tmp_path: Path, probe_checks: None) -> None:
    cli = project(
        tmp_path,
        """\
  - id: words
    kind: check
    targets: servers
    check: kt-words
    args: {words: ["{{ inventory_hostname }}", "a; rm -rf /"]}
  - id: facts
    kind: check
    targets: sw1
    check: kt-facts
  - id: web
    kind: check
    targets: app1
    check: kt-web
    args: {url: "{{ web_url }}/health"}
  - id: tls
    kind: check
    targets: app2
    check: kt-tls
    args: {port: 8443}
""",
    )
    plan = cli("plan", "probe", "--json")
    assert plan.rc == 0, plan
    steps = {s["id"]: s for s in plan.json()["steps"]}
    sent = {step: steps[step]["commands"] for step in steps}
    assert sent["words"] == {
        "app1": ["echo app1 'a; rm -rf /'", "false", "echo after"],
        "app2": ["echo app2 'a; rm -rf /'", "false", "echo after"],
    }
    assert sent["facts"] == {"sw1": ["facts: interfaces"]}
    assert sent["web"] == {"app1": ["GET http://127.0.0.1:9/health"]}
    assert sent["tls"] == {"app2": ["TLS handshake 127.0.0.2:8443"]}
    text = cli("plan", "probe")
    assert text.rc == 0 and "echo app1 'a; rm -rf /'" in text.stdout, text


def test_a_certificate_is_read_without_trusting_it_and_its_trust_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_after = datetime.now(UTC).replace(microsecond=0) + timedelta(days=12)
    with TlsServer(tmp_path, not_after=not_after) as server:
        target = TlsTarget("127.0.0.1", server.port, server_name="localhost")
        untrusted = read_certificate(target, time.monotonic() + 20)
        assert untrusted.not_after == not_after
        assert "CN=localhost" in untrusted.subject
        assert untrusted.verified is False  # self-signed: the system store does not know it
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_file))
        trusted = read_certificate(target, time.monotonic() + 20)
        assert trusted.verified is True


def test_a_port_without_tls_is_a_failed_reading(tmp_path: Path) -> None:
    from respond.executors.check import TlsFailed

    with TlsServer(tmp_path, plain=True) as server, pytest.raises(TlsFailed) as failed:
        read_certificate(TlsTarget("127.0.0.1", server.port), time.monotonic() + 20)
    assert failed.value.status is StepStatus.FAILED
    assert f"127.0.0.1:{server.port}" in str(failed.value)


def run_check(tmp_path: Path, check: str, args: dict[str, Any], **step: Any) -> HostResult:
    """One check step on one host through the kind's rendering and its executor."""
    host = Host(name="web1", vars={"ansible_host": "127.0.0.1"}, groups=("all",))
    parsed = Step.model_validate(
        {"id": "probe", "kind": "check", "targets": "web1", "check": check, "args": args, **step}
    )
    env = RenderEnv(templates=Templates(), playbooks_dir=tmp_path)
    variables = {**host.vars, "inventory_hostname": host.name}
    rendered = kinds.get("check").render(parsed, variables, [host], env)
    ctx = RunContext(run_id="t", project_root=tmp_path, playbooks_dir=tmp_path, home=tmp_path)
    executor = executor_class("check")(ctx)
    try:
        return executor.run(parsed, host, rendered, 20)
    finally:
        executor.close()


def test_a_grade_is_an_ok_host_whatever_the_state(tmp_path: Path, probe_checks: None) -> None:
    soon = datetime.now(UTC) + timedelta(days=5, hours=1)
    with TlsServer(tmp_path, not_after=soon) as server:
        hr = run_check(tmp_path, "kt-tls", {"port": server.port})
        relaxed = run_check(tmp_path, "kt-tls", {"port": server.port}, warn="2:", crit="1:")
    assert hr.status is StepStatus.OK and not hr.error, hr
    check = hr.data["check"]
    assert (check["id"], check["name"], check["state"], check["code"]) == (
        "probe",
        "kt-tls",
        "CRITICAL",
        2,
    )
    assert check["value"] == 5.0 and hr.output == "TLS CRITICAL - 5.0 days"
    assert relaxed.data["check"]["state"] == "OK"  # the step's ranges win over the check's


def test_a_failed_reading_fails_the_host_and_is_graded(tmp_path: Path, probe_checks: None) -> None:
    with TlsServer(tmp_path, plain=True) as server:
        port = server.port
    hr = run_check(tmp_path, "kt-tls", {"port": port})  # nothing listens there now
    assert hr.status is StepStatus.FAILED and f"127.0.0.1:{port}" in hr.error, hr
    check = hr.data["check"]
    assert check["state"] == "UNKNOWN" and check["summary"] == f"KT-TLS UNKNOWN - {hr.error}"
    assert check["advice"]


def test_a_check_that_cannot_grade_its_reading_is_unknown_not_a_crash(
    tmp_path: Path, probe_checks: None
) -> None:
    with TlsServer(tmp_path) as server:
        hr = run_check(tmp_path, "kt-broken", {"port": server.port})
    assert hr.status is StepStatus.OK, hr
    assert hr.data["check"]["state"] == "UNKNOWN"
    assert "could not grade the reading: 'notAfter'" in hr.data["check"]["summary"]


def test_validate_names_the_built_in_checks(tmp_path: Path, respond: Cli) -> None:
    project(
        tmp_path,
        """\
  - id: typo
    kind: check
    targets: servers
    check: dsik
  - id: plugin
    kind: check
    targets: servers
    check: nagios
    args: {command: /usr/lib/nagios/plugins/check_load -w 5 -c 9}
    warn: "5"
  - id: option
    kind: check
    targets: servers
    check: disk
    args: {paths: [-h]}
""",
    )
    cli = respond.bind(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    out = cli("validate", "runbooks/probe.yaml")  # a real process: the real catalogue only
    assert out.rc == 2, out
    assert (
        "runbooks/probe.yaml:10:5: error: step 1 (typo): unknown check 'dsik' (did you mean 'disk'?)"
        in out.output
    )
    assert (
        "runbooks/probe.yaml:16:5: error: step 2 (plugin): check nagios takes no 'warn'"
        in out.output
    )
    assert "runbooks/probe.yaml:21:12: error: step 3 (option): " in out.output, out


def test_the_terminal_shows_the_summary_or_with_no_log_the_state_alone() -> None:
    check_kind = kinds.get("check")
    graded = {"check": {"state": "CRITICAL", "summary": "PLUGIN CRITICAL - token=s3cret"}}
    now = datetime.now(UTC)
    result = HostResult(host="h", status=StepStatus.OK, started_at=now, ended_at=now, data=graded)
    plain = Step.model_validate({"id": "p", "kind": "check", "targets": "h", "check": "nagios"})
    hidden = plain.model_copy(update={"no_log": True})
    assert check_kind.host_detail(plain, result) == "PLUGIN CRITICAL - token=s3cret"
    assert check_kind.host_detail(hidden, result) == "CRITICAL"


def test_the_terminal_marks_each_host_by_its_grade_and_shows_findings_among_many(
    tmp_path: Path,
) -> None:
    """A CRITICAL finding is an ok step, but its line gets ✗, not a tick; among more hosts
    than are listed one by one, the findings are still shown while OK hosts are counted."""
    from rich.console import Console

    from respond.cli.progress import MANY_HOSTS, ConsoleProgress
    from respond.secrets import Masker

    step = Step.model_validate({"id": "ups", "kind": "check", "targets": "all", "check": "ups"})
    now = datetime.now(UTC)

    def graded(host: str, state: str) -> HostResult:
        data = {"check": {"state": state, "summary": f"UPS {state} - {host}"}}
        return HostResult(host=host, status=StepStatus.OK, started_at=now, ended_at=now, data=data)

    path = tmp_path / "screen.txt"
    with path.open("w", encoding="utf-8") as f:
        progress = ConsoleProgress(Console(file=f, width=120), Masker([]))
        progress._hosts_in_step = MANY_HOSTS + 2
        states = ["OK"] * (MANY_HOSTS - 1) + ["WARNING", "CRITICAL", "UNKNOWN"]
        for i, state in enumerate(states):
            progress.host_result(step, graded(f"h{i}", state))
    screen = path.read_text(encoding="utf-8")
    assert "! h9 " in screen and "UPS WARNING - h9" in screen
    assert "✗ h10 " in screen and "UPS CRITICAL - h10" in screen
    assert "? h11 " in screen
    assert "✓ h0 " not in screen  # OK hosts are only counted here
    assert f"{MANY_HOSTS + 2}/{MANY_HOSTS + 2} hosts done" in screen
