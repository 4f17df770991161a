"""The sync status: counts by kind and state, oldest pending age, parked entries with the CRM's message."""

from __future__ import annotations

import datetime as dt

from desktop.config import Crm
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.status import status_lines, sync_status
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import set_last_consent_pull
from tests.support.fake_crm import FakeConnector
from tests.unit.core.crm.test_worker import consent, interaction

CRM = Crm(connector="tryton", endpoint="http://127.0.0.1:8000/crm", station_id="poste-12")


def test_an_empty_outbox(store: Store) -> None:
    now = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
    status = sync_status(store.conn, Crm(), now=now)
    assert status.drained and status.pending == 0 and status.oldest_pending_age_s is None
    assert status.counts["interaction"] == {"pending": 0, "sent": 0, "parked": 0}
    text = status_lines(status)
    assert "CRM: none configured" in text and "last push: never; last consent pull: never" in text


def test_counts_age_parked_and_last_exchanges(store: Store) -> None:
    fake = FakeConnector(max_batch=10)
    with transaction(store.conn):
        for n in range(3):
            enqueue(store.conn, interaction(n))
        enqueue(store.conn, consent(1, "withdrawn"))
    fake.reject["call-0001"] = "400: The code on party must be unique."
    created = dt.datetime.fromisoformat(store.conn.execute("SELECT min(created_at) FROM outbox").fetchone()[0])
    now = created + dt.timedelta(minutes=5)
    SyncWorker(lambda: store.conn, fake, CRM, clock=lambda: now).push_once()
    with transaction(store.conn):
        enqueue(store.conn, interaction(9))
        set_last_consent_pull(store.conn, now)
    status = sync_status(store.conn, CRM, now=now + dt.timedelta(seconds=30), credentials=False)
    assert status.counts["interaction"] == {"pending": 1, "sent": 2, "parked": 1}
    assert status.counts["consent_event"] == {"pending": 0, "sent": 1, "parked": 0}
    assert (status.pending, status.parked) == (1, 1)
    # Queued at about the same wall time as the first ones; the status is asked 5 min 30 s later.
    assert status.oldest_pending_age_s is not None and 330 <= status.oldest_pending_age_s < 360
    [parked] = status.parked_entries
    assert (parked.kind, parked.entity_id, parked.attempts) == ("interaction", "call-0001", 1)
    assert parked.message == "400: The code on party must be unique."
    assert status.last_push == now.isoformat() and status.last_pull == now.isoformat()
    data = status.to_json()
    assert data["parked_entries"][0]["message"] == parked.message and "+336" not in str(data)
    text = status_lines(status)
    assert "tryton at http://127.0.0.1:8000/crm, credentials MISSING" in text
    assert "parked #" in text and "The code on party must be unique." in text
    assert "interaction 1 pending / 2 sent / 1 parked" in text


def test_a_refused_key_is_named(store: Store) -> None:
    from desktop.core.crm.contract import AuthError

    fake = FakeConnector()
    fake.faults = [AuthError("401: invalid API key")]
    with transaction(store.conn):
        enqueue(store.conn, interaction(1))
    SyncWorker(lambda: store.conn, fake, CRM).push_once()
    status = sync_status(store.conn, CRM, now=dt.datetime.now(dt.UTC), credentials=True)
    assert status.problem == "auth: 401: invalid API key"
    assert "last push stopped: the CRM refused the credentials: 401: invalid API key" in status_lines(status)
