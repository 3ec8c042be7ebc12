"""Masking secrets on every path to a sink (RELIABILITY rule 9).

Executors return whole outputs (chunks are joined before anything leaves the executor), so
a secret split across two reads is whole again when the masker sees it; every sink (the
journal, the terminal, exports, ansible artifacts, netmiko's debug log) masks whole texts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_MIN_LEN = 3  # shorter values would mask ordinary text everywhere


class Masker:
    """Replaces every known secret value by ``***`` in strings and nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    def add(self, secret: object) -> None:
        if secret is None:
            return
        text = str(secret)
        if len(text) < _MIN_LEN or text in self._secrets:
            return
        self._secrets.add(text)
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def mask(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {self.mask(k): self.mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return (
                type(value)(self.mask(v) for v in value)
                if isinstance(value, tuple)
                else [self.mask(v) for v in value]
            )
        return value
