"""respond: emergency-response runbook automation."""

from __future__ import annotations

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("respond")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
