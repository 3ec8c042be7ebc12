"""A private copy of the project with the embedded lab running, for scenario tests.

Each test gets its own project directory (runbooks, playbooks, respond.yaml copied from the
repository), its own RESPOND_HOME and its own lab on free loopback ports, and drives
everything through the real `respond` command, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESPOND = [sys.executable, "-m", "respond"]


@dataclass
class Lab:
    root: Path
    home: Path

    def respond(
        self, *args: str, timeout: float = 300, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*RESPOND, "--project", str(self.root), "--home", str(self.home), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RESPOND_HOME": str(self.home), "RESPOND_OPERATOR": "tester@lab"},
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"respond {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def json(self, *args: str) -> Any:
        out = self.respond(*args, "--json", check=True)
        return json.loads(out.stdout)

    def inject(self, fault: str, *extra: str) -> None:
        self.respond("lab", "inject", fault, *extra, check=True)

    def heal(self, fault: str | None = None) -> None:
        self.respond("lab", "heal", *([fault] if fault else []), check=True)

    def status(self) -> dict[str, Any]:
        return self.json("lab", "status")

    def messages(self) -> list[dict[str, Any]]:
        return self.json("lab", "messages")

    def run(
        self, runbook: str, answers: dict[str, Any] | None = None, *extra: str
    ) -> tuple[int, dict[str, Any]]:
        """`respond run RUNBOOK --yes --answers FILE --json` (unattended); returns (exit, result)."""
        args = ["run", runbook, "--yes", "--json", "-q", *extra]
        if answers is not None:
            path = self.root / f"answers-{runbook}.yaml"
            import yaml

            path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
            args += ["--answers", str(path)]
        proc = self.respond(*args)
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"no JSON from respond run ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            ) from None
        return proc.returncode, result

    def events(self, run_id: str) -> list[dict[str, Any]]:
        data = self.json("timeline", "show", run_id)
        return data["events"] if isinstance(data, dict) else data

    def step_outputs(self, run_id: str, step_id: str) -> dict[str, str]:
        """host → stdout of that step's commands, from the record."""
        out: dict[str, str] = {}
        for e in self.events(run_id):
            if e["kind"] == "host-result" and e["step_id"] == step_id:
                cmds = e["data"].get("commands") or []
                out[e["host"]] = "\n".join(str(c.get("stdout", "")) for c in cmds) or str(
                    e["data"].get("output", "")
                )
        return out


def make_lab(tmp_path: Path, hosts: int = 3) -> Lab:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("runbooks", "playbooks", "drills", "schemas"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    (root / "inventory").mkdir()
    shutil.copy(REPO / "respond.yaml", root / "respond.yaml")
    lab = Lab(root=root, home=tmp_path / "home")
    lab.respond("lab", "up", "--hosts", str(hosts), check=True)
    return lab
