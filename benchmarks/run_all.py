"""Every headline benchmark of respond, in one run, each next to its baselines.

    .venv/bin/python benchmarks/run_all.py [--repeat 3] [--no-ansible] [--json]

Starts 100 OpenSSH sshd endpoints on 127.0.0.1 (``fanout.py``'s lab) and measures, each in a
fresh process and interleaved round by round so that a busy moment of this shared machine
falls on every column alike (medians of ``--repeat`` rounds):

fan-out (whole-process wall time and client CPU = user+sys of the process tree)
  * "1 command → 100 hosts" and "5 steps → 50 hosts"
  * ``respond run`` through the real CLI (engine, durable journal, one connection per host)
  * the bare paramiko pool: ``SSHClient`` per host in 64 threads, one connection per host
    for all its commands (``fanout.worker_paramiko``)
  * Ansible's best variant: ``ansible -m shell -f N`` and ``ansible-playbook`` with
    pipelining (``--ansible-variants`` also measures them without pipelining and keeps the
    best); host keys are verified by every client
  * ratios respond ÷ pool (targets ≤ 1.2× wall, ≤ 1.5× client CPU) and Ansible ÷ respond

start-up (the shipped project in the repository root; target < 0.1 s)
  * ``respond list``, ``respond show power-outage``, ``respond validate``: warm (records
    home already holding the runbook summary cache) and cold (a fresh records home)
  * ``respond --help``; baselines: the bare interpreter and ``ansible --version``

SLA report (``sla.py``; target < 1 s)
  * ``respond report sla`` over 10,000 seeded incidents (SQLite) through the CLI (table and
    html) and in process, next to the naive baseline of folding every incident's events

network facts (``netfacts.py``)
  * a 10-switch lab (``respond lab up --switches 10``: Huawei, H3C and Cisco): ``respond run``
    of one ``facts: all`` step over every switch, next to plain netmiko scripts
    (``send_command(use_textfsm=True)`` per switch, sequential and in a thread pool)

inspection (``inspection.py``; its own 100 sshd endpoints and a lab)
  * ``respond inspect run`` of 10 checks (reachable, load, memory, disk, inodes, backup and
    four Debian monitoring-plugins) on 100 hosts, 20 at once, next to ``ansible-playbook``
    running the same ten commands (forks = the same, pipelining; ``--ansible-variants`` also
    its free strategy, keeping the best); respond grades and journals, Ansible collects
  * ``respond inspect run daily`` and ``monthly`` against ``respond lab up``

Every process runs from .pyc files, as an installed respond does (``PYTHONDONTWRITEBYTECODE``
is dropped; one unmeasured run of each respond column writes them). ``--json`` prints the
numbers as JSON on stdout instead of the table; ``--table FILE`` prints a saved one.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout
from fanout import COMMAND, FIVE, REPO, VENV_BIN, Bench, Measurement, median_of

WALL_TARGET = 1.2
CPU_TARGET = 1.5
STARTUP_TARGET_S = 0.1


# --------------------------------------------------------------------------- fan-out


def _ansible_cells(bench: Bench, group: Any, case: str, variants: bool) -> list[tuple[str, Any]]:
    """(label, thunk) for each Ansible variant measured for ``case``."""
    if case == "one":
        cells = [(True, lambda: bench.ansible_adhoc(group, COMMAND, pipelining=True))]
        if variants:
            cells.append((False, lambda: bench.ansible_adhoc(group, COMMAND)))
    else:
        cells = [(True, lambda: bench.ansible_playbook(group, FIVE, pipelining=True))]
        if variants:
            cells.append((False, lambda: bench.ansible_playbook(group, FIVE)))
    return [(f"ansible{'+pipe' if pipe else ''}", thunk) for pipe, thunk in cells]


def fan_out(args: argparse.Namespace) -> list[dict[str, Any]]:
    cases = [
        ("one", f"1 command → {args.hosts} hosts", args.hosts, [COMMAND]),
        ("five", f"{len(FIVE)} steps → {args.five_hosts} hosts", args.five_hosts, FIVE),
    ]
    work = Path(tempfile.mkdtemp(prefix="respond-bench-"))
    print(f"starting {max(args.hosts, args.five_hosts)} sshd endpoints ...", file=sys.stderr)
    farm = fanout.start_farm(max(args.hosts, args.five_hosts))
    bench = Bench(work, farm)
    bench.respond_env = _src_env(args)
    rows = []
    try:
        for key, title, n, commands in cases:
            group = bench.group(n)
            cells: dict[str, Any] = {
                "respond": lambda g=group, c=commands, k=key: bench.respond_run(g, c, k),
                "pool": lambda g=group, c=commands: bench.worker("paramiko", g, c),
            }
            if not args.no_ansible:
                cells.update(_ansible_cells(bench, group, key, args.ansible_variants))
            # one unmeasured round of the quick columns: .pyc files, page cache, the journal
            cells["respond"]()
            cells["pool"]()
            runs: dict[str, list[Measurement]] = {name: [] for name in cells}
            for r in range(args.repeat):
                print(f"{title}: round {r + 1}/{args.repeat} ...", file=sys.stderr)
                for name, thunk in cells.items():
                    runs[name].append(thunk())
            measured = {name: median_of(ms) for name, ms in runs.items()}
            ansible = [m for name, m in measured.items() if name.startswith("ansible")]
            best = min(ansible, key=lambda m: (not m.ok, m.wall_s)) if ansible else None
            rows.append(
                {
                    "case": title,
                    "respond": measured["respond"],
                    "pool": measured["pool"],
                    "ansible": best,
                    "ansible_variants": ansible,
                    "respond_steps_s": measured["respond"].inner.get("steps_s"),
                }
            )
    finally:
        farm.stop()
        shutil.rmtree(work, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------- start-up


def _time(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user+sys) seconds of one fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if rc != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({rc}):\n{err[-800:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _src_env(args: argparse.Namespace) -> dict[str, str]:
    """respond from another source tree (``--src``), e.g. main's, to measure it the same way."""
    return {"PYTHONPATH": str(Path(args.src).resolve() / "src")} if args.src else {}


