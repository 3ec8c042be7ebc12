"""The runbook model: frozen pydantic models, validated once at load.

This is the only module of respond that imports pydantic (docs/internals.md, "Import
layers": the rest of the package reads attributes only). ``build_runbook`` turns YAML data
plus its position map into a ``Runbook`` or raises ``RunbookInvalid`` with *every* problem
of the file, each at the position of the offending node: unknown keys at the key (with a
"did you mean"), missing keys at the mapping that lacks them, wrong values at the value.

Pydantic checks shapes and types; the rules that depend on ``kind`` (which fields a kind
allows or requires) are checked over the raw data in ``_kind_issues`` so that several
problems in one step are all reported, each at its own key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from respond.durations import parse_duration
from respond.errors import Issue, Location, RunbookInvalid
from respond.kinds import all_kinds
from respond.kinds.base import KindField, StepKind, required_problems
from respond.runbook.templating import has_template
from respond.yamlfile import Positions

SCHEMA_VERSION = 1

SCENARIOS = ("power", "network", "server", "application", "other")
ON_FAILURE = ("abort", "continue", "escalate")
ON_REFUSE = ("abort", "skip")
DRILL_MODES = ("run", "simulate", "skip")
PARAM_TYPES = ("string", "int", "bool", "choice")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# Every kind in the registry, in registry order: the step model is built from what they declare.
_KINDS: dict[str, StepKind] = {k.name: k for k in all_kinds()}
KINDS = tuple(_KINDS)

# semver.org's regular expression
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
RUNBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

# Names every template sees besides params and registered results (docs/internals.md).
BUILTIN_NAMES = frozenset(
    {
        "params", "run_id", "runbook", "severity", "drill", "now", "operator", "hostvars",
        "groups", "inventory_hostname", "inventory_hostname_short", "group_names", "ansible_host",
        "ansible_port", "ansible_user", "ansible_network_os", "ansible_connection", "result",
    }
)  # fmt: skip


def _duration(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and has_template(value):
        return value  # rendered and parsed when the step runs (respond.engine.prepare)
    return parse_duration(value)


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)?)+\s*$"},
        {"type": "string", "pattern": r"\{[{%]"},
    ],
    "description": "A duration: 30s, 5m, 1h, 1h30m, a bare number of seconds, or a template "
    "giving one when the step runs ('{{ wait_minutes }}m').",
}
# A duration is seconds, or a template string until the step renders it.
Duration = Annotated[float | str, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
OptDuration = Annotated[
    float | str | None,
    BeforeValidator(_duration),
    WithJsonSchema({"anyOf": [*_DURATION_SCHEMA["anyOf"], {"type": "null"}]}),
]

_FIXED_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)?)+\s*$"},
        {"type": "null"},
    ],
    "description": "A duration: 30s, 5m, 1h, 1h30m, or a bare number of seconds.",
}
# A duration read before any step runs (no template): seconds or nothing.
FixedOptDuration = Annotated[
    float | None,
    BeforeValidator(lambda v: None if v is None else parse_duration(v)),
    WithJsonSchema(_FIXED_DURATION_SCHEMA),
]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


def _max_errors(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError("expected a number of hosts or a percentage like '10%'")
        return None
    if isinstance(value, int):
        if value < 0:
            raise ValueError("max_errors cannot be negative")
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*%\s*", value):
        if float(value.strip().rstrip("%")) > 100:
            raise ValueError("a percentage cannot exceed 100%")
        return value.replace(" ", "")
    raise ValueError(f"expected a number of hosts or a percentage like '10%', got {value!r}")


PARSERS = ("key_value", "json", "textfsm")


def _parse_spec(value: Any) -> Any:
    """``parse:`` is key_value, json, textfsm, {regex: P[, all: bool]} or {textfsm: FILE}."""
    if value is None or (isinstance(value, str) and value in PARSERS):
        return value
    if isinstance(value, str):
        raise ValueError(
            f"unknown parser {value!r}: expected key_value, json, textfsm, "
            "{regex: PATTERN} or {textfsm: FILE}"
        )
    if not isinstance(value, dict):
        raise ValueError(f"expected a parser name or a mapping, got {_short(value)}")
    if "regex" in value:
        extra = set(value) - {"regex", "all"}
        pattern = value["regex"]
        if extra or not isinstance(pattern, str) or not isinstance(value.get("all", False), bool):
            raise ValueError("write {regex: PATTERN} or {regex: PATTERN, all: true}")
        if not re.compile(_regex(pattern) or "").groupindex:
            raise ValueError(f"regex {pattern!r} has no named group, e.g. (?P<status>\\S+)")
        return dict(value)
    if set(value) == {"textfsm"} and isinstance(value["textfsm"], str) and value["textfsm"]:
        return dict(value)
    raise ValueError("write {regex: PATTERN} or {textfsm: FILE}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Expect(_Frozen):
    """What a step's result must look like for the step to count as ok."""

    rc: int | list[int] | None = Field(
        None, description="Expected exit code(s); default 0 for command kinds."
    )
    stdout: Annotated[str | None, BeforeValidator(_regex)] = Field(
        None, description="A regular expression stdout must match."
    )
    stdout_not: Annotated[str | None, BeforeValidator(_regex)] = Field(
        None, description="A regular expression stdout must not match."
    )
    status: int | list[int] | None = Field(None, description="Expected HTTP status code(s).")
    body: Annotated[str | None, BeforeValidator(_regex)] = Field(
        None, description="A regular expression the HTTP body must match."
    )
    max_latency: FixedOptDuration = Field(
        None, description="Longest acceptable HTTP response time."
    )
    that: StrList = Field(
        (), description="Jinja expressions that must all be true; `result` is the host result."
    )


