"""`respond run` as a user runs it: a real process, real sshd hosts, the real journal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

RESPOND = [sys.executable, "-m", "respond"]


def make_project(root: Path, inventory: Path, runbooks: dict[str, str]) -> Path:
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    (root / "respond.yaml").write_text(
        f"runbooks: runbooks\ndefault_inventory: {inventory}\n", encoding="utf-8"
    )
    for name, body in runbooks.items():
        (root / "runbooks" / f"{name}.yaml").write_text(
            f"runbook: {name}\nversion: 1.0.0\ntitle: {name}\nscenario: other\nseverity: 3\n{body}",
            encoding="utf-8",
        )
    return root


def respond(
    root: Path, *args: str, timeout: float = 60, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RESPOND, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RESPOND_HOME": str(root / ".respond")},
        **kw,
    )


def events(root: Path, run_id: str) -> list[dict[str, Any]]:
    out = respond(root, "timeline", "show", run_id, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    return data["events"] if isinstance(data, dict) else data


def test_fan_out_with_a_failing_host_and_max_errors(tmp_path: Path, sshd_hosts: Any) -> None:
    group = sshd_hosts(3)
    bad = group[1].name
    root = make_project(
        tmp_path,
        group.inventory,
        {
            "diag": f"""steps:
  - id: uptime
    name: diagnose
    kind: ssh
    targets: all
    command: "uptime; test $(hostname) = never || test {{{{ inventory_hostname }}}} != {bad}"
    max_errors: 1
    register: up
  - id: report
    name: report
    kind: ssh
    targets: all
    command: "echo ok-hosts={{{{ up.ok_hosts | length }}}}"
    when: "inventory_hostname in up.ok_hosts"
""",
        },
    )
    out = respond(root, "run", "diag", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    steps = {s["id"]: s for s in result["steps"]}
    assert steps["uptime"]["ok"] == 2 and steps["uptime"]["failed"] == 1
    assert steps["report"]["hosts"] == 2
    evs = events(root, result["run_id"])
    outputs = [
        c.get("stdout", "")
        for e in evs
        if e["kind"] == "host-result" and e["step_id"] == "report"
        for c in e["data"].get("commands", [])
    ]
    assert outputs and all("ok-hosts=2" in o for o in outputs)
    verify = respond(root, "timeline", "verify", result["run_id"])
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_changed_host_key_is_refused_and_recorded(tmp_path: Path, sshd_hosts: Any) -> None:
    group = sshd_hosts(1)
    host = group[0]
    wrong = tmp_path / "known_hosts"
    other = subprocess.run(
        ["ssh-keygen", "-t", "ed25519", "-N", "", "-q", "-f", str(tmp_path / "k")], check=True
    )
    del other
    blob = (tmp_path / "k.pub").read_text().split()[:2]
    wrong.write_text(f"[{host.address}]:{host.port} {blob[0]} {blob[1]}\n")
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        group.inventory.read_text().replace(str(group.known_hosts), str(wrong)),
        encoding="utf-8",
    )
    root = make_project(
        tmp_path / "p",
        inv,
        {
            "k": "steps:\n  - {id: a, name: a, kind: ssh, targets: all, command: 'touch /tmp/respond-should-not-exist'}\n"
        },
    )
    out = respond(root, "run", "k", "--json")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert "HOST KEY" in result["steps"][0]["message"].upper()


def test_ctrl_c_mid_step_is_interrupted_and_resumable(tmp_path: Path, sshd_hosts: Any) -> None:
    group = sshd_hosts(2)
    root = make_project(
        tmp_path,
        group.inventory,
        {
            "slow": """steps:
  - {id: first, name: first, kind: ssh, targets: all, command: echo first}
  - {id: hang, name: hang, kind: ssh, targets: all, command: sleep 30, idempotent: true, timeout: 60}
  - {id: last, name: last, kind: ssh, targets: all, command: echo last}
