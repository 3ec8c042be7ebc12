"""The after-action report of a drill (``respond drill report RUN_ID``): the 19 fields of
the drill record, filled from the run's record wherever the record can fill them.

``drill_document`` reads the store once and returns plain data: the same document for every
format (json, md, html, pdf), so the report's hash (sha256 of its canonical JSON) names
what was reported whichever format was printed. What only people can say (observations,
critical findings, the hotwash, sign-off) comes from the drill lead's findings file; a field
with nothing recorded says so (``LEAD``) instead of staying silently empty.

Secrets are masked in the whole document: the record is masked when written, but the drill
file's text and the findings file are people's text, and may carry a secret parameter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from respond.clock import iso
from respond.errors import DrillError
from respond.events import EventKind, RunEvent
from respond.timeline import facts
from respond.timeline.chain import VerifyResult, canonical_json
from respond.timeline.export import step_spans

if TYPE_CHECKING:
    from respond.config import ProjectConfig
    from respond.drills.model import Drill
    from respond.drills.objectives import Scorecard
    from respond.secrets import Masker
    from respond.timeline.store import RunInfo, Store

FORMAT = "respond-drill-report"
LEAD = "to be entered by the drill lead (findings file)"
# The fields of the drill record, in the order an auditor reads them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("identification", "Identification"),
    ("plan", "Drill plan reference"),
    ("objectives", "Objectives and success criteria"),
    ("scope", "Type and scope"),
    ("scenario", "Scenario and script"),
    ("safety", "Safety and rollback"),
    ("participants", "Participants and roles"),
    ("artifacts", "Artifacts under test"),
    ("timeline", "Timeline"),
    ("notifications", "Notifications and escalations"),
    ("measurements", "Measurements against targets"),
    ("observations", "Observations"),
    ("critical", "Critical findings escalated immediately"),
    ("hotwash", "Hotwash / participant feedback"),
    ("actions", "Recommendations and corrective actions"),
    ("plan_updates", "Plan update record"),
    ("integrity", "Integrity and retention"),
    ("signoff", "Sign-off and distribution"),
    ("next", "Next drill and coverage"),
)
MODE_TEXT = {
    "tabletop": "tabletop: the steps were walked and timed by people, nothing executed",
    "simulate": "functional (simulate): diagnostic steps ran, gated (destructive) steps were "
    "recorded as simulated, never executed",
    "lab": "hands-on (lab): every step ran against the embedded simulated machine room "
    "with the faults injected",
}
SCENARIOS = ("power", "network", "server", "application")
YEAR = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class DrillRecord:
    """One drill run as read from the store."""

    info: RunInfo
    meta: dict[str, Any]
    events: list[RunEvent]
    verify: VerifyResult | None
    runbook_text: str | None

    @property
    def definition(self) -> dict[str, Any]:
        found = self.meta.get("drill_definition")
        return dict(found) if isinstance(found, dict) else {}

    @property
    def name(self) -> str:
        return str(self.meta.get("drill_name") or self.definition.get("drill") or "-")

    @property
    def mode(self) -> str:
        return str(self.meta.get("drill_mode") or "simulate")

    @property
    def started(self) -> dict[str, Any]:
        first = next((e for e in self.events if e.kind == EventKind.RUN_STARTED), None)
        return dict(first.data) if first is not None else {}


def read_record(store: Store, run_id: str) -> DrillRecord:
    """The drill run ``run_id`` names (an id or prefix); DrillError when it is no drill."""
    rid = store.resolve_run_id(run_id)
    meta = store.meta(rid)
    if not meta.get("drill"):
        raise DrillError(f"run {rid} is not a drill")
    from respond.errors import ConfigError

    try:
        verify: VerifyResult | None = store.verify(rid)
    except ConfigError:  # the signing key cannot be loaded: report it unverified
        verify = None
    return DrillRecord(store.run(rid), meta, store.events(rid), verify, store.runbook_text(rid))


def drill_document(
    store: Store,
    run_id: str,
    config: ProjectConfig,
    findings: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The after-action document of the drill run ``run_id``. ``findings``: the drill
    lead's findings (default: the last ones recorded on the run)."""
    record = read_record(store, run_id)
    at = now or datetime.now(UTC)
    given = dict(findings) if findings is not None else recorded_findings(record.events)
    drill = drill_of(record)
    card = scorecard(store, record, config)
    fields = {
        "identification": identification(record, config, at),
        "plan": plan_reference(store, record, drill, config, at),
        "objectives": objectives(record, drill, card, config),
        "scope": scope(record),
        "scenario": scenario(record),
        "safety": safety(record),
        "participants": participants(record),
        "artifacts": artifacts(record),
        "timeline": timeline(record, card),
        "notifications": notifications(record.events),
        "measurements": measurements(store, record, card),
        "observations": observations(record, given),
        "critical": given.get("critical") or LEAD,
        "hotwash": given.get("hotwash") or LEAD,
        "actions": actions(store, record, config, given),
        "plan_updates": plan_updates(record, config, given),
        "integrity": integrity(store, record, config),
        "signoff": signoff(given),
        "next": next_drills(store, record, config, at),
    }
    doc = {
        "format": FORMAT,
        "version": 1,
        "run_id": record.info.run_id,
        "drill": record.name,
        "title": record.definition.get("title") or record.name,
        "fields": fields,
    }
    masked: dict[str, Any] = report_masker(store, record).mask(doc)
    return masked