class StepBase(_Frozen):
    """One step: the fields every kind has. The kind-specific fields come from the kinds
    (``respond.kinds``); ``kind`` decides which of them are allowed or required."""

    id: str = Field(description="Unique id of the step within the runbook.")
    name: str = Field("", description="Human title of the step (defaults to the id).")
    targets: str | None = Field(
        None, description="Inventory host pattern (for kinds that act on hosts)."
    )
    allow_empty: bool = Field(
        False,
        description="Targets that match no host skip the step instead of stopping the run "
        "(before it starts) or failing the step (when they come from an earlier result).",
    )
    when: str | None = Field(
        None, description="Jinja expression (no braces); the step runs only if true."
    )
    register_: str | None = Field(
        None, alias="register", description="Name under which later steps see this step's result."
    )
    expect: Expect | None = Field(
        None, description="What the result must look like for the step to count as ok."
    )
    timeout: OptDuration = Field(None, description="Per-target limit (wait: the total limit).")
    retries: int = Field(
        0,
        ge=0,
        le=100,
        description="Attempts after a failure known not to have run anything (connection "
        "refused, login failed); after any failure only if the step is idempotent.",
    )
    retry_delay: Duration = Field(5.0, description="Pause between retries (default 5s).")
    concurrency: int | None = Field(None, ge=1, description="Targets worked on at once.")
    max_errors: Annotated[int | str | None, BeforeValidator(_max_errors)] = Field(
        None,
        description="Failed targets tolerated: a number or a percentage like '10%'; default none.",
    )
    confirm: str | None = Field(
        None, description="Gate: text shown and confirmed before the step runs."
    )
    on_refuse: Literal["abort", "skip"] = Field(
        "abort",
        description="What a refused gate means: abort the run (exit 3, `respond resume` asks "
        "again) or skip this step and go on.",
    )
    on_failure: Literal["abort", "continue", "escalate"] = Field(
        "abort",
        description="When the step fails: abort (stop the run), continue (record and go on), "
        "escalate (raise the severity, notify, go on; the run ends unresolved).",
    )
    drill: Literal["run", "simulate", "skip"] | None = Field(
        None,
        description="What the step does during a drill (default: simulate when gated, else run).",
    )
    idempotent: bool = Field(
        False,
        description="Safe to repeat: retried after any failure, and re-run by `respond resume` "
        "without asking where its outcome is unknown.",
    )
    no_log: bool = Field(False, description="Keep the step's output out of the record.")
    parse: Annotated[str | dict[str, Any] | None, BeforeValidator(_parse_spec)] = Field(
        None,
        description="Parse the output into `data` of the registered result: key_value, json, "
        "textfsm (ntc-templates by the host's ansible_network_os), {regex: PATTERN[, all: true]} "
        "(named groups) or {textfsm: FILE} (a template in the project). Needs register.",
    )
    description: str | None = Field(
        None, description="Notes for the people who read the runbook (not shown in a run)."
    )

    if TYPE_CHECKING:
        # The kind field and the kinds' own fields are added from the registry below.
        kind: str

        def __getattr__(self, name: str) -> Any: ...

    _location: Location | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "name" not in data and isinstance(data.get("id"), str):
            data["name"] = data["id"]
        if isinstance(data.get("targets"), list) and all(
            isinstance(t, str) for t in data["targets"]
        ):
            data["targets"] = ":".join(data["targets"])
        if isinstance(data.get("when"), bool):
            data["when"] = "true" if data["when"] else "false"
        if isinstance(data.get("method"), str):
            data["method"] = data["method"].upper()
        return data

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if value and not STEP_ID.match(value):
            raise ValueError(f"step id {value!r} may use only letters, digits, '_', '.' and '-'")
        return value

    @field_validator("register_")
    @classmethod
    def _check_register(cls, value: str | None) -> str | None:
        if value is not None:
            if not IDENT.match(value):
                raise ValueError(
                    f"register name {value!r} must be a plain identifier (letters, digits, _)"
                )
            if value in BUILTIN_NAMES:
                raise ValueError(
                    f"register name {value!r} is a built-in template name; choose another"
                )
        return value

    @property
    def register(self) -> str | None:
        return self.register_

    @property
    def location(self) -> Location | None:
        """Where the step is written in its runbook."""
        return self._location

    @property
    def step_kind(self) -> StepKind:
        return _KINDS[self.kind]

    @property
    def gated(self) -> bool:
        """A gate must be confirmed before the step acts."""
        return bool(self.confirm) or self.step_kind.gated_by_default(self)

    @property
    def drill_mode(self) -> str:
        """What the step does in a drill: its `drill`, else simulate when gated, else run."""
        return self.drill or ("simulate" if self.gated else "run")

    @property
    def checks(self) -> tuple[StepBase, ...]:
        """The inline steps this step polls (a wait step's `check`)."""
        found = (getattr(self, name, None) for name in _CHECK_FIELDS)
        # a check step's `check` is a name, not an inline step
        return tuple(c for c in found if isinstance(c, StepBase))