def _instructions(argv: list[str], env: dict[str, str], cwd: Path) -> int | None:
    """Instructions executed by one run under valgrind (callgrind): noise-free, unlike time."""
    if shutil.which("valgrind") is None:
        return None
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    return None


def start_up(args: argparse.Namespace) -> list[dict[str, Any]]:
    respond = str(VENV_BIN / "respond")
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RESPOND_", "ANSIBLE_"))
        and k not in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE")
    }
    base_env.update(_src_env(args))
    home = Path(tempfile.mkdtemp(prefix="respond-bench-home-"))
    warm_env = {**base_env, "RESPOND_HOME": str(home)}
    cases: list[tuple[str, list[str], str]] = [
        ("respond list", [respond, "list"], "warm"),
        ("respond show power-outage", [respond, "show", "power-outage"], "warm"),
        ("respond validate", [respond, "validate"], "warm"),
        ("respond list", [respond, "list"], "cold"),
        ("respond show power-outage", [respond, "show", "power-outage"], "cold"),
        ("respond validate", [respond, "validate"], "cold"),
        ("respond --help", [respond, "--help"], ""),
        ("python -c pass (interpreter)", [sys.executable, "-c", "pass"], ""),
        ("ansible --version", [str(VENV_BIN / "ansible"), "--version"], ""),
    ]
    rows = []
    try:
        for name, argv, cache in cases:
            if not Path(argv[0]).exists():
                continue
            walls, cpus = [], []
            for i in range(args.startup_runs + 1):
                env = warm_env
                if cache == "cold":
                    cold = Path(tempfile.mkdtemp(prefix="respond-bench-cold-"))
                    env = {**base_env, "RESPOND_HOME": str(cold)}
                try:
                    wall, cpu = _time(argv, env, REPO)
                finally:
                    if cache == "cold":
                        shutil.rmtree(cold, ignore_errors=True)
                if i:  # the first run writes .pyc files and (warm) fills the cache
                    walls.append(wall)
                    cpus.append(cpu)
            instructions = None
            if args.instructions:
                env = warm_env
                if cache == "cold":
                    cold = Path(tempfile.mkdtemp(prefix="respond-bench-cold-"))
                    env = {**base_env, "RESPOND_HOME": str(cold)}
                try:
                    instructions = _instructions(argv, env, REPO)
                finally:
                    if cache == "cold":
                        shutil.rmtree(cold, ignore_errors=True)
            rows.append(
                {
                    "command": name + (f" ({cache})" if cache else ""),
                    "instructions": instructions,
                    "cache": cache or None,
                    "wall_s": statistics.median(walls),
                    "cpu_s": statistics.median(cpus),
                    "runs": len(walls),
                    "target_s": STARTUP_TARGET_S
                    if name.split()[1:2] in (["list"], ["show"], ["validate"])
                    else None,
                }
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------- SLA report


def sla_report(args: argparse.Namespace) -> dict[str, Any]:
    """``sla.py``'s measurements (seeded store, CLI, in process, naive baseline)."""
    import sla

    print(f"seeding {args.sla_incidents:,} incidents for the SLA report ...", file=sys.stderr)
    result = sla.measure(args.sla_incidents)
    result.pop("table")
    return result


# --------------------------------------------------------------------------- network facts


def netfacts_report(args: argparse.Namespace) -> dict[str, Any]:
    """``netfacts.py``'s measurements (one lab, respond and the two netmiko scripts)."""
    import netfacts

    return netfacts.measure_all(args.switches, args.repeat)


# --------------------------------------------------------------------------- inspection


def inspection_report(args: argparse.Namespace) -> dict[str, Any]:
    """``inspection.py``'s measurements (sshd farm and lab; respond and Ansible)."""
    import inspection

    return inspection.measure_all(
        argparse.Namespace(
            hosts=args.inspection_hosts,
            concurrency=args.inspection_concurrency,
            repeat=args.repeat,
            no_ansible=args.no_ansible,
            ansible_free=args.ansible_variants,
            no_lab=False,
            src=args.src,
        ),
        _src_env(args),
    )


# --------------------------------------------------------------------------- report


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def as_json(fan: list[dict[str, Any]], boot: list[dict[str, Any]], args: Any) -> dict[str, Any]:
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
        }

    out = []
    for r in fan:
        resp, pool, ans = r["respond"], r["pool"], r["ansible"]
        out.append(
            {
                "case": r["case"],
                "respond": cell(resp),
                "pool": cell(pool),
                "ansible": cell(ans),
                "ansible_variants": [cell(m) for m in r["ansible_variants"]],
                "respond_over_pool_wall": _ratio(resp.wall_s, pool.wall_s),
                "respond_over_pool_cpu": _ratio(resp.cpu_s, pool.cpu_s),
                "ansible_over_respond_wall": _ratio(ans.wall_s, resp.wall_s) if ans else None,
                "ansible_over_respond_cpu": _ratio(ans.cpu_s, resp.cpu_s) if ans else None,
                "respond_steps_s": r["respond_steps_s"],
            }
        )
    return {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "repeat": args.repeat,
        "src": str(Path(args.src).resolve()) if getattr(args, "src", None) else None,
        "targets": {
            "respond_over_pool_wall": WALL_TARGET,
            "respond_over_pool_cpu": CPU_TARGET,
            "startup_s": STARTUP_TARGET_S,
        },
        "fan_out": out,
        "start_up": boot,
        "sla": getattr(args, "sla_result", None),
        "netfacts": getattr(args, "netfacts_result", None),
        "inspection": getattr(args, "inspection_result", None),
    }


