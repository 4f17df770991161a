"""Where Agent Assist finds its files.

- The data folder: ``--data-dir``, else ``AGENT_ASSIST_HOME``, else the user data folder (:func:`data_dir`).
- The read-only resources (``assets/`` and ``models/manifest.toml``), wherever the app runs from
  (:func:`resource_root`): a frozen build (PyInstaller's ``sys._MEIPASS``), a source checkout or editable install
  (the repository beside the ``desktop`` package), or an installed wheel (``<prefix>/share/agent-assist``).
- The machine-wide models folder of a packaged build (:func:`machine_models_dir`): the models bundled in the build
  (``--with-models``), else ``/var/lib/agent-assist/models`` or ``%ProgramData%\\AgentAssist\\models``, where IT
  runs ``agent-assist models install`` once for every user of the station.

Standard library and platformdirs only: the hook command and ``desktop.core`` import this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "agent-assist"
HOME_ENV = "AGENT_ASSIST_HOME"
#: Overrides where the read-only resources are looked for (a folder holding ``assets/`` and ``models/``).
RESOURCES_ENV = "AGENT_ASSIST_RESOURCES"
#: The folder name under ``<prefix>/share`` where a wheel's data files land.
SHARE_NAME = "agent-assist"
#: The stamp a frozen build carries (version, commit, date), written by packaging/build.py.
BUILD_INFO = "build_info.json"

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``explicit``, else ``$AGENT_ASSIST_HOME``, else the platform's user data folder."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def frozen_root() -> Path | None:
    """The folder of a frozen (PyInstaller) build's bundled files, or None when running from Python sources."""
    if not getattr(sys, "frozen", False):
        return None
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(sys.executable).resolve().parent


def _has_resources(folder: Path) -> bool:
    return (folder / "assets").is_dir() and (folder / "models" / "manifest.toml").is_file()


def resource_candidates() -> list[Path]:
    """The folders tried for ``assets/`` and ``models/manifest.toml``, in order (for error messages and tests)."""
    candidates = []
    explicit = os.environ.get(RESOURCES_ENV)
    if explicit:
        candidates.append(Path(explicit).expanduser())
    bundle = frozen_root()
    if bundle is not None:
        candidates.append(bundle)
    candidates.append(_PACKAGE_DIR.parent)  # a source checkout or an editable install
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        candidates.append(Path(prefix) / "share" / SHARE_NAME)  # a wheel's data files
    return candidates


def resource_root() -> Path:
    """The first candidate folder that holds both ``assets/`` and ``models/manifest.toml``.

    When none does, the first candidate is returned, so that the caller's "file not found" names a real place.
    """
    candidates = resource_candidates()
    return next((folder for folder in candidates if _has_resources(folder)), candidates[0])


def assets_dir() -> Path:
    """The ``assets/`` folder: policy packs, playbooks, styles, translations, demo calls."""
    return resource_root() / "assets"


def models_manifest_path() -> Path:
    """The model manifest, ``models/manifest.toml``."""
    return resource_root() / "models" / "manifest.toml"


def machine_data_dir() -> Path:
    """The platform's machine-wide data folder (written by IT, read by every user)."""
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / "AgentAssist"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/AgentAssist")
    return Path("/var/lib") / APP_NAME


def bundled_models_dir() -> Path | None:
    """The models folder inside a frozen build made with ``--with-models``, else None."""
    bundle = frozen_root()
    if bundle is None:
        return None
    folder = bundle / "models"
    has_model = folder.is_dir() and any(child.is_dir() for child in folder.iterdir())
    return folder if has_model else None


def machine_models_dir() -> Path | None:
    """The models folder of a packaged build: its bundled models, else ``<machine data folder>/models``.

    None when running from Python sources: a developer's models stay in the data folder.
    """
    if frozen_root() is None:
        return None
    return bundled_models_dir() or machine_data_dir() / "models"
