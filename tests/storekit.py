"""Fixtures for the journal store: the same tests run against SQLite and a real PostgreSQL.

A test directory's conftest imports the fixtures it uses (``from storekit import store``);
the session's one PostgreSQL server (``pg_server``) is imported by tests/conftest.py.

The PostgreSQL server is a throwaway cluster started once per session: ``initdb`` into a
temporary directory (as the ``postgres`` system user when the tests run as root, since
PostgreSQL refuses to run as root), listening on 127.0.0.1 on a free port with its unix
socket in the same temporary directory. Each test gets its own database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from respond.config import load_config
from respond.timeline import Store, open_store


def _pg_bin() -> Path:
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "postgresql"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="respond-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else os.environ.get("USER", "postgres")
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o700)

    def _run(self, *argv: str, timeout: float = 120) -> None:
        cmd = list(argv)
        if self.as_root:
            runner = shutil.which("runuser")
            cmd = (
                [runner, "-u", "postgres", "--", *cmd]
                if runner
                else ["su", "postgres", "-c", " ".join(cmd)]
            )
        subprocess.run(
            cmd,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            cwd=self.root,
        )

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=on -c max_connections=100"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                timeout=60,
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def create_db(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_db(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_pg_server(attempts: int = 3) -> PgServer:
    """A running server in its own directory. The free port is picked before the server
    binds it, so another process (a second pytest-xdist worker starting its own server)
    may take it in between: then the next attempt picks another."""
    failure = ""
    for _attempt in range(attempts):
        server = PgServer()
        try:
            server.start()
            return server
        except subprocess.CalledProcessError as exc:
            log = server.root / "log"
            failure = f"{exc.stderr!r} {log.read_text() if log.exists() else ''}"
            shutil.rmtree(server.root, ignore_errors=True)
    raise RuntimeError(f"could not start PostgreSQL: {failure}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One server per test process (each pytest-xdist worker has its own)."""
    server = start_pg_server()
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "runbooks").mkdir(parents=True)
    (root / "respond.yaml").write_text("project: test\n", encoding="utf-8")
    return root


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param != "postgres":
        yield str(request.param)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_db()
    monkeypatch.setenv("RESPOND_DB", url)
    yield str(request.param)
    server.drop_db(url)


@pytest.fixture
def make_store(project: Path, backend: str) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []

    def factory(signing_key: str | None = None, **kwargs: Any) -> Store:
        text = "project: test\n" + (f"signing_key: {signing_key}\n" if signing_key else "")
        (project / "respond.yaml").write_text(text, encoding="utf-8")
        store = open_store(load_config(project), **kwargs)
        opened.append(store)
        return store

    yield factory
    for s in opened:
        s.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store()
