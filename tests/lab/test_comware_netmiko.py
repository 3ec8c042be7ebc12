"""netmiko's own ``hp_comware`` driver against the lab's H3C switch acc-sw1, with no special
cases: login past the banner, paging off, system-view in and out, save_config, and every
display command parsed by ntc-templates through ``use_textfsm``."""

from __future__ import annotations

from typing import Any

from labkit import Lab, netmiko_switch


def comware_switch(lab: Lab, name: str) -> Any:
    """A netmiko connection to a lab switch, host key checked, with the driver its inventory
    names: hp_comware, as acc-sw1 is a ``comware`` switch."""
    dev = netmiko_switch(lab, name)
    assert dev.device_type == "hp_comware"
    return dev


def _parsed(dev: Any, command: str) -> list[dict[str, Any]]:
    rows = dev.send_command(command, use_textfsm=True)
    assert isinstance(rows, list) and rows, (command, rows)  # text back means no template fit
    return rows


def test_netmiko_hp_comware_reads_every_display_command_as_structured_data(lab: Lab) -> None:
    dev = comware_switch(lab, "acc-sw1")
    try:
        assert dev.base_prompt == "acc-sw1"
        brief = {r["interface"]: r for r in _parsed(dev, "display interface brief") if r["type"]}
        assert len([n for n in brief if n.startswith("GE1/0/")]) == 28
        assert brief["GE1/0/1"]["link"] == "UP"  # oa1
        assert brief["GE1/0/25"]["type"] == "T"  # the trunk to core-sw1
        ports = {r["interface"]: r for r in _parsed(dev, "display interface")}
        assert ports["GigabitEthernet1/0/25"]["description"] == "UPLINK core-sw1"
        assert ports["GigabitEthernet1/0/25"]["line_status"] == "UP"
        routes = _parsed(dev, "display ip routing-table")
        assert ("0.0.0.0", "0") in {(r["network"], r["prefix_length"]) for r in routes}
        for command in (
            "display lldp neighbor-information list",
            "display lldp neighbor-information verbose",
        ):
            assert "core-sw1" in {r["neighbor_name"] for r in _parsed(dev, command)}
        assert _parsed(dev, "display clock")[0]["year"]
        assert _parsed(dev, "display vlan brief")[0]["vlan_id"] == "1"
        assert _parsed(dev, "display device manuinfo")[0]["vendor_name"] == "H3C"
        config = dev.send_command("display current-configuration")
        assert " sysname acc-sw1\n" in config
        assert config.rstrip().endswith("return")
        assert "H3C S5130S-28S-EI" in dev.send_command("display version")
    finally:
        dev.disconnect()


def test_netmiko_hp_comware_shuts_a_port_and_saves(lab: Lab) -> None:
    dev = comware_switch(lab, "acc-sw1")
    try:
        out = dev.send_config_set(["interface GigabitEthernet1/0/2", "shutdown"])
        assert "% " not in out, out
        assert dev.find_prompt() == "<acc-sw1>"
        assert "GE1/0/2" in lab.status()["switches"]["acc-sw1"]["shutdown"]
        brief = {r["interface"]: r for r in _parsed(dev, "display interface brief")}
        assert brief["GE1/0/2"]["link"] == "ADM"
        assert "Saved the current configuration" in dev.save_config()
        saved = dev.send_command("display saved-configuration")
        assert "interface GigabitEthernet1/0/2\n port link-mode bridge\n" in saved
        assert "description sms1\n shutdown\n" in saved
        # a plain `save` asks, through the lab's session engine, what a real switch asks
        asked = dev.send_command("save", expect_string=r"\[Y/N\]:")
        assert asked.endswith("Are you sure? [Y/N]:")
        assert "press the enter key" in dev.send_command("y", expect_string=r"key\):")
        assert "overwrite?" in dev.send_command("\n", expect_string=r"\[Y/N\]:")
        assert "successfully" in dev.send_command("y", expect_string=r"\]")
        refused = dev.send_command("display interface GigabitEthernet1/0/99")
        assert refused.endswith("^\n % Wrong parameter found at '^' position."), refused
        dev.send_config_set(["interface GE1/0/2", "undo shutdown"])
        status = lab.status()["switches"]["acc-sw1"]
        assert "GE1/0/2" not in status["shutdown"]
        assert status["saved_at"] is not None
    finally:
        dev.disconnect()
