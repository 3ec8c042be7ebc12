"""`respond run` as a user runs it: a real process, real sshd hosts, the real journal."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from clikit import PROMPTLY, Cli, Journal, wait_until


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


def cli_for(respond: Cli, root: Path) -> Cli:
    """`respond` in the project ``root``, its records in ``root/.respond``."""
    return respond.bind(cwd=root, env={"RESPOND_HOME": str(root / ".respond")})


def events(cli: Cli, run_id: str) -> list[dict[str, Any]]:
    data = cli("timeline", "show", run_id, "--json", check=True).json()
    return data["events"] if isinstance(data, dict) else data


def test_fan_out_with_a_failing_host_and_max_errors(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
) -> None:
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
    cli = cli_for(respond, root)
    out = cli("run", "diag", "--json")
    assert out.rc == 0, out
    result = out.json()
    steps = {s["id"]: s for s in result["steps"]}
    assert steps["uptime"]["ok"] == 2 and steps["uptime"]["failed"] == 1
    assert steps["report"]["hosts"] == 2
    evs = events(cli, result["run_id"])
    outputs = [
        c.get("stdout", "")
        for e in evs
        if e["kind"] == "host-result" and e["step_id"] == "report"
        for c in e["data"].get("commands", [])
    ]
    assert len(outputs) == 2 and all("ok-hosts=2" in o for o in outputs), outputs
    cli("timeline", "verify", result["run_id"], check=True)


def test_changed_host_key_is_refused_and_recorded(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
) -> None:
    group = sshd_hosts(1)
    host = group[0]
    wrong = tmp_path / "known_hosts"
    subprocess.run(
        ["ssh-keygen", "-t", "ed25519", "-N", "", "-q", "-f", str(tmp_path / "k")], check=True
    )
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
    cli = cli_for(respond, root)
    out = cli("run", "k", "--json")
    assert out.rc == 1, out
    result = out.json()
    assert "HOST KEY" in result["steps"][0]["message"].upper()
    evs = events(cli, result["run_id"])
    refused = [e for e in evs if e["kind"] == "host-result" and e["step_id"] == "a"]
    assert [e["data"]["status"] for e in refused] == ["failed"], refused
    assert "HOST KEY" in str(refused[0]["data"].get("error", "")).upper()


def remote(marker: str) -> list[str]:
    """Processes on this machine (the sshd hosts are local) running ``marker``."""
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return found.stdout.split()


def test_ctrl_c_mid_step_is_interrupted_and_resumable(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
) -> None:
    group = sshd_hosts(2)
    # A sleep no other test (or other checkout on this machine) runs, and far longer than
    # any wait below: if Ctrl-C did not stop it, the test would notice.
    marker = f"sleep 600.{uuid.uuid4().int % 10**8:08d}"
    root = make_project(
        tmp_path,
        group.inventory,
        {
            "slow": f"""steps:
  - {{id: first, name: first, kind: ssh, targets: all, command: echo first}}
  - {{id: hang, name: hang, kind: ssh, targets: all, command: "{marker}", idempotent: true, timeout: 900}}
  - {{id: last, name: last, kind: ssh, targets: all, command: echo last}}
