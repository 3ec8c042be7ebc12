"""respond's inventory resolution compared with real Ansible on the same files.

For every inventory: hosts and their order, groups (direct hosts, children, depth, priority,
vars including group_vars/), every host's merged variables and groups, and the hosts (and
order) that several hundred patterns select. Ansible runs in subprocesses:

* ``ansible_oracle.py`` asks ansible-core's InventoryManager/VariableManager for everything
  in one process for all inventories (ansible is slow to start, so it is batched);
* the real ``ansible-inventory --list`` and ``ansible PATTERN --list-hosts`` commands check
  that the oracle says what the CLI says.

Ansible walks nested groups level by level through a Python *set* of Group objects (hashed
by identity), so when two branches of the group tree meet at the same depth the order of
their hosts is arbitrary and changes from run to run. The oracle also evaluates everything
with that set iterated in ascending and in descending name order: where both agree (almost
always) the order is well defined and respond must match it exactly; where they disagree
only the set of hosts is compared (respond takes the declaration order there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respond.errors import InventoryError
from respond.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]
VALID = REPO / "tests" / "fixtures" / "inventory" / "valid"
BIN = Path(sys.executable).parent
ORACLE = Path(__file__).with_name("ansible_oracle.py")
SEED = "0"

# The first test also gathers ansible's answers (a dozen ansible processes, two at a time):
# on a busy machine that alone can take longer than pytest-timeout's default 120 s.
pytestmark = pytest.mark.timeout(600)

INVENTORIES = {
    "docs-ini": VALID / "docs-ini" / "hosts.ini",
    "docs-yaml": VALID / "docs-yaml" / "hosts.yaml",
    "precedence": VALID / "precedence" / "inventory.yaml",
    "edge-ini": VALID / "edge-ini" / "hosts.ini",
    "noext": VALID / "noext" / "hosts",
    "production-yaml": REPO / "inventory" / "production.example.yaml",
    "production-ini": REPO / "inventory" / "production.example.ini",
}

FIXED_PATTERNS = [
    "all",
    "*",
    "ungrouped",
    "all:!ungrouped",
    "!ungrouped",
    "&all",
    "nonexistent",
    "nonexistent:all",
    "*.example.com",
    "web*",
    "*sw*",
    "~web[0-9]+",
    "~(db|web).*",
    "~^core",
    "*[0]",
    "all[0]",
    "all[-1]",
    "all[1:3]",
    "all[2:]",
    "all[0-1]",
    "all[0:0]",
    "all[99]",
    "all[50:60]",
    "core,noncritical",
    "core:noncritical:!db*",
    "switches:&core_switches",
    "linux:!core:!ups",
    "!core_switches:switches",
    "hot_standby:&core",
    "core[0],ups",
]


def _patterns(inv: Inventory) -> list[str]:
    patterns = list(FIXED_PATTERNS)
    groups = [g for g in inv.groups if g not in ("all", "ungrouped")]
    for g in groups:
        patterns += [g, f"{g}[0]", f"{g}[-1]", f"{g}[1:]", f"{g}[0:1]"]
    patterns += list(inv.hosts)[:12]
    for a, b in zip(groups, groups[1:] + groups[:1], strict=True):
        patterns += [f"{a}:{b}", f"{a},{b}", f"{a}:&{b}", f"{a}:!{b}", f"!{a}", f"!{a}:{b}"]
        patterns += [f"{b}, {a}:!{b}", f"{a}*:!{b}[0]"]
    return list(dict.fromkeys(patterns))


def _ansible_env(tmp: Path, seed: str) -> dict[str, str]:
    cfg = tmp / "ansible.cfg"
    cfg.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        HOME=str(tmp),
        ANSIBLE_CONFIG=str(cfg),
        ANSIBLE_HOME=str(tmp / ".ansible"),
        ANSIBLE_INVENTORY_ENABLED="ini,yaml",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        PYTHONHASHSEED=seed,
        LC_ALL="C.UTF-8",
    )
    return env


class _Oracle:
    """Ansible's answers, gathered once for the whole module in parallel subprocesses."""

    def __init__(self, tmp: Path) -> None:
        self.ours = {name: load_inventory(path) for name, path in INVENTORIES.items()}
        self.cli_patterns = {
            "docs-ini": ["all", "southeast:&raleigh:!host3"],
            "docs-yaml": ["usa:prod:!west", "*.example.com[1:4]"],
            "production-yaml": ["linux:!core", "switches[0],ups"],
        }
        self.patterns = {
            name: list(dict.fromkeys(_patterns(inv) + self.cli_patterns.get(name, [])))
            for name, inv in self.ours.items()
        }
        request = tmp / "request.json"
        request.write_text(
            json.dumps(
                [
                    {"inventory": str(path), "patterns": self.patterns[name]}
                    for name, path in INVENTORIES.items()
                ]
            )
        )
        commands: dict[tuple[str, str], tuple[list[str], str]] = {}
        commands[("oracle", "")] = ([sys.executable, str(ORACLE), str(request)], SEED)
        for name, path in INVENTORIES.items():
            commands[(name, "cli-list")] = (
                [str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
                SEED,
            )
            for i, pattern in enumerate(self.cli_patterns.get(name, [])):
                commands[(name, f"cli-hosts-{i}")] = (
                    [str(BIN / "ansible"), pattern, "-i", str(path), "--list-hosts"],
                    SEED,
                )
        outputs = _run_parallel(commands, tmp)
        self.results: dict[tuple[str, str], Any] = {}
        for key, (rc, out, err) in outputs.items():
            if key[1].startswith("cli-hosts"):
                self.results[key] = _parse_list_hosts(out) if rc == 0 else None
                continue
            assert rc == 0, f"{key}: ansible failed:\n{err}"
            self.results[key] = json.loads(out)
        for name, answer in zip(INVENTORIES, self.results.pop(("oracle", "")), strict=True):
            self.results[(name, "oracle")] = answer

    def answer(self, name: str) -> dict[str, Any]:
        return self.results[(name, "oracle")]


def _run_parallel(
    commands: dict[tuple[str, str], tuple[list[str], str]], tmp: Path
) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Run the commands, a few at a time (each one starts a Python with ansible)."""
    width = max(2, os.cpu_count() or 2)
    pending = list(commands.items())
    running: dict[tuple[str, str], subprocess.Popen[str]] = {}
    done: dict[tuple[str, str], tuple[int, str, str]] = {}
    while pending or running:
        while pending and len(running) < width:
            key, (argv, seed) = pending.pop(0)
            running[key] = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_ansible_env(tmp, seed),
                cwd=tmp,
            )
        key = next(iter(running))
        out, err = running[key].communicate(timeout=120)
        done[key] = (running.pop(key).returncode, out, err)
    return done


def _parse_list_hosts(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines and lines[0].strip().startswith("hosts ("), out
    return [line.strip() for line in lines[1:] if line.strip()]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Oracle]:
    yield _Oracle(tmp_path_factory.mktemp("ansible"))


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _same_order_or_set(ours: list[str], variants: dict[str, Any], what: str) -> None:
    """``variants``: Ansible's answer as is ("real") and with ordered set walks."""
    real, asc, desc = variants["real"], variants["asc"], variants["desc"]
    if asc == desc:  # well defined: Ansible itself must agree, and so must we
        assert real == asc, f"{what}: the oracle's ambiguity check is wrong"
        assert ours == real, what
    else:  # Ansible's own order is arbitrary here
        assert sorted(ours) == sorted(real) == sorted(asc) == sorted(desc), what


def _variants(answer: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    return {v: answer["variants"][v][kind][key] for v in ("real", "asc", "desc")}


@pytest.mark.parametrize("name", list(INVENTORIES))
def test_hosts_groups_and_vars_match_ansible(oracle: _Oracle, name: str) -> None:
    ours = oracle.ours[name]
    ans = oracle.answer(name)
    assert list(ours.hosts) == ans["hosts"]
    assert set(ours.groups) == set(ans["groups"])
    for gname, group in ours.groups.items():
        theirs = ans["groups"][gname]
        assert list(group.hosts) == theirs["hosts"], gname
        assert list(group.children) == theirs["children"], gname
        assert _plain(dict(group.vars)) == theirs["vars"], gname
        assert group.depth == theirs["depth"], gname
        assert group.priority == theirs["priority"], gname
        _same_order_or_set(
            list(group.all_hosts),
            _variants(ans, "all_hosts", gname),
            f"{name}: hosts of group {gname}",
        )
    for hname, host in ours.hosts.items():
        assert _plain(dict(host.vars)) == ans["hostvars"][hname], hname
        assert sorted(host.groups) == ans["group_names"][hname], hname
        assert host.groups[0] == "all"


@pytest.mark.parametrize("name", list(INVENTORIES))
def test_patterns_match_ansible(oracle: _Oracle, name: str) -> None:
    ours = oracle.ours[name]
    ans = oracle.answer(name)
    for pattern in oracle.patterns[name]:
        theirs = _variants(ans, "patterns", pattern)
        if isinstance(theirs["real"], dict):
            error = theirs["real"]["error"]
            if "subscripted pattern" in error:
                # Ansible errors on an index past the end; respond's contract is "no match".
                assert ours.select(pattern) == [], pattern
            else:
                with pytest.raises(InventoryError):
                    ours.select(pattern)
            continue
        _same_order_or_set(
            [h.name for h in ours.select(pattern)], theirs, f"{name}: pattern {pattern!r}"
        )


@pytest.mark.parametrize("name", list(INVENTORIES))
def test_real_cli_agrees(oracle: _Oracle, name: str) -> None:
    """``ansible-inventory --list`` and ``ansible PATTERN --list-hosts`` themselves."""
    ours = oracle.ours[name]
    listing = oracle.results[(name, "cli-list")]
    hostvars = listing.pop("_meta")["hostvars"]
    for hname, host in ours.hosts.items():
        assert _plain(dict(host.vars)) == hostvars.get(hname, {}), hname
    for gname, group in ours.groups.items():
        entry = listing.get(gname, {})
        if gname != "all":
            assert entry.get("hosts", []) == list(group.hosts), gname
        assert entry.get("children", []) == list(group.children), gname
    ans = oracle.answer(name)
    for i, pattern in enumerate(oracle.cli_patterns.get(name, [])):
        cli = oracle.results[(name, f"cli-hosts-{i}")]
        if cli is None:  # the pattern matched nothing: ansible exits non-zero
            assert ours.select(pattern) == []
            continue
        _same_order_or_set(
            [h.name for h in ours.select(pattern)],
            {
                "real": cli,
                "asc": ans["variants"]["asc"]["patterns"][pattern],
                "desc": ans["variants"]["desc"]["patterns"][pattern],
            },
            f"{name}: ansible {pattern!r} --list-hosts",
        )
