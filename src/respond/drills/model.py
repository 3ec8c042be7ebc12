"""A drill definition (``drills/NAME.yaml``): which runbook is rehearsed, when, how, against
what, with which injected faults, by whom, and what it must achieve.

Plain validated data, like a runbook: validated once at load (``build_drill``), read by the
drill runner, the schedule and the after-action report; nothing downstream re-validates.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from respond.errors import Issue, Location
from respond.runbook.model import (
    RUNBOOK_ID,
    FixedOptDuration,
    field_name,
    validation_issues,
)
from respond.yamlfile import Positions

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
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION_PATTERN = r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)?)+\s*$"


def _level_or_duration(value: Any) -> Any:
    from respond.durations import parse_duration

    if value is None or value == "level":
        return value
    try:
        return parse_duration(value)
    except ValueError as exc:
        if not str(exc).startswith("expected a duration"):
            raise
        raise ValueError(
            f"expected a duration like 10m or 1h, or `level` (the severity level's limit), "
            f"got {value!r}"
        ) from None


# A time limit of an objective: seconds, or `level` (the severity level's own limit).
LevelOrDuration = Annotated[
    float | Literal["level"] | None,
    BeforeValidator(_level_or_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _DURATION_PATTERN},
                {"const": "level"},
                {"type": "null"},
            ],
        }
    ),
]


def _cron(value: Any) -> Any:
    """A shorthand, or a valid five-field cron expression."""
    if not isinstance(value, str) or value.strip().lower() in SHORTHANDS:
        return value
    from croniter import croniter

    expression = value.strip()
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ValueError(
            f"{value!r} is not a cron expression (five fields: minute hour day month weekday, "
            f"e.g. '0 9 15 3 *') nor one of {', '.join(SHORTHANDS)}"
        )
    return value


def _zone(value: Any) -> Any:
    """An IANA time zone name this machine knows."""
    if not isinstance(value, str):
        return value
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: expected an IANA name such as Asia/Shanghai or UTC"
        ) from None
    return value


def _start_date(value: Any) -> Any:
    """A YYYY-MM-DD date (YAML reads an unquoted one as a date: kept as its text)."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date YYYY-MM-DD, got the time {value.isoformat()!r}")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            if not _DATE.match(value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Schedule(_Frozen):
    """When the drill falls due: a cron expression (or a shorthand) read in a time zone."""

    cron: Annotated[str, BeforeValidator(_cron)] = Field(
        description="A five-field cron expression, or quarterly, monthly or weekly "
        "(09:00 on the 1st of Jan/Apr/Jul/Oct, on the 1st of each month, each Monday)."
    )
    timezone: Annotated[str | None, BeforeValidator(_zone)] = Field(
        None,
        description="IANA time zone the expression is read in (e.g. Asia/Shanghai); default: "
        "respond.yaml `timezone`, else the machine's local zone.",
    )
    start: Annotated[
        str | None,
        BeforeValidator(_start_date),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, {"type": "null"}]}
        ),
    ] = Field(
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

    respond: LevelOrDuration = Field(
        None,
        description="First step started within this long of the fault (or `level`: the "
        "severity level's respond limit).",
    )
    diagnose: LevelOrDuration = Field(
        None, description="Diagnosis reached within this long of the fault."
    )
    restore: LevelOrDuration = Field(
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
    _positions: Positions | None = PrivateAttr(None)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not RUNBOOK_ID.match(value):
            raise ValueError(
                f"drill id {value!r} may use only lower-case letters, digits, '_', '.' and '-'"
            )
        return value

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

    @property
    def file(self) -> str:
        """The source path as shown in messages."""
        return self._positions.file if self._positions else str(self._source)

    def location(self, path: tuple[Any, ...]) -> Location:
        """Where a key path such as ``("objectives", 2, "step")`` is written (or its closest
        written ancestor); the file alone for a drill not read from one."""
        if self._positions is None:
            return Location(self.file)
        return self._positions.nearest(path)

    def key_location(self, path: tuple[Any, ...]) -> Location:
        """Where the key that introduces ``path`` is written (``planned: {KEY: ...}``)."""
        if self._positions is None:
            return Location(self.file)
        return self._positions.key(path) or self._positions.nearest(path)


# ---------------------------------------------------------------------------------------------
# validating YAML data, every problem at its position (respond.runbook.model does the same
# for runbooks; the mapping of pydantic's errors to places is shared)

_MODELS: dict[str, type[BaseModel]] = {
    "schedule": Schedule,
    "inject": Inject,
    "objectives": Objective,
    "participants": Participant,
}
_LITERALS: dict[str, tuple[str, ...]] = {
    "mode": MODES,
    "role": ROLES,
    "gates": ("answered",),
    "skips": ("reasoned",),
}
# how one item of each list is named in messages
_ITEM = {"inject": "inject", "objectives": "objective", "participants": "participant"}


class DefinitionModels:
    """A definition file's top model and the models under its keys, for pydantic's problems
    in people's words at their place in the file: where a path is (``objective 2 by``), the
    keys a mapping takes (did-you-mean), the closed words. Drills and inspections use it."""

    def __init__(
        self,
        top: type[BaseModel],
        under: dict[str, type[BaseModel]],
        literals: dict[str, tuple[str, ...]],
        items: dict[str, str],  # list key → how one of its items is named
    ) -> None:
        self.top, self.under, self.literals, self.items = top, under, literals, items
        models = (top, *under.values())
        self.fields = frozenset(f.alias or n for m in models for n, f in m.model_fields.items())

    def field_name(self, path: tuple[Any, ...], data: Any = None) -> str:
        if len(path) >= 2 and path[0] in self.items and isinstance(path[1], int):
            rest = field_name(tuple(path[2:]))
            return f"{self.items[path[0]]} {path[1] + 1}" + (f" {rest}" if rest else "")
        return field_name(tuple(path))

    def model_at(self, path: tuple[Any, ...]) -> type[BaseModel] | None:
        if path == ():
            return self.top
        return self.under.get(str(path[0])) if len(path) in (1, 2) else None

    def unknown_key(
        self, data: Any, positions: Positions, parent: tuple[Any, ...], key: Any
    ) -> Issue:
        import difflib

        model = self.model_at(parent)
        known = [f.alias or n for n, f in model.model_fields.items()] if model else []
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return Issue(
            f"unknown key {key!r}{hint}",
            positions.key((*parent, key)) or positions.nearest(parent),
            field=self.field_name(parent),
        )

    def validate(self, data: dict[str, Any], positions: Positions) -> tuple[Any, list[Issue]]:
        """The top model of YAML data, or None and every problem pydantic found."""
        try:
            return self.top.model_validate(data), []
        except ValidationError as exc:
            issues = validation_issues(
                exc,
                data,
                positions,
                fields=self.fields,
                literals=self.literals,
                unknown_key=self.unknown_key,
                name=self.field_name,
            )
            return None, issues


_DRILL_MODELS = DefinitionModels(Drill, _MODELS, _LITERALS, _ITEM)


def drill_field_name(path: tuple[Any, ...], data: Any = None) -> str:
    """Where in a drill, for people: ``("objectives", 1, "by")`` → ``objective 2 by``."""
    return _DRILL_MODELS.field_name(path, data)


def validate_drill(data: dict[str, Any], positions: Positions) -> tuple[Drill | None, list[Issue]]:
    """The ``Drill`` of YAML data, or None and every problem pydantic found, each at its
    place in the file (``respond.drills.loader.build_drill`` adds the rest)."""
    drill, issues = _DRILL_MODELS.validate(data, positions)
    return drill, issues


def attach_source(
    drill: Drill, positions: Positions, *, source: Path, text: str, sha256: str
) -> None:
    """Record where a validated drill came from (its file, text and hash, for positions in
    later checks and for the run record)."""
    drill._source = source
    drill._text = text
    drill._sha256 = sha256
    drill._positions = positions


# ---------------------------------------------------------------------------------------------
# the JSON Schema (respond schema drill)

_SCHEMA_DESCRIPTIONS = {
    "": "A respond drill: which runbook is rehearsed, when, in which mode, against what, "
    "with which faults injected, by whom, and what it must achieve. Validate it with "
    "`respond validate`.",
    "Schedule": "When the drill falls due: a cron expression (or a shorthand) read in a time zone.",
    "Inject": "A lab fault injected before the steps start (lab mode) and healed after.",
    "Objective": "One measurable aim: exactly one of respond, diagnose, restore, step (with "
    "by), gates or skips.",
    "Participant": "One person taking part in the drill, in a role.",
}


def drill_json_schema() -> dict[str, Any]:
    """The JSON Schema of drill files (keys as written in YAML), shorthands included."""
    schema = Drill.model_json_schema(by_alias=True, mode="validation")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema["$id"] = "https://respond.invalid/schemas/drill.schema.json"
    schema["description"] = _SCHEMA_DESCRIPTIONS[""]
    defs = schema["$defs"]
    for name, definition in defs.items():
        if name in _SCHEMA_DESCRIPTIONS:
            definition["description"] = _SCHEMA_DESCRIPTIONS[name]
    props = schema["properties"]
    # the shorthands: `schedule: quarterly` and `inject: [power-loss]`
    shorthand = {"type": "string", "description": "A cron expression or a shorthand."}
    props["schedule"]["anyOf"].insert(0, shorthand)
    items = props["inject"]["items"]
    props["inject"]["items"] = {"anyOf": [{"type": "string", "description": "A fault."}, items]}
    one_of = [{"required": [k]} for k in OBJECTIVE_KINDS if k not in ("step",)]
    one_of.insert(3, {"required": ["step", "by"]})
    defs["Objective"]["oneOf"] = one_of
    return schema
