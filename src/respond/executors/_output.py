"""Bounded capture of a command's output streams, shared by the command-running kinds.

A diagnostic that suddenly prints gigabytes must not take the operator's laptop down with
it: each stream keeps at most ``cap`` bytes in memory and counts what it dropped. Bytes are
decoded once, at the end, as UTF-8 with replacement, so a multi-byte character split across
two reads (Chinese output is common here) survives intact.
"""

from __future__ import annotations

OUTPUT_CAP = 1 << 20  # bytes kept per stream per command


class CappedBuffer:
    """Keeps the first ``cap`` bytes fed to it and counts the rest."""

    __slots__ = ("_cap", "_parts", "_size", "dropped")

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self._cap = cap
        self._parts: list[bytes] = []
        self._size = 0
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        if not data:
            return
        room = self._cap - self._size
        if room >= len(data):
            self._parts.append(data)
            self._size += len(data)
            return
        if room > 0:
            self._parts.append(data[:room])
            self._size += room
        self.dropped += len(data) - max(room, 0)

    @property
    def size(self) -> int:
        return self._size

    def text(self, encoding: str = "utf-8") -> str:
        """The kept bytes as text, with a note when some were dropped."""
        data = b"".join(self._parts)
        try:
            text = data.decode(encoding, errors="replace")
        except LookupError:  # an unknown charset named by a server
            text = data.decode("utf-8", errors="replace")
        if self.dropped:
            text += (
                f"\n[respond: output truncated: {self.dropped} more bytes were not kept "
                f"(limit {self._cap} bytes per stream)]"
            )
        return text
