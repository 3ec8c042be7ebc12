"""The docs are checked: the CLI reference is current and the runbook examples work."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from clikit import CLI_TIMEOUT, Cli

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def test_cli_reference_is_generated_from_the_commands() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_cli_docs.py"), "--check"],
        cwd=REPO,
        timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, "docs/cli.md is stale: run scripts/gen_cli_docs.py"


def _complete_runbooks(page: Path) -> list[tuple[str, str]]:
    blocks = re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
    out = []
    for block in blocks:
        match = re.search(r"^runbook: ([\w.-]+)$", block, re.MULTILINE)
        if match:
            out.append((match.group(1), block))
    return out


def test_the_complete_runbook_example_validates_and_runs(respond: Cli, tmp_path: Path) -> None:
    examples = _complete_runbooks(DOCS / "runbooks.md")
    assert examples, "docs/runbooks.md lost its complete example"
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "respond.yaml").write_text("runbooks: runbooks\n")
    for name, text in examples:
        (tmp_path / "runbooks" / f"{name}.yaml").write_text(text, encoding="utf-8")
    cli = respond.bind(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    cli("validate", check=True)
    for name, _ in examples:
        run = cli("run", name, "--json")
        assert run.rc == 0, run
        result = run.json()
        statuses = {s["id"]: s["status"] for s in result["steps"]}
        # exactly one of the two branches ran, decided from the real disk usage
        assert sorted([statuses["alarm"], statuses["all-clear"]]) == ["ok", "skipped"]
