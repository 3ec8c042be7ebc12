"""Inspection benchmark: ``respond inspect run`` of 100 hosts × 10 checks against Ansible.

    .venv/bin/python benchmarks/inspection.py [--hosts 100] [--concurrency 20]
        [--repeat 3] [--no-ansible] [--ansible-free] [--no-lab] [--src DIR] [--json]

Starts ``--hosts`` real OpenSSH sshd endpoints on 127.0.0.1 (``fanout.py``'s farm: host keys
verified by every client, empty shell rc files), writes a backup file on the host side (in
the farm's directory, which the login user reads), and measures, each in a fresh process,
interleaved round by round so a busy moment of this shared machine falls on every column
alike (medians of ``--repeat`` rounds, after one unmeasured round of respond):

  * respond: ``respond inspect run bench --json`` of an inspection with ten checks on every
    host — reachable, load, memory, disk, inodes, backup (``stat`` of that file) and four
    Debian monitoring-plugins through the ``nagios`` check (check_disk, check_load,
    check_users, check_procs) — with ``concurrency`` hosts checked at once. respond runs
    the checks' commands, grades every result (OK/WARNING/CRITICAL/UNKNOWN against the
    thresholds) and journals each one durably in the hash-chained timeline (SQLite, fsync).
  * Ansible: ``ansible-playbook -f N`` of one play over every host, ``gather_facts: false``,
    pipelining on, ten ``ansible.builtin.command`` tasks running the very same commands
    (the plugins with ``failed_when: false``), strategy ``linear`` (``--ansible-free`` also
    measures the ``free`` strategy and compares the best of the two: each Ansible run takes
    2–3 minutes here). Ansible only collects the outputs: nothing is graded or recorded.

Measured: wall time of the whole process (interpreter start-up included) and client CPU
(user + sys of the process tree: Ansible's forks and ssh clients count). Every check must be
OK and every Ansible task must succeed, or the cell is marked failed.

The lab case ("the whole lab in a few seconds"): ``respond lab up`` in a copy of the
repository's project, then ``respond inspect run daily`` and ``monthly`` (medians of
``--repeat`` rounds, after one unmeasured round each).

``--json`` prints the numbers as JSON on stdout instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout
from fanout import REPO, VENV_BIN, Bench, Measurement, measure, median_of

PLUGINS = "/usr/lib/nagios/plugins"
# Thresholds loose enough that a healthy, busy 2-core machine is OK everywhere (other
# engineers' test runs push the load average past 20 at times).
NAGIOS = {
    "nagios-disk": f"{PLUGINS}/check_disk -w 10% -c 5% -p /",
    "nagios-load": f"{PLUGINS}/check_load -w 50,50,50 -c 100,100,100",
    "nagios-users": f"{PLUGINS}/check_users -w 50 -c 100",
    "nagios-procs": f"{PLUGINS}/check_procs -w 2000 -c 5000",
}
LOAD_PER_CPU = ("50", "100")  # warn, crit of the `load` check (5-min load per CPU)
CHECKS_PER_HOST = 6 + len(NAGIOS)
LAB_INSPECTIONS = ("daily", "monthly")


@dataclass(frozen=True)
class Scenario:
    """What both sides check: the backup file the ``backup`` check and ``stat`` read."""

    backup: Path

    def ansible_commands(self) -> list[str]:
        """The ten commands of the playbook, the very ones respond's checks run."""
        return [
            "uptime",
            "nproc",
            "free -b",
            "df -P",
            "df -Pi",
            f"stat -c '%Y %n' {self.backup}",
            *NAGIOS.values(),
        ]

    def inspection(self, concurrency: int) -> str:
        checks: list[dict[str, Any]] = [
            {"id": "reachable", "check": "reachable", "targets": "all"},
            {
                "id": "load",
                "check": "load",
                "targets": "all",
                "warn": LOAD_PER_CPU[0],
                "crit": LOAD_PER_CPU[1],
            },
            {"id": "memory", "check": "memory", "targets": "all"},
            {"id": "disk", "check": "disk", "targets": "all"},
            {"id": "inodes", "check": "inodes", "targets": "all"},
            {
                "id": "backup",
                "check": "backup",
                "targets": "all",
                "args": {"path": [str(self.backup)]},
            },
            *(
                {"id": cid, "check": "nagios", "targets": "all", "args": {"command": command}}
                for cid, command in NAGIOS.items()
            ),
        ]
        head = {
            "inspection": "bench",
            "version": "1.0.0",
            "title": f"Benchmark: {CHECKS_PER_HOST} checks on every host",
            "concurrency": concurrency,
            "timeout": "60s",
        }
        # JSON is YAML: no quoting rules to get wrong for the plugin command lines
        return json.dumps({**head, "checks": checks}, indent=2) + "\n"

    def playbook(self, strategy: str) -> str:
        tasks = []
        for i, command in enumerate(self.ansible_commands()):
            task: dict[str, Any] = {"name": f"t{i}", "ansible.builtin.command": command}
            if command.startswith(PLUGINS):
                task["failed_when"] = False  # a plugin's non-zero exit is its grade
            tasks.append(task)
        play = {"hosts": "all", "gather_facts": False, "strategy": strategy, "tasks": tasks}
        return json.dumps([play], indent=2) + "\n"


