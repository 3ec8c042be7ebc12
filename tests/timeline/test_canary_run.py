"""Canary secrets through a real run: found in no byte of any sink.

One `respond run` with a secret param, an inventory password and a become password, whose
steps print them plainly and transformed (upper case, base64, JSON, URL-encoded), put them
in a gate's text, an error, an output big enough to be kept as an artifact and three
notifications (a lab web channel, a file channel, the
default terminal + file), and sleep in a local step while the test reads the command line
of every process on the machine. Then every sink is searched for every canary: the store's
files (SQLite database and WAL, or PostgreSQL's whole data directory after a checkpoint),
every export format, `timeline show`, the run's --json output and stderr, the notification
file and the bodies the web channel received, and the process command lines. The figure the
issue asks for is ``leaks == []``: 0 canaries found.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
from clikit import Cli, wait_until

from respond.config import load_config
from respond.timeline import open_store

RUNBOOK = """\
runbook: canary
version: 1.0.0
title: 金丝雀 / canary
scenario: other
severity: 3
params:
  token: {secret: true, required: true}
steps:
  - id: shout
    name: print the secrets, plain and transformed
    kind: local
    argv:
      - sh
      - -c
      - >-
        echo "plain $TOKEN $PW";
        printf '%s' "$TOKEN" | tr a-z A-Z; echo;
        printf 'user:%s' "$TOKEN" | base64 -w0; echo;
        printf '{"t": "%s"}\\n' "$TOKEN";
        echo "ready" > "$READY";
        while [ ! -e "$GO" ]; do sleep 0.05; done
      - "@CONTROL@"
    env:
      TOKEN: "{{ token }}"
      PW: "{{ hostvars['db1'].ansible_password }}"
      READY: "@READY@"
      GO: "@GO@"
  - id: bulk
    name: output large enough to be kept as an artifact
    kind: local
    argv: [sh, -c, 'for i in $(seq 6000); do echo "line $i token=$TOKEN"; done']
    env: {TOKEN: "{{ token }}"}
  - id: confirm
    name: gate naming the secret
    kind: local
    command: "true"
    confirm: "Use token {{ token }} ({{ token | urlencode }}) now?"
  - id: broken
    name: fails with the secret in its error
    kind: local
    argv: [sh, -c, 'echo "auth failed for $TOKEN / $BECOME" >&2; exit 3']
    env: {TOKEN: "{{ token }}", BECOME: "{{ hostvars['db1'].ansible_become_password }}"}
    on_failure: continue
  - id: tell-lab
    name: notify the lab web channel
    kind: notify
    channels: [lab]
    subject: "token {{ token | upper }}"
    message: "token={{ token }} json={{ token | tojson }} pw={{ hostvars.db1.ansible_password }}"
  - id: tell-file
    name: notify the file channel
    kind: notify
    channels: [log]
    message: "token={{ token }} url={{ token | urlencode }}"
  - id: tell-default
    name: notify with no channel named (terminal and the notifications file)
    kind: notify
    message: "token={{ token | title }} become={{ hostvars.db1.ansible_become_password }}"
"""


class _Bodies(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append(self.rfile.read(length) + str(self.headers).encode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def lab_channel() -> Iterator[tuple[str, list[bytes]]]:
    """A web notification endpoint on loopback (what the lab's OA/SMS services are)."""
    _Bodies.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bodies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_port}/notify", _Bodies.received
    server.shutdown()
    server.server_close()


def _files_under(root: Path) -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            try:
                out.append((str(p), p.read_bytes()))
            except OSError:
                pass
    return out


