"""Project configuration: ``respond.yaml`` found by walking up from the current directory.

``--project DIR`` (env ``RESPOND_PROJECT``) overrides the search; ``--home DIR`` (env
``RESPOND_HOME``) says where records live (default ``.respond/`` beside respond.yaml);
``RESPOND_DB`` (or ``db:`` in respond.yaml) is a database URL for the journal store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from respond.errors import ConfigError

CONFIG_NAME = "respond.yaml"

DEFAULT_SEVERITY_POLICY: dict[int, dict[str, float]] = {
    # level: respond within / restore within, in seconds (DESIGN.md section 2)
    1: {"respond": 3600.0, "restore": 4 * 3600.0},
    2: {"respond": 3600.0, "restore": 8 * 3600.0},
    3: {"respond": 3600.0, "restore": 12 * 3600.0},
    4: {"respond": 3600.0, "restore": 24 * 3600.0},
}

_KNOWN_KEYS = {
    "project",
    "runbooks",
    "inventory",
    "default_inventory",
    "drills",
    "playbooks",
    "home",
    "db",
    "known_hosts",
    "severity",
    "channels",
    "notify",
    "signing_key",
    "operator",
    "lab",
}


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
    if config_file is not None:
        raw = _read_yaml(config_file)

    def path_of(key: str, default: str) -> Path:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{config_file}: {key!r} must be a path string")
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else root / p

    default_inventory: Path | None = None
    if raw.get("default_inventory"):
        default_inventory = path_of("default_inventory", "")

    home_value = home or os.environ.get("RESPOND_HOME") or raw.get("home") or ".respond"
    home_path = Path(os.path.expanduser(str(home_value)))
    if not home_path.is_absolute():
        home_path = (Path.cwd() if home else root) / home_path

    known_hosts_raw = raw.get("known_hosts", [])
    if isinstance(known_hosts_raw, str):
        known_hosts_raw = [known_hosts_raw]
    if not isinstance(known_hosts_raw, list):
        raise ConfigError(f"{config_file}: 'known_hosts' must be a path or a list of paths")
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
        severity_policy=_severity_policy(raw.get("severity"), config_file),
        raw=raw,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: error: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: error: respond.yaml must be a mapping")
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        import difflib

        parts = []
        for key in sorted(map(str, unknown)):
            close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
            parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"{path}: error: unknown key(s) {', '.join(parts)}")
    return data


def _severity_policy(raw: Any, config_file: Path | None) -> dict[int, dict[str, float]]:
    from respond.durations import parse_duration

    policy = {k: dict(v) for k, v in DEFAULT_SEVERITY_POLICY.items()}
    if raw is None:
        return policy
    levels = raw.get("levels", raw) if isinstance(raw, dict) else None
    if not isinstance(levels, dict):
        raise ConfigError(
            f"{config_file}: error: 'severity' must map levels 1-4 to respond/restore times"
        )
    for level, clocks in levels.items():
        try:
            n = int(level)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{config_file}: error: severity level {level!r} is not 1-4"
            ) from None
        if n not in policy or not isinstance(clocks, dict):
            raise ConfigError(
                f"{config_file}: error: severity level {level!r} must be 1-4 with respond/restore"
            )
        for key in ("respond", "restore"):
            if key in clocks:
                try:
                    policy[n][key] = parse_duration(clocks[key])
                except ValueError as exc:
                    raise ConfigError(f"{config_file}: error: severity.{n}.{key}: {exc}") from None
    return policy
