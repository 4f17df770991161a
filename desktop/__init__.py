"""Agent Assist: the desktop assistant that sits beside a call-centre agent's softphone.

``__version__`` is the release; in a packaged build it carries the build's stamp as a PEP 440 local label
(``0.1.0+g4bf4d7b.20261129``: commit and build date, written by packaging/build.py into ``build_info.json``).
"""

from __future__ import annotations

RELEASE = "0.1.0"


def _stamped(release: str) -> str:
    """``release`` plus the frozen build's id, or ``release`` alone when not frozen or unstamped."""
    import sys

    bundle = getattr(sys, "_MEIPASS", None) if getattr(sys, "frozen", False) else None
    if not bundle:
        return release
    import json
    import os

    try:
        with open(os.path.join(bundle, "build_info.json"), encoding="utf-8") as stream:
            build_id = str(json.load(stream)["build_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return release
    return f"{release}+{build_id}"


__version__ = _stamped(RELEASE)
