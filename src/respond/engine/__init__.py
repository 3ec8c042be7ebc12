"""The run engine. One idea per module:

- ``runner``   the run loop: steps in order, on_failure, the run's opening and closing events
- ``prepare``  a step's targets and its rendering per target (shared with ``respond plan``)
- ``fanout``   one step on its targets at once: retries, error budget, deadlines, step status
- ``gates``    gates and prompts: answers file, ``--yes``, the operator; every decision recorded
- ``drill``    what a step does in each drill mode; how a tabletop step is told
- ``journal``  events built from results and made durable in order
- ``escalation`` a severity escalation recorded, announced and told to people (drills)
- ``deadlines`` the incident's clocks during a run: a watcher acting at each deadline
- ``observer`` the typed run hooks (terminal, tests)
- ``expect``   judging a target's result (the kind's verdict, then ``expect``)
- ``params``, ``variables``, ``resume``  params, template variables, state for resume
"""

from respond.engine.drill import DRILL_MODES, step_action
from respond.engine.gates import Asker
from respond.engine.observer import NullObserver, RunObserver, StepSkip, StepStart
from respond.engine.runner import RunEngine, RunOptions

__all__ = [
    "DRILL_MODES",
    "Asker",
    "NullObserver",
    "RunEngine",
    "RunObserver",
    "RunOptions",
    "StepSkip",
    "StepStart",
    "step_action",
]
