"""The switch CLI engine: echo, line editing, line ends, Ctrl-C, hidden input, paging and the
command log, driven byte by byte over a stand-in channel with the real IOS dialect and a real
Device on a lab state file."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from respond.lab import topology
from respond.lab.netdev.device import Device
from respond.lab.netdev.ios import IOS
from respond.lab.netdev.session import Engine, Session
from respond.lab.state import StateFile, new_state

PASSWORD = "s3cret-enable"


class FakeChannel:
    """Bytes in through a queue (b"" = the client left), everything sent kept."""

    def __init__(self) -> None:
        self.incoming: queue.Queue[bytes] = queue.Queue()
        self.sent = b""
        self.closed = False

    def recv(self, nbytes: int) -> bytes:
        return self.incoming.get(timeout=10)

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        self.closed = True


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def append(self, host: str, command: str) -> None:
        self.lines.append((host, command))


@pytest.fixture
def device(tmp_path: Path) -> Device:
    topo = topology.build(3)
    state_file = StateFile(tmp_path / "state.json")
    state_file.replace(new_state(topo.noncritical))
    return Device("acc-sw2", topo, state_file, PASSWORD)


def _drive(device: Device, *chunks: bytes, height: int = 24) -> tuple[str, Session, Log]:
    """Feed the chunks one recv() at a time, then leave; (everything sent, session, log)."""
    channel, log = FakeChannel(), Log()
    session = Session(device, height=height)
    for chunk in (*chunks, b""):
        channel.incoming.put(chunk)
    Engine(channel, session, IOS(), log).run()
    assert channel.closed
    return channel.sent.decode(), session, log


def test_echo_line_ends_and_backspace(device: Device) -> None:
    # "\r\n" (even split across reads), "\r" and "\n" each end one line; a typo fixed with
    # backspace (DEL and ^H); an empty line gets a new prompt and no log entry
    sent, _, log = _drive(device, b"show clokk\x7f\x08ck\r\n", b"terminal length 0\r", b"\n", b"\n")
    assert sent.startswith("acc-sw2#show clokk\b \b\b \bck\r\n*")
    assert "\r\nacc-sw2#terminal length 0\r\nacc-sw2#" in sent
    assert sent.count("acc-sw2#") == 4  # login, after each of the three lines
    assert sent.endswith("acc-sw2#\r\nacc-sw2#")
    assert "\n" not in sent.replace("\r\n", "")  # every line end is \r\n
    assert log.lines == [("acc-sw2", "show clock"), ("acc-sw2", "terminal length 0")]


def test_ctrl_c_drops_the_line_and_quit_closes(device: Device) -> None:
    sent, session, log = _drive(device, b"configure termi\x03", b"exit\n", b"show clock\n")
    assert "configure termi^C\r\nacc-sw2#exit\r\n" in sent
    assert session.closed and "show clock" not in sent  # nothing after exit is read
    assert log.lines == [("acc-sw2", "exit")]


def test_enable_password_is_neither_echoed_nor_logged(device: Device) -> None:
    sent, session, log = _drive(
        device, b"disable\n", b"enable\n", b"wrong\n", PASSWORD.encode() + b"\n", b"show clock\n"
    )
    assert "acc-sw2>enable\r\nPassword: \r\nPassword: \r\nacc-sw2#show clock" in sent
    assert PASSWORD not in sent and "wrong" not in sent
    assert [c for _, c in log.lines] == ["disable", "enable", "show clock"]
    assert session.mode == "enable"


def test_long_output_pages_with_the_more_prompt(device: Device) -> None:
    # 26 ports + header lines: 3 pages at height 10; space = a page, Enter = a line, q stops
    sent, _, _ = _drive(device, b"show interfaces status\n", b" ", b"\r", b"q", height=10)
    assert sent.count(" --More-- ") == 3
    first_page = sent.split(" --More-- ")[0]
    assert first_page.count("\r\n") == 1 + 9  # the command's line end, then height - 1 lines
    after_enter = sent.split(" --More-- ")[2]
    assert after_enter.strip("\r ").count("\r\n") == 1  # Enter showed one more line
    assert sent.endswith("acc-sw2#")
    assert "Gi0/2" not in sent  # q stopped before the last port


def test_paging_off_and_window_change(device: Device) -> None:
    sent, session, _ = _drive(device, b"terminal length 0\n", b"show interfaces status\n")
    assert " --More-- " not in sent and "Gi0/2" in sent
    assert not session.paging
    channel, plain = FakeChannel(), Session(device, height=5)
    engine = Engine(channel, plain, IOS())
    engine.resize(132, 60)  # what the server does on a window-change request
    assert (plain.width, plain.height) == (132, 60)
    for chunk in (b"show interfaces status\n", b""):
        channel.incoming.put(chunk)
    engine.run()
    assert " --More-- " not in channel.sent.decode()


def test_a_failing_command_is_an_error_line_not_a_dead_session(device: Device) -> None:
    class Broken(IOS):
        def handle(self, s: Session, line: str) -> str:
            if line == "boom":
                raise RuntimeError("a dialect bug")
            return super().handle(s, line)

    channel = FakeChannel()
    for chunk in (b"boom\n", b"show clock\n", b""):
        channel.incoming.put(chunk)
    Engine(channel, Session(device), Broken()).run()
    sent = channel.sent.decode()
    assert "boom\r\n% Error: the lab switch could not run this command" in sent
    assert "acc-sw2#show clock\r\n*" in sent
