"""``respond lab``: the embedded simulated machine room on loopback."""

from __future__ import annotations

import time
from typing import Any

import click

from respond.cli.output import info, print_json

FAULT_HELP = (
    "power-loss, ups-fault, link-down, switch-down, disk-failure, psu-failure, server-down,"
    " service-down, oa-down, sms-down, high-load, memory-pressure, disk-full, inode-exhaustion,"
    " time-drift, backup-stale, backup-failed, cert-expiring, crc-errors; disk-failure,"
    " psu-failure, server-down, service-down, high-load, memory-pressure, time-drift,"
    " backup-stale and backup-failed hit any server, disk-full and inode-exhaustion any SERVER[:MOUNT], link-down and crc-errors any"
    " SWITCH[:PORT]"
)


def _home(ctx: click.Context) -> Any:
    return ctx.obj.config.home


def _want_json(ctx: click.Context, flag: bool) -> bool:
    return flag or bool(getattr(ctx.obj, "json", False))


@click.group(name="lab")
def lab_group() -> None:
    """The embedded lab: SSH hosts, Huawei/H3C/Cisco switches, OA/SMS services on 127.0.0.1.

    \b
    Examples:
      respond lab up
      respond lab inject power-loss --for 5m
      respond lab status
      respond lab heal
      respond lab commands --host ups1
      respond lab down
    """


@lab_group.command(name="up")
@click.option("--hosts", type=click.IntRange(3, 500), default=3, show_default=True,
              help="Number of non-critical servers (app1, app2, test1, then app3...).")  # fmt: skip
@click.option("--switches", type=click.IntRange(3, 22), default=3, show_default=True,
              help="Number of switches: core-sw1 (Huawei), acc-sw1 (H3C), acc-sw2 (Cisco), "
                   "then acc-sw3... cycling Cisco, Huawei, H3C.")  # fmt: skip
@click.option("--port-base", type=click.IntRange(1024, 65000), default=None,
              help="Use consecutive ports from this one instead of free ones.")  # fmt: skip
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def up_cmd(
    ctx: click.Context, *, hosts: int, switches: int, port_base: int | None, json_flag: bool
) -> None:
    """Start the lab in the background and write inventory/lab.yaml."""
    from respond.lab import control

    config = ctx.obj.config
    inventory = config.inventory_dir / "lab.yaml"
    t0 = time.monotonic()
    data, started = control.up(
        config.home, inventory, hosts=hosts, switches=switches, port_base=port_base
    )
    if _want_json(ctx, json_flag):
        print_json({"started": started, **{k: v for k, v in data.items() if k != "token"}})
        return
    if not started:
        info(f"the lab is already running (pid {data.get('pid')})")
    else:
        info(f"lab started in {time.monotonic() - t0:.1f}s (pid {data['pid']})")
    _print_endpoints(data)
    info(f"inventory:   {data.get('inventory')}")
    info(f"known_hosts: {data.get('known_hosts')}")
    info(f"client key:  {data.get('client_key')}")
    info(f"log:         {data.get('log')}")
    info(
        "next: respond lab inject power-loss   then   respond run power-outage -i inventory/lab.yaml"
    )


def _print_endpoints(data: dict[str, Any]) -> None:
    from rich.table import Table

    from respond.cli.output import out

    table = Table(title="respond lab (127.0.0.1)", show_lines=False)
    table.add_column("name")
    table.add_column("kind")
    table.add_column("port", justify="right")
    for name, port in data.get("hosts", {}).items():
        table.add_row(name, "ssh host", str(port))
    kinds = data.get("switch_info", {})
    for name, port in data.get("switches", {}).items():
        kind = kinds.get(name, {})
        table.add_row(name, f"switch ({kind.get('vendor')} {kind.get('network_os')})", str(port))
    urls = data.get("urls", {})
    for kind, port in data.get("web", {}).items():
        url = {"oa": urls.get("oa"), "sms": urls.get("sms"), "sink": urls.get("notify")}.get(
            kind
        ) or ""
        table.add_row(kind, f"http {url}", str(port))
    out().print(table)


