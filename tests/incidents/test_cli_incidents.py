"""The incident commands through the real `respond` command in a child process, over an
incident opened by the book: each records its event with the operator as the actor and the
chain intact; a run's id works wherever an incident id does; mistakes are exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clikit import Cli

from respond.clock import ManualClock, iso
from respond.config import load_config
from respond.events import EventDraft, EventKind
from respond.incidents import IncidentBook, book_for
from respond.timeline import Store, new_run_id
from respond.timeline.export import local_time

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def ago(minutes: float) -> str:
    """A time ``minutes`` after T0 (all in the past), as the CLI reads it."""
    return iso(T0 + timedelta(minutes=minutes))


@pytest.fixture
def opened(project: Path, make_store: Callable[..., Store]) -> tuple[Store, IncidentBook, str]:
    store = make_store()
    book = book_for(store, load_config(project), clock=ManualClock(T0))
    incident = book.open(
        title="核心交换机故障 / core switch down",
        runbook="network-outage",
        version="2.1.0",
        scenario="network",
        severity=2,
        detected_at=T0,
        reported_by="值班员 Li",
        site="机房 B",
        description="intranet unreachable from floor 3",
        operator="Zhang Wei",
    )
    return store, book, incident


def attach_run(store: Store, book: IncidentBook, incident: str) -> str:
    """A run of the incident with one step on two hosts, ended ``resolved``."""
    book.clock.set(T0 + timedelta(minutes=3))  # the fixture gave the book a ManualClock
    run_id = new_run_id(T0 + timedelta(minutes=3))
    meta = {"runbook": "network-outage", "version": "2.1.0", "incident": incident}
    store.create_run(run_id, meta)
    book.attach(incident, run_id, runbook="network-outage", version="2.1.0", operator="Zhang Wei")
    step = {"step_id": "check-uplinks"}
    store.append(
        run_id,
        [
            EventDraft(kind=EventKind.RUN_STARTED, data={**meta, "operator": "Zhang Wei"}),
            EventDraft(kind=EventKind.STEP_STARTED, **step, data={"name": "查上联 uplinks"}),
            EventDraft(
                kind=EventKind.STEP_FINISHED,
                **step,
                data={"status": "failed", "ok": 1, "failed": 1},
            ),
            EventDraft(
                kind=EventKind.RUN_FINISHED,
                data={"status": "succeeded", "outcome": "resolved", "reason": "uplink 2 back"},
            ),
        ],
    )
    return run_id


def last(store: Store, incident: str, kind: str) -> dict:
    (event, *_) = [e for e in reversed(store.events(incident)) if e.kind == kind]
    return {"actor": event.actor, **event.data}


def test_ack_severity_vendor_note_resolve_are_recorded_with_the_chain_intact(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    store, _, incident = opened
    cli = respond.bind(cwd=project, env={"RESPOND_OPERATOR": "Wang (env)"})

    acked = cli("ack", incident[:16], "--at", ago(12), "--note", "在路上 on my way")
    assert acked.rc == 0, acked
    assert acked.stdout == ""  # what a command did is a message: stdout stays for data
    assert acked.stderr.splitlines() == [
        f"{incident}: acknowledged at {local_time(ago(12))} by Wang (env)",
        "respond clock: met (12m of 1h)",
    ]
    assert last(store, incident, "acknowledged") == {
        "actor": "Wang (env)", "at": ago(12), "by": "Wang (env)", "note": "在路上 on my way",
    }  # fmt: skip
    again = cli("ack", incident, "--operator", "Someone else")
    assert again.rc == 0 and "already acknowledged at" in again.stderr, again
    assert "by Wang (env); nothing recorded" in again.stderr

    changed = cli(
        "severity", incident, "1", "--reason", "整个园区断网 whole campus", "--operator", "Chen"
    )
    assert changed.rc == 0, changed
    assert f"{incident}: level 2 → 1 by Chen (整个园区断网 whole campus)\n" in changed.stderr
    recorded = last(store, incident, "severity-changed")
    assert (recorded["actor"], recorded["from"], recorded["to"]) == ("Chen", 2, 1)
    same = cli("severity", incident, "1", "--reason", "again")
    assert same.rc == 2 and f"incident {incident} is already" in same.stderr, same

    vendor = cli(
        "incident", "vendor", incident, "--case", "VC-881", "--name", "Vendor Co.",
        "--reported-at", ago(20), "--accepted-at", ago(50),
    )  # fmt: skip
    assert vendor.rc == 0, vendor
    later = cli("incident", "vendor", incident, "--on-site-at", ago(100), "--json")
    assert later.rc == 0, later
    case = later.json()["incident"]["vendor"]
    assert (case["case"], case["name"], case["on_site_at"]) == ("VC-881", "Vendor Co.", ago(100))

    noted = cli("incident", "note", incident, "备件已到 spare", "parts", "in", "--operator", "Li")
    assert noted.rc == 0 and noted.stderr.startswith(f"{incident}: note recorded as event"), noted
    assert last(store, incident, "note") == {"actor": "Li", "text": "备件已到 spare parts in"}

    restored = cli("resolve", incident, "--at", ago(110))
    assert restored.rc == 0, restored
    assert restored.stderr.splitlines()[-1] == (
        f"still needed to close the record: respond resolve {incident} "
        "--cause TEXT --prevention TEXT"
    )
    assert last(store, incident, "restored")["at"] == ago(110)
    closed = cli(
        "resolve", incident, "--cause", "光模块老化 aged optics",
        "--prevention", "巡检时检查光功率 check optical power on inspection",
    )  # fmt: skip
    assert closed.rc == 0, closed
    assert f"{incident}: resolved (record closed) by Wang (env)" in closed.stderr
    twice = cli("resolve", incident, "--cause", "x", "--prevention", "y")
    assert twice.rc == 2, twice
    assert twice.stderr.startswith(f"error: incident {incident} is already resolved (at ")

    verified = cli("timeline", "verify", incident, "--json")
    assert verified.rc == 0, verified
    assert [r["verdict"] for r in verified.json()] != []


def test_a_run_id_names_its_incident(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    store, book, incident = opened
    run_id = attach_run(store, book, incident)
    shown = respond("incident", "show", run_id, "--json", cwd=project)
    assert shown.rc == 0, shown
    record = shown.json()
    assert record["incident"]["incident_id"] == incident
    (run,) = record["runs"]
    assert (run["run_id"], run["outcome"]) == (run_id, "resolved")
    assert [(s["step_id"], s["status"]) for s in run["steps"]] == [("check-uplinks", "failed")]
    acked = respond("ack", run_id[:15], cwd=project)
    assert acked.rc == 0 and acked.stderr.startswith(f"{incident}: already acknowledged"), acked


def test_an_unknown_id_is_exit_2_with_a_hint(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    for args in (("ack", "INC-1999"), ("incident", "show", "nope"), ("resolve", "zz")):
        refused = respond(*args, cwd=project)
        assert refused.rc == 2, refused
        first, hint = refused.stderr.splitlines()
        assert first.startswith(f"error: no incident {args[-1]!r}")
        assert hint.startswith("hint: respond incident list")


@pytest.mark.parametrize("command", ["ack", "resolve"])
def test_a_time_before_detection_is_refused(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli, command: str
) -> None:
    store, _, incident = opened
    before = len(store.events(incident))
    early = respond(command, incident, "--at", iso(T0 - timedelta(hours=1)), cwd=project)
    assert early.rc == 2, early
    assert (
        early.stderr.startswith("error: --at ")
        and "is before the incident was detected" in early.stderr
    )
    assert len(store.events(incident)) == before


def test_show_is_the_record_the_plans_ask_for(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    store, book, incident = opened
    run_id = attach_run(store, book, incident)
    book.vendor_case(incident, by="Li", case="VC-9", reported_at=ago(10), accepted_at=ago(90))
    book.set_severity(incident, 1, reason="整个园区 campus-wide", by="Chen")
    told = {"event": "opened", "recipient": "leaders", "subject": "s", "level": 2}
    store.append(
        incident,
        [
            EventDraft(
                kind=EventKind.NOTIFICATION_SENT,
                data={**told, "channel": "sms", "message": "[机房 B] level 2 incident"},
            ),
            EventDraft(
                kind=EventKind.NOTIFICATION_FAILED,
                data={**told, "channel": "mail", "message": "m", "error": "refused"},
            ),
        ],
    )
    book.resolve(
        incident,
        by="Li",
        at=T0 + timedelta(minutes=100),
        cause="风扇故障 fan",
        prevention="季度巡检 inspect",
    )
    text = respond("incident", "show", incident, cwd=project, check=True).stdout
    for expected in (
        f"incident {incident} · level 1 · resolved",
        "title        核心交换机故障 / core switch down",
        f"detected     {local_time(iso(T0))}",
        "place        机房 B",
        "reported by  值班员 Li · operator Zhang Wei",
        "description  intranet unreachable from floor 3",
        f"  respond    due {local_time(ago(60))} · met at {local_time(ago(3))} (57m to spare)",
        f"  restore    due {local_time(ago(240))} · met at {local_time(ago(100))} (2h 20m to spare)",
        "runbook      network-outage@2.1.0 (network)",
        f"  run {run_id} · network-outage@2.1.0 · resolved — uplink 2 back · ",
        "      check-uplinks        failed (1 ok, 1 failed)  查上联 uplinks",
        f"result       restored {local_time(ago(100))} by Li",
        "cause        风扇故障 fan",
        "prevention   季度巡检 inspect",
        "vendor case  VC-9",
        "  accept     " + local_time(ago(90)) + " (took 1h 20m; ",
        "clocks (level 1: respond within 1h, restore within 4h)",
        "re-classified level 2 → 1 by Chen: 整个园区 campus-wide",
        "notifications 4 sent, 1 failed",  # the two above and the terminal notices
        "opened → leaders via sms: [机房 B] level 2 incident",
        "opened → leaders via mail FAILED: refused: m",
    ):
        assert expected in text, f"{expected!r} not in:\n{text}"


def test_list_shows_the_incidents_and_filters_open_ones(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    _, book, incident = opened
    other = book.open(
        title="OA 无法登录 / OA down", runbook="oa", version="1.0.0", scenario="application",
        severity=3, detected_at=T0 + timedelta(minutes=5), reported_by="Li", site="HQ",
        description=None, operator="Li",
    )  # fmt: skip
    book.resolve(other, by="Li", at=T0 + timedelta(minutes=30), cause="cert", prevention="renew")
    cli = respond.bind(cwd=project)
    table = cli("incident", "list", check=True).stdout
    header, *rows = table.splitlines()
    assert header.split() == [
        "incident", "level", "status", "detected", "site", "title", "runs", "respond/restore",
    ]  # fmt: skip
    assert [r.split()[0] for r in rows] == [incident, other]
    assert rows[1].split()[-1] == "met/met" and rows[0].split()[-1] == "pending/pending"
    listed = cli("--json", "incident", "list", "--open", check=True).json()
    assert [s["incident_id"] for s in listed] == [incident]
    tomorrow = (T0 + timedelta(days=1)).astimezone().date().isoformat()
    empty = cli("incident", "list", "--from", tomorrow)
    assert (empty.rc, empty.stdout, empty.stderr) == (0, "", "no incidents recorded\n")


def test_everything_takes_the_global_json_flag(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli
) -> None:
    _, _, incident = opened
    cli = respond.bind(cwd=project)
    acked = cli("--json", "ack", incident, check=True).json()
    assert acked["event"]["kind"] == "acknowledged" and acked["incident"]["acked_at"]
    noted = cli("--json", "incident", "note", incident, "x", check=True).json()
    assert noted["event"]["data"] == {"text": "x"}
    resolved = cli("--json", "resolve", incident, check=True).json()
    assert [e["kind"] for e in resolved["events"]] == ["restored"]
    json.dumps(cli("--json", "incident", "show", incident, check=True).json())


def test_the_signing_key_never_reaches_the_record_or_the_terminal(
    project: Path, make_store: Callable[..., Store], respond: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "seal-canary-77413-xyzzy"
    monkeypatch.setenv("INCIDENT_SEAL_KEY", canary)
    store = make_store(signing_key="hmac:INCIDENT_SEAL_KEY")
    book = book_for(store, load_config(project), clock=ManualClock(T0))
    incident = book.open(
        title="t", runbook=None, version=None, scenario=None, severity=3, detected_at=T0,
        reported_by=None, site=None, description=None, operator="Li",
    )  # fmt: skip
    cli = respond.bind(cwd=project, env={"INCIDENT_SEAL_KEY": canary})
    said = [
        cli("incident", "note", incident, f"pasted {canary} by mistake"),
        cli("severity", incident, "2", "--reason", f"key {canary}"),
        cli("incident", "vendor", incident, "--case", canary, "--note", canary),
        cli("resolve", incident, "--cause", canary, "--prevention", f"not {canary}"),
        cli("incident", "show", incident),
        cli("--json", "incident", "show", incident),
    ]
    assert all(r.rc == 0 for r in said), said
    assert not [r for r in said if canary in r.output], said
    record = json.dumps([e.data for e in store.events(incident)], ensure_ascii=False)
    assert canary not in record + json.dumps(store.incident_summaries(), ensure_ascii=False)
    assert "pasted *** by mistake" in record


RUNBOOK = """runbook: check
version: 1.0.0
title: 检查 / check
scenario: other
severity: 3
steps:
  - id: look
    name: look around
    kind: local
    argv: [sh, -c, 'echo 一切正常 all fine']