""",
        },
    )
    cli = cli_for(respond, root)
    journal = Journal(root, root / ".respond")

    def hanging_on_both_hosts(evs: list[Any]) -> bool:
        intents = [e for e in evs if e.kind == "host-intent" and e.step_id == "hang"]
        return len(intents) >= 2 and len(remote(marker)) >= 2

    with cli.spawn("run", "slow", "--json") as run:
        # The hanging step is running on both hosts: its intents are recorded and the
        # remote commands exist.
        journal.wait_for(
            "the hanging step to run on both hosts", hanging_on_both_hosts, running=run
        )
        signalled = time.monotonic()
        run.interrupt()
        interrupted = run.wait()
    assert interrupted.rc == 130, interrupted
    assert time.monotonic() - signalled < PROMPTLY, "Ctrl-C must stop the run promptly"
    run_id = interrupted.json()["run_id"]
    evs = events(cli, run_id)
    assert evs[-1]["kind"] == "run-finished" and evs[-1]["data"]["status"] == "interrupted"
    assert [e["step_id"] for e in evs if e["kind"] == "step-started"] == ["first", "hang"]
    cli("timeline", "verify", run_id, check=True)
    # The remote commands were stopped with their channels.
    wait_until(lambda: not remote(marker), f"the remote {marker!r} to be stopped")

    # Resume re-runs the in-flight idempotent step: while it holds the run, a second
    # driver is refused (exit 4); Ctrl-C stops the resumed run again.
    with cli.spawn("resume", run_id, "--json") as resumed:
        journal.wait_for(
            "the resumed run to start the hanging step again",
            lambda evs: "run-resumed" in [e.kind for e in evs] and len(remote(marker)) >= 2,
            running=resumed,
            run_id=run_id,
        )
        locked = cli("resume", run_id)
        assert locked.rc == 4, locked  # one driver per run
        resumed.interrupt()
        again = resumed.wait()
    assert again.rc == 130, again
    wait_until(lambda: not remote(marker), f"the remote {marker!r} to be stopped again")


def test_injection_through_a_param_runs_nothing_extra_on_the_host(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
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
    cli = cli_for(respond, root)
    evil = f"x; touch {marker}; echo $(id)"
    out = cli("run", "inj", "-p", f"who={evil}", "--json")
    assert out.rc == 0, out
    assert not marker.exists()
    result = out.json()
    stdout = [
        c["stdout"]
        for e in events(cli, result["run_id"])
        if e["kind"] == "host-result"
        for c in e["data"]["commands"]
    ]
    assert stdout == [f"hello {evil}\n"]  # one argument, printed verbatim, never run


def test_refused_gate_stops_the_run_and_nothing_after_it_runs(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
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
    cli = cli_for(respond, root)
    answers = tmp_path / "answers.yaml"
    answers.write_text("act: no\n")
    out = cli("run", "gated", "--answers", str(answers), "--json")
    assert out.rc == 3, out
    assert not flag.exists() and not Path(f"{flag}.after").exists()
    result = out.json()
    kinds = [e["kind"] for e in events(cli, result["run_id"])]
    assert "gate-refused" in kinds and kinds[-1] == "run-finished"
    # Unattended without any answer: exit 3 at the gate, without waiting for one (stdin is
    # empty and no terminal), and nothing behind the gate ran.
    out = cli("run", "gated", "--json")
    assert out.rc == 3, out
    assert out.wall_s < PROMPTLY, "an unattended gate must not wait for an answer"
    assert not flag.exists() and not Path(f"{flag}.after").exists()
    kinds = [e["kind"] for e in events(cli, out.json()["run_id"])]
    assert "gate-refused" in kinds and kinds[-1] == "run-finished"


def test_a_list_param_is_separate_words_for_the_remote_shell(
    tmp_path: Path, sshd_hosts: Any, respond: Cli
) -> None:
    group = sshd_hosts(1)
    root = make_project(
        tmp_path,
        group.inventory,
        {
            "words": """params:
  flags: {type: list, default: [-v], pattern: "--?[a-z]+|[a-z ;$()]+"}
steps:
  - id: echo
    kind: ssh
    targets: all
    command: "printf '<%s>\\\\n' {{ flags }}"
    register: words
    expect:
      that: ["result.stdout_lines == ['<-v>', '<--color>', '<two words>', '<$(id);x>']"]
""",
        },
    )
    cli = cli_for(respond, root)
    given = (
        "-p",
        "flags=-v",
        "-p",
        "flags=--color",
        "-p",
        "flags=two words",
        "-p",
        "flags=$(id);x",
    )
    out = cli("run", "words", *given)
    assert out.rc == 0, out
    out = cli("run", "words", "-p", 'flags=["-v", "--color", "two words", "$(id);x"]')
    assert out.rc == 0, out
