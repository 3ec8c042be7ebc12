"""`respond plan`: what would run, per host, without connecting anywhere."""

from __future__ import annotations

from pathlib import Path

from clikit import Cli, Result

RUNBOOK = """runbook: plan-me
version: 1.0.0
title: 计划 / plan me
scenario: server
severity: 2
params:
  site: {default: main}
  target: {default: web}
  token: {secret: true, required: true}
steps:
  - {id: look, name: look, kind: ssh, targets: "{{ target }}", command: "echo {{ site }} {{ token }}", register: seen}
  - id: fix
    name: fix
    kind: ssh
    targets: db
    command: "systemctl restart {{ site }}"
    when: seen.failed
    confirm: "Restart {{ site }} on the database?"
  - {id: only-main, name: only main, kind: local, command: "echo main", when: "site == 'main'"}
  - {id: tell, name: tell, kind: notify, message: "done at {{ site }}: {{ seen.stdout }}"}
"""

INVENTORY = """all:
  children:
    web:
      hosts:
        web1: {ansible_host: 192.0.2.10}
        web2: {ansible_host: 192.0.2.11}
    db:
      hosts:
        db1: {ansible_host: 192.0.2.20}
"""


def _plan(respond: Cli, tmp_path: Path, *args: str) -> Result:
    (tmp_path / "runbooks").mkdir(exist_ok=True)
    (tmp_path / "runbooks" / "plan-me.yaml").write_text(RUNBOOK, encoding="utf-8")
    (tmp_path / "inv.yaml").write_text(INVENTORY, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    return respond(
        "plan",
        "plan-me",
        "-i",
        "inv.yaml",
        *args,
        cwd=tmp_path,
        env={"RESPOND_HOME": str(tmp_path / "home")},
    )


def test_plan_renders_per_host_with_quoting_and_secrets_hidden(
    respond: Cli, tmp_path: Path
) -> None:
    evil = "x; touch /tmp/owned"
    out = _plan(respond, tmp_path, "-p", f"site={evil}", "-p", "token=s3cret-value", "--json")
    assert out.rc == 0, out
    plan = out.json()
    look, fix, only_main, tell = plan["steps"]
    assert look["hosts"] == ["web1", "web2"]
    # the parameter is one shell word; the secret never appears
    assert look["commands"]["web1"] == ["echo 'x; touch /tmp/owned' '***'"]
    assert "s3cret-value" not in out.stdout + out.stderr
    assert fix["hosts"] == ["db1"] and fix["gate"] == f"Restart {evil} on the database?"
    assert "decided at run time" in fix["condition"]
    assert "false" in only_main["condition"]  # site is not 'main': known before the run
    assert "result of 'seen'" in tell["commands"]["localhost"][0]
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").iterdir())


def test_plan_text_output_and_missing_secret(respond: Cli, tmp_path: Path) -> None:
    out = _plan(respond, tmp_path, "-p", "target=db")
    assert out.rc == 0, out
    assert "nothing is executed by plan" in out.stdout
    assert "db1: echo main '***'" in out.stdout  # a missing secret is shown masked
    assert "missing required params: token" in out.stdout
    assert "GATE" in out.stdout


def test_plan_unknown_runbook_and_bad_param(respond: Cli, tmp_path: Path) -> None:
    out = _plan(respond, tmp_path, "-p", "nope=1")
    assert out.rc == 2 and "unknown parameter 'nope'" in out.stderr, out
    assert "Traceback" not in out.stderr
    out = respond("plan", "plan-mee", cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / "home")})
    assert out.rc == 2 and "no runbook named 'plan-mee'" in out.stderr, out
    assert "Traceback" not in out.stderr