"""


def test_a_real_run_and_its_incident_through_the_commands(
    project: Path, backend: str, respond: Cli
) -> None:
    """`respond run` opens the incident; every incident command then takes the run's id."""
    (project / "runbooks" / "check.yaml").write_text(RUNBOOK, encoding="utf-8")
    cli = respond.bind(cwd=project)
    ran = cli("run", "check", "--site", "机房 C", "--reported-by", "Li", "--detected-at", "-15m",
              "--json")  # fmt: skip
    assert ran.rc == 0, ran
    run_id, incident = ran.json()["run_id"], ran.json()["incident"]["id"]
    record = cli("incident", "show", run_id, "--json", check=True).json()
    assert record["incident"]["incident_id"] == incident
    assert record["incident"]["status"] == "restored"  # the run ended resolved
    (run,) = record["runs"]
    assert (run["run_id"], run["outcome"], run["steps"][0]["step_id"]) == (
        run_id,
        "resolved",
        "look",
    )
    closed = cli(
        "resolve", run_id[:15], "--cause", "误报 false alarm", "--prevention", "调阈值 tune"
    )
    assert closed.rc == 0 and f"{incident}: resolved (record closed)" in closed.stderr, closed
    listed = cli("incident", "list", "--json", check=True).json()
    assert [(s["incident_id"], s["status"], s["cause"]) for s in listed] == [
        (incident, "resolved", "误报 false alarm")
    ]
    cli("timeline", "verify", check=True)


def test_export_writes_the_incident_document(
    opened: tuple[Store, IncidentBook, str], project: Path, respond: Cli, tmp_path: Path
) -> None:
    store, book, incident = opened
    run_id = attach_run(store, book, incident)
    cli = respond.bind(cwd=project)
    md = cli("incident", "export", run_id, "--format", "md")
    assert md.rc == 0 and incident in md.stdout and "network-outage" in md.stdout, md
    target = tmp_path / "事件 incident.json"
    written = cli("incident", "export", incident[:12], "--format", "json", "-o", str(target))
    assert written.rc == 0 and written.stderr == f"wrote {target}\n", written
    assert incident in target.read_text(encoding="utf-8")
    json.loads(target.read_text(encoding="utf-8"))
    html = cli("incident", "export", incident, "--format", "html", check=True).stdout
    assert html.lstrip().lower().startswith("<!doctype html")
    unknown = cli("incident", "export", "nope", "--format", "md")
    assert unknown.rc == 2 and "hint: respond incident list" in unknown.stderr, unknown
    bad = cli("incident", "export", incident, "--format", "pdf")
    assert bad.rc == 2 and "Invalid value for '--format'" in bad.stderr, bad
