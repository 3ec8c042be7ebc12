"""The one strict YAML reader: data, value and key positions, and every way a file is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from respond.errors import InvalidInput, Location
from respond.yamlfile import compose_yaml, parse_yaml, read_source, read_yaml


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
    started = time.process_time()  # CPU time: a busy machine does not count
    data, _, issues = parse("\n".join(lines) + "\n")
    assert time.process_time() - started < 1.0
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
    started = time.process_time()  # CPU time: a busy machine does not count
    with pytest.raises(InvalidInput) as info:
        read_yaml(big, what="runbook")
    assert time.process_time() - started < 0.5  # refused by size, not by parsing 6 MB
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


def test_duplicate_keys_at_any_depth() -> None:
    _, _, issues = parse("a:\n  - b:\n      c: 1\n      d: {e: 1, e: 2}\n      c: 3\n")
    assert [str(i) for i in issues] == [
        "f.yaml:4:17: error: duplicate key 'e' (first defined at line 4, column 11)",
        "f.yaml:5:7: error: duplicate key 'c' (first defined at line 3, column 7)",
    ]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a:\n\tb: 1\n", 2, 1),  # libyaml: "cannot start any token"
        ("a:\n  b: 1\n\tc: 2\n", 3, 1),  # libyaml: "violates indentation"
        ("x:\n  a: 1\n  \tb: 2\n", 3, 3),
    ],
)
def test_a_tab_in_the_indentation_is_named(text: str, line: int, column: int) -> None:
    data, _, issues = parse(text)
    assert data is None
    assert issues[0].message.startswith("invalid YAML: a tab character where YAML expects spaces")
    assert (issues[0].location.line, issues[0].location.column) == (line, column)


def test_tabs_where_yaml_allows_them_are_fine() -> None:
    data, _, issues = parse("a:\t1\ncmd: |\n  make\n  \tindented by a tab\n")
    assert issues == [] and data == {"a": 1, "cmd": "make\n\tindented by a tab\n"}


def test_several_documents_are_refused() -> None:
    data, _, issues = parse("a: 1\n---\nb: 2\n")
    assert data is None
    assert "expected a single document" in issues[0].message
    assert issues[0].location.line == 2


def test_a_control_character_is_located() -> None:
    _, _, issues = parse("a: 1\nb: x\x07\n")
    assert issues[0].message == "invalid YAML: control characters are not allowed"
    assert (issues[0].location.line, issues[0].location.column) == (2, 5)


def test_alias_expansion_is_capped_from_the_graph() -> None:
    # each line multiplies by 10: the cap trips at the first value that expands past it
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 10)}]")
    started = time.process_time()  # CPU time: a busy machine does not count
    data, _, issues = parse_yaml("\n".join(lines) + "\n", "f.yaml", max_nodes=2_000_000)
    assert time.process_time() - started < 1.0
    assert data is None and len(issues) == 1
    assert issues[0].message == (
        "too many YAML aliases: the aliases expand to too many values (more than 2,000,000); "
        "this looks like an alias bomb"
    )
    assert issues[0].location == Location("f.yaml", 7, 4)  # g: 11 million values


def test_many_small_anchors_are_not_a_bomb() -> None:
    steps = "".join(f"  - {{<<: *d, id: s{i}}}\n" for i in range(300))
    data, _, issues = parse("defaults: &d {kind: local, timeout: 5s, retries: 1}\nsteps:\n" + steps)
    assert issues == []
    assert data["steps"][299] == {"kind": "local", "timeout": "5s", "retries": 1, "id": "s299"}


def test_a_large_file_without_aliases_is_capped_too() -> None:
    _, _, issues = parse_yaml("[" + "1, " * 50 + "1]\n", "f.yaml", max_nodes=20)
    assert issues[0].message == "document too large (more than 20 YAML values)"


def test_tags_a_caller_names_are_accepted() -> None:
    class Secret(str):
        pass

    def vault(value: object) -> Secret:
        if not isinstance(value, str):
            raise ValueError("it holds encrypted text, not a list or mapping")
        return Secret(value)

    tags = {"!vault": vault, "!unsafe": lambda v: v}
    text = "pw: !vault |\n  $ANSIBLE_VAULT;1.1\nraw: !unsafe '{{ x }}'\nl: !unsafe [1]\n"
    data, _, issues = parse_yaml(text, "f.yaml", tags=tags)
    assert issues == []
    assert isinstance(data["pw"], Secret) and data["pw"] == "$ANSIBLE_VAULT;1.1\n"
    assert data["raw"] == "{{ x }}" and data["l"] == [1]
    _, _, issues = parse_yaml("pw: !vault [1]\n", "f.yaml", tags=tags)
    assert (
        str(issues[0])
        == "f.yaml:1:5: error: invalid !vault value: it holds encrypted text, not a list or mapping"
    )
    _, _, issues = parse("pw: !vault x\n")  # not named by this caller
    assert "unsupported YAML tag !vault" in issues[0].message


def test_composed_nodes_build_values_with_their_issues() -> None:
    doc = compose_yaml("web:\n  vars: {a: 1, a: 2}\n  hosts: {w1: }\n", "inv.yaml")
    vars_node = doc.root.value[0][1].value[0][1]
    value, issues = doc.build(vars_node)
    assert value == {"a": 1}
    assert [str(i) for i in issues] == [
        "inv.yaml:2:16: error: duplicate key 'a' (first defined at line 2, column 10)"
    ]
    assert doc.location(vars_node) == Location("inv.yaml", 2, 9)
    with pytest.raises(InvalidInput) as info:
        compose_yaml("a: [\n", "inv.yaml")
    assert str(info.value).startswith("inv.yaml:2:1: error: invalid YAML")


def test_at_most_the_cap_is_read_from_a_file_without_a_size(tmp_path: Path) -> None:
    started = time.process_time()  # CPU time: a busy machine does not count
    with pytest.raises(InvalidInput) as info:
        read_yaml("/dev/zero", what="answers file", max_bytes=4096)
    assert time.process_time() - started < 0.5
    assert str(info.value) == "/dev/zero: error: answers file too large (the limit is 4,096 bytes)"


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read runbook: No such file"):
        read_yaml(tmp_path / "nope.yaml", what="runbook")
    with pytest.raises(InvalidInput, match="cannot read runbook: Is a directory"):
        read_source(tmp_path, what="runbook")


def test_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb: caf\xe9\n")
    with pytest.raises(InvalidInput) as info:
        read_source(path, what="inventory", shown="latin.yaml")
    assert str(info.value) == (
        "latin.yaml:2:7: error: inventory is not UTF-8 text: byte 0xe9 is not valid UTF-8"
    )


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    for depth in (600, 50_000):
        data, _, issues = parse("a: " + "[" * depth + "]" * depth + "\n")
        assert data is None and "invalid YAML" in issues[0].message
        assert issues[0].location.line == 1


def test_positions_keep_how_each_boolean_was_written() -> None:
    from respond.yamlfile import parse_yaml

    data, positions, issues = parse_yaml("a: on\nb: Yes\nc: 'on'\nd: [off, true]\n", "f.yaml")
    assert not issues and data == {"a": True, "b": True, "c": "on", "d": [False, True]}
    assert positions.words == {("a",): "on", ("b",): "Yes", ("d", 0): "off", ("d", 1): "true"}
