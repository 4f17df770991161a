"""SyncService: the CRM sync worker seen from the GUI thread, as typed Qt signals.

It owns the worker's thread (:class:`desktop.core.crm.worker.SyncWorker` runs there with its own SQLite
connection); what the worker reports is carried back to the GUI thread by queued signals and re-emitted here,
so widgets and tests only ever connect to this object.

Signals:
- ``status_changed(status)``: a push or pull cycle ended; the new :class:`desktop.core.crm.status.SyncStatus`.
- ``entry_parked(entry)``: the CRM refused an entry (:class:`desktop.core.crm.status.ParkedEntry`, with its message).
- ``consents_pulled(count)``: a pull applied ``count`` new consent events (the banner re-evaluates).
- ``sync_failed(message)``: a cycle could not run (credentials refused, CRM unreachable, or a bug); one line.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop.core.crm.contract import Connector
from desktop.core.crm.status import SyncStatus, sync_status
from desktop.core.crm.worker import PushReport, SyncWorker

if TYPE_CHECKING:
    from desktop.config import Crm, Settings

log = logging.getLogger("agent_assist.sync")
#: How long stop() waits for the worker to finish its current request (the HTTP timeout bounds it too).
STOP_WAIT_S = 10.0


class SyncService(QObject):
    status_changed = Signal(object)
    entry_parked = Signal(object)
    consents_pulled = Signal(int)
    sync_failed = Signal(str)

    # Emitted from the worker's thread; Qt queues them to this object's (the GUI) thread.
    _worker_pushed = Signal(object, object)
    _worker_pulled = Signal(int, object)
    _worker_failed = Signal(str)

    def __init__(
        self,
        data_dir: Path,
        crm: Crm,
        connector: Connector,
        *,
        credentials: bool | None = None,
        worker_factory: Callable[..., SyncWorker] = SyncWorker.for_data_dir,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.crm = crm
        self.credentials = credentials
        self.worker = worker_factory(data_dir, connector, crm)
        self.worker.on_push = self._in_worker_pushed
        self.worker.on_pull = self._in_worker_pulled
        self.worker.on_error = self._worker_failed.emit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_status: SyncStatus | None = None
        self._worker_pushed.connect(self._on_worker_pushed)
        self._worker_pulled.connect(self._on_worker_pulled)
        self._worker_failed.connect(self._on_worker_failed)

    # -- intents ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker's thread (once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.worker.run, args=(self._stop,), name="crm-sync", daemon=True)
        self._thread.start()
        log.info("sync: started (%s)", self.crm.connector)

    def wake(self) -> None:
        """Push now: an entry was just queued (a summary validated, a consent event recorded)."""
        self.worker.wake()

    def stop(self) -> None:
        """Stop the worker and wait for its thread (it finishes the request in flight, then closes)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self.worker.wake()
        thread.join(STOP_WAIT_S)
        if thread.is_alive():
            log.warning("sync: the worker did not stop in time (a CRM request is still in flight)")
        else:
            log.info("sync: stopped")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- worker thread ---------------------------------------------------------------------------------------

    def _status_now(self) -> SyncStatus:
        return sync_status(self.worker.conn, self.crm, now=dt.datetime.now(dt.UTC), credentials=self.credentials)

    def _in_worker_pushed(self, report: PushReport) -> None:
        self._worker_pushed.emit(report, self._status_now())

    def _in_worker_pulled(self, report: Any) -> None:
        self._worker_pulled.emit(int(getattr(report, "applied", 0) or 0), self._status_now())

    # -- GUI thread ------------------------------------------------------------------------------------------

    def _on_worker_pushed(self, report: PushReport, status: SyncStatus) -> None:
        self.last_status = status
        parked = {entry.id: entry for entry in status.parked_entries}
        for row_id in report.parked_ids:
            entry = parked.get(row_id)
            if entry is not None:
                self.entry_parked.emit(entry)
        if report.problem == "auth":
            self.sync_failed.emit(f"the CRM refused the credentials: {report.message or ''}".strip())
        elif report.problem == "unreachable":
            self.sync_failed.emit(f"the CRM could not be reached: {report.message or ''}".strip())
        log.debug("sync: pushed %d, parked %d, to retry %d", report.pushed, report.parked, report.retried)
        self.status_changed.emit(status)

    def _on_worker_pulled(self, applied: int, status: SyncStatus) -> None:
        self.last_status = status
        if applied:
            log.debug("sync: %d consent event(s) pulled", applied)
            self.consents_pulled.emit(applied)
        self.status_changed.emit(status)

    def _on_worker_failed(self, message: str) -> None:
        self.sync_failed.emit(message)


def start_sync(
    window: object, service: object, data_dir: Path, settings: Settings, log_stage: Callable[..., None]
) -> SyncService | None:
    """Start the CRM sync for the app when ``[crm]`` names a connector; None (and a log line) when it does not
    or cannot start. A validated summary wakes the worker at once; pulled consent events re-evaluate the call
    on screen. Stop it with :meth:`SyncService.stop` before the store closes."""
    from desktop.core.crm.connectors import make_connector
    from desktop.core.crm.credentials import get_secret
    from desktop.core.errors import InputError

    crm = settings.crm
    if crm.connector == "none":
        log_stage("sync_off")
        return None
    secret: str | None = None
    credentials: bool | None = None
    try:
        secret = get_secret(crm.connector, crm.endpoint or "") if crm.endpoint else None
        credentials = secret is not None
    except InputError as error:  # no usable keyring: the connector says whether it needs a secret
        log.warning("sync: %s", error)
    try:
        connector = make_connector(crm, secret)
    except Exception as error:  # bad settings or refused credentials: the app runs on, local only
        log.warning("sync: not started: %s", error)
        log_stage("sync_not_started", connector=crm.connector)
        return None
    if connector is None:
        return None
    sync = SyncService(
        data_dir, crm, connector, credentials=credentials, parent=window if isinstance(window, QObject) else None
    )
    summary_saved = getattr(service, "summary_saved", None)
    if summary_saved is not None:
        summary_saved.connect(lambda _session, validated: sync.wake() if validated else None)
    verdict_changed = getattr(service, "verdict_changed", None)
    if verdict_changed is not None:  # a withdrawal recorded during a call queues a revocation: send it now
        verdict_changed.connect(lambda _session: sync.wake())
    reevaluate = getattr(service, "reevaluate", None)
    if reevaluate is not None:
        sync.consents_pulled.connect(lambda _count: reevaluate())
    sync.start()
    log_stage("sync_started", connector=crm.connector)
    return sync
