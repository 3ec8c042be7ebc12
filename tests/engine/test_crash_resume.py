"""kill -9 at random moments of a real `respond run`, then `respond resume`: nothing
recorded is lost, the chain verifies, the run completes, and no action that is not
idempotent is ever repeated without a decision (issue: durability and resume).

Every step appends ``RUN_ID STEP`` to a file on the (control) host when it acts, so the
test counts actions, not just records: an action of a non-idempotent step may appear at
most once, plus once per explicit ``rerun:`` answer the test had to give when resume
stopped to ask (``--yes`` never answers that question)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from clikit import DEADLINE, Cli

KILLS = 100  # random kill points per test run
STEPS = 8
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
    command: sh -c "sleep 0.04; echo {{{{ run_id }}}} s{i} >> actions; echo step-{i}"
    idempotent: {"true" if i % 2 else "false"}
    register: r{i}
"""
        for i in range(1, STEPS + 1)
    )
    + """  - id: gate
    name: gated step
    kind: local
    command: sh -c "echo {{ run_id }} gate >> actions; echo gated {{ r1.stdout | trim }}"
    confirm: Proceed with the gated step?
"""
)
IDEMPOTENT = {f"s{i}" for i in range(1, STEPS + 1, 2)}
ASKED = re.compile(r"\((s\d+|gate)\) may already have run on")


def _resume(cli: Cli, run_id: str, answers: Path, explicit: Counter[str]) -> object:
    """`respond resume --yes`; when it stops to ask whether a step whose outcome is unknown
    may run again, answer yes for that step in the answers file (counted) and resume again."""
    reruns: list[str] = []
    for _ in range(STEPS + 2):  # at most one question per step
        args = ["resume", run_id, "--yes", "--json", "-q"]
        if reruns:
            answers.write_text("rerun:\n" + "".join(f"  {s}: yes\n" for s in reruns))
            args += ["--answers", str(answers)]
        done = cli(*args)
        asked = ASKED.search(done.output) if done.rc == 3 else None
        if asked is None:
            return done
        reruns.append(asked.group(1))
        explicit[f"{run_id} {asked.group(1)}"] += 1
    raise AssertionError(f"resume of {run_id} kept asking: {reruns}")


# Bounded by count, not by the clock: on a busy machine each run simply takes longer.
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_9_at_random_points_then_resume(tmp_path: Path) -> None:
    from respond.config import load_config
    from respond.timeline import open_store

    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "crashy.yaml").write_text(RUNBOOK, encoding="utf-8")
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n")
    answers = tmp_path / "answers.yaml"
    # real processes (this package's `respond` fixture runs the CLI in-process)
    cli = Cli(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    rng = random.Random(20261123)
    store = None
    killed = resumed = 0
    explicit: Counter[str] = Counter()
    run_ids: list[str] = []
    iteration = 0
    started = time.monotonic()
    # The iteration cap only stops a broken product from looping for ever.
    while killed < KILLS and iteration < 3 * KILLS:
        iteration += 1
        before = {r.run_id for r in store.runs()} if store else set()
        proc = cli.spawn("run", "crashy", "--yes", "--json", "-q")
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
        run_ids.append(run_id)
        killed += 1
        events = store.events(run_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert store.verify(run_id).ok, f"chain broken after kill -9 in {run_id}"
        if events and events[-1].kind == "run-finished":
            continue  # it finished before the kill
        done = _resume(cli, run_id, answers, explicit)
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
        assert set(finished) >= {f"s{i}" for i in range(1, STEPS + 1)} | {"gate"}
        assert store.verify(run_id).ok
        assert done.json()["status"] == "succeeded"
    elapsed = time.monotonic() - started

    assert store is not None
    actions = Counter((tmp_path / "actions").read_text().splitlines())
    lost = repeated = 0
    for run_id in run_ids:
        intents = {e.step_id for e in store.events(run_id) if e.kind == "host-intent"}
        for step in [*(f"s{i}" for i in range(1, STEPS + 1)), "gate"]:
            done_here = actions[f"{run_id} {step}"]
            # every action on the host was announced in the record before it happened
            lost += done_here > 0 and step not in intents
            if step not in IDEMPOTENT:
                repeated += max(0, done_here - 1 - explicit[f"{run_id} {step}"])
    print(
        f"\nkill -9: {killed} kills, {resumed} resumed mid-run, {sum(explicit.values())} "
        f"explicit rerun answers, {lost} actions missing from the record, {repeated} "
        f"repeated non-idempotent actions, {elapsed:.0f}s"
    )
    assert lost == 0, "an action happened that the record does not announce"
    assert repeated == 0, "a non-idempotent action was repeated without a decision"
    assert killed == KILLS, f"only {killed} kills in {iteration} attempts"
    assert resumed >= KILLS // 2, f"only {resumed} runs were interrupted mid-way"
