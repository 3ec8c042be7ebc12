"""Start-up benchmark: how fast respond answers, next to Ansible doing comparable work.

    .venv/bin/python benchmarks/startup.py [--runs 7] [--count 100] [--json]

Measures wall time of fresh processes (best and median of ``--runs``):

- ``respond --help``
- ``respond list``                  (a generated project with ``--count`` runbooks)
- ``respond validate``              (the same project: runbooks + inventory)
- ``ansible --version``             (Ansible's bare start-up)
- ``ansible-playbook --syntax-check`` on one playbook equivalent to one runbook, and on
  ``--count`` of them in one invocation (the equivalent of validating the whole project)

and prints each as a ratio to ``ansible --version``. The first run of each command is not
counted: it writes .pyc files and respond's cache of checked files (``.respond/cache/``), so
respond's figures are warm ones, as on a project whose files have not changed since the last
command; ``run_all.py`` reports cold ones too. Targets (issue 2): ``respond --help``
< 100 ms, ``respond validate`` of 100 runbooks < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

INVENTORY = """\
all:
  vars:
    site_name: room-a
  children:
    ups:
      hosts:
        ups1: {ansible_host: 127.0.0.1, ansible_port: 2222}
    servers:
      children:
        core:
          hosts:
            oa01: {ansible_host: 127.0.0.1, service: oa}
            sms01: {ansible_host: 127.0.0.1, service: sms}
        noncritical:
          hosts:
            test01: {ansible_host: 127.0.0.1, service: test}
    switches:
      vars: {ansible_network_os: ios}
      hosts:
        sw1: {ansible_host: 127.0.0.1}
"""

RUNBOOK = """\
# yaml-language-server: $schema=../schemas/runbook.schema.json
runbook: {name}
version: "1.{n}.0"
title: "演练 {n} / Generated runbook {n}"
scenario: {scenario}
severity: {severity}
params:
  site: {{description: "Machine room", default: "room-{n}"}}
  threshold: {{type: int, default: {n}}}
steps:
  - id: announce
    kind: notify
    message: "Incident {n} at {{{{ site }}}}, run {{{{ run_id }}}} by {{{{ operator }}}}"
  - id: ups
    kind: ssh
    targets: ups
    command: "upsc {{{{ site }}}}-ups-{n}@localhost"
    register: ups
    timeout: 30s
    expect: {{rc: 0, stdout: "ups.status"}}
  - id: interfaces
    kind: netmiko
    targets: switches
    commands: ["show ip interface brief", "show interfaces status | include {n}"]
    register: ifaces
  - id: ask
    kind: manual
    prompt: "Is the UPS carrying the load at {{{{ site }}}}? ({{{{ ups.stdout | truncate(40) }}}})"
    choices: ["yes", "no"]
    register: room
  - id: shutdown
    kind: ansible
    targets: "noncritical:!core"
    when: "room.answer == 'yes' and threshold > {n}"
    playbook: shutdown.yml
    extra_vars: {{site: "{{{{ site }}}}", level: {n}}}
    confirm: "Shut down non-critical systems at {{{{ site }}}}?"
  - id: health
    kind: http
    url: "http://127.0.0.1:8080/health?runbook={n}"
    expect: {{status: 200, max_latency: 2s}}
  - id: settle
    kind: wait
    timeout: 10m
    interval: 15s
    check: {{kind: ssh, targets: ups, command: "upsc {{{{ site }}}}-ups-{n}@localhost ups.status"}}
"""

PLAYBOOK = """\
- name: "Generated playbook {n}, equivalent to runbook {n}"
  hosts: all
  gather_facts: false
  vars:
    site: "room-{n}"
    threshold: {n}
  tasks:
    - name: announce
      ansible.builtin.debug:
        msg: "Incident {n} at {{{{ site }}}}"
    - name: ups
      ansible.builtin.command: "upsc {{{{ site }}}}-ups-{n}@localhost"
      register: ups
      when: inventory_hostname in groups['ups']
    - name: interfaces
      ansible.builtin.raw: "show ip interface brief"
      register: ifaces
      when: inventory_hostname in groups['switches']
    - name: ask
      ansible.builtin.pause:
        prompt: "Is the UPS carrying the load at {{{{ site }}}}?"
      register: room
    - name: shutdown
      ansible.builtin.command: "shutdown -h +1"
      when: "room.user_input == 'yes' and threshold | int > {n}"
    - name: health
      ansible.builtin.uri:
        url: "http://127.0.0.1:8080/health?runbook={n}"
        status_code: 200
      delegate_to: localhost
    - name: settle
      ansible.builtin.command: "upsc {{{{ site }}}}-ups-{n}@localhost ups.status"
      register: settle
      until: "'OL' in settle.stdout"
      retries: 40
      delay: 15