def write_backup(farm: Any) -> Path:
    """A fresh backup file on the host side, readable by the sshd login user."""
    folder = Path(farm.root) / "backup"
    folder.mkdir(mode=0o755, exist_ok=True)
    backup = folder / "bench-full.tar.gz"
    backup.write_bytes(b"\x1f\x8b" + os.urandom(1024))
    backup.chmod(0o644)
    return backup


# --------------------------------------------------------------------------- the columns


def respond_inspect(bench: Bench, group: Any, scenario: Scenario, concurrency: int) -> Measurement:
    """``respond inspect run bench --json`` in a project of its own; failed = results not OK."""
    root = bench.work / f"project-c{concurrency}"
    (root / "inspections").mkdir(parents=True, exist_ok=True)
    (root / "runbooks").mkdir(exist_ok=True)
    (root / "respond.yaml").write_text(
        f"runbooks: runbooks\ndefault_inventory: {group.inventory}\n"
        f"known_hosts: {group.known_hosts}\n"
    )
    (root / "inspections" / "bench.yaml").write_text(scenario.inspection(concurrency))
    env = {**bench.env, **bench.respond_env, "RESPOND_HOME": str(root / ".respond")}
    m = measure(
        f"respond inspect run (concurrency {concurrency})",
        [sys.executable, "-m", "respond", "inspect", "run", "bench", "--json"],
        env=env,
        cwd=root,
    )
    m.inner = graded_summary(m.inner, len(group) * CHECKS_PER_HOST)
    return m


def graded_summary(answer: dict[str, Any], expected: int | None) -> dict[str, Any]:
    """The counts of ``inspect run --json``; ``failed``: results missing (of ``expected``,
    or none at all) or not OK."""
    counts = answer.get("counts") or {}
    ok = int(counts.get("OK") or 0)
    results = answer.get("results") or []
    if expected is None:
        expected = max(len(results), 1)
    return {
        "run_id": answer.get("run_id"),
        "counts": counts,
        "results": len(results),
        "failed": max(expected - ok, 0),
        "not_ok": [
            f"{r.get('host')} {r.get('check_id')}: {r.get('summary')}"
            for r in results
            if r.get("state") != "OK"
        ][:5],
    }


def ansible_inspect(
    bench: Bench, group: Any, scenario: Scenario, forks: int, strategy: str
) -> Measurement:
    """``ansible-playbook -f N`` of the ten commands, pipelining on; failed = hosts whose
    recap is not ``ok=10 … failed=0``."""
    book = bench.work / f"inspect-{strategy}.yml"
    book.write_text(scenario.playbook(strategy))
    m = measure(
        f"ansible-playbook -f {forks} ({strategy})",
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(group.inventory),
            str(book),
            "-f",
            str(forks),
        ],
        env=bench.ansible_env(group, f"inspect{forks}{strategy}", pipelining=True),
    )
    done = recap_ok(m.out, CHECKS_PER_HOST)
    m.inner = {"hosts_ok": done, "failed": len(group) - done}
    return m


