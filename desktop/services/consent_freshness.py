"""ConsentFreshness: how fresh this station's consent data is, for the agent's banner.

When the station syncs with a CRM, consent changes made elsewhere (an opt-out on another station) arrive by
the pull; past the policy's ``max_sync_age`` without a successful pull the engine forbids commercial calls
(``CONSENT_DATA_STALE``). The banner says how long ago the last pull was, and warns when it is stale.

The pull worker writes the instant of its last success in the store (``sync_state``); this service reads it on
the GUI thread every few seconds (one indexed row) and tells the banner when it changes.

Signals:
- ``freshness_changed(freshness)``: a new :class:`Freshness` (a pull succeeded, or the sync was switched on).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import isodate
from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.consent.policy import Policy, add_duration
from desktop.core.store.sync_state import last_consent_pull

log = logging.getLogger("agent_assist.sync")
#: How often the store is read for a new pull instant (the default pull interval is 15 s).
POLL_MS = 5000


@dataclass(frozen=True)
class Freshness:
    """The consent data's age: ``last_pull`` (aware; None if never) and the policy's ``max_age``."""

    last_pull: dt.datetime | None
    max_age: dt.timedelta | isodate.Duration

    @property
    def stale_after(self) -> dt.datetime | None:
        """When the data becomes stale (None: never pulled, stale already)."""
        return None if self.last_pull is None else add_duration(self.last_pull, self.max_age)

    def is_stale(self, now: dt.datetime) -> bool:
        """Stale as the engine sees it: never pulled, or ``now`` past ``last_pull + max_age``."""
        stale_after = self.stale_after
        return stale_after is None or now > stale_after

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        """How long ago the last pull was (never negative: a clock a little behind reads as just now)."""
        return None if self.last_pull is None else max(now - self.last_pull, dt.timedelta(0))


class ConsentFreshness(QObject):
    freshness_changed = Signal(object)

    def __init__(
        self,
        conn: sqlite3.Connection,
        policy: Policy,
        *,
        read_last_pull: Callable[[sqlite3.Connection], dt.datetime | None] = last_consent_pull,
        poll_ms: int = POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.conn = conn
        self.max_age = policy.params.max_sync_age
        self.read_last_pull = read_last_pull
        self.current = self._read()
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        """Emit the current freshness, then poll the store."""
        self.freshness_changed.emit(self.current)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> Freshness:
        """Read the last pull instant; emit ``freshness_changed`` if it moved. Returns the current freshness."""
        fresh = self._read()
        if fresh != self.current:
            self.current = fresh
            self.freshness_changed.emit(fresh)
        return self.current

    def _read(self) -> Freshness:
        try:
            last = self.read_last_pull(self.conn)
        except (sqlite3.Error, ValueError) as error:  # a locked or odd row: keep what we knew, say so once per poll
            log.warning("last consent pull unreadable: %s", error)
            return getattr(self, "current", Freshness(None, self.max_age))
        return Freshness(last, self.max_age)
