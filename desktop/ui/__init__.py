"""The Qt user interface: windows, views and widgets. Only this package and ``desktop.services`` import Qt.

Views lay out and show; :class:`desktop.ui.panel.AgentPanel` reacts to the call service's signals and turns the
agent's clicks and shortcuts into the service's intents.

Importing this package (or ``desktop.services``) applies :func:`desktop.pyside_fix.keep_singletons_alive`:
without it, the app aborts after a few thousand calls into PySide6 6.12 on Python 3.11.
"""

from __future__ import annotations

from desktop.pyside_fix import keep_singletons_alive

__all__ = ["keep_singletons_alive"]

keep_singletons_alive()
