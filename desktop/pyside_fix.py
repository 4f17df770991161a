"""WORKAROUND for PySide6 6.12 on Python 3.11: see :func:`keep_singletons_alive`. Applied when
``desktop.services`` or ``desktop.ui`` is imported, i.e. before anything of ours calls into Qt."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

log = logging.getLogger("agent_assist.qt")
# What an immortal object's reference count looks like: far above any real count, far below the largest ssize_t.
_IMMORTAL = 1 << 60


def keep_singletons_alive() -> list[str]:
    """Make ``None``, ``True`` and ``False`` immortal where PySide6 would otherwise kill the interpreter;
    returns the names of those it had to fix (empty where nothing leaks, as from Python 3.12).

    WORKAROUND: https://peps.python.org/pep-0683/ — PySide6 6.12 returns ``None`` from void methods (a
    ``setText``, a timer's ``start``) and ``True`` from ``Signal.emit`` without a new reference. From Python
    3.12 these objects are immortal and nothing happens; on 3.11 each call takes one reference away, and after
    a few thousand calls (the panel's 1 Hz clock makes two a second) the interpreter aborts with "Fatal Python
    error: none_dealloc" (or ``bool_dealloc``). This gives them, once, the huge reference count of an immortal
    object, only when a probe shows the leak and only if the count is where CPython keeps it.
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return []
    from PySide6.QtCore import QObject

    probe = QObject()
    leaks: dict[str, tuple[object, Callable[[], object]]] = {
        "None": (None, lambda: probe.setObjectName("probe")),
        "True": (True, lambda: probe.objectNameChanged.emit("probe")),
    }
    leaking = []
    for name, (singleton, call) in leaks.items():
        before = sys.getrefcount(singleton)
        for _ in range(4):
            call()
        if sys.getrefcount(singleton) < before:
            leaking.append(name)
    fixed = []
    if leaking:
        for name, singleton in (("None", None), ("True", True), ("False", False)):
            if _make_immortal(singleton):
                fixed.append(name)
        log.debug("PySide6 leaks references to %s: %s made immortal", ", ".join(leaking), ", ".join(fixed))
    return fixed


def _make_immortal(singleton: object) -> bool:
    import ctypes

    if sys.getrefcount(singleton) > _IMMORTAL // 2:
        return False  # done already
    refcount = ctypes.c_ssize_t.from_address(id(singleton))
    if refcount.value != sys.getrefcount(singleton) - 1:  # not the object layout we know: touch nothing
        log.warning("PySide6 leaks references to %r and they cannot be restored: the app may abort", singleton)
        return False
    refcount.value += _IMMORTAL
    return True
