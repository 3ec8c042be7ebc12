"""Measure a self-contained HTML report in headless Chromium.

The reports carry no script (they are filed and opened anywhere). To measure one, the test
copies it and appends a script that writes what it measured (element boxes, computed
colours, whether a CJK glyph rendered as a real glyph or as the missing-glyph box) into a
``<pre id="measured">``; Chromium's ``--dump-dom`` prints the DOM after the script ran.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from browser import headless_argv

VIEWPORT = (1280, 800)

MEASURE_JS = r"""
(function () {
  function box(el) {
    const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height};
  }
  function glyphDrawn(ch, font) {
    // the character drawn vs. a code point no font has: identical pixels = a tofu box
    function draw(text) {
      const c = document.createElement("canvas");
      c.width = 64; c.height = 64;
      const g = c.getContext("2d");
      g.font = font; g.fillStyle = "#000"; g.fillText(text, 4, 48);
      return Array.from(g.getImageData(0, 0, 64, 64).data).join(",");
    }
    return draw(ch) !== draw("\u{10FFFD}") && draw(ch) !== draw("");
  }
  const out = {rows: [], bars: [], charts: [], texts: {}, cjk: null};
  document.querySelectorAll("table.meta tr").forEach(function (tr) {
    const cells = tr.querySelectorAll("td");
    if (cells.length < 2) return;
    out.rows.push({label: cells[0].textContent, value: cells[1].textContent,
                   box: box(tr), colour: getComputedStyle(cells[1]).color,
                   cls: tr.className + " " + cells[1].className});
  });
  document.querySelectorAll("svg[data-chart-x]").forEach(function (svg) {
    const r = box(svg);
    const x0 = parseFloat(svg.getAttribute("data-chart-x"));
    const w = parseFloat(svg.getAttribute("data-chart-width"));
    const scale = r.w / parseFloat(svg.getAttribute("width"));
    const bars = Array.from(svg.querySelectorAll("rect.bar")).map(box);
    out.charts.push({box: r, plot_x: r.x + x0 * scale, plot_w: w * scale, bars: bars});
  });
  const title = document.querySelector("h1");
  const font = getComputedStyle(title).font;
  out.cjk = {font: font, drawn: glyphDrawn("机", font)};
  out.viewport = {w: window.innerWidth, h: window.innerHeight};
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def _argv(tmp: Path, *extra: str) -> list[str]:
    return headless_argv(
        tmp / "profile",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
        "--hide-scrollbars",
        *extra,
    )


def measure(page_html: str, tmp: Path) -> dict[str, Any]:
    """Load the page at 1280×800 and return what MEASURE_JS found."""
    return run_script(page_html, MEASURE_JS, tmp)


def run_script(page_html: str, script: str, tmp: Path) -> dict[str, Any]:
    """Load a copy of the page with ``script`` appended and return the JSON the script put
    into a ``<pre id="measured">`` (MEASURE_JS shows how)."""
    tmp.mkdir(parents=True, exist_ok=True)
    page = tmp / "measured.html"
    page.write_text(
        page_html.replace("</body>", f"<script>{script}</script></body>"), encoding="utf-8"
    )
    proc = subprocess.run(
        [*_argv(tmp, "--dump-dom"), page.as_uri()], capture_output=True, timeout=120
    )
    dom = proc.stdout.decode("utf-8", errors="replace")
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, proc.stderr.decode(errors="replace")[-2000:]
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    data: dict[str, Any] = json.loads(text)
    return data
