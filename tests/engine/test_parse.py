"""``parse:`` on a registering step: the output becomes ``NAME.data`` (key_value, json,
regex, textfsm), before ``expect``; a parse failure fails that host with a readable message."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli

from respond.engine.parsing import ParseFailed, key_values, parse_result
from respond.results import CommandResult, HostResult, StepStatus

UPSC = "battery.charge: 100\nbattery.runtime: 2280\nups.status: OL\ndevice.mfr=APC\nnoise line\n"
INTERFACES = """\
Port      Name               Status       Vlan       Duplex  Speed Type
Gi0/1     uplink             connected    trunk        a-full a-1000 10/100/1000BaseTX
Gi0/2                        notconnect   1              auto   auto 10/100/1000BaseTX
"""
TEMPLATE = """\
Value NAME (\\S+)
Value STATE (up|down)

Start
  ^${NAME}\\s+${STATE} -> Record
"""


def project(root: Path, steps: str) -> Cli:
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: parse-test\n", encoding="utf-8")
    (root / "fixtures").mkdir()
    (root / "fixtures" / "upsc.txt").write_text(UPSC, encoding="utf-8")
    (root / "fixtures" / "links.txt").write_text("eth0 up\neth1 down\n", encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "links.textfsm").write_text(TEMPLATE, encoding="utf-8")
    (root / "runbooks" / "p.yaml").write_text(
        "runbook: p\nversion: 1.0.0\ntitle: parse\nscenario: other\nseverity: 3\nsteps:\n"
        + textwrap.indent(textwrap.dedent(steps), "  "),
        encoding="utf-8",
    )
    return Cli().bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})


def run(cli: Cli) -> dict[str, Any]:
    out = cli("run", "p", "--json")
    data = out.json()
    data["rc"] = out.rc
    data["by_id"] = {s["id"]: s for s in data["steps"]}
    return data


def test_key_value_data_reaches_expect_and_later_steps(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: ups
          kind: local
          argv: [cat, fixtures/upsc.txt]
          register: ups
          parse: key_value
          expect:
            that: ["result.data['ups.status'] == 'OL'", "result.data['device.mfr'] == 'APC'"]
        - id: on-battery
          kind: local
          when: "'OB' in ups.data['ups.status']"
          argv: [echo, never]
        - id: runtime
          kind: local
          argv: [echo, "{{ ups.data['battery.runtime'] | int // 60 }} min"]
          register: runtime
          expect:
            that: ["result.stdout | trim == '38 min'"]
        """,
    )
    result = run(cli)
    assert result["rc"] == 0, result
    assert result["by_id"]["on-battery"]["status"] == "skipped"
    assert result["by_id"]["runtime"]["status"] == "ok"


def test_json_regex_and_textfsm_file(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: j
          kind: local
          argv: [echo, '{"lag": 3, "hosts": ["db1", "db2"]}']
          register: j
          parse: json
          expect: {that: ["result.data.lag == 3", "result.data.hosts[1] == 'db2'"]}
        - id: first
          kind: local
          argv: [cat, fixtures/upsc.txt]
          register: first
          parse: {regex: '^battery\\.(?P<what>\\w+): (?P<value>\\d+)'}
          expect: {that: ["result.data == {'what': 'charge', 'value': '100'}"]}
        - id: every
          kind: local
          argv: [cat, fixtures/upsc.txt]
          register: every
          parse: {regex: '^battery\\.(?P<what>\\w+): (?P<value>\\d+)', all: true}
          expect: {that: ["result.data | map(attribute='what') | list == ['charge', 'runtime']"]}
        - id: none
          kind: local
          argv: [echo, nothing]
          register: none
          parse: {regex: '(?P<n>\\d+)', all: true}
          expect: {that: ["result.data == []"]}
        - id: links
          kind: local
          argv: [cat, fixtures/links.txt]
          register: links
          parse: {textfsm: templates/links.textfsm}
          expect: {that: ["result.data == [{'name': 'eth0', 'state': 'up'}, {'name': 'eth1', 'state': 'down'}]"]}
        """,
    )
    result = run(cli)
    assert result["rc"] == 0, result
    assert {s["status"] for s in result["steps"]} == {"ok"}


FAILURES = [
    ("[echo, 'not json']", "json", "parse json: Expecting value: line 1 column 1 (char 0)"),
    (
        "[echo, abc]",
        "{regex: '(?P<n>\\d+)'}",
        "parse regex: /(?P<n>\\d+)/ does not match the output",
    ),
    (
        "[echo, x]",
        "textfsm",
        "parse textfsm: the host has no ansible_network_os to choose a template by",
    ),
    (
        "[echo, x]",
        "{textfsm: fixtures/upsc.txt}",
        "parse textfsm: upsc.txt:",
    ),
]


@pytest.mark.parametrize(("argv", "parse", "message"), FAILURES)
def test_a_parse_failure_fails_the_host_with_a_readable_message(
    tmp_path: Path, argv: str, parse: str, message: str
) -> None:
    cli = project(
        tmp_path,
        f"""\
        - id: probe
          kind: local
          argv: {argv}
          register: probe
          parse: {parse}
        """,
    )
    out = cli("run", "p")
    assert out.rc == 1, out
    assert message in out.stderr, out
    assert "Traceback" not in out.stderr


def test_a_failed_host_is_not_parsed(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: probe
          kind: local
          argv: [sh, -c, 'echo not-json; exit 3']
          register: probe
          parse: json
          on_failure: continue
        - id: after
          kind: local
          when: probe.failed and probe.data is none
          argv: [echo, ok]
        """,
    )
    out = cli("run", "p", "--json")
    steps = {s["id"]: s for s in out.json()["steps"]}
    assert steps["probe"]["status"] == "failed" and "parse" not in steps["probe"]["message"]
    assert "parse json" not in out.stdout + out.stderr
    assert steps["after"]["status"] == "ok"