def _one_or_many_opt(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# one string or a list of them (the model makes the one string a list)
_TEXTS_SCHEMA: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "array", "items": {"type": "string"}},
]


def _per_os_opt(value: Any) -> Any:
    """A list (or one string), or a mapping family → list (or one string)."""
    if isinstance(value, dict):
        return {k: _one_or_many_opt(v) for k, v in value.items()}
    return _one_or_many_opt(value)


_FIELD_TYPES: dict[str, Any] = {
    "text": str | None,
    "texts": Annotated[
        tuple[str, ...] | None,
        BeforeValidator(_one_or_many_opt),
        WithJsonSchema({"anyOf": [*_TEXTS_SCHEMA, {"type": "null"}]}),
    ],
    "os_texts": Annotated[
        tuple[str, ...] | dict[str, tuple[str, ...]] | None,
        BeforeValidator(_per_os_opt),
        WithJsonSchema(
            {
                "anyOf": [
                    *_TEXTS_SCHEMA,
                    {"type": "object", "additionalProperties": {"anyOf": _TEXTS_SCHEMA}},
                    {"type": "null"},
                ]
            }
        ),
    ],
    "flag": bool,
    "mapping": dict[str, Any],
    "headers": dict[str, str],
    "value": Any,
    "duration": Duration,
    "argv": tuple[str, ...] | None,
    "check": "CheckStep | None",
    # the name `check` is two things: a wait step's inline step, a check step's built-in check
    "check_or_name": Annotated[
        Annotated["CheckStep", Tag("inline_step")] | Annotated[str, Tag("check_name")],
        Discriminator(lambda v: "check_name" if isinstance(v, str) else "inline_step"),
    ]
    | None,
    "method": Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
}


def _kind_fields() -> dict[str, Any]:
    """The pydantic fields every registered kind declares (a name shared by kinds must
    have one type; their descriptions are joined)."""
    by_name: dict[str, list[KindField]] = {}
    for kind in _KINDS.values():
        for spec in kind.fields:
            by_name.setdefault(spec.name, []).append(spec)
    out: dict[str, Any] = {
        "kind": (
            Literal.__getitem__(KINDS),
            Field(description="What the step does: " + ", ".join(KINDS) + "."),
        )
    }
    for name, specs in by_name.items():
        types = {s.type for s in specs}
        if types == {"texts", "os_texts"}:
            # ssh's commands are a list, netmiko's may be per OS: the field takes both and
            # a kind whose field is plain texts refuses the mapping (_step_kind_issues)
            types = {"os_texts"}
            specs = sorted(specs, key=lambda s: s.type != "os_texts")
        type_name: str = next(iter(types))
        if types == {"check", "text"}:
            # wait's `check` is an inline step, the check kind's a built-in check's name:
            # the field takes both and each kind refuses the other (_step_kind_issues)
            types, type_name = {"check"}, "check_or_name"
            specs = sorted(specs, key=lambda s: s.type != "check")
        if len(types) > 1:
            raise TypeError(f"step field {name!r} is declared with different types: {types}")
        spec = specs[0]
        described = list(dict.fromkeys(s.description for s in specs if s.description))
        default: Any = spec.default
        if spec.type in ("mapping", "headers"):
            out[name] = (
                _FIELD_TYPES[spec.type],
                Field(default_factory=dict, description="; ".join(described) or None),
            )
            continue
        if spec.type == "texts" and default is None:
            default = None
        out[name] = (
            _FIELD_TYPES[type_name],
            Field(default, description="; ".join(described) or None),
        )
    return out


if TYPE_CHECKING:
    Step = StepBase
    CheckStep = StepBase
else:
    Step = create_model("Step", __base__=StepBase, __module__=__name__, **_kind_fields())
    Step.__doc__ = StepBase.__doc__

    class CheckStep(Step):
        """The inline step a ``wait`` step polls (a pollable kind), without an id."""

        id: str = Field("", description="A check has no id: it is part of its step.")

    Step.model_rebuild()


