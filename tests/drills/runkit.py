"""Drill runs as a user starts them: a project with a runbook and drill files, the real
`respond` command in a child process, the record read back through `respond timeline`.

- ``DrillProject(root, inventory=...)``: respond.yaml (a file channel for the runbook's own
  notices, ``log``, and one for drills, ``drill-log``), runbooks and drills written by the test.
- ``project.respond(...)``: `respond --project ROOT ...` with its records in ``ROOT/.respond``.
- ``project.events(run_id)`` / ``project.meta(run_id)``: the run's record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from clikit import Cli, Result

RESPOND_YAML = """\
runbooks: runbooks
{inventory}channels:
  log: {{type: file, path: notices.log}}
  drill-log: {{type: file, path: drill-notices.log}}
notify:
  default: [log]
"""


class DrillProject:
    def __init__(self, root: Path, *, inventory: Path | None = None) -> None:
        self.root = root
        for folder in ("runbooks", "drills", "inventory"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        line = f"default_inventory: {inventory}\n" if inventory else ""
        (root / "respond.yaml").write_text(RESPOND_YAML.format(inventory=line), encoding="utf-8")
        self.cli = Cli(
            cwd=root,
            env={
                "RESPOND_HOME": str(root / ".respond"),
                "RESPOND_OPERATOR": "drill-tester",
                "RESPOND_DB": None,
                "RESPOND_PROJECT": None,
            },
        )

    def runbook(self, name: str, steps: str, severity: int = 2) -> None:
        (self.root / "runbooks" / f"{name}.yaml").write_text(
            f"runbook: {name}\nversion: 1.0.0\ntitle: {name}\nscenario: power\n"
            f"severity: {severity}\nsteps:\n{steps}",
            encoding="utf-8",
        )

    def drill(self, name: str, **fields: Any) -> Path:
        path = self.root / "drills" / f"{name}.yaml"
        path.write_text(
            yaml.safe_dump({"drill": name, **fields}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        return path

    def file(self, name: str, data: Any) -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    def respond(self, *args: str, check: bool = False, timeout: float | None = None) -> Result:
        return self.cli("--project", str(self.root), *args, check=check, timeout=timeout)

    def drill_run(self, name: str, *args: str) -> tuple[Result, dict[str, Any]]:
        """`respond drill run NAME --json ARGS`: the result and its JSON (empty when none)."""
        result = self.respond("drill", "run", name, "--json", *args)
        try:
            data = result.json()
        except ValueError:
            data = {}
        return result, data

    def events(self, run_id: str) -> list[dict[str, Any]]:
        data = self.respond("timeline", "show", run_id, "--json", check=True).json()
        return list(data["events"])

    def meta(self, run_id: str) -> dict[str, Any]:
        data = self.respond("timeline", "show", run_id, "--json", check=True).json()
        return dict(data["run"]["meta"])

    def drill_runs(self) -> list[str]:
        listed = self.respond("timeline", "list", "--drill", "--json", check=True).json()
        return [r["run_id"] for r in listed]

    def notices(self, channel_file: str) -> list[dict[str, Any]]:
        path = self.root / channel_file
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def kinds_of(events: list[dict[str, Any]], step_id: str | None = None) -> list[str]:
    return [e["kind"] for e in events if step_id is None or e.get("step_id") == step_id]


def first(events: list[dict[str, Any]], kind: str, step_id: str | None = None) -> dict[str, Any]:
    return next(
        e for e in events if e["kind"] == kind and (step_id is None or e.get("step_id") == step_id)
    )
