"""Cross-file checks: names in templates, earlier registers, inventories, targets, playbooks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from respond.cli.validate import validate_files, validate_paths
from respond.config import load_config

INVENTORY = """\
all:
  vars:
    site_name: room-a
  children:
    ups:
      hosts:
        ups1: {ansible_host: 127.0.0.1, battery_min: 30}
    servers:
      hosts:
        oa01: {}
"""

RUNBOOK = """\
runbook: {name}
version: "1.0.0"
title: t
scenario: power
severity: 1
params:
  site: {{default: main}}
steps:
{steps}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "respond.yaml").write_text("default_inventory: inventory/lab.yaml\n")
    for d in ("runbooks", "inventory", "playbooks", "drills"):
        (tmp_path / d).mkdir()
    (tmp_path / "inventory" / "lab.yaml").write_text(INVENTORY)
    (tmp_path / "playbooks" / "fix.yml").write_text("- hosts: all\n  tasks: []\n")
    return tmp_path


@pytest.fixture(autouse=True)
def _in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)  # paths are shown relative to the current directory


def runbook(project: Path, name: str, steps: str) -> Path:
    path = project / "runbooks" / f"{name}.yaml"
    path.write_text(RUNBOOK.format(name=name, steps=textwrap.indent(textwrap.dedent(steps), "  ")))
    return path


def messages(project: Path, *paths: Path, inventory: Path | None = None) -> list[str]:
    return [str(i) for i in validate_paths(list(paths), load_config(project), inventory)]


def test_names_resolve_to_params_registers_inventory_and_builtins(project: Path) -> None:
    path = runbook(
        project,
        "ok",
        """\
        - id: a
          kind: ssh
          targets: ups
          command: "upsc {{ site }} {{ battery_min }} {{ inventory_hostname }} {{ params.site }}"
          register: ups
        - id: b
          kind: notify
          when: "ups.ok and severity < 3 and not drill"
          message: "{{ site_name }} {{ run_id }} {{ runbook.title }} {{ now }} {{ operator }}"
          expect: {that: ["result.ok"]}
        - id: c
          kind: ansible
          targets: "servers:&ups"
          playbook: fix.yml
          extra_vars: {x: "{{ ups.stdout }}"}
        """,
    )
    found = messages(project, path)
    assert len(found) == 1, found
    assert found == [
        "runbooks/ok.yaml:21:14: error: step 3 (c) targets 'servers:&ups' match no host "
        "in inventory/lab.yaml"
    ]


def test_unknown_and_later_names(project: Path) -> None:
    path = runbook(
        project,
        "bad",
        """\
        - id: a
          kind: local
          command: "echo {{ sitte }} {{ later.stdout }}"
          when: "result.ok"
        - id: b
          kind: local
          command: echo
          register: later
          expect: {that: "later.rc == 0"}
        """,
    )
    found = messages(project, path)
    assert any("unknown name 'sitte' (did you mean 'site'?)" in m for m in found)
    assert any("'later' is registered by a later step, step 2 (b)" in m for m in found)
    assert any("step 1 (a) when: unknown name 'result'" in m for m in found)
    assert any("'later' is registered by this step itself" in m for m in found)
    assert all(":" in m.split(" ")[0] for m in found)


def test_inventory_variables_need_an_inventory(project: Path, tmp_path: Path) -> None:
    path = runbook(project, "inv", "- id: a\n  kind: local\n  command: 'echo {{ battery_min }}'\n")
    assert messages(project, path) == []  # the default inventory defines it
    (project / "inventory" / "lab.yaml").unlink()
    found = messages(project, path)
    assert len(found) == 1 and "no inventory given" in found[0]


def test_targets_and_playbooks(project: Path) -> None:
    path = runbook(
        project,
        "tp",
        """\
        - id: a
          kind: ssh
          targets: nowhere
          command: uptime
        - id: b
          kind: ansible
          targets: ups
          playbook: missing.yml
        - id: c
          kind: ansible
          targets: ups
          playbook: ../respond.yaml
        """,
    )
    report = validate_files([path], load_config(project))
    text = "\n".join(str(i) for i in report.issues)
    assert "error: step 1 (a) targets 'nowhere' match no host in inventory/lab.yaml" in text
    assert "playbook 'missing.yml' not found" in text
    assert "must be a path under playbooks/" in text
    assert len(report.errors) == 3 and len(report.warnings) == 0


def test_whole_project(project: Path) -> None:
    runbook(project, "one", "- id: a\n  kind: local\n  command: echo\n")
    (project / "drills" / "q1.yaml").write_text("drill: q1\nrunbook: one\n")
    (project / "drills" / "q2.yaml").write_text("drill: q2\nrunbook: onee\n")
    (project / "inventory" / "broken.ini").write_text("[web\nhost1\n")
    report = validate_files(None, load_config(project))
    assert (report.runbooks, report.inventories, report.drills) == (1, 2, 2)
    text = "\n".join(str(i) for i in report.issues)
    assert "unknown runbook 'onee' (did you mean 'one'?)" in text
    assert "broken.ini" in text


def test_a_param_inside_quotes_in_a_shell_command_is_quoted_twice(project: Path) -> None:
    path = runbook(
        project,
        "quotes",
        """\
        - id: query
          kind: ssh
          targets: servers
          command: psql -c "{{ site }}" --opt='x={{ site }}'
          register: q
        - id: fine
          kind: ssh
          targets: servers
          commands:
            - psql -c {{ site }} -- "{{ '$HOME' | raw }}" '{{ q.stdout }}' "{{ inventory_hostname }}"
            - echo "{% if site %}x{% endif %}"
        - id: text
          kind: local
          argv: [echo, '"{{ site }}"']
        """,
    )
    assert messages(project, path) == [
        "runbooks/quotes.yaml:12:14: warning: step 1 (query) command: "
        '"{{ site }}" is quoted twice (params are shell-quoted already): write {{ site }}',
        "runbooks/quotes.yaml:12:14: warning: step 1 (query) command: "
        "'x={{ site }}' is quoted twice (params are shell-quoted already): write x={{ site }}",
    ]
