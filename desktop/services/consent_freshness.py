"""ConsentFreshness: how fresh this station's consent data is, for the agent's banner.

When the station syncs with a CRM, consent changes made elsewhere (an opt-out on another station) arrive by
the pull; past the policy's ``max_sync_age`` without a successful pull the engine forbids commercial calls
(``CONSENT_DATA_STALE``). The banner says how long ago the last pull was, and warns when it is stale.

The pull (the app's sync worker, or ``agent-assist sync run`` in another process) writes the instant of its last
success in the store; this service reads it on the GUI thread every few seconds through
:func:`desktop.core.consent.check.consent_freshness` (the engine's own rule 10 test) and tells the banner when it
changes. Call :meth:`ConsentFreshness.poll` after a pull to show it at once.

Signals:
- ``freshness_changed(freshness)``: a new :class:`~desktop.core.consent.check.Freshness`.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.consent.check import Freshness, consent_freshness
from desktop.core.consent.policy import Policy

log = logging.getLogger("agent_assist.sync")
#: How often the store is read for a new pull instant (the default pull interval is 15 s).
POLL_MS = 5000


def system_clock() -> dt.datetime:
    return dt.datetime.now().astimezone()


class ConsentFreshness(QObject):
    freshness_changed = Signal(object)

    def __init__(
        self,
        conn: sqlite3.Connection,
        policy: Policy,
        *,
        crm_sync: bool,
        clock: Callable[[], dt.datetime] = system_clock,
        poll_ms: int = POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.conn = conn
        self.policy = policy
        self.crm_sync = crm_sync
        self.clock = clock
        self.current = Freshness(crm_sync=False, last_pull=None, stale_at=None, stale=False)
        self.current = self._read()
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        """Emit the current freshness, then poll the store (not at all when the station has no CRM)."""
        self.freshness_changed.emit(self.current)
        if self.crm_sync:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> Freshness:
        """Read the last pull; emit ``freshness_changed`` if anything moved. Returns the current freshness."""
        fresh = self._read()
        if fresh != self.current:
            self.current = fresh
            self.freshness_changed.emit(fresh)
        return self.current

    def _read(self) -> Freshness:
        try:
            return consent_freshness(self.conn, self.policy, crm_sync=self.crm_sync, at=self.clock())
        except (sqlite3.Error, ValueError) as error:  # a locked or odd row: keep what we knew until the next poll
            log.warning("last consent pull unreadable: %s", error)
            return self.current
