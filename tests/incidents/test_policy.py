"""respond.yaml's incident policy: severity levels (meaning, clocks, who is told), recipients,
message templates, the vendor's promised limits and the operator; every mistake at its
``file:line:col`` on load and in ``respond validate``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clikit import Cli

from respond.config import (
    DEFAULT_MEANINGS,
    TELL_EVENTS,
    LevelPolicy,
    VendorPolicy,
    load_config,
    operator_name,
)
from respond.errors import ConfigError

POLICY = """\
operator: "Zhang Wei (on-call)"
channels:
  leaders: {url: "json://127.0.0.1:9/notify/leaders"}
  sms:     {url: "json://127.0.0.1:9/notify/sms"}
  console: {type: terminal}
notify:
  default: [sms, console]
  escalation: [leaders, console]
recipients:
  bosses: [leaders, sms, console]
  oncall: [sms, console]
severity:
  1: {meaning: "系统瘫痪 system down", respond: 30m, restore: 4h,
      tell: {opened: [bosses, oncall], escalated: bosses, missed: [bosses]}}
  2: {respond: 1h, restore: 8h}
messages:
  opened: "{{ incident.incident_id }} 已立案 opened"
vendor:
  name: "Vendor Co."
  accept: 1h
  on_site: 2h
  restore: {1: 4h, 2: 8h, 3: 12h, 4: 24h}
