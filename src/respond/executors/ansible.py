"""The ``ansible`` step kind: a playbook from ``playbooks/`` through ansible-runner.

A thin adapter (STYLE rule 9): ``run()`` is called once per step with ``host=None``; the
ansible kind renders a ``PlaybookRun``: the playbook (absolute, under ``ctx.playbooks_dir``), the
``limit`` pattern, ``extra_vars``, ``tags`` and the ``inventory`` path. One ``ansible-playbook``
run covers every host, and its event stream becomes ``data["hosts"]``: per host
``{status: ok|failed|unreachable|skipped, changed, rc, msg, tasks}``; the kind's ``split_hosts``
turns that into one ``HostResult`` per host for the record.

Rules it keeps:

* host keys are checked: ``ANSIBLE_HOST_KEY_CHECKING=True`` and ssh options that trust only
  respond's known_hosts with ``StrictHostKeyChecking=yes``. Ansible puts them before
  ``ansible_ssh_common_args``/``ansible_ssh_extra_args`` and OpenSSH keeps the first value of
  an option, so those cannot loosen them; they are also passed as extra vars
  (``ansible_ssh_args``, ``ansible_*host_key_checking``), which beat every other variable.
  The inventory loader refuses variables that would switch checking off, and a host whose
  ``ansible_connection`` is not ssh or local is refused here before anything runs;
* extra vars are data: every string is marked ``__ansible_unsafe`` so Ansible never
  templates it;
* secrets: the extra vars reach ansible-playbook through a named pipe, never a file; no
  ``env/`` input (but ``env/settings``), stdout file, job-event files or fact cache are
  written; the environment copy in ``artifacts/<ident>/command`` is cut down as soon as the
  playbook starts; ansible-playbook dies with respond (a launcher sets its parent-death
  signal), so a crash stops the writing of job events; the private data directory (0700) is
  removed when the step ends, and one left by a crashed respond, with the processes it left,
  by the next ``respond run``/``resume`` (``remove_stale``);
* the deadline is ansible-runner's own ``timeout`` and Ctrl-C reaches it through
  ``cancel_callback``.

ansible_runner is imported only when a playbook runs, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from respond.executors.base import Rendered, RunContext, host_result, utcnow
from respond.kinds.ansible import PlaybookRun
from respond.results import CommandResult, HostResult, StepStatus
from respond.secrets import Masker

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

ALL_HOSTS = "*"
CONNECT_TIMEOUT = 10  # ansible's per-connection timeout (ANSIBLE_TIMEOUT), capped by the step's
CONTROL_PERSIST_S = 30
# ansible-playbook's exit codes, used as the per-host rc when a task gave none.
RC_FAILED = 2
RC_UNREACHABLE = 4
# ansible-runner status → ours
_RUNNER_STATUS = {
    "successful": StepStatus.OK,
    "failed": StepStatus.FAILED,
    "timeout": StepStatus.TIMED_OUT,
    "canceled": StepStatus.CANCELLED,
}
_TASK_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
_MAX_TASK_TEXT = 4000
_MARKER_VAR = "RESPOND_ANSIBLE_RUN"
_POLL_S = 0.25  # how often ansible-runner asks the cancel callback
_PIPE_POLL_S = 0.02  # how often the extra-vars pipe looks for ansible-playbook's open
_BACKSTOP_S = 5
_STATS_KEYS = ("ok", "failures", "dark", "skipped", "changed", "ignored", "rescued", "processed")


def mark_unsafe(value: Any) -> Any:
    """Wrap every string in Ansible's documented JSON form of an unsafe value, so Ansible
    treats it as data and never templates it. Nested mappings and lists are walked."""
    if isinstance(value, str):
        return {"__ansible_unsafe": value}
    if isinstance(value, Mapping):
        return {str(k): mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mark_unsafe(v) for v in value]
    return value


class _HostEvents:
    """Folds ansible-runner's event stream into per-host results (thread-safe: the
    event handler runs on ansible-runner's thread)."""

    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, dict[str, int]] | None = None
        self._lines: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, event: Mapping[str, Any]) -> bool:
        kind = event.get("event")
        data = event.get("event_data") or {}
        with self._lock:
            text = event.get("stdout")
            if isinstance(text, str) and text:
                counter = event.get("counter")
                self._lines.append((counter if isinstance(counter, int) else 0, text))
            if kind in _TASK_EVENTS:
                self._task(_TASK_EVENTS[kind], data, event.get("created"))
            elif kind == "playbook_on_stats":
                self.stats = {key: dict(data.get(key) or {}) for key in _STATS_KEYS}
        # not written to job_events/: task output may hold secrets, and respond keeps
        # what it needs in the record
        return False

    def stdout(self) -> str:
        """ansible-playbook's output, from the events (no stdout file is written)."""
        with self._lock:
            return "\n".join(text for _, text in sorted(self._lines, key=lambda x: x[0]))

    def _host(self, name: str) -> dict[str, Any]:
        return self.hosts.setdefault(
            name,
            {"status": "skipped", "changed": False, "rc": None, "msg": "", "tasks": []},
        )

    def _task(self, status: str, data: Mapping[str, Any], created: Any) -> None:
        name = str(data.get("host") or data.get("remote_addr") or "?")
        res = data.get("res") or {}
        if not isinstance(res, Mapping):
            res = {"msg": str(res)}
        info = self._host(name)
        ignored = bool(data.get("ignore_errors")) and status == "failed"
        task: dict[str, Any] = {
            "task": str(data.get("task") or ""),
            "action": str(data.get("task_action") or ""),
            "status": "ignored" if ignored else status,
            "changed": bool(res.get("changed")),
        }
        for key in ("rc", "msg", "stdout", "stderr"):
            if res.get(key) not in (None, ""):
                value = res[key]
                task[key] = value[:_MAX_TASK_TEXT] if isinstance(value, str) else value
        info["tasks"].append(task)
        info["changed"] = info["changed"] or task["changed"]
        if isinstance(created, str):
            info.setdefault("started", created)
            info["ended"] = created
        if status == "ok" and info["status"] == "skipped":
            info["status"] = "ok"
        elif status in ("failed", "unreachable") and not ignored:
            info["status"] = status
            info["msg"] = _message(res)
            rc = res.get("rc")
            info["rc"] = (
                rc
                if isinstance(rc, int)
                else (RC_UNREACHABLE if status == "unreachable" else RC_FAILED)
            )

    def result(self) -> dict[str, dict[str, Any]]:
        """Per host, with the final statuses from ``playbook_on_stats`` when it came
        (a rescued failure counts as ok there)."""
        with self._lock:
            hosts = {name: dict(info) for name, info in self.hosts.items()}
            stats = self.stats
        if stats:
            names = [*hosts, *(n for n in stats.get("processed", {}) if n not in hosts)]
            for name in names:
                info = hosts.setdefault(
                    name,
                    {"status": "skipped", "changed": False, "rc": None, "msg": "", "tasks": []},
                )
                if stats["dark"].get(name):
                    info["status"] = "unreachable"
                elif stats["failures"].get(name):
                    info["status"] = "failed"
                elif stats["ok"].get(name) or stats["changed"].get(name):
                    info["status"] = "ok"
                else:
                    info["status"] = "skipped"
                info["changed"] = bool(stats["changed"].get(name)) or info["changed"]
        for info in hosts.values():
            if info["status"] == "ok":
                info["rc"] = 0
                info["msg"] = ""  # a failure that was rescued or ignored
            elif info["status"] == "skipped":
                info["rc"] = None
            elif info["rc"] is None:
                info["rc"] = RC_UNREACHABLE if info["status"] == "unreachable" else RC_FAILED
        return hosts