@lab_group.command(name="down")
@click.pass_context
def down_cmd(ctx: click.Context) -> None:
    """Stop the lab; no process is left behind, and the inventory it wrote is removed."""
    from respond.lab import control

    pid = control.down(_home(ctx))
    info("the lab was not running" if pid is None else f"lab stopped (pid {pid})")


@lab_group.command(name="status")
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def status_cmd(ctx: click.Context, *, json_flag: bool) -> None:
    """What runs, the current faults, UPS, uplink and host states."""
    from respond.lab import control

    data = control.status(_home(ctx))
    if _want_json(ctx, json_flag):
        print_json(data)
    else:
        _print_status(data)
    if not data["running"]:
        ctx.exit(1)


def _print_status(data: dict[str, Any]) -> None:
    from rich.table import Table

    from respond.cli.output import out

    if not data["running"]:
        info(f"the lab is not running (home {data['home']}); start it with `respond lab up`")
        return
    console = out()
    console.print(f"lab running, pid {data['pid']}, inventory {data.get('inventory')}")
    faults = data.get("faults", [])
    if faults:
        table = Table(title="active faults")
        for col in ("fault", "target", "since", "heals in"):
            table.add_column(col)
        for f in faults:
            remaining = "until healed" if f["remaining"] is None else f"{f['remaining']:.0f}s"
            table.add_row(
                f["name"],
                f["target"],
                time.strftime("%H:%M:%S", time.localtime(f["since"])),
                remaining,
            )
        console.print(table)
    else:
        console.print("no active faults")
    ups = data.get("ups", {})
    console.print(
        f"UPS: {ups.get('ups.status')}  charge {ups.get('battery.charge')}%  runtime {ups.get('battery.runtime')}s"
        f"  load {ups.get('ups.load')}%   WAN uplink: {data.get('uplink')}"
    )
    oa, sms = data.get("oa", {}), data.get("sms", {})
    console.print(
        f"OA: {'ok' if oa.get('ok') else 'DOWN ' + oa.get('reason', '')}   "
        f"SMS: {'ok' if sms.get('ok') else 'DOWN ' + sms.get('reason', '')}   messages received: {data.get('messages')}"
    )
    ports = data.get("ports", {})
    table = Table(title="hosts and switches")
    for col in ("name", "group", "port", "power", "reachable", "services"):
        table.add_column(col)
    for name, host in data.get("hosts", {}).items():
        services = ", ".join(f"{k}={v}" for k, v in host["services"].items())
        table.add_row(name, host["group"], str(ports.get(name, "")), host["power"],
                      "yes" if host["reachable"] else "NO", services)  # fmt: skip
    for name, sw in data.get("switches", {}).items():
        shut = ", ".join(sw.get("shutdown", []))
        table.add_row(name, f"switch {sw.get('network_os')}",
                      str(ports.get(name, "")), "on" if sw["up"] else "DOWN",
                      "yes" if sw["reachable"] else "NO",
                      f"shutdown: {shut}" if shut else "")  # fmt: skip
    console.print(table)
    events = [e for e in data.get("power_log", []) if e["action"] in ("shutdown", "crash")]
    if events:
        order = ", ".join(
            f"{e['host']} ({'crash ' if e['action'] == 'crash' else ''}"
            f"{time.strftime('%H:%M:%S', time.localtime(e['at']))})"
            for e in events
        )
        console.print(f"power-off order: {order}")


@lab_group.command(name="inject")
@click.argument("fault", metavar="FAULT")
@click.argument("target_arg", metavar="[TARGET]", required=False)
@click.option("--for", "duration", metavar="DURATION", default=None,
              help="Heal by itself after this long (30s, 5m, 1h).")  # fmt: skip
