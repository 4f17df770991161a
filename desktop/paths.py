"""Where Agent Assist keeps its files: ``--data-dir``, else ``AGENT_ASSIST_HOME``, else the user data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "agent-assist"
HOME_ENV = "AGENT_ASSIST_HOME"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def assets_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "assets"
