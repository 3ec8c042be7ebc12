"""What may reach the operator's terminal: text from hosts, devices, web services and
parameters is data, and a terminal must not obey it.

A host can print ``ESC [1A ESC [2K`` to move the cursor up and erase the line a gate just
showed, ``ESC [8m`` to hide what follows, an OSC 52 sequence to write the operator's
clipboard, OSC 8 to make a harmless-looking link, a bare ``CR`` or backspaces to write over
what came before, or a bidi override (U+202E) to show a command backwards. ``printable``
makes every such character visible instead of letting the terminal act on it:

- C0 controls (and DEL) become their Unicode control pictures: ESC is ``␛``, BEL ``␇``,
  CR ``␍``, BS ``␈``; so ``ESC [1A`` reads ``␛[1A``. Newlines and tabs stay (multi-line
  blocks are shown as blocks), and a ``CRLF`` line end is an ordinary line end.
- C1 controls (U+0080-U+009F, which some terminals take as ``ESC x``: U+009B is a CSI)
  and bidi embeddings, overrides and isolates are written as escapes: ``\\x9b``,
  ``\\u202e``.

Every terminal sink of the CLI goes through it after secrets are masked (masking sees the
raw bytes, so a secret split by a control character is still found). The timeline keeps
what was received (masked); only its display is neutralised. Rich markup is a separate
matter: untrusted text is printed with ``markup=False`` or as a ``Text``, never parsed.
"""

from __future__ import annotations

_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _table() -> dict[int, str]:
    table = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
    table[0x7F] = "\u2421"  # ␡
    table.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})
    table.update({c: f"\\u{c:04x}" for c in _BIDI})
    return table


_TABLE = _table()
#: For JSON text: the same characters (other than C0, which json escapes) as ``\uXXXX``.
JSON_ESCAPES = {c: f"\\u{c:04x}" for c in _TABLE if c >= 0x7F}
_UNSAFE = frozenset(chr(c) for c in _TABLE)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on shown instead (see above);
    text without any is returned as is."""
    if _UNSAFE.isdisjoint(text):
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)
