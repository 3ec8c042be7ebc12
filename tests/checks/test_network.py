"""The network checks grade normalised interface facts (respond.netfacts' shape), matching
port names in any form."""

from __future__ import annotations

from respond.checks.result import State
from tests.checks.kit import assert_non_ok_has_advice, facts, grade, problems


def _port(name, admin="up", oper="up", description="", in_errors=0, crc=0):
    return {
        "name": name,
        "admin": admin,
        "oper": oper,
        "description": description,
        "speed_mbps": 1000,
        "in_errors": in_errors,
        "out_errors": 0,
        "crc": crc,
    }


HEALTHY = [
    _port("GigabitEthernet0/0/1", description="uplink to acc-sw1"),
    _port("GigabitEthernet0/0/2", description="to db1"),
    _port("GigabitEthernet0/0/3", oper="down"),  # unused, undescribed: not watched
    _port("GigabitEthernet0/0/4", admin="down", oper="down", description="spare"),
    _port("Vlan-interface10", description="servers"),
]


def test_interfaces_default_watches_described_enabled_ports():
    result = grade("interfaces", facts(HEALTHY))
    assert (result.state, result.value) == (State.OK, 0)
    assert result.summary == "INTERFACES OK - 3 ports up"
    assert "GigabitEthernet0/0/3" not in " ".join(result.details)
    assert result.plugin_line().endswith("| down=0;;0;0;3")


def test_interfaces_an_enabled_described_port_down_is_critical():
    down = [*HEALTHY[:1], _port("GigabitEthernet0/0/2", oper="down", description="to db1")]
    result = grade("interfaces", facts(down))
    assert (result.state, result.value) == (State.CRITICAL, 1)
    assert result.summary == "INTERFACES CRITICAL - 1 of 2 ports down: GigabitEthernet0/0/2"
    assert "GigabitEthernet0/0/2 (to db1): DOWN" in result.details
    assert_non_ok_has_advice(result)
    assert grade("interfaces", facts(down), warn="0", crit="5").state is State.WARNING


def test_interfaces_ports_in_any_name_form():
    named = grade("interfaces", facts(HEALTHY), {"ports": ["GE0/0/3", "Vlan10", "gi0/0/4"]})
    assert (named.state, named.value) == (State.CRITICAL, 1)  # 0/0/3 is enabled and down
    assert named.summary == "INTERFACES CRITICAL - 1 of 2 ports down: GigabitEthernet0/0/3"
    assert "GigabitEthernet0/0/4 (spare): admin down (not a problem)" in named.details
    missing = grade("interfaces", facts(HEALTHY), {"ports": "Gi0/0/9"})
    assert missing.state is State.UNKNOWN
    assert missing.summary == "INTERFACES UNKNOWN - 0 ports up; not on the device: Gi0/0/9"
    assert problems("interfaces", {"ports": [""]}) == ["argument 'ports' has an empty port name"]


def test_interfaces_unread_facts_are_unknown():
    for value in (None, "garbage"):
        result = grade("interfaces", facts(value))
        assert result.state is State.UNKNOWN
        assert result.summary == (
            "INTERFACES UNKNOWN - cannot read `facts: interfaces`: the device's interfaces were "
            "not read"
        )
        assert result.advice


def test_interface_errors_counts_input_errors_crc_included():
    noisy = [*HEALTHY, _port("GigabitEthernet0/0/5", in_errors=250, crc=250)]
    result = grade("interface-errors", facts(noisy))
    assert (result.state, result.value) == (State.CRITICAL, 250)
    assert result.summary == "INTERFACE-ERRORS CRITICAL - GigabitEthernet0/0/5 250 errors"
    assert result.details == ("GigabitEthernet0/0/5: 250 input errors",)
    assert result.plugin_line().endswith("| GigabitEthernet0/0/5=250c;10;100;0")
    assert_non_ok_has_advice(result)
    some = [_port("Gi0/1", crc=12)]
    assert grade("interface-errors", facts(some)).state is State.WARNING
    assert grade("interface-errors", facts(some), warn="20", crit="50").state is State.OK
    # a counter in a digit int() cannot read (superscript one) counts none, without a crash
    odd = grade("interface-errors", facts([{"name": "Gi0/1", "admin": "up", "crc": "\u00b9"}]))
    assert (odd.state, odd.value) == (State.OK, 0)


def test_interface_errors_ok_unknown_and_named_ports():
    ok = grade("interface-errors", facts(HEALTHY))
    assert (ok.state, ok.value, ok.summary) == (
        State.OK,
        0,
        "INTERFACE-ERRORS OK - no errors on 4 ports",
    )
    assert ok.plugin_line().endswith("| errors=0c;10;100;0")
    noisy = [_port("GigabitEthernet0/0/1", in_errors=500), _port("GigabitEthernet0/0/2")]
    only = grade("interface-errors", facts(noisy), {"ports": ["Gi0/0/2"]})
    assert only.state is State.OK
    assert grade("interface-errors", facts(None)).state is State.UNKNOWN
    assert grade("interface-errors", facts([])).state is State.UNKNOWN
