"""Project configuration: ``respond.yaml`` found by walking up from the current directory.

``--project DIR`` (env ``RESPOND_PROJECT``) overrides the search; ``--home DIR`` (env
``RESPOND_HOME``) says where records live (default ``.respond/`` beside respond.yaml);
``RESPOND_DB`` (or ``db:`` in respond.yaml) is a database URL for the journal store.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import ConfigError, Issue

if TYPE_CHECKING:
    from respond.yamlfile import Positions

CONFIG_NAME = "respond.yaml"

DEFAULT_SEVERITY_POLICY: dict[int, dict[str, float]] = {
    # level: respond within / restore within, in seconds (docs/config.md, "Severity clock")
    1: {"respond": 3600.0, "restore": 4 * 3600.0},
    2: {"respond": 3600.0, "restore": 8 * 3600.0},
    3: {"respond": 3600.0, "restore": 12 * 3600.0},
    4: {"respond": 3600.0, "restore": 24 * 3600.0},
}


# key → (allowed types, how to say it); null means "not written" except for the directories
_PATH = ((str,), "a path")
_OPTIONAL_PATH = ((str, type(None)), "a path")
_KEY_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "project": ((str, type(None)), "a name"),
    "runbooks": _PATH,
    "inventory": _PATH,
    "drills": _PATH,
    "inspections": _PATH,
    "playbooks": _PATH,
    "default_inventory": _OPTIONAL_PATH,
    "home": _OPTIONAL_PATH,
    "db": ((str, type(None)), "a database URL"),
    "known_hosts": ((str, list, type(None)), "a path or a list of paths"),
    "severity": ((dict, type(None)), "a mapping of levels 1-4 to respond/restore times"),
    "channels": ((dict, type(None)), "a mapping of channel names to channels"),
    "notify": ((dict, type(None)), "a mapping with 'default' and/or 'escalation'"),
    "signing_key": ((str, type(None)), "'hmac:ENV_VAR_NAME' or a key file path"),
    "operator": ((str, type(None)), "a name"),
    "lab": ((dict, type(None)), "a mapping"),
    "recipients": ((dict, type(None)), "a mapping of names to lists of channel names"),
    "messages": ((dict, type(None)), "a mapping of events to message templates"),
    "vendor": ((dict, type(None)), "a mapping with name, accept, on_site and restore"),
    "timezone": ((str, type(None)), "an IANA time zone name such as Asia/Shanghai"),
    "organisation": ((str, type(None)), "text (the organisation's name)"),
    "retention": ((str, type(None)), "text (how long records are kept)"),
}
_KNOWN_KEYS = sorted(_KEY_TYPES)


class ConfigInvalid(ConfigError):
    """respond.yaml has problems; carries every one, each at its place in the file (for
    ``respond validate``, which reports them like any file's)."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = list(issues)


# The events of an incident that tell people (respond.yaml ``tell`` and ``messages`` keys).
TELL_EVENTS = ("opened", "escalated", "missed", "severity", "restored", "resolved")
# Channels every project has without declaring them (respond.executors.notify).
BUILTIN_CHANNEL_NAMES = ("terminal", "file")
# The recipients a level tells when respond.yaml does not say: the notify chains.
DEFAULT_RECIPIENT = "default"
ESCALATION_RECIPIENT = "escalation"
_DEFAULT_TELL: dict[str, str] = {
    "opened": DEFAULT_RECIPIENT,
    "escalated": ESCALATION_RECIPIENT,
    "missed": ESCALATION_RECIPIENT,
    "severity": ESCALATION_RECIPIENT,
    "restored": DEFAULT_RECIPIENT,
    "resolved": DEFAULT_RECIPIENT,
}
# What each level means, as the emergency plans define the fault levels.
DEFAULT_MEANINGS: dict[int, str] = {
    1: "系统瘫痪或业务中断 system down or service interrupted",
    2: "主要功能丧失 a major function lost",
    3: "功能受损，有替代办法 function impaired, workaround exists",
    4: "无功能丧失 no function lost",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelPolicy:
    """One fault level: what it means, its clocks in seconds, and who is told on which
    event (event → names of recipients or channels)."""

    meaning: str
    respond: float
    restore: float
    tell: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorPolicy:
    """What the maintenance vendor promised, in seconds from the case being reported."""

    name: str
    accept: float | None
    on_site: float | None
    restore: dict[int, float]

    def snapshot(self) -> dict[str, Any]:
        """The form an incident records when it opens (``incident-opened`` data ``vendor``)."""
        return {
            "name": self.name,
            "accept": self.accept,
            "on_site": self.on_site,
            "restore": {str(level): s for level, s in sorted(self.restore.items())},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectConfig:
    root: Path
    config_file: Path | None
    runbooks_dir: Path
    inventory_dir: Path
    drills_dir: Path
    inspections_dir: Path
    playbooks_dir: Path
    default_inventory: Path | None
    home: Path
    db_url: str | None
    known_hosts: tuple[Path, ...]
    severity_policy: dict[int, dict[str, float]]
    raw: dict[str, Any] = field(default_factory=dict)
    operator: str | None = None
    levels: dict[int, LevelPolicy] = field(default_factory=dict)
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    vendor: VendorPolicy | None = None
    # the default zone of drill schedules (else the machine's), and what reports print
    timezone: str | None = None
    organisation: str | None = None
    retention: str | None = None

    @property
    def name(self) -> str:
        return str(self.raw.get("project") or self.root.name)

    def folder(self, name: str) -> Path:
        """A project folder by its layout name: runbooks, inventory, drills, playbooks."""
        folders = {
            "runbooks": self.runbooks_dir,
            "inventory": self.inventory_dir,
            "drills": self.drills_dir,
            "inspections": self.inspections_dir,
            "playbooks": self.playbooks_dir,
        }
        return folders.get(name, self.root / name)


def find_config(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(
    project: str | os.PathLike[str] | None = None, home: str | None = None
) -> ProjectConfig:
    """Load respond.yaml; without one, use the current directory with default paths."""
    project = project or os.environ.get("RESPOND_PROJECT") or None
    if project:
        root = Path(project).resolve()
        if root.is_file():
            config_file: Path | None = root
            root = root.parent
        else:
            if not root.is_dir():
                raise ConfigError(f"project directory {project} does not exist")
            config_file = root / CONFIG_NAME if (root / CONFIG_NAME).is_file() else None
    else:
        config_file = find_config()
        root = config_file.parent if config_file else Path.cwd().resolve()

    raw: dict[str, Any] = {}
    positions: Positions | None = None
    if config_file is not None:
        raw, positions = _read_yaml(config_file)

    def path_of(key: str, default: str) -> Path:  # the types were checked by _read_yaml
        p = Path(os.path.expanduser(str(raw.get(key, default))))
        return p if p.is_absolute() else root / p

    default_inventory: Path | None = None
    if raw.get("default_inventory"):
        default_inventory = path_of("default_inventory", "")

    home_value = home or os.environ.get("RESPOND_HOME") or raw.get("home") or ".respond"
    home_path = Path(os.path.expanduser(str(home_value)))
    if not home_path.is_absolute():
        home_path = (Path.cwd() if home else root) / home_path

    known_hosts_raw = raw.get("known_hosts") or []
    if isinstance(known_hosts_raw, str):
        known_hosts_raw = [known_hosts_raw]
    known_hosts = tuple(
        (p if p.is_absolute() else root / p)
        for p in (Path(os.path.expanduser(str(x))) for x in known_hosts_raw)
    )

    return ProjectConfig(
        root=root,
        config_file=config_file,
        runbooks_dir=path_of("runbooks", "runbooks"),
        inventory_dir=path_of("inventory", "inventory"),
        drills_dir=path_of("drills", "drills"),
        inspections_dir=path_of("inspections", "inspections"),
        playbooks_dir=path_of("playbooks", "playbooks"),
        default_inventory=default_inventory,
        home=home_path,
        db_url=os.environ.get("RESPOND_DB") or raw.get("db") or None,
        known_hosts=known_hosts,
        raw=raw,
        **_policy(raw, positions, config_file, home_path),
    )


def _policy(
    raw: dict[str, Any], positions: Positions | None, config_file: Path | None, home: Path
) -> dict[str, Any]:
    """The incident policy fields of ``ProjectConfig``; every problem at once as a
    ``ConfigError`` (``file:line:col: error: ...``)."""
    reader = _PolicyReader(raw, positions, config_file)
    fields = reader.read(home)
    _raise(reader.issues)
    return fields


def _raise(issues: list[Issue]) -> None:
    """One ``ConfigError`` with every issue, in the order of the file."""
    if not issues:
        return

    def place(issue: Issue) -> tuple[int, int]:
        loc = issue.location
        return (loc.line, loc.column) if loc is not None else (0, 0)

    raise ConfigInvalid(sorted(dict.fromkeys(issues), key=place))


_NOTIFY_KEYS = ("default", "escalation")


def _read_yaml(path: Path) -> tuple[dict[str, Any], Positions | None]:
    """respond.yaml through the one strict YAML reader, its shape checked: every problem is
    reported at once as ``file:line:col: error: ...`` (a ``ConfigError``, exit 2)."""
    from respond.errors import InvalidInput
    from respond.yamlfile import read_yaml

    try:
        doc = read_yaml(path, what="respond.yaml")
    except InvalidInput as exc:
        raise ConfigInvalid(exc.issues) if exc.issues else ConfigError(str(exc)) from None
    data, positions = doc.data, doc.positions
    if data is None:
        return {}, positions
    if not isinstance(data, dict):
        raise ConfigInvalid(
            [
                Issue(
                    "respond.yaml must be a mapping of keys (runbooks, inventory, ...)",
                    positions.nearest(()),
                )
            ]
        )
    issues = [*_key_issues(data, positions), *_notify_issues(data, positions)]
    if issues:  # the policy's problems too: every problem at once
        reader = _PolicyReader(data, positions, path)
        reader.read(None)
        _raise(issues + reader.issues)
    return data, positions


def _key_issues(data: dict[Any, Any], positions: Positions) -> list[Issue]:
    import difflib

    issues: list[Issue] = []
    for key, value in data.items():
        if key not in _KEY_TYPES:
            close = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            issues.append(Issue(f"unknown key {key!r}{hint}", positions.key((key,))))
            continue
        types, wanted = _KEY_TYPES[key]
        if not isinstance(value, types):
            issues.append(
                Issue(f"{key!r} must be {wanted}, got {value!r}", positions.value((key,)))
            )
        elif key == "known_hosts" and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    issues.append(
                        Issue(
                            f"known_hosts[{i}] must be a path, got {item!r}",
                            positions.value((key, i)),
                        )
                    )
        elif key == "channels" and isinstance(value, dict):
            for name, spec in value.items():
                if not isinstance(spec, dict):
                    issues.append(
                        Issue(
                            f"channel {name!r} must be a mapping (url, url_env or type), "
                            f"got {spec!r}",
                            positions.value((key, name)),
                        )
                    )
    return issues


def _notify_issues(data: dict[Any, Any], positions: Positions) -> list[Issue]:
    import difflib

    notify = data.get("notify")
    if not isinstance(notify, dict):
        return []
    issues: list[Issue] = []
    for key, value in notify.items():
        if key not in _NOTIFY_KEYS:
            close = difflib.get_close_matches(str(key), _NOTIFY_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            issues.append(
                Issue(f"unknown key {key!r} in notify{hint}", positions.key(("notify", key)))
            )
        elif value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            issues.append(
                Issue(
                    f"notify.{key} must be a list of channel names, got {value!r}",
                    positions.value(("notify", key)),
                )
            )
    return issues


_LEVEL_KEYS = ("meaning", "respond", "restore", "tell")
_VENDOR_KEYS = ("name", "accept", "on_site", "restore")


def _suggest(name: object, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _PolicyReader:
    """Reads the incident policy of respond.yaml (severity levels, recipients, messages,
    vendor), collecting every problem as an ``Issue`` at its place in the file. Values whose
    type ``_key_issues`` already refused are skipped, not reported twice."""

    def __init__(
        self, raw: dict[str, Any], positions: Positions | None, config_file: Path | None
    ) -> None:
        self.raw = raw
        self.positions = positions
        self.config_file = config_file
        self.issues: list[Issue] = []

    def error(self, message: str, *path: Any, key: bool = False) -> None:
        from respond.errors import Location

        if self.positions is None:
            where: Location | None = Location(str(self.config_file or CONFIG_NAME))
        elif key:
            where = self.positions.key(path) or self.positions.nearest(path)
        else:
            where = self.positions.value(path) or self.positions.nearest(path)
        self.issues.append(Issue(message, where))

    def read(self, home: Path | None) -> dict[str, Any]:
        """The policy fields of ``ProjectConfig``; problems are left in ``issues``."""
        recipients = self.recipients()
        levels = self.levels(recipients)
        operator = self.raw.get("operator")
        return {
            "severity_policy": {
                n: {"respond": lv.respond, "restore": lv.restore} for n, lv in levels.items()
            },
            "levels": levels,
            "recipients": recipients,
            "messages": self.messages(home),
            "vendor": self.vendor(),
            "operator": operator.strip()
            if isinstance(operator, str) and operator.strip()
            else None,
            "timezone": self.timezone(),
            "organisation": _text(self.raw.get("organisation")),
            "retention": _text(self.raw.get("retention")),
        }

    def timezone(self) -> str | None:
        """respond.yaml ``timezone``: a zone this machine knows (zoneinfo)."""
        name = self.raw.get("timezone")
        if not isinstance(name, str) or not name.strip():
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            self.error(
                f"unknown time zone {name!r}: expected an IANA name such as Asia/Shanghai or UTC"
                f"{_suggest(name, _zone_names())}",
                "timezone",
            )
            return None
        return name.strip()

    def duration(self, value: Any, label: str, *path: Any) -> float | None:
        from respond.durations import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            self.error(f"{label}: {exc}", *path)
            return None

    # -- severity levels -------------------------------------------------------------------
    def levels(self, recipients: dict[str, tuple[str, ...]]) -> dict[int, LevelPolicy]:
        """Every level 1-4, defaults filled in; ``recipients`` names what ``tell`` may name
        (with the channels); empty: ``tell`` is not checked."""
        raw = self.raw.get("severity")
        prefix: tuple[Any, ...] = ("levels",) if isinstance(raw, dict) and "levels" in raw else ()
        levels = raw.get("levels", raw) if isinstance(raw, dict) else {}
        if not isinstance(levels, dict):
            self.error(
                "'severity.levels' must map levels 1-4 to respond/restore times",
                "severity",
                "levels",
            )
            levels = {}
        given: dict[int, tuple[Any, dict[str, Any]]] = {}
        for level, spec in levels.items():
            path = ("severity", *prefix, level)
            try:
                n = int(level)
            except (TypeError, ValueError):
                n = 0
            if n not in DEFAULT_SEVERITY_POLICY or isinstance(level, bool):
                self.error(f"severity level {level!r} is not 1-4 (1 is the worst)", *path, key=True)
            elif not isinstance(spec, dict):
                self.error(
                    f"severity level {level!r} must be a mapping with respond/restore "
                    f"(and meaning, tell), got {spec!r}",
                    *path,
                )
            else:
                given[n] = (level, spec)
        return {n: self._level(n, *given.get(n, (n, {})), prefix, recipients) for n in range(1, 5)}

    def _level(
        self,
        n: int,
        written: Any,
        spec: dict[str, Any],
        prefix: tuple[Any, ...],
        recipients: dict[str, tuple[str, ...]],
    ) -> LevelPolicy:
        path = ("severity", *prefix, written)
        for key in spec:
            if key not in _LEVEL_KEYS:
                self.error(
                    f"unknown key {key!r} in severity level {n}{_suggest(key, _LEVEL_KEYS)}",
                    *path,
                    key,
                    key=True,
                )
        clocks = dict(DEFAULT_SEVERITY_POLICY[n])
        for key in ("respond", "restore"):
            if key in spec:
                seconds = self.duration(spec[key], f"severity.{n}.{key}", *path, key)
                clocks[key] = clocks[key] if seconds is None else seconds
        meaning = spec.get("meaning", DEFAULT_MEANINGS[n])
        if not isinstance(meaning, str):
            self.error(f"severity.{n}.meaning must be text, got {meaning!r}", *path, "meaning")
            meaning = DEFAULT_MEANINGS[n]
        return LevelPolicy(
            meaning=meaning,
            respond=clocks["respond"],
            restore=clocks["restore"],
            tell=self._tell(n, spec.get("tell"), (*path, "tell"), recipients),
        )

    def _tell(
        self, n: int, raw: Any, path: tuple[Any, ...], recipients: dict[str, tuple[str, ...]]
    ) -> dict[str, tuple[str, ...]]:
        tell: dict[str, tuple[str, ...]] = {e: (name,) for e, name in _DEFAULT_TELL.items()}
        if raw is None:
            return tell
        if not isinstance(raw, dict):
            self.error(
                f"severity.{n}.tell must map events ({', '.join(TELL_EVENTS)}) to recipients, "
                f"got {raw!r}",
                *path,
            )
            return tell
        known = sorted({*recipients, *self.channel_names()})
        for event, names in raw.items():
            if event not in TELL_EVENTS:
                self.error(
                    f"unknown event {event!r} in severity.{n}.tell{_suggest(event, TELL_EVENTS)}",
                    *path,
                    event,
                    key=True,
                )
                continue
            listed = [names] if isinstance(names, str) else names
            if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
                self.error(
                    f"severity.{n}.tell.{event} must be a list of recipients or channels, "
                    f"got {names!r}",
                    *path,
                    event,
                )
                continue
            for i, name in enumerate(listed):
                if name not in known:
                    where = (*path, event, i) if isinstance(names, list) else (*path, event)
                    self.error(
                        f"severity.{n}.tell.{event}: no recipient or channel named "
                        f"{name!r}{_suggest(name, known)}",
                        *where,
                    )
            tell[event] = tuple(listed)
        return tell

    # -- recipients ------------------------------------------------------------------------
    def channel_names(self) -> list[str]:
        channels = self.raw.get("channels")
        named = [str(k) for k in channels] if isinstance(channels, dict) else []
        return [*named, *BUILTIN_CHANNEL_NAMES]

    def recipients(self) -> dict[str, tuple[str, ...]]:
        """Name → fallback chain of channels; ``default`` and ``escalation`` are the notify
        chains unless respond.yaml names recipients so."""
        notify = self.raw.get("notify")
        notify = notify if isinstance(notify, dict) else {}
        default = _names(notify.get("default")) or BUILTIN_CHANNEL_NAMES
        chains: dict[str, tuple[str, ...]] = {
            DEFAULT_RECIPIENT: default,
            ESCALATION_RECIPIENT: _names(notify.get("escalation")) or default,
        }
        raw = self.raw.get("recipients")
        if not isinstance(raw, dict):
            return chains
        channels = self.channel_names()
        for name, chain in raw.items():
            listed = [chain] if isinstance(chain, str) else chain
            if (
                not isinstance(listed, list)
                or not listed
                or not all(isinstance(c, str) for c in listed)
            ):
                self.error(
                    f"recipient {name!r} must be a list of channel names (tried in order), "
                    f"got {chain!r}",
                    "recipients",
                    name,
                )
                continue
            for i, channel in enumerate(listed):
                if channel not in channels:
                    where = (
                        ("recipients", name, i) if isinstance(chain, list) else ("recipients", name)
                    )
                    self.error(
                        f"recipient {name!r}: no channel named {channel!r}"
                        f"{_suggest(channel, channels)}",
                        *where,
                    )
            chains[str(name)] = tuple(listed)
        return chains

    # -- messages --------------------------------------------------------------------------
    def messages(self, home: Path | None) -> dict[str, str]:
        raw = self.raw.get("messages")
        if not isinstance(raw, dict):
            return {}
        messages: dict[str, str] = {}
        for event, text in raw.items():
            if event not in TELL_EVENTS:
                self.error(
                    f"unknown event {event!r} in messages{_suggest(event, TELL_EVENTS)}",
                    "messages",
                    event,
                    key=True,
                )
            elif not isinstance(text, str) or not text.strip():
                self.error(
                    f"messages.{event} must be a message template (text), got {text!r}",
                    "messages",
                    event,
                )
            else:
                messages[event] = text
        for event, problem in _template_problems(messages, home).items():
            self.error(f"messages.{event}: {problem}", "messages", event)
        return messages

    # -- vendor ----------------------------------------------------------------------------
    def vendor(self) -> VendorPolicy | None:
        raw = self.raw.get("vendor")
        if not isinstance(raw, dict):
            return None
        for key in raw:
            if key not in _VENDOR_KEYS:
                self.error(
                    f"unknown key {key!r} in vendor{_suggest(key, _VENDOR_KEYS)}",
                    "vendor",
                    key,
                    key=True,
                )
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.error(f"vendor.name must be the vendor's name, got {name!r}", "vendor", "name")
            name = "vendor"
        limits = {
            key: self.duration(raw[key], f"vendor.{key}", "vendor", key) if key in raw else None
            for key in ("accept", "on_site")
        }
        return VendorPolicy(
            name=name,
            accept=limits["accept"],
            on_site=limits["on_site"],
            restore=self._vendor_restore(raw.get("restore")),
        )

    def _vendor_restore(self, raw: Any) -> dict[int, float]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(
                f"vendor.restore must map levels 1-4 to durations, got {raw!r}",
                "vendor",
                "restore",
            )
            return {}
        restore: dict[int, float] = {}
        for level, value in raw.items():
            path = ("vendor", "restore", level)
            n = level if isinstance(level, int) and not isinstance(level, bool) else 0
            if isinstance(level, str) and level.isdigit():
                n = int(level)
            if n not in DEFAULT_SEVERITY_POLICY:
                self.error(f"vendor.restore: level {level!r} is not 1-4", *path, key=True)
                continue
            seconds = self.duration(value, f"vendor.restore.{n}", *path)
            if seconds is not None:
                restore[n] = seconds
        return restore


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _zone_names() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _template_problems(messages: dict[str, str], home: Path | None) -> dict[str, str]:
    """event → why its template does not compile. Parsing needs Jinja2 (tens of ms to
    import), so sources that compiled before are remembered in ``<home>/cache`` and a
    command on an unchanged respond.yaml does not import it."""
    import hashlib

    templated = {e: t for e, t in messages.items() if any(m in t for m in ("{{", "{%", "{#"))}
    if not templated:
        return {}
    if home is None:
        return _parse_templates(templated)
    digest = hashlib.sha256(repr(sorted(templated.items())).encode("utf-8")).hexdigest()
    marker = home / "cache" / "respond-yaml-messages.ok"
    try:
        if marker.read_text(encoding="ascii") == digest:
            return {}
    except (OSError, UnicodeDecodeError):
        pass
    problems = _parse_templates(templated)
    if not problems:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(digest, encoding="ascii")
        except OSError:
            pass  # an unwritable home only costs the next command the parse
    return problems


def _parse_templates(templates: dict[str, str]) -> dict[str, str]:
    # the same environment rules as every template (respond.runbook.templating): sandboxed,
    # undefined names are errors; only the syntax is checked here, names when rendered
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    problems: dict[str, str] = {}
    for event, text in templates.items():
        try:
            env.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            where = f" (line {exc.lineno} of the template)" if exc.lineno and exc.lineno > 1 else ""
            problems[event] = f"Jinja template syntax error: {exc.message}{where}"
    return problems


def operator_name(config: ProjectConfig | None, given: str | None = None) -> str:
    """Who acts: ``--operator``, else ``RESPOND_OPERATOR``, else respond.yaml ``operator``,
    else ``user@host`` of this process."""
    import getpass
    import socket

    for candidate in (given, os.environ.get("RESPOND_OPERATOR"), config and config.operator):
        if candidate and str(candidate).strip():
            return str(candidate).strip()
    try:
        user = getpass.getuser()
    except Exception:  # no name for this uid (a container): the number still says who
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"
