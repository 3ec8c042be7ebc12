"""Journal benchmark: durable appends per second and the auditor's views of a large run.

    .venv/bin/python benchmarks/journal.py [--events 10000] [--single 2000] [--pg URL]

Appends go through the real ``Recorder`` (SQLite WAL + synchronous=FULL: every commit is
fsync'd). ``timeline show`` and ``timeline export --format html`` run through the CLI entry
point in a fresh process on a run of ``--events`` events. Targets (issue 4): ≥ 2,000
appends/s on SQLite, show/export under 2 s for 10,000 events.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from respond.config import load_config  # noqa: E402
from respond.events import EventDraft, EventKind  # noqa: E402
from respond.secrets import Masker  # noqa: E402
from respond.timeline import new_run_id, open_store  # noqa: E402


def _draft(i: int) -> EventDraft:
    return EventDraft(
        kind=EventKind.HOST_RESULT,
        step_id=f"step-{i // 200}",
        host=f"host-{i % 50:03d}",
        data={
            "status": "ok",
            "commands": [{"command": "uptime", "rc": 0, "stdout": f"up {i} days, load 0.{i % 9}"}],
            "duration_s": 0.012,
        },
    )


def fsync_floor(directory: Path, n: int = 500) -> float:
    """Appends+fsyncs of 4 KiB per second on this disk: the ceiling for 1 event/commit."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        t = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        return n / (time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink()


def bench_appends(store, single: int, batch_total: int, batch_size: int) -> dict[str, float]:
    rid = new_run_id()
    store.create_run(rid, {"runbook": "bench", "version": "1", "severity": 3})
    rec = store.recorder(rid, Masker(["not-in-output-secret"]))
    rates = []
    for _ in range(3):  # fsync latency on a shared VM varies a lot: report the median of 3
        t = time.perf_counter()
        for i in range(single):
            rec.record([_draft(i)])
        rates.append(single / (time.perf_counter() - t))
    single_rate = sorted(rates)[1]
    t = time.perf_counter()
    for b in range(batch_total // batch_size):
        rec.record([_draft(b * batch_size + j) for j in range(batch_size)])
    batch_rate = batch_total / (time.perf_counter() - t)
    assert store.verify(rid).ok
    return {"single": single_rate, "batch": batch_rate}


def make_big_run(store, events: int) -> str:
    rid = new_run_id()
    store.create_run(rid, {"runbook": "power-outage", "version": "1.2.0", "severity": 2})
    rec = store.recorder(rid)
    rec.record([EventDraft(kind=EventKind.RUN_STARTED, data={"runbook": "power-outage"})])
    n, step = 1, 0
    while n < events - 1:
        sid = f"step-{step}"
        hosts = [f"host-{h:03d}" for h in range(48)]
        drafts = [
            EventDraft(
                kind=EventKind.STEP_STARTED,
                step_id=sid,
                data={"name": f"检查 {step}", "kind": "ssh", "hosts": hosts},
            )
        ]
        drafts += [
            EventDraft(
                kind=EventKind.HOST_INTENT,
                step_id=sid,
                host=h,
                data={"attempt": 1, "commands": ["uptime"]},
            )
            for h in hosts
        ]
        drafts += [_draft(n + j) for j in range(48)]
        drafts += [
            EventDraft(
                kind=EventKind.STEP_FINISHED,
                step_id=sid,
                data={"status": "ok", "ok": 48, "failed": 0, "duration_s": 0.5},
            )
        ]
        drafts = drafts[: max(events - 1 - n, 0)]
        rec.record(drafts)
        n += len(drafts)
        step += 1
    rec.record([EventDraft(kind=EventKind.RUN_FINISHED, data={"status": "succeeded"})])
    return rid


def time_cli(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "respond", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"respond {' '.join(args)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=2_000)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--pg", help="also measure a PostgreSQL store at this URL")
    opts = ap.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="respond-bench-") as tmp:
        project = Path(tmp)
        (project / "respond.yaml").write_text("project: bench\n")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "RESPOND_HOME": str(project / "home")}
        env.pop("RESPOND_DB", None)
        os.environ.update({"RESPOND_HOME": env["RESPOND_HOME"]})
        os.environ.pop("RESPOND_DB", None)
        (project / "home").mkdir()
        floor = fsync_floor(project / "home")
        rows.append(
            ("disk: 4 KiB write + fsync (ceiling for 1 event/commit)", f"{floor:,.0f}/s", "-", "-")
        )
        backends = [("sqlite", None)] + ([("postgresql", opts.pg)] if opts.pg else [])
        for name, url in backends:
            store = open_store(load_config(project), db_url=url)
            r = bench_appends(store, opts.single, opts.batch, opts.batch_size)
            tgt = "≥ 2,000/s" if name == "sqlite" else "-"

            def ok(v: float, name: str = name) -> str:
                return "yes" if name != "sqlite" or v >= 2000 else "NO"

            rows.append(
                (
                    f"{name}: durable appends, 1 event/commit (median of 3)",
                    f"{r['single']:,.0f}/s",
                    tgt,
                    ok(r["single"]),
                )
            )
            rows.append(
                (
                    f"{name}: durable appends, {opts.batch_size}/commit",
                    f"{r['batch']:,.0f}/s",
                    tgt,
                    ok(r["batch"]),
                )
            )
            store.close()
        store = open_store(load_config(project))
        t = time.perf_counter()
        rid = make_big_run(store, opts.events)
        build = time.perf_counter() - t
        assert len(store.events(rid)) == opts.events
        t = time.perf_counter()
        assert store.verify(rid).ok
        verify_s = time.perf_counter() - t
        store.close()
        show = min(
            time_cli(["--project", str(project), "timeline", "show", rid], env) for _ in range(3)
        )
        html = min(
            time_cli(
                [
                    "--project",
                    str(project),
                    "timeline",
                    "export",
                    rid,
                    "--format",
                    "html",
                    "-o",
                    str(project / "r.html"),
                ],
                env,
            )
            for _ in range(3)
        )
        size = (project / "r.html").stat().st_size
        noop = min(
            time_cli(["--project", str(project), "timeline", "--help"], env) for _ in range(3)
        )
        n = f"{opts.events:,}"
        rows.append((f"build a {n}-event run (batched)", f"{build:.2f} s", "-", "-"))
        rows.append((f"verify {n} events (in process)", f"{verify_s:.3f} s", "-", "-"))
        rows.append(
            (
                f"`respond timeline show` {n} events",
                f"{show:.2f} s",
                "< 2 s",
                "yes" if show < 2 else "NO",
            )
        )
        rows.append(
            (
                f"`respond timeline export --format html` {n} events",
                f"{html:.2f} s ({size / 1e6:.1f} MB)",
                "< 2 s",
                "yes" if html < 2 else "NO",
            )
        )
        rows.append(("`respond timeline --help` (start-up)", f"{noop:.2f} s", "-", "-"))

    widths = [
        max(len(r[i]) for r in [("measure", "result", "target", "met"), *rows]) for i in range(4)
    ]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("measure", "result", "target", "met"))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))


if __name__ == "__main__":
    main()