def paramiko_pool(bench: Bench, group: Any, scenario: Scenario, threads: int) -> Measurement:
    """The floor: ``fanout.worker_paramiko`` (SSHClient per host, host keys checked, one
    connection per host for all ten commands) in a pool of ``threads`` threads."""
    return measure(
        f"bare paramiko pool ({threads} threads)",
        [
            sys.executable,
            fanout.__file__,
            "--worker",
            "paramiko",
            "--inventory",
            str(group.inventory),
            "--known-hosts",
            str(group.known_hosts),
            "--commands",
            json.dumps(scenario.ansible_commands()),
            "--pool-threads",
            str(threads),
        ],
        env=bench.env,
    )


def recap_ok(output: str, tasks: int) -> int:
    """Hosts of the PLAY RECAP that ran every task without failure or unreachability."""
    recap = output.rpartition("PLAY RECAP")[2]
    return sum(
        1
        for line in recap.splitlines()
        if f" ok={tasks} " in line and " unreachable=0 " in line and " failed=0 " in line
    )


# --------------------------------------------------------------------------- the lab case


class LabProject:
    """A copy of a repository's project (runbooks, inspections, …) with a running lab."""

    def __init__(self, respond_env: dict[str, str], repo: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="respond-inspect-lab-"))
        for name in ("runbooks", "playbooks", "filters", "drills", "examples", "schemas"):
            if (repo / name).is_dir():
                shutil.copytree(repo / name, self.root / name)
        shutil.copytree(repo / "inspections", self.root / "inspections")
        (self.root / "inventory").mkdir()
        shutil.copy(repo / "respond.yaml", self.root / "respond.yaml")
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("RESPOND_", "ANSIBLE_")) and k != "PYTHONDONTWRITEBYTECODE"
            },
            **respond_env,
            "RESPOND_HOME": str(self.root / ".respond"),
        }
        self.respond("lab", "up")

    def respond(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "respond", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"respond {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")

    def inspect(self, name: str) -> Measurement:
        m = measure(
            f"respond inspect run {name}",
            [sys.executable, "-m", "respond", "inspect", "run", name, "--json"],
            env=self.env,
            cwd=self.root,
        )
        m.inner = graded_summary(m.inner, None)
        return m

    def stop(self) -> None:
        try:
            self.respond("lab", "down")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- measuring


def interleaved(
    cells: dict[str, Callable[[], Measurement]], repeat: int, title: str
) -> dict[str, Measurement]:
    """Every cell once per round, round after round; the median of each."""
    runs: dict[str, list[Measurement]] = {name: [] for name in cells}
    for r in range(repeat):
        print(f"{title}: round {r + 1}/{repeat} ...", file=sys.stderr)
        for name, thunk in cells.items():
            runs[name].append(thunk())
    return {name: median_of(ms) for name, ms in runs.items()}


