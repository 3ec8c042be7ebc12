"""Launcher of the lab hosts' commands: ``python -I -S toolrun.py NAME [ARGS...]``.

NAME is a simulated tool (:mod:`respond.lab.tools`) or a checked harmless command
(:mod:`respond.lab.safecmd`).

Kept tiny on purpose: a script is compiled on every run while the modules it imports come
from ``__pycache__``. It maps ``respond`` and ``respond.lab`` to their directories without
running their ``__init__`` (the package's reads its installed metadata, ~30 ms), so a tool
call costs a bare interpreter start plus the stdlib it needs.
"""

import os
import sys
import types

_lab = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0]) == _lab:
    del sys.path[0]
for _name, _path in (("respond", os.path.dirname(_lab)), ("respond.lab", _lab)):
    if _name not in sys.modules:
        _module = types.ModuleType(_name)
        _module.__path__ = [_path]
        sys.modules[_name] = _module

from respond.lab import tools  # noqa: E402

if len(sys.argv) > 1 and sys.argv[1] not in tools.TOOLS:
    from respond.lab.safecmd import main  # a checked harmless command
else:
    main = tools.main

sys.exit(main())
