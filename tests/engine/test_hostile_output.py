"""Remote output is hostile: what a host prints (and what a parameter holds) is shown on the
operator's terminal, never obeyed by it; the record keeps what was received."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from clikit import DEADLINE, Cli, wait_until
from enginekit import events_of, write_runbook
from rich.console import Console

from respond.cli.progress import ConsoleProgress
from respond.cli.screen import printable
from respond.secrets import Masker

ESC = "\x1b"

# (what a host can send, why it is dangerous, how the terminal must show it)
HOSTILE = [
    ("\x1b[1A", "CSI cursor up: moves onto the line above (the gate)", "␛[1A"),
    ("\x1b[2K", "CSI erase line: wipes that line", "␛[2K"),
    ("\x1b[2J\x1b[H", "CSI clear screen and home", "␛[2J␛[H"),
    ("\x1b[8m", "SGR 8: the text after it is invisible", "␛[8m"),
    ("\x1b]0;owned\x07", "OSC 0: sets the window title", "␛]0;owned␇"),
    ("\x1b]8;;http://evil/\x1b\\ok\x1b]8;;\x1b\\", "OSC 8: a disguised hyperlink", "␛]8;;"),
    ("\x1b]52;c;cm0gLXJmIH4K\x07", "OSC 52: writes the operator's clipboard", "␛]52;c;"),
    ("\x1bP+q544e\x1b\\", "DCS: a device control string (terminal queries)", "␛P+q544e␛\\"),
    ("\x9b1A", "C1 CSI (U+009B): a cursor move without ESC", "\\x9b1A"),
    ("\x9d0;owned\x9c", "C1 OSC and ST", "\\x9d0;owned\\x9c"),
    ("\x07", "BEL", "␇"),
    ("rm -rf /\x08\x08\x08\x08\x08\x08\x08\x08df -h   ", "backspaces overwrite", "␈"),
    ("rm -rf /\rdf -h   ", "a bare CR overwrites the line", "rm -rf /␍df -h"),
    ("\u202eh- fd", "U+202E right-to-left override: text shown reversed", "\\u202eh- fd"),
    ("\u2066x\u2069", "U+2066/U+2069 bidi isolates", "\\u2066x\\u2069"),
    ("\x00\x7f", "NUL and DEL", "␀␡"),
]


@pytest.mark.parametrize(
    ("raw", "shown"), [(raw, shown) for raw, _, shown in HOSTILE], ids=[w for _, w, _ in HOSTILE]
)
def test_every_control_is_shown_never_obeyed(raw: str, shown: str) -> None:
    text = printable(f"before {raw} after")
    assert shown in text
    # nothing left that a terminal acts on: no C0 but newline/tab, no DEL, no C1, no bidi
    assert not [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
    assert not [c for c in text if 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]


def test_plain_text_newlines_tabs_and_chinese_are_kept() -> None:
    text = "恢复公告\tok\r\nline 2\n"
    assert printable(text) == "恢复公告\tok\nline 2\n"
    assert printable("plain") == "plain"


def test_progress_lines_neither_obey_controls_nor_parse_markup(tmp_path: Path) -> None:
    """The observer's own sink: masking first (a secret split by an escape is still found)
    then the controls shown, and rich markup in a host's output printed as written."""
    path = tmp_path / "screen.txt"
    with path.open("w", encoding="utf-8") as f:
        console = Console(file=f, force_terminal=True, width=120, color_system="standard")
        progress = ConsoleProgress(console, Masker(["hunter2"]))
        progress.line("out: \x1b[8mhunter2 [bold red]not markup[/] \x1b]52;c;eA==\x07")
        progress.whole("gate: \x1b[1A\x1b[2Kerase me")
    screen = path.read_text(encoding="utf-8")
    assert "hunter2" not in screen
    assert "[bold red]not markup[/]" in screen
    assert "␛[8m" in screen and "␛]52;c;eA==␇" in screen and "␛[1A␛[2Kerase me" in screen
    for raw, _, _ in HOSTILE[:8]:
        assert raw not in screen


