"""When the operator's terminal goes away, the incident goes on.

A run's output can stop being readable at any moment: ``respond run x 2>&1 | head -3`` (the
pipe closes after three lines), a pager that is quit, an SSH session to the jump box that
drops (SIGHUP), a terminal window that is closed (SIGHUP, then EIO on every write). None of
that is a failure of the incident, and none of it may be recorded as one.

``TerminalWatch`` is installed for the length of a run. It stands between the process and
its standard streams:

- a write to stdout or stderr that fails because the reader is gone (EPIPE, EIO) is not an
  error: that stream is pointed at ``/dev/null`` (so every later write, by anyone, succeeds
  and nothing blocks) and the run carries on;
- when the stream that carries the progress and the gates (stderr) is the one that went, or
  on SIGHUP, the operator is gone: from then on the run is *unattended*. Steps that need no
  decision run as they would from cron; a gate or prompt that ``--yes``/``--answers`` does not
  decide is refused and recorded with the reason, and the run ends aborted (exit 3),
  resumable with ``respond resume``. A gate that was waiting for a key when SIGHUP came is
  refused the same way.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

from respond.errors import GateRefused

_GONE = frozenset({errno.EPIPE, errno.EIO, errno.ECONNRESET, errno.ENXIO})


class TerminalGone(GateRefused):
    """A decision that could not be asked: the operator's terminal went away."""


class TerminalWatch:
    """See the module's docstring. ``gone`` is why the operator is gone, or None."""

    def __init__(self) -> None:
        self.gone: str | None = None
        self._waiting_for_key = False
        self._saved: list[tuple[str, Any]] = []
        self._previous_hup: Any = None

    # -- install / remove ------------------------------------------------------------------
    def install(self) -> None:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, _Guarded):
                self._saved.append((name, stream))
                setattr(sys, name, cast(IO[str], _Guarded(stream, name, self)))
        try:
            self._previous_hup = signal.signal(signal.SIGHUP, self._on_hangup)
        except ValueError:  # not the main thread (an embedding program): no signal to take
            self._previous_hup = None

    def remove(self) -> None:
        if self._previous_hup is not None:
            signal.signal(signal.SIGHUP, self._previous_hup)
            self._previous_hup = None
        for name, stream in reversed(self._saved):
            setattr(sys, name, stream)
        self._saved.clear()

    # -- what happened ---------------------------------------------------------------------
    def _on_hangup(self, signum: int, frame: Any) -> None:
        self.operator_gone("SIGHUP: the terminal hung up")
        for name, stream in self._saved:
            if _isatty(stream):  # a hung-up terminal answers every write with EIO
                self.silence(name, stream)
        if self._waiting_for_key:  # a read that the signal alone would not end
            self._waiting_for_key = False
            raise TerminalGone(self.gone or "the terminal hung up")

    def operator_gone(self, why: str) -> None:
        if self.gone is None:
            self.gone = why

    def write_failed(self, name: str, stream: Any) -> None:
        """``stream`` cannot be written any more: silence it, and when it was the one that
        shows the progress and the gates, the operator is gone."""
        self.silence(name, stream)
        if name == "stderr":
            self.operator_gone("broken pipe: its output was closed")

    @staticmethod
    def silence(name: str, stream: Any) -> None:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)

    @contextmanager
    def waiting_for_key(self) -> Iterator[None]:
        """Around a read of the operator's key: a SIGHUP meanwhile refuses the decision."""
        if self.gone is not None:
            raise TerminalGone(self.gone)
        # only the main thread receives signals: the handler may raise only into it
        self._waiting_for_key = threading.current_thread() is threading.main_thread()
        try:
            yield
        finally:
            self._waiting_for_key = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


class _Guarded:
    """A standard stream whose writes never fail because the reader went away."""

    def __init__(self, stream: Any, name: str, watch: TerminalWatch) -> None:
        self._stream = stream
        self._name = name
        self._watch = watch

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            self._watch.write_failed(self._name, self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            self._watch.write_failed(self._name, self._stream)
            try:  # what was buffered now goes to /dev/null
                self._stream.flush()
            except OSError:
                pass

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._stream, attr)
