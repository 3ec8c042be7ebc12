"""An inspection definition (``inspections/NAME.yaml``, 巡检): which checks run on which
inventory hosts, with which thresholds, when, what a CRITICAL finding sets off, and where the
report goes.

Plain validated data, like a drill: validated once at load (``respond.inspections.loader``),
compiled into a runbook of ``check`` steps (``respond.inspections.compile``) and run by
``respond inspect run`` and the periodic job; nothing downstream re-validates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
)

from respond.drills.model import DefinitionModels, Schedule
from respond.errors import Issue, Location
from respond.runbook.model import (
    RUNBOOK_ID,
    SEMVER,
    OptDuration,
)
from respond.yamlfile import Positions

ACTIONS = ("run", "incident")
REPORT_FORMATS = ("html", "md", "json", "xlsx", "docx", "pdf")
DEFAULT_CONCURRENCY = 20
DEFAULT_REPORT_DIR = "reports/inspections"


def _range_text(value: Any) -> Any:
    """A Nagios range written as a number (``warn: 80``) is kept as its text; the range
    itself is checked by the loader against the check (``Range.parse``)."""
    if isinstance(value, bool):
        raise ValueError("expected a Nagios threshold range such as 80, 10:, ~:10 or @10:20")
    if isinstance(value, int | float):
        return str(value)
    return value


RangeText = Annotated[
    str | None,
    BeforeValidator(_range_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InspectionCheck(_Frozen):
    """One check of the inspection, run on every host its targets match."""

    id_: str | None = Field(
        None,
        alias="id",
        description="Check id in this inspection (default: the check name); unique.",
    )
    check: str = Field(description="A built-in check (respond inspect checks lists them).")
    targets: str = Field(description="Inventory pattern: the hosts checked (e.g. servers).")
    title: str | None = Field(
        None, description="What is checked, in words (default: the check's summary)."
    )
    warn: RangeText = Field(None, description="Warning range (Nagios range; default: the check's).")
    crit: RangeText = Field(
        None, description="Critical range (Nagios range; default: the check's)."
    )
    args: dict[str, Any] = Field(default_factory=dict, description="The check's arguments.")

    @property
    def id(self) -> str:
        return self.id_ or self.check


class CriticalRule(_Frozen):
    """What a CRITICAL result of the named checks sets off, after all checks ran."""

    checks: tuple[str, ...] = Field(min_length=1, description="Check ids the rule watches.")
    hosts: str | None = Field(
        None, description="Inventory pattern narrowing which hosts' results count."
    )
    action: Literal["run", "incident"] = Field(
        description="run: run the runbook (with its gates); incident: open an incident for "
        "the runbook and notify."
    )
    runbook: str = Field(description="The runbook (a name in runbooks/).")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Runbook parameters (action run)."
    )
    severity: int | None = Field(
        None, ge=1, le=4, description="Fault level 1-4 (default: the runbook's)."
    )
    notify: tuple[str, ...] | None = Field(
        None,
        description="Channels the incident notice goes to (action incident; default: "
        "respond.yaml's notify.default).",
    )


class ReportSpec(_Frozen):
    """The inspection report written after every run."""

    formats: tuple[Literal["html", "md", "json", "xlsx", "docx", "pdf"], ...] = Field(
        ("html",), min_length=1, description="Any of html, md, json, xlsx, docx, pdf."
    )
    to: str = Field(
        DEFAULT_REPORT_DIR,
        description="Folder (relative to respond.yaml) the reports go to, one file "
        "<run_id>.<ext> per format.",
    )


class Inspection(_Frozen):
    """A validated inspection; ``source``, ``text`` and ``sha256`` describe its file."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="respond inspection",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    id: str = Field(
        alias="inspection", description="Inspection name; must equal the file name without .yaml."
    )
    version: str = Field("1.0.0", description="Semantic version of this definition, e.g. 1.0.0.")
    title: str = Field("", description="One line naming the inspection.")
    description: str = Field("", description="What it is for.")
    inventory: str | None = Field(
        None,
        description="Inventory file (relative to respond.yaml; default: default_inventory; "
        "`respond inspect run -i` overrides it).",
    )
    schedule: Schedule | None = Field(
        None,
        description="When it falls due (as drills: a cron expression or quarterly/monthly/"
        "weekly, or {cron, timezone, start}); without one it runs only by hand.",
    )
    concurrency: int = Field(
        DEFAULT_CONCURRENCY, ge=1, description="Hosts checked at once per check (default 20)."
    )
    timeout: OptDuration = Field(
        None, description="Limit per check per host (default: the check kind's, 30s)."
    )
    checks: tuple[InspectionCheck, ...] = Field(
        min_length=1, description="The checks, in the order they run and are reported."
    )
    on_critical: tuple[CriticalRule, ...] = Field(
        (), description="What a CRITICAL finding sets off (after all checks ran)."
    )
    report: ReportSpec | None = Field(
        None, description="Reports written after every run (formats and folder)."
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
                f"inspection name {value!r} may use only lower-case letters, digits, '_', "
                "'.' and '-'"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _check_version(cls, value: Any) -> Any:
        if isinstance(value, str) and not SEMVER.match(value):
            raise ValueError(f"version {value!r} is not a semantic version like 1.0.0")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_shorthand(cls, value: Any) -> Any:
        """``schedule: monthly`` is short for ``schedule: {cron: monthly}``."""
        return {"cron": value} if isinstance(value, str) else value

    @property
    def name(self) -> str:
        return self.id

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
    def positions(self) -> Positions | None:
        return self._positions

    @property
    def file(self) -> str:
        """The source path as shown in messages."""
        return self._positions.file if self._positions else str(self._source)

    def check(self, check_id: str) -> InspectionCheck | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def location(self, path: tuple[Any, ...]) -> Location:
        """Where a key path such as ``("checks", 2, "warn")`` is written (or its closest
        written ancestor); the file alone for an inspection not read from one."""
        if self._positions is None:
            return Location(self.file)
        return self._positions.nearest(path)

    def checks_meta(self) -> list[dict[str, Any]]:
        """The checks as the run record keeps them (``meta["inspection"]["checks"]``)."""
        return [
            {
                "id": c.id,
                "check": c.check,
                "targets": c.targets,
                "warn": c.warn,
                "crit": c.crit,
                "args": dict(c.args),
                "title": c.title,
            }
            for c in self.checks
        ]


# ---------------------------------------------------------------------------------------------
# validating YAML data, every problem at its position (as drills and runbooks do)

_MODELS: dict[str, type[BaseModel]] = {
    "schedule": Schedule,
    "checks": InspectionCheck,
    "on_critical": CriticalRule,
    "report": ReportSpec,
}
_LITERALS: dict[str, tuple[str, ...]] = {"action": ACTIONS, "formats": REPORT_FORMATS}
_ITEM = {"checks": "check", "on_critical": "on_critical rule"}
_INSPECTION_MODELS = DefinitionModels(Inspection, _MODELS, _LITERALS, _ITEM)


def inspection_field_name(path: tuple[Any, ...], data: Any = None) -> str:
    """Where in an inspection, for people: ``("checks", 1, "warn")`` → ``check 2 warn``."""
    return _INSPECTION_MODELS.field_name(path, data)


def validate_inspection(
    data: dict[str, Any], positions: Positions
) -> tuple[Inspection | None, list[Issue]]:
    """The ``Inspection`` of YAML data, or None and every problem pydantic found, each at
    its place in the file (``respond.inspections.loader`` adds the rest)."""
    inspection, issues = _INSPECTION_MODELS.validate(data, positions)
    return inspection, issues


def attach_source(
    inspection: Inspection, positions: Positions, *, source: Path, text: str, sha256: str
) -> None:
    """Record where a validated inspection came from (its file, text and hash)."""
    inspection._source = source
    inspection._text = text
    inspection._sha256 = sha256
    inspection._positions = positions


# ---------------------------------------------------------------------------------------------
# the JSON Schema (respond schema inspection)


def inspection_json_schema() -> dict[str, Any]:
    """The JSON Schema of inspection files (keys as written in YAML), shorthands included."""
    schema = Inspection.model_json_schema(by_alias=True, mode="validation")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema["$id"] = "https://respond.invalid/schemas/inspection.schema.json"
    schema["description"] = (
        "A respond inspection (巡检): which checks run on which inventory hosts, with which "
        "thresholds, when, what a CRITICAL finding sets off, and where the report goes. "
        "Validate it with `respond validate`."
    )
    shorthand = {"type": "string", "description": "A cron expression or a shorthand."}
    schema["properties"]["schedule"]["anyOf"].insert(0, shorthand)
    return schema