"""

SCENARIOS = ("power", "network", "server", "application", "other")


def make_project(root: Path, count: int = 100) -> Path:
    """A respond project with ``count`` runbooks, an inventory and equivalent playbooks."""
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    (root / "inventory").mkdir(exist_ok=True)
    (root / "playbooks").mkdir(exist_ok=True)
    (root / "ansible").mkdir(exist_ok=True)
    (root / "respond.yaml").write_text("default_inventory: inventory/lab.yaml\n", encoding="utf-8")
    (root / "inventory" / "lab.yaml").write_text(INVENTORY, encoding="utf-8")
    (root / "playbooks" / "shutdown.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks: []\n", encoding="utf-8"
    )
    for n in range(count):
        name = f"generated-{n:03d}"
        text = RUNBOOK.format(name=name, n=n, scenario=SCENARIOS[n % 5], severity=n % 4 + 1)
        (root / "runbooks" / f"{name}.yaml").write_text(text, encoding="utf-8")
        (root / "ansible" / f"{name}.yml").write_text(PLAYBOOK.format(n=n), encoding="utf-8")
    return root


def measure(argv: list[str], cwd: Path, runs: int) -> dict[str, float] | None:
    if not Path(argv[0]).exists() and shutil.which(argv[0]) is None:
        return None
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(cwd / ".ansible-tmp")}
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        if i:  # the first run warms the page cache and writes .pyc files
            times.append(elapsed)
    return {"best_ms": min(times) * 1000, "median_ms": statistics.median(times) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="respond-bench-") as tmp:
        root = make_project(Path(tmp), args.count)
        respond = str(BIN / "respond")
        inv = ["-i", "inventory/lab.yaml"]
        books = sorted(str(p.relative_to(root)) for p in (root / "ansible").glob("*.yml"))
        cases = [
            ("respond --help", [respond, "--help"]),
            ("respond list", [respond, "list"]),
            (f"respond validate ({args.count} runbooks)", [respond, "validate"]),
            ("ansible --version", [str(BIN / "ansible"), "--version"]),
            (
                "ansible-playbook --syntax-check (1 playbook)",
                [str(BIN / "ansible-playbook"), *inv, "--syntax-check", books[0]],
            ),
            (
                f"ansible-playbook --syntax-check ({args.count} playbooks)",
                [str(BIN / "ansible-playbook"), *inv, "--syntax-check", *books],
            ),
        ]
        results = {name: measure(argv, root, args.runs) for name, argv in cases}

    base = results.get("ansible --version")
    rows = []
    for name, r in results.items():
        if r is None:
            rows.append({"command": name, "skipped": "not installed"})
            continue
        ratio = r["best_ms"] / base["best_ms"] if base else None
        rows.append(
            {
                "command": name,
                **{k: round(v, 1) for k, v in r.items()},
                "ratio_to_ansible_version": ratio and round(ratio, 2),
            }
        )
    if args.json:
        print(
            json.dumps(
                {"python": sys.version.split()[0], "runs": args.runs, "results": rows}, indent=2
            )
        )
        return
    print(f"{'command':<52} {'best':>9} {'median':>9} {'vs ansible --version':>21}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['command']:<52} {'(not installed)':>41}")
            continue
        ratio = (
            f"{row['ratio_to_ansible_version']:.2f}x"
            if row["ratio_to_ansible_version"] is not None
            else "-"
        )
        print(
            f"{row['command']:<52} {row['best_ms']:>7.0f}ms {row['median_ms']:>7.0f}ms {ratio:>21}"
        )


if __name__ == "__main__":
    main()
