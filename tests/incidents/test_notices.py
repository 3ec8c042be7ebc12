"""Incident notices reach people: each level's recipients through their fallback chains, to
real endpoints on loopback (the lab's HTTP notification sink and an SMTP server), with every
attempt in the incident's record. Stopping one endpoint proves the fallback from what the
other one received."""

from __future__ import annotations

import email
import email.header
import email.policy
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from respond.clock import ManualClock
from respond.config import ProjectConfig, load_config
from respond.incidents import IncidentBook, book_for
from respond.lab import topology
from respond.lab.state import StateFile, new_state
from respond.lab.web import WebServices
from respond.timeline import Store, open_store

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
PAGER_SECRET = "s3cr3t-pager-token-7731"


class Sink:
    """The lab's notification sink (``POST /notify/<channel>``) on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        topo = topology.build(3)
        self.state = StateFile(root / "state.json")
        self.state.replace(new_state(topo.noncritical))
        self.web = WebServices(self.state, topo)
        self.port = self.web.add("sink", None, strict=False)
        self.web.start()
        self.running = True

    def url(self, channel: str) -> str:
        return f"json://127.0.0.1:{self.port}/notify/{channel}"

    def received(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.state.read().get("messages", []) if m["channel"] == channel]

    def stop(self) -> None:
        if self.running:
            self.web.stop()
            self.running = False


class Mailbox:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as s:  # aiosmtpd's controller needs a port number, not 0
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def url(self, to: str) -> str:
        return (
            f"mailto://respond@127.0.0.1:{self.port}?mode=insecure&from=respond@example.org&to={to}"
        )

    def received(self) -> list[tuple[str, str, str]]:
        """(to, subject, plain text) of every message."""
        with self.lock:
            got = list(self.messages)
        out = []
        for m in got:
            body = m.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            out.append((str(m["To"]), str(m["Subject"]), text.strip()))
        return out

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    s = Sink(tmp_path / "lab")
    yield s
    s.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    m = Mailbox()
    yield m
    m.stop()


def _config(root: Path, text: str, sink: Sink) -> ProjectConfig:
    root.mkdir(parents=True, exist_ok=True)
    (root / "inventory").mkdir(exist_ok=True)
    (root / "inventory" / "site.yaml").write_text(
        "all:\n"
        "  vars:\n"
        f"    notify_url: http://127.0.0.1:{sink.port}/notify\n"
        "  hosts:\n"
        "    ups1: {ansible_host: 127.0.0.1}\n",
        encoding="utf-8",
    )
    (root / "respond.yaml").write_text(
        "default_inventory: inventory/site.yaml\n" + text, encoding="utf-8"
    )
    return load_config(root)


def _book(config: ProjectConfig, clock: ManualClock) -> tuple[IncidentBook, Store]:
    store = open_store(config)
    return book_for(store, config, clock=clock), store


def _open(book: IncidentBook, *, severity: int = 2, title: str = "UPS 市电中断 mains lost") -> str:
    return book.open(
        title=title,
        runbook="power-outage",
        version="1.2.0",
        scenario="power",
        severity=severity,
        detected_at=T0,
        reported_by="保安 guard Wang",
        site="一号机房 room 1",
        description="UPS on battery",
        operator="Zhang Wei",
    )


def _attempts(store: Store, incident_id: str) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, **e.data}
        for e in store.events(incident_id)
        if e.kind in ("notification-sent", "notification-failed")
    ]


def _brief(attempts: list[dict[str, Any]]) -> list[tuple[str, str, str, str | None]]:
    return [(a["kind"], a["event"], a["recipient"], a["channel"]) for a in attempts]


def test_opening_tells_both_recipients_of_the_level(
    tmp_path: Path, sink: Sink, mailbox: Mailbox
) -> None:
    config = _config(
        tmp_path / "p",
        f"""
channels:
  leaders: {{url: "{sink.url("leaders")}"}}
  mail:    {{url: "{mailbox.url("oncall@example.org")}"}}
recipients:
  leaders: [leaders]
  oncall:  [mail]
severity:
  2: {{tell: {{opened: [leaders, oncall]}}}}
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    incident = _open(book)

    [to_leaders] = sink.received("leaders")
    [(to, subject, text)] = mailbox.received()
    assert to == "oncall@example.org"
    for body in (to_leaders["message"], text):
        # the built-in message names the incident, its level, title, site and deadline
        assert incident in body and "level 2" in body
        assert "UPS 市电中断 mains lost" in body and "一号机房 room 1" in body
        assert "respond by" in body and "restore by" in body
    assert (
        subject == to_leaders["title"] == f"[respond] {incident} level 2: 故障立案 incident opened"
    )
    attempts = _attempts(store, incident)
    assert _brief(attempts) == [
        ("notification-sent", "opened", "leaders", "leaders"),
        ("notification-sent", "opened", "oncall", "mail"),
    ]
    assert all(a["level"] == 2 and a["message"] == text for a in attempts)
    assert store.verify(incident).ok


