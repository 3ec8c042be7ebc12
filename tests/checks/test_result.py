"""The Nagios plugin result contract: ranges, grading, perfdata, plugin output."""

from __future__ import annotations

import pytest

from respond.checks.result import (
    Perfdatum,
    Range,
    State,
    Thresholds,
    parse_perfdata,
    parse_plugin_output,
    worst,
)


@pytest.mark.parametrize(
    ("spec", "alerting", "quiet"),
    [
        ("10", [-1, 10.5, 11], [0, 5, 10]),
        ("10:", [9.99, -5], [10, 11, 1e9]),
        ("~:10", [10.1, 100], [-1e9, 0, 10]),
        ("10:20", [9, 21], [10, 15, 20]),
        ("@10:20", [10, 15, 20], [9, 21]),
    ],
)
def test_ranges_alert_as_the_plugin_guidelines_say(spec, alerting, quiet):
    r = Range.parse(spec)
    assert [r.alerts(v) for v in alerting] == [True] * len(alerting)
    assert [r.alerts(v) for v in quiet] == [False] * len(quiet)
    assert str(r) == spec


@pytest.mark.parametrize("bad", ["", "abc", "10:5", "@", "1:2:3", "x:"])
def test_a_bad_range_is_refused_with_examples(bad):
    with pytest.raises(ValueError, match="range"):
        Range.parse(bad)


def test_critical_wins_over_warning_and_no_value_is_unknown():
    t = Thresholds.parse("80", "90")
    assert [t.grade(v) for v in (50, 85, 95)] == [State.OK, State.WARNING, State.CRITICAL]
    assert t.grade(None) is State.UNKNOWN
    assert worst([State.OK, State.UNKNOWN, State.WARNING]) is State.WARNING
    assert worst([State.UNKNOWN, State.OK]) is State.UNKNOWN
    assert worst([]) is State.OK


def test_perfdata_round_trips_quoted_labels_and_units():
    text = "'/ used'=12.5GB;40;45;0;50 time=0.25s;;; load1=0.7;2;4;0 bad=x"
    items = parse_perfdata(text)
    assert [p.label for p in items] == ["/ used", "time", "load1"]
    assert items[0] == Perfdatum("/ used", 12.5, "GB", "40", "45", 0, 50)
    assert items[1].format() == "time=0.25s"
    assert items[0].format() == "'/ used'=12.5GB;40;45;0;50"


def test_plugin_output_with_long_text_and_more_perfdata():
    out = (
        "DISK WARNING - free space: / 3326 MB (8%); | /=35000MB;32000;35000;0;38000\n"
        "/ is nearly full\n"
        "look at /var/log | /boot=70MB;80;90;0;100\n"
        "/home=5MB;8;9;0;10\n"
    )
    r = parse_plugin_output(1, out)
    assert r.state is State.WARNING
    assert r.summary == "DISK WARNING - free space: / 3326 MB (8%);"
    assert [p.label for p in r.perfdata] == ["/", "/boot", "/home"]
    assert (r.value, r.unit, r.warn, r.crit) == (35000, "MB", "32000", "35000")
    assert r.details == ("/ is nearly full", "look at /var/log")


@pytest.mark.parametrize(
    ("code", "state"),
    [(0, "OK"), (2, "CRITICAL"), (3, "UNKNOWN"), (127, "UNKNOWN"), (None, "UNKNOWN")],
)
def test_exit_codes_outside_the_contract_are_unknown(code, state):
    r = parse_plugin_output(code, "", stderr="sh: check_foo: not found")
    assert r.state.word == state
    assert "check_foo" in r.summary or code in (0, 2, 3)
