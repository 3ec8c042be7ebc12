"""Where the lab keeps its files: everything under ``<home>/lab``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LabPaths:
    root: Path

    @classmethod
    def for_home(cls, home: Path | str) -> LabPaths:
        return cls(Path(home).expanduser().resolve() / "lab")

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def pid(self) -> Path:
        return self.root / "lab.pid"

    @property
    def runtime(self) -> Path:
        """What the running daemon started: pid, ports, URLs (written once it is ready)."""
        return self.root / "lab.json"

    @property
    def ports(self) -> Path:
        """Ports chosen last time, reused when free so addresses stay stable."""
        return self.root / "ports.json"

    @property
    def log(self) -> Path:
        return self.root / "lab.log"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def rcfile(self) -> Path:
        """The start-up file of the lab hosts' interactive shells (outside every host's tree)."""
        return self.root / "shellrc"

    @property
    def scratch(self) -> Path:
        return self.root / "hosts"

    @property
    def commands(self) -> Path:
        """Every command the hosts executed and every line the switches processed (JSON lines)."""
        return self.root / "commands.log"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets.json"
