"""The after-action report as a page and as a PDF: the html opened in headless Chromium
draws the planned-vs-actual chart to the recorded figures, carries a print stylesheet that
Chromium parses (A4, the long fields on a new page) and asks for nothing outside itself; the
PDF written by `respond drill report --format pdf` holds the drill, the Chinese names and the
figures, and never the secret."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from clikit import Cli
from drillseed import LEAD_NAME, SECRET, clock_on_store, record_drill, write_project
from pagekit import run_script

from respond.config import load_config
from respond.reports import drill_pdf
from respond.reports.drill import document_sha256, drill_document
from respond.reports.drill_render import render
from respond.timeline import open_store

PAGE_JS = r"""
(function () {
  const out = {bars: {}, print: [], external: [], resources: 0, breaks: []};
  document.querySelectorAll("svg.plan-chart rect").forEach(function (r) {
    const step = r.closest("svg") && r.getAttribute("class");
    (out.bars[step] = out.bars[step] || []).push(r.getBoundingClientRect().width);
  });
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      if (rule.media && rule.media.mediaText === "print") {
        for (const inner of rule.cssRules) {
          if (inner instanceof CSSPageRule) out.print.push(["@page", inner.cssText, ""]);
          else out.print.push([inner.selectorText, inner.style.breakBefore,
                               inner.style.breakInside]);
        }
      }
    }
  }
  document.querySelectorAll("[src],[href],link,iframe,object,embed,img").forEach(function (el) {
    out.external.push(el.outerHTML.slice(0, 120));
  });
  out.resources = performance.getEntriesByType("resource").length;
  document.querySelectorAll("section.field.break h2").forEach(function (h) {
    out.breaks.push(h.textContent);
  });
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


@pytest.fixture
def drill_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    write_project(project)
    clock = clock_on_store(monkeypatch)
    with open_store(load_config(project)) as store:
        seeded = record_drill(store, clock)
    return project, seeded.run_id


def test_html_page_chart_print_stylesheet_and_nothing_external(
    drill_project: tuple[Path, str], tmp_path: Path
) -> None:
    project, run_id = drill_project
    config = load_config(project)
    with open_store(config) as store:
        doc = drill_document(store, run_id, config)
    page = render(doc, {"sha256": document_sha256(doc), "version": 1}, "html")
    assert SECRET not in page
    seen = run_script(page, PAGE_JS, tmp_path / "page")

    # one planned and one actual bar per step, drawn to scale: planned 1m/30s/4m against
    # actual 1m/10s/4m (drillseed), the longest (4m) the full width
    planned, actual = seen["bars"]["planned"], seen["bars"]["actual"]
    assert len(planned) == len(actual) == 3
    assert planned[0] / planned[2] == pytest.approx(60 / 240, rel=0.02)
    assert actual[1] / planned[1] == pytest.approx(10 / 30, rel=0.05)
    assert actual[2] == pytest.approx(planned[2], rel=0.01)

    rules = {selector: (before, inside) for selector, before, inside in seen["print"]}
    assert rules["section.field.break"][0] == "page"
    assert rules["section.field"][1].startswith("avoid")
    assert [b for s, b, _ in seen["print"] if s == "@page"] == ["@page { size: a4; margin: 15mm; }"]
    assert seen["breaks"] == ["9.Timeline", "12.Observations", "17.Integrity and retention"]
    assert seen["external"] == [] and seen["resources"] == 0


def test_pdf_holds_the_drill_names_and_figures_never_the_secret(
    drill_project: tuple[Path, str], respond: Cli
) -> None:
    project, run_id = drill_project
    result = respond("drill", "report", run_id, "--format", "pdf", cwd=project)
    assert result.rc == 0, result
    target = project / f"drill-{run_id}.pdf"
    assert result.stderr.strip() == f"wrote drill-{run_id}.pdf" and target.is_file()
    assert "warning" not in result.stderr  # a CJK font was found (fonts-wqy-zenhei)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    squeezed = " ".join(text.split())
    assert "q1-power" in squeezed and LEAD_NAME in squeezed and "李娜" in squeezed
    # the objectives' figures: respond 60 s after the inject, restore after 595 s
    assert "respond (s): 1m (60 s)" in squeezed and "restore (s): 9m 55s (595 s)" in squeezed
    assert "planned steps (s) · shed-load: 4m (240 s)" in squeezed
    assert "ups_password" in squeezed and SECRET not in text


def test_pdf_without_a_cjk_font_falls_back_with_one_warning(
    drill_project: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, run_id = drill_project
    config = load_config(project)
    with open_store(config) as store:
        doc = drill_document(store, run_id, config)
    monkeypatch.delenv(drill_pdf.FONT_ENV, raising=False)
    monkeypatch.setattr(drill_pdf, "FONT_PATHS", ())
    monkeypatch.setattr(drill_pdf, "_fontconfig_font", lambda: None)
    data, warnings = drill_pdf.render_pdf(doc, {"sha256": "x", "version": 1})
    assert warnings == [drill_pdf.FALLBACK_WARNING]
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "q1-power" in text and LEAD_NAME not in text and "??" in text


def test_a_missing_pdf_font_named_by_the_environment_is_a_clear_error(
    drill_project: tuple[Path, str], respond: Cli
) -> None:
    project, run_id = drill_project
    result = respond(
        "drill",
        "report",
        run_id,
        "--format",
        "pdf",
        cwd=project,
        env={"RESPOND_PDF_FONT": str(project / "no-such.ttf")},
    )
    assert result.rc == 2, result
    assert f"RESPOND_PDF_FONT={project / 'no-such.ttf'}: no such font file" in result.stderr
    assert "Traceback" not in result.stderr and not list(project.glob("*.pdf"))
