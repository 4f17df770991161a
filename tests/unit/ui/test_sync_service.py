"""SyncService: the worker runs in its own thread; its facts come back as the service's signals (GUI thread)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.config import Crm
from desktop.core.crm.contract import AuthError, Connector
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.status import ParkedEntry, SyncStatus
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import Store, transaction
from desktop.services.sync import SyncService
from tests.support.fake_crm import FakeConnector
from tests.unit.core.crm.test_worker import consent, interaction

CRM = Crm(connector="tryton", endpoint="http://127.0.0.1:1/crm", push_interval_s=3600, pull_interval_s=3600)


@dataclass
class Pulled:
    applied: int


def service(data_dir: Path, fake: FakeConnector, applied: int = 0) -> SyncService:
    calls = {"n": 0}

    def pull(conn: object, connector: object, *, now: dt.datetime, overlap_s: float) -> Pulled:
        calls["n"] += 1
        return Pulled(applied if calls["n"] == 1 else 0)

    def factory(data_dir: Path, connector: Connector, crm: Crm) -> SyncWorker:
        return SyncWorker.for_data_dir(data_dir, connector, crm, pull=pull)

    return SyncService(data_dir, CRM, fake, credentials=True, worker_factory=factory)


def test_push_results_come_back_as_signals(qtbot: QtBot, store: Store, data_dir: Path) -> None:
    fake = FakeConnector()
    fake.reject["call-0002"] = "400: A value is required for field Direction."
    sync = service(data_dir, fake, applied=2)
    parked: list[ParkedEntry] = []
    sync.entry_parked.connect(parked.append)
    statuses: list[SyncStatus] = []
    sync.status_changed.connect(statuses.append)
    with qtbot.waitSignal(sync.consents_pulled, timeout=5000) as pulled:
        sync.start()
    assert pulled.args == [2]
    with transaction(store.conn):
        enqueue(store.conn, consent(1, "withdrawn"))
        enqueue(store.conn, interaction(1))
        enqueue(store.conn, interaction(2))

    def pushed(status: SyncStatus) -> bool:
        # the first cycle's status (nothing pending before the enqueue) may still be on its way: wait for this one
        calls = status.counts.get("interaction", {})
        return status.pending == 0 and calls.get("sent") == 1 and calls.get("parked") == 1

    with qtbot.waitSignal(sync.status_changed, timeout=10000, check_params_cb=pushed):
        sync.wake()
    qtbot.waitUntil(lambda: bool(parked), timeout=5000)
    assert [entry.entity_id for entry in parked] == ["call-0002"]
    assert parked[0].message == "400: A value is required for field Direction."
    assert statuses[-1].counts["interaction"]["sent"] == 1 and statuses[-1].credentials is True
    sync.stop()
    assert not sync.running and fake.closed
    assert set(fake.records) == {"st-1:1", "call-0001"}


def test_refused_credentials_are_reported_once_per_cycle(qtbot: QtBot, store: Store, data_dir: Path) -> None:
    fake = FakeConnector()
    fake.faults = [AuthError("401: the API key was refused")]
    with transaction(store.conn):
        enqueue(store.conn, interaction(1))
    sync = service(data_dir, fake)
    with qtbot.waitSignal(sync.sync_failed, timeout=5000) as failed:
        sync.start()
    assert failed.args == ["the CRM refused the credentials: 401: the API key was refused"]
    sync.stop()


def test_stop_is_prompt_while_idle(qtbot: QtBot, data_dir: Path) -> None:
    sync = service(data_dir, FakeConnector())
    with qtbot.waitSignal(sync.status_changed, timeout=5000):
        sync.start()
    before = time.monotonic()
    sync.stop()
    assert time.monotonic() - before < 1.0 and not sync.running