""",
        },
    )
    proc = subprocess.Popen(
        [*RESPOND, "run", "slow", "--json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RESPOND_HOME": str(root / ".respond")},
    )
    # wait until the hanging step has started on the hosts
    deadline = time.monotonic() + 30
    db = root / ".respond" / "respond.db"
    while time.monotonic() < deadline:
        if db.exists():
            import sqlite3

            try:
                with sqlite3.connect(db) as conn:
                    n = conn.execute(
                        "SELECT count(*) FROM events WHERE kind='host-intent' AND step_id='hang'"
                    ).fetchone()[0]
            except sqlite3.OperationalError:  # the schema is still being created
                n = 0
            if n >= 2:
                break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the hanging step never started")
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - t0 < 10, "Ctrl-C must stop the run promptly"
    assert proc.returncode == 130, stderr
    run_id = json.loads(stdout)["run_id"]
    evs = events(root, run_id)
    assert evs[-1]["kind"] == "run-finished" and evs[-1]["data"]["status"] == "interrupted"
    assert respond(root, "timeline", "verify", run_id).returncode == 0
    # The remote commands were stopped with their channels (the sshd hosts are on this machine).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = subprocess.run(
            ["pgrep", "-fx", "sleep 30"], capture_output=True, text=True
        ).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"remote 'sleep 30' still running: {left}"
    # Resume re-runs the in-flight idempotent step and finishes the run.
    resumed = subprocess.Popen(
        [*RESPOND, "resume", run_id, "--json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RESPOND_HOME": str(root / ".respond")},
    )
    time.sleep(1.0)
    locked = respond(root, "resume", run_id)
    assert locked.returncode == 4, locked.stderr  # one driver per run
    resumed.send_signal(signal.SIGINT)  # do not wait 30 s for the sleep again
    resumed.communicate(timeout=20)
    assert resumed.returncode == 130


def test_injection_through_a_param_runs_nothing_extra_on_the_host(
    tmp_path: Path, sshd_hosts: Any
) -> None:
    group = sshd_hosts(1)
    marker = tmp_path / "owned"
    root = make_project(
        tmp_path / "p",
        group.inventory,
        {
            "inj": """params:
  who: {default: nobody}
steps:
  - {id: greet, name: greet, kind: ssh, targets: all, command: "echo hello {{ who }}", register: out}
""",
        },
    )
    evil = f"x; touch {marker}; echo $(id)"
    out = respond(root, "run", "inj", "-p", f"who={evil}", "--json")
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    result = json.loads(out.stdout)
    stdout = [
        c["stdout"]
        for e in events(root, result["run_id"])
        if e["kind"] == "host-result"
        for c in e["data"]["commands"]
    ]
    assert stdout == [f"hello {evil}\n"]  # one argument, printed verbatim, never run


def test_refused_gate_stops_the_run_and_nothing_after_it_runs(
    tmp_path: Path, sshd_hosts: Any
) -> None:
    group = sshd_hosts(2)
    flag = tmp_path / "after-gate"
    root = make_project(
        tmp_path / "p",
        group.inventory,
        {
            "gated": f"""steps:
  - {{id: look, name: look, kind: ssh, targets: all, command: uptime}}
  - id: act
    name: act
    kind: ssh
    targets: all
    command: touch {flag}
    confirm: Really touch the flag on every host?
  - {{id: after, name: after, kind: ssh, targets: all, command: touch {flag}.after}}
""",
        },
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("act: no\n")
    out = respond(root, "run", "gated", "--answers", str(answers), "--json")
    assert out.returncode == 3, out.stderr
    assert not flag.exists() and not Path(f"{flag}.after").exists()
    result = json.loads(out.stdout)
    kinds = [e["kind"] for e in events(root, result["run_id"])]
    assert "gate-refused" in kinds and kinds[-1] == "run-finished"
    # unattended without any answer: exit 3 at once, before any host is touched
    started = time.monotonic()
    out = respond(root, "run", "gated", "--json")
    assert out.returncode == 3 and time.monotonic() - started < 20
    assert not flag.exists()
