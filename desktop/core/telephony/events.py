"""One stream of call events, whatever the softphone gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal["ringing", "dialing", "answered", "ended"]
Direction = Literal["inbound", "outbound"]
EVENT_KINDS: tuple[EventKind, ...] = ("ringing", "dialing", "answered", "ended")


@dataclass(frozen=True)
class CallEvent:
    """Something happened to a call. ``at`` is stamped on receipt by the adapter, not trusted from the peer."""

    kind: EventKind
    at: dt.datetime
    call_id: str | None = None
    number: str | None = None
    direction: Direction | None = None
    source: str = "unknown"
    #: Campaign context when the dialler knows it (otherwise the station's defaults apply).
    product: str | None = None
    purpose: str | None = None
    professional: str | None = None
    sector: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def implied_direction(self) -> Direction | None:
        if self.direction is not None:
            return self.direction
        if self.kind == "ringing":
            return "inbound"
        if self.kind == "dialing":
            return "outbound"
        return None
