"""Matching a CLI line against a dialect's command keywords, with unique-prefix abbreviations.

Every vendor CLI accepts any unique prefix of each keyword (``sh ip int br``, ``dis int br``,
``conf t``). A dialect lists its commands as keyword paths; :func:`resolve` finds the one a
line names, the words after it (arguments), or where the line stops making sense.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Command:
    path: tuple[str, ...]  # lowercase keywords: ("show", "interfaces", "status")
    handler: Callable[..., str]
    args: str = "none"  # "none" | "optional" | "required": words after the keywords

    @classmethod
    def of(cls, words: str, handler: Callable[..., str], args: str = "none") -> Command:
        return cls(tuple(words.lower().split()), handler, args)


@dataclass(frozen=True, slots=True)
class Match:
    command: Command
    args: list[str]


@dataclass(frozen=True, slots=True)
class NoMatch:
    kind: str  # "invalid" | "ambiguous" | "incomplete"
    column: int  # where the offending word starts in the line (for the caret)


def resolve(line: str, commands: Sequence[Command]) -> Match | NoMatch:
    """The command ``line`` names, or why none does."""
    words, columns = split_words(line)
    candidates = list(commands)
    for index, word in enumerate(words):
        lower = word.lower()
        with_keyword = [c for c in candidates if len(c.path) > index]
        matching = [c for c in with_keyword if c.path[index].startswith(lower)]
        if matching:
            keywords = {c.path[index] for c in matching}
            if lower in keywords:
                matching = [c for c in matching if c.path[index] == lower]
            elif len(keywords) > 1:
                return NoMatch("ambiguous", columns[index])
            candidates = matching
            continue
        taking = [c for c in candidates if len(c.path) == index and c.args != "none"]
        if taking:
            return Match(taking[0], words[index:])
        return NoMatch("invalid", columns[index])
    complete = [c for c in candidates if len(c.path) == len(words) and c.args != "required"]
    if complete:
        return Match(complete[0], [])
    return NoMatch("incomplete", len(line))


def split_words(line: str) -> tuple[list[str], list[int]]:
    """The words of a line and the column each starts at."""
    words: list[str] = []
    columns: list[int] = []
    index = 0
    while index < len(line):
        if line[index].isspace():
            index += 1
            continue
        start = index
        while index < len(line) and not line[index].isspace():
            index += 1
        words.append(line[start:index])
        columns.append(start)
    return words, columns


def rest_of_line(line: str, words_before: int) -> str:
    """The text after the first ``words_before`` words, spacing kept (``description A  B``)."""
    words, columns = split_words(line)
    if len(words) <= words_before:
        return ""
    return line[columns[words_before] :].rstrip()


def call(match: Match, *extra: Any) -> str:
    return match.command.handler(*extra, match.args)