class Param(_Frozen):
    name: str = Field("", description="Filled from the key under params.")
    description: str = Field("", description="What the param means, shown by `respond show`.")
    default: Any = Field(None, description="The value used when the run does not give one.")
    required: bool = Field(False, description="The run must give a value (-p NAME=VALUE).")
    secret: bool = Field(False, description="Redacted as *** in plans, output and the record.")
    type: Literal["string", "int", "bool", "choice", "list"] = Field(
        "string",
        description="string, int, bool, choice or list (default: inferred from choices or the "
        "default; a list holds strings, each its own quoted word in a command, and "
        "-p NAME=VALUE given again appends).",
    )
    choices: StrList | None = Field(
        None,
        description="The only values allowed (a param with choices is of type 'choice'; "
        "for a list, each item's).",
    )
    pattern: Annotated[str | None, BeforeValidator(_regex)] = Field(
        None,
        description="A regular expression the whole value must match (Python syntax). It is "
        "also how a value starting with '-' is admitted where it reaches a command.",
    )

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data:
            data = dict(data)
            default = data.get("default")
            if isinstance(default, list):
                data["type"] = "list"
            elif data.get("choices") is not None:
                data["type"] = "choice"
            elif isinstance(default, bool):
                data["type"] = "bool"
            elif isinstance(default, int):
                data["type"] = "int"
        return data

    @model_validator(mode="after")
    def _check(self) -> Param:
        if self.type == "list" and self.secret:
            raise ValueError(f"param {self.name!r} of type 'list' cannot be secret")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"param {self.name!r} has type 'choice' but no 'choices'")
        if self.default is not None:
            try:
                self.coerce(self.default)
            except ValueError as exc:
                raise ValueError(f"default of param {self.name!r}: {exc}") from None
        return self

    def coerce(self, value: Any) -> Any:
        """Turn a value (from YAML or ``-p KEY=VALUE``) into this param's type."""
        if self.type == "list":
            return self._coerce_list(value)
        if self.type == "int":
            if isinstance(value, bool):
                raise ValueError(f"expected an integer, got {value!r}")
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ValueError(f"expected an integer, got {value!r}") from None
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on", "y"}:
                return True
            if text in {"0", "false", "no", "off", "n"}:
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return self._check_text(value)

    def _check_text(self, value: str) -> str:
        if self.type in ("choice", "list") and self.choices and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{value!r} does not match the pattern {self.pattern}")
        return value

    def _coerce_list(self, value: Any) -> list[str]:
        """A list of strings: a YAML list, a JSON list written on the command line
        (``-p 'flags=["-v","--color"]'``) or one item; ``choices``/``pattern`` per item."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                try:
                    value = json.loads(text)
                except ValueError as exc:
                    raise ValueError(
                        f"expected a JSON list of strings, got {value!r}: {exc}"
                    ) from None
            else:
                value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list of strings, got {value!r}")
        items = []
        for item in value:
            if isinstance(item, bool | int | float):
                item = str(item).lower() if isinstance(item, bool) else str(item)
            if not isinstance(item, str):
                raise ValueError(f"expected a list of strings, got the item {item!r}")
            items.append(self._check_text(item))
        return items

    def admits(self, text: str) -> bool:
        """Whether ``choices`` or ``pattern`` name ``text`` explicitly as a valid value."""
        if self.choices and text in self.choices:
            return True
        return self.pattern is not None and re.fullmatch(self.pattern, text) is not None


class Runbook(_Frozen):
    """A validated runbook. ``source``, ``text`` and ``sha256`` describe the file it came from."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="respond runbook",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    id: str = Field(
        alias="runbook", description="Runbook id; must equal the file name without .yaml."
    )
    version: str = Field(description="Semantic version of this runbook's content, e.g. 1.2.0.")
    title: str = Field(description="One line naming the incident the runbook answers.")
    scenario: Literal["power", "network", "server", "application", "other"] = Field(
        description="The kind of incident: power, network, server, application or other."
    )
    severity: int = Field(ge=1, le=4, description="Default fault level, 1 (worst) to 4.")
    description: str = Field("", description="What the runbook is for and when to run it.")
    params: dict[str, Param] = Field(
        default_factory=dict, description="Inputs of a run, by name (-p NAME=VALUE)."
    )
    steps: tuple[Step, ...] = Field(
        min_length=1, description="What the run does, in order; each step has a kind."
    )
    schema_: int = Field(
        SCHEMA_VERSION, alias="schema", description="Format version of the runbook file (1)."
    )

    _source: Path = PrivateAttr(default=Path("<memory>"))
    _text: str = PrivateAttr(default="")
    _sha256: str = PrivateAttr(default="")
    _positions: Positions | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _name_params(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("params"), dict):
            params = {}
            for name, spec in data["params"].items():
                if spec is None:
                    spec = {}
                if isinstance(spec, dict) and "name" not in spec:
                    spec = {**spec, "name": name}
                params[name] = spec
            data = {**data, "params": params}
        return data

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not RUNBOOK_ID.match(value):
            raise ValueError(
                f"runbook id {value!r} may use only lower-case letters, digits, '_', '.' and '-'"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _check_version(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f'version must be a quoted semantic version like "1.0.0", got {value!r}'
            )
        if isinstance(value, str) and not SEMVER.match(value):
            raise ValueError(
                f"version {value!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"
            )
        return value

    @field_validator("schema_", mode="before")
    @classmethod
    def _check_schema(cls, value: Any) -> Any:
        if value != SCHEMA_VERSION or isinstance(value, bool):
            raise ValueError(
                f"unsupported runbook schema {value!r}: this version of respond reads schema "
                f"{SCHEMA_VERSION} (upgrade respond, or write 'schema: {SCHEMA_VERSION}')"
            )
        return value

    # -- the file it came from -------------------------------------------------------------
    @property
    def schema(self) -> int:  # type: ignore[override]
        return self.schema_

    @property
    def source(self) -> Path:
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

    def location(self, path: tuple[Any, ...] | list[Any]) -> Location | None:
        """Where a field path such as ``("steps", 2, "command")`` is written (or its closest
        written ancestor, for fields left at their default)."""
        if self._positions is None:
            return None
        return self._positions.nearest(tuple(path))

    # -- convenience for plan/run ----------------------------------------------------------
    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise KeyError(step_id)

    @property
    def secret_params(self) -> frozenset[str]:
        return frozenset(name for name, p in self.params.items() if p.secret)


# ---------------------------------------------------------------------------------------------
# building from YAML data, with every problem at its position


def build_runbook(
    data: Any,
    positions: Positions,
    *,
    source: Path,
    text: str = "",
    sha256: str = "",
    expected_id: str | None = None,
) -> Runbook:
    """Validate YAML data into a ``Runbook``; raise ``RunbookInvalid`` with all issues."""
    file = positions.file
    if data is None:
        raise RunbookInvalid(
            f"{file}: empty runbook", [Issue("the runbook is empty", Location(file, 1, 1))]
        )
    if not isinstance(data, dict):
        raise RunbookInvalid(
            f"{file}: not a mapping",
            [
                Issue(
                    "a runbook must be a mapping of keys (runbook, version, title, ...)",
                    positions.nearest(()),
                )
            ],
        )
    issues = key_type_issues(data, positions, ())
    issues += _kind_issues(data, positions)
    issues += _step_id_issues(data, positions)
    if (
        expected_id is not None
        and isinstance(data.get("runbook"), str)
        and data["runbook"] != expected_id
    ):
        issues.append(
            Issue(
                f"runbook id {data['runbook']!r} does not match the file name {expected_id!r}",
                positions.nearest(("runbook",)),
                field="runbook",
            )
        )
    runbook: Runbook | None = None
    if not any(i.message.startswith("a mapping key must be text") for i in issues):
        try:
            runbook = Runbook.model_validate(data)
        except ValidationError as exc:
            issues += _issues_from_pydantic(exc, data, positions)
    if any(i.is_error for i in issues) or runbook is None:
        issues = dedupe_issues(issues)
        raise RunbookInvalid(f"{file}: invalid runbook", issues)
    runbook._source = source
    runbook._text = text
    runbook._sha256 = sha256
    runbook._positions = positions
    for i, step in enumerate(runbook.steps):
        step._location = positions.nearest(("steps", i))
        for name in _CHECK_FIELDS:
            check = getattr(step, name)
            if isinstance(check, StepBase):
                check._location = positions.nearest(("steps", i, name))
    return runbook


def dedupe_issues(issues: list[Issue]) -> list[Issue]:
    """Each issue once, in the order of the file."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for issue in issues:
        key = (issue.location, issue.message, issue.field)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    out.sort(
        key=lambda i: (i.location.line if i.location else 0, i.location.column if i.location else 0)
    )
    return out


def step_label(number: int | None, step_id: str) -> str:
    """How a step is named in prose, in progress, errors and messages alike:
    ``step 2 (probe)``, its number as a run counts (from 1) and its id."""
    return f"step {number} ({step_id})" if number else f"step {step_id!r}"


def field_name(path: tuple[Any, ...], runbook: Any = None) -> str:
    """Where in a runbook, for people: ``("steps", 2, "command")`` → ``step 3 (probe) command``.

    Steps are counted from 1, as ``respond run`` counts them, and named by their id when
    ``runbook`` (the YAML data or a ``Runbook``) is given; items of lists are counted from
    1 too (``step 3 (probe) commands #2``)."""
    parts = list(path)
    words: list[str] = []
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        step_id = _step_id(runbook, parts[1])
        words.append(step_label(parts[1] + 1, step_id) if step_id else f"step {parts[1] + 1}")
        parts = parts[2:]
    dotted = ""
    for part in parts:
        if isinstance(part, int):
            dotted += f" #{part + 1}"
        else:
            dotted += ("." if dotted else "") + str(part)
    if dotted:
        words.append(dotted.strip())
    return " ".join(words)


def _step_id(runbook: Any, index: int) -> str | None:
    steps = runbook.get("steps") if isinstance(runbook, dict) else getattr(runbook, "steps", None)
    if not isinstance(steps, list | tuple) or not 0 <= index < len(steps):
        return None
    step = steps[index]
    value = step.get("id") if isinstance(step, dict) else getattr(step, "id", None)
    return value if isinstance(value, str) else None


def key_type_issues(node: Any, positions: Positions, path: tuple[Any, ...]) -> list[Issue]:
    """A mapping key that YAML read as a number, a date or a boolean, at any depth."""
    issues: list[Issue] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str) and not (path and path[-1] in ("extra_vars", "body")):
                issues.append(
                    Issue(
                        f"a mapping key must be text, got {key!r} (quote it: '{key}')",
                        positions.key((*path, key)) or positions.nearest(path),
                    )
                )
            issues += key_type_issues(value, positions, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            issues += key_type_issues(value, positions, (*path, i))
    return issues


_STEP_FIELDS = frozenset(f.alias or n for n, f in Step.model_fields.items())
COMMON_FIELDS = frozenset(f.alias or n for n, f in StepBase.model_fields.items()) | {"kind"}
KIND_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(f.name for f in kind.fields) for name, kind in _KINDS.items()
}
_OWNER: dict[str, list[str]] = {}
for _kind, _fields in KIND_FIELDS.items():
    for _f in _fields:
        _OWNER.setdefault(_f, []).append(_kind)


def _kind_issues(data: dict[str, Any], positions: Positions) -> list[Issue]:
    steps = data.get("steps")
    issues: list[Issue] = []
    if not isinstance(steps, list):
        return issues
    for i, step in enumerate(steps):
        if isinstance(step, dict):
            issues += _step_kind_issues(step, positions, ("steps", i), inline=False, doc=data)
    return issues


def _step_kind_issues(
    step: dict[str, Any], positions: Positions, path: tuple[Any, ...], *, inline: bool, doc: Any
) -> list[Issue]:
    kind = _KINDS.get(step.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        return []  # an unknown or missing kind is reported by the model
    issues: list[Issue] = []
    here = positions.nearest(path)
    where = field_name(path, doc)
    allowed = COMMON_FIELDS | KIND_FIELDS[kind.name]
    a_kind = f"{kind.article} {kind.name}"

    def err(message: str, key: str | None = None) -> None:
        # a kind names a key inside one of its mappings as "field.key" (check: args.paths)
        sub = tuple(key.split(".", 1)) if key else ()
        loc = (positions.key((*path, *sub)) or positions.key((*path, sub[0]))) if key else here
        issues.append(Issue(message, loc or here, field=where))

    for key in step:
        if key in _STEP_FIELDS and key not in allowed and key != "targets":
            owners = " and ".join(_OWNER.get(key, []))
            err(f"{key!r} is not a field of {a_kind} step (it belongs to {owners} steps)", key)

    present = {k for k, v in step.items() if v is not None}
    if "allow_empty" in present and not kind.on_hosts:
        err(f"'allow_empty' is not allowed for {a_kind} step (it has no targets)", "allow_empty")
    if kind.on_hosts:
        if "targets" not in present:
            err(f"{a_kind} step needs 'targets' (an inventory host or group pattern)")
    elif "targets" in step:
        err(f"'targets' is not allowed for {a_kind} step (it runs on the control host)", "targets")

    for message, at_key in [*required_problems(step, kind), *kind.problems(step, inline=inline)]:
        err(message, at_key)
    for spec in kind.fields:
        if spec.type == "texts" and isinstance(step.get(spec.name), dict):
            err(
                f"{spec.name!r} of {a_kind} step is a list (per-OS mappings are for netmiko steps)",
                spec.name,
            )
    if "parse" in present and "register" not in present:
        err("'parse' needs 'register': the parsed data is read as NAME.data", "parse")

    pollable = [k.name for k in _KINDS.values() if k.pollable]
    for spec in kind.fields:
        check = step.get(spec.name)
        if spec.type == "check" and isinstance(check, str):
            err(
                f"the 'check' of {a_kind} step is an inline step (a mapping with a kind), "
                f"not a name; a built-in check by name is a step of kind check",
                spec.name,
            )
        if spec.type != "check" or not isinstance(check, dict):
            continue
        check_path = (*path, spec.name)
        if "id" in check:
            issues.append(
                Issue(
                    f"a {kind.name} check is part of its step and has no 'id'",
                    positions.key((*check_path, "id")) or here,
                    field=field_name(check_path, doc),
                )
            )
        ckind = check.get("kind")
        if ckind is not None and ckind not in pollable:
            issues.append(
                Issue(
                    f"a {kind.name} check must be of kind {', '.join(pollable)} (got {ckind!r})",
                    positions.nearest((*check_path, "kind")),
                    field=field_name(check_path, doc),
                )
            )
        elif ckind is not None:
            issues += _step_kind_issues(check, positions, check_path, inline=True, doc=doc)
    return issues


def _step_id_issues(data: dict[str, Any], positions: Positions) -> list[Issue]:
    """Checks across steps and params on the raw data (so they run even when a step has
    type errors): duplicate step ids, param names, register names that clash."""
    issues: list[Issue] = []
    steps: list[Any] = data["steps"] if isinstance(data.get("steps"), list) else []
    params: dict[Any, Any] = data["params"] if isinstance(data.get("params"), dict) else {}
    first: dict[str, int] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("id"), str):
            continue
        sid = step["id"]
        if sid in first:
            prev = positions.nearest(("steps", first[sid], "id"))
            issues.append(
                Issue(
                    f"duplicate step id {sid!r} (first used by step {first[sid] + 1}, line {prev.line})",
                    positions.nearest(("steps", i, "id")),
                    field=field_name(("steps", i, "id"), data),
                )
            )
        else:
            first[sid] = i
    for name in params:
        if not isinstance(name, str):
            continue
        where = positions.key(("params", name)) or positions.nearest(("params",))
        if not IDENT.match(name):
            issues.append(
                Issue(f"param name {name!r} must be a plain identifier (letters, digits, _)", where)
            )
        elif name in BUILTIN_NAMES:
            issues.append(
                Issue(f"param name {name!r} is a built-in template name; choose another", where)
            )
    for i, step in enumerate(steps):
        if (
            isinstance(step, dict)
            and isinstance(step.get("register"), str)
            and step["register"] in params
        ):
            issues.append(
                Issue(
                    f"register name {step['register']!r} is also a param; choose another",
                    positions.nearest(("steps", i, "register")),
                    field=field_name(("steps", i, "register"), data),
                )
            )
    return issues


# -- pydantic errors → issues -------------------------------------------------------------------

_CHECK_FIELDS = frozenset(f.name for k in _KINDS.values() for f in k.fields if f.type == "check")
_LITERALS: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "scenario": SCENARIOS,
    "on_failure": ON_FAILURE,
    "on_refuse": ON_REFUSE,
    "drill": DRILL_MODES,
    "type": PARAM_TYPES,
    "method": HTTP_METHODS,
}


