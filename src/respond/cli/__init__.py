"""The command line: a thin layer that parses, calls and renders.

Commands are registered by name → ``"module:attribute"`` and imported only when invoked,
so ``respond --help`` stays fast and never loads paramiko, netmiko or ansible_runner.
``main()`` is the single error boundary: a ``RespondError`` becomes one clean message on
stderr and its documented exit code; a bug prints a traceback (with locals when
``RESPOND_DEBUG=1``).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.timeline import Store

# name → (module:attribute, one-line help shown by `respond --help` without importing it)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("respond.cli.catalog:list_cmd", "List the runbooks of the project."),
    "show": ("respond.cli.catalog:show_cmd", "Show a runbook's params and steps."),
    "validate": ("respond.cli.validate:validate_cmd", "Check runbooks, drills and inventories."),
    "schema": (
        "respond.cli.validate:schema_cmd",
        "Write the JSON Schema of runbooks or drills, for editors.",
    ),
    "plan": ("respond.cli.plan:plan_cmd", "Show what a run would do, without connecting."),
    "run": ("respond.cli.run:run_cmd", "Run a runbook: diagnose, gate, recover, record."),
    "resume": ("respond.cli.run:resume_cmd", "Continue an interrupted run where it stopped."),
    "note": ("respond.cli.timeline:note_cmd", "Add an operator note to a run."),
    "ack": ("respond.cli.incident:ack_cmd", "Acknowledge an incident (meets its respond clock)."),
    "severity": ("respond.cli.incident:severity_cmd", "Re-classify an incident's fault level."),
    "resolve": (
        "respond.cli.incident:resolve_cmd",
        "Record an incident restored; close it with cause and prevention.",
    ),
    "incident": (
        "respond.cli.incident:incident_group",
        "List, show, export incidents; vendor case and notes.",
    ),
    "schedule": (
        "respond.cli.schedule:schedule_group",
        "The periodic entry point for cron or a systemd timer.",
    ),
    "timeline": (
        "respond.cli.timeline:timeline_group",
        "List, show, export and verify run records.",
    ),
    "drill": ("respond.cli.drill:drill_group", "Scheduled drills and after-action reports."),
    "inspect": (
        "respond.cli.inspect:inspect_group",
        "Scheduled inspections: graded checks, reports, check records.",
    ),
    "report": ("respond.cli.report:report_group", "SLA and other reports over the record."),
    "lab": ("respond.cli.lab:lab_group", "The embedded simulated machine room on loopback."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("respond.cli"):
                return _not_yet(cmd_name, entry[1])
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table so listing commands imports nothing.
        rows = [(name, short) for name, (_, short) in COMMANDS.items() if _available(name)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(name: str) -> bool:
    """Whether the command's module is present (found without importing it)."""
    from importlib.util import find_spec

    return find_spec(COMMANDS[name][0].split(":")[0]) is not None


