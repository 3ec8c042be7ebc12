"""The catalogue of built-in checks: every check of the spec is registered, documented and
advised; docs/inspections.md shows the current table; ranges and perfdata round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from respond.checks import catalog
from respond.checks.catalog import checks, describe, docs_markdown, docs_table
from respond.checks.result import Perfdatum, Range, State, parse_perfdata

DOCS = Path(__file__).resolve().parents[2] / "docs" / "inspections.md"
BUILT_IN = {
    "reachable": "ssh",
    "load": "ssh",
    "memory": "ssh",
    "disk": "ssh",
    "inodes": "ssh",
    "service": "ssh",
    "time": "ssh",
    "sensors": "ssh",
    "ipmi-sel": "ssh",
    "raid": "ssh",
    "ups": "ssh",
    "interfaces": "netmiko",
    "interface-errors": "netmiko",
    "backup": "ssh",
    "certificate": "tls",
    "http": "http",
    "nagios": "ssh",
}


def test_every_built_in_check_is_registered_with_its_transport():
    assert {name: spec.transport for name, spec in checks().items()} == BUILT_IN


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_check_is_described_and_advises_on_every_non_ok_state(name):
    spec = checks()[name]
    assert spec.summary and spec.reads and spec.value_text
    for state in (State.WARNING, State.CRITICAL, State.UNKNOWN):
        assert len(spec.advice.get(state, "")) > 20, (name, state)
    spec.thresholds(None, None)  # the default ranges parse


def test_a_missing_check_module_is_an_error_not_a_silent_gap(monkeypatch):
    monkeypatch.setattr(catalog, "_REGISTRY", {})
    monkeypatch.setattr(catalog, "_MODULES", (*catalog._MODULES, "respond.checks.nothing"))
    with pytest.raises(ModuleNotFoundError):
        checks()


def test_describe_gives_what_inspect_checks_prints():
    row = describe(checks()["disk"])
    assert row == {
        "name": "disk",
        "summary": "space used on each filesystem",
        "transport": "ssh",
        "reads": "`df -P [PATH...]`",
        "value": "the worst used % over the filesystems looked at",
        "unit": "%",
        "warn": "80",
        "crit": "90",
        "accepts_thresholds": True,
        "args": [
            {
                "name": "paths",
                "type": "texts",
                "required": False,
                "default": None,
                "description": row["args"][0]["description"],
            }
        ],
    }
    assert [r["name"] for r in docs_table()] == list(BUILT_IN)
    assert describe(checks()["nagios"])["accepts_thresholds"] is False


def test_docs_show_the_current_table():
    text = DOCS.read_text(encoding="utf-8")
    assert "## Built-in checks" in text
    assert docs_markdown() in text, "docs/inspections.md is stale: paste docs_markdown()"
    assert "| `ups` | ssh | `upsc UPS` | battery runtime in minutes (min) | `15:` / `5:` |" in text


_bounds = st.one_of(st.none(), st.integers(-10_000, 10_000))


@given(_bounds, _bounds, st.booleans())
def test_a_range_prints_back_to_an_equal_range(low, high, inside):
    if low is not None and high is not None and low > high:
        low, high = high, low
    r = Range(None if low is None else float(low), None if high is None else float(high), inside)
    again = Range.parse(str(r))
    assert (again.start, again.end, again.inside) == (r.start, r.end, r.inside)


_labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and "=" not in s and ";" not in s and "|" not in s)


@given(
    _labels,
    st.integers(-(10**9), 10**9),
    st.sampled_from(["", "%", "s", "B", "c", "MB"]),
    st.sampled_from([None, "80", "15:", "@1:2"]),
)
def test_perfdata_formats_and_parses_back(label, value, uom, warn):
    item = Perfdatum(label, float(value), uom, warn, "90", 0.0, None)
    assert parse_perfdata(item.format()) == [item]


_ARGS = {
    "service": {"units": ["ssh", "cron"]},
    "backup": {"path": ["/b/x"]},
    "nagios": {"command": "check_x"},
    "http": {"url": "http://127.0.0.1/"},
}
_lines = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "Mem: 1 2 3",
                "total used free",
                "a | b | c",
                "1 | 13/45/2026 | 99:99:99 | x | y | Asserted",
                "md0 : active raid1",
                "      [2/1] [U_]",
                "ups.status: ",
                "battery.runtime: x",
                "System time : x seconds fast",
                "/dev/x 1 2 3 0% /",
                "load average: 1, 2",
                "1700000000 /b/x",
            ]
        ),
    ),
    max_size=6,
).map("\n".join)


@given(
    st.sampled_from(sorted(n for n, t in BUILT_IN.items() if t == "ssh")),
    st.one_of(st.none(), st.integers(-1, 255)),
    _lines,
    _lines,
)
def test_any_command_output_grades_without_a_crash(name, code, stdout, stderr):
    from tests.checks.kit import grade, ssh

    result = grade(name, ssh((code, stdout, stderr), (code, stdout, stderr)), _ARGS.get(name))
    assert result.summary and "\n" not in result.summary
    assert result.state is State.OK or result.advice


_junk = st.one_of(st.none(), st.integers(-5, 10**6), st.text(max_size=5), st.booleans())


@given(
    st.sampled_from(["interfaces", "interface-errors"]),
    st.lists(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["Gi0/1", "GE1/0/1", "", "Vlan10"])},
            optional={
                "admin": st.one_of(st.just("up"), _junk),
                "oper": st.one_of(st.just("up"), st.just("down"), _junk),
                **{k: _junk for k in ("description", "in_errors", "crc")},
            },
        ),
        max_size=4,
    ),
    st.one_of(st.none(), st.just(["Gi0/1"])),
)
@example("interface-errors", [{"name": "Gi0/1", "admin": "up", "in_errors": "abc"}], None)
def test_any_interface_facts_grade_without_a_crash(name, interfaces, ports):
    from tests.checks.kit import facts, grade

    result = grade(name, facts(interfaces), {"ports": ports} if ports else None)
    assert result.summary and (result.state is State.OK or result.advice)
