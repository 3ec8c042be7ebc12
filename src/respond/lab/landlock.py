"""Landlock (Linux >= 5.13): confine a lab host's commands to the host's own directory tree.

Defence in depth under the lab's command allowlist (:mod:`respond.lab.safecmd`): the process
tree of every command a lab host runs (and of Ansible's Python on that host) may

- write, create, remove and rename only beneath the host's directory (plus ``/dev/null`` and
  the terminal devices, and the files directly in the lab's directory: the simulated tools
  rewrite its state file there);
- read only beneath the host's directory, the system directories programs need (``/usr``,
  ``/etc``, ``/lib*``, ``/bin``, ``/sbin``, ``/dev``, ``/proc``, ``/sys``), the Python
  installation the lab runs on, the lab's own code and tool wrappers, and files in the lab's
  directory (the state file);
- execute only programs beneath the system directories, the Python installation and the
  lab's tool wrappers;
- open no TCP connection and bind no TCP port (kernel ABI 4+), and signal no process outside
  its own tree (ABI 6+).

Unix-domain sockets reached by path, UDP and reads of world-readable files under ``/etc`` are
not covered. The ruleset is built once per host in the daemon; a forked child only calls
``prctl(PR_SET_NO_NEW_PRIVS)`` and ``landlock_restrict_self`` (two system calls) before exec.
Without Landlock (older kernels, other systems) :func:`ruleset_for` returns ``None`` and the
allowlist alone holds.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE  # the only rights a file rule takes
READ = READ_FILE | READ_DIR
READ_EXEC = READ | EXECUTE
ALL_WRITE = (
    WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_CHAR
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_BLOCK
    | MAKE_SYM
    | REFER
    | TRUNCATE
)
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

SYSTEM_READ_EXEC = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
SYSTEM_READ = ("/etc", "/dev", "/proc", "/sys", "/run/systemd/resolve")
DEVICES_WRITE = ("/dev/null", "/dev/tty", "/dev/pts", "/dev/ptmx", "/dev/zero", "/dev/full")


def _libc() -> ctypes.CDLL | None:
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64", "amd64"):
        return None  # the syscall numbers above are the same on both (asm-generic)
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is unavailable."""
    libc = _libc()
    if libc is None:
        return 0
    version = libc.syscall(
        _SYS_CREATE_RULESET, ctypes.c_void_p(None), ctypes.c_size_t(0), _CREATE_RULESET_VERSION
    )
    return max(int(version), 0)


@dataclass(frozen=True)
class Rule:
    path: str
    access: int


def _handled_fs(abi: int) -> int:
    handled = EXECUTE | READ | ALL_WRITE
    if abi < 2:
        handled &= ~REFER
    if abi < 3:
        handled &= ~TRUNCATE
    return handled


class Ruleset:
    """A ruleset file descriptor built once; :meth:`preexec` applies it in a forked child."""

    def __init__(self, fd: int, libc: ctypes.CDLL) -> None:
        self.fd = fd
        self._prctl = libc.prctl
        self._syscall = libc.syscall

    def preexec(self) -> None:
        """Runs in the child between fork and exec: no allocation, two system calls."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            os._exit(126)
        if self._syscall(_SYS_RESTRICT_SELF, self.fd, 0) != 0:
            os._exit(126)  # never run a command unconfined when confinement was promised

    def close(self) -> None:
        os.close(self.fd)


def build(rules: Iterable[Rule]) -> Ruleset | None:
    """A ruleset allowing exactly ``rules`` (paths that do not exist are skipped)."""
    abi = abi_version()
    libc = _libc()
    if abi < 1 or libc is None:
        return None
    handled = _handled_fs(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("=QQQ", handled, net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    buf = ctypes.create_string_buffer(attr[:size], size)
    fd = libc.syscall(_SYS_CREATE_RULESET, buf, ctypes.c_size_t(size), 0)
    if fd < 0:
        return None
    for rule in rules:
        _add(libc, fd, rule, handled)
    return Ruleset(fd, libc)


def _add(libc: ctypes.CDLL, ruleset_fd: int, rule: Rule, handled: int) -> None:
    try:
        path_fd = os.open(rule.path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        access = rule.access & handled
        if not os.path.isdir(rule.path):
            access &= FILE_RIGHTS
        if not access:
            return
        attr = ctypes.create_string_buffer(struct.pack("=Qi", access, path_fd), 12)
        if libc.syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, attr, 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock: cannot add a rule for {rule.path}")
    finally:
        os.close(path_fd)


def host_rules(
    host_dir: Path, lab_root: Path, lab_bin: Path, code_dirs: Iterable[Path]
) -> list[Rule]:
    """What a lab host's commands may touch (see the module docstring)."""
    rules = [Rule(p, READ_EXEC) for p in SYSTEM_READ_EXEC]
    rules += [Rule(p, READ) for p in SYSTEM_READ]
    rules += [Rule(p, READ | WRITE_FILE | TRUNCATE) for p in DEVICES_WRITE]
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    rules += [Rule(p, READ_EXEC) for p in sorted(prefixes)]
    rules += [Rule(str(p), READ_EXEC) for p in code_dirs]
    rules.append(Rule(str(lab_bin), READ_EXEC))
    # the state file is rewritten by rename (a new inode each time): a rule on the file
    # itself would stop matching, so the lab directory gets file reads and the rename
    rules.append(Rule(str(lab_root), READ_FILE | WRITE_FILE | TRUNCATE | MAKE_REG | REMOVE_FILE))
    rules.append(Rule(str(host_dir), READ | ALL_WRITE))
    return rules


def preexec_for(ruleset: Ruleset | None) -> Callable[[], None] | None:
    return None if ruleset is None else ruleset.preexec
