"""What a step kind is: one object that tells the model, plan, engine, terminal and record
everything they need to know about the kind (see docs/internals.md, "Adding a step kind").

A kind module imports nothing heavy: its executor (the transport) is named as a
``"module:Class"`` string and imported only when a step of the kind runs, and the runbook
and template types it works with are used for type checking only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Expect, Step
    from respond.runbook.templating import Templates

# The vocabulary of field types a kind can declare; the runbook model turns each into a
# validated type (and into the JSON Schema that editors complete from).
FieldType = Literal[
    "text",  # a string (templated)
    "texts",  # a string or a list of strings
    "os_texts",  # as texts, or a mapping network-OS family (or default) → texts
    "flag",  # true / false
    "mapping",  # a mapping of names to any values (templated recursively)
    "headers",  # a mapping of names to strings
    "value",  # anything (templated recursively when it holds strings)
    "duration",  # 30s, 5m, 1h, or a number of seconds
    "argv",  # a list of strings, one argument each
    "check",  # an inline step (without id) of a kind that can be polled
    "method",  # an HTTP method
]

# How a field's strings are rendered, for validation of their templates ("expr": a Jinja
# expression written without braces, like `when`; "value": such an expression whose value
# is recorded and shown, like a set value).
TemplateMode = Literal["text", "command", "device", "expr", "value", "none"]


@dataclass(frozen=True, slots=True)
class KindField:
    """One field a kind adds to a step."""

    name: str
    type: FieldType
    description: str = ""
    default: Any = None
    template: TemplateMode = "text"
    under: str | None = None  # a path that must stay under this project folder (e.g. playbooks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """A step rendered for one target: what will be sent (``commands``, already safe for
    where they go) and the variables it was rendered with. Kinds add their own fields in
    subclasses; their executor reads those."""

    commands: tuple[str, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderEnv:
    """What rendering needs besides the variables of one target."""

    templates: Templates
    playbooks_dir: Path
    inventory_path: Path | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    default_channels: tuple[str, ...] | None = None
    drill_channels: tuple[str, ...] | None = None  # a drill's channels replace every chain


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationAttempt:
    """One channel a notice was tried on."""

    channel: str | None
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ClosedWords:
    """The only words a result key can hold: one of them, or (``many``) a list of them."""

    words: tuple[str, ...]
    many: bool = False


class StepKind:
    """The defaults every kind starts from; a kind overrides what differs.

    Class attributes describe the kind; methods take the validated ``Step`` and work on
    it. Only the kind's own module reads its fields and the ``data`` its executor puts in
    a ``HostResult``.
    """

    name: ClassVar[str]
    executor: ClassVar[str]  # "module:Class" of the transport, imported on first use
    summary: ClassVar[str] = ""  # one line for docs and `respond schema`
    fields: ClassVar[tuple[KindField, ...]] = ()
    on_hosts: ClassVar[bool] = False  # acts on inventory hosts: needs `targets`, fans out
    one_run: ClassVar[bool] = False  # every selected host in one run, results split after
    default_timeout: ClassVar[float] = 60.0
    pollable: ClassVar[bool] = False  # may be the `check` of a wait step
    control_target: ClassVar[str] = "localhost"  # the name a control-host step records
    exit_codes: ClassVar[bool] = False  # exit codes are checked (expect.rc, default 0)
    result_keys: ClassVar[tuple[str, ...]] = ()  # HostResult.data keys runbooks may read
    # fields whose rendered words are a program's arguments: a param value there that starts
    # with '-' would be read as an option (respond.engine.params refuses it)
    argument_fields: ClassVar[tuple[str, ...]] = ()
    # fields that become the command line of a process on the control host, which every
    # user of the machine can read (ps, /proc/PID/cmdline): no secret may go there
    process_fields: ClassVar[tuple[str, ...]] = ()
    # the fields a step of the kind must have: each inner tuple lists alternatives of which
    # exactly one must be given (("command", "commands")); a one-name tuple is simply required.
    # The JSON Schema and `validate` both read it (required_problems), so a kind's problems()
    # keeps only the rules this cannot say (e.g. netmiko's config needs a confirm).
    required: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # fields of which at least one must be given (netmiko: commands, config or facts)
    required_any: ClassVar[tuple[str, ...]] = ()
    # computes on the control host and changes nothing anywhere: `respond resume` repeats it
    # without asking where its outcome is unknown (set, decide)
    pure: ClassVar[bool] = False

    @property
    def article(self) -> str:
        return "an" if self.name[:1] in "aehiosx" else "a"

    # -- validation of the raw YAML mapping (every problem, each at its key) -----------------
    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        """(message, key or None) for each kind rule the step breaks; ``inline`` is true
        for the check of a wait step. A key inside one of the kind's mappings is written
        ``field.key`` (``args.paths``), so the problem points at it."""
        return []

    # -- gates and drills ----------------------------------------------------------------------
    def gated_by_default(self, step: Step) -> bool:
        """True when the step changes something even without a `confirm` text."""
        return False

    def default_gate_text(self, step: Step, hosts: Sequence[str]) -> str:
        return f"run step {step.id}"

    # -- rendering, plan and preview -----------------------------------------------------------
    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Rendered:
        raise NotImplementedError

    def host_issues(self, step: Step, host: Host) -> list[tuple[str, str]]:
        """(message, field) for each part of the step that ``host`` has no lines for (a
        per-OS mapping without the host's OS): `validate` and `plan` warn, the run fails
        that host."""
        return []

    def actions(self, rendered: Rendered) -> list[str]:
        """What a target will be sent, one line each: the record's intents, the gate's
        preview and the plan all show this."""
        return list(rendered.commands)

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        """How `respond plan` describes the step for one target."""
        return self.actions(rendered)

    def template_fields(self, step: Step) -> Iterator[tuple[tuple[Any, ...], str, TemplateMode]]:
        """Every templated string of the kind's fields: (path in the step, text, mode)."""
        for spec in self.fields:
            # a duration is a number, or a template rendered when the step runs
            if spec.template == "none" or spec.type in ("flag", "method", "check"):
                continue
            yield from _strings((spec.name,), getattr(step, spec.name, None), spec.template)

    # -- names a step binds for later steps (set) ---------------------------------------------
    def bound_names(self, step: Step) -> dict[str, tuple[Any, ...]]:
        """Top-level names the step gives every later step, like params, each with the
        path in the step where it is written."""
        return {}

    def local_names(self, step: Step, sub: tuple[Any, ...]) -> frozenset[str]:
        """Names the kind's own field at ``sub`` may read besides the step's variables
        (a set value reads the values written before it)."""
        return frozenset()

    def bound_values(self, result: HostResult) -> dict[str, Any]:
        """The values a finished target binds to ``bound_names`` (nothing unless it is ok)."""
        return {}

    def restorable(self, result: HostResult) -> bool:
        """Whether the recorded ``result`` holds all that later steps read from it. A pure
        kind's result that does not (kept out by no_log, or holding a masked secret) is
        computed again by `respond resume` instead of being restored."""
        return True

    def closed_values(self, step: Step) -> dict[str, ClosedWords]:
        """Result keys whose words the runbook fixes (decide: its verdicts), so that
        `validate` can warn about a later comparison with a word the step never gives."""
        return {}

    # -- results ---------------------------------------------------------------------------------
    def check(self, expect: Expect | None, result: HostResult) -> tuple[bool, str]:
        """The kind's own verdict on a finished target (e.g. exit codes); the engine adds
        the common ``expect`` checks after it."""
        if not self.exit_codes:
            return True, ""
        wanted = expect.rc if expect is not None else None
        allowed = [0] if wanted is None else (wanted if isinstance(wanted, list) else [wanted])
        for cmd in result.commands:
            if cmd.exit_code not in allowed:
                return (
                    False,
                    f"exit code {cmd.exit_code} from {_short(cmd.command)} "
                    f"(expected {' or '.join(str(v) for v in allowed)})",
                )
        return True, ""

    def split(self, whole: HostResult, hosts: Sequence[str]) -> list[HostResult]:
        """For ``one_run`` kinds: the one run's result, one per selected host."""
        return [whole]

    def notifications(self, result: HostResult) -> tuple[str | None, list[NotificationAttempt]]:
        """(subject, attempts) when the kind sends notices; recorded one event per channel."""
        return None, []

    def ends_run(self, result: HostResult) -> tuple[str, str] | None:
        """(outcome, reason) when this finished target ends the run (e.g. ``finish``):
        the engine runs no later step and the run ends with that outcome."""
        return None

    def host_mark(self, result: HostResult) -> tuple[str, str] | None:
        """The kind's own terminal mark and colour for a host that did not fail (a graded
        check shows its grade), or None for the status's mark."""
        return None

    def host_detail(self, step: Step, result: HostResult) -> str:
        """The words after a host's mark on the terminal when nothing failed."""
        if result.commands and not step.no_log:
            lines = result.commands[-1].stdout.strip().splitlines()
            return lines[0] if lines else ""
        return ""


def recorded_notice(result: HostResult) -> tuple[str | None, list[NotificationAttempt]]:
    """(subject, attempts) of a notice as its executor put them in ``result.data``."""
    attempts = [
        NotificationAttempt(
            channel=a.get("channel"), ok=bool(a.get("ok")), error=a.get("error") or None
        )
        for a in result.data.get("attempts", ())
    ]
    return result.data.get("subject"), attempts


def required_problems(raw: Mapping[str, Any], kind: StepKind) -> list[tuple[str, str | None]]:
    """The kind's ``required`` rule over the raw YAML: every group of alternatives needs
    exactly one of its fields. The JSON Schema states the same rule (``oneOf``)."""
    present = {k for k, v in raw.items() if v is not None}
    a_kind = f"{kind.article} {kind.name}"
    found: list[tuple[str, str | None]] = []
    for group in kind.required:
        given = [name for name in group if name in present]
        if not given:
            found.append((f"{a_kind} step needs {_alternatives(group)}", None))
        elif len(given) > 1:
            only = "not both" if len(group) == 2 else "only one of them"
            found.append((f"{a_kind} step takes {_alternatives(group)}, {only}", given[-1]))
    if kind.required_any and not present & set(kind.required_any):
        found.append((f"{a_kind} step needs {_alternatives(kind.required_any)}", None))
    return found


def _alternatives(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _strings(
    path: tuple[Any, ...], value: Any, mode: TemplateMode
) -> Iterator[tuple[tuple[Any, ...], str, TemplateMode]]:
    if isinstance(value, str):
        yield path, value, mode
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings((*path, k), v, mode)
    elif isinstance(value, list | tuple):
        for j, v in enumerate(value):
            yield from _strings((*path, j), v, mode)


def _short(command: str) -> str:
    return command if len(command) <= 60 else command[:57] + "..."
