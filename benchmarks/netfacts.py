"""Facts from every switch of a 10-switch lab: respond next to plain netmiko scripts.

    .venv/bin/python benchmarks/netfacts.py [--switches 10] [--repeat 3] [--json]

Starts the embedded lab with ``--switches N`` (Huawei core, H3C and Cisco access switches,
then more access switches cycling the three) and measures, each in a fresh process and
interleaved round by round (medians of ``--repeat`` rounds, after one unmeasured round):

  * respond: ``respond run netfacts --yes --json`` of a runbook with one step,
    ``kind: netmiko, targets: switches, facts: all`` (interfaces, neighbours, routes and the
    running configuration of each switch, parsed with ntc-templates and normalised, every
    result in the durable journal);
  * netmiko, sequential: the script a user writes — for each switch ``ConnectHandler`` and
    ``send_command(cmd, use_textfsm=True)`` of the same four commands, then ``disconnect``;
  * netmiko, thread pool: the same per switch in a ``ThreadPoolExecutor`` (one thread per
    switch).

Every client checks the switches' host keys against the lab's known_hosts. Measured: wall
time and client CPU (user+sys of the process tree); ratios respond ÷ each script. ``--json``
prints the numbers as JSON on stdout instead of the table.
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout import Measurement, measure, median_of

# The commands of a facts step per network OS (src/respond/netfacts), as a user would write
# them into a script; the netmiko device type of each OS.
COMMANDS = {
    "ios": [
        "show interfaces",
        "show lldp neighbors detail",
        "show ip route",
        "show running-config",
    ],
    "vrp": [
        "display interface",
        "display lldp neighbor",
        "display ip routing-table verbose",
        "display current-configuration",
    ],
    "comware": [
        "display interface",
        "display lldp neighbor-information verbose",
        "display ip routing-table",
        "display current-configuration",
    ],
}
DEVICE_TYPES = {"ios": "cisco_ios", "vrp": "huawei", "comware": "hp_comware"}

RUNBOOK = """\
runbook: netfacts
version: "1.0.0"
title: "交换机信息 / Facts from every switch"
scenario: network
severity: 3
steps:
  - id: facts
    name: "Interfaces, neighbours, routes and configuration of every switch"
    kind: netmiko
    targets: switches
    facts: all
"""


# --------------------------------------------------------------------------- netmiko scripts


def _switches(inventory: Path) -> list[dict[str, Any]]:
    import yaml

    group = yaml.safe_load(inventory.read_text())["all"]["children"]["switches"]
    common = group.get("vars") or {}
    return [
        {"name": name, **common, **(hostvars or {})}
        for name, hostvars in (group.get("hosts") or {}).items()
    ]


def _facts_of(switch: dict[str, Any], known_hosts: str) -> int:
    """What a user's script does for one switch; the number of outputs TextFSM parsed."""
    from netmiko import ConnectHandler

    family = str(switch["ansible_network_os"])
    conn = ConnectHandler(
        device_type=DEVICE_TYPES[family],
        host=switch["ansible_host"],
        port=int(switch["ansible_port"]),
        username=switch["ansible_user"],
        password=switch["ansible_password"],
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=known_hosts,
        fast_cli=True,
    )
    try:
        outputs = [conn.send_command(cmd, use_textfsm=True) for cmd in COMMANDS[family]]
    finally:
        conn.disconnect()
    return sum(isinstance(out, list) for out in outputs)


def netmiko_script(mode: str, inventory: Path, known_hosts: str) -> int:
    """Run one baseline in this process; prints {"parsed": n, "switches": n, "failed": n}."""
    switches = _switches(inventory)
    failed = 0
    parsed: list[int] = []
    if mode == "sequential":
        for sw in switches:
            try:
                parsed.append(_facts_of(sw, known_hosts))
            except Exception as exc:
                failed += 1
                print(f"{sw['name']}: {exc}", file=sys.stderr)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(switches)) as pool:
            futures = [pool.submit(_facts_of, sw, known_hosts) for sw in switches]
            for sw, fut in zip(switches, futures, strict=True):
                try:
                    parsed.append(fut.result())
                except Exception as exc:
                    failed += 1
                    print(f"{sw['name']}: {exc}", file=sys.stderr)
    print(json.dumps({"parsed": sum(parsed), "switches": len(switches), "failed": failed}))
    return 1 if failed else 0


# --------------------------------------------------------------------------- the lab


class Lab:
    """A project with the netfacts runbook and a running ``--switches N`` lab."""

    def __init__(self, switches: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="respond-netfacts-"))
        self.home = self.root / ".respond"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RESPOND_", "ANSIBLE_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        self.env["RESPOND_HOME"] = str(self.home)
        (self.root / "runbooks").mkdir()
        (self.root / "inventory").mkdir()
        (self.root / "runbooks" / "netfacts.yaml").write_text(RUNBOOK, encoding="utf-8")
        (self.root / "respond.yaml").write_text(
            "project: netfacts-bench\nrunbooks: runbooks\n"
            "default_inventory: inventory/lab.yaml\nknown_hosts: .respond/lab/known_hosts\n",
            encoding="utf-8",
        )
        self.respond("lab", "up", "--switches", str(switches))

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

    @property
    def inventory(self) -> Path:
        return self.root / "inventory" / "lab.yaml"

    @property
    def known_hosts(self) -> Path:
        return self.home / "lab" / "known_hosts"

    def stop(self) -> None:
        try:
            self.respond("lab", "down")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def respond_facts(lab: Lab) -> Measurement:
    m = measure(
        "respond run (facts: all)",
        [sys.executable, "-m", "respond", "run", "netfacts", "--yes", "--json", "-q"],
        env=lab.env,
        cwd=lab.root,
    )
    steps = m.inner.get("steps") or []
    m.inner["failed"] = sum(int(s.get("failed") or 0) for s in steps)
    if m.inner.get("outcome") != "resolved":
        m.inner["failed"] = m.inner["failed"] or 1
    m.inner["steps_s"] = [s.get("duration_s") or s.get("duration") for s in steps]
    return m


