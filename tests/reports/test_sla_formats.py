"""The SLA report's formats over one seeded SQLite store: the HTML rendered in headless
Chromium (chart bars with the table's counts, no console errors, self-contained), CSV read
back with the csv module, JSON with figures and formulas, the formulas in every format."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import browser
import pytest
import slaseed
from clikit import Cli

from respond.reports import sla, sla_render
from respond.timeline import Store

FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def seeded(sqlite_store: Store) -> tuple[Store, list[slaseed.Plan], datetime]:
    now = datetime.now(UTC)
    plans = slaseed.plans(200, seed=7, now=now, first_day=FIRST_DAY, days=20)
    slaseed.seed(sqlite_store, plans, drills=2)
    return sqlite_store, plans, now


def _chromium(page: Path, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess[bytes]:
    return browser.headless(page, tmp_path / "profile", *mode)


def test_html_chart_in_headless_chromium(
    seeded: tuple[Store, list[slaseed.Plan], datetime], tmp_path: Path
) -> None:
    store, _plans, now = seeded
    report = sla.collect(store, sla.Window(), now)
    page = tmp_path / "sla.html"
    text = sla_render.to_html(report)
    page.write_text(text, encoding="utf-8")
    # self-contained: nothing to fetch (the SVG namespace is a name, not a request)
    assert not re.search(r"\b(src|href)=|url\(|@import|<script", text)

    dumped = _chromium(page, tmp_path, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert browser.console_messages(dumped.stderr) == []
    dom = dumped.stdout.decode()
    bars = re.findall(
        r'<rect class="bar" data-level="(\d)" data-clock="(\w+)" data-result="(\w+)" '
        r'data-count="(\d+)"[^>]* height="([\d.]+)"',
        dom,
    )
    assert len(bars) == 4 * 2 * 3  # every level, both clocks, met / missed / pending
    by_level = {row.level: row for row in report.levels}
    peak = max(int(b[3]) for b in bars)
    for level, clock, result, count, height in bars:
        assert int(count) == getattr(getattr(by_level[int(level)], clock), result)
        assert float(height) == pytest.approx(200 * int(count) / peak, abs=0.1)
    assert sum(int(b[3]) for b in bars if b[1] == "respond") == report.total.incidents
    assert "一级" in dom and "响应" in dom and "机房" in dom  # Chinese reaches the page as text

    shot = tmp_path / "shot.png"
    drawn = _chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.exists(), drawn.stderr[-2000:]
    counts = browser.colour_pixels(shot.read_bytes(), sla_render.COLOURS)
    assert counts["met"] > 500 and counts["missed"] > 500, counts  # the bars are drawn
    # the Chinese in the page is drawn with real glyphs (a CJK font), not missing-glyph boxes;
    # a private-use character no font has is told apart (the check can fail)
    drawn = browser.cjk_glyphs_drawn(text, ["级", "响", "机", "\U000f0001"], tmp_path)
    assert drawn == "级响机"


def test_console_errors_are_seen(tmp_path: Path) -> None:
    # the check above is not vacuous: a page that logs an error is caught
    page = tmp_path / "noisy.html"
    page.write_text("<p>x</p><script>console.error('noisy page')</script>", encoding="utf-8")
    dumped = _chromium(page, tmp_path, "--dump-dom")
    assert any("noisy page" in line for line in browser.console_messages(dumped.stderr))


def _csv_blocks(text: str) -> dict[str, list[dict[str, str]]]:
    blocks: dict[str, list[dict[str, str]]] = {}
    head: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            head = None
        elif head is None:
            head = row
        else:
            blocks.setdefault(row[0], []).append(dict(zip(head, row, strict=True)))
    return blocks


def test_csv_json_and_formulas_in_every_format(
    seeded: tuple[Store, list[slaseed.Plan], datetime], project: Path, respond: Cli
) -> None:
    _store, plans, _now = seeded
    cli = respond.bind(cwd=project)
    data = cli("report", "sla", "--format", "json", check=True).json()
    out = project / "sla.csv"
    cli("report", "sla", "--format", "csv", "-o", str(out), check=True)
    blocks = _csv_blocks(out.read_text(encoding="utf-8-sig"))
    for row, figures in zip(blocks["level"], [*data["levels"], data["total"]], strict=True):
        assert row["level"] == str(figures["level"] or "total")
        assert int(row["incidents"]) == figures["incidents"]
        for clock in ("respond", "restore"):
            for verdict in ("met", "missed", "pending"):
                assert int(row[f"{clock}_{verdict}"]) == figures[clock][verdict]
            worst = figures[clock]["worst_s"]
            assert (float(row[f"{clock}_worst_s"]) if row[f"{clock}_worst_s"] else None) == (
                None if worst is None else pytest.approx(worst, abs=1e-3)
            )
        assert int(row["automatic_escalations"]) == figures["automatic_escalations"]
    assert [r["level"] for r in blocks["vendor"]] == ["1", "2", "3", "4", "total"]
    assert int(blocks["vendor"][-1]["cases"]) == sum(bool(p.vendor) for p in plans)
    assert len(blocks["drill"]) == 2
    assert {r["name"] for r in blocks["formula"]} == set(data["formulas"])

    formulas: dict[str, Any] = data["formulas"]
    for fmt in ("table", "md", "html"):
        text = cli("report", "sla", "--format", fmt, check=True).stdout
        for name, formula in formulas.items():
            shown = formula if fmt != "html" else formula.replace("'", "&#x27;")
            assert name in text and shown.split(";")[0] in text, (fmt, name)
    assert cli("--json", "report", "sla", check=True).json()["formulas"] == formulas
    table = cli("report", "sla", check=True).stdout  # the default format is the table
    assert "Incidents per SLA level" in table and "time to respond = " in table
