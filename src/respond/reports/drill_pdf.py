"""The after-action report as PDF (fpdf2, pure Python): the same blocks as the md and html.

Chinese names and titles need a font that has their glyphs: ``RESPOND_PDF_FONT`` (a TTF or
TTC file), else a CJK font found on the machine (common paths, then ``fc-match``). Without
one the report is still written with a core font, non-Latin text replaced by ``?``, and the
caller is told so in one line.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from respond.errors import ConfigError
from respond.reports.drill_render import Block, blocks, numbered, stamp_rows

FONT_ENV = "RESPOND_PDF_FONT"
# Where Debian/Ubuntu/Fedora put the usual CJK fonts (TrueType outlines first: fpdf2 embeds
# them as they are).
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FALLBACK_WARNING = (
    "no CJK font found (set RESPOND_PDF_FONT to a .ttf/.ttc file, e.g. from fonts-wqy-zenhei): "
    "non-Latin text in the PDF is replaced by '?'"
)
_FAMILY = "respond-cjk"


def find_font() -> Path | None:
    """The font for the PDF: ``RESPOND_PDF_FONT``, a known CJK font, or what fontconfig
    names for Chinese; None when the machine has none."""
    given = os.environ.get(FONT_ENV)
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ConfigError(f"{FONT_ENV}={given}: no such font file")
        return path
    for candidate in FONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    return _fontconfig_font()


def _fontconfig_font() -> Path | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        proc = subprocess.run(
            [fc_match, "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = Path(proc.stdout.strip())
    if proc.returncode == 0 and path.suffix.lower() in (".ttf", ".ttc") and path.is_file():
        return path
    return None


@contextmanager
def quiet_font_tools() -> Iterator[None]:
    """fontTools and fpdf2 log what they skip while subsetting a font (bitmap tables, a
    glyph the font lacks) as warnings on stderr: noise for the person reading the report."""
    loggers = [logging.getLogger(name) for name in ("fontTools", "fpdf")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def render_pdf(
    doc: Mapping[str, Any], stamp: Mapping[str, Any], font: Path | None = None
) -> tuple[bytes, list[str]]:
    """The document as PDF bytes, and the warnings for the person who asked for it."""
    with quiet_font_tools():
        return _render_pdf(doc, stamp, font)


def _render_pdf(
    doc: Mapping[str, Any], stamp: Mapping[str, Any], font: Path | None
) -> tuple[bytes, list[str]]:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"After-action report {doc.get('drill')} {doc.get('run_id')}")
    warnings: list[str] = []
    writer = _Writer(pdf, _font_family(pdf, font, warnings))
    pdf.add_page()
    writer.heading(f"After-action report — {doc.get('title')} ({doc.get('drill')})", 15)
    writer.line(f"run {doc.get('run_id')} · report version {stamp.get('version')}", 9)
    writer.line(f"sha256 {stamp.get('sha256')}", 8)
    for n, key, title, data in numbered(doc):
        writer.heading(f"{n}. {title}", 12)
        if key == "timeline":
            writer.chart(data)
        writer.blocks(blocks(data))
        if key == "integrity":
            writer.blocks([Block("rows", label="This report", rows=tuple(stamp_rows(stamp)))])
    return bytes(pdf.output()), warnings


def _font_family(pdf: Any, font: Path | None, warnings: list[str]) -> str | None:
    """Register the CJK font (the first face of a collection); None: core font only."""
    font = font if font is not None else find_font()
    if font is None:
        warnings.append(FALLBACK_WARNING)
        return None
    pdf.add_font(_FAMILY, "", str(font))
    return _FAMILY


class _Writer:
    """Text into the PDF, in the one font chosen; latin-1 only with the core font."""

    def __init__(self, pdf: Any, family: str | None) -> None:
        self.pdf = pdf
        self.family = family

    def text(self, value: str) -> str:
        if self.family is not None:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def _font(self, size: float) -> None:
        self.pdf.set_font(self.family or "helvetica", size=size)

    def heading(self, value: str, size: float) -> None:
        self.pdf.ln(2)
        self.line(value, size)

    def line(self, value: str, size: float = 9) -> None:
        from fpdf.enums import XPos, YPos

        self._font(size)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def blocks(self, items: Sequence[Block]) -> None:
        for b in items:
            if b.kind == "rows":
                for label, value in b.rows:
                    self.line(f"{label}: {value}" if label else value, 9)
            elif b.kind == "table":
                self.line(b.label, 10)
                for row in b.cells:
                    cells = zip(b.columns, row, strict=True)
                    self.line("  - " + " · ".join(f"{c}: {v}" for c, v in cells if v != "-"), 8)
            else:
                if b.label:
                    self.line(b.label, 10)
                self.line(b.text, 8)

    def chart(self, timeline: Any) -> None:
        """Planned (grey) and actual (blue) time of each step as bars."""
        steps = [s for s in (timeline or {}).get("steps") or [] if isinstance(s, dict)]
        if not steps:
            return
        values = [float(s.get(k) or 0) for s in steps for k in ("planned_s", "actual_s")]
        longest = max([*values, 1.0])
        pdf, x0, width = self.pdf, 15 + 45, 120
        self._font(7)
        for s in steps:
            if pdf.will_page_break(8):
                pdf.add_page()
            y = pdf.get_y()
            pdf.text(15, y + 3, self.text(str(s.get("step_id")))[:30])
            for i, (key, grey) in enumerate((("planned_s", 190), ("actual_s", None))):
                value = s.get(key)
                if value is None:
                    continue
                pdf.set_fill_color(grey, grey, grey) if grey else pdf.set_fill_color(21, 101, 192)
                pdf.rect(x0, y + i * 3.2, max(width * float(value) / longest, 0.5), 2.8, style="F")
            pdf.set_y(y + 7.5)
