"""The local and http step kinds against real processes and a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from clikit import DEADLINE, PROMPTLY, wait_until
from sshdkit import free_port, make_step

from respond.executors import executor_class
from respond.executors.base import RunContext
from respond.executors.http import HttpExecutor
from respond.executors.local import LocalExecutor
from respond.kinds.http import HttpRequest
from respond.kinds.local import LocalCommand
from respond.results import StepStatus


@pytest.fixture
def ctx(tmp_path: Path) -> RunContext:
    return RunContext(run_id="t", project_root=tmp_path, playbooks_dir=tmp_path, home=tmp_path)


def local(ctx: RunContext, argv: list[str], timeout: float = DEADLINE) -> Any:
    return LocalExecutor(ctx).run(
        make_step(kind="local"), None, LocalCommand(argv=tuple(argv)), timeout
    )


def running(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def gone(pattern: str, limit: float = DEADLINE) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not running(pattern):
            return True
        time.sleep(0.05)
    return False


def unique(prefix: str) -> str:
    """A command-line marker no other process on this machine has."""
    return f"{prefix}{uuid.uuid4().int % 10**8:08d}"


# --------------------------------------------------------------------------- local


def test_registry_knows_local_and_http() -> None:
    assert executor_class("local") is LocalExecutor
    assert executor_class("http") is HttpExecutor


def test_local_runs_argv_and_records_exit_code(ctx: RunContext) -> None:
    res = local(
        ctx,
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)",
        ],
    )
    assert res.status is StepStatus.OK  # the engine judges the exit code
    assert res.host == "localhost"
    (cmd,) = res.commands
    assert (cmd.exit_code, cmd.stdout, cmd.stderr) == (4, "out\n", "err\n")
    assert res.rc == 4
    assert not res.not_started  # it ran
    assert cmd.command.startswith(sys.executable)


def test_local_argument_is_never_code(ctx: RunContext, tmp_path: Path) -> None:
    owned = tmp_path / "owned"
    evil = f"x; touch {owned}; $(touch {owned}) `touch {owned}`"
    res = local(ctx, ["echo", evil])
    assert res.commands[0].stdout == evil + "\n"
    assert not owned.exists()


def test_local_command_not_found(ctx: RunContext) -> None:
    res = local(ctx, ["no-such-program-respond"])
    assert res.status is StepStatus.FAILED
    assert res.error.startswith("command not found: 'no-such-program-respond'")
    assert res.not_started  # nothing ran: safe to retry


def test_local_chinese_output(ctx: RunContext) -> None:
    res = local(ctx, ["printf", "%s\\n", "停机公告：OA系统 故障"])
    assert res.output == "停机公告：OA系统 故障\n"


def test_local_timeout_kills_the_process_group(ctx: RunContext) -> None:
    marker = unique("sleep 305")
    t0 = time.monotonic()
    res = local(ctx, ["sh", "-c", f"echo started; {marker} & {marker}"], timeout=3.0)
    assert time.monotonic() - t0 < PROMPTLY  # the 3 s timeout, not the sleeps
    assert res.status is StepStatus.TIMED_OUT
    assert res.commands[0].exit_code is None
    assert res.commands[0].stdout == "started\n"
    assert gone(marker)


def test_local_cancel(ctx: RunContext) -> None:
    marker = unique("sleep 306")
    cancelled_at: list[float] = []

    def cancel_once_running() -> None:  # cancel when the command really runs
        try:
            wait_until(lambda: running(marker), f"{marker!r} to start")
        finally:
            cancelled_at.append(time.monotonic())
            ctx.cancel.set()

    canceller = threading.Thread(target=cancel_once_running, daemon=True)
    canceller.start()
    res = local(ctx, ["sh", "-c", marker], timeout=600)
    canceller.join()
    assert time.monotonic() - cancelled_at[0] < PROMPTLY
    assert res.status is StepStatus.CANCELLED
    assert gone(marker)


def test_local_output_is_capped(ctx: RunContext) -> None:
    res = local(ctx, [sys.executable, "-c", "import sys; sys.stdout.write('b' * 3_000_000)"])
    assert res.status is StepStatus.OK
    assert res.commands[0].exit_code == 0
    assert res.output.startswith("b" * (1 << 20)) and "output truncated" in res.output
    assert res.data["output_truncated_bytes"] == 3_000_000 - (1 << 20)


# --------------------------------------------------------------------------- http


RELEASE_SLOW = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=secret-cookie")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, json.dumps({"ok": True, "系统": "OA"}).encode(), "application/json")
        elif self.path == "/down":
            self._send(503, "短信平台 不可用".encode())
        elif self.path == "/gbk":
            self._send(200, "恢复公告".encode("gbk"), "text/plain; charset=gbk")
        elif self.path == "/slow":
            RELEASE_SLOW.wait(600)  # answers only when the tests are over
            self._send(200, b"late")
        elif self.path == "/big":
            self._send(200, b"c" * 3_000_000)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"nope")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        got = self.rfile.read(length)
        echo = {"method": "POST", "ctype": self.headers.get("Content-Type"), "body": got.decode()}
        self._send(201, json.dumps(echo).encode(), "application/json")


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    RELEASE_SLOW.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        RELEASE_SLOW.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def http(ctx: RunContext, url: str, timeout: float = DEADLINE, **fields: Any) -> Any:
    return HttpExecutor(ctx).run(
        make_step(kind="http"), None, HttpRequest(url=url, **fields), timeout
    )


def test_http_health_json(ctx: RunContext, web: str) -> None:
    t0 = time.monotonic()
    res = http(ctx, web + "/health")
    elapsed = time.monotonic() - t0
    assert res.status is StepStatus.OK
    assert res.data["http_status"] == 200
    assert res.data["json"] == {"ok": True, "系统": "OA"}
    assert 0 <= res.data["latency"] <= elapsed  # in seconds, and part of the call
    assert "secret-cookie" not in json.dumps(res.data, ensure_ascii=False)


def test_http_error_status_is_a_result(ctx: RunContext, web: str) -> None:
    res = http(ctx, web + "/down")
    assert res.status is StepStatus.OK  # expect.status decides, in the engine
    assert res.data["http_status"] == 503
    assert res.data["body"] == "短信平台 不可用"


def test_http_charset_and_redirect(ctx: RunContext, web: str) -> None:
    assert http(ctx, web + "/gbk").output == "恢复公告"
    moved = http(ctx, web + "/moved")
    assert moved.data["http_status"] == 200 and moved.data["url"].endswith("/health")


def test_http_post_json_body(ctx: RunContext, web: str) -> None:
    res = http(ctx, web + "/echo", method="POST", body={"notice": "停机"}, headers={"X-A": "1"})
    assert res.data["http_status"] == 201
    assert res.data["json"]["ctype"].startswith("application/json")
    assert json.loads(res.data["json"]["body"]) == {"notice": "停机"}


def test_http_timeout(ctx: RunContext, web: str) -> None:
    t0 = time.monotonic()
    res = http(ctx, web + "/slow", timeout=0.5)
    assert time.monotonic() - t0 < PROMPTLY  # /slow never answers while the test runs
    assert res.status is StepStatus.TIMED_OUT
    assert "no answer within 0.5s" in res.error


def test_http_connection_refused(ctx: RunContext) -> None:
    port = free_port()
    res = http(ctx, f"http://127.0.0.1:{port}/health")
    assert res.status is StepStatus.FAILED
    assert res.error == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert res.not_started


def test_http_refuses_other_schemes(ctx: RunContext) -> None:
    res = http(ctx, "file:///etc/passwd")
    assert res.status is StepStatus.FAILED
    assert "not an http(s) URL" in res.error
    assert "root:" not in res.output


def test_http_body_is_capped(ctx: RunContext, web: str) -> None:
    res = http(ctx, web + "/big")
    assert res.data["http_status"] == 200
    assert res.data["output_truncated_bytes"] == 3_000_000 - (1 << 20)
    assert "output truncated" in res.data["body"]


# ------------------------------------------------ http: credentials, whole-request deadline


class _Recorder(BaseHTTPRequestHandler):
    """Records the headers of every request; ``/to?url=U`` redirects to U."""

    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.startswith("/to?url="):
            self.send_response(302)
            self.send_header("Location", self.path[len("/to?url=") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def two_origins() -> Iterator[tuple[str, str]]:
    """Two servers on loopback: two origins (the ports differ), one recorder."""
    _Recorder.seen = []
    first, a = _serve(_Recorder)
    second, b = _serve(_Recorder)
    try:
        yield a, b
    finally:
        for server in (first, second):
            server.shutdown()
            server.server_close()


CREDENTIALS = {
    "Authorization": "Bearer sms-gateway-token",
    "Cookie": "session=oa-admin",
    "Proxy-Authorization": "Basic cHJveHk6cGFzcw==",
}


def test_http_redirect_to_another_origin_drops_credentials(
    ctx: RunContext, two_origins: tuple[str, str]
) -> None:
    a, b = two_origins
    res = http(ctx, f"{a}/to?url={b}/landing", headers=dict(CREDENTIALS, **{"X-Trace": "1"}))
    assert res.status is StepStatus.OK and res.data["url"] == f"{b}/landing"
    first, second = _Recorder.seen
    assert first["authorization"] == "Bearer sms-gateway-token"  # the origin the step named
    assert first["cookie"] == "session=oa-admin"
    for header in ("authorization", "cookie", "proxy-authorization"):
        assert header not in second, second
    assert second["x-trace"] == "1"  # other headers still follow the redirect


def test_http_redirect_within_the_origin_keeps_credentials(
    ctx: RunContext, two_origins: tuple[str, str]
) -> None:
    a, _ = two_origins
    res = http(ctx, f"{a}/to?url={a}/landing", headers=CREDENTIALS)
    assert res.status is StepStatus.OK
    assert _Recorder.seen[1]["authorization"] == "Bearer sms-gateway-token"


@pytest.fixture
def trickler() -> Iterator[Callable[[bytes, bytes], str]]:
    """``trickler(head, rest)``: a server that sends ``head`` at once, then ``rest`` one byte
    every 0.1 s (for up to 45 s: far past any timeout below), like a wedged OA backend."""
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def serve(listener: socket.socket, head: bytes, rest: bytes) -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(head)
                for i in range(len(rest)):
                    if stop.wait(0.1):
                        return
                    conn.sendall(rest[i : i + 1])
            except OSError:  # the client gave up: what the test wants
                return

    def start(head: bytes, rest: bytes) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        threading.Thread(target=serve, args=(listener, head, rest), daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/status"

    yield start
    stop.set()
    for listener in listeners:
        listener.close()


def test_http_timeout_bounds_a_server_trickling_its_headers(
    ctx: RunContext, trickler: Callable[[bytes, bytes], str]
) -> None:
    url = trickler(
        b"HTTP/1.1 200 OK\r\n", b"X-Pad: " + b"x" * 440 + b"\r\nContent-Length: 0\r\n\r\n"
    )
    t0 = time.monotonic()
    res = http(ctx, url, timeout=1.0)
    assert time.monotonic() - t0 < PROMPTLY  # the trickle alone lasts 45 s
    assert res.status is StepStatus.TIMED_OUT, res
    assert res.error == f"GET {url}: no answer within 1s"


def test_http_timeout_bounds_a_server_trickling_its_body(
    ctx: RunContext, trickler: Callable[[bytes, bytes], str]
) -> None:
    url = trickler(b"HTTP/1.1 200 OK\r\nContent-Length: 450\r\n\r\n", b"y" * 450)
    t0 = time.monotonic()
    res = http(ctx, url, timeout=1.0)
    assert time.monotonic() - t0 < PROMPTLY
    assert res.status is StepStatus.TIMED_OUT, res
    assert res.error == f"GET {url}: the body did not arrive within 1s"


def test_http_timeout_includes_resolving_the_name(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resolver that does not answer (a dead DNS server: glibc retries for many seconds)
    is simulated by a getaddrinfo that blocks; no real DNS is asked."""
    released = threading.Event()
    real = socket.getaddrinfo

    def stuck(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "oa.example.invalid":
            released.wait(PROMPTLY + 15)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        t0 = time.monotonic()
        res = http(ctx, "http://oa.example.invalid/health", timeout=1.0)
        assert time.monotonic() - t0 < PROMPTLY
    finally:
        released.set()
    assert res.status is StepStatus.TIMED_OUT, res
    assert res.error == (
        "GET http://oa.example.invalid/health: resolving 'oa.example.invalid' took longer than 1s"
    )