def _command_lines() -> list[tuple[str, bytes]]:
    """Every process's command line on this machine, as `ps` shows them to any user."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((f"ps pid {entry.name}", (entry / "cmdline").read_bytes()))
            except OSError:
                pass  # the process ended meanwhile
    return found


def _artifact_digests(value: object) -> set[str]:
    """The artifacts a record refers to (``{"artifact": sha, ...}`` anywhere in its data)."""
    if isinstance(value, dict):
        found = {str(value["artifact"])} if isinstance(value.get("artifact"), str) else set()
        return found.union(*(_artifact_digests(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(_artifact_digests(v) for v in value))
    return set()


def _forms(secret: str) -> list[bytes]:
    """The canary as each sink could carry it: plain, JSON-escaped, URL-encoded, upper, and
    the base64 line the first step prints."""
    texts = {secret, secret.upper(), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    texts.add(base64.b64encode(f"user:{secret}".encode()).decode()[8:-4])
    return [t.encode() for t in texts]


def test_canary_secrets_reach_no_sink(
    project: Path,
    backend: str,
    respond: Cli,
    lab_channel: tuple[str, list[bytes]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    tag = uuid.uuid4().hex[:12]
    token = f"Tok-{tag}-canary"
    password = f"Pw-{tag}-canary"
    become = f"Become-{tag}-canary"
    control = f"control-{tag}"  # in the sleeping step's argv: proves `ps` can see the step
    ready, go = tmp_path / "ready", tmp_path / "go"
    url, bodies = lab_channel
    (project / "runbooks" / "canary.yaml").write_text(
        RUNBOOK.replace("@CONTROL@", control)
        .replace("@READY@", str(ready))
        .replace("@GO@", str(go)),
        encoding="utf-8",
    )
    (project / "inventory.yaml").write_text(
        "all:\n  hosts:\n    db1:\n"
        f"      ansible_host: 127.0.0.1\n      ansible_password: {password}\n"
        f"      ansible_become_password: {become}\n",
        encoding="utf-8",
    )
    (project / "respond.yaml").write_text(
        "project: test\ndefault_inventory: inventory.yaml\n"
        f"channels:\n  lab: {{url: '{url}'}}\n  log: {{type: file, path: notes.log}}\n",
        encoding="utf-8",
    )
    (project / "answers.yaml").write_text("confirm: yes\n", encoding="utf-8")
    home = Path(os.environ["RESPOND_HOME"])
    env = {"RESPOND_PARAM_TOKEN": token}  # the documented way: not on respond's command line

    run = respond.spawn(
        "run", "canary", "--answers", "answers.yaml", "--json", cwd=project, env=env
    )
    try:
        wait_until(lambda: ready.exists() or run.poll() is not None, "the local step to start")
        assert run.poll() is None, "respond ended before its local step was sampled"
        sampled = _command_lines()
    finally:
        go.touch()
    stdout, stderr = run.proc.communicate(timeout=100)
    assert run.proc.returncode == 0, stderr  # `broken` failed under on_failure: continue
    assert any(control.encode() in line for _, line in sampled), "ps did not see the step"
    result = json.loads(stdout)
    run_id = result["run_id"]
    statuses = {s["id"]: s["status"] for s in result["steps"]}
    assert statuses["shout"] == "ok" and statuses["broken"] == "failed", statuses
    assert statuses["tell-lab"] == "ok" and bodies, "the lab channel received nothing"

    blobs: list[tuple[str, bytes]] = [("run --json", stdout.encode()), ("stderr", stderr.encode())]
    blobs += [(f"lab channel body {i}", b) for i, b in enumerate(bodies)]
    blobs += [(name, data) for name, data in sampled]
    exports = tmp_path / "exports"
    exports.mkdir()
    cli = respond.bind(cwd=project, env=env)
    for fmt in ("json", "md", "html", "csv"):
        shown = cli("timeline", "export", run_id, "--format", fmt, check=True)
        blobs.append((f"export {fmt} (stdout)", shown.output.encode()))
        cli("timeline", "export", run_id, "--format", fmt, "-o", str(exports / f"r.{fmt}"))
    for args in (("show", run_id), ("show", run_id, "--json"), ("list", "--json")):
        blobs.append(
            (f"timeline {' '.join(args)}", cli("timeline", *args, check=True).output.encode())
        )
    blobs += _files_under(exports)
    record = json.loads((exports / "r.json").read_text(encoding="utf-8"))
    record = record.get("record") or record
    for sha, b64 in (record.get("artifacts") or {}).items():  # exports that carry them
        blobs.append((f"exported artifact {sha}", base64.b64decode(b64)))
    # the notifications: the file channel's file and the default notifications file
    notes = project / "notes.log"
    assert notes.stat().st_mode & 0o777 == 0o600
    assert (home / "notifications.log").stat().st_mode & 0o777 == 0o600
    blobs += _files_under(project)  # runbook and inventory excluded below: they hold the input

    store = open_store(load_config(project))
    try:
        events = store.events(run_id)
        assert any(e.kind == "gate-confirmed" for e in events)
        digests = _artifact_digests([e.data for e in events])
        assert digests, "the bulk step's output was not kept as an artifact"
        for sha in digests:
            artifact = store.get_artifact(sha)
            assert artifact.count(b"token=***") == 6000
            blobs.append((f"artifact {sha}", artifact))
        stored = _files_under(home)  # SQLite's database and WAL, the notifications file
        if backend == "postgres":
            with store._transaction() as tx:  # type: ignore[attr-defined]
                tx.execute("CHECKPOINT")
            stored += _files_under(request.getfixturevalue("pg_server").data)
    finally:
        store.close()
    assert any(b"Use token ***" in data for _, data in stored), "the search cannot see the store"
    blobs += stored

    inputs = {str(project / "inventory.yaml")}
    leaks = [
        (name, secret)
        for name, data in blobs
        if name not in inputs
        for secret in (token, password, become)
        for form in _forms(secret)
        if form in data
    ]
    assert leaks == [], f"canary found in {leaks}"
    # what the steps printed is in the record, masked: the search above looked at real output
    out = json.dumps([e.data for e in events if e.step_id == "shout"], ensure_ascii=False)
    assert "plain *** ***" in out and "dXNlcj" in out  # the base64 line kept its unmasked head
