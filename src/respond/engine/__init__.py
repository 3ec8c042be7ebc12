"""The run engine (see core.py); params, variables, expectations and resume live beside it."""

from respond.engine.core import Asker, RunEngine, RunOptions
from respond.engine.observer import NullObserver, RunObserver, StepSkip, StepStart

__all__ = [
    "Asker",
    "NullObserver",
    "RunEngine",
    "RunObserver",
    "RunOptions",
    "StepSkip",
    "StepStart",
]
