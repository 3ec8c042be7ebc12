"""Headless Chromium for the tests: find (or install) the browser, read the colours of a
screenshot without an imaging library, and tell whether Chinese text is drawn with real
glyphs (``pagekit`` measures pages with the same browser).

The reports carry no script. ``cjk_glyphs_drawn`` loads a copy of a page with a script
appended that draws a character in the page's own font and compares it with a code point no
font has (the missing-glyph box); Chromium's ``--dump-dom`` prints what it wrote."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

_GLYPH_JS = r"""
(function () {
  function draw(text, font) {
    const c = document.createElement("canvas");
    c.width = 64; c.height = 64;
    const g = c.getContext("2d");
    g.font = font; g.fillStyle = "#000"; g.fillText(text, 4, 48);
    return Array.from(g.getImageData(0, 0, 64, 64).data).join(",");
  }
  const font = getComputedStyle(document.querySelector("h1")).font;
  const tofu = draw("\u{10FFFD}", font);
  const drawn = CHARS.filter(function (ch) { return draw(ch, font) !== tofu; });
  const pre = document.createElement("pre");
  pre.id = "glyphs"; pre.textContent = drawn.join("");
  document.body.appendChild(pre);
})();
"""


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return "/usr/bin/chromium"
    raise RuntimeError("chromium is needed to render the HTML report (apt-get install chromium)")


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """A tiny PNG decoder (8-bit RGB/RGBA, non-interlaced): width, height, rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = bit_depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, bit_depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert bit_depth == 8 and colour in (2, 6), (bit_depth, colour)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(
            bytes(line)
            if bpp == 3
            else bytes(v for j in range(0, stride, 4) for v in line[j : j + 3])
        )
        prev = line
    return width, height, rows


def colour_pixels(png: bytes, colours: Mapping[str, str], tolerance: int = 12) -> dict[str, int]:
    """How many pixels of the screenshot are near each ``#rrggbb`` colour."""
    wanted = {name: tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for name, c in colours.items()}
    counts = dict.fromkeys(colours, 0)
    width, _height, rows = read_png(png)
    for row in rows:
        for x in range(0, width * 3, 3):
            px = (row[x], row[x + 1], row[x + 2])
            if px == (255, 255, 255):
                continue
            for name, rgb in wanted.items():
                if all(abs(a - b) <= tolerance for a, b in zip(px, rgb, strict=True)):
                    counts[name] += 1
    return counts


def headless_argv(profile: Path, *extra: str) -> list[str]:
    """Headless Chromium with a throw-away profile and nothing fetched on its own."""
    return [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
    ]


def headless(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess[bytes]:
    """Chromium on ``page`` (``--dump-dom``, ``--screenshot=…``), console messages logged to
    stderr (lines with ``:CONSOLE``)."""
    argv = headless_argv(profile, "--enable-logging=stderr", "--v=0", *mode, page.as_uri())
    return subprocess.run(argv, capture_output=True, timeout=120, check=False)


def console_messages(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]


def cjk_glyphs_drawn(html_text: str, chars: Sequence[str], tmp: Path) -> str:
    """Which of ``chars`` the page's heading font draws as real glyphs (not the box)."""
    script = _GLYPH_JS.replace("CHARS", json.dumps(list(chars)))
    page = tmp / "glyphs.html"
    page.write_text(html_text.replace("</body>", f"<script>{script}</script></body>"), "utf-8")
    dumped = headless(page, tmp / "profile", "--dump-dom")
    found = re.search(r'<pre id="glyphs">(.*?)</pre>', dumped.stdout.decode(), re.S)
    assert found, dumped.stderr.decode(errors="replace")[-2000:]
    return found.group(1)
