"""`respond inspect report RUN_ID` in every format, each read back the way its reader would:
md and json as text, the html in headless Chromium (drawn, no console error, state cells in
their colours, the Chinese title drawn with real glyphs), xlsx with openpyxl, docx with
python-docx, pdf as text with pypdf. An inventory password that reached a check's summary
is masked in every one; refusals are one line with exit 2."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from browser import console_messages, headless
from clikit import Cli, Result
from records import (
    OPERATOR,
    SECRET,
    START,
    clock_on_store,
    disk,
    load,
    meta,
    record_inspection,
    unreachable,
    ups,
    write_project,
)

from respond.config import load_config
from respond.reports.inspection import STATE_FILLS
from respond.timeline import open_store

LEAKED = f"DISK CRITICAL - / 93% used (mounted with password={SECRET})"
BEFORE = [disk("db1", 85), disk("web1", 55), load("db1", 0.2), ups("ups1", 29, on_battery=True)]
NOW = [
    disk("db1", 93, summary=LEAKED),
    load("db1", 0.3),
    unreachable("load", "web1"),
    ups("ups1", 42),
]


@dataclass(frozen=True)
class Seeded:
    project: Path
    cli: Cli
    run_id: str
    before: str
    plain: str  # a run of a runbook
    home: Path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp("inspection-report")
    project = write_project(root / "project")
    (project / "respond.yaml").write_text("project: inspections\n", encoding="utf-8")
    home = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        clock = clock_on_store(patch)
        with open_store(load_config(project, str(home))) as store:
            before = record_inspection(store, clock, BEFORE, start=START)
            now = record_inspection(store, clock, NOW, start=START + timedelta(days=1))
            plain = {k: v for k, v in meta().items() if k != "inspection"}
            store.create_run("20261203T000000Z-beef", {**plain, "runbook": "power-outage"})
    env = {"RESPOND_HOME": str(home), "RESPOND_PROJECT": str(project)}
    cli = Cli(cwd=project, env=env, in_process=True)
    yield Seeded(project, cli, now.run_id, before.run_id, "20261203T000000Z-beef", home)


def _ok(result: Result) -> Result:
    assert result.rc == 0, result
    assert SECRET not in result.stdout + result.stderr
    return result


def test_markdown_and_json_carry_every_part_of_the_report(seeded: Seeded) -> None:
    md = _ok(seeded.cli("inspect", "report", seeded.run_id[:18])).stdout
    assert md.startswith("# 巡检报告 Inspection report — 日常巡检 / Daily inspection (daily)")
    for heading in ("Scope 巡检范围", "Problems found 发现的问题", "Trend 趋势"):
        assert f"## {heading}" in md
    assert f"| inspector | {OPERATOR} |" in md and "| devices | 3: db1, ups1, web1 |" in md
    assert "| db1 | disk | 磁盘空间 / Disk space | CRITICAL | 93% | warn 80 / crit 90 |" in md
    assert "OK 2 · WARNING 0 · CRITICAL 1 · UNKNOWN 1" in md
    assert "Free space: rotate logs, remove old backups." in md  # the advice
    assert "password=***" in md
    assert "| worse | db1 | disk | WARNING | CRITICAL |" in md
    # no signing key in this project: intact, and not sealed
    assert f"| timeline verify | {seeded.run_id}: not sealed (12 events; " in md

    doc = _ok(seeded.cli("inspect", "report", seeded.run_id, "--format", "json")).json()
    assert doc["run_id"] == seeded.run_id and doc["inspector"] == OPERATOR
    assert doc["counts"] == {"OK": 2, "WARNING": 0, "CRITICAL": 1, "UNKNOWN": 1}
    assert doc["worst"] == "CRITICAL" and doc["outcome"] == "unresolved"
    assert doc["scope"]["hosts"] == ["db1", "ups1", "web1"]
    assert [c["id"] for c in doc["scope"]["checks"]] == ["disk", "load", "ups"]
    assert [(p["host"], p["check_id"]) for p in doc["problems"]] == [
        ("db1", "disk"),
        ("web1", "load"),
    ]
    assert doc["trend"]["previous"]["run_id"] == seeded.before
    assert doc["trend"]["counts"] == {"worse": 1, "new": 1, "better": 1, "gone": 1}
    assert doc["integrity"]["verified"] is True and doc["integrity"]["verdict"] == "not sealed"
    assert doc["time"]["started"].startswith("2026-12-02T00:00:00")
    # the global --json, and the command's own, give the same document
    again = _ok(seeded.cli("--json", "inspect", "report", seeded.run_id)).json()
    assert again["devices"] == doc["devices"]
    assert (
        _ok(seeded.cli("inspect", "report", seeded.run_id, "--json")).json()["trend"]
        == doc["trend"]
    )


PAGE_JS = r"""
(function () {
  const out = {cells: {}, title: document.querySelector("h1").textContent, glyph: null,
               sections: []};
  document.querySelectorAll("#devices td[class^=s-]").forEach(function (td) {
    out.cells[td.textContent] = getComputedStyle(td).backgroundColor;
  });
  document.querySelectorAll("section h2").forEach(function (h) { out.sections.push(h.textContent); });
  function draw(text, font) {
    const c = document.createElement("canvas");
    c.width = 64; c.height = 64;
    const g = c.getContext("2d");
    g.font = font; g.fillText(text, 4, 48);
    return Array.from(g.getImageData(0, 0, 64, 64).data).join(",");
  }
  const font = getComputedStyle(document.querySelector("h1")).font;
  out.glyph = draw("巡", font) !== draw("\u{10FFFD}", font);
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_html_drawn_in_chromium_with_state_colours_and_the_chinese_title(
    seeded: Seeded, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = _ok(seeded.cli("inspect", "report", seeded.run_id, "--format", "html", "-o", str(out)))
    assert result.stderr.strip() == f"wrote {out}"
    page = out.read_text(encoding="utf-8")
    assert SECRET not in page and "password=***" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page

    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", f"<script>{PAGE_JS}</script></body>"), "utf-8")
    shown = headless(probe, tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="measured">(.*?)</pre>', shown.stdout.decode(), re.S)
    assert found, shown.stderr.decode(errors="replace")[-2000:]
    seen = json.loads(
        found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    assert console_messages(shown.stderr) == []
    assert seen["title"] == "巡检报告 Inspection report — 日常巡检 / Daily inspection (daily)"
    assert seen["glyph"] is True  # drawn with a CJK font, not the missing-glyph box
    assert seen["cells"] == {
        "CRITICAL": _rgb(STATE_FILLS["CRITICAL"]),
        "OK": _rgb(STATE_FILLS["OK"]),
        "UNKNOWN": _rgb(STATE_FILLS["UNKNOWN"]),
    }
    assert "Results per device 设备检查结果" in seen["sections"]


def test_xlsx_sheets_styles_and_fills_read_back_with_openpyxl(
    seeded: Seeded, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    result = _ok(seeded.cli("inspect", "report", seeded.run_id, "--format", "xlsx", cwd=tmp_path))
    target = tmp_path / f"{seeded.run_id}.xlsx"
    assert result.stderr.strip() == f"wrote {seeded.run_id}.xlsx" and target.is_file()
    book = load_workbook(target)
    assert book.sheetnames == ["Summary", "Results", "Problems", "Trend"]
    sheet = book["Results"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "device",
        "check",
        "what is checked",
        "state",
        "value",
        "threshold",
        "summary",
    ]
    assert rows[1][:6] == [
        "db1",
        "disk",
        "磁盘空间 / Disk space",
        "CRITICAL",
        "93%",
        "warn 80 / crit 90",
    ]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G5"
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("263238")
    assert sheet["D2"].fill.fgColor.rgb.endswith(STATE_FILLS["CRITICAL"][1:].upper())
    assert sheet["D3"].fill.fgColor.rgb.endswith(STATE_FILLS["OK"][1:].upper())
    assert sheet.column_dimensions["G"].width > sheet.column_dimensions["D"].width
    problems = [[c.value for c in row] for row in book["Problems"].iter_rows(min_row=2)]
    assert [(p[0], p[1], p[2]) for p in problems] == [
        ("db1", "disk", "CRITICAL"),
        ("web1", "load", "UNKNOWN"),
    ]
    trend = [r[0] for r in book["Trend"].iter_rows(min_row=2, values_only=True)]
    assert trend == ["worse", "new", "better", "gone"]
    every = " ".join(
        str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v
    )
    assert SECRET not in every and "password=***" in every and OPERATOR in every


def test_docx_headings_and_tables_read_back_with_python_docx(
    seeded: Seeded, tmp_path: Path
) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    out = tmp_path / "report.docx"
    _ok(seeded.cli("inspect", "report", seeded.run_id, "--format", "docx", "-o", str(out)))
    document = Document(str(out))
    headings = [
        p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))
    ]
    assert headings[0] == "巡检报告 Inspection report — 日常巡检 / Daily inspection (daily)"
    assert "Problems found 发现的问题" in headings and "Trend 趋势" in headings
    for style in ("Normal", "Title", "Heading 1"):  # Chinese in a font that has it
        fonts = document.styles[style].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "SimSun" and fonts.get(qn("w:eastAsiaTheme")) is None
    results = next(
        t for t in document.tables if t.rows[0].cells[0].text == "device" and len(t.columns) == 7
    )
    first = [c.text for c in results.rows[1].cells]
    assert first[:5] == ["db1", "disk", "磁盘空间 / Disk space", "CRITICAL", "93%"]
    fill = results.rows[1].cells[3]._tc.tcPr.xpath("./w:shd/@w:fill")
    assert fill == [STATE_FILLS["CRITICAL"][1:].upper()]
    text = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert SECRET not in text and "password=***" in text


def test_pdf_text_holds_the_report_with_chinese_never_the_secret(
    seeded: Seeded, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    out = tmp_path / "report.pdf"
    result = _ok(seeded.cli("inspect", "report", seeded.run_id, "--format", "pdf", "-o", str(out)))
    assert "warning" not in result.stderr  # a CJK font was found (fonts-wqy-zenhei)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    squeezed = " ".join(text.split())
    assert "巡检报告" in squeezed and "日常巡检" in squeezed and OPERATOR in squeezed
    assert "CRITICAL" in squeezed and "UNKNOWN" in squeezed and "93%" in squeezed
    assert "Free space: rotate logs" in squeezed and "worse: disk on db1 WARNING" in squeezed
    assert SECRET not in text and "password=***" in squeezed


def test_refusals_are_one_line_exit_2(seeded: Seeded) -> None:
    plain = seeded.cli("inspect", "report", seeded.plain)
    assert plain.rc == 2, plain
    assert plain.stderr.strip() == (
        f"error: {seeded.plain} is a run of runbook power-outage, not an inspection"
    )
    unknown = seeded.cli("inspect", "report", "19990101")
    assert unknown.rc == 2 and "no run '19990101'" in unknown.stderr
    bad = seeded.cli("inspect", "report", seeded.run_id, "--format", "odt")
    assert bad.rc == 2 and "Traceback" not in bad.stderr


def test_the_report_libraries_load_only_for_their_format() -> None:
    """`respond inspect report --help` (and the group's help) import neither openpyxl,
    python-docx nor fpdf: each is imported by its renderer, when that format is asked for."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from respond.cli import main\n"
        "for args in (['inspect', '--help'], ['inspect', 'report', '--help'], "
        "['inspect', 'log', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print('LOADED', sorted(m for m in ('openpyxl', 'docx', 'fpdf', 'pydantic') "
        "if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]


def test_pdf_without_a_cjk_font_falls_back_with_one_warning(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PdfReader

    from respond.reports import drill_pdf, inspection_pdf
    from respond.reports.inspection import inspection_report

    with open_store(load_config(seeded.project, str(seeded.home))) as store:
        doc = inspection_report(store, seeded.run_id)
    monkeypatch.delenv(drill_pdf.FONT_ENV, raising=False)
    monkeypatch.setattr(drill_pdf, "FONT_PATHS", ())
    monkeypatch.setattr(drill_pdf, "_fontconfig_font", lambda: None)
    data, warnings = inspection_pdf.render_pdf(doc)
    assert warnings == [drill_pdf.FALLBACK_WARNING]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "daily" in text and "CRITICAL" in text and "巡检" not in text and "??" in text