def test_a_stopped_sink_falls_back_to_mail(tmp_path: Path, sink: Sink, mailbox: Mailbox) -> None:
    config = _config(
        tmp_path / "p",
        f"""
channels:
  leaders: {{url: "{sink.url("leaders")}"}}
  mail:    {{url: "{mailbox.url("leaders@example.org")}"}}
recipients:
  leaders: [leaders, mail]
severity:
  2: {{tell: {{opened: [], escalated: [leaders]}}}}
  3: {{tell: {{opened: []}}}}
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    incident = _open(book, severity=3)
    sink.stop()
    book.escalate(incident, reason="磁盘阵列降级 array degraded", by="Zhang Wei")

    [(to, _subject, text)] = mailbox.received()
    assert to == "leaders@example.org"
    assert incident in text and "level 2" in text and "磁盘阵列降级 array degraded" in text
    attempts = _attempts(store, incident)
    assert _brief(attempts) == [
        ("notification-failed", "escalated", "leaders", "leaders"),
        ("notification-sent", "escalated", "leaders", "mail"),
    ]
    assert attempts[0]["error"] == "the channel refused or could not be reached"
    assert attempts[1]["message"] == text


def test_a_stopped_mail_server_falls_back_to_the_sink(
    tmp_path: Path, sink: Sink, mailbox: Mailbox
) -> None:
    config = _config(
        tmp_path / "p",
        f"""
channels:
  mail:    {{url: "{mailbox.url("leaders@example.org")}"}}
  leaders: {{url: "{sink.url("leaders")}"}}
recipients:
  leaders: [mail, leaders]
severity:
  3: {{tell: {{opened: []}}}}
  1: {{tell: {{severity: [leaders]}}}}
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    incident = _open(book, severity=3)
    mailbox.stop()
    book.set_severity(incident, 1, reason="全部业务中断 all business down", by="Zhang Wei")

    [got] = sink.received("leaders")
    assert incident in got["message"] and "level 1" in got["message"]
    assert "全部业务中断 all business down" in got["message"]
    assert _brief(_attempts(store, incident)) == [
        ("notification-failed", "severity", "leaders", "mail"),
        ("notification-sent", "severity", "leaders", "leaders"),
    ]
    assert mailbox.received() == []


def test_a_passed_deadline_tells_the_new_levels_recipients_and_level_1_reports_up(
    tmp_path: Path, sink: Sink
) -> None:
    config = _config(
        tmp_path / "p",
        f"""
channels:
  leaders: {{url: "{sink.url("leaders")}"}}
  oncall:  {{url: "{sink.url("oncall")}"}}
severity:
  1: {{respond: 1h, restore: 4h, tell: {{escalated: [leaders], missed: [leaders]}}}}
  2: {{respond: 1h, restore: 2h, tell: {{opened: [oncall], escalated: [oncall]}}}}
""",
        sink,
    )
    clock = ManualClock(T0)
    book, store = _book(config, clock)
    incident = _open(book, severity=2)
    book.ack(incident, by="Zhang Wei")
    clock.advance(2 * 3600 + 1)  # level 2's restore limit passed: up to level 1
    book.check_deadlines(incident)
    clock.advance(4 * 3600)  # level 1's passed too: nothing above, reported up
    book.check_deadlines(incident)

    assert len(sink.received("oncall")) == 1  # the opening only: level 2 is not told more
    to_leaders = [m["message"] for m in sink.received("leaders")]
    # level 1's recipients hear of the escalation to level 1 (not level 2's), then the miss
    assert len(to_leaders) == 2
    assert "level 1" in to_leaders[0] and "not restored within" in to_leaders[0]
    assert "恢复时限已过 restore deadline passed" in to_leaders[1]
    assert _brief(_attempts(store, incident)) == [
        ("notification-sent", "opened", "oncall", "oncall"),
        ("notification-sent", "escalated", "leaders", "leaders"),
        ("notification-sent", "missed", "leaders", "leaders"),
    ]


def test_a_broken_message_template_is_a_failed_attempt_and_people_are_still_told(
    tmp_path: Path, sink: Sink
) -> None:
    config = _config(
        tmp_path / "p",
        f"""
channels:
  oncall:  {{url: "{sink.url("oncall")}"}}
  leaders: {{url: "{sink.url("leaders")}"}}
recipients:
  oncall: [oncall, leaders]
severity:
  2: {{tell: {{opened: [oncall]}}}}
messages:
  opened: "{{{{ incident.site }}}}: {{{{ incident.no_such_field }}}}"
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    incident = _open(book)

    [got] = sink.received("oncall")
    assert incident in got["message"] and "UPS 市电中断 mains lost" in got["message"]
    assert sink.received("leaders") == []  # the first channel accepted: the chain stops
    attempts = _attempts(store, incident)
    assert _brief(attempts) == [
        ("notification-failed", "opened", "oncall", None),
        ("notification-sent", "opened", "oncall", "oncall"),
    ]
    assert attempts[0]["error"].startswith("messages.opened in respond.yaml did not render: ")
    assert "no_such_field" in attempts[0]["error"]


def test_channel_urls_are_rendered_with_the_default_inventory_and_a_bad_one_is_an_attempt(
    tmp_path: Path, sink: Sink
) -> None:
    config = _config(
        tmp_path / "p",
        """
channels:
  broken: {url: "{{ sms_gateway_url }}/send"}
  oncall: {url: "{{ notify_url | replace('http://', 'json://') }}/oncall"}
recipients:
  oncall: [broken, oncall]
severity:
  2: {tell: {opened: [oncall]}}
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    incident = _open(book)

    assert len(sink.received("oncall")) == 1
    attempts = _attempts(store, incident)
    assert _brief(attempts) == [
        ("notification-failed", "opened", "oncall", "broken"),
        ("notification-sent", "opened", "oncall", "oncall"),
    ]
    assert attempts[0]["error"] == "undefined name: 'sms_gateway_url' is undefined"


def test_a_url_from_the_environment_never_reaches_the_record_or_a_message(
    tmp_path: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    pager_url = sink.url(f"pager?token={PAGER_SECRET}")
    monkeypatch.setenv("PAGER_URL", pager_url)
    config = _config(
        tmp_path / "p",
        """
channels:
  pager: {url_env: PAGER_URL}
severity:
  2: {tell: {opened: [pager]}}
""",
        sink,
    )
    book, store = _book(config, ManualClock(T0))
    # someone pasted the pager's webhook into the title
    incident = _open(book, title=f"webhook {pager_url} stopped")

    [got] = sink.received("pager")
    assert PAGER_SECRET not in got["message"] and "***" in got["message"]
    recorded = str([e.data for e in store.events(incident) if e.kind.startswith("notification")])
    assert PAGER_SECRET not in recorded and "***" in recorded
    # the book and the notices share one masker: the opening itself is masked too
    everything = str([e.data for e in store.events(incident)]) + str(store.meta(incident))
    assert PAGER_SECRET not in everything


def test_the_shipped_messages_render_for_every_event(repo_root: Path) -> None:
    # the repo's own respond.yaml: its templates must render for each event; its channels
    # reach the lab (not up here), so each chain ends on the terminal or the file
    config = load_config(repo_root)
    clock = ManualClock(T0)
    book, store = _book(config, clock)
    incident = _open(book, severity=3)
    book.escalate(incident, reason="磁盘阵列降级 array degraded", by="Zhang Wei")
    book.set_severity(incident, 1, reason="全部业务中断 all business down", by="Zhang Wei")
    clock.advance(5 * 3600)  # respond and restore deadlines of level 1 passed
    book.check_deadlines(incident)
    book.resolve(
        incident, by="Zhang Wei", cause="UPS 电池老化 old batteries", prevention="季度巡检"
    )

    # another incident, restored by its run's outcome
    second = _open(book, severity=4)
    book.attach(second, "20261202T060000Z-0001", runbook="ups", version="1.0.0", operator="Li")
    book.run_ended(second, "20261202T060000Z-0001", outcome="resolved", status="ok", reason=None)
    [restored] = [
        a
        for a in _attempts(store, second)
        if a["event"] == "restored" and a["kind"] == "notification-sent"
    ]
    assert second in restored["message"]
    assert "恢复公告" in restored["message"]

    attempts = _attempts(store, incident)
    assert {a["event"] for a in attempts} == {
        "opened",
        "escalated",
        "severity",
        "missed",
        "resolved",
    }
    assert not [a for a in attempts if a["channel"] is None], attempts  # every template rendered
    sent = {a["event"]: a["message"] for a in attempts if a["kind"] == "notification-sent"}
    assert set(sent) == {"opened", "escalated", "severity", "missed", "resolved"}
    assert all(incident in text and "一号机房 room 1" in text for text in sent.values())
    assert "UPS 电池老化 old batteries" in sent["resolved"] and "季度巡检" in sent["resolved"]
    # escalated by hand here: not called automatic
    assert "升级至2级 escalated to level 2" in sent["escalated"]
    assert "自动" not in sent["escalated"]


def test_a_runs_secrets_and_variables_are_used_by_its_notices(tmp_path: Path, sink: Sink) -> None:
    from respond.secrets import Masker

    config = _config(
        tmp_path / "p",
        """
channels:
  oncall: {url: "{{ run_sink }}/oncall"}
severity:
  2: {tell: {opened: [oncall]}}
""",
        sink,
    )
    store = open_store(config)
    run_masker = Masker(["param-secret-5521"])
    book = book_for(
        store,
        config,
        clock=ManualClock(T0),
        channel_vars={"run_sink": f"json://127.0.0.1:{sink.port}/notify"},  # the run's
        masker=run_masker,
    )
    incident = _open(book, title="token param-secret-5521 leaked into the title")

    [got] = sink.received("oncall")  # the URL was rendered with the run's variables
    assert "param-secret-5521" not in got["message"] and "***" in got["message"]
    assert "param-secret-5521" not in str([e.data for e in store.events(incident)])
