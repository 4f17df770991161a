"""Local models: the manifest (``models/manifest.toml``), the installer, and where an installed model lives.

The speech service asks :func:`model_dir` for the folder to load (local files only, never a hub); the
``agent-assist models`` commands call :func:`install`, :func:`verify` and :func:`list_models`. See docs/models.md.
"""

from __future__ import annotations

from desktop.core.models.installer import (
    MODELS_ENV,
    FileCheck,
    ModelNotInstalledError,
    ModelStatus,
    SourceUnavailableError,
    VerifyReport,
    install,
    is_installed,
    list_models,
    model_dir,
    models_root,
    sha256_file,
    verify,
)
from desktop.core.models.manifest import MANIFEST_PATH, Manifest, ModelSpec, load_manifest

__all__ = [
    "MANIFEST_PATH",
    "MODELS_ENV",
    "FileCheck",
    "Manifest",
    "ModelNotInstalledError",
    "ModelSpec",
    "ModelStatus",
    "SourceUnavailableError",
    "VerifyReport",
    "install",
    "is_installed",
    "list_models",
    "load_manifest",
    "model_dir",
    "models_root",
    "sha256_file",
    "verify",
]
