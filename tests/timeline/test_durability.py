"""Crash safety and unusable homes: ``kill -9`` at random moments loses nothing committed,
and a read-only or full RESPOND_HOME is a clear error before anything runs."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import CLI_TIMEOUT, Cli
from timeline_helpers import sample_meta

from respond.config import load_config
from respond.errors import TimelineError
from respond.events import EventDraft, EventKind
from respond.timeline import Store, new_run_id, open_store

SRC = str(Path(__file__).resolve().parents[2] / "src")

APPENDER = """
import sys
from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.timeline import open_store
store = open_store(load_config({project!r}))
rec = store.recorder({rid!r})
with store.lock({rid!r}, "crashy@host"):
    b = 0
    while True:
        b += 1
        n = 1 if b % 2 else 25  # single-event transactions and batches
        evs = rec.record([EventDraft(kind=EventKind.HOST_RESULT, host="h",
                                     data={{"batch": {tag!r} + str(b), "i": i, "n": n}})
                          for i in range(n)])
        sys.stdout.write(f"{{evs[-1].seq}}\\n")
        sys.stdout.flush()
"""


@pytest.mark.timeout(600)  # 50 child processes; slower on a busy machine, never different
def test_kill_9_at_random_moments_loses_nothing_committed(
    store: Store, project: Path, backend: str
) -> None:
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    store.recorder(rid).record([EventDraft(kind=EventKind.RUN_STARTED, data={})])
    env = {**os.environ, "PYTHONPATH": SRC}
    rng = random.Random(20261123)
    iterations = 0
    acknowledged = 0
    while iterations < 50:
        code = textwrap.dedent(APPENDER.format(project=str(project), rid=rid, tag=f"{iterations}."))
        child = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # it is appending now
        assert first, child.stderr.read() if child.stderr else b""
        time.sleep(rng.uniform(0.0, 0.08))
        child.kill()
        out, _ = child.communicate()
        acked = [int(x) for x in (first + out).split()]
        acknowledged = max([acknowledged, *acked])
        iterations += 1

    events = store.events(rid)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert seqs[-1] >= acknowledged  # every event reported committed is there
    batches: dict[str, list[int]] = {}
    for e in events:
        if e.kind == "host-result":
            batches.setdefault(e.data["batch"], []).append(e.data["i"])
    for name, idx in batches.items():  # a batch is all there or not at all
        n = 1 if idx == [0] else 25
        assert idx == list(range(n)), name
    assert sum(e.kind == "lock-taken" for e in events) >= iterations - 1
    res = store.verify(rid)
    assert res.ok, str(res)


# ----------------------------------------------------------------------------- disk


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/respond-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    ok = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True
        ).returncode
        == 0
    )
    if ok:
        subprocess.run(["umount", str(probe)], check=False)
    probe.rmdir()
    return ok


CAN_MOUNT = _can_mount() and not os.environ.get("RESPOND_TEST_NO_MOUNT")


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs (or, where mounting is not allowed, a plain directory)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if CAN_MOUNT:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k,mode=0777", "tmpfs", str(mnt)], check=True
        )
    yield mnt
    if CAN_MOUNT:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


OPEN_AND_REPORT = """
import sys
from respond.config import load_config
from respond.errors import TimelineError
from respond.timeline import open_store
try:
    open_store(load_config({project!r}))
except TimelineError as exc:
    print(exc)
    sys.exit(3)
print("opened")
"""


def _open_elsewhere(
    project: Path, home: Path, *, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Open a store in a child process (optionally with a file-size limit)."""
    import resource
    import signal

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    argv = [sys.executable, "-c", OPEN_AND_REPORT.format(project=str(project))]
    env = {**os.environ, "PYTHONPATH": SRC, "RESPOND_HOME": str(home)}
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, preexec_fn=limit, timeout=CLI_TIMEOUT
    )


def test_read_only_home_is_a_clear_error_before_anything(
    tiny_fs: Path, project: Path, monkeypatch: pytest.MonkeyPatch, respond: Cli
) -> None:
    home = tiny_fs / "home"
    home.mkdir()
    if CAN_MOUNT:
        subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
        monkeypatch.setenv("RESPOND_HOME", str(home))
        with pytest.raises(TimelineError) as err:
            open_store(load_config(project))
        assert str(err.value) == f"cannot write the run record in {home}: Read-only file system"
        # and through the CLI: one clean line, no traceback
        proc = respond("--project", str(project), "note", "x", "text")
        assert proc.rc == 1, proc
        assert "Read-only file system" in proc.stderr and "Traceback" not in proc.stderr
    elif os.geteuid() != 0:  # no mount permission: a directory this user cannot write
        os.chmod(home, 0o555)
        proc = _open_elsewhere(project, home / "records")
        assert proc.returncode == 3, proc.stderr
        assert (
            f"cannot write the run record in {home / 'records'}: Permission denied" in proc.stdout
        )
    else:  # root without mount permission can write anywhere: a home that cannot be a directory
        blocker = home / "file"
        blocker.write_text("x")
        proc = _open_elsewhere(project, blocker / "records")
        assert proc.returncode == 3, proc.stderr
        assert (
            f"cannot write the run record in {blocker / 'records'}: Not a directory" in proc.stdout
        )


def test_full_disk_is_a_clear_error_before_anything(
    tiny_fs: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tiny_fs / "home"
    if CAN_MOUNT:
        fd = os.open(tiny_fs / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        monkeypatch.setenv("RESPOND_HOME", str(home))
        with pytest.raises(TimelineError) as err:
            open_store(load_config(project))
        assert str(err.value).startswith("cannot write the run record in ")
        assert "No space left on device" in str(err.value)
    else:
        proc = _open_elsewhere(project, home, fsize=16 * 1024)
        assert proc.returncode == 3, proc.stderr
        assert "cannot write the run record in" in proc.stdout
        assert "File too large" in proc.stdout


def test_disk_filling_during_a_run_is_a_timeline_error(
    tiny_fs: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Never skipped: the test command runs as root (scripts/test.sh), which can mount tmpfs.
    assert CAN_MOUNT, "this test needs to mount a small tmpfs: run the suite as root"
    monkeypatch.setenv("RESPOND_HOME", str(tiny_fs / "home"))
    store = open_store(load_config(project))
    rid = new_run_id()
    store.create_run(rid, sample_meta())
    rec = store.recorder(rid)
    with pytest.raises(TimelineError, match="cannot write the run record"):
        for i in range(10_000):
            rec.record([EventDraft(kind=EventKind.NOTE, data={"text": "x" * 2000, "i": i})])
    committed = store.events(rid)
    assert store.verify(rid).ok
    assert [e.seq for e in committed] == list(range(1, len(committed) + 1))
    store.close()
