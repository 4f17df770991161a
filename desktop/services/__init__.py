"""The Qt side of the app without widgets: the call service, the demo player, the call sources (baresip,
local event API). Importing it applies :func:`desktop.pyside_fix.keep_singletons_alive` (PySide6 6.12 on
Python 3.11 would otherwise abort the process after a few hundred signal emissions)."""

from desktop.pyside_fix import keep_singletons_alive

keep_singletons_alive()
