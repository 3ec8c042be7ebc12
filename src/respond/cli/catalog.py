"""``respond list`` and ``respond show``: what runbooks the project has and what they do.

Both read validated runbooks through ``respond.runbook.cache``: a runbook unchanged
since it last validated is described from the cache, without pydantic or Jinja2."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from respond.cli import AppContext

_SCENARIO_ZH = {
    "power": "停电",
    "network": "网络",
    "server": "服务器",
    "application": "应用",
    "other": "其他",
}


@click.command("list")
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_obj
def list_cmd(app: AppContext, json_flag: bool) -> None:
    """List the runbooks of the project: id, version, scenario, default severity, title.

    A runbook that does not load is listed with its first problem; `respond validate`
    shows them all.
    """
    from respond.errors import InvalidInput
    from respond.runbook.cache import load_description
    from respond.runbook.loader import find_runbooks
    from respond.yamlfile import display_path

    config = app.config
    rows: list[dict[str, Any]] = []
    for path in find_runbooks(config):
        try:
            rb = load_description(path, config)["runbook"]
        except InvalidInput as exc:
            first = exc.issues[0] if exc.issues else None
            rows.append(
                {
                    "id": path.stem,
                    "path": display_path(path),
                    "ok": False,
                    "error": str(first) if first else exc.message,
                    "errors": max(1, sum(1 for i in exc.issues if i.is_error)),
                }
            )
            continue
        rows.append(
            {
                "id": rb["runbook"],
                "version": rb["version"],
                "scenario": rb["scenario"],
                "severity": rb["severity"],
                "title": rb["title"],
                "steps": len(rb["steps"]),
                "path": display_path(path),
                "sha256": rb["sha256"],
                "ok": True,
            }
        )

    from respond.cli import output

    if json_flag or app.json:
        output.print_json(rows)
        return
    if not rows:
        output.info(f"no runbooks in {display_path(config.runbooks_dir)}/")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("ID", "VERSION", "SCENARIO", "SEVERITY", "TITLE"):
        table.add_column(name, no_wrap=name != "TITLE")
    for row in rows:
        if row["ok"]:
            table.add_row(
                row["id"], row["version"], row["scenario"], str(row["severity"]), row["title"]
            )
        else:
            table.add_row(row["id"], "-", "-", "-", f"✗ invalid: {row['error']}", style="red")
    output.out().print(table)
    bad = sum(1 for r in rows if not r["ok"])
    if bad:
        output.warn(f"{bad} runbook{'s' if bad > 1 else ''} failed to load; run 'respond validate'")


@click.command("show")
@click.argument("runbook")
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_obj
def show_cmd(app: AppContext, runbook: str, json_flag: bool) -> None:
    """Show a runbook's params and steps, in order, with kind, targets and gates.

    RUNBOOK is a runbook id (power-outage) or a path to a runbook file.
    """
    from respond.runbook.cache import load_description
    from respond.runbook.loader import resolve_runbook

    config = app.config
    path = resolve_runbook(runbook, config)
    description = load_description(path, config)
    from respond.cli import output

    if json_flag or app.json:
        output.print_json(runbook_dict(description, path))
        return
    _print_runbook(description, path)


def runbook_dict(description: dict[str, Any], source: Path) -> dict[str, Any]:
    """JSON-able description of a runbook (``respond.runbook.cache.describe``), secret defaults redacted."""
    from respond.yamlfile import display_path

    data = dict(description["runbook"])
    data["source"] = display_path(source)
    return data


def _print_runbook(description: dict[str, Any], source: Path) -> None:
    from rich.table import Table
    from rich.text import Text

    from respond.cli import output
    from respond.durations import format_duration
    from respond.yamlfile import display_path

    rb = description["runbook"]
    console = output.out()
    head = Text()
    head.append(rb["title"], style="bold")
    head.append(
        f"\n{rb['runbook']} {rb['version']} · scenario {rb['scenario']} "
        f"({_SCENARIO_ZH.get(rb['scenario'], '')})"
    )
    head.append(f" · default severity {rb['severity']}\n")
    head.append(f"{display_path(source)} · sha256 {rb['sha256'][:16]}", style="dim")
    console.print(head)
    if rb["description"]:
        console.print(Text(rb["description"].strip()))
    console.print()
    if rb["params"]:
        params = Table(
            title="Params", title_justify="left", box=None, pad_edge=False, header_style="bold"
        )
        for name in ("NAME", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"):
            params.add_column(name, no_wrap=name != "DESCRIPTION")
        for name, p in rb["params"].items():
            if p["secret"]:  # the description holds its default as *** already
                default = "***" if p["default"] is not None else "-"
            else:
                default = "-" if p["default"] is None else str(p["default"])
            kind = p["type"] + (f" ({', '.join(p['choices'])})" if p["choices"] else "")
            params.add_row(name, kind, default, "yes" if p["required"] else "", p["description"])
        console.print(params)
        console.print()
    console.print(Text("Steps", style="bold"))
    for i, (s, facts) in enumerate(zip(rb["steps"], description["steps"], strict=True), 1):
        line = Text(f"{i:>2}. ")
        line.append(s["id"], style="bold")
        line.append(f"  [{s['kind']}]")
        if s["targets"]:
            line.append(f" → {s['targets']}", style="cyan")
        if s["name"] and s["name"] != s["id"]:
            line.append(f"  {s['name']}")
        console.print(line)
        details: list[tuple[str, str, str]] = []
        if s["when"]:
            details.append(("when", s["when"], ""))
        if facts["gated"]:
            details.append(
                ("gate", s["confirm"] or "configuration change (always confirmed)", "yellow")
            )
        if s["register"]:
            details.append(("register", s["register"], ""))
        extras = []
        if s["timeout"] is not None:
            timeout = s["timeout"]  # a template until a run renders it
            shown = timeout if isinstance(timeout, str) else format_duration(timeout)
            extras.append(f"timeout {shown}")
        if s["retries"]:
            extras.append(f"retries {s['retries']}")
        if s["on_failure"] != "abort":
            extras.append(f"on failure {s['on_failure']}")
        if s.get("on_refuse", "abort") != "abort":
            extras.append(f"on refusal {s['on_refuse']}")
        extras.append(f"drill: {facts['drill_mode']}")
        details.append(("", ", ".join(extras), "dim"))
        for label, value, style in details:
            text = Text("      ")
            if label:
                text.append(f"{label}: ", style="dim")
            text.append(value, style=style)
            console.print(text)
