"""Fan-out benchmark: respond against Ansible and a bare paramiko thread pool.

    .venv/bin/python benchmarks/fanout.py [--hosts 10,50,100] [--five-hosts 50] [--no-ansible]

Starts N real OpenSSH sshd endpoints on 127.0.0.1 (a few sshd processes with up to 16
``Port`` lines each; one per port would only cost memory), logging in as the test user with
empty shell rc files (issue 3: Debian's bash sources ~/.bashrc for every ssh command), then
measures, each in a fresh process:

case 1 — ``uptime; df -h /; free -m`` once on every host
  * ``respond run``  a one-step runbook through the real CLI (engine, journal, terminal)
  * respond executor  ``SshExecutor`` in a ThreadPoolExecutor (no engine, no journal)
  * bare paramiko     ``SSHClient`` per host in a pool of 64 threads, the code anyone would write
  * ansible           ``ansible all -m shell -f N`` (``-m command`` cannot run a ``;`` chain)
case 2 — five commands on ``--five-hosts`` hosts
  * ``respond run``  a five-step runbook (one connection per host, reused by every step)
  * respond executor  five fan-outs in a row through one executor
  * bare paramiko     one connection per host, five commands on it
  * ansible-playbook  five tasks, gather_facts off, default ControlPersist

Host keys are verified everywhere: respond and paramiko against the farm's known_hosts,
Ansible through ``ANSIBLE_SSH_ARGS`` (its defaults plus ``UserKnownHostsFile`` and
``StrictHostKeyChecking=yes``). Wall time is the whole process (interpreter start-up
included). Memory is the peak of the proportional set size (PSS) summed over the process
tree, sampled every 50 ms, so Ansible's forks and ssh clients count and shared pages are
not counted twice; ``maxrss`` is the main process alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_BIN = Path(sys.executable).parent
COMMAND = "uptime; df -h /; free -m"
FIVE = ["uptime", "df -h /", "free -m", "cat /proc/loadavg", "hostname"]
PORTS_PER_SSHD = 16  # OpenSSH's MAX_LISTEN_SOCKS


# --------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    label: str
    wall_s: float
    rc: int
    peak_pss_mb: float
    maxrss_mb: float
    out: str
    err: str
    inner: dict[str, Any]
    cpu_s: float = 0.0  # user + sys of the process and every descendant it waited for
    runs: int = 1

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.inner.get("failed")


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def _tree_pss_kb(root: int) -> int:
    kids = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


REPEAT = 1


def measure(label: str, argv: Sequence[str], **kw: Any) -> Measurement:
    """Best wall time of ``REPEAT`` runs (the machine may be busy); the highest peak memory."""
    runs = [_measure_once(label, argv, **kw) for _ in range(REPEAT)]
    best = min(runs, key=lambda m: (not m.ok, m.wall_s))
    best.peak_pss_mb = max(m.peak_pss_mb for m in runs)
    best.maxrss_mb = max(m.maxrss_mb for m in runs)
    return best


def median_of(runs: Sequence[Measurement]) -> Measurement:
    """One measurement standing for several runs of the same cell: the median wall time and
    the median CPU time (each on its own), the highest peak memory, the first failure."""
    import statistics

    bad = [m for m in runs if not m.ok]
    first = bad[0] if bad else runs[0]
    return Measurement(
        first.label,
        statistics.median(m.wall_s for m in runs),
        first.rc,
        max(m.peak_pss_mb for m in runs),
        max(m.maxrss_mb for m in runs),
        first.out,
        first.err,
        first.inner,
        cpu_s=statistics.median(m.cpu_s for m in runs),
        runs=len(runs),
    )


def _measure_once(
    label: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> Measurement:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_pss_kb(proc.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    inner: dict[str, Any] = {}
    if stdout.strip().startswith("{"):
        try:
            inner = json.loads(stdout)
        except ValueError:
            inner = {}
    return Measurement(
        label,
        wall,
        proc.returncode,
        peak / 1024,
        usage.ru_maxrss / 1024,
        stdout,
        stderr,
        inner,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


# --------------------------------------------------------------------------- workers


def _hosts(inventory: Path) -> list[Any]:
    from respond.inventory import load_inventory

    return list(load_inventory(inventory).hosts.values())


def worker_respond(inventory: Path, known_hosts: Path, commands: list[str]) -> dict[str, Any]:
    """SshExecutor in a thread pool: one fan-out per command, connections reused."""
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from respond.executors.base import Rendered, RunContext
    from respond.executors.ssh import SshExecutor

    hosts = _hosts(inventory)
    ctx = RunContext(
        run_id="bench", project_root=REPO, playbooks_dir=REPO, home=REPO, known_hosts=(known_hosts,)
    )
    ex = SshExecutor(ctx)
    steps: list[float] = []
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        for i, command in enumerate(commands):
            step = SimpleNamespace(
                id=f"s{i}",
                commands=(command,),
                become=False,
                expect=None,
                timeout=60.0,
                no_log=False,
            )
            rendered = Rendered(commands=(command,))
            t0 = time.perf_counter()
            results = list(pool.map(lambda h, s=step, r=rendered: ex.run(s, h, r, 60.0), hosts))
            steps.append(time.perf_counter() - t0)
            failures += [
                f"{r.host}: {r.error or r.rc}" for r in results if r.status != "ok" or r.rc != 0
            ]
    ex.close()
    return {"steps_s": steps, "failures": failures[:5], "failed": len(failures)}


POOL_THREADS = 64


def worker_paramiko(inventory: Path, known_hosts: Path, commands: list[str]) -> dict[str, Any]:
    """What a developer would write: SSHClient per host, RejectPolicy, default sockets, a
    pool of ``POOL_THREADS`` threads; one connection per host carries all its commands."""
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    hosts = _hosts(inventory)
    known = paramiko.HostKeys(str(known_hosts))

    def one(h: Any) -> str | None:
        client = paramiko.SSHClient()
        name = f"[{h.address}]:{h.port}"
        for kind, key in (known.lookup(name) or {}).items():
            client.get_host_keys().add(name, kind, key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                h.address,
                port=h.port,
                username=h.user,
                key_filename=str(h.key_file),
                timeout=30,
                allow_agent=False,
                look_for_keys=False,
            )
            for command in commands:
                _, stdout, stderr = client.exec_command(command, timeout=60)
                stdout.read()
                stderr.read()
                if stdout.channel.recv_exit_status() != 0:
                    return f"{h.name}: rc != 0"
        except Exception as exc:
            return f"{h.name}: {exc}"
        finally:
            client.close()
        return None

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(POOL_THREADS, len(hosts))) as pool:
        failures = [f for f in pool.map(one, hosts) if f]
    return {"total_s": time.perf_counter() - t0, "failures": failures[:5], "failed": len(failures)}


# --------------------------------------------------------------------------- scenario


def runbook(name: str, commands: list[str], n: int) -> str:
    steps = "".join(
        f"""  - id: s{i}
    name: "step {i}"
    kind: ssh
    targets: all
    command: {json.dumps(c)}
    concurrency: {n}
    timeout: 60s
