"""The run engine (see core.py); params, variables, expectations and resume live beside it."""

from respond.engine.core import Asker, RunEngine, RunObserver, RunOptions

__all__ = ["Asker", "RunEngine", "RunObserver", "RunOptions"]
