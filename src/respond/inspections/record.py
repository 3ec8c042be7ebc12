"""Reading inspection runs back from the record: the graded results per host and check,
the run before, what changed since, and every result in a period (the daily check record).

An inspection run is a run whose meta carries ``inspection`` (name, version, title, the
checks as defined); each ``host-result`` event of a check step carries the graded result in
``data.data.check`` (the ``CheckResult`` as a dict). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from respond.checks.result import CheckResult, State
from respond.clock import iso, parse_iso
from respond.errors import ConfigError, InvalidInput
from respond.events import EventKind, RunEvent

if TYPE_CHECKING:
    from respond.timeline import RunInfo, Store
    from respond.timeline.chain import VerifyResult


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRecord:
    """One check on one host in one inspection run."""

    run_id: str
    inspection: str
    host: str
    check_id: str
    check: str  # the built-in check's name
    title: str  # what is checked, in the inspection's words
    result: CheckResult
    at: str  # when the result was read (UTC, the store's form)
    status: str  # the host step's status (ok, failed, …)

    @property
    def state(self) -> State:
        return self.result.state


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionRecord:
    """One inspection run as recorded: who ran what when, and every graded result."""

    run: RunInfo
    name: str
    version: str | None
    title: str | None
    operator: str | None
    started: str | None
    ended: str | None
    inventory: str | None
    hosts: tuple[str, ...]
    checks: tuple[dict[str, Any], ...]  # as the run's meta lists them
    results: tuple[CheckRecord, ...]
    verified: bool | None  # the record verified intact; None: not verified
    verify: VerifyResult | None = None  # the whole verdict, when verified


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """A result that differs from the run before: worse, better, new or gone."""

    host: str
    check_id: str
    before: CheckRecord | None
    after: CheckRecord | None
    worse: bool
    text: str

    @property
    def kind(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        return "worse" if self.worse else "better"


def inspection_meta(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``inspection`` part of a run's meta, None for a run of a runbook."""
    found = meta.get("inspection")
    return found if isinstance(found, dict) and found.get("name") else None


def load_inspection_run(store: Store, run_id: str, *, verify: bool = True) -> InspectionRecord:
    """The inspection run ``run_id`` names (an id or a unique prefix). InvalidInput (exit 2)
    when the run is not an inspection."""
    rid = store.resolve_run_id(run_id)
    info = store.run(rid)
    found = inspection_meta(info.meta)
    if found is None:
        raise InvalidInput(f"{rid} is a run of runbook {info.runbook or '?'}, not an inspection")
    return _record(store, info, found, store.events(rid), verify=verify)


def _record(
    store: Store,
    info: RunInfo,
    found: Mapping[str, Any],
    events: Sequence[RunEvent],
    *,
    verify: bool,
) -> InspectionRecord:
    checks = tuple(c for c in found.get("checks") or () if isinstance(c, dict))
    results = _results(info.run_id, str(found["name"]), checks, events)
    verdict = _verify(store, info.run_id) if verify else None
    return InspectionRecord(
        run=info,
        name=str(found["name"]),
        version=_text(found.get("version") or info.version),
        title=_text(found.get("title") or info.title),
        operator=info.operator,
        started=info.started,
        ended=info.ended,
        inventory=_text(info.meta.get("inventory")),
        hosts=_hosts(events, results),
        checks=checks,
        results=results,
        verified=None if verdict is None else verdict.ok,
        verify=verdict,
    )


def _verify(store: Store, run_id: str) -> VerifyResult | None:
    try:
        return store.verify(run_id)
    except ConfigError:  # the signing key cannot be loaded: reported as not verified
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _results(
    run_id: str, name: str, checks: Sequence[Mapping[str, Any]], events: Sequence[RunEvent]
) -> tuple[CheckRecord, ...]:
    """The last graded result per (check, host), in the inspection's check order then by
    host (a resumed run may record a host twice: the later result stands)."""
    order = {str(c.get("id")): n for n, c in enumerate(checks)}
    titles = {str(c.get("id")): c.get("title") for c in checks}
    step_names: dict[str, str] = {}
    latest: dict[tuple[str, str], CheckRecord] = {}
    for event in events:
        if event.kind == EventKind.STEP_STARTED and event.step_id:
            step_names[event.step_id] = str(event.data.get("name") or "")
        if event.kind != EventKind.HOST_RESULT or not event.step_id or not event.host:
            continue
        if event.step_id not in order:
            continue  # not a check step (e.g. a closing step of the compiled runbook)
        title = titles.get(event.step_id) or step_names.get(event.step_id)
        record = _check_record(run_id, name, event, title)
        latest[(record.check_id, record.host)] = record
    return tuple(sorted(latest.values(), key=lambda r: (order[r.check_id], r.host)))