@click.option(
    "--target",
    default=None,
    help="Host, HOST/UNIT (service-down), SERVER:MOUNT, switch or SWITCH:PORT (each fault has "
    "a default); may also be given as the TARGET argument.",
)
@click.option("--runtime", "runtime_", metavar="DURATION", default=None,
              help="power-loss: battery runtime at the start (default 30m).")  # fmt: skip
@click.pass_context
def inject_cmd(
    ctx: click.Context,
    *,
    fault: str,
    target_arg: str | None,
    duration: str | None,
    target: str | None,
    runtime_: str | None,
) -> None:
    """Inject FAULT:"""  # completed below with the fault list
    from respond.durations import parse_duration
    from respond.lab import control

    if target_arg is not None and target is not None and target_arg != target:
        raise click.UsageError(f"two targets given: {target_arg!r} and --target {target!r}")
    target = target if target is not None else target_arg

    seconds = _duration(duration, "--for", parse_duration)
    params = {}
    if runtime_ is not None:
        if fault != "power-loss":
            raise click.UsageError("--runtime applies to power-loss only")
        params["runtime"] = _duration(runtime_, "--runtime", parse_duration)
    info(control.inject(_home(ctx), fault, duration=seconds, target=target, params=params))


inject_cmd.help = f"Inject FAULT ({FAULT_HELP})."


def _duration(value: str | None, option: str, parse: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(parse(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    if seconds <= 0:
        raise click.BadParameter("must be positive", param_hint=option)
    return seconds


@lab_group.command(name="heal")
@click.argument("fault", required=False)
@click.pass_context
def heal_cmd(ctx: click.Context, *, fault: str | None) -> None:
    """Clear FAULT, or without one restore the whole lab (faults, power, services, ports)."""
    from respond.lab import control

    done = control.heal(_home(ctx), fault)
    if not done:
        info(
            f"{fault} was not active"
            if fault
            else "nothing to heal: the lab is in its baseline state"
        )
    for line in done:
        info(line)


@lab_group.command(name="messages")
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def messages_cmd(ctx: click.Context, *, json_flag: bool) -> None:
    """List what the lab's OA, SMS platform and notification sink received."""
    from respond.lab import control

    items = control.messages(_home(ctx))
    if _want_json(ctx, json_flag):
        print_json(items)
        return
    if not items:
        info("no messages received")
        return
    from rich.table import Table

    from respond.cli.output import out

    table = Table(title="messages received by the lab")
    for col in ("#", "time", "channel", "to", "title", "message"):
        table.add_column(col, overflow="fold")
    for m in items:
        table.add_row(str(m["id"]), time.strftime("%H:%M:%S", time.localtime(m["at"])), m.get("channel", ""),
                      m.get("to", ""), m.get("title", ""), m.get("message", ""))  # fmt: skip
    out().print(table)


@lab_group.command(name="commands")
@click.option("--host", "host", metavar="NAME", default=None,
              help="Only this host's or switch's commands.")  # fmt: skip
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def commands_cmd(ctx: click.Context, *, host: str | None, json_flag: bool) -> None:
    """List what the lab's hosts executed and its switches processed since `lab up`."""
    from respond.lab import control

    entries = control.command_log(_home(ctx), host)
    if _want_json(ctx, json_flag):
        print_json(entries)
        return
    if not entries:
        info("no commands received" + (f" by {host}" if host else ""))
        return
    from rich.markup import escape
    from rich.table import Table

    from respond.cli.output import out

    table = Table(title="commands received by the lab")
    for col in ("time", "host", "command"):
        table.add_column(col, overflow="fold")
    for e in entries:
        stamp = time.strftime("%H:%M:%S", time.localtime(float(e.get("at", 0))))
        # a shell command is full of brackets that rich would read as markup
        table.add_row(stamp, escape(str(e.get("host", ""))), escape(str(e.get("command", ""))))
    out().print(table)