def _model_at(data: Any, path: tuple[Any, ...]) -> type[BaseModel] | None:
    """Which model validates the mapping at ``path`` (for "did you mean" candidates)."""
    if path == ():
        return Runbook
    if len(path) == 2 and path[0] == "params":
        return Param
    if path[-1] == "expect":
        return Expect
    if path[-1] in _CHECK_FIELDS or (
        len(path) == 2 and path[0] == "steps" and isinstance(path[1], int)
    ):
        return Step
    return None


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _issues_from_pydantic(exc: ValidationError, data: Any, positions: Positions) -> list[Issue]:
    return validation_issues(
        exc,
        data,
        positions,
        fields=_ALL_FIELDS,
        literals=_LITERALS,
        unknown_key=_unknown_key,
        name=field_name,
    )


def validation_issues(
    exc: ValidationError,
    data: Any,
    positions: Positions,
    *,
    fields: frozenset[str],
    literals: Mapping[str, tuple[str, ...]],
    unknown_key: Callable[[Any, Positions, tuple[Any, ...], Any], Issue],
    name: Callable[[tuple[Any, ...], Any], str],
) -> list[Issue]:
    """A pydantic ``ValidationError`` over YAML data → one ``Issue`` per place, each at the
    position of the offending node (shared by the runbook and drill models).

    ``fields`` are the key names the models know (a loc part that is not one, such as a
    union member's name, is not a place in the file); ``literals`` give the allowed words of
    closed keys (for "did you mean"); ``unknown_key`` words an unknown key at its place;
    ``name`` says where a path is, for people."""
    grouped = _group_by_place(exc, data, positions, fields)
    issues: list[Issue] = []
    for where, group in grouped.items():
        first = group[0]
        etype = first["type"]
        parent, key = where[:-1], (where[-1] if where else None)
        if etype == "extra_forbidden":
            issues.append(unknown_key(data, positions, parent, key))
        elif etype == "missing":
            issues.append(
                Issue(
                    f"missing required key {key!r}",
                    positions.nearest(parent),
                    field=name(parent, data),
                )
            )
        elif etype == "literal_error" and key in literals:
            issues.append(
                _literal_issue(first, str(key), literals[str(key)], where, data, positions, name)
            )
        else:
            issues.append(
                Issue(
                    "; or ".join(_messages(group)),
                    positions.nearest(where),
                    field=name(where, data),
                )
            )
    return issues


