"""``respond inspect list|checks|run|report|log``: scheduled inspections (巡检).

Each subcommand lives in its own module; this group only puts them together.
"""

from __future__ import annotations

import click

INSPECT_EPILOG = """\b
Examples:
  respond inspect list                  every inspection, its schedule, last result
  respond inspect run daily             check the machine room now; graded table
  respond inspect report RUN_ID --format html -o inspection.html
  respond inspect log --from 2026-12-01 --to 2026-12-07 --format csv
"""


@click.group("inspect", epilog=INSPECT_EPILOG)
def inspect_group() -> None:
    """Scheduled inspections (inspections/*.yaml): graded checks on servers, switches, the
    UPS and web services; inspection reports; the daily check record."""


def _add_commands() -> None:
    # one import per subcommand module; a part not built yet is simply absent
    import importlib

    for module, names in (
        ("respond.cli.inspect_run", ("list_cmd", "checks_cmd", "run_cmd")),
        ("respond.cli.inspect_report", ("report_cmd", "log_cmd")),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        for name in names:
            command = getattr(mod, name, None)
            if command is not None:
                inspect_group.add_command(command)


_add_commands()
