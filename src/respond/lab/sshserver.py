"""Paramiko server plumbing shared by the lab's SSH hosts and its switches.

Both listen on loopback ports that close while the simulated machine is down and open again
on the same port when it comes back, negotiate SSH with their own host key and version
string, and keep a connection's transport alive until the client leaves, the machine goes
down or the lab stops. What a session then does (a restricted shell, a switch CLI) is theirs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable

import paramiko
from paramiko.common import OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED, OPEN_SUCCEEDED

NEGOTIATION_SECONDS = 15  # banner, key exchange and authentication, each


def bind_loopback(port: int | None, strict: bool, backlog: int) -> socket.socket:
    """A socket listening on 127.0.0.1: ``port`` when free, else any port unless ``strict``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port or 0))
    except OSError:
        if strict or not port:
            sock.close()
            raise
        sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


def start_transport(
    conn: socket.socket,
    *,
    local_version: str,
    host_key: paramiko.PKey,
    server: Callable[[paramiko.Transport], paramiko.ServerInterface],
    log: logging.Logger,
    name: str,
) -> paramiko.Transport | None:
    """Negotiate SSH on an accepted connection; None (and the connection closed) on failure."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(conn)
    transport.banner_timeout = NEGOTIATION_SECONDS
    transport.handshake_timeout = NEGOTIATION_SECONDS
    transport.auth_timeout = NEGOTIATION_SECONDS
    transport.local_version = local_version
    transport.add_server_key(host_key)
    try:
        transport.start_server(server=server(transport))
    except (paramiko.SSHException, EOFError, OSError) as exc:
        log.debug("%s: negotiation failed: %s", name, exc)
        transport.close()
        return None
    return transport


def serve_transport(
    transport: paramiko.Transport,
    transports: set[paramiko.Transport],
    lock: threading.Lock,
    keep_on: Callable[[], bool],
) -> None:
    """Accept the transport's channels while it is active and ``keep_on()`` holds, tracked in
    ``transports`` meanwhile (so going down can close it); the transport is closed after.

    The work starts in the channel requests; a dropped Channel closes itself when collected,
    so the open ones are kept referenced here."""
    with lock:
        transports.add(transport)
    try:
        channels: list[paramiko.Channel] = []
        while transport.is_active() and keep_on():
            channel = transport.accept(timeout=1.0)
            channels = [c for c in channels if not c.closed]
            if channel is not None:
                channels.append(channel)
    finally:
        with lock:
            transports.discard(transport)
        transport.close()


def close_transports(transports: Iterable[paramiko.Transport]) -> None:
    """End these connections, whatever state they are in."""
    for transport in transports:
        with contextlib.suppress(Exception):
            transport.close()


def as_text(value: bytes | str) -> str:
    """A protocol string (paramiko hands some over as bytes) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class SessionServer(paramiko.ServerInterface):
    """A server that opens ``session`` channels only (no port forwarding, no X11), and keeps
    each channel's pty request: ``pty[channel id]`` is (term, width, height)."""

    def __init__(self) -> None:
        self.pty: dict[int, tuple[str, int, int]] = {}

    def check_channel_pty_request(
        self,
        channel: paramiko.Channel,
        term: bytes,
        width: int,
        height: int,
        pw: int,
        ph: int,
        modes: bytes,
    ) -> bool:
        self.pty[channel.get_id()] = (as_text(term) or "xterm", max(width, 1), max(height, 1))
        return True

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