def _group_by_place(
    exc: ValidationError, data: Any, positions: Positions, fields: frozenset[str]
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """The errors by the path of the node they are about (union members' names dropped)."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    reported: list[dict[str, Any]] = [dict(e) for e in exc.errors(include_url=False)]
    # a list whose items failed is also reported "too short" by pydantic: keep only the items
    errors = [
        e
        for e in reported
        if e["type"] != "too_short"
        or not any(
            o is not e and o["loc"][: len(e["loc"])] == e["loc"] and len(o["loc"]) > len(e["loc"])
            for o in reported
        )
    ]
    for error in errors:
        path: list[Any] = []
        loc = error["loc"]
        for n, part in enumerate(loc):
            if _is_place(
                tuple(path), part, n == len(loc) - 1, error["type"], data, positions, fields
            ):
                path.append(part)
        grouped.setdefault(tuple(path), []).append(error)
    return grouped


def _is_place(
    path: tuple[Any, ...],
    part: Any,
    last: bool,
    etype: str,
    data: Any,
    positions: Positions,
    fields: frozenset[str],
) -> bool:
    """Whether a part of an error's loc is a node of the file (not a union member's name):
    written in it, the key an error says is missing or unknown, or a known key of data
    that is there."""
    candidate = (*path, part)
    if candidate in positions.values or candidate in positions.keys:
        return True
    if last and etype in ("missing", "extra_forbidden"):
        return True
    return isinstance(part, str) and part in fields and _get(data, path) is not None


def _literal_issue(
    error: dict[str, Any],
    key: str,
    options: tuple[str, ...],
    where: tuple[Any, ...],
    data: Any,
    positions: Positions,
    name: Callable[[tuple[Any, ...], Any], str],
) -> Issue:
    got = error.get("input")
    close = difflib.get_close_matches(str(got), options, n=1) if isinstance(got, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if key == "kind":
        message = f"unknown step kind {got!r}{hint}; expected one of: {', '.join(options)}"
    else:
        message = f"{key!r} must be one of {', '.join(options)}, got {_short(got)}{hint}"
    return Issue(message, positions.nearest(where), field=name(where, data))


def _messages(group: list[dict[str, Any]]) -> list[str]:
    """pydantic's messages for one place, worded for people, without repeats."""
    messages: list[str] = []
    for err in group:
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif msg.startswith("Assertion failed, "):
            msg = msg[len("Assertion failed, ") :]
        else:
            msg = msg.replace("Input should be", "expected")
            if not msg.startswith("expected "):
                msg = msg[:1].lower() + msg[1:]
            if "input" in err and err["type"] not in ("model_type", "dict_type"):
                msg += f", got {_short(err['input'])}"
                if isinstance(err["input"], bool) and err["type"] == "string_type":
                    msg += " (YAML reads unquoted yes/no/on/off as true/false: quote the value)"
            elif err["type"] in ("model_type", "dict_type"):
                msg = f"expected a mapping, got {_short(err.get('input'))}"
        if msg not in messages:
            messages.append(msg)
    return messages