def cell(m: Measurement | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "label": m.label,
        "wall_s": round(m.wall_s, 4),
        "cpu_s": round(m.cpu_s, 4),
        "peak_pss_mb": round(m.peak_pss_mb, 1),
        "ok": m.ok,
        "runs": m.runs,
        "detail": {k: v for k, v in m.inner.items() if k != "not_ok"} if m.ok else m.inner,
        "error": None if m.ok else (m.err.strip()[-400:] or f"exit {m.rc}"),
    }


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def level_row(
    bench: Bench, group: Any, scenario: Scenario, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    """respond, the paramiko pool and Ansible's strategies at ``n`` hosts at once,
    interleaved."""
    cells: dict[str, Callable[[], Measurement]] = {
        "respond": partial(respond_inspect, bench, group, scenario, n),
        "pool": partial(paramiko_pool, bench, group, scenario, n),
    }
    if not args.no_ansible:
        for strategy in ("linear", "free")[: 2 if args.ansible_free else 1]:
            cells[strategy] = partial(ansible_inspect, bench, group, scenario, n, strategy)
    cells["respond"]()  # unmeasured: .pyc files, page cache, the journal's database
    cells["pool"]()
    got = interleaved(
        cells, args.repeat, f"{len(group)} hosts × {CHECKS_PER_HOST} checks, {n} at once"
    )
    resp, pool = got.pop("respond"), got.pop("pool")
    best = min(got.values(), key=lambda m: (not m.ok, m.wall_s)) if got else None
    return {
        "hosts": len(group),
        "concurrency": n,
        "respond": cell(resp),
        "pool": cell(pool),
        "ansible": cell(best),
        "ansible_variants": [cell(m) for m in got.values()],
        "respond_over_pool_wall": _both(resp, pool, "wall_s"),
        "respond_over_pool_cpu": _both(resp, pool, "cpu_s"),
        "ansible_over_respond_wall": _both(best, resp, "wall_s"),
        "ansible_over_respond_cpu": _both(best, resp, "cpu_s"),
    }


def _both(a: Measurement | None, b: Measurement, field: str) -> float | None:
    """``a ÷ b`` of ``field`` when both succeeded."""
    if a is None or not (a.ok and b.ok):
        return None
    return _ratio(getattr(a, field), getattr(b, field))


def farm_rows(args: argparse.Namespace, respond_env: dict[str, str]) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="respond-inspect-bench-"))
    print(f"starting {args.hosts} sshd endpoints ...", file=sys.stderr)
    farm = fanout.start_farm(args.hosts)
    try:
        bench = Bench(work, farm)
        bench.respond_env = respond_env
        group = bench.group(args.hosts)
        scenario = Scenario(write_backup(farm))
        return [level_row(bench, group, scenario, n, args) for n in args.concurrency]
    finally:
        farm.stop()
        shutil.rmtree(work, ignore_errors=True)


def lab_rows(args: argparse.Namespace, respond_env: dict[str, str]) -> list[dict[str, Any]]:
    print("starting the lab ...", file=sys.stderr)
    lab = LabProject(respond_env, Path(args.src) if getattr(args, "src", None) else REPO)
    try:
        cells: dict[str, Callable[[], Measurement]] = {
            name: partial(lab.inspect, name) for name in LAB_INSPECTIONS
        }
        for thunk in cells.values():
            thunk()  # unmeasured
        got = interleaved(cells, args.repeat, "the lab")
    finally:
        lab.stop()
    return [{"inspection": name, "respond": cell(m)} for name, m in got.items()]