def _check_record(run_id: str, name: str, event: RunEvent, title: str | None) -> CheckRecord:
    data = event.data
    payload = (data.get("data") or {}).get("check") if isinstance(data.get("data"), dict) else None
    check_id = str(event.step_id)
    if isinstance(payload, dict) and payload.get("state"):
        result = CheckResult.from_dict(payload)
        check = str(payload.get("name") or check_id)
    else:  # a host that never got a grade: say why, as UNKNOWN
        error = data.get("error") or f"no graded result (step status {data.get('status')})"
        result = CheckResult(state=State.UNKNOWN, summary=str(error))
        check = check_id
    return CheckRecord(
        run_id=run_id,
        inspection=name,
        host=str(event.host),
        check_id=check_id,
        check=check,
        title=str(title or _spec_summary(check) or check),
        result=result,
        at=_at(data.get("ended"), event.ts),
        status=str(data.get("status") or "unknown"),
    )


def _spec_summary(check: str) -> str | None:
    from respond.checks.catalog import get

    spec = get(check)
    return spec.summary if spec is not None else None


def _at(ended: Any, fallback: str) -> str:
    """The result's time in the store's form (sortable as text)."""
    if isinstance(ended, str) and ended:
        try:
            return iso(parse_iso(ended))
        except ValueError:
            pass
    return fallback


def _hosts(events: Sequence[RunEvent], results: Sequence[CheckRecord]) -> tuple[str, ...]:
    """Every host a check step was meant for or graded, sorted."""
    hosts = {r.host for r in results}
    for event in events:
        if event.kind == EventKind.STEP_STARTED:
            hosts.update(str(h) for h in event.data.get("hosts") or () if h)
    return tuple(sorted(hosts))


def _inspection_runs(
    store: Store, *, until: str | date | datetime | None = None, name: str | None = None
) -> list[tuple[RunInfo, dict[str, Any]]]:
    out = []
    for info in store.runs(until=until):
        found = inspection_meta(info.meta)
        if found is not None and (name is None or found.get("name") == name):
            out.append((info, found))
    return out


def previous_run(store: Store, record: InspectionRecord) -> InspectionRecord | None:
    """The latest run of the same inspection that started before this one."""
    here = record.run.started or record.run.created
    earlier = [
        (info, found)
        for info, found in _inspection_runs(store, name=record.name)
        if info.run_id != record.run.run_id and (info.started or info.created) < here
    ]
    if not earlier:
        return None
    info, found = max(earlier, key=lambda pair: pair[0].started or pair[0].created)
    return _record(store, info, found, store.events(info.run_id), verify=False)


def trend(current: InspectionRecord, previous: InspectionRecord | None) -> list[Change]:
    """What changed since ``previous``: results in a worse or better state, checks on hosts
    that are new or gone. Worse first, then new, better, gone; unchanged states are left out."""
    if previous is None:
        return []
    before = {(r.check_id, r.host): r for r in previous.results}
    after = {(r.check_id, r.host): r for r in current.results}
    changes = [_change(before.get(k), after.get(k)) for k in (*after, *before.keys() - after)]
    found = [c for c in changes if c is not None]
    rank = {"worse": 0, "new": 1, "better": 2, "gone": 3}
    return sorted(found, key=lambda c: (rank[c.kind], c.host, c.check_id))


def _change(before: CheckRecord | None, after: CheckRecord | None) -> Change | None:
    one = after or before
    assert one is not None
    where = f"{one.check_id} on {one.host}"
    if before is None:
        assert after is not None
        text = f"new: {where} {after.state.word} ({after.result.summary})"
        return Change(
            host=one.host,
            check_id=one.check_id,
            before=None,
            after=after,
            worse=after.state.rank > State.OK.rank,
            text=text,
        )
    if after is None:
        text = f"gone: {where} (was {before.state.word})"
        return Change(
            host=one.host, check_id=one.check_id, before=before, after=None, worse=False, text=text
        )
    if before.state.rank == after.state.rank:
        return None
    worse = after.state.rank > before.state.rank
    text = (
        f"{'worse' if worse else 'better'}: {where} {before.state.word} → "
        f"{after.state.word} ({after.result.summary})"
    )
    return Change(
        host=one.host, check_id=one.check_id, before=before, after=after, worse=worse, text=text
    )


def results_between(
    store: Store,
    since: str | date | datetime | None,
    until: str | date | datetime | None,
    *,
    host: str | None = None,
    check: str | None = None,
    inspection: str | None = None,
) -> list[CheckRecord]:
    """Every check result read between ``since`` and ``until`` (inclusive; a date is its
    whole UTC day), sorted by time then host. ``check`` matches a check id or name."""
    from respond.timeline.store import to_utc_iso

    lo, hi = to_utc_iso(since) or "", to_utc_iso(until, end=True) or "~"
    out: list[CheckRecord] = []
    for info, found in _inspection_runs(store, until=until, name=inspection):
        if info.ended is not None and info.ended < lo:
            continue  # finished before the period began
        checks = tuple(c for c in found.get("checks") or () if isinstance(c, dict))
        for r in _results(info.run_id, str(found["name"]), checks, store.events(info.run_id)):
            if not lo <= r.at <= hi:
                continue
            if host is not None and r.host != host:
                continue
            if check is not None and check not in (r.check_id, r.check):
                continue
            out.append(r)
    return sorted(out, key=lambda r: (r.at, r.host, r.check_id))