class AnsibleExecutor:
    kind: ClassVar[str] = "ansible"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._control_dir: str | None = None
        self._markers: list[str] = []
        self._lock = threading.Lock()
        self._run_dir: _RunDir | None = None

    def run(self, step: Step, host: Host | None, rendered: Rendered, timeout: float) -> HostResult:
        started = utcnow()
        masker = Masker(self.ctx.secrets)
        step_id = str(getattr(step, "id", None) or "step")
        if not isinstance(rendered, PlaybookRun):
            return host_result(
                ALL_HOSTS, StepStatus.FAILED, started, error="the ansible kind needs a playbook"
            )
        try:
            playbook = self._playbook(rendered.playbook)
            inventory = rendered.inventory or self.ctx.inventory_path
            if not inventory:
                raise ValueError("no inventory: the ansible kind needs the run's inventory file")
            inventory = str(Path(inventory).resolve())
            _check_connections(rendered)
        except ValueError as exc:
            return host_result(ALL_HOSTS, StepStatus.FAILED, started, error=str(exc))

        try:
            private_dir, ident = self._private_dir(step_id)
        except OSError as exc:
            return host_result(
                ALL_HOSTS,
                StepStatus.FAILED,
                started,
                error=f"cannot make ansible-runner's private data directory: {exc}",
            )
        try:
            return self._run_playbook(
                playbook, inventory, rendered, timeout, private_dir, ident, masker, started
            )
        finally:
            # nothing of the run stays on disk: task output may hold secrets
            shutil.rmtree(private_dir, ignore_errors=True)

    def _run_playbook(
        self,
        playbook: Path,
        inventory: str,
        rendered: PlaybookRun,
        timeout: float,
        private_dir: Path,
        ident: str,
        masker: Masker,
        started: Any,
    ) -> HostResult:
        import ansible_runner
        from ansible_runner.exceptions import AnsibleRunnerException

        envvars = self._envvars(timeout, rendered.known_hosts, _lay_out(private_dir))
        stopper = _Stopper(f"{ident}-{uuid.uuid4().hex[:12]}", timeout, self.ctx.cancel)
        envvars[_MARKER_VAR] = stopper.marker
        with self._lock:
            self._markers.append(stopper.marker)
        _write_private(private_dir / "marker", stopper.marker)  # for the next run, if we crash
        binary = _dying_with_us(private_dir, envvars.get("PATH"))
        events = _HostEvents()
        # respond's host-key settings last: extra vars beat every other variable in Ansible
        extra_vars = mark_unsafe(
            {**rendered.extra_vars, **forced_vars(envvars["ANSIBLE_SSH_ARGS"])}
        )
        pipe = _VarsPipe(private_dir / "extravars", json.dumps(extra_vars).encode())
        tags = rendered.tags
        t0 = time.monotonic()
        try:
            runner = ansible_runner.run(
                private_data_dir=str(private_dir),
                playbook=str(playbook),
                inventory=inventory,
                limit=rendered.limit or None,
                # with `binary`, ansible-runner leaves the playbook to the command line
                cmdline=shlex.join(["-e", f"@{pipe.path}", *([str(playbook)] if binary else [])]),
                binary=binary,
                tags=",".join(str(t) for t in tags) or None,
                ident=ident,
                envvars=envvars,
                event_handler=events,
                status_handler=_CommandScrubber(envvars),
                cancel_callback=stopper,
                # ours stops the run at the deadline; ansible-runner's is the backstop
                timeout=math.ceil(timeout) + _BACKSTOP_S,
                # nothing that may hold a secret is written: no env/ input files, no
                # stdout file, no fact cache (job events are kept from disk by the handler)
                suppress_env_files=True,
                fact_cache_type="memory",
                quiet=True,
            )
        except (AnsibleRunnerException, OSError, ValueError, RuntimeError) as exc:
            stopper.kill()
            return host_result(
                ALL_HOSTS,
                StepStatus.FAILED,
                started,
                error=masker.mask(f"ansible-runner could not run {playbook.name}: {exc}"),
            )
        finally:
            pipe.close()
        return _playbook_result(
            runner,
            events,
            stopper,
            playbook,
            ident,
            masker,
            started,
            timeout,
            time.monotonic() - t0,
        )

    def close(self) -> None:
        """Stop the run's ssh ControlPersist masters (``ssh -O exit`` on each socket) rather
        than leave them for ControlPersist seconds, and any process of the run still alive;
        then remove the run's private data directories."""
        with self._lock:
            control, self._control_dir = self._control_dir, None
            markers, self._markers = self._markers, []
            run_dir, self._run_dir = self._run_dir, None
        signal_marked(markers, signal.SIGKILL)  # normally none: every run has ended
        if control:
            _exit_masters(Path(control))
            shutil.rmtree(control, ignore_errors=True)
        if run_dir is not None:
            run_dir.release()

    # --- helpers ------------------------------------------------------------------------

    def _playbook(self, value: Any) -> Path:
        if not value:
            raise ValueError("no playbook given")
        root = Path(self.ctx.playbooks_dir).resolve()
        path = Path(value)
        path = (path if path.is_absolute() else root / path).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"playbook {value} is outside the playbooks directory {root}")
        if not path.is_file():
            raise ValueError(f"playbook {path} does not exist")
        return path

    def _private_dir(self, step_id: str) -> tuple[Path, str]:
        """``<home>/ansible/<run_id>/<ident>``: one private data dir per ansible-runner call
        (runner re-reads any ``env/`` files it finds, so calls must not share one), 0700,
        removed when the call ends. The run's directory is claimed on first use, which also
        removes what a crashed respond left behind."""
        with self._lock:
            if self._run_dir is None:
                self._run_dir = _RunDir.claim(Path(self.ctx.home) / "ansible", self.ctx.run_id)
            base = self._run_dir.path
        ident = f"{self.ctx.run_id}-{step_id}"
        attempt = 1
        while True:
            candidate = ident if attempt == 1 else f"{ident}-{attempt}"
            path = base / candidate
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                attempt += 1  # a parallel call of the same step id
                continue
            return path, candidate

    def _control_path_dir(self) -> str:
        with self._lock:
            if self._control_dir is None:
                # Unix socket paths are short (108 bytes): keep ControlPath in a short tmp dir.
                self._control_dir = tempfile.mkdtemp(prefix="rsp-cp-", dir="/tmp")
            return self._control_dir

    def _envvars(
        self,
        timeout: float,
        host_files: Sequence[str | Path] = (),
        local_tmp: Path | None = None,
    ) -> dict[str, str]:
        # respond's configured files plus those the targeted hosts name themselves
        # (ansible_ssh_known_hosts_file, -o UserKnownHostsFile=): ssh takes only the first
        # UserKnownHostsFile option, so they are merged into this one.
        merged = [*self.ctx.known_hosts, *host_files]
        files = list(dict.fromkeys(str(Path(p).expanduser()) for p in merged)) or [os.devnull]
        # Ansible puts these before ansible_ssh_common_args and ansible_ssh_extra_args, and
        # OpenSSH keeps the first value of an option: an inventory cannot loosen them.
        ssh_args = " ".join(
            [
                "-o ControlMaster=auto",
                f"-o ControlPersist={CONTROL_PERSIST_S}s",
                "-o " + shlex.quote("UserKnownHostsFile=" + " ".join(files)),
                f"-o GlobalKnownHostsFile={os.devnull}",
                "-o StrictHostKeyChecking=yes",
                "-o KnownHostsCommand=none",  # would add keys from outside known_hosts
                "-o VerifyHostKeyDNS=no",
                "-o UpdateHostKeys=no",  # never rewrite respond's known_hosts
                "-o ServerAliveInterval=15",
            ]
        )
        env = {
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_PARAMIKO_HOST_KEY_CHECKING": "True",
            "ANSIBLE_SSH_ARGS": ssh_args,
            # an ansible.cfg (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg) is read, but
            # environment variables beat it: the default connection stays ssh
            "ANSIBLE_TRANSPORT": "ssh",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": self._control_path_dir(),
            "ANSIBLE_TIMEOUT": str(max(1, min(CONNECT_TIMEOUT, math.ceil(timeout)))),
            "ANSIBLE_NOCOLOR": "True",
            "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
            # Not pipelining: without it Ansible runs modules under a pty (ssh -tt), so
            # killing the ssh client at a deadline or Ctrl-C hangs up the remote command.
            "ANSIBLE_PIPELINING": "False",
        }
        if local_tmp is not None:
            # the module files Ansible builds (with their arguments) before copying them
            # to the host: inside the private data dir, so they go with it
            env["ANSIBLE_LOCAL_TEMP"] = str(local_tmp)
        # ansible-runner starts `ansible-playbook` from PATH: prefer the one installed
        # beside this interpreter (a virtualenv that is not activated).
        bin_dir = Path(sys.executable).parent
        if (bin_dir / "ansible-playbook").exists():
            env["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)])
        return env


_WRAPPER = """#!{python}
# ansible-runner starts ansible-playbook with SIGHUP ignored: without this a respond that
# crashed would leave the playbook running (and writing its events) on its own.
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != {pid}:
    sys.exit("respond ended before ansible-playbook started")
os.execv({playbook!r}, [{playbook!r}, *sys.argv[1:]])
"""


def _dying_with_us(private_dir: Path, path: str | None) -> str | None:
    """A launcher (Linux) that makes ansible-playbook die with this process: it sets the
    parent-death signal and execs ansible-playbook. None where that is not available."""
    if not sys.platform.startswith("linux"):
        return None
    playbook = shutil.which("ansible-playbook", path=path)
    if playbook is None:
        return None
    launcher = private_dir / "ansible-playbook"
    text = _WRAPPER.format(python=sys.executable, pid=os.getpid(), playbook=playbook)
    _write_private(launcher, text, 0o700)
    return str(launcher)


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def forced_vars(ssh_args: str) -> dict[str, Any]:
    """Host-key settings passed as extra vars, which beat inventory, playbook and task vars:
    nothing a playbook run reads can replace respond's ssh options or switch checking off."""
    from respond.sshopts import HOST_KEY_CHECKING_VARS

    return {"ansible_ssh_args": ssh_args, **dict.fromkeys(HOST_KEY_CHECKING_VARS, True)}


def _check_connections(rendered: PlaybookRun) -> None:
    """Refuse hosts that would not connect through OpenSSH with respond's options (or run
    on the control host): those connections check host keys on their own terms."""
    from respond.sshopts import PLAYBOOK_CONNECTIONS

    forced = rendered.extra_vars.get("ansible_connection")
    names = [h for h in rendered.limit.split(",") if h]
    for name in names or list(rendered.connections):
        connection = forced if forced is not None else rendered.connections.get(name)
        if connection is not None and str(connection).strip().lower() not in PLAYBOOK_CONNECTIONS:
            raise ValueError(
                f"host {name} uses ansible_connection={connection}: respond runs playbooks "
                "only over ssh (host keys checked against respond's known_hosts) or local"
            )


def _playbook_result(
    runner: Any,
    events: _HostEvents,
    stopper: _Stopper,
    playbook: Path,
    ident: str,
    masker: Masker,
    started: Any,
    timeout: float,
    duration: float,
) -> HostResult:
    """One result for the whole run (split per host by the kind), from ansible-runner's
    status and the events kept in memory; everything shown is masked."""
    stdout = masker.mask(events.stdout())
    hosts = masker.mask(events.result())
    status = _RUNNER_STATUS.get(str(runner.status), StepStatus.FAILED)
    if stopper.reason or status in (StepStatus.TIMED_OUT, StepStatus.CANCELLED):
        stopper.kill()  # stragglers: workers that were still starting ssh
    if stopper.reason == "timeout":
        status = StepStatus.TIMED_OUT
    rc = runner.rc if isinstance(runner.rc, int) else None
    if status is StepStatus.OK and any(
        h["status"] in ("failed", "unreachable") for h in hosts.values()
    ):
        status = StepStatus.FAILED  # e.g. ignore_unreachable plays that still exit 0
    error = "" if status is StepStatus.OK else _summary(status, rc, hosts, stdout, timeout)
    return host_result(
        ALL_HOSTS,
        status,
        started,
        commands=(
            CommandResult(
                command=f"ansible-playbook {playbook.name}",
                exit_code=rc,
                stdout=stdout,
                duration_s=duration,
            ),
        ),
        output=stdout,
        error=masker.mask(error),
        changed=any(h["changed"] for h in hosts.values()),
        data={
            "hosts": hosts,
            "playbook": playbook.name,
            "runner_status": str(runner.status),
            "rc": rc,
            "ident": ident,
            "stats": masker.mask(events.stats or {}),
        },
    )


def _lay_out(private_dir: Path) -> Path:
    """The private data directory's parts, all 0700; returns Ansible's local temp dir."""
    local_tmp = private_dir / "tmp"
    local_tmp.mkdir(mode=0o700)
    # ansible-runner makes only artifacts/<ident> 0700, its parent with the umask
    (private_dir / "artifacts").mkdir(mode=0o700)
    # With suppress_env_files ansible-runner ignores its `settings` argument and reads
    # only env/settings (which holds nothing secret), so that file is written here.
    (private_dir / "env").mkdir(mode=0o700)
    _write_private(
        private_dir / "env" / "settings",
        json.dumps({"pexpect_timeout": _POLL_S, "suppress_output_file": True}),
    )
    return local_tmp


class _RunDir:
    """``<home>/ansible/<run_id>``, held by this process through an flock on
    ``<run_id>.lock`` beside it. A directory whose lock nobody holds was left by a respond
    that crashed (kill -9, power loss): it is removed by the next claim."""

    def __init__(self, path: Path, lock_path: Path, fd: int) -> None:
        self.path = path
        self.lock_path = lock_path
        self._fd = fd

    @classmethod
    def claim(cls, base: Path, run_id: str) -> _RunDir:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale(base)
        lock_path = base / f"{run_id}.lock"
        for _ in range(10):
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while a cleaner removes a stale dir
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                path = base / run_id
                shutil.rmtree(path, ignore_errors=True)  # our own crashed attempt (resume)
                path.mkdir(mode=0o700)
                return cls(path, lock_path, fd)
            os.close(fd)  # a cleaner removed that lock file meanwhile: take a new one
        raise OSError(f"cannot lock {lock_path}")

    def release(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.lock_path.unlink()
        os.close(self._fd)


def remove_stale(base: Path) -> list[Path]:
    """Remove the private data directories under ``base`` that no live respond holds;
    returns them."""
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    locks = {e.name.removesuffix(".lock") for e in entries if e.name.endswith(".lock")}
    for entry in entries:
        if entry.name.endswith(".lock"):
            if _remove_if_free(entry, base / entry.name.removesuffix(".lock")):
                removed.append(base / entry.name.removesuffix(".lock"))
        elif entry.is_dir() and entry.name not in locks:
            # an owner takes its lock before it makes its directory
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _remove_if_free(lock_path: Path, path: Path) -> bool:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live respond holds it
        # what the crashed respond's playbooks left running (workers, ssh sessions)
        markers = [m.read_text().strip() for m in path.glob("*/marker") if m.is_file()]
        signal_marked(markers, signal.SIGKILL)
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            lock_path.unlink()
        return True
    finally:
        os.close(fd)


class _VarsPipe:
    """The extra vars reach ``ansible-playbook`` through a named pipe (``-e @pipe``): they
    go from respond's memory to Ansible's without ever being stored in a file, so neither a
    finished nor a crashed run leaves them on disk."""

    def __init__(self, path: Path, data: bytes) -> None:
        os.mkfifo(path, 0o600)
        self.path = path
        self._data = data
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="respond-extravars", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        fd = self._open_writer()
        if fd is None:
            return
        try:
            os.set_blocking(fd, True)
            view = memoryview(self._data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            pass  # the reader went away (ansible-playbook failed or was killed)
        finally:
            os.close(fd)

    def _open_writer(self) -> int | None:
        # A blocking open would wait forever when ansible-playbook never starts; a
        # non-blocking one fails (ENXIO) until it opens the pipe for reading.
        while not self._stop.is_set():
            try:
                return os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                self._stop.wait(_PIPE_POLL_S)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            self.path.unlink()


class _CommandScrubber:
    """ansible-runner's status handler. Before starting ``ansible-playbook`` it has written
    ``artifacts/<ident>/command`` with the whole environment of respond (which may hold
    secrets, e.g. a database URL); on ``running`` that copy is cut down to the variables
    respond set, so a crash right after leaves none of the rest."""

    def __init__(self, envvars: Mapping[str, str]) -> None:
        self.keep = set(envvars)

    def __call__(self, data: Mapping[str, Any], runner_config: Any = None) -> None:
        if data.get("status") != "running" or runner_config is None:
            return
        command_file = Path(runner_config.artifact_dir) / "command"
        try:
            recorded = json.loads(command_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(recorded, dict):
            env = recorded.get("env") or {}
            recorded["env"] = {k: v for k, v in env.items() if k in self.keep}
            tmp = command_file.with_name("command.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(recorded, f, ensure_ascii=False)
            os.replace(tmp, command_file)


class _Stopper:
    """ansible-runner's cancel callback, polled every ``_POLL_S``: stops the run on Ctrl-C
    or at respond's deadline, and first kills every process of the run itself.

    ansible-core's workers call ``setsid()``, so ansible-runner's ``killpg`` of the
    ``ansible-playbook`` group misses them: they keep the task (and its ssh session, and
    the command on the host) running, and hold the pty open so ansible-runner waits 5 s
    for an EOF. Every process of the run inherits ``RESPOND_ANSIBLE_RUN=<marker>``; those
    (and only those) are killed. Killing the ssh client ends the remote session, which
    hangs up the command on the host."""

    def __init__(self, marker: str, timeout: float, cancel: threading.Event) -> None:
        self.marker = marker
        self.deadline = time.monotonic() + timeout
        self.cancel = cancel
        self.reason = ""

    def __call__(self) -> bool:
        if not self.reason:
            if self.cancel.is_set():
                self.reason = "cancelled"
            elif time.monotonic() >= self.deadline:
                self.reason = "timeout"
            if self.reason:
                self.kill()
        return bool(self.reason)

    def kill(self) -> None:
        signal_marked((self.marker,), signal.SIGKILL)


def signal_marked(markers: Iterable[str], sig: int) -> int:
    """Send ``sig`` to every process started by the ansible runs with these markers (found
    through their inherited environment, Linux /proc); returns how many were signalled."""
    needles = {f"{_MARKER_VAR}={m}".encode() for m in markers}
    proc = Path("/proc")
    if not needles or not proc.is_dir():  # not Linux: ansible-runner's killpg is all we have
        return 0
    me = os.getpid()
    hit = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours
        if needles.intersection(environ.split(b"\0")):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), sig)
                hit += 1
    return hit


def _exit_masters(control_dir: Path) -> None:
    """Ask every ssh master with a socket in ``control_dir`` to exit (all at once)."""
    ssh = shutil.which("ssh")
    if ssh is None:
        return
    procs = []
    for sock in control_dir.iterdir():
        with contextlib.suppress(OSError):
            procs.append(
                subprocess.Popen(
                    [ssh, "-o", f"ControlPath={sock}", "-O", "exit", "respond-close"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _message(res: Mapping[str, Any]) -> str:
    """What went wrong, for a person: the module's msg plus the command's stderr (the
    command module's msg alone is just "non-zero return code")."""
    msg = str(res.get("msg") or res.get("reason") or "").strip()
    stderr = str(res.get("stderr") or "").strip()
    if stderr and stderr not in msg:
        msg = f"{msg}: {stderr}" if msg else stderr
    if not msg and res.get("rc") not in (None, 0):
        msg = f"exit code {res['rc']}"
    return msg[:_MAX_TASK_TEXT]


def _summary(
    status: StepStatus,
    rc: int | None,
    hosts: Mapping[str, Mapping[str, Any]],
    stdout: str,
    timeout: float,
) -> str:
    if status is StepStatus.TIMED_OUT:
        return f"ansible-playbook did not finish within {timeout:g}s"
    if status is StepStatus.CANCELLED:
        return "ansible-playbook cancelled by the operator"
    bad = [(n, h) for n, h in hosts.items() if h["status"] in ("failed", "unreachable")]
    if bad:
        parts = [f"{n} {h['status']}: {_first_line(str(h.get('msg') or ''))}" for n, h in bad]
        ok = sum(1 for h in hosts.values() if h["status"] == "ok")
        return f"{len(bad)} host(s) not ok, {ok} ok — " + "; ".join(parts)
    tail = _tail(stdout)
    return f"ansible-playbook exited {rc}" + (f": {tail}" if tail else "")


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""