def netmiko_facts(lab: Lab, mode: str) -> Measurement:
    label = {"sequential": "netmiko, sequential", "pool": "netmiko, thread pool"}[mode]
    return measure(
        label,
        [
            sys.executable,
            __file__,
            "--netmiko",
            mode,
            "--inventory",
            str(lab.inventory),
            "--known-hosts",
            str(lab.known_hosts),
        ],
        env=lab.env,
        cwd=lab.root,
    )


# --------------------------------------------------------------------------- measure, report


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _cell(m: Measurement) -> dict[str, Any]:
    return {
        "label": m.label,
        "wall_s": round(m.wall_s, 4),
        "cpu_s": round(m.cpu_s, 4),
        "peak_pss_mb": round(m.peak_pss_mb, 1),
        "ok": m.ok,
        "runs": m.runs,
        "error": None if m.ok else (m.err.strip()[-400:] or f"exit {m.rc}"),
    }


def measure_all(switches: int, repeat: int) -> dict[str, Any]:
    """The three columns on one lab, interleaved round by round; medians and ratios."""
    print(f"starting a lab with {switches} switches ...", file=sys.stderr)
    lab = Lab(switches)
    cells = {
        "respond": lambda: respond_facts(lab),
        "sequential": lambda: netmiko_facts(lab, "sequential"),
        "pool": lambda: netmiko_facts(lab, "pool"),
    }
    try:
        for thunk in cells.values():  # unmeasured: .pyc files, page cache, the journal
            thunk()
        runs: dict[str, list[Measurement]] = {name: [] for name in cells}
        for r in range(repeat):
            print(f"netfacts: round {r + 1}/{repeat} ...", file=sys.stderr)
            for name, thunk in cells.items():
                runs[name].append(thunk())
    finally:
        lab.stop()
    got = {name: median_of(ms) for name, ms in runs.items()}
    resp, seq, pool = got["respond"], got["sequential"], got["pool"]
    return {
        "switches": switches,
        "repeat": repeat,
        "respond": _cell(resp),
        "netmiko_sequential": _cell(seq),
        "netmiko_pool": _cell(pool),
        "respond_steps_s": resp.inner.get("steps_s"),
        "netmiko_parsed_outputs": seq.inner.get("parsed"),
        "respond_over_sequential_wall": _ratio(resp.wall_s, seq.wall_s),
        "respond_over_pool_wall": _ratio(resp.wall_s, pool.wall_s),
        "respond_over_sequential_cpu": _ratio(resp.cpu_s, seq.cpu_s),
        "respond_over_pool_cpu": _ratio(resp.cpu_s, pool.cpu_s),
    }


def print_rows(data: dict[str, Any]) -> None:
    print(
        f"\nfacts from {data['switches']} switches (interfaces, neighbours, routes, config): "
        f"medians of {data['repeat']}, whole process"
    )
    head = (
        f"{'client':<28}{'wall s':>10}{'CPU s':>10}{'peak MB':>10}{'respond÷ wall':>15}{'CPU':>8}"
    )
    print(head)
    print("-" * len(head))
    rows = [
        (data["respond"], None, None),
        (
            data["netmiko_sequential"],
            data["respond_over_sequential_wall"],
            data["respond_over_sequential_cpu"],
        ),
        (data["netmiko_pool"], data["respond_over_pool_wall"], data["respond_over_pool_cpu"]),
    ]
    for cell, wall, cpu in rows:
        ratio = f"{wall:.2f}×" if wall else "-"
        cpu_ratio = f"{cpu:.2f}×" if cpu else "-"
        flag = "" if cell["ok"] else " FAILED"
        print(
            f"{cell['label'] + flag:<28}{cell['wall_s']:>10.2f}{cell['cpu_s']:>10.2f}"
            f"{cell['peak_pss_mb']:>10.0f}{ratio:>15}{cpu_ratio:>8}"
        )
    steps = data.get("respond_steps_s") or []
    if steps and steps[0] is not None:
        print(f"  respond: the facts step itself {float(steps[0]):.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switches", type=int, default=10, help="switches in the lab (≥ 3)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout instead of the table")
    parser.add_argument("--netmiko", choices=["sequential", "pool"], help=argparse.SUPPRESS)
    parser.add_argument("--inventory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--known-hosts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.netmiko:
        return netmiko_script(args.netmiko, args.inventory, args.known_hosts)
    started = time.monotonic()
    data = measure_all(max(3, args.switches), max(1, args.repeat))
    data.update(python=sys.version.split()[0], cpus=os.cpu_count(), load_average=os.getloadavg())
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_rows(data)
        print(f"\n({time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f})")
    cells = (data["respond"], data["netmiko_sequential"], data["netmiko_pool"])
    bad = [c["label"] for c in cells if not c["ok"]]
    for label in bad:
        print(f"PROBLEM: {label} failed", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