_ALL_FIELDS = (
    _STEP_FIELDS
    | frozenset(Expect.model_fields)
    | frozenset(Param.model_fields)
    | frozenset(f.alias or n for n, f in Runbook.model_fields.items())
)


def _unknown_key(data: Any, positions: Positions, parent: tuple[Any, ...], key: Any) -> Issue:
    model = _model_at(data, parent)
    candidates: list[str] = []
    if model is Step:
        kind = _get(data, (*parent, "kind"))
        allowed = COMMON_FIELDS | KIND_FIELDS.get(kind, frozenset())
        candidates = sorted(allowed) if kind in KIND_FIELDS else sorted(_STEP_FIELDS)
    elif model is not None:
        candidates = [
            f.alias or n
            for n, f in model.model_fields.items()
            if not (model is Param and n == "name")
        ]
    close = difflib.get_close_matches(str(key), candidates, n=1, cutoff=0.6)
    if not close and model is Step:
        close = difflib.get_close_matches(str(key), sorted(_STEP_FIELDS), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    where = field_name(parent, data)
    return Issue(
        f"unknown key {key!r}{hint}",
        positions.key((*parent, key)) or positions.nearest(parent),
        field=where,
    )


# What the schema says of each definition (the models' docstrings are written for Python
# readers; an editor shows these).
_SCHEMA_DESCRIPTIONS = {
    "": "A respond runbook: the parameters and the ordered steps that diagnose one kind of "
    "incident and recover from it. Validate it with `respond validate`.",
    "Step": "One step: the keys every step has, plus those of its kind (see `kind`).",
    "CheckStep": "The step a wait step polls until it succeeds: a step of kind ssh, local, "
    "http, netmiko or check, without an id.",
    "Param": "One input of a run, given as -p NAME=VALUE or taken from its default.",
    "Expect": "What a step's result must look like for the step to count as ok.",
}


def runbook_json_schema() -> dict[str, Any]:
    """The JSON Schema of runbook files (keys as written in YAML), with each kind's required
    fields (from ``StepKind.required``) and a description of every key."""
    schema = Runbook.model_json_schema(by_alias=True, mode="validation")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema["$id"] = "https://respond.invalid/schemas/runbook.schema.json"
    defs = schema.get("$defs", {})
    if "Param" in defs:
        defs["Param"]["properties"].pop("name", None)
    schema["description"] = _SCHEMA_DESCRIPTIONS[""]
    for name, definition in defs.items():
        if name in _SCHEMA_DESCRIPTIONS:
            definition["description"] = _SCHEMA_DESCRIPTIONS[name]
    for name in ("Step", "CheckStep"):
        if name in defs:
            defs[name]["allOf"] = _kind_requirements()
    return schema


def _kind_requirements() -> list[dict[str, Any]]:
    """Per kind, what a step of it must have: ``if kind is X then required ...``; a group of
    alternatives (ssh's command or commands) becomes a ``oneOf``."""
    rules: list[dict[str, Any]] = []
    for kind in _KINDS.values():
        required = ["targets"] if kind.on_hosts else []
        required += [group[0] for group in kind.required if len(group) == 1]
        choices = [
            {"oneOf": [{"required": [name]} for name in group]}
            for group in kind.required
            if len(group) > 1
        ]
        if kind.required_any:
            choices.append({"anyOf": [{"required": [name]} for name in kind.required_any]})
        then: dict[str, Any] = {}
        if required:
            then["required"] = required
        if choices:
            then["allOf"] = choices
        if then:
            rules.append(
                {
                    "if": {"properties": {"kind": {"const": kind.name}}, "required": ["kind"]},
                    "then": then,
                }
            )
    return rules
