"""`respond plan`: what a run would do, rendered per host, without connecting anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from respond.cli import AppContext

SECRET_SHOWN = "***"


@click.command(
    "plan",
    epilog="\b\nExamples:\n  respond plan power-outage -i inventory/lab.yaml -p site=main\n"
    "  respond plan network-outage --json | jq '.steps[].hosts'\n  respond plan power-outage --drill",
)
@click.argument("runbook")
@click.option(
    "-i", "--inventory", type=click.Path(path_type=Path), help="Ansible-format inventory."
)
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A runbook parameter."
)
@click.option("--severity", type=click.IntRange(1, 4), help="Fault level for the plan.")
@click.option("--drill", is_flag=True, help="Show what each step would do in a drill.")
@click.option("--json", "json_output", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def plan_cmd(
    app: AppContext,
    runbook: str,
    inventory: Path | None,
    params: tuple[str, ...],
    severity: int | None,
    drill: bool,
    json_output: bool,
) -> None:
    """Show, without connecting anywhere, exactly what RUNBOOK would run: each step, the
    hosts its targets select, the rendered commands per host (secret params as ***),
    gates, and conditions that can only be decided at run time."""
    from respond.cli.output import out, print_json
    from respond.cli.run import _load_inventory, _secrets_of
    from respond.engine.params import parse_assignments, resolve_params
    from respond.runbook import load_runbook
    from respond.secrets import Masker

    config = app.config
    rb = load_runbook(runbook, config)
    resolved = resolve_params(rb, parse_assignments(params), placeholder_for_missing="<missing>")
    shown = {
        k: (SECRET_SHOWN if k in resolved.secret_names else v) for k, v in resolved.values.items()
    }
    missing = [k for k, v in resolved.values.items() if v == "<missing>"]
    inv, inv_path = _load_inventory(config, inventory, rb)
    plan = build_plan(rb, inv, shown, severity or rb.severity, drill, config)
    # secret params are *** already; a template may still show an inventory password
    # (`{{ ansible_become_password }}`) or a secret value through another variable
    given = [v for v in resolved.secret_values if v != "<missing>"]
    plan = Masker([*given, *_secrets_of(inv)]).mask(plan)
    plan["inventory"] = str(inv_path) if inv_path else None
    plan["missing_params"] = missing
    if json_output or app.json:
        print_json(plan)
        return
    render_plan(plan, out())


def build_plan(
    rb: Any, inventory: Any, params: dict[str, Any], severity: int, drill: bool, config: Any
) -> dict[str, Any]:
    from respond.engine.drill import step_action
    from respond.engine.prepare import preflight_targets
    from respond.engine.variables import base_variables
    from respond.errors import RespondError
    from respond.kinds.base import RenderEnv
    from respond.runbook.templating import Templates

    templates = Templates(config.root)
    env = RenderEnv(templates=templates, playbooks_dir=config.playbooks_dir, params=params)
    registered_names = {s.register for s in rb.steps if s.register}
    # names set steps give later steps: like registered results, known only at run time
    set_names = {name for s in rb.steps for name in s.step_kind.bound_names(s)}
    base = base_variables(
        runbook=rb,
        params=params,
        run_id="<run-id>",
        severity=severity,
        drill=drill,
        operator="<operator>",
        inventory=inventory,
        now="<now>",
    )
    unmatched = preflight_targets(rb, inventory, base, templates)
    steps: list[dict[str, Any]] = []
    for index, step in enumerate(rb.steps, start=1):
        entry: dict[str, Any] = {
            "index": index,
            "id": step.id,
            "name": step.name,
            "kind": step.kind,
            "targets": step.targets,
            "gate": step.confirm or ("configuration change" if step.gated else None),
            "on_failure": step.on_failure,
            "timeout": step.timeout,
            "retries": step.retries,
            "hosts": [],
            "commands": {},
            "condition": None,
        }
        if step.confirm:
            try:
                entry["gate"] = templates.render_text(step.confirm, base)
            except RespondError as exc:
                entry["gate"] = (
                    f"{step.confirm}  {_deferred(str(exc), registered_names, set_names)}"
                )
        if drill:  # as `respond run --drill` (a simulate drill) will do it
            entry["drill"] = step_action(step, "simulate")
        if step.when:
            entry["condition"] = _condition(
                step.when, templates, base, registered_names | set_names
            )
        later = (registered_names, set_names)
        if step.id in unmatched:
            entry["error"] = "\n".join(str(issue) for issue in unmatched[step.id])
        elif (timed := _plan_durations(entry, step, index, base, templates, later)) is not None:
            _plan_targets(entry, timed, base, templates, inventory, env, later)
        steps.append(entry)
    return {
        "runbook": rb.id,
        "version": rb.version,
        "title": rb.title,
        "sha256": rb.sha256,
        "severity": severity,
        "params": params,
        "drill": drill,
        "steps": steps,
    }


def _plan_durations(
    entry: dict[str, Any],
    step: Any,
    index: int,
    base: dict[str, Any],
    templates: Any,
    later: tuple[set[str], set[str]],
) -> Any:
    """The step with its templated durations rendered (its timeout shown as seconds), or
    None when one can be rendered only at run time or is no duration (said in the entry)."""
    from respond.engine.prepare import resolve_durations
    from respond.errors import RespondError
    from respond.runbook.model import step_label

    try:
        timed = resolve_durations(step, step.step_kind, base, templates, step_label(index, step.id))
    except RespondError as exc:
        entry["timeout"] = _deferred(str(exc), *later)
        entry["commands"]["*"] = [entry["timeout"]]
        return None
    entry["timeout"] = timed.timeout
    return timed


def _plan_targets(
    entry: dict[str, Any],
    step: Any,
    base: dict[str, Any],
    templates: Any,
    inventory: Any,
    env: Any,
    later: tuple[set[str], set[str]],
) -> None:
    """The hosts a step selects and what it would send each. A step on hosts whose targets
    select none (yet) shows why, never a command on the control host."""
    from respond.engine.prepare import NoTargets, render_targets, select_targets
    from respond.engine.variables import host_variables
    from respond.errors import RespondError

    kind = step.step_kind
    hosts: tuple[Any, ...] = ()
    if kind.on_hosts:
        try:
            hosts = select_targets(step, kind, base, templates, inventory).hosts
        except NoTargets as exc:
            if step.allow_empty and exc.pattern is not None:
                entry["skipped"] = f"no host matched {exc.pattern!r} (allow_empty)"
            else:
                entry["error"] = str(exc)
        except RespondError as exc:  # read from an earlier result: only the run can tell
            entry["targets_later"] = _deferred(str(exc), *later)
        if not hosts:
            return
    entry["hosts"] = [h.name for h in hosts]
    issues = {h.name: kind.host_issues(step, h) for h in hosts}
    warned = {name for name, found in issues.items() if found}
    entry["warnings"] = [
        f"{field}: {message}" for found in issues.values() for message, field in found
    ]
    rendered = render_targets(
        step, kind, hosts, lambda h: host_variables(base, h) if h else base, env
    )
    for name, r in rendered.items():
        if isinstance(r, str):
            shown = f"(fails at run time: {r})" if name in warned else _deferred(r, *later)
            entry["commands"][name] = [shown]
        else:
            entry["commands"][name] = kind.plan_lines(step, r)


def _condition(when: str, templates: Any, base: dict[str, Any], registered: set[str]) -> str:
    """A step's condition as the plan shows it: its value now, or why only a run can tell."""
    from respond.errors import RespondError

    try:
        runtime_names = templates.expression_names(when) & registered
    except RespondError:
        runtime_names = set()
    if runtime_names:
        return f"{when}  (decided at run time: uses {', '.join(sorted(runtime_names))})"
    try:
        value = templates.evaluate(when, base)
    except RespondError as exc:
        return f"{when}  (decided at run time: {exc})"
    return f"{when}  → {'true' if value else 'false: step will be skipped'}"