"""
        for i, c in enumerate(commands)
    )
    return (
        f"runbook: {name}\nversion: 1.0.0\ntitle: {name}\nscenario: other\nseverity: 4\n"
        f"steps:\n{steps}"
    )


def playbook(commands: list[str]) -> str:
    tasks = "".join(
        f"    - name: t{i}\n      shell: {json.dumps(c)}\n" for i, c in enumerate(commands)
    )
    return f"- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"


class Bench:
    def __init__(self, work: Path, farm: Any) -> None:
        self.work = work
        self.farm = farm
        # PYTHONDONTWRITEBYTECODE would make every run compile respond's modules again
        # (~0.1 s of CPU): an installed respond, like Ansible, runs from .pyc files.
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ANSIBLE_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        self.respond_env: dict[str, str] = {}  # e.g. PYTHONPATH of another source tree

    def group(self, n: int) -> Any:
        return self.farm.group(n)

    def respond_run(self, group: Any, commands: list[str], tag: str) -> Measurement:
        n = len(group)
        root = self.work / f"project-{tag}"
        (root / "runbooks").mkdir(parents=True, exist_ok=True)
        (root / "respond.yaml").write_text(
            f"runbooks: runbooks\ndefault_inventory: {group.inventory}\n"
            f"known_hosts: {group.known_hosts}\n"
        )
        (root / "runbooks" / "fanout.yaml").write_text(runbook("fanout", commands, n))
        env = {**self.env, **self.respond_env, "RESPOND_HOME": str(root / ".respond")}
        m = measure(
            f"respond run ({len(commands)} step(s))",
            [sys.executable, "-m", "respond", "run", "fanout", "--json"],
            env=env,
            cwd=root,
        )
        if m.inner:
            steps = m.inner.get("steps") or []
            m.inner["failed"] = sum(int(s.get("failed") or 0) for s in steps)
            m.inner["steps_s"] = [s.get("duration_s") or s.get("duration") for s in steps]
        return m

    def worker(self, mode: str, group: Any, commands: list[str]) -> Measurement:
        return measure(
            {"respond": "respond executor pool", "paramiko": "bare paramiko pool"}[mode],
            [
                sys.executable,
                __file__,
                "--worker",
                mode,
                "--inventory",
                str(group.inventory),
                "--known-hosts",
                str(group.known_hosts),
                "--commands",
                json.dumps(commands),
            ],
            env=self.env,
        )

    def ansible_env(self, group: Any, tag: str, *, pipelining: bool = False) -> dict[str, str]:
        cp = Path(tempfile.mkdtemp(prefix="cp-", dir="/tmp"))  # fresh: no warm ControlPersist
        return {
            **({"ANSIBLE_PIPELINING": "1"} if pipelining else {}),
            **self.env,
            "ANSIBLE_SSH_ARGS": (
                "-C -o ControlMaster=auto -o ControlPersist=60s "
                f"-o UserKnownHostsFile={group.known_hosts} -o StrictHostKeyChecking=yes"
            ),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(cp),
            "ANSIBLE_LOCAL_TEMP": str(self.work / f"ansible-tmp-{tag}"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
        }

    def ansible_adhoc(self, group: Any, command: str, *, pipelining: bool = False) -> Measurement:
        n = len(group)
        return measure(
            f"ansible -m shell -f {n}" + (" + pipelining" if pipelining else ""),
            [
                str(VENV_BIN / "ansible"),
                "all",
                "-i",
                str(group.inventory),
                "-m",
                "shell",
                "-a",
                command,
                "-f",
                str(n),
            ],
            env=self.ansible_env(group, f"adhoc{n}", pipelining=pipelining),
        )

    def ansible_playbook(
        self, group: Any, commands: list[str], *, pipelining: bool = False
    ) -> Measurement:
        n = len(group)
        book = self.work / "five.yml"
        book.write_text(playbook(commands))
        return measure(
            f"ansible-playbook ({len(commands)} tasks) -f {n}"
            + (" + pipelining" if pipelining else ""),
            [
                str(VENV_BIN / "ansible-playbook"),
                "-i",
                str(group.inventory),
                str(book),
                "-f",
                str(n),
            ],
            env=self.ansible_env(group, f"play{n}", pipelining=pipelining),
        )


def _fmt(m: Measurement | None) -> str:
    if m is None:
        return "-"
    bad = "" if m.ok else " FAILED"
    return f"{m.wall_s:7.2f}s {m.peak_pss_mb:6.0f}MB{bad}"


def _ratio(a: Measurement | None, b: Measurement | None) -> str:
    if a is None or b is None or a.wall_s <= 0:
        return "-"
    return f"{b.wall_s / a.wall_s:5.1f}x"


def start_farm(n: int) -> Any:
    """``n`` endpoints: sshd processes with up to 16 ports each, one inventory host per port."""
    import dataclasses

    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from sshdkit import SshdFarm, free_port

    farm = SshdFarm()
    while len(farm.hosts) < n:
        ports: list[int] = []
        while len(ports) < min(PORTS_PER_SSHD, n - len(farm.hosts)):
            port = free_port()
            if port not in ports:
                ports.append(port)
        server = farm.start(ports=ports)
        for port in ports:
            name = f"host{len(farm.hosts) + 1:03d}"
            farm.hosts.append(dataclasses.replace(server, port=port, name=name))
    return farm


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="10,50,100", help="host counts for case 1")
    parser.add_argument("--five-hosts", type=int, default=50, help="hosts for case 2 (0: skip)")
    parser.add_argument("--no-ansible", action="store_true", help="skip the Ansible baselines")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; best wall time")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--worker", choices=["respond", "paramiko"], help=argparse.SUPPRESS)
    parser.add_argument("--inventory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--known-hosts", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--commands", help=argparse.SUPPRESS)
    parser.add_argument("--pool-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        global POOL_THREADS
        POOL_THREADS = args.pool_threads or POOL_THREADS
        fn = worker_respond if args.worker == "respond" else worker_paramiko
        print(json.dumps(fn(args.inventory, args.known_hosts, json.loads(args.commands))))
        return 0

    global REPEAT
    REPEAT = max(1, args.repeat)
    counts = [int(x) for x in args.hosts.split(",") if x.strip()]
    biggest = max([*counts, args.five_hosts])
    work = Path(tempfile.mkdtemp(prefix="respond-bench-"))
    print(f"starting {biggest} sshd endpoints on 127.0.0.1 ...", file=sys.stderr)
    farm = start_farm(biggest)
    bench = Bench(work, farm)
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for n in counts:
            group = bench.group(n)
            print(f"case 1: {n} hosts ...", file=sys.stderr)
            r = {
                "case": f"1 command x {n} hosts",
                "respond run": bench.respond_run(group, [COMMAND], f"one{n}"),
                "respond pool": bench.worker("respond", group, [COMMAND]),
                "paramiko": bench.worker("paramiko", group, [COMMAND]),
                "ansible": None if args.no_ansible else bench.ansible_adhoc(group, COMMAND),
            }
            rows.append(r)
        if args.five_hosts:
            group = bench.group(args.five_hosts)
            print(f"case 2: 5 commands x {args.five_hosts} hosts ...", file=sys.stderr)
            rows.append(
                {
                    "case": f"5 commands x {args.five_hosts} hosts",
                    "respond run": bench.respond_run(group, FIVE, "five"),
                    "respond pool": bench.worker("respond", group, FIVE),
                    "paramiko": bench.worker("paramiko", group, FIVE),
                    "ansible": None if args.no_ansible else bench.ansible_playbook(group, FIVE),
                }
            )
    finally:
        farm.stop()
        shutil.rmtree(work, ignore_errors=True)

    cols = ["respond run", "respond pool", "paramiko", "ansible"]
    print()
    print(
        f"{'case':<24}"
        + "".join(f"{c:>22}" for c in cols)
        + f"{'ansible/run':>13}{'run/paramiko':>14}{'pool/paramiko':>15}"
    )
    for r in rows:
        line = f"{r['case']:<24}" + "".join(f"{_fmt(r[c]):>22}" for c in cols)
        ans = _ratio(r["respond run"], r["ansible"])
        over = _ratio(r["paramiko"], r["respond run"])
        pool = _ratio(r["paramiko"], r["respond pool"])
        print(line + f"{ans:>13}{over:>14}{pool:>15}")
        for c in cols:
            m = r[c]
            if m is not None and not m.ok:
                problems.append(
                    f"{r['case']} / {c}: rc={m.rc} {m.inner.get('failures', '')} "
                    f"{m.err.strip()[-400:]}"
                )
    load = os.getloadavg()
    print(
        "\n(wall time of the whole process, best of "
        f"{REPEAT}; peak PSS of its process tree; ratios of wall time; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
    )
    for r in rows:
        steps = (r["respond pool"].inner or {}).get("steps_s")
        if steps and len(steps) > 1:
            later = steps[1:]
            print(
                f"{r['case']}: respond executor, steps on open connections: "
                + ", ".join(f"{s * 1000:.0f} ms" for s in later)
            )
        run_steps = (r["respond run"].inner or {}).get("steps_s")
        if run_steps and len(run_steps) > 1:
            print(
                f"{r['case']}: respond run, step durations: "
                + ", ".join(f"{float(s) * 1000:.0f} ms" for s in run_steps if s is not None)
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "case": r["case"],
                        **{
                            c: (
                                None
                                if r[c] is None
                                else {
                                    "wall_s": r[c].wall_s,
                                    "peak_pss_mb": r[c].peak_pss_mb,
                                    "maxrss_mb": r[c].maxrss_mb,
                                    "rc": r[c].rc,
                                    "inner": r[c].inner,
                                }
                            )
                            for c in cols
                        },
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