def document_sha256(doc: Mapping[str, Any]) -> str:
    """The report's hash: sha256 of the canonical JSON of the document (without its stamp)."""
    body = {k: v for k, v in doc.items() if k != "stamp"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def stamp_payload(run_id: str, sha256: str, version: int) -> bytes:
    """What a report's signature signs: the run, the report's hash and its version."""
    return canonical_json({"run_id": run_id, "sha256": sha256, "version": version}).encode()


def report_version(events: Sequence[RunEvent]) -> int:
    """The number the next report of this run gets (the n-th report)."""
    return 1 + sum(1 for e in events if e.kind == EventKind.DRILL_REPORT)


def recorded_findings(events: Sequence[RunEvent]) -> dict[str, Any]:
    """The last findings recorded on the run (a DRILL_FINDINGS event), or none."""
    found = [e for e in events if e.kind == EventKind.DRILL_FINDINGS]
    if not found:
        return {}
    data = found[-1].data.get("findings")
    return dict(data) if isinstance(data, dict) else {}


def report_masker(store: Store, record: DrillRecord) -> Masker:
    """The secrets the report must not show: the signing key's, and the values of the
    runbook's secret parameters as the drill file (and its recorded definition) give them."""
    from respond.secrets import Masker

    masker = Masker(store.key_material())
    secret = secret_params(record.runbook_text)
    for params in (_params_of(_yaml(record.meta.get("drill_text"))), _params_of(record.definition)):
        for name in secret & set(params):
            masker.add(params[name])
    return masker


def secret_params(runbook_text: str | None) -> set[str]:
    """The names of the parameters the runbook marks ``secret``."""
    params = _params_of(_yaml(runbook_text))
    return {str(k) for k, v in params.items() if isinstance(v, dict) and v.get("secret")}


def _params_of(data: Any) -> dict[str, Any]:
    params = data.get("params") if isinstance(data, dict) else None
    return params if isinstance(params, dict) else {}


def _yaml(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    from respond.yamlfile import parse_yaml

    data, _, issues = parse_yaml(text, "<record>")
    return None if issues else data


def drill_of(record: DrillRecord) -> Drill | None:
    """The drill definition the run recorded (not today's file), or None if it no longer
    reads as one."""
    from respond.drills.history import recorded_drill

    return recorded_drill(record.meta)


def scorecard(store: Store, record: DrillRecord, config: ProjectConfig) -> Scorecard | None:
    """The run scored against the definition and the runbook it recorded, with the
    project's level limits (a level the project lacks: the limits the run recorded)."""
    from respond.drills.history import run_scorecard

    return run_scorecard(store, record.info.run_id, levels=level_limits(config))


def level_limits(config: ProjectConfig) -> dict[int, dict[str, float]]:
    return {n: {"respond": lv.respond, "restore": lv.restore} for n, lv in config.levels.items()}


# --------------------------------------------------------------------------- 1-4


def identification(record: DrillRecord, config: ProjectConfig, at: datetime) -> dict[str, Any]:
    people = record.definition.get("participants") or []
    lead: dict[str, Any] = next((p for p in people if p.get("role") == "lead"), {})
    return {
        "drill": record.name,
        "title": record.definition.get("title") or "",
        "run_id": record.info.run_id,
        "linked_runs": [record.info.run_id],
        "organisation": config.organisation or LEAD,
        "unit": lead.get("organisation") or LEAD,
        "report_version": report_version(record.events),
        "date": iso(at),
        "operator": record.started.get("operator") or record.info.operator,
        "drill_sha256": record.meta.get("drill_sha256"),
    }


def plan_reference(
    store: Store, record: DrillRecord, drill: Drill | None, config: ProjectConfig, at: datetime
) -> dict[str, Any]:
    planned = record.meta.get("occurrence")
    started = record.info.started
    delay = _seconds(planned, started) if planned and started else None
    schedule = drill.schedule if drill is not None else None
    return {
        "schedule": None
        if schedule is None
        else {"cron": schedule.expression, "timezone": schedule.timezone, "start": schedule.start},
        "planned": planned,
        "actual": started,
        "delay_s": delay,
        "text": _plan_text(planned, started, delay, schedule is not None),
        "missed": missed_occurrences(store, record, drill, config, at),
    }


def _plan_text(planned: Any, started: Any, delay: float | None, scheduled: bool) -> str:
    if planned and delay is not None:
        late = f"{facts.human_span(delay)} after" if delay >= 0 else "before"
        return (
            f"scheduled occurrence {facts.local_when(planned)}; run started "
            f"{facts.local_when(started)} ({late} the planned time)"
        )
    if scheduled:
        return f"run by hand at {facts.local_when(started)}, not for a scheduled occurrence"
    return f"run by hand at {facts.local_when(started)}; the drill has no schedule"


def missed_occurrences(
    store: Store, record: DrillRecord, drill: Drill | None, config: ProjectConfig, at: datetime
) -> list[dict[str, Any]]:
    """Occurrences of the last twelve months before this run that no run took on (or that
    were claimed but never ran, with the reason recorded)."""
    if drill is None or drill.schedule is None or not record.info.started:
        return []
    from croniter import croniter

    from respond.drills.schedule import zone_of

    end = facts.parse_ts(record.info.started)
    zone = zone_of(drill.schedule, config.timezone)
    begin = max(end - YEAR, _start_of(drill.schedule.start, zone) or end - YEAR)
    # occurrences compared as times: a caller may have written them with or without
    # microseconds
    claims = {_when(c["occurrence"]): c for c in store.drill_occurrences(record.name)}
    ran = _occurrences_run(store, record.name)
    out: list[dict[str, Any]] = []
    it = croniter(drill.schedule.expression, begin.astimezone(zone))
    for _ in range(400):  # a weekly drill has 52 a year; bounded whatever the expression
        when: datetime = it.get_next(datetime).astimezone(UTC)
        if when > end:
            break
        claim = claims.get(when)
        if when in ran or (claim and claim.get("run_id")):
            continue
        why = (claim or {}).get("detail") or ("claimed, never run" if claim else "not run")
        out.append({"occurrence": iso(when), "reason": why})
    return out


def _start_of(start: str | None, zone: Any) -> datetime | None:
    if not start:
        return None
    return datetime.fromisoformat(start).replace(tzinfo=zone).astimezone(UTC)


def _occurrences_run(store: Store, drill_name: str) -> set[datetime | None]:
    found: set[datetime | None] = set()
    for run in store.runs(drill=True):
        meta = run.meta
        if meta.get("drill_name") == drill_name and meta.get("occurrence"):
            found.add(_when(meta["occurrence"]))
    return found


def _when(text: Any) -> datetime | None:
    try:
        return facts.parse_ts(str(text))
    except ValueError:
        return None


def objectives(
    record: DrillRecord, drill: Drill | None, card: Any, config: ProjectConfig
) -> dict[str, Any]:
    severity = record.started.get("severity")
    level = config.levels.get(int(severity)) if isinstance(severity, int) else None
    return {
        "runbook": record.info.runbook,
        "capability": record.definition.get("title") or record.info.title,
        "severity": severity,
        "level_targets": None
        if level is None
        else {"respond_s": level.respond, "restore_s": level.restore},
        "scorecard": _card_dict(card),
        "passed": bool(card.passed) if card is not None else None,
        "criteria": [] if drill is None else [criterion_text(o) for o in drill.objectives],
    }


def _card_dict(card: Scorecard | None) -> dict[str, Any] | None:
    """The scorecard, without the step times and milestones fields 9 and 11 show."""
    if card is None:
        return None
    return {k: v for k, v in card.to_dict().items() if k not in ("steps", "milestones")}


def criterion_text(objective: Any) -> str:
    """An objective as its pass/fail criterion, in words."""
    kind = objective.kind
    if kind == "gates":
        return "every gate reached is answered by a person"
    if kind == "skips":
        return "no step is skipped without a reason"
    if kind == "step":
        return f"step {objective.step} finished within {facts.human_span(objective.by)} of t0"
    target = getattr(objective, kind)
    limit = "the severity level's limit" if target == "level" else facts.human_span(target)
    verb = {"respond": "first step started", "diagnose": "diagnosis reached"}.get(kind, "restored")
    return f"{kind}: {verb} within {limit} of t0"


def scope(record: DrillRecord) -> dict[str, Any]:
    simulated = sorted(
        {
            e.step_id
            for e in record.events
            if e.step_id
            and (
                (
                    e.kind == EventKind.STEP_STARTED
                    and e.data.get("drill_mode") in ("simulate", "tabletop")
                )
                or (e.kind == EventKind.STEP_FINISHED and e.data.get("status") == "simulated")
            )
        }
    )
    return {
        "mode": record.mode,
        "type": MODE_TEXT.get(record.mode, record.mode),
        "scope": record.definition.get("scope") or LEAD,
        "inventory": record.meta.get("inventory"),
        "simulated_steps": simulated,
        "reach": _reach(record.definition.get("participants") or []),
    }


def _reach(people: Sequence[Mapping[str, Any]]) -> str:
    """Internal or cross-department, from the participants' organisations."""
    units = sorted({str(p["organisation"]) for p in people if p.get("organisation")})
    if len(units) > 1:
        return f"cross-department: {', '.join(units)}"
    return f"internal: {units[0]}" if units else LEAD


def scenario(record: DrillRecord) -> dict[str, Any]:
    book = _yaml(record.runbook_text)
    injects = [
        {
            "at": e.ts,
            **{k: e.data.get(k) for k in ("fault", "target", "duration", "applied")},
            "result": e.data.get("error") or e.data.get("result"),
        }
        for e in record.events
        if e.kind == EventKind.DRILL_INJECT
    ]
    heals = [
        {
            "at": e.ts,
            "faults": e.data.get("faults"),
            "result": e.data.get("error") or e.data.get("result"),
        }
        for e in record.events
        if e.kind == EventKind.DRILL_HEAL
    ]
    return {
        "scenario": (book or {}).get("scenario") if isinstance(book, dict) else None,
        "narrative": record.definition.get("scenario") or LEAD,
        "injects_planned": list(record.definition.get("inject") or []),
        "injects": injects,
        "heals": heals,
        "planned_steps_s": dict(record.definition.get("planned") or {}),
        "script_sha256": record.meta.get("drill_sha256"),
        "script": record.meta.get("drill_text") or "",
    }


def safety(record: DrillRecord) -> dict[str, Any]:
    gates = [
        {
            "at": e.ts,
            "step_id": e.step_id,
            "decision": "confirmed" if e.kind == EventKind.GATE_CONFIRMED else "refused",
            "by": e.data.get("by") or e.actor,
        }
        for e in record.events
        if e.kind in (EventKind.GATE_CONFIRMED, EventKind.GATE_REFUSED)
    ]
    guard = {
        "tabletop": "nothing executes in a tabletop drill",
        "simulate": "gated (destructive) steps are always simulated outside lab mode",
        "lab": "lab drills run only against the lab's inventory, every host on loopback",
    }.get(record.mode, "")
    return {"plan": record.definition.get("safety") or LEAD, "guard_rail": guard, "gates": gates}


def participants(record: DrillRecord) -> dict[str, Any]:
    people = list(record.definition.get("participants") or [])
    acted: dict[str, None] = {}
    for e in record.events:
        if e.actor and e.actor != "respond":
            acted.setdefault(e.actor, None)
    channels = sorted({n.channel for n in facts.notifications(record.events) if n.channel})
    return {
        "people": people,
        "acted": list(acted),
        "absent": LEAD,
        "channels": channels,
    }


def artifacts(record: DrillRecord) -> dict[str, Any]:
    snapshot = record.meta.get("inventory_snapshot")
    return {
        "runbook": record.info.runbook,
        "version": record.info.version,
        "sha256": record.info.sha256,
        "respond_version": record.meta.get("respond_version"),
        "inventory": record.meta.get("inventory"),
        "inventory_sha256": None
        if not snapshot
        else hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest(),
        "params": record.started.get("params") or record.meta.get("params") or {},
        "drill_sha256": record.meta.get("drill_sha256"),
    }


# --------------------------------------------------------------------------- 9-11


def timeline(record: DrillRecord, card: Scorecard | None) -> dict[str, Any]:
    """Each step: planned against actual, who, where, what ran, how it ended, decisions."""
    from respond.drills.objectives import drill_start, step_times

    planned = dict(record.definition.get("planned") or {})
    t0 = card.t0 if card is not None else drill_start(record.events)
    details = _step_details(record.events)
    rows = []
    times = card.steps if card is not None else tuple(step_times(record.events, planned))
    for st in times:
        row = st.to_dict()
        row.update(details.get(st.step_id, {}))
        row["offset_s"] = _seconds(t0, st.started) if t0 and st.started else None
        rows.append(row)
    ran = {r["step_id"] for r in rows if r.get("started")}
    deviations = [f"planned step {sid} never started" for sid in planned if sid not in ran]
    overrides = [
        {"at": e.ts, "by": e.actor, "what": f"lock taken over: {e.data.get('reason') or '-'}"}
        for e in record.events
        if e.kind == EventKind.LOCK_TAKEN
    ]
    return {"t0": t0, "steps": rows, "deviations": deviations, "overrides": overrides}


def _step_details(events: Sequence[RunEvent]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if not e.step_id:
            continue
        d = out.setdefault(
            e.step_id,
            {
                "targets": [],
                "commands": [],
                "exit": [],
                "output_sha256": [],
                "decisions": [],
                "operator": None,
                "action": None,
            },
        )
        if e.kind == EventKind.STEP_STARTED:
            d["targets"] = list(e.data.get("hosts") or [])
            d["action"] = e.data.get("drill_mode")
        elif e.kind == EventKind.HOST_INTENT:
            cmds = e.data.get("commands")
            d["commands"] += (
                [str(c) for c in cmds] if isinstance(cmds, list) else ([str(cmds)] if cmds else [])
            )
        elif e.kind == EventKind.HOST_RESULT:
            d["exit"].append(_exit_of(e.data))
            d["output_sha256"].append(_output_hash(e.data))
        elif e.kind in _DECISIONS:
            d["decisions"].append(_decision(e))
            d["operator"] = e.data.get("by") or e.actor
    return out


_DECISIONS = frozenset({EventKind.GATE_CONFIRMED, EventKind.GATE_REFUSED, EventKind.ANSWER})


def _exit_of(data: Mapping[str, Any]) -> Any:
    cmds = data.get("commands") or []
    rcs = [c.get("rc") for c in cmds if isinstance(c, dict)]
    return rcs[-1] if rcs else data.get("rc")


def _output_hash(data: Mapping[str, Any]) -> str | None:
    output = data.get("output")
    if isinstance(output, dict) and output.get("artifact"):
        return str(output["artifact"])
    cmds = [c for c in data.get("commands") or [] if isinstance(c, dict)]
    text = "".join(str(c.get("stdout") or "") for c in cmds) or (
        output if isinstance(output, str) else ""
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


def _decision(e: RunEvent) -> str:
    by = e.data.get("by") or e.actor
    if e.kind == EventKind.ANSWER:
        return f"answered {e.data.get('answer')!s} (by {by})"
    verb = "confirmed" if e.kind == EventKind.GATE_CONFIRMED else "refused"
    why = f": {e.data['reason']}" if e.data.get("reason") else ""
    return f"gate {verb} by {by}{why}"


def notifications(events: Sequence[RunEvent]) -> dict[str, Any]:
    escalations = [
        {
            "at": e.ts,
            "kind": e.kind,
            "from": e.data.get("from"),
            "to": e.data.get("to", e.data.get("severity")),
            "automatic": bool(e.data.get("automatic")),
            "reason": e.data.get("reason"),
        }
        for e in events
        if e.kind in (EventKind.ESCALATED, EventKind.SEVERITY_CHANGED)
    ]
    return {"sent": [n.to_dict() for n in facts.notifications(events)], "escalations": escalations}


def measurements(store: Store, record: DrillRecord, card: Scorecard | None) -> dict[str, Any]:
    from respond.drills.history import recorded_gated
    from respond.drills.objectives import milestones

    if card is not None:
        marks = card.milestones
    else:
        marks = milestones(record.events, recorded_gated(store, record.info.run_id))
    spans = step_spans(record.events)
    return {
        "milestones": {k: getattr(marks, k) for k in ("t0", "responded", "diagnosed", "restored")},
        "respond_s": marks.since_t0(marks.responded),
        "diagnose_s": marks.since_t0(marks.diagnosed),
        "restore_s": marks.since_t0(marks.restored),
        "outcome": record.info.outcome or record.info.status,
        "duration_s": record.info.duration_s,
        "objectives_met": len(card.met) if card is not None else None,
        "objectives_total": len(card.results) if card is not None else None,
        "steps_failed": sum(1 for s in spans if s.status in ("failed", "timed_out")),
        "hosts_failed": sum(s.hosts_failed for s in spans),
        "clocks": [c.to_dict() for c in facts.run_clocks(record.events)],
    }


# --------------------------------------------------------------------------- 12-19


def observations(record: DrillRecord, findings: Mapping[str, Any]) -> dict[str, Any]:
    spans = step_spans(record.events)
    skipped = [
        {"step_id": e.step_id, "reason": e.data.get("reason") or ""}
        for e in record.events
        if e.kind == EventKind.STEP_SKIPPED
    ]
    notes = [
        {"at": e.ts, "by": e.actor, "text": e.data.get("text")}
        for e in record.events
        if e.kind == EventKind.NOTE and not e.data.get("action")
    ]
    return {
        "worked": [s.step_id for s in spans if s.status in ("ok", "simulated")],
        "failed": [s.step_id for s in spans if s.status in ("failed", "timed_out", "unknown")],
        "skipped": skipped,
        "diagnosis": [f.to_dict() for f in facts.diagnosis(record.events)],
        "notes": notes,
        "findings": findings.get("observations") or LEAD,
    }


# an action in one of these states needs nothing more; any other is carried to later reports
CLOSED = frozenset({"done", "closed", "verified", "cancelled", "dropped"})


def actions(
    store: Store, record: DrillRecord, config: ProjectConfig, findings: Mapping[str, Any]
) -> dict[str, Any]:
    """The lead's actions, then those noted on the run (``respond note --action``); the
    actions of earlier runs of the same drill still open (carried until a later findings
    file closes them under the same id); and the trend against those earlier runs."""
    items = [dict(a) for a in findings.get("actions") or []] + noted_actions(record.events)
    from respond.drills.history import drill_history

    rows = drill_history(store, record.name, before=record.info.run_id, levels=level_limits(config))
    carried = carried_actions(store, [r.run_id for r in rows], {str(a.get("id")) for a in items})
    return {
        "items": items or LEAD,
        "carried": carried or "-",
        "trend": [r.to_dict() for r in rows],
    }


def noted_actions(events: Sequence[RunEvent]) -> list[dict[str, Any]]:
    """Corrective actions recorded with ``respond note RUN TEXT --action``."""
    items = []
    for e in events:
        action = e.data.get("action") if e.kind == EventKind.NOTE else None
        if isinstance(action, dict):
            items.append(
                {
                    "id": f"N{e.seq}",
                    "description": e.data.get("text"),
                    "owner": action.get("owner"),
                    "due": action.get("due"),
                    "status": "open",
                    "ref": f"note {e.seq}",
                }
            )
    return items


def carried_actions(
    store: Store, earlier_runs: Sequence[str], current_ids: set[str]
) -> list[dict[str, Any]]:
    """Actions of ``earlier_runs`` (oldest first) whose latest state is not closed and that
    this run's findings do not list again; each names the run it came from."""
    latest: dict[str, dict[str, Any]] = {}
    for run_id in earlier_runs:
        events = store.events(run_id)
        for action in recorded_findings(events).get("actions") or []:
            latest[str(action.get("id"))] = {**action, "from_run": run_id}
        for action in noted_actions(events):  # N<seq> is unique within its run only
            latest[f"{run_id}/{action['id']}"] = {**action, "from_run": run_id}
    return [
        a
        for key, a in latest.items()
        if str(a.get("status") or "open").lower() not in CLOSED and key not in current_ids
    ]


def plan_updates(
    record: DrillRecord, config: ProjectConfig, findings: Mapping[str, Any]
) -> dict[str, Any]:
    now = _file_sha(config.runbooks_dir, record.info.runbook)
    ran = record.info.sha256
    changed = None
    if now and ran and now != ran:
        changed = f"runbook {record.info.runbook} changed since the drill: {ran} → {now}"
    return {
        "updates": findings.get("plan_updates") or LEAD,
        "runbook_sha256_at_drill": ran,
        "runbook_sha256_now": now,
        "changed": changed,
    }


def _file_sha(folder: Any, name: Any) -> str | None:
    if not name:
        return None
    for suffix in (".yaml", ".yml"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    return None


def integrity(store: Store, record: DrillRecord, config: ProjectConfig) -> dict[str, Any]:
    seals = [e for e in record.events if e.kind == EventKind.SEALED]
    reports = [
        {k: e.data.get(k) for k in ("version", "format", "sha256", "generated_at", "key_id")}
        for e in record.events
        if e.kind == EventKind.DRILL_REPORT
    ]
    return {
        "verify": record.verify.to_dict() if record.verify is not None else None,
        "verify_text": facts.seal_text(record.verify, record.events),
        "state": facts.seal_state(record.verify),
        "anchor": f"sealed by key {seals[-1].data.get('key_id')}" if seals else "not sealed",
        "earlier_reports": reports,
        "retention": config.retention or LEAD,
        "storage": f"{store.dialect} journal store",
    }


def signoff(findings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "signoff": list(findings.get("signoff") or []) or LEAD,
        "distribution": list(findings.get("distribution") or []) or LEAD,
    }


def next_drills(
    store: Store, record: DrillRecord, config: ProjectConfig, at: datetime
) -> dict[str, Any]:
    """When every drill falls due next, and what was exercised in the last twelve months."""
    from respond.drills.loader import find_drills, load_drill
    from respond.drills.schedule import next_occurrence

    upcoming = []
    for path in find_drills(config):
        try:
            drill = load_drill(path, config)
        except DrillError:
            continue
        when = next_occurrence(drill.schedule, at, config.timezone) if drill.schedule else None
        upcoming.append(
            {
                "drill": drill.id,
                "runbook": drill.runbook,
                "mode": drill.mode,
                "next": iso(when) if when else None,
            }
        )
    upcoming.sort(key=lambda u: (u["next"] is None, u["next"] or ""))
    return {"upcoming": upcoming, "coverage": coverage(store, at)}


def coverage(store: Store, at: datetime) -> dict[str, Any]:
    """Drill runs of the last twelve months, by runbook and by scenario."""
    runbooks: dict[str, dict[str, Any]] = {}
    scenarios: set[str] = set()
    for run in store.runs(drill=True, since=iso(at - YEAR)):
        entry = runbooks.setdefault(
            str(run.runbook), {"runbook": run.runbook, "runs": 0, "drills": [], "last": None}
        )
        entry["runs"] += 1
        name = run.meta.get("drill_name")
        if name and name not in entry["drills"]:
            entry["drills"].append(name)
        entry["last"] = max(filter(None, [entry["last"], run.started]), default=None)
        kind = _scenario_of(store, run.run_id)
        if kind:
            scenarios.add(kind)
    return {
        "runbooks": sorted(runbooks.values(), key=lambda r: str(r["runbook"])),
        "scenarios": sorted(scenarios),
        "not_exercised": [s for s in SCENARIOS if s not in scenarios],
    }


def _scenario_of(store: Store, run_id: str) -> str | None:
    data = _yaml(store.runbook_text(run_id))
    value = data.get("scenario") if isinstance(data, dict) else None
    return str(value) if value else None


def _seconds(start: Any, end: Any) -> float:
    return (facts.parse_ts(str(end)) - facts.parse_ts(str(start))).total_seconds()
