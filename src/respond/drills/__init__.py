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
