"""respond: emergency-response runbook automation."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Resolved on first use: importlib.metadata costs ~30 ms that most starts do not need.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("respond")
        except PackageNotFoundError:  # running from a source tree without install
            return "0.0.0+unknown"
    raise AttributeError(name)