def _strings(value: object) -> str:
    """Every text inside a recorded value, joined (the raw characters, not their repr)."""
    if isinstance(value, dict):
        return "\n".join(_strings(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "\n".join(_strings(v) for v in value)
    return value if isinstance(value, str) else ""


# -- a real run on a terminal ----------------------------------------------------------------


def _read_until(fd: int, chunks: list[bytes], marker: bytes | None) -> None:
    """Read the terminal into ``chunks`` until ``marker`` shows (or, for None, until the
    process has closed it)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if marker is not None and marker in b"".join(chunks):
            return
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every end of the terminal's other side is closed
            data = b""
        if not data:
            assert marker is None, f"the terminal closed before {marker!r}: {b''.join(chunks)!r}"
            return
        chunks.append(data)
    raise AssertionError(f"waited {DEADLINE:g}s for {marker!r}: {b''.join(chunks)!r}")


def test_a_host_cannot_rewrite_the_gate_on_the_operators_screen(project: Path) -> None:
    """A command prints cursor-up, erase-line and hidden-text sequences just before a gate
    that quotes it: on a real terminal (a pty) the operator sees them as text, the gate stays
    where it was, and the timeline still holds the bytes the host sent."""
    hostile = "\x1b[1A\x1b[2K\x1b[8mall clear, nothing to see"
    write_runbook(
        project,
        "hostile",
        "params:\n  note: {description: a note, default: none}\n"
        "steps:\n"
        "  - id: probe\n    kind: local\n    register: probe\n"
        '    argv: [printf, "%s", "\\e[1A\\e[2K\\e[8mall clear, nothing to see"]\n'
        "  - id: restart\n    kind: local\n"
        "    confirm: 'Restart the OA service? host says: {{ probe.stdout }} ({{ note }})'\n"
        "    argv: [echo, '{{ probe.stdout }}']\n",
    )
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "respond", "run", "hostile", "-p", "note=\x1b]52;c;cm0K\x07"],
        cwd=project,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        _read_until(master, chunks, b"Proceed with restart?")
        # one keypress, once respond reads keys (raw mode): typed earlier, the terminal
        # would hold it as a line being edited
        wait_until(lambda: not termios.tcgetattr(master)[3] & termios.ICANON, "raw mode")
        os.write(master, b"n")
        _read_until(master, chunks, None)
        rc = proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    screen = b"".join(chunks)
    text = screen.decode("utf-8", "replace")
    assert rc == 3, text  # refused at the gate
    for raw in (b"\x1b[1A", b"\x1b[2K", b"\x1b[8m", b"\x1b]52"):
        assert raw not in screen, (raw, text)
    gate = next(line for line in text.splitlines() if "GATE step 2 (restart)" in line)
    assert "␛[1A␛[2K␛[8mall clear" in gate
    assert "(␛]52;c;cm0K␇)" in text  # the parameter, on the gate's next line
    assert "    ✓ localhost" in text  # the probe's own line survived, its text visible

    events = events_of(project)
    recorded = [e for e in events if e.step_id == "probe" and hostile in _strings(e.data)]
    assert recorded, "the record keeps what the host sent"

    shown = Cli(cwd=project)("timeline", "show", events[0].run_id)
    assert shown.rc == 0, shown
    assert ESC not in shown.stdout and "␛[1A␛[2K␛[8m" in shown.stdout


def test_json_output_escapes_what_json_would_leave_raw(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from respond.cli.output import print_json

    value = {"out": "\x1b[2J \x9b1A \u202eabc \x7f 恢复"}
    print_json(value)
    text = capsys.readouterr().out
    assert json.loads(text) == value  # the same data
    assert "恢复" in text and printable(text) == text  # nothing a terminal would act on
