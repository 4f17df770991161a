"""The webhook connector against the receiver written from docs/connectors.md (tests/fakes/webhook_receiver.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from desktop.config import Crm
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.connectors.webhook import WebhookConnector, idempotency_key, sign
from desktop.core.crm.contract import AuthError, Connector, RejectedError, TransientError
from desktop.core.errors import InputError
from tests.fakes import consent_event, interaction, review
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = "hmac-shared-secret-for-tests"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def hook(receiver: WebhookReceiver) -> Iterator[WebhookConnector]:
    receiver.reset()
    connector = WebhookConnector.from_settings(
        Crm(connector="webhook", endpoint=receiver.endpoint, timeout_s=5), SECRET
    )
    yield connector
    connector.close()


def test_is_a_connector_made_by_name(receiver: WebhookReceiver) -> None:
    connector = make_connector(Crm(connector="webhook", endpoint=receiver.endpoint), SECRET)
    assert isinstance(connector, WebhookConnector)
    assert isinstance(connector, Connector)
    connector.close()


def test_settings_errors_are_one_line() -> None:
    with pytest.raises(InputError, match=r"^crm.endpoint: missing"):
        WebhookConnector.from_settings(Crm(connector="webhook"), SECRET)
    with pytest.raises(InputError, match=r"^webhook: no shared secret in the OS keyring"):
        WebhookConnector.from_settings(Crm(connector="webhook", endpoint="https://crm.example.test/hook"), None)


def test_push_creates_once_and_repush_is_duplicate(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    first = hook.push_interactions([interaction(1), interaction(2)])
    assert [(r.external_id, r.status) for r in first] == [("call-1", "created"), ("call-2", "created")]
    again = hook.push_interactions([interaction(1)])
    assert again[0].status == "duplicate"
    assert again[0].remote_id == first[0].remote_id
    assert len(receiver.records["interactions"]) == 2
    assert receiver.rejected_signatures == 0
    assert receiver.idempotency_keys == [idempotency_key(["call-1", "call-2"]), "call-1"]


def test_batch_partial_failure_is_per_item(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    bad = interaction(3).model_copy(update={"direction": "sideways"})
    results = hook.push_interactions([interaction(4), bad])
    assert [r.status for r in results] == ["created", "rejected"]
    assert results[1].message == "webhook: direction: must be inbound or outbound"
    assert set(receiver.records["interactions"]) == {"call-4"}


def test_batches_are_cut_at_max_batch(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    results = hook.push_consent_events([consent_event(n) for n in range(hook.max_batch + 3)])
    assert all(r.status == "created" for r in results)
    assert receiver.count("POST", r"/consent-events$") == 2


def test_signature_is_verifiable_and_a_wrong_secret_is_refused(receiver: WebhookReceiver) -> None:
    receiver.reset()
    body = b'{"sent_at":1,"items":[]}'
    assert sign(SECRET, body) == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    wrong = WebhookConnector.from_settings(Crm(connector="webhook", endpoint=receiver.endpoint), "not-the-secret")
    with pytest.raises(AuthError, match=r"(?i)^webhook: HTTP 401 Unauthorized: bad signature$"):
        wrong.push_interactions([interaction(5)])
    with pytest.raises(AuthError):
        wrong.pull_consent_changes(None)
    wrong.close()
    assert receiver.rejected_signatures == 2
    assert receiver.records["interactions"] == {}


def test_validation_error_body_is_rejected_with_the_message(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    receiver.fail_next(422, {"message": "schema version not supported"})
    with pytest.raises(RejectedError, match="schema version not supported"):
        hook.push_interactions([interaction(6)])


def test_throttling_is_transient_with_retry_after(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    receiver.fail_next(429, {"message": "slow down"}, headers={"Retry-After": "7"})
    with pytest.raises(TransientError) as caught:
        hook.push_consent_events([consent_event(1)])
    assert caught.value.retry_after == 7.0
    receiver.fail_next(503, "<html><h1>Service Unavailable</h1></html>")
    with pytest.raises(TransientError, match=r"HTTP 503"):
        hook.push_consent_events([consent_event(1)])
    assert hook.push_consent_events([consent_event(1)])[0].status == "created"


def test_non_json_answer_is_rejected_with_a_clear_message(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    receiver.fail_next(200, "<html>OK</html>")
    with pytest.raises(RejectedError, match="no results list"):
        hook.push_reviews([review(1)])


def test_missing_result_is_retried(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    receiver.fail_next(200, {"results": [{"external_id": "call-7", "status": "created", "remote_id": "x"}]})
    results = hook.push_interactions([interaction(7), interaction(8)])
    assert [r.status for r in results] == ["created", "retry"]


def test_pull_cursor_progresses(hook: WebhookConnector) -> None:
    hook.push_consent_events([consent_event(n) for n in range(5)])
    first = hook.pull_consent_changes(None, limit=3)
    assert [c.external_id for c in first.changes] == ["poste-1:0", "poste-1:1", "poste-1:2"]
    assert first.more
    second = hook.pull_consent_changes(first.cursor, limit=3)
    assert [c.external_id for c in second.changes] == ["poste-1:3", "poste-1:4"]
    assert not second.more
    assert hook.pull_consent_changes(second.cursor).changes == []
    assert second.changes[0] == consent_event(3)


def test_reviews_and_list_interactions(hook: WebhookConnector) -> None:
    hook.push_interactions([interaction(1), interaction(2)])
    assert (
        hook.push_reviews([review(1, "flagged", comment="Pas de mention de l'enregistrement")])[0].status == "created"
    )
    listed = {item.external_id: item for item in hook.list_interactions()}
    assert listed["call-1"].review_state == "flagged"
    assert listed["call-1"].review_comment == "Pas de mention de l'enregistrement"
    assert listed["call-2"].review_state == "pending"
    assert listed["call-1"].summary == interaction(1).summary
    assert [i.external_id for i in hook.list_interactions(review_state="pending")] == ["call-2"]


def test_health(hook: WebhookConnector, receiver: WebhookReceiver) -> None:
    health = hook.health()
    assert health.ok and health.latency_ms is not None and health.connector == "webhook"
    receiver.fail_next(500, None)
    down = hook.health()
    assert not down.ok
    assert (down.message or "").lower() == "webhook: http 500 internal server error"