def measure_all(
    args: argparse.Namespace, respond_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """The farm rows (one per concurrency) and the lab rows, with the machine's state."""
    respond_env = respond_env or {}
    started = time.monotonic()
    load_before = os.getloadavg()
    farm = farm_rows(args, respond_env) if args.hosts else []
    lab = [] if args.no_lab else lab_rows(args, respond_env)
    return {
        "hosts": args.hosts,
        "checks_per_host": CHECKS_PER_HOST,
        "repeat": args.repeat,
        "farm": farm,
        "lab": lab,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": round(time.monotonic() - started, 1),
        "src": respond_env.get("PYTHONPATH"),
    }


# --------------------------------------------------------------------------- report


def _wc(c: dict[str, Any] | None) -> str:
    if c is None:
        return "-"
    return f"{c['wall_s']:.2f} / {c['cpu_s']:.2f}" + ("" if c["ok"] else " FAILED")


def _x(value: float | None, digits: int = 1) -> str:
    return f"{value:.{digits}f}×" if value else "-"


def print_rows(data: dict[str, Any], *, footer: bool = True) -> None:
    if data["farm"]:
        print(
            f"\ninspection of {data['hosts']} hosts × {data['checks_per_host']} checks "
            f"(real sshd on loopback): medians of {data['repeat']}, whole process; "
            "wall s / client CPU s"
        )
        head = (
            f"{'at once':<9}{'respond inspect run':>21}{'paramiko pool':>16}{'Ansible (best)':>18}"
            f"{'respond÷pool wall':>19}{'CPU':>7}{'Ansible÷respond wall':>22}{'CPU':>7}"
        )
        print(head)
        print("-" * len(head))
        for r in data["farm"]:
            print(
                f"{r['concurrency']:<9}{_wc(r['respond']):>21}{_wc(r['pool']):>16}"
                f"{_wc(r['ansible']):>18}{_x(r['respond_over_pool_wall'], 2):>19}"
                f"{_x(r['respond_over_pool_cpu'], 2):>7}"
                f"{_x(r['ansible_over_respond_wall']):>22}{_x(r['ansible_over_respond_cpu']):>7}"
            )
        for r in data["farm"]:
            for v in r["ansible_variants"]:
                print(f"  {v['label']}: {_wc(v)}")
        print(
            "  respond graded every result (OK/WARNING/CRITICAL/UNKNOWN) and journalled each one "
            "durably (hash-chained timeline, fsync);\n  the paramiko pool and Ansible only "
            "collected the outputs (Ansible: 10 command tasks, pipelining, gather_facts off)."
        )
    if data["lab"]:
        print(f"\nthe lab (respond lab up): medians of {data['repeat']}, whole process")
        head = f"{'command':<32}{'wall s':>10}{'CPU s':>10}{'results':>10}  counts"
        print(head)
        print("-" * len(head))
        for r in data["lab"]:
            c = r["respond"]
            detail = c["detail"]
            counts = " ".join(f"{k}={v}" for k, v in (detail.get("counts") or {}).items())
            flag = "" if c["ok"] else " FAILED"
            print(
                f"{c['label'] + flag:<32}{c['wall_s']:>10.2f}{c['cpu_s']:>10.2f}"
                f"{detail.get('results', 0):>10}  {counts}"
            )
    if not footer:
        return
    before, after = data["load_average_before"], data["load_average_after"]
    print(
        f"\n({data['cpus']} CPUs; load average {before[0]:.1f} before, {after[0]:.1f} after; "
        f"{data['seconds']:.0f} s)"
    )


def problems(data: dict[str, Any]) -> list[str]:
    cells = [
        (f"{r['concurrency']} at once", r[c]) for r in data["farm"] for c in ("respond", "pool")
    ]
    cells += [
        (f"{r['concurrency']} at once", v) for r in data["farm"] for v in r["ansible_variants"]
    ]
    cells += [("lab", r["respond"]) for r in data["lab"]]
    return [
        f"{where}: {c['label']} failed: {c['error']} {c['detail'].get('not_ok', '')}"
        for where, c in cells
        if c is not None and not c["ok"]
    ]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--hosts", type=int, default=100, help="sshd endpoints (0: lab case only)")
    p.add_argument(
        "--concurrency",
        type=lambda text: [int(x) for x in text.split(",") if x.strip()],
        default=[20],
        help="hosts checked at once = Ansible's forks, comma-separated (default 20, respond's "
        "default for an inspection)",
    )
    p.add_argument("--repeat", type=int, default=3, help="rounds (median)")
    p.add_argument("--no-ansible", action="store_true", help="skip the Ansible baselines")
    p.add_argument(
        "--ansible-free", action="store_true", help="also Ansible's free strategy (keep the best)"
    )
    p.add_argument("--no-lab", action="store_true", help="skip the lab case")
    p.add_argument(
        "--src", metavar="DIR", help="measure respond from this source tree (e.g. a main checkout)"
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout instead of the table")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.repeat = max(1, args.repeat)
    src = {"PYTHONPATH": str(Path(args.src).resolve() / "src")} if args.src else {}
    data = measure_all(args, src)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_rows(data)
    bad = problems(data)
    for line in bad:
        print("PROBLEM:", line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
