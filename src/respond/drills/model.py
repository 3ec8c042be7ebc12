"""A drill definition (``drills/NAME.yaml``): which runbook is rehearsed, when, how, against
what, with which injected faults, by whom, and what it must achieve.

Plain validated data, like a runbook: validated once at load (``build_drill``), read by the
drill runner, the schedule and the after-action report; nothing downstream re-validates.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from respond.runbook.model import FixedOptDuration

MODES = ("tabletop", "simulate", "lab")
ROLES = ("lead", "operator", "recorder", "evaluator", "observer")
# A shorthand's cron expression: at 09:00 (in the drill's time zone) on the first day of each
# quarter, of each month, and each Monday.
SHORTHANDS = {
    "quarterly": "0 9 1 1,4,7,10 *",
    "monthly": "0 9 1 * *",
    "weekly": "0 9 * * 1",
}
OBJECTIVE_KINDS = ("respond", "diagnose", "restore", "step", "gates", "skips")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Schedule(_Frozen):
    """When the drill falls due: a cron expression (or a shorthand) read in a time zone."""

    cron: str = Field(
        description="A five-field cron expression, or quarterly, monthly or weekly "
        "(09:00 on the 1st of Jan/Apr/Jul/Oct, on the 1st of each month, each Monday)."
    )
    timezone: str | None = Field(
        None,
        description="IANA time zone the expression is read in (e.g. Asia/Shanghai); default: "
        "respond.yaml `timezone`, else the machine's local zone.",
    )
    start: str | None = Field(
        None,
        description="A date (YYYY-MM-DD): no occurrence before it is due (a drill added in "
        "March is not owed for January).",
    )

    @property
    def expression(self) -> str:
        """The cron expression, with a shorthand spelled out."""
        return SHORTHANDS.get(self.cron.strip().lower(), self.cron.strip())


class Inject(_Frozen):
    """A lab fault injected before the steps start (lab mode) and healed after."""

    fault: str = Field(
        description="power-loss, link-down, disk-failure, oa-down, sms-down (respond lab inject)."
    )
    target: str | None = Field(None, description="Where: a host or switch:port (lab default).")
    duration: FixedOptDuration = Field(
        None, description="How long the fault lasts before it heals by itself (lab default)."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Fault parameters.")


class Objective(_Frozen):
    """One measurable aim. Exactly one of respond, diagnose, restore, step, gates, skips."""

    respond: float | Literal["level"] | None = Field(
        None,
        description="First step started within this long of the fault (or `level`: the "
        "severity level's respond limit).",
    )
    diagnose: float | Literal["level"] | None = Field(
        None, description="Diagnosis reached within this long of the fault."
    )
    restore: float | Literal["level"] | None = Field(
        None,
        description="The run ended resolved or no-fault within this long of the fault (or "
        "`level`: the severity level's restore limit).",
    )
    step: str | None = Field(None, description="A step id that must finish ...")
    by: FixedOptDuration = Field(None, description="... within this long of the fault.")
    gates: Literal["answered"] | None = Field(
        None, description="`answered`: every gate reached was answered by a person."
    )
    skips: Literal["reasoned"] | None = Field(
        None, description="`reasoned`: no step was skipped without a reason."
    )

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        from respond.durations import parse_duration

        if not isinstance(value, dict):
            return value
        out = dict(value)
        for key in ("respond", "diagnose", "restore"):
            given = out.get(key)
            if given is not None and given != "level":
                out[key] = parse_duration(given)
        return out

    @model_validator(mode="after")
    def _one_kind(self) -> Objective:
        given = [k for k in OBJECTIVE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an objective names exactly one of respond, diagnose, restore, step, gates, "
                f"skips (got {', '.join(given) or 'none'})"
            )
        if (self.step is None) != (self.by is None):
            raise ValueError("`step: ID` and `by: DURATION` go together")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in OBJECTIVE_KINDS if getattr(self, k) is not None)


class Participant(_Frozen):
    name: str = Field(description="Who.")
    role: Literal["lead", "operator", "recorder", "evaluator", "observer"] = Field(
        description="lead, operator, recorder, evaluator or observer."
    )
    organisation: str | None = Field(None, description="Their organisation or unit.")
    contact: str | None = Field(None, description="How they are reached (channel, phone).")


class Drill(_Frozen):
    """A validated drill definition; ``source``, ``text`` and ``sha256`` describe its file."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="respond drill",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    id: str = Field(alias="drill", description="Drill id; must equal the file name without .yaml.")
    title: str = Field("", description="One line naming the drill.")
    runbook: str = Field(description="The runbook rehearsed (a name in runbooks/).")
    scenario: str = Field(
        "",
        description="The scenario as told to the participants: what fails, when, what they "
        "are assumed to know (the drill script, prepared in advance).",
    )
    schedule: Schedule | None = Field(
        None,
        description="When it falls due: a cron expression or quarterly/monthly/weekly, or "
        "{cron, timezone, start}. Without one the drill runs only by hand.",
    )
    mode: Literal["tabletop", "simulate", "lab"] = Field(
        "simulate",
        description="tabletop: walked and timed, nothing executes; simulate: diagnostic "
        "steps run, gated steps are recorded as simulated; lab: everything runs against "
        "`respond lab` with the faults injected.",
    )
    severity: int | None = Field(
        None, ge=1, le=4, description="Fault level of the drill (default: the runbook's)."
    )
    inventory: str | None = Field(
        None,
        description="Inventory file (relative to respond.yaml); lab mode: the lab's only.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Runbook parameters.")
    answers: str | dict[str, Any] | None = Field(
        None,
        description="Answers to prompts and gates (an answers file, or the same keys inline); "
        "`respond drill run --answers FILE` overrides it.",
    )
    inject: tuple[Inject, ...] = Field(
        (), description="Lab faults injected before the steps (lab mode), healed after."
    )
    objectives: tuple[Objective, ...] = Field((), description="What the drill must achieve.")
    participants: tuple[Participant, ...] = Field((), description="Who takes part, in roles.")
    notify: tuple[str, ...] | None = Field(
        None,
        description="The drill's channels: every notification of the drill goes to these "
        "instead (default: the runbook's, each message marked 演练 DRILL).",
    )
    planned: dict[str, FixedOptDuration] = Field(
        default_factory=dict,
        description="Planned time per step id (the report sets it beside the actual time).",
    )
    scope: str = Field("", description="Systems and sites in scope; what is simulated.")
    safety: str = Field(
        "", description="Guard-rails, abort criteria and the rollback plan (report field 6)."
    )

    _source: Any = PrivateAttr(None)
    _text: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, value: Any) -> Any:
        """``schedule: quarterly`` and ``inject: [power-loss]`` are short for the mappings."""
        if not isinstance(value, dict):
            return value
        out = dict(value)
        if isinstance(out.get("schedule"), str):
            out["schedule"] = {"cron": out["schedule"]}
        if isinstance(out.get("inject"), list):
            out["inject"] = [{"fault": i} if isinstance(i, str) else i for i in out["inject"]]
        return out

    @property
    def source(self) -> Any:
        return self._source

    @property
    def text(self) -> str:
        return self._text

    @property
    def sha256(self) -> str:
        return self._sha256
