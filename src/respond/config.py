"""Project configuration: ``respond.yaml`` found by walking up from the current directory.

``--project DIR`` (env ``RESPOND_PROJECT``) overrides the search; ``--home DIR`` (env
``RESPOND_HOME``) says where records live (default ``.respond/`` beside respond.yaml);
``RESPOND_DB`` (or ``db:`` in respond.yaml) is a database URL for the journal store.
"""

from __future__ import annotations

import os
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
}
_KNOWN_KEYS = sorted(_KEY_TYPES)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectConfig:
    root: Path
    config_file: Path | None
    runbooks_dir: Path
    inventory_dir: Path
    drills_dir: Path
    playbooks_dir: Path
    default_inventory: Path | None
    home: Path
    db_url: str | None
    known_hosts: tuple[Path, ...]
    severity_policy: dict[int, dict[str, float]]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.raw.get("project") or self.root.name)

    def folder(self, name: str) -> Path:
        """A project folder by its layout name: runbooks, inventory, drills, playbooks."""
        folders = {
            "runbooks": self.runbooks_dir,
            "inventory": self.inventory_dir,
            "drills": self.drills_dir,
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
        playbooks_dir=path_of("playbooks", "playbooks"),
        default_inventory=default_inventory,
        home=home_path,
        db_url=os.environ.get("RESPOND_DB") or raw.get("db") or None,
        known_hosts=known_hosts,
        severity_policy=_severity_policy(raw.get("severity"), config_file, positions),
        raw=raw,
    )


_NOTIFY_KEYS = ("default", "escalation")


def _read_yaml(path: Path) -> tuple[dict[str, Any], Positions | None]:
    """respond.yaml through the one strict YAML reader, its shape checked: every problem is
    reported at once as ``file:line:col: error: ...`` (a ``ConfigError``, exit 2)."""
    from respond.errors import InvalidInput
    from respond.yamlfile import read_yaml

    try:
        doc = read_yaml(path, what="respond.yaml")
    except InvalidInput as exc:
        raise ConfigError(str(exc)) from None
    data, positions = doc.data, doc.positions
    if data is None:
        return {}, positions
    if not isinstance(data, dict):
        raise ConfigError(
            str(
                Issue(
                    "respond.yaml must be a mapping of keys (runbooks, inventory, ...)",
                    positions.nearest(()),
                )
            )
        )
    issues = [*_key_issues(data, positions), *_notify_issues(data, positions)]
    if issues:
        raise ConfigError("\n".join(str(i) for i in issues))
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


def _severity_policy(
    raw: Any, config_file: Path | None, positions: Positions | None = None
) -> dict[int, dict[str, float]]:
    from respond.durations import parse_duration

    def error(message: str, *path: Any) -> ConfigError:
        where = positions.nearest(("severity", *path)) if positions is not None else config_file
        return ConfigError(f"{where}: error: {message}")

    policy = {k: dict(v) for k, v in DEFAULT_SEVERITY_POLICY.items()}
    if raw is None:
        return policy
    prefix: tuple[Any, ...] = ("levels",) if isinstance(raw, dict) and "levels" in raw else ()
    levels = raw.get("levels", raw) if isinstance(raw, dict) else None
    if not isinstance(levels, dict):
        raise error("'severity' must map levels 1-4 to respond/restore times", *prefix)
    for level, clocks in levels.items():
        try:
            n = int(level)
        except (TypeError, ValueError):
            raise error(f"severity level {level!r} is not 1-4", *prefix, level) from None
        if n not in policy or not isinstance(clocks, dict):
            raise error(
                f"severity level {level!r} must be 1-4 with respond/restore", *prefix, level
            )
        for key in ("respond", "restore"):
            if key in clocks:
                try:
                    policy[n][key] = parse_duration(clocks[key])
                except ValueError as exc:
                    raise error(f"severity.{n}.{key}: {exc}", *prefix, level, key) from None
    return policy
