"""End to end on the lab: `respond inspect run daily` with OA down (its report.to gets the
html and md reports), then `respond inspect report` of that run in every format and
`respond inspect log` of the day, all read back: OA's findings (http-oa on oa1 CRITICAL) are
the problems each format shows, with advice."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from labkit import Lab, copy_project, start_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("inspect-report")
    lab = start_lab(copy_project(root / "proj"), root / "home")
    try:
        yield lab
    finally:
        lab.down()


def test_a_lab_inspection_reported_in_every_format(lab: Lab, tmp_path: Path) -> None:
    lab.inject("oa-down")
    try:
        ran = lab.respond("inspect", "run", "daily", "--json", "--no-actions")
    finally:
        lab.heal()
    assert ran.rc == 1, ran.stderr
    run_id = json.loads(ran.stdout)["run_id"]
    # daily.yaml's report: html and md written after the run, as `inspect report` writes them
    folder = lab.project / "reports" / "inspections"
    assert sorted(p.name for p in folder.iterdir()) == [f"{run_id}.html", f"{run_id}.md"]
    assert "| oa1 | http-oa | CRITICAL |" in (folder / f"{run_id}.md").read_text(encoding="utf-8")

    doc = lab.json("inspect", "report", run_id)
    graded = json.loads(ran.stdout)["results"]
    bad = {(r["host"], r["check_id"]) for r in graded if r["state"] != "OK"}
    assert ("oa1", "http-oa") in bad  # OA down: its health check (and what else it turns)
    assert doc["inspection"] == "daily" and doc["total"] == len(graded) > 10
    assert {(p["host"], p["check_id"]) for p in doc["problems"]} == bad
    assert doc["counts"]["OK"] == len(graded) - len(bad)
    assert all(p["advice"] != "-" for p in doc["problems"]) and doc["integrity"]["verified"]
    assert "oa1" in doc["scope"]["hosts"] and "core-sw1" in doc["scope"]["hosts"]

    md = lab.respond("inspect", "report", run_id[:19])
    assert md.rc == 0 and "| oa1 | http-oa | CRITICAL |" in md.stdout

    written = {}
    for fmt in ("html", "xlsx", "docx", "pdf"):
        target = tmp_path / f"report.{fmt}"
        result = lab.respond("inspect", "report", run_id, "--format", fmt, "-o", str(target))
        assert result.rc == 0, result
        written[fmt] = target
    assert "OA 健康检查 / OA health endpoint" in written["html"].read_text(encoding="utf-8")

    from docx import Document
    from openpyxl import load_workbook
    from pypdf import PdfReader

    problems = list(load_workbook(written["xlsx"])["Problems"].iter_rows(values_only=True))
    assert {row[:2] for row in problems[1:]} == bad
    assert ("oa1", "http-oa", "CRITICAL") in {row[:3] for row in problems}
    cells = {c.text for t in Document(str(written["docx"])).tables for r in t.rows for c in r.cells}
    assert "http-oa" in cells and "CRITICAL" in cells
    pdf = PdfReader(io.BytesIO(written["pdf"].read_bytes()))
    assert "http-oa" in "".join(p.extract_text() for p in pdf.pages)

    today = datetime.now(UTC).strftime("%Y-%m-%dZ")
    log = lab.json("inspect", "log", "--from", today, "--to", today, "--check", "http-oa")
    assert [(r["device"], r["state"], r["run_id"]) for r in log["results"]] == [
        ("oa1", "CRITICAL", run_id)
    ]
