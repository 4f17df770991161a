"""Which of baresip's recording files belong to a call.

baresip's ``sndfile`` module writes, per call, ``dump-YYYY-MM-DD-HH-MM-SS-dec.wav`` (the decoded stream: what the
agent hears, the customer) and ``dump-…-enc.wav`` (the encoded stream: the agent's microphone) in its
``snd_path`` folder, with no call id in the name (newer versions add the peer). So a call takes the newest file of
each kind that appeared after it started and that no other call has taken.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from desktop.core.speech.transcriber import Speaker

#: File name ends of each side, as baresip's sndfile names them.
SIDE_SUFFIX: dict[Speaker, str] = {"customer": "dec.wav", "agent": "enc.wav"}


class RecordingFinder:
    """Hands each call its recording files, never the same file to two calls (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    def find(
        self,
        speaker: Speaker,
        since: float,
        *,
        timeout_s: float = 10.0,
        poll_s: float = 0.05,
        stop: threading.Event | None = None,
    ) -> Path | None:
        """The newest untaken ``*-dec.wav`` (customer) or ``*-enc.wav`` (agent) modified at or after ``since`` (epoch
        seconds), waiting up to ``timeout_s`` for it; None when none came (or ``stop`` was set)."""
        deadline = time.monotonic() + timeout_s
        pattern = f"*{SIDE_SUFFIX[speaker]}"
        while True:
            with self._lock:
                candidates = []
                for path in self.folder.glob(pattern) if self.folder.is_dir() else ():
                    try:
                        modified = path.stat().st_mtime
                    except OSError:
                        continue
                    if str(path) not in self._taken and modified >= since:
                        candidates.append((modified, path.name, path))
                if candidates:
                    chosen = max(candidates)[2]
                    self._taken.add(str(chosen))
                    return chosen
            if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                return None
            time.sleep(poll_s)
