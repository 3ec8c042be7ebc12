"""Ansible host patterns: ``all``, ``*``, ``group``, ``host``, ``a:b``, ``a,b``, ``a:&b``,
``a:!b``, globs, ``~regex`` and ``group[0]`` / ``group[1:3]`` subscripts.

The algorithm follows ``ansible.inventory.manager.InventoryManager`` step by step so that the
selected hosts *and their order* are the ones ``ansible PATTERN --list-hosts`` prints:

1. split on ``,`` (or, when there is no comma and the pattern is not an address, on ``:``);
2. regular terms first, then ``&`` intersections, then ``!`` exclusions (only exclusions or
   intersections means "start from all");
3. a term names a plain host → that host; otherwise it is matched (fnmatch, or regex after
   ``~``) against group names, and against host names too when no group matched or the term
   is a glob/regex/dotted name; groups give their hosts in Ansible's group order;
4. duplicates are dropped keeping the first occurrence.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ._addresses import AddressError, parse_address

_SUBSCRIPT = re.compile(
    r"""^
        (.+)                    # a pattern expression ending with...
        \[(?:                   # a [subscript] comprising:
            (-?[0-9]+)|         # a single positive or negative number
            ([0-9]+)([:-])      # or an x:y or x: range
            ([0-9]*)
        )\]
        $
    """,
    re.X,
)
_COLON_TERMS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SPECIAL = (".", "?", "*", "[")


class PatternError(ValueError):
    """A host pattern that cannot be evaluated (empty term, bad regex, unbalanced bracket)."""


@dataclass(frozen=True, slots=True)
class Term:
    op: str  # "" (union), "&" (intersection) or "!" (exclusion)
    expr: str  # the pattern without operator and subscript
    subscript: tuple[int, int | None] | None
    text: str  # the term as written, for messages


def split_pattern(pattern: str) -> list[str]:
    """Split a pattern string into its terms, exactly as Ansible's split_host_pattern."""
    if "," in pattern:
        parts = pattern.split(",")
    else:
        try:
            parse_address(pattern)
            parts = [pattern]
        except AddressError:
            parts = _COLON_TERMS.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def parse_pattern(pattern: str) -> list[Term]:
    """Parse and order the terms of a pattern; raise PatternError for a malformed one."""
    if not isinstance(pattern, str):
        raise PatternError(f"a host pattern must be a string, not {type(pattern).__name__}")
    if not pattern.strip():
        raise PatternError("empty host pattern")
    if "," not in pattern:
        # Ansible's ':'-splitting silently drops what it cannot read (a stray '[' or ']').
        leftover = _COLON_TERMS.sub("", pattern).replace(":", "").strip()
        if leftover:
            raise PatternError(f"unbalanced '[' ']' in host pattern {pattern!r}")
    regular: list[Term] = []
    intersect: list[Term] = []
    exclude: list[Term] = []
    for raw in split_pattern(pattern):
        op = raw[0] if raw[0] in "&!" else ""
        body = raw[1:] if op else raw
        if not body:
            raise PatternError(f"'{op}' must be followed by a group or host in {pattern!r}")
        if body[0] in "&!":
            raise PatternError(f"doubled operator in host pattern term {raw!r}")
        if body.count("[") != body.count("]") and body[0] != "~":
            raise PatternError(f"unbalanced '[' ']' in host pattern term {raw!r}")
        expr, subscript = _split_subscript(body)
        if expr[0] == "~":
            try:
                re.compile(expr[1:])
            except re.error as exc:
                raise PatternError(f"invalid regular expression in {raw!r}: {exc}") from None
        term = Term(op, expr, subscript, raw)
        (intersect if op == "&" else exclude if op == "!" else regular).append(term)
    if not regular:
        regular = [Term("", "all", None, "all")]
    return regular + intersect + exclude


def _split_subscript(pattern: str) -> tuple[str, tuple[int, int | None] | None]:
    if pattern[0] == "~":
        return pattern, None
    m = _SUBSCRIPT.match(pattern)
    if not m:
        return pattern, None
    expr, idx, start, _sep, end = m.groups()
    if idx:
        return expr, (int(idx), None)
    return expr, (int(start), int(end) if end else -1)


def _apply_subscript(hosts: list[str], subscript: tuple[int, int | None] | None) -> list[str]:
    if not hosts or not subscript:
        return hosts
    start, end = subscript
    if end:
        if end == -1:
            end = len(hosts) - 1
        return hosts[start : end + 1]
    try:
        return [hosts[start]]
    except IndexError:
        # Ansible raises "No hosts matched the subscripted pattern"; our contract is [].
        return []


def _matcher(expr: str) -> Callable[[str], object]:
    if expr[0] == "~":
        return re.compile(expr[1:]).match
    return re.compile(fnmatch.translate(expr)).match


def evaluate(
    terms: Sequence[Term],
    host_names: Sequence[str],
    group_names: Sequence[str],
    group_hosts: Callable[[str], Sequence[str]],
) -> list[str]:
    """Host names selected by ``terms`` (from parse_pattern), in Ansible's order.

    ``host_names`` and ``group_names`` are in inventory (insertion) order; ``group_hosts(g)``
    gives every host of group ``g`` including its descendants', in Ansible's order.
    """
    known_hosts: Mapping[str, object] = dict.fromkeys(host_names)
    cache: dict[tuple[str, tuple[int, int | None] | None], list[str]] = {}

    def match_one(term: Term) -> list[str]:
        key = (term.expr, term.subscript)
        if key not in cache:
            cache[key] = _apply_subscript(_enumerate(term.expr), term.subscript)
        return cache[key]

    def _enumerate(expr: str) -> list[str]:
        match = _matcher(expr)
        results: list[str] = []
        groups = [g for g in group_names if match(g)]
        for g in groups:
            results.extend(group_hosts(g))
        if not groups or expr[0] == "~" or any(s in expr for s in _SPECIAL):
            results.extend(h for h in host_names if match(h))
        return results

    hosts: list[str] = []
    for term in terms:
        if term.text in known_hosts:
            hosts.append(term.text)
            continue
        that = match_one(term)
        if term.op == "!":
            drop = set(that)
            hosts = [h for h in hosts if h not in drop]
        elif term.op == "&":
            keep = set(that)
            hosts = [h for h in hosts if h in keep]
        else:
            existing = set(hosts)
            hosts.extend(h for h in that if h not in existing)
    return list(dict.fromkeys(hosts))