def render_plan(plan: dict[str, Any], console: Any) -> None:
    from respond.cli.screen import printable

    console.print(
        f"[bold]{_esc(plan['runbook'])}@{_esc(str(plan['version']))}[/] — {_esc(plan['title'])}",
        highlight=False,
    )
    console.print(
        f"severity {plan['severity']} · sha256 {plan['sha256'][:16]}… · inventory {plan.get('inventory') or '-'}",
        markup=False,
        highlight=False,
    )
    if plan["params"]:
        console.print(
            printable("params: " + ", ".join(f"{k}={v}" for k, v in plan["params"].items())),
            markup=False,
            highlight=False,
        )
    if plan.get("missing_params"):
        console.print(f"[yellow]missing required params: {', '.join(plan['missing_params'])}[/]")
    console.print("nothing is executed by plan.", style="dim")
    for s in plan["steps"]:
        head = f"{s['index']}. {s['id']} · {s['kind']}"
        if s["targets"]:
            head += (
                f" → {s['targets']} ({len(s['hosts'])} host{'s' if len(s['hosts']) != 1 else ''})"
            )
        console.print(f"\n[bold cyan]{_esc(head)}[/]  {_esc(s['name'] or '')}")
        if s.get("condition"):
            console.print(printable(f"   when: {s['condition']}"), markup=False, highlight=False)
        if s.get("gate"):
            console.print(f"   [bold yellow]GATE[/]: {_esc(s['gate'])}")
        if s.get("drill"):
            console.print(f"   drill: {s['drill']}", markup=False)
        if s.get("error"):
            console.print(f"   [red]{_esc(s['error'])}[/]")
        for warning in s.get("warnings") or ():
            console.print(f"   [yellow]warning: {_esc(warning)}[/]")
        if s.get("targets_later"):
            console.print(printable(f"   hosts: {s['targets_later']}"), markup=False, style="dim")
        if s.get("skipped"):
            console.print(printable(f"   skipped: {s['skipped']}"), markup=False, highlight=False)
        for host, lines in s["commands"].items():
            for line in lines:
                console.print(printable(f"   {host}: {line}"), markup=False, highlight=False)


def _deferred(error: str, registered: set[str], set_names: set[str]) -> str:
    """Why a field cannot be shown yet: it reads an earlier step's result or set value
    (expected), or something else is wrong (shown as is)."""
    import re

    match = re.search(r"'(\w+)' is undefined", error)
    if match and match.group(1) in registered:
        return f"(rendered at run time from the result of {match.group(1)!r})"
    if match and match.group(1) in set_names:
        return f"(rendered at run time from the value {match.group(1)!r} a set step computes)"
    return f"(cannot render yet: {error.splitlines()[0]})"


def _esc(text: str) -> str:
    """``text`` inside markup: shown as written, neither markup nor terminal controls."""
    from rich.markup import escape

    from respond.cli.screen import printable

    return escape(printable(text))
