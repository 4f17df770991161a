"""The review window over a real connector: the webhook connector (its secret in a keyring double) against the
webhook receiver written from docs/connectors.md (tests/fakes/webhook_receiver.py, a unit-test double of an
in-house CRM). Another station's call is listed; an approval made here goes out through the outbox and the real
sync worker, and comes back from the CRM as the call's review state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot

from desktop.config import Crm
from desktop.core.consent.policy import Policy
from desktop.core.crm.connectors.webhook import WebhookConnector
from desktop.core.crm.credentials import set_secret
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import Store
from desktop.services.review_source import open_review_source
from desktop.ui.review import ReviewWindow
from tests.fakes import interaction
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.unit.core.crm.test_credentials import MemoryKeyring

from . import seed_calls

SECRET = "hmac-shared-secret-for-review-tests"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_review_through_the_webhook_connector(
    qtbot: QtBot, store: Store, data_dir: Path, policy: Policy, receiver: WebhookReceiver, memory: MemoryKeyring
) -> None:
    receiver.reset()
    calls = seed_calls(store.conn, policy)
    crm = Crm(connector="webhook", endpoint=receiver.endpoint, station_id="poste-1", timeout_s=5)
    set_secret("webhook", receiver.endpoint, SECRET)
    other_station = WebhookConnector.from_settings(crm, SECRET)
    other_station.push_interactions([interaction(1, station="poste-2", agent_id="agent-3")])
    other_station.close()

    source, problem = open_review_source(store.conn, crm)
    assert problem is None and source.crm_name == "webhook" and source.station == "poste-1"
    window = ReviewWindow(store.conn, source=source, reviewer="lead-1")
    assert source.parent() is window
    qtbot.addWidget(window)
    with qtbot.waitSignal(source.interactions_loaded, timeout=10_000):
        window.show()
    remote = next(row for row in window.model.rows if row.uid == "call-1")
    assert (remote.source, remote.station, remote.agent_id, remote.review_state) == (
        "crm",
        "poste-2",
        "agent-3",
        "pending",
    )
    assert len(window.model.rows) == 5

    window.select_call("call-1")
    window.comment_edit.setText("Rappel bien planifié")
    review = window.approve()
    assert review is not None

    # The real sync worker carries the outbox (this station's calls, its consent events, the review) to the CRM.
    worker = SyncWorker.for_data_dir(data_dir, WebhookConnector.from_settings(crm, SECRET), crm)
    try:
        worker.push_once()
        assert worker.pending_count() == 0
    finally:
        worker.close()
    assert receiver.records["reviews"][review.external_id]["state"] == "approved"

    with qtbot.waitSignal(source.interactions_loaded, timeout=10_000):
        window.refresh()
    listed = {row.uid: row for row in window.model.rows}
    assert listed["call-1"].review_state == "approved"
    assert listed["call-1"].remote is not None and listed["call-1"].remote.review_comment == "Rappel bien planifié"
    assert listed["call-1"].review is not None and listed["call-1"].review.sync == "sent"
    assert listed[calls.withdrawn].source == "both"  # pushed by the worker: the same call, one row
    assert len(window.model.rows) == 5
    window.close()  # hidden: the app shows it again later, with its source
    assert source.owns_connector is True
    source.close()  # at quit
    assert source.owns_connector is False


def test_without_a_secret_the_review_stays_local(
    store: Store, receiver: WebhookReceiver, memory: MemoryKeyring
) -> None:
    crm = Crm(connector="webhook", endpoint=receiver.endpoint)
    source, problem = open_review_source(store.conn, crm)
    assert source.connector is None
    assert problem == "webhook: no shared secret in the OS keyring (agent-assist sync secret set)"
    local, none = open_review_source(store.conn, Crm())
    assert local.connector is None and none is None