def _not_yet(name: str, short: str) -> click.Command:
    @click.command(name=name, help=short, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def missing(args: tuple[str, ...]) -> None:
        raise click.UsageError(f"'respond {name}' is not available in this build")

    return missing


class AppContext:
    """Global options, resolved lazily into a ProjectConfig."""

    def __init__(self, project: str | None, home: str | None, json_output: bool) -> None:
        self.project = project
        self.home = home
        self.json = json_output
        self._config: ProjectConfig | None = None

    @property
    def config(self) -> ProjectConfig:
        if self._config is None:
            from respond.config import load_config
            from respond.timeline.chain import take_key_from_environment

            self._config = load_config(self.project, self.home)
            # before any command can start a child process that would inherit the key
            take_key_from_environment(self._config.raw.get("signing_key"))
        return self._config


def app_of(ctx: click.Context) -> AppContext:
    """The global options (a bare set when a command is invoked without the root group, as
    tests do)."""
    obj = ctx.find_object(AppContext)
    return obj if obj is not None else AppContext(None, None, False)


def open_project_store(ctx: click.Context) -> Store:
    """The journal store of the project the command runs in."""
    from respond.timeline import open_store

    return open_store(app_of(ctx).config)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Examples:\n\n\b\n  respond list\n  respond validate\n  respond plan power-outage "
    "-i inventory/lab.yaml\n  respond run power-outage -i inventory/lab.yaml\n  respond timeline "
    "show RUN_ID\n\nDocs: docs/ in the repository. Exit codes: 0 ok, 1 failed, 2 bad input, "
    "3 aborted at a gate, 4 run held by another process, 130 interrupted.",
)
@click.option(
    "--project",
    envvar="RESPOND_PROJECT",
    show_envvar=True,
    metavar="DIR",
    help="Project directory (default: the nearest respond.yaml above the current directory).",
)
@click.option(
    "--home",
    envvar="RESPOND_HOME",
    show_envvar=True,
    metavar="DIR",
    help="Where run records live (default: .respond/ beside respond.yaml).",
)
@click.option("--json", "json_output", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(package_name="respond", prog_name="respond")  # resolved only when asked
@click.pass_context
def cli(ctx: click.Context, project: str | None, home: str | None, json_output: bool) -> None:
    """respond: emergency-response runbooks over SSH, network devices and Ansible,
    with gates, severity clocks and a tamper-evident incident timeline."""
    ctx.obj = AppContext(project, home, json_output)


def main(argv: list[str] | None = None) -> None:
    """The entry point: run the command, then exit with its status (``SystemExit``). As the
    process's own entry point (the ``respond`` script, ``python -m respond``) it leaves
    through ``_leave``, which skips the interpreter's teardown."""
    if not _is_entry_point():
        _main(argv)
        return
    try:
        _main(argv)
    except SystemExit as exc:
        _leave(exc)
    _leave(SystemExit(0))


def _is_entry_point() -> bool:
    """Whether this process was started to run respond: not a test, a profiler, a tracer or
    another program calling ``main()``."""
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return False
    if os.environ.get("RESPOND_DEBUG") == "1":
        return False
    module = sys.modules.get("__main__")
    spec = getattr(module, "__spec__", None)
    if spec is not None:
        return bool(spec.name == "respond.__main__")
    script = os.path.basename(str(getattr(module, "__file__", "") or ""))
    return script.removesuffix(".exe") == "respond"


def _leave(exc: SystemExit) -> NoReturn:
    """Exit as Python would, less the teardown of every module and object: after a run that
    teardown costs ~0.1 s of CPU (ssh transports, pydantic's schemas; more in wall time while
    their threads wind down) and ~15 ms after ``respond list``, and shows nothing. What a
    normal exit does that matters is done first, in its order: wait for threads that are not
    daemons (or exit normally while any runs), run the atexit handlers (logging, temporary
    files, the journal's close), flush stdout and stderr (or exit normally if that fails,
    so a closed pipe is reported as before). Then ``os._exit`` with the same status."""
    import atexit
    import threading

    main_thread = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main_thread for t in threading.enumerate()):
        raise exc
    code = exc.code
    if code is not None and not isinstance(code, int):
        raise exc  # sys.exit("message"): Python prints it; respond never exits so
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BaseException:
        raise exc from None
    os._exit((code or 0) & 0xFF)


def _main(argv: list[str] | None) -> None:
    from respond.errors import RespondError

    try:
        rv = cli.main(args=argv, prog_name="respond", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("\naborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except RespondError as exc:
        from respond.cli.output import print_error

        print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception:
        if os.environ.get("RESPOND_DEBUG") == "1":
            from rich.console import Console

            Console(stderr=True).print_exception(show_locals=True)
        else:
            import traceback

            traceback.print_exc()
            click.echo(
                "respond: internal error (a bug, please report it with the traceback above)",
                err=True,
            )
        sys.exit(70)
    sys.exit(rv if isinstance(rv, int) else 0)
