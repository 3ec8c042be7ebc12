"""All terminal output: data to stdout, human messages to stderr (STYLE rule 13)."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from respond.errors import RespondError


# How a run's end is coloured on the terminal: its outcome, or (a run still going, or
# recorded before outcomes existed) its status.
END_STYLE = {
    "resolved": "green",
    "no-fault": "green",
    "unresolved": "yellow",
    "aborted": "yellow",
    "failed": "red",
    "succeeded": "green",
    "interrupted": "magenta",
}


@cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, emoji=False)


@cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON on stdout, readable Chinese included; the characters a terminal would act on
    that JSON allows raw (DEL, C1 controls, bidi overrides) are written as ``\\uXXXX``
    escapes, so the same data is safe to look at (C0 controls are escaped by json itself)."""
    from respond.cli.screen import JSON_ESCAPES

    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    click.echo(text.translate(JSON_ESCAPES))


def info(message: str) -> None:
    from respond.cli.screen import printable

    err().print(printable(message), markup=False)


def warn(message: str) -> None:
    from respond.cli.screen import printable

    err().print(f"warning: {printable(message)}", style="yellow", markup=False)


def print_error(exc: RespondError) -> None:
    """The one-line (or one-issue-per-line) message of a user-facing error; it can quote what
    a host or web service said, so its control characters are shown, never obeyed."""
    from respond.cli.screen import printable

    text = printable(str(exc) or exc.__class__.__name__)
    if not text.startswith(("error", "respond:")) and "error:" not in text.split("\n", 1)[0]:
        text = f"error: {text}"
    click.echo(text, err=True)
    hint = getattr(exc, "hint", None)
    if hint:
        click.echo(f"hint: {printable(hint)}", err=True)


def write_document(text: str, output: Path | None, *, csv: bool = False) -> None:
    """A rendered document to stdout, or to ``output`` (then ``wrote FILE`` on stderr). CSV
    gets a BOM so spreadsheet programs read UTF-8 (Chinese) correctly."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8-sig" if csv else "utf-8")
    except OSError as exc:
        from respond.errors import RespondError

        raise RespondError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


@cache
def incident_logs_on_one_line() -> None:
    """What the book logs (an incident it could not check, an announcement that failed) is
    also reported by the command and recorded; on the terminal it is one warning line, its
    traceback only with RESPOND_DEBUG=1 (a bug then shows where it happened)."""
    import logging
    import os

    class OneLine(logging.Formatter):
        def formatException(self, ei: Any) -> str:
            return "" if os.environ.get("RESPOND_DEBUG") != "1" else super().formatException(ei)

    handler = logging.StreamHandler()  # stderr, looked up when written
    handler.setFormatter(OneLine("warning: %(message)s"))
    logger = logging.getLogger("respond.incidents")
    logger.addHandler(handler)
    logger.propagate = False
