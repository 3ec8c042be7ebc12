"""The ``ansible`` step kind: a playbook from ``playbooks/`` through ansible-runner.

A thin adapter (STYLE rule 9): ``run()`` is called once per step with ``host=None``; the
ansible kind renders a ``PlaybookRun``: the playbook (absolute, under ``ctx.playbooks_dir``), the
``limit`` pattern, ``extra_vars``, ``tags`` and the ``inventory`` path. One ``ansible-playbook``
run covers every host, and its event stream becomes ``data["hosts"]``: per host
``{status: ok|failed|unreachable|skipped, changed, rc, msg, tasks}``; the kind's ``split_hosts``
turns that into one ``HostResult`` per host for the record.

Rules it keeps:

* host keys are checked (RELIABILITY rule 3): ``ANSIBLE_HOST_KEY_CHECKING=True`` and ssh
  options that trust only respond's known_hosts with ``StrictHostKeyChecking=yes`` (the first
  occurrence of an ssh option wins, so they override inventory ``ansible_ssh_common_args``);
* extra vars are data (rule 4): every string is marked ``__ansible_unsafe`` so Ansible never
  templates it;
* secrets (rule 9): nothing goes through ansible-runner's ``passwords`` (written to
  ``env/passwords``); the ``env/`` input files are deleted after the run and the environment
  copy in ``artifacts/<ident>/command`` is reduced to the variables respond set;
* the deadline is ansible-runner's own ``timeout`` (rule 10) and Ctrl-C reaches it through
  ``cancel_callback``.

ansible_runner is imported inside ``run()`` (STYLE rule 11).
"""

from __future__ import annotations