def test_parse_needs_register(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: probe
          kind: local
          argv: [echo, x]
          parse: json
        """,
    )
    out = cli("validate")
    assert out.rc == 2, out
    assert "runbooks/p.yaml:10:5: error: step 1 (probe): 'parse' needs 'register'" in out.stdout, (
        out
    )


@pytest.mark.parametrize(
    ("parse", "message"),
    [
        ("yaml", "unknown parser 'yaml'"),
        ("{regex: '(\\d+)'}", "has no named group"),
        ("{regex: 'x', every: true}", "write {regex: PATTERN} or {regex: PATTERN, all: true}"),
        ("{textfsm: 3}", "write {regex: PATTERN} or {textfsm: FILE}"),
    ],
)
def test_a_wrong_parse_spec_is_a_validation_error(tmp_path: Path, parse: str, message: str) -> None:
    cli = project(
        tmp_path,
        f"""\
        - id: probe
          kind: local
          argv: [echo, x]
          register: probe
          parse: {parse}
        """,
    )
    out = cli("validate")
    assert out.rc == 2, out
    assert message in out.stdout, out


def _result(*outputs: tuple[str, str]) -> HostResult:
    now = datetime.now(UTC)
    commands = tuple(CommandResult(command=c, exit_code=0, stdout=o) for c, o in outputs)
    return HostResult(
        host="sw1", status=StepStatus.OK, started_at=now, ended_at=now, commands=commands
    )


def test_key_values_split_at_the_first_separator() -> None:
    assert key_values("a: b: c\nx=y=z\n: no key\nplain\n url = http://h:80 \n") == {
        "a": "b: c",
        "x": "y=z",
        "url": "http://h:80",
    }


@pytest.mark.parametrize("network_os", ["ios", "cisco.ios.ios", "cisco_ios", "IOS"])
def test_ntc_templates_by_network_os_and_command(network_os: str) -> None:
    one = _result(("show interfaces status", INTERFACES))
    rows = parse_result("textfsm", one, network_os=network_os)
    assert [(r["port"], r["status"]) for r in rows] == [
        ("Gi0/1", "connected"),
        ("Gi0/2", "notconnect"),
    ]
    two = _result(("show interfaces status", INTERFACES), ("show int status", INTERFACES))
    tables = parse_result("textfsm", two, network_os=network_os)
    assert len(tables) == 2 and tables[1][0]["vlan_id"] == "trunk"


def test_ntc_templates_failures_are_readable() -> None:
    with pytest.raises(ParseFailed, match="no ntc-templates platform for ansible_network_os 'x'"):
        parse_result("textfsm", _result(("show version", "")), network_os="x")
    with pytest.raises(ParseFailed, match='parse textfsm: Unable to parse command "show nothing"'):
        parse_result("textfsm", _result(("show nothing", "x")), network_os="ios")


def test_validate_checks_the_textfsm_file(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: good
          kind: local
          argv: [echo, x]
          register: good
          parse: {textfsm: templates/links.textfsm}
        - id: missing
          kind: local
          argv: [echo, x]
          register: missing
          parse: {textfsm: templates/nope.textfsm}
        - id: outside
          kind: local
          argv: [echo, x]
          register: outside
          parse: {textfsm: ../x.textfsm}
        """,
    )
    out = cli("validate")
    assert out.rc == 2, out
    assert out.stdout.splitlines() == [
        "runbooks/p.yaml:16:22: error: step 2 (missing) parse: textfsm template "
        "'templates/nope.textfsm' not found in the project",
        "runbooks/p.yaml:21:22: error: step 3 (outside) parse: textfsm template "
        "'../x.textfsm' must be a path in the project",
    ]


def test_a_template_file_that_went_missing_after_validation_fails_the_host(
    tmp_path: Path,
) -> None:
    one = _result(("cat links.txt", "eth0 up\n"))
    with pytest.raises(ParseFailed, match=r"template 'gone\.textfsm' not found in the project"):
        parse_result({"textfsm": "gone.textfsm"}, one, root=tmp_path)
    with pytest.raises(
        ParseFailed, match=r"template '\.\./x\.textfsm' must be a path in the project"
    ):
        parse_result({"textfsm": "../x.textfsm"}, one, root=tmp_path)


def test_resume_restores_the_parsed_data(tmp_path: Path) -> None:
    cli = project(
        tmp_path,
        """\
        - id: ups
          kind: local
          argv: [cat, fixtures/upsc.txt]
          register: ups
          parse: key_value
        - id: shed
          kind: local
          confirm: "UPS {{ ups.data['ups.status'] }}: shed load?"
          argv: [echo, "shedding at {{ ups.data['battery.charge'] }}%"]
          register: shed
          expect: {that: ["result.stdout | trim == 'shedding at 100%'"]}
        """,
    )
    stopped = cli("run", "p", "--json")
    assert stopped.rc == 3, stopped  # no terminal for the gate: resumable
    (tmp_path / "fixtures" / "upsc.txt").write_text("ups.status: OB\n", encoding="utf-8")
    resumed = cli("resume", stopped.json()["run_id"], "--yes", "--json")
    assert resumed.rc == 0, resumed
    assert {s["id"]: s["status"] for s in resumed.json()["steps"]}["shed"] == "ok"
