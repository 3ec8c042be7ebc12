"""The lab's web services: the OA application, the SMS platform and a notification sink.

* OA: ``GET /health`` (200 ``{"status": "ok"}`` or 503 with the reason), ``POST /api/announce``
  (``{"title", "message", "departments"?}``, recorded as a message on channel ``oa``).
* SMS: ``GET /health``, ``POST /api/send`` (``{"to", "message"}``; ``to`` a number, a group name or
  a list; recorded on channel ``sms``; 503 while the SMS platform is down).
* Sink: ``POST /notify/<channel>`` takes apprise's ``json://`` payload (``{"version", "title",
  "message", "type"}``), any other JSON object, or plain text, and records it on ``<channel>``.

OA also answers over HTTPS on its own port (``oa_https_url``) with a lab-made certificate for
``oa1``/``127.0.0.1`` (:mod:`respond.lab.certs`; the ``cert-expiring`` fault swaps it).

Health follows the lab state: a service is down when its fault is injected, its host is off
or cut off, or its systemd unit is stopped or failed (OA also needs the database on db1).
Everything recorded is listed by ``respond lab messages``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from respond.lab import model
from respond.lab.certs import Certificates
from respond.lab.state import StateFile, add_message
from respond.lab.topology import Topology

log = logging.getLogger("respond.lab.web")

MAX_BODY = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], kind: str, state_file: StateFile, topo: Topology
    ) -> None:
        self.kind = kind
        self.state_file = state_file
        self.topo = topo
        super().__init__(address, _Handler)


class _TlsServer(_Server):
    """OA over HTTPS: each connection gets the certificate the lab state calls for now, and
    none at all while oa1 is off or cut off (the connection is closed before the handshake)."""

    HANDSHAKE_TIMEOUT = 10.0

    def __init__(
        self,
        address: tuple[str, int],
        kind: str,
        state_file: StateFile,
        topo: Topology,
        certificates: Certificates,
    ) -> None:
        self.certificates = certificates
        super().__init__(address, kind, state_file, topo)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        state, now = self.state_file.snapshot(), time.time()
        if not model.host_reachable(state, self.topo, "oa1", now):
            sock.close()
            raise OSError("oa1 is down")  # serve_forever drops the connection
        context = self.certificates.context(state, now)
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(self.HANDSHAKE_TIMEOUT)
        try:
            request.do_handshake()
        except (OSError, ValueError) as exc:  # a client that gave up or did not trust us
            log.info("oa-https handshake with %s failed: %s", client_address, exc)
            return
        request.settimeout(None)
        super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "lab-web/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.server.kind, format % args)

    # -------------------------------------------------------------- plumbing

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("request body too large")
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json" or raw[:1] in (b"{", b"["):
            try:
                return raw, json.loads(raw.decode("utf-8") or "null")
            except (UnicodeDecodeError, json.JSONDecodeError):
                if ctype == "application/json":
                    raise ValueError("invalid JSON body") from None
        if ctype == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qs

            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            return raw, form
        return raw, raw.decode("utf-8", "replace")

    def _health(self) -> tuple[bool, str]:
        state = self.server.state_file.read()
        now = time.time()
        if self.server.kind == "oa":
            return model.oa_health(state, self.server.topo, now)
        if self.server.kind == "sms":
            return model.sms_health(state, self.server.topo, now)
        return (True, "")

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        with self.server.state_file.update() as state:
            return add_message(state, message, time.time())

    # -------------------------------------------------------------- verbs

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path in ("/health", "/healthz", "/api/health"):
            ok, reason = self._health()
            body: dict[str, Any] = {"status": "ok" if ok else "down", "service": self.server.kind}
            if not ok:
                body["reason"] = reason
            self._send(200 if ok else 503, body)
            return
        if path == "/":
            self._send(
                200, {"service": self.server.kind, "endpoints": _ENDPOINTS[self.server.kind]}
            )
            return
        self._send(404, {"error": f"no such endpoint: {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            _raw, payload = self._body()
        except ValueError as exc:
            self._send(400, {"error": str(exc)})
            return
        kind = self.server.kind
        if kind == "sink" and path.startswith("/notify"):
            channel = path[len("/notify") :].strip("/") or "default"
            self._sink(channel, payload)
            return
        if kind == "oa" and path == "/api/announce":
            self._announce(payload)
            return
        if kind == "sms" and path in ("/api/send", "/api/sms"):
            self._sms(payload)
            return
        self._send(404, {"error": f"no such endpoint: POST {path}"})

    def _announce(self, payload: Any) -> None:
        ok, reason = self._health()
        if not ok:
            self._send(503, {"status": "down", "error": f"OA is unavailable: {reason}"})
            return
        if not isinstance(payload, dict) or not (payload.get("message") or payload.get("body")):
            self._send(400, {"error": 'expected JSON {"title": ..., "message": ...}'})
            return
        record = self._record(
            {
                "channel": "oa",
                "via": "oa",
                "to": _to_text(
                    payload.get("departments") or payload.get("to") or "all departments"
                ),
                "title": str(payload.get("title") or ""),
                "message": str(payload.get("message") or payload.get("body")),
                "type": str(payload.get("type") or "announcement"),
            }
        )
        self._send(201, {"status": "published", "id": record["id"]})

    def _sms(self, payload: Any) -> None:
        ok, reason = self._health()
        if not ok:
            self._send(503, {"status": "down", "error": f"SMS platform is unavailable: {reason}"})
            return
        if not isinstance(payload, dict) or not (payload.get("message") or payload.get("body")):
            self._send(400, {"error": 'expected JSON {"to": ..., "message": ...}'})
            return
        record = self._record(
            {
                "channel": "sms",
                "via": "sms",
                "to": _to_text(payload.get("to") or "all-staff"),
                "title": str(payload.get("title") or ""),
                "message": str(payload.get("message") or payload.get("body")),
                "type": str(payload.get("type") or "sms"),
            }
        )
        self._send(200, {"status": "queued", "id": record["id"]})

    def _sink(self, channel: str, payload: Any) -> None:
        if isinstance(payload, dict):
            message = {
                "channel": channel,
                "via": "sink",
                "to": _to_text(payload.get("to") or ""),
                "title": str(payload.get("title") or payload.get("subject") or ""),
                "message": str(
                    payload.get("message") or payload.get("body") or payload.get("text") or ""
                ),
                "type": str(payload.get("type") or ""),
            }
            if not message["message"]:
                message["message"] = json.dumps(payload, ensure_ascii=False)
        else:
            text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            message = {
                "channel": channel,
                "via": "sink",
                "to": "",
                "title": "",
                "message": text,
                "type": "",
            }
        record = self._record(message)
        self._send(200, {"status": "ok", "id": record["id"]})


_ENDPOINTS = {
    "oa": ["GET /health", "POST /api/announce"],
    "sms": ["GET /health", "POST /api/send"],
    "sink": ["GET /health", "POST /notify/<channel>"],
}


def _to_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class WebServices:
    def __init__(self, state_file: StateFile, topo: Topology) -> None:
        self.state_file = state_file
        self.topo = topo
        self.servers: dict[str, _Server] = {}
        self.threads: list[threading.Thread] = []

    def add(self, kind: str, preferred: int | None, strict: bool) -> int:
        try:
            server = _Server(("127.0.0.1", preferred or 0), kind, self.state_file, self.topo)
        except OSError:
            if strict or not preferred:
                raise
            server = _Server(("127.0.0.1", 0), kind, self.state_file, self.topo)
        self.servers[kind] = server
        return server.server_address[1]

    def add_https(self, kind: str, preferred: int | None, strict: bool, certs_dir: Path) -> int:
        """``kind`` (oa) over HTTPS on its own port, with the lab's certificates."""
        certificates = Certificates(certs_dir)
        try:
            server: _Server = _TlsServer(
                ("127.0.0.1", preferred or 0), kind, self.state_file, self.topo, certificates
            )
        except OSError:
            if strict or not preferred:
                raise
            server = _TlsServer(("127.0.0.1", 0), kind, self.state_file, self.topo, certificates)
        self.servers[f"{kind}-https"] = server
        return server.server_address[1]

    def start(self) -> None:
        for kind, server in self.servers.items():
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"lab-web-{kind}",
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
