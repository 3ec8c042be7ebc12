"""How the respond process leaves: without the interpreter's teardown, but with everything
of a normal exit that matters (status, atexit handlers, flushed output, waited-for
threads, a checkpointed journal)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_leave_keeps_the_status_runs_atexit_and_flushes() -> None:
    proc = _python(
        """
        import atexit, sys
        from respond.cli import _leave
        atexit.register(lambda: print("atexit ran"))
        sys.stdout.write("buffered ")
        _leave(SystemExit(3))
        print("not reached")
        """
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "buffered atexit ran\n"


def test_leave_waits_for_threads_that_are_not_daemons() -> None:
    proc = _python(
        """
        import threading, time
        from respond.cli import _leave
        def work():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=work).start()
        _leave(SystemExit(4))
        """
    )
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == "thread finished\n"


def test_the_journal_is_checkpointed_on_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "respond.yaml").write_text("project: exit-test\n", encoding="utf-8")
    home = tmp_path / "home"
    env = {**os.environ, "RESPOND_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "respond", "timeline", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (home / "respond.db").is_file()
    assert not (home / "respond.db-wal").exists()
    assert not (home / "respond.db-shm").exists()