def _mark(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}×" + (" ✓" if value <= target else " ✗")


def print_table(data: dict[str, Any]) -> None:
    if data["fan_out"]:
        print(
            f"\nfan-out: medians of {data['repeat']}, whole process; wall s / client CPU s "
            "(user+sys of the process tree)"
        )
        head = (
            f"{'work':<24}{'respond':>14}{'paramiko pool':>15}{'Ansible (best)':>16}"
            f"{'respond÷pool wall':>19}{'CPU':>10}{'Ansible÷respond':>17}"
        )
        print(head)
        print("-" * len(head))
        for r in data["fan_out"]:

            def wc(c: dict[str, Any] | None) -> str:
                if c is None:
                    return "-"
                return f"{c['wall_s']:.2f}/{c['cpu_s']:.2f}" + ("" if c["ok"] else "!")

            ans = r["ansible_over_respond_wall"]
            print(
                f"{r['case']:<24}{wc(r['respond']):>14}{wc(r['pool']):>15}{wc(r['ansible']):>16}"
                f"{_mark(r['respond_over_pool_wall'], WALL_TARGET):>19}"
                f"{_mark(r['respond_over_pool_cpu'], CPU_TARGET):>10}"
                f"{(f'{ans:.1f}×' if ans else '-'):>17}"
            )
        for r in data["fan_out"]:
            for v in r["ansible_variants"]:
                print(f"  {r['case']}: {v['label']}: {v['wall_s']:.2f} s, CPU {v['cpu_s']:.2f} s")
            steps = r["respond_steps_s"]
            if steps:
                shown = ", ".join(f"{float(s) * 1000:.0f}" for s in steps if s is not None)
                print(f"  {r['case']}: respond run step durations (ms): {shown}")
        print(f"  targets: respond÷pool ≤ {WALL_TARGET}× wall, ≤ {CPU_TARGET}× client CPU")
    if data["start_up"]:
        runs = data["start_up"][0]["runs"]
        print(
            f"\nstart-up: the shipped project, medians of {runs}; target < 0.1 s for list/show/validate"
        )
        head = f"{'command':<40}{'wall':>10}{'CPU':>10}{'instructions':>14}{'target':>9}"
        print(head)
        print("-" * len(head))
        for row in data["start_up"]:
            target = row["target_s"]
            met = "-" if target is None else ("✓" if row["wall_s"] < target else "✗")
            ir = row.get("instructions")
            shown = f"{ir / 1e9:.2f} G" if ir else "-"
            print(
                f"{row['command']:<40}{row['wall_s'] * 1000:>8.0f}ms"
                f"{row['cpu_s'] * 1000:>8.0f}ms{shown:>14}{met:>9}"
            )
    if data.get("sla"):
        import sla

        print(f"\nSLA report over {data['sla']['incidents']:,} incidents (SQLite)")
        sla.print_rows(sla.rows(data["sla"]))
    if data.get("netfacts"):
        import netfacts

        netfacts.print_rows(data["netfacts"])
    if data.get("inspection"):
        import inspection

        inspection.print_rows(data["inspection"], footer=False)
    load = data["load_average"]
    src = f"; respond from {data['src']}" if data.get("src") else ""
    print(f"\n({data['cpus']} CPUs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}{src})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fan-out rounds (median)")
    parser.add_argument("--startup-runs", type=int, default=5, help="runs per start-up row")
    parser.add_argument("--hosts", type=int, default=100, help="hosts for '1 command'")
    parser.add_argument("--five-hosts", type=int, default=50, help="hosts for '5 steps'")
    parser.add_argument("--no-ansible", action="store_true", help="skip the Ansible baselines")
    parser.add_argument(
        "--ansible-variants",
        action="store_true",
        help="also measure Ansible without pipelining (and the inspection's free strategy); "
        "the best variant is reported",
    )
    parser.add_argument("--no-fan-out", action="store_true", help="start-up rows only")
    parser.add_argument("--no-start-up", action="store_true", help="fan-out rows only")
    parser.add_argument("--no-sla", action="store_true", help="skip the SLA report rows")
    parser.add_argument(
        "--sla-incidents", type=int, default=10_000, help="incidents seeded for the SLA report"
    )
    parser.add_argument("--no-netfacts", action="store_true", help="skip the network facts rows")
    parser.add_argument(
        "--switches", type=int, default=10, help="switches in the lab for the network facts"
    )
    parser.add_argument("--no-inspection", action="store_true", help="skip the inspection rows")
    parser.add_argument(
        "--inspection-hosts", type=int, default=100, help="sshd hosts for the inspection rows"
    )
    parser.add_argument(
        "--inspection-concurrency",
        type=lambda text: [int(x) for x in text.split(",") if x.strip()],
        default=[20],
        help="hosts inspected at once = Ansible's forks (comma-separated; default 20)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each start-up row's instructions under valgrind (slow, exact)",
    )
    parser.add_argument(
        "--src", metavar="DIR", help="measure respond from this source tree (e.g. a main checkout)"
    )
    parser.add_argument("--json", action="store_true", help="JSON on stdout instead of the table")
    parser.add_argument(
        "--table", type=Path, metavar="FILE", help="print the table of a saved --json output"
    )
    args = parser.parse_args(argv)
    args.repeat = max(1, args.repeat)
    if args.table:
        print_table(json.loads(args.table.read_text(encoding="utf-8")))
        return 0

    boot = [] if args.no_start_up else start_up(args)
    fan = [] if args.no_fan_out else fan_out(args)
    args.sla_result = None if args.no_sla else sla_report(args)
    args.netfacts_result = None if args.no_netfacts else netfacts_report(args)
    args.inspection_result = None if args.no_inspection else inspection_report(args)
    data = as_json(fan, boot, args)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_table(data)
    bad = [
        f"{r['case']}: {name} failed"
        for r in data["fan_out"]
        for name in ("respond", "pool", "ansible")
        if r[name] is not None and not r[name]["ok"]
    ]
    sla_result = data["sla"]
    if sla_result and not (
        sla_result["cli_table_s"] < sla_result["target_s"] and sla_result["naive_figures_equal"]
    ):
        bad.append("report sla: over its 1 s target or its figures differ from the baseline's")
    facts = data["netfacts"]
    if facts:
        cells = (facts["respond"], facts["netmiko_sequential"], facts["netmiko_pool"])
        bad += [f"network facts: {c['label']} failed" for c in cells if not c["ok"]]
    if data["inspection"]:
        import inspection

        bad += [f"inspection: {line}" for line in inspection.problems(data["inspection"])]
    for line in bad:
        print("PROBLEM:", line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
