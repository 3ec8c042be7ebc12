"""kill -9 at random moments of a real `respond run`: nothing recorded is lost, the chain
verifies, and `respond resume` completes the run (issue: durability and resume)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from clikit import DEADLINE, Cli

KILLS = 40  # random kill points per test run
RUNBOOK = (
    """runbook: crashy
version: 1.0.0
title: 崩溃测试 / crash test
scenario: other
severity: 3
steps:
"""
    + "".join(
        f"""  - id: s{i}
    name: step {i}
    kind: local
    command: sh -c "sleep 0.04; echo step-{i}"
    idempotent: {"true" if i % 2 else "false"}
    register: r{i}
"""
        for i in range(1, 9)
    )
    + """  - id: gate
    name: gated step
    kind: local
    command: echo gated {{ r1.stdout | trim }}
    confirm: Proceed with the gated step?
"""
)


# Bounded by count, not by the clock: on a busy machine each run simply takes longer.
@pytest.mark.timeout(900)
def test_kill_9_at_random_points_then_resume(tmp_path: Path) -> None:
    from respond.config import load_config
    from respond.timeline import open_store

    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "crashy.yaml").write_text(RUNBOOK, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n")
    answers = tmp_path / "answers.yaml"
    answers.write_text("rerun:\n" + "".join(f"  s{i}: yes\n" for i in range(1, 9)))
    # real processes (this package's `respond` fixture runs the CLI in-process)
    cli = Cli(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    rng = random.Random(20261123)
    store = None
    killed = resumed = 0
    iteration = 0
    # The iteration cap only stops a broken product from looping for ever.
    while killed < KILLS and iteration < 3 * KILLS:
        iteration += 1
        before = {r.run_id for r in store.runs()} if store else set()
        proc = cli.spawn("run", "crashy", "--yes", "--answers", str(answers), "--json", "-q")
        # Wait until the run exists, then kill it at a random moment of its ~0.6 s life.
        db = tmp_path / ".respond" / "respond.db"
        new = []
        wait_until = time.monotonic() + DEADLINE
        while time.monotonic() < wait_until and proc.poll() is None:
            if db.exists():
                if store is None:
                    store = open_store(load_config(tmp_path, home=str(tmp_path / ".respond")))
                new = [r for r in store.runs() if r.run_id not in before]
                if new:
                    break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.7))
        proc.kill()  # SIGKILL
        proc.wait()
        if store is None or not new:
            continue
        run_id = new[0].run_id
        killed += 1
        events = store.events(run_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert store.verify(run_id).ok, f"chain broken after kill -9 in {run_id}"
        if events and events[-1].kind == "run-finished":
            continue  # it finished before the kill
        done = cli("resume", run_id, "--yes", "--answers", str(answers), "--json", "-q")
        if not events:  # created but nothing recorded yet: not resumable, said clearly
            assert done.rc == 2 and "Traceback" not in done.stderr, done
            continue
        assert done.rc == 0, done
        resumed += 1
        after = store.events(run_id)
        assert after[: len(events)] == events, "resume changed what was already recorded"
        kinds = [e.kind for e in after]
        assert "run-resumed" in kinds and kinds[-1] == "run-finished"
        assert after[-1].data["status"] == "succeeded"
        finished = [
            e.step_id for e in after if e.kind == "step-finished" and e.data["status"] == "ok"
        ]
        assert set(finished) >= {f"s{i}" for i in range(1, 9)} | {"gate"}
        assert store.verify(run_id).ok
        assert done.json()["status"] == "succeeded"
    assert killed == KILLS, f"only {killed} kills in {iteration} attempts"
    assert resumed >= KILLS // 2, f"only {resumed} runs were interrupted mid-way"
