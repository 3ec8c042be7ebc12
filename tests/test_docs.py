"""The docs are checked: the CLI reference is current and the runbook examples work."""

from __future__ import annotations

import re
import shlex
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


# A runnable example in docs/runbooks.md is a ```yaml block with a top-level `runbook:` key.
# An HTML comment on the line before it may say how to run it and what must come out:
#   <!-- run: -p site=b  expect: rc=1 outcome=unresolved step.alarm=skipped -->
# `expect` keys: `rc`, any top-level key of `run --json`, `step.ID` (that step's status) and
# `stderr` (words it must contain; quote values with spaces). The examples run in a project
# whose default inventory is DOCS_INVENTORY (no host is ever connected to).
DOCS_INVENTORY = """all:
  children:
    servers:
      hosts:
        app1: {ansible_host: 127.0.0.1}
        app2: {ansible_host: 127.0.0.1}
"""
_EXAMPLE = re.compile(r"(?:<!--(?P<meta>[^\n]*?)-->\n)?```yaml\n(?P<body>.*?)```", re.DOTALL)


def _complete_runbooks(page: Path) -> list[tuple[str, str, list[str], dict[str, str]]]:
    out = []
    for match in _EXAMPLE.finditer(page.read_text(encoding="utf-8")):
        body = match.group("body")
        name = re.search(r"^runbook: ([\w.-]+)$", body, re.MULTILINE)
        if not name:
            continue
        meta = match.group("meta") or ""
        run_part, _, expect_part = meta.partition("expect:")
        args = shlex.split(run_part.strip().removeprefix("run:"))
        expect = dict(item.split("=", 1) for item in shlex.split(expect_part))
        out.append((name.group(1), body, args, expect))
    return out


def test_the_runbook_examples_validate_and_run(respond: Cli, tmp_path: Path) -> None:
    examples = _complete_runbooks(DOCS / "runbooks.md")
    assert examples, "docs/runbooks.md lost its complete example"
    names = [name for name, *_ in examples]
    assert len(names) == len(set(names)), f"two examples share a runbook id: {names}"
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "docs.yaml").write_text(DOCS_INVENTORY)
    (tmp_path / "respond.yaml").write_text(
        "runbooks: runbooks\ndefault_inventory: inventory/docs.yaml\n"
    )
    for name, text, _, _ in examples:
        (tmp_path / "runbooks" / f"{name}.yaml").write_text(text, encoding="utf-8")
    cli = respond.bind(cwd=tmp_path, env={"RESPOND_HOME": str(tmp_path / ".respond")})
    cli("validate", check=True)
    for name, _, args, expect in examples:
        run = cli("run", name, "--json", *args)
        assert run.rc == int(expect.get("rc", "0")), (name, run)
        assert expect.get("stderr", "") in run.stderr, (name, run)
        if run.rc == 2:
            continue  # bad input: refused before the run, nothing recorded and no JSON
        result = run.json()
        statuses = {s["id"]: s["status"] for s in result["steps"]}
        for key, wanted in expect.items():
            if key in ("rc", "stderr"):
                continue
            if key.startswith("step."):
                assert statuses.get(key.removeprefix("step.")) == wanted, (name, key, statuses)
            else:
                assert str(result.get(key)) == wanted, (name, key, result.get(key))
        if name == "disk-check":
            # exactly one of the two branches ran, decided from the real disk usage
            assert sorted([statuses["alarm"], statuses["all-clear"]]) == ["ok", "skipped"]
