"""YAML with positions: data, value and key positions, and every way a file can be refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from respond.errors import InvalidInput, Location
from respond.runbook.yamlpos import parse_yaml, read_yaml


def parse(text: str):
    data, positions, issues = parse_yaml(text, "f.yaml")
    return data, positions, issues


def test_values_and_keys_have_one_based_positions() -> None:
    data, pos, issues = parse("a: 1\nsteps:\n  - id: x\n    command: 'echo hi'\n")
    assert issues == []
    assert data == {"a": 1, "steps": [{"id": "x", "command": "echo hi"}]}
    assert pos.value(("a",)) == Location("f.yaml", 1, 4)
    assert pos.key(("a",)) == Location("f.yaml", 1, 1)
    assert pos.value(("steps", 0)) == Location("f.yaml", 3, 5)
    assert pos.key(("steps", 0, "command")) == Location("f.yaml", 4, 5)
    assert pos.value(("steps", 0, "command")) == Location("f.yaml", 4, 14)
    # a field that is not written falls back to its closest written ancestor
    assert pos.nearest(("steps", 0, "timeout")) == Location("f.yaml", 3, 5)


def test_duplicate_keys_are_errors_naming_both_places() -> None:
    _, _, issues = parse("title: a\nx: 1\ntitle: b\n")
    assert len(issues) == 1
    assert issues[0].location == Location("f.yaml", 3, 1)
    assert "duplicate key 'title'" in issues[0].message and "line 1" in issues[0].message


def test_every_duplicate_is_reported() -> None:
    _, _, issues = parse("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n")
    assert [i.location.line for i in issues] == [2, 5]


def test_merge_keys_work_and_explicit_keys_win() -> None:
    data, pos, issues = parse("base: &b {retries: 2, timeout: 5}\nstep:\n  <<: *b\n  timeout: 9\n")
    assert issues == []
    assert data["step"] == {"retries": 2, "timeout": 9}
    assert pos.value(("step", "timeout")).line == 4


def test_a_few_aliases_are_fine() -> None:
    data, _, issues = parse("a: &x [1, 2]\nb: *x\nc: *x\n")
    assert issues == [] and data["c"] == [1, 2]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    started = time.perf_counter()
    data, _, issues = parse("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert data is None
    assert "too many YAML aliases" in issues[-1].message


def test_recursive_alias_is_refused() -> None:
    _, _, issues = parse("a: &a\n  - *a\n")
    assert "recursive YAML alias" in issues[-1].message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !!set {x, y}\n",
        "a: !custom 3\n",
    ],
)
def test_only_safe_tags(text: str) -> None:
    data, _, issues = parse(text)
    assert data is None
    assert "unsupported YAML tag" in issues[0].message
    assert issues[0].location.line == 1


def test_syntax_error_has_line_and_column() -> None:
    data, _, issues = parse("a: 1\nb: [1, 2\nc: 3\n")
    assert data is None
    assert issues[0].message.startswith("invalid YAML")
    assert issues[0].location.line >= 2 and issues[0].location.column >= 1


def test_scalars_are_typed_like_safe_load() -> None:
    data, _, _ = parse("i: 3\nf: 1.5\nb: true\nn: null\ns: '3'\n")
    assert data == {"i": 3, "f": 1.5, "b": True, "n": None, "s": "3"}


def test_size_cap_rejects_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: [" + b"1, " * (2 * 1024 * 1024) + b"1]\n")
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as info:
        read_yaml(big, what="runbook")
    assert time.perf_counter() - started < 0.5  # refused by size, not by parsing 6 MB
    assert "runbook too large" in info.value.issues[0].message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InvalidInput) as info:
        read_yaml(path)
    assert "not valid UTF-8" in info.value.issues[0].message
    assert info.value.issues[0].location.line == 2


def test_document_carries_hash_and_text(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "doc.yaml"
    path.write_text("\ufefftitle: 停电\n", encoding="utf-8")
    doc = read_yaml(path)
    assert doc.data == {"title": "停电"}
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