import contextlib
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
        self._lock = threading.Lock()

    def __call__(self, event: Mapping[str, Any]) -> bool:
        kind = event.get("event")
        data = event.get("event_data") or {}
        with self._lock:
            if kind in _TASK_EVENTS:
                self._task(_TASK_EVENTS[kind], data, event.get("created"))
            elif kind == "playbook_on_stats":
                self.stats = {key: dict(data.get(key) or {}) for key in _STATS_KEYS}
        return True  # keep ansible-runner's own job_events files

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
        except ValueError as exc:
            return host_result(ALL_HOSTS, StepStatus.FAILED, started, error=str(exc))

        import ansible_runner
        from ansible_runner.exceptions import AnsibleRunnerException

        private_dir, ident = self._private_dir(step_id)
        envvars = self._envvars(timeout, rendered.known_hosts)
        stopper = _Stopper(f"{ident}-{uuid.uuid4().hex[:12]}", timeout, self.ctx.cancel)
        envvars[_MARKER_VAR] = stopper.marker
        with self._lock:
            self._markers.append(stopper.marker)
        events = _HostEvents()
        extra_vars = mark_unsafe(dict(rendered.extra_vars))
        tags = rendered.tags
        t0 = time.monotonic()
        try:
            runner = ansible_runner.run(
                private_data_dir=str(private_dir),
                playbook=str(playbook),
                inventory=inventory,
                limit=rendered.limit or None,
                extravars=extra_vars,
                tags=",".join(str(t) for t in tags) or None,
                ident=ident,
                envvars=envvars,
                event_handler=events,
                cancel_callback=stopper,
                # ours stops the run at the deadline; ansible-runner's is the backstop
                timeout=math.ceil(timeout) + _BACKSTOP_S,
                settings={"pexpect_timeout": _POLL_S},
                quiet=True,
            )
        except (AnsibleRunnerException, OSError, ValueError, RuntimeError) as exc:
            stopper.kill()
            self._scrub(private_dir, None, envvars)
            return host_result(
                ALL_HOSTS,
                StepStatus.FAILED,
                started,
                error=masker.mask(f"ansible-runner could not run {playbook.name}: {exc}"),
            )
        duration = time.monotonic() - t0
        artifact_dir = Path(runner.config.artifact_dir)
        self._scrub(private_dir, artifact_dir, envvars)
        _mask_files(artifact_dir, self.ctx.secrets)
        stdout = masker.mask(_read(artifact_dir / "stdout"))
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
            artifacts=(str(artifact_dir),),
        )

    def close(self) -> None:
        """Stop the run's ssh ControlPersist masters (``ssh -O exit`` on each socket) rather
        than leave them for ControlPersist seconds, and any process of the run still alive."""
        with self._lock:
            control, self._control_dir = self._control_dir, None
            markers, self._markers = self._markers, []
        signal_marked(markers, signal.SIGKILL)  # normally none: every run has ended
        if control:
            _exit_masters(Path(control))
            shutil.rmtree(control, ignore_errors=True)

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
        (runner re-reads any ``env/`` files it finds, so calls must not share one)."""
        base = Path(self.ctx.home) / "ansible" / self.ctx.run_id
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        ident = f"{self.ctx.run_id}-{step_id}"
        attempt = 1
        while True:
            candidate = ident if attempt == 1 else f"{ident}-{attempt}"
            path = base / candidate
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                attempt += 1  # a retry or a resumed run: keep the earlier artifacts
                continue
            return path, candidate

    def _control_path_dir(self) -> str:
        with self._lock:
            if self._control_dir is None:
                # Unix socket paths are short (108 bytes): keep ControlPath in a short tmp dir.
                self._control_dir = tempfile.mkdtemp(prefix="rsp-cp-", dir="/tmp")
            return self._control_dir

    def _envvars(self, timeout: float, host_files: Sequence[str | Path] = ()) -> dict[str, str]:
        # respond's configured files plus those the targeted hosts name themselves
        # (ansible_ssh_known_hosts_file, -o UserKnownHostsFile=): ssh takes only the first
        # UserKnownHostsFile option, so they are merged into this one.
        merged = [*self.ctx.known_hosts, *host_files]
        files = list(dict.fromkeys(str(Path(p).expanduser()) for p in merged)) or [os.devnull]
        ssh_args = " ".join(
            [
                "-o ControlMaster=auto",
                f"-o ControlPersist={CONTROL_PERSIST_S}s",
                "-o " + shlex.quote("UserKnownHostsFile=" + " ".join(files)),
                f"-o GlobalKnownHostsFile={os.devnull}",
                "-o StrictHostKeyChecking=yes",
                "-o ServerAliveInterval=15",
            ]
        )
        env = {
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_SSH_ARGS": ssh_args,
            "ANSIBLE_SSH_CONTROL_PATH_DIR": self._control_path_dir(),
            "ANSIBLE_TIMEOUT": str(max(1, min(CONNECT_TIMEOUT, math.ceil(timeout)))),
            "ANSIBLE_NOCOLOR": "True",
            "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        }
        # ansible-runner starts `ansible-playbook` from PATH: prefer the one installed
        # beside this interpreter (a virtualenv that is not activated).
        bin_dir = Path(sys.executable).parent
        if (bin_dir / "ansible-playbook").exists():
            env["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)])
        return env

    @staticmethod
    def _scrub(private_dir: Path, artifact_dir: Path | None, envvars: Mapping[str, str]) -> None:
        """Remove inputs that may hold secrets (extra vars) and the copy of respond's whole
        environment that ansible-runner keeps in ``artifacts/<ident>/command``."""
        shutil.rmtree(private_dir / "env", ignore_errors=True)
        if artifact_dir is None:
            return
        command_file = artifact_dir / "command"
        try:
            recorded = json.loads(command_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(recorded, dict):
            recorded["env"] = {k: v for k, v in (recorded.get("env") or {}).items() if k in envvars}
            command_file.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")


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


def _mask_files(artifact_dir: Path, secrets: Iterable[str]) -> None:
    """Mask the run's secrets in ansible-runner's artifacts (job events keep every task's
    output, so a secret param echoed by a task would stay on disk). Secrets are matched as
    written and as JSON-escaped."""
    masker = Masker()
    for secret in secrets:
        masker.add(secret)
        masker.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        masker.add(json.dumps(secret)[1:-1])
    if not masker.secrets:
        return
    for path in artifact_dir.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        masked = masker.mask(text)
        if masked != text:
            tmp = path.with_name(path.name + ".masking")
            tmp.write_text(masked, encoding="utf-8")
            tmp.chmod(0o600)
            os.replace(tmp, path)


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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
