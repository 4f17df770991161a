"""Durations and instants as the agent reads them at a glance (countdowns, call timers)."""

from __future__ import annotations

import math


def split_duration(seconds: float, *, round_up: bool = False) -> tuple[int, str]:
    """Whole days and the rest as ``H:MM:SS`` (``MM:SS`` under an hour); negative durations count as zero.

    ``round_up`` suits countdowns: 0:00 is shown only once the instant is reached.
    """
    total = math.ceil(seconds) if round_up else math.floor(seconds)
    total = max(total, 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if hours or days:
        return days, f"{hours:d}:{minutes:02d}:{secs:02d}"
    return days, f"{minutes:02d}:{secs:02d}"