def test_plan_masks_inventory_passwords_and_secrets_in_any_form(
    respond: Cli, tmp_path: Path
) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "pw.yaml").write_text(
        """runbook: pw
version: 1.0.0
title: pw
scenario: server
severity: 3
params:
  token: {secret: true}
steps:
  - id: sudo
    kind: ssh
    targets: db1
    command: "echo {{ ansible_become_password }} | sudo -S true; login {{ ansible_password }}"
  - id: peek
    kind: local
    command: "echo {{ hostvars['db1'].ansible_become_password | upper }} {{ site_token }}"
  - {id: tell, kind: notify, message: "password {{ hostvars.db1.ansible_password }}"}
""",
        encoding="utf-8",
    )
    (tmp_path / "inv.yaml").write_text(
        "all:\n  vars: {site_token: Site-Token-3141}\n  hosts:\n"
        "    db1: {ansible_host: 192.0.2.20, ansible_password: 'pw Login-2718',"
        " ansible_become_password: Become-1618}\n",
        encoding="utf-8",
    )
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    for fmt in ([], ["--json"]):
        out = respond(
            "plan",
            "pw",
            "-i",
            "inv.yaml",
            *fmt,
            cwd=tmp_path,
            env={"RESPOND_HOME": str(tmp_path / "home")},
        )
        assert out.rc == 0, out
        for secret in ("Login-2718", "Become-1618", "BECOME-1618", "Site-Token-3141"):
            assert secret not in out.output, (secret, out.output)
        assert "echo *** | sudo -S true; login ***" in out.stdout  # shell-quoted, then masked


def test_plan_shows_set_expressions_and_decide_rules_unevaluated(
    respond: Cli, tmp_path: Path
) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "decided.yaml").write_text(
        """runbook: decided
version: 1.0.0
title: decided
scenario: power
severity: 2
steps:
  - {id: probe, kind: local, command: upsc ups, register: ups}
  - id: facts
    kind: set
    values: {status: "ups.stdout.split()[0]", on_battery: "'OB' in status", grace: 5}
  - id: diagnose
    kind: decide
    register: diag
    rules: [{when: on_battery, verdict: on-battery, message: "{{ status }}"}]
    otherwise: {verdict: no-fault}
  - {id: tell, kind: notify, when: "on_battery", message: "status {{ status }}"}
""",
        encoding="utf-8",
    )
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    out = respond("plan", "decided", "--json", cwd=tmp_path)
    assert out.rc == 0, out
    _probe, facts, diagnose, tell = out.json()["steps"]
    assert facts["commands"]["localhost"] == [
        "status = ups.stdout.split()[0]",
        "on_battery = 'OB' in status",
        "grace = 5",
    ]
    assert diagnose["commands"]["localhost"] == [
        "when on_battery → on-battery: {{ status }}",
        "otherwise → no-fault",
    ]
    assert tell["condition"] == "on_battery  (decided at run time: uses on_battery)"
    assert tell["commands"]["localhost"] == [
        "(rendered at run time from the value 'status' a set step computes)"
    ]


TIMED = """runbook: timed
version: 1.0.0
title: timed
scenario: other
severity: 3
params:
  wait_minutes: {default: "5"}
steps:
  - {id: probe, kind: local, command: echo hi, register: seen}
  - {id: drain, kind: local, command: echo drain, timeout: "{{ wait_minutes }}m"}
  - {id: later, kind: local, command: echo later, timeout: "{{ seen.stdout }}s"}
  - {id: done, kind: finish, outcome: no-fault, message: "fine at {{ wait_minutes }}"}
"""


def test_plan_renders_a_templated_timeout_and_shows_finish(respond: Cli, tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "timed.yaml").write_text(TIMED, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n", encoding="utf-8")
    env = {"RESPOND_HOME": str(tmp_path / "home")}
    plan = respond("plan", "timed", "-p", "wait_minutes=2", "--json", cwd=tmp_path, env=env)
    assert plan.rc == 0, plan
    steps = {s["id"]: s for s in plan.json()["steps"]}
    assert steps["drain"]["timeout"] == 120.0
    # a timeout from an earlier step's result is known only when the run gets there
    assert steps["later"]["timeout"] == "(rendered at run time from the result of 'seen')"
    assert steps["done"]["commands"] == {"localhost": ["finish the run (no-fault): fine at 2"]}
