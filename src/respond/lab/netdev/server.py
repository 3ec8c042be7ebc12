"""One lab switch's SSH server: paramiko, password authentication, a CLI shell on a pty.

Each switch listens on its own loopback port with its own RSA host key. A ``shell`` request
runs an :class:`~respond.lab.netdev.session.Engine` with the switch's dialect in a thread; an
``exec`` request is refused (network devices are driven through their CLI). When the lab
state says the switch is down, :meth:`SwitchServer.set_available` closes the listening socket
(connections are refused) and ends the open sessions; when it comes back, the same port
listens again.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import select
import socket
import threading
from typing import TYPE_CHECKING

import paramiko
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL

from respond.lab.netdev import load_dialect
from respond.lab.netdev.session import Engine, LineLog, Session
from respond.lab.sshserver import (
    SessionServer,
    bind_loopback,
    close_transports,
    serve_transport,
    start_transport,
)

if TYPE_CHECKING:
    from respond.lab.netdev.device import DeviceLike
    from respond.lab.netdev.session import Dialect

log = logging.getLogger("respond.lab.netdev")

ACCEPT_POLL = 0.1  # seconds between checks of the wanted up/down state
BACKLOG = 16
SSH_VERSION = {
    "ios": "SSH-2.0-Cisco-1.25",
    "vrp": "SSH-2.0--",
    "comware": "SSH-2.0-Comware-7.1.070",
}


def dialect_for(name: str) -> Dialect:
    """The dialect a switch speaks (ios, vrp, comware)."""
    return load_dialect(name)


class SwitchServer:
    """The SSH endpoint of one switch: an accept thread, and a thread per connection."""

    def __init__(
        self,
        device: DeviceLike,
        host_key: paramiko.PKey,
        user: str,
        password: str,
        commands: LineLog | None = None,
    ) -> None:
        self.device = device
        self.name = device.name
        self.host_key = host_key
        self.user = user
        self.password = password
        self.commands = commands
        self.port = 0
        self._listener: socket.socket | None = None
        self._wanted_up = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._transports: set[paramiko.Transport] = set()
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    def listen(self, preferred: int | None = None, strict: bool = False) -> int:
        """Bind 127.0.0.1 (``preferred`` when free, else any port unless ``strict``)."""
        self._listener = bind_loopback(preferred, strict, BACKLOG)
        self.port = self._listener.getsockname()[1]
        return self.port

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"lab-switch-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_listener()
        self._drop_sessions()

    def set_available(self, up: bool) -> None:
        """Open or close the switch (called by the lab's monitor on every tick). Going down
        ends the open sessions at once; the accept thread closes or reopens the port."""
        with self._lock:
            changed = self._wanted_up != up
            self._wanted_up = up
        if changed and not up:
            self._drop_sessions()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    # -------------------------------------------------------------- accept

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                wanted = self._wanted_up
            if not wanted and self._listener is not None:
                self._close_listener()
                log.info("%s: down, port %d closed", self.name, self.port)
            elif wanted and self._listener is None:
                self._reopen()
            listener = self._listener
            if listener is None:
                self._stop.wait(ACCEPT_POLL)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], ACCEPT_POLL)
            except (OSError, ValueError):
                continue
            if ready:
                self._accept(listener)

    def _reopen(self) -> None:
        try:
            self._listener = bind_loopback(self.port, True, BACKLOG)
            log.info("%s: back up, listening on port %d", self.name, self.port)
        except OSError as exc:
            log.warning("%s: cannot listen on port %d again yet: %s", self.name, self.port, exc)

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, _addr = listener.accept()
        except OSError:
            return
        threading.Thread(
            target=self._serve, args=(conn,), name=f"lab-switch-{self.name}-conn", daemon=True
        ).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()

    def _drop_sessions(self) -> None:
        with self._lock:
            transports = list(self._transports)
        close_transports(transports)

    # -------------------------------------------------------------- one connection

    def _serve(self, conn: socket.socket) -> None:
        transport = start_transport(
            conn,
            local_version=SSH_VERSION.get(self.device.dialect, "SSH-2.0--"),
            host_key=self.host_key,
            server=lambda transport: _Server(self, transport),
            log=log,
            name=self.name,
        )
        if transport is not None:
            # a connection still negotiating when the switch went down ends too (within 1 s)
            serve_transport(
                transport,
                self._transports,
                self._lock,
                lambda: self._wanted_up and not self._stop.is_set(),
            )

    def new_engine(self, channel: paramiko.Channel, width: int, height: int) -> Engine:
        session = Session(self.device, width=width, height=height)
        return Engine(channel, session, dialect_for(self.device.dialect), self.commands)


class _Server(SessionServer):
    def __init__(self, switch: SwitchServer, transport: paramiko.Transport) -> None:
        super().__init__()
        self.switch = switch
        self.transport = transport
        self.engines: dict[int, Engine] = {}

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        user_ok = hmac.compare_digest(username.encode(), self.switch.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self.switch.password.encode())
        return AUTH_SUCCESSFUL if user_ok and password_ok else AUTH_FAILED

    def check_channel_window_change_request(
        self, channel: paramiko.Channel, width: int, height: int, pw: int, ph: int
    ) -> bool:
        term = self.pty.get(channel.get_id(), ("xterm", 80, 24))[0]
        self.pty[channel.get_id()] = (term, max(width, 1), max(height, 1))
        engine = self.engines.get(channel.get_id())
        if engine is not None:
            engine.resize(width, height)
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        _, width, height = self.pty.get(channel.get_id(), ("xterm", 80, 24))
        engine = self.switch.new_engine(channel, width, height)
        self.engines[channel.get_id()] = engine
        threading.Thread(
            target=engine.run, name=f"lab-switch-{self.switch.name}-cli", daemon=True
        ).start()
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return False
