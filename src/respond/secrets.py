"""Masking secrets on every path to a sink (RELIABILITY rule 9).

Executors return whole outputs (chunks are joined before anything leaves the executor), so
a secret split across two reads is whole again when the masker sees it; every sink (the
journal, the terminal, exports, ansible artifacts, netmiko's debug log, notification files,
``respond plan``) masks whole texts.

A secret rarely travels only as itself: the command templates shell-quote it, a URL
percent-encodes it, JSON escapes it, a runbook may ``upper`` it, an HTTP header carries it in
base64. ``Masker.add`` therefore also masks the forms those common transformations give
(``variants``); a template that transforms a secret in any other way is refused by
validation (``respond.runbook.templating.secret_misuse``).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values would mask ordinary text everywhere; secret params that short are refused
# at run time instead (respond.engine.params).
MIN_LEN = 3
# A base64 fragment shorter than this would match ordinary base64 text by chance.
_MIN_B64 = 8


def variants(secret: str) -> set[str]:
    """The forms of ``secret`` that the common transformations give, itself included."""
    forms = {
        secret,
        shlex.quote(secret),
        quote(secret, safe=""),
        quote(secret),  # safe="/": Jinja's urlencode, URL paths
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        _htmlsafe_json(secret),
        repr(secret)[1:-1],
        secret.upper(),
        secret.lower(),
        secret.title(),
        secret.capitalize(),
        secret.swapcase(),
    }
    forms |= _base64_cores(secret)
    return {f for f in forms if len(f) >= MIN_LEN}


def _htmlsafe_json(secret: str) -> str:
    """Jinja's ``tojson``: JSON with ``< > & '`` escaped as ``\\u00XX``."""
    text = json.dumps(secret)[1:-1]
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(ch, esc)
    return text


def _base64_cores(secret: str) -> set[str]:
    """The base64 characters that depend only on the secret, at each of the three byte
    alignments it can have inside a longer encoded text (standard and URL-safe alphabets).
    Masking these hides the secret inside any base64 blob, e.g. an HTTP Basic header."""
    raw = secret.encode("utf-8")
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode("ascii")
        first = -(-8 * offset // 6)  # the first character with no bit of the padding before
        last = (8 * (offset + len(raw))) // 6  # characters before this one hold no bit after
        core = encoded[first:last]
        if len(core) >= _MIN_B64:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return cores


class Masker:
    """Replaces every known secret value, and its common transformed forms, by ``***`` in
    strings and nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        # a notify channel adds its URL while other hosts' outputs are being masked
        self._lock = threading.Lock()
        for s in secrets:
            self.add(s)

    def add(self, secret: object) -> None:
        if secret is None:
            return
        text = str(secret)
        if len(text) < MIN_LEN or text in self._secrets:
            return
        forms = variants(text)
        with self._lock:
            self._secrets.add(text)
            self._forms |= forms
            self._pattern = None  # compiled again on the next mask, once for many adds

    @property
    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._secrets)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._forms:
                # longest first, so that a form containing another is replaced whole
                ordered = sorted(self._forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            return self._pattern

    def mask(self, value: Any) -> Any:
        pattern = self._compiled()
        if pattern is None:
            return value
        if isinstance(value, str):
            return pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {self.mask(k): self.mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return (
                type(value)(self.mask(v) for v in value)
                if isinstance(value, tuple)
                else [self.mask(v) for v in value]
            )
        return value
