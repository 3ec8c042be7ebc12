"""The views of the Huawei VRP and H3C Comware CLIs, which move between them alike.

User view ``<name>``, system view ``[name]`` (``system-view``), interface view
``[name-IF]`` (``interface IF``). ``quit`` goes up one view and ends the session from the user
view; ``return`` (and Ctrl+Z) goes straight back to the user view.
"""

from __future__ import annotations

from respond.lab.netdev.session import Session

USER, SYSTEM, INTERFACE = "user", "system", "interface"
ALL_VIEWS = frozenset({USER, SYSTEM, INTERFACE})
CONFIG_VIEWS = frozenset({SYSTEM, INTERFACE})


def quit_view(s: Session) -> None:
    """Up one view; from the user view, the end of the session."""
    if s.mode == INTERFACE:
        s.mode = SYSTEM
        s.context.pop("interface", None)
    elif s.mode == SYSTEM:
        s.mode = USER
    else:
        s.close()


def return_to_user(s: Session) -> None:
    s.mode = USER
    s.context.pop("interface", None)
