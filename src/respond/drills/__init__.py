"""Drills: definitions (``drills/NAME.yaml``), when they fall due, and how a drill run is
scored against its objectives.

- :mod:`.model`: the validated definition (``Drill``);
- :mod:`.loader`: finding and loading definitions (``file:line:col`` on every problem);
- :mod:`.schedule`: occurrences of a drill's schedule in its time zone;
- :mod:`.objectives`: a drill run's events → a scorecard (met / missed / not reached);
- :mod:`.history`: earlier runs of the same drill (the report's trend).

Running a drill (lab faults, modes, the engine) is the CLI's ``respond.cli.drill_exec``;
the periodic entry point's job for due drills is ``respond.schedule.drills``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from respond.drills.loader import check_drill, find_drills, load_drill, resolve_drill

if TYPE_CHECKING:
    from respond.drills.model import Drill

__all__ = ["Drill", "check_drill", "find_drills", "load_drill", "resolve_drill"]


def __getattr__(name: str) -> Any:
    # the model imports pydantic: only when a drill is loaded, never at `respond --help`
    if name == "Drill":
        from respond.drills.model import Drill

        return Drill
    raise AttributeError(name)
