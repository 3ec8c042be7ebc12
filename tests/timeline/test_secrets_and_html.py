"""A canary secret never reaches any byte the journal writes; the HTML report renders."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from browser import headless_argv, read_png
from clikit import Cli
from timeline_helpers import record_sample_run

from respond.events import EventDraft, EventKind
from respond.secrets import Masker
from respond.timeline import Store, new_run_id


def _all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            try:
                out.append((p, p.read_bytes()))
            except OSError:
                pass
    return out


def test_canary_secret_appears_nowhere(
    store: Store,
    backend: str,
    project: Path,
    tmp_path: Path,
    respond: Cli,
    request: pytest.FixtureRequest,
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    control = f"CONTROL-{uuid.uuid4().hex}"  # unmasked: proves the grep can see stored text
    masker = Masker([canary])
    rid = new_run_id()
    store.create_run(
        rid,
        {
            "runbook": "power-outage",
            "version": "1",
            "severity": 1,
            "params": {"db_password": "***"},
        },
    )
    rec = store.recorder(rid, masker)
    rec.record(
        [
            EventDraft(kind=EventKind.RUN_STARTED, data={"params": {"db_password": canary}}),
            EventDraft(
                kind=EventKind.HOST_INTENT,
                step_id="s1",
                host="db1",
                data={"commands": [f"mysql -p{canary} -e 'select 1'"]},
            ),
            EventDraft(
                kind=EventKind.HOST_RESULT,
                step_id="s1",
                host="db1",
                data={
                    "status": "ok",
                    "commands": [{"rc": 0, "stdout": f"pw={canary}\n"}],
                    "nested": [{"deep": {canary: canary}}],
                    "control": control,
                },
            ),
            EventDraft(
                kind=EventKind.ANSWER,
                actor=f"op {canary}",
                step_id="s1",
                data={"answer": f"the password is {canary}"},
            ),
            EventDraft(
                kind=EventKind.RUN_FINISHED,
                data={"status": "failed", "message": f"error: auth {canary}"},
            ),
        ]
    )
    big = (f"log line with {canary} inside\n" * 5000).encode()
    sha = rec.put_artifact(big)
    rec.record([EventDraft(kind=EventKind.NOTE, data={"artifact": sha})])

    # every export format, through the CLI
    cli = respond.bind(cwd=project)
    exports = tmp_path / "exports"
    exports.mkdir()
    printed: list[str] = []
    for fmt in ("json", "md", "html", "csv"):
        out = cli("timeline", "export", rid, "--format", fmt, "-o", str(exports / f"r.{fmt}"))
        assert out.rc == 0, out
        printed.append(out.output)
    out = cli("timeline", "export", "--all", "--format", "json", "-o", str(exports / "all.json"))
    assert out.rc == 0, out
    printed.append(out.output)
    shown = cli("timeline", "show", rid, check=True)
    printed.append(shown.output)

    blobs: list[tuple[Path, bytes]] = [(Path("<printed>"), "".join(printed).encode())]
    blobs += _all_bytes_under(exports)
    for f in ("r.json", "all.json"):  # artifacts travel base64-encoded: decode them too
        doc = json.loads((exports / f).read_text())
        record = doc.get("record") or doc["runs"][0]
        for b64 in record.get("artifacts", {}).values():
            blobs.append((exports / f, base64.b64decode(b64)))
    blobs.append((Path("<artifact>"), store.get_artifact(sha)))
    if backend == "sqlite":
        store_files = store.files()  # type: ignore[attr-defined]
        assert any(p.name.endswith("-wal") for p in store_files)
        stored = [(p, p.read_bytes()) for p in store_files]
        stored += _all_bytes_under(Path(os.environ["RESPOND_HOME"]))
    else:
        with store._transaction() as tx:
            tx.execute("CHECKPOINT")
        server = request.getfixturevalue("pg_server")
        stored = _all_bytes_under(server.data)  # tables, indexes, WAL, everything
    assert any(control.encode() in data for _, data in stored), "the grep cannot see the store"
    blobs += stored
    leaks = [str(p) for p, data in blobs if canary.encode() in data]
    assert not leaks, f"canary found in {leaks}"
    assert store.get_artifact(sha).count(b"***") == 5000


# ----------------------------------------------------------------------------- html


def test_html_report_renders_in_headless_chromium(
    store: Store, tmp_path: Path, make_store: Callable[..., Store]
) -> None:
    from respond.cli.timeline import render

    rid = record_sample_run(store, steps=5)
    page = tmp_path / "report.html"
    page.write_text(render(store, rid, "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    argv = headless_argv(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1200,900",
        "--hide-scrollbars",
        page.as_uri(),
    )
    proc = subprocess.run(argv, capture_output=True, timeout=120)
    assert shot.exists(), proc.stderr.decode(errors="replace")[-2000:]
    keep = Path(os.environ.get("RESPOND_KEEP_SCREENSHOT", ""))
    if keep.name:
        shutil.copy(shot, keep)
    width, height, rows = read_png(shot.read_bytes())
    assert (width, height) == (1200, 900)

    def near(px: tuple[int, int, int], rgb: tuple[int, int, int]) -> bool:
        return all(abs(a - b) <= 12 for a, b in zip(px, rgb, strict=True))

    bars = {
        "ok": (0x2E, 0x7D, 0x32),
        "failed": (0xC6, 0x28, 0x28),
        "skipped": (0x9E, 0x9E, 0x9E),
        "simulated": (0x15, 0x65, 0xC0),
    }
    counts = dict.fromkeys(bars, 0)
    non_white = 0
    chart_rows = []
    for y, row in enumerate(rows):
        hit = False
        for x in range(0, width * 3, 3):
            px = (row[x], row[x + 1], row[x + 2])
            if px != (255, 255, 255):
                non_white += 1
            for name, rgb in bars.items():
                if near(px, rgb) and x // 3 > 250:  # bars sit right of the step labels
                    counts[name] += 1
                    hit = True
        if hit:
            chart_rows.append(y)
    assert non_white > 20_000, "the page is blank"
    assert all(n > 100 for n in counts.values()), counts  # every status colour drawn
    assert chart_rows and max(chart_rows) - min(chart_rows) > 80  # several bars, stacked