"""


def _project(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "respond.yaml").write_text(text, encoding="utf-8")
    return root


def _refused(root: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    return str(caught.value)


def test_the_policy_is_read_with_defaults_for_what_is_not_written(tmp_path: Path) -> None:
    config = load_config(_project(tmp_path, POLICY))
    assert config.operator == "Zhang Wei (on-call)"
    assert config.levels[1] == LevelPolicy(
        meaning="系统瘫痪 system down",
        respond=1800.0,
        restore=4 * 3600.0,
        tell={
            "opened": ("bosses", "oncall"),
            "escalated": ("bosses",),  # one name needs no list
            "missed": ("bosses",),
            "severity": ("escalation",),
            "restored": ("default",),
            "resolved": ("default",),
        },
    )
    # a level that names nobody tells the notify chains: escalation news to the escalation
    # chain, the rest to the default chain
    assert config.levels[3].tell == {
        "opened": ("default",),
        "escalated": ("escalation",),
        "missed": ("escalation",),
        "severity": ("escalation",),
        "restored": ("default",),
        "resolved": ("default",),
    }
    assert config.levels[3].meaning == DEFAULT_MEANINGS[3]
    assert config.recipients == {
        "default": ("sms", "console"),
        "escalation": ("leaders", "console"),
        "bosses": ("leaders", "sms", "console"),
        "oncall": ("sms", "console"),
    }
    assert config.severity_policy[1] == {"respond": 1800.0, "restore": 14400.0}
    assert config.messages == {"opened": "{{ incident.incident_id }} 已立案 opened"}
    assert config.vendor == VendorPolicy(
        name="Vendor Co.",
        accept=3600.0,
        on_site=7200.0,
        restore={1: 14400.0, 2: 28800.0, 3: 43200.0, 4: 86400.0},
    )
    assert config.vendor.snapshot() == {
        "name": "Vendor Co.",
        "accept": 3600.0,
        "on_site": 7200.0,
        "restore": {"1": 14400.0, "2": 28800.0, "3": 43200.0, "4": 86400.0},
    }


@pytest.mark.parametrize(
    "severity",
    [
        "severity:\n  1: {respond: 30m, restore: 2h}\n",
        "severity:\n  levels:\n    1: {respond: 30m, restore: 2h}\n",
    ],
)
def test_the_old_forms_still_load(tmp_path: Path, severity: str) -> None:
    config = load_config(_project(tmp_path, severity))
    assert config.severity_policy[1] == {"respond": 1800.0, "restore": 7200.0}
    assert config.severity_policy[4] == {"respond": 3600.0, "restore": 86400.0}
    assert config.levels[1].tell["escalated"] == ("escalation",)
    # without notify chains, the default chain is the terminal (then the notifications file)
    assert config.recipients["default"] == ("terminal", "file")
    assert config.recipients["escalation"] == ("terminal", "file")
    assert config.vendor is None and config.operator is None and config.messages == {}


BAD = [
    (
        "severity:\n  1: {respond: 1h, restor: 4h}\n",
        "respond.yaml:2:20: error: unknown key 'restor' in severity level 1 "
        "(did you mean 'restore'?)",
    ),
    (
        "severity:\n  5: {respond: 1h}\n",
        "respond.yaml:2:3: error: severity level 5 is not 1-4 (1 is the worst)",
    ),
    (
        "severity:\n  2: fast\n",
        "respond.yaml:2:6: error: severity level 2 must be a mapping with respond/restore "
        "(and meaning, tell), got 'fast'",
    ),
    (
        "severity:\n  2: {respond: soon}\n",
        "respond.yaml:2:16: error: severity.2.respond: expected a duration",
    ),
    (
        "severity:\n  2: {meaning: [a]}\n",
        "respond.yaml:2:16: error: severity.2.meaning must be text, got ['a']",
    ),
    (
        "severity:\n  2: {tell: {opend: [console]}}\n",
        "respond.yaml:2:14: error: unknown event 'opend' in severity.2.tell "
        "(did you mean 'opened'?)",
    ),
    (
        "channels: {console: {type: terminal}}\nseverity:\n  2: {tell: {opened: [consol]}}\n",
        "respond.yaml:3:23: error: severity.2.tell.opened: no recipient or channel named "
        "'consol' (did you mean 'console'?)",
    ),
    (
        "severity:\n  2: {tell: {opened: {a: 1}}}\n",
        "respond.yaml:2:22: error: severity.2.tell.opened must be a list of recipients or "
        "channels, got {'a': 1}",
    ),
    (
        "severity:\n  2: {tell: [a]}\n",
        "respond.yaml:2:13: error: severity.2.tell must map events (opened, escalated, "
        "missed, severity, restored, resolved) to recipients, got ['a']",
    ),
    (
        "recipients:\n  leaders: [sms]\n",
        "respond.yaml:2:13: error: recipient 'leaders': no channel named 'sms'",
    ),
    (
        "channels: {sms: {url: 'json://x/y'}}\nrecipients:\n  leaders: [smss]\n",
        "respond.yaml:3:13: error: recipient 'leaders': no channel named 'smss' "
        "(did you mean 'sms'?)",
    ),
    (
        "recipients:\n  leaders: []\n",
        "respond.yaml:2:12: error: recipient 'leaders' must be a list of channel names "
        "(tried in order), got []",
    ),
    ("recipients: [a]\n", "respond.yaml:1:13: error: 'recipients' must be a mapping"),
    (
        "messages:\n  opened: 'x'\n  escalate: 'y'\n",
        "respond.yaml:3:3: error: unknown event 'escalate' in messages (did you mean 'escalated'?)",
    ),
    (
        "messages:\n  opened: 12\n",
        "respond.yaml:2:11: error: messages.opened must be a message template (text), got 12",
    ),
    (
        "messages:\n  opened: '{{ incident.title '\n",
        "respond.yaml:2:11: error: messages.opened: Jinja template syntax error: unexpected "
        "end of template",
    ),
    (
        "messages:\n  resolved: |\n    closed\n    {% if x %}open\n",
        "respond.yaml:2:13: error: messages.resolved: Jinja template syntax error: Unexpected "
        "end of template. Jinja was looking for the following tags: 'elif' or 'else' or "
        "'endif'. The innermost block that needs to be closed is 'if'. (line 2 of the template)",
    ),
    (
        "vendor:\n  name: V\n  onsite: 2h\n",
        "respond.yaml:3:3: error: unknown key 'onsite' in vendor (did you mean 'on_site'?)",
    ),
    ("vendor:\n  accept: 1h\n", "respond.yaml:2:3: error: vendor.name must be the vendor's name"),
    (
        "vendor:\n  name: V\n  accept: an hour\n",
        "respond.yaml:3:11: error: vendor.accept: expected a duration",
    ),
    (
        "vendor:\n  name: V\n  restore: {1: 4h, 5: 1h}\n",
        "respond.yaml:3:20: error: vendor.restore: level 5 is not 1-4",
    ),
    (
        "vendor:\n  name: V\n  restore: {2: 8x}\n",
        "respond.yaml:3:16: error: vendor.restore.2: expected a duration",
    ),
    (
        "vendor:\n  name: V\n  restore: 4h\n",
        "respond.yaml:3:12: error: vendor.restore must map levels 1-4 to durations, got '4h'",
    ),
    ("operator: [me]\n", "respond.yaml:1:11: error: 'operator' must be a name, got ['me']"),
]


@pytest.mark.parametrize(
    ("text", "expected"), BAD, ids=[b[1].split("error: ")[1][:40] for b in BAD]
)
def test_each_mistake_is_reported_at_its_place(tmp_path: Path, text: str, expected: str) -> None:
    message = _refused(_project(tmp_path, text))
    assert expected in message, message
    assert len(message.splitlines()) == 1, message  # that mistake only, once


def test_every_mistake_is_reported_at_once_in_the_order_of_the_file(tmp_path: Path) -> None:
    text = (
        "vendor: {name: V, accept: soon}\n"
        "runbok: x\n"
        "severity:\n  7: {respond: 1h}\n"
        "messages: {opened: '{{ x '}\n"
    )
    lines = _refused(_project(tmp_path, text)).splitlines()
    assert [line.split(": error:")[0].split("/")[-1] for line in lines] == [
        "respond.yaml:1:27",
        "respond.yaml:2:1",
        "respond.yaml:4:3",
        "respond.yaml:5:20",
    ]


def test_respond_validate_shows_the_policy_mistakes(tmp_path: Path, respond: Cli) -> None:
    root = _project(
        tmp_path, "recipients:\n  leaders: [pager]\nseverity:\n  1: {tell: {opened: [boss]}}\n"
    )
    result = respond("validate", cwd=root)
    assert result.rc == 2, result
    assert "Traceback" not in result.stderr
    # reported like any file's problems: on stdout, then the count
    assert result.stdout.splitlines() == [
        "respond.yaml:2:13: error: recipient 'leaders': no channel named 'pager'",
        "respond.yaml:4:23: error: severity.1.tell.opened: no recipient or channel named 'boss'",
    ]
    assert result.stderr.strip() == (
        "2 errors; checked respond.yaml only (fix it to check runbooks, inventories and drills)"
    )
    as_json = respond("validate", "--json", cwd=root)
    assert as_json.rc == 2, as_json
    issues = as_json.json()["issues"]
    assert [(i["file"], i["line"], i["column"]) for i in issues] == [
        ("respond.yaml", 2, 13),
        ("respond.yaml", 4, 23),
    ]
    # every other command refuses to start, with the same lines
    listed = respond("list", cwd=root)
    assert listed.rc == 2 and "respond.yaml:2:13: error: recipient 'leaders'" in listed.stderr


def test_a_checked_message_template_does_not_import_jinja_again(tmp_path: Path) -> None:
    # Jinja2 costs tens of milliseconds to import: a command on an unchanged respond.yaml
    # must not pay it just to check the templates again
    root = _project(tmp_path, POLICY)
    code = (
        "import sys\n"
        "from respond.config import load_config\n"
        f"load_config({str(root)!r})\n"
        "print('jinja2' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]
    # a changed template is checked again
    (root / "respond.yaml").write_text(POLICY.replace("已立案 opened", "{{ x "), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"messages\.opened: Jinja template syntax error"):
        load_config(root)


def test_the_operator_is_given_then_the_environment_then_respond_yaml_then_the_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(_project(tmp_path, "operator: 值班员 Li\n"))
    monkeypatch.setenv("RESPOND_OPERATOR", "env-operator")
    assert operator_name(config, "given") == "given"
    assert operator_name(config, None) == "env-operator"
    monkeypatch.delenv("RESPOND_OPERATOR")
    assert operator_name(config, None) == "值班员 Li"
    assert operator_name(config, "  ") == "值班员 Li"
    unnamed = load_config(_project(tmp_path, "project: x\n"))
    assert unnamed.operator is None
    user, host = operator_name(unnamed).split("@")
    assert user and host


def test_the_shipped_respond_yaml_has_the_plans_policy(repo_root: Path) -> None:
    config = load_config(repo_root)
    assert [config.levels[n].restore / 3600 for n in (1, 2, 3, 4)] == [4, 8, 12, 24]
    assert all(config.levels[n].respond == 3600 for n in (1, 2, 3, 4))
    assert "系统瘫痪" in config.levels[1].meaning and "system down" in config.levels[1].meaning
    assert config.vendor is not None
    assert (config.vendor.accept, config.vendor.on_site) == (3600, 7200)
    assert config.vendor.restore == {1: 4 * 3600, 2: 8 * 3600, 3: 12 * 3600, 4: 24 * 3600}
    assert set(config.messages) == set(TELL_EVENTS)
    # at level 1 a missed deadline is reported up: the leaders hear of it
    assert "leaders" in config.levels[1].tell["missed"]
    assert config.operator
