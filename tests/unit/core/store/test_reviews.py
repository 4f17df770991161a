"""Reviews are stored with their outbox entry in one transaction; alerts come from the calls as the desk stores
them (seed_calls plays four calls through the real CallDesk)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import ReviewPayload
from desktop.core.errors import InputError
from desktop.core.store.db import Store
from desktop.core.store.reviews import (
    latest_reviews,
    local_alerts,
    local_uids,
    record_review,
    review_external_id,
    reviews_of,
)
from tests.unit.ui_ops import CONSENTED, PARIS, UNKNOWN, SeededCalls, seed_calls

AT = dt.datetime(2026, 11, 28, 9, 0, tzinfo=PARIS)


@pytest.fixture
def calls(store: Store, policy: Policy) -> SeededCalls:
    return seed_calls(store.conn, policy)


def queued_reviews(conn: sqlite3.Connection) -> list[tuple[str, ReviewPayload]]:
    return [
        (entity, ReviewPayload.model_validate_json(payload))
        for entity, payload in conn.execute(
            "SELECT entity_id, payload FROM outbox WHERE kind = 'review' AND state = 'pending' ORDER BY id"
        )
    ]


def test_a_review_is_stored_and_queued_for_the_crm(store: Store, calls: SeededCalls) -> None:
    review = record_review(store.conn, calls.inbound, "approved", "  Bien mené  ", "lead-1", AT)
    assert review.external_id == review_external_id(calls.inbound, review.id) == f"{calls.inbound}:review:{review.id}"
    assert (review.state, review.comment, review.reviewer, review.sync) == (
        "approved",
        "Bien mené",
        "lead-1",
        "pending",
    )
    queued = queued_reviews(store.conn)
    assert queued == [
        (
            review.external_id,
            ReviewPayload(
                external_id=review.external_id,
                interaction_id=calls.inbound,
                state="approved",
                comment="Bien mené",
                reviewer="lead-1",
                at=AT,
            ),
        )
    ]
    flagged = record_review(store.conn, calls.inbound, "flagged", "Pas de mention d'enregistrement", "lead-2", AT)
    assert [payload.state for _entity, payload in queued_reviews(store.conn)] == ["approved", "flagged"]
    assert latest_reviews(store.conn, [calls.inbound, calls.missed]) == {calls.inbound: flagged}
    assert [each.state for each in reviews_of(store.conn, calls.inbound)] == ["approved", "flagged"]
    assert set(latest_reviews(store.conn)) == {calls.inbound}


def test_the_crm_side_of_a_review_is_reported(store: Store, calls: SeededCalls) -> None:
    review = record_review(store.conn, calls.missed, "flagged", "Appel interdit", "lead-1", AT)
    store.conn.execute(
        "UPDATE outbox SET state = 'parked', last_error = 'comment too long for the CRM' WHERE entity_id = ?",
        (review.external_id,),
    )
    found = latest_reviews(store.conn, [calls.missed])[calls.missed]
    assert (found.sync, found.sync_error) == ("parked", "comment too long for the CRM")


def test_a_review_of_a_call_known_only_to_the_crm(store: Store) -> None:
    review = record_review(store.conn, "remote-uid-1", "approved", None, "lead-1", AT)
    assert review.comment is None
    assert [entity for entity, _payload in queued_reviews(store.conn)] == ["remote-uid-1:review:1"]


@pytest.mark.parametrize(
    ("uid", "state", "comment", "reviewer", "at", "message"),
    [
        ("", "approved", None, "lead", AT, "the call's uid is empty"),
        ("u", "ok", None, "lead", AT, "review state: unknown 'ok'"),
        ("u", "approved", None, " ", AT, "the reviewer is empty"),
        ("u", "approved", None, "lead", AT.replace(tzinfo=None), "give the offset"),
        ("u", "flagged", "   ", "lead", AT, "a flag needs a comment"),
        ("u", "approved", "x" * 2001, "lead", AT, "2001 characters, at most 2000"),
    ],
)
def test_bad_reviews_are_refused_and_nothing_is_queued(
    store: Store, uid: str, state: str, comment: str | None, reviewer: str, at: dt.datetime, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        record_review(store.conn, uid, state, comment, reviewer, at)
    assert store.conn.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
    assert queued_reviews(store.conn) == []


def test_a_failed_enqueue_leaves_no_review(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: sqlite3.Connection, payload: object) -> None:
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr("desktop.core.store.reviews.enqueue", broken)
    with pytest.raises(sqlite3.OperationalError):
        record_review(store.conn, "u", "approved", None, "lead", AT)
    assert store.conn.execute("SELECT count(*) FROM reviews").fetchone() == (0,)


def test_alerts_from_the_stored_calls_newest_first(store: Store, calls: SeededCalls) -> None:
    alerts = local_alerts(store.conn)
    assert [(alert.kind, alert.interaction_uid) for alert in alerts] == [
        ("objection", calls.objected),  # recorded from the CLI during the call (no link: the call's window)
        ("dialled_against_forbidden", calls.objected),  # consent withdrawn on the 24th, dialled on the 27th
        ("dialled_against_forbidden", calls.missed),  # no consent at all, not answered
        ("withdrawal", calls.withdrawn),  # said during the call: allowed at dialling, so no dialling alert
    ]
    objection, redialled, missed, withdrawal = alerts
    assert objection.at == dt.datetime(2026, 11, 27, 10, 30, 40, tzinfo=PARIS)
    assert (objection.agent_id, objection.number, objection.source) == ("agent-9", CONSENTED, "local")
    assert (redialled.reason_code, redialled.answered) == ("CONSENT_REVOKED", True)
    assert (missed.number, missed.reason_code, missed.answered) == (UNKNOWN, "NO_VALID_CONSENT", False)
    assert withdrawal.at == dt.datetime(2026, 11, 24, 10, 30, 14, tzinfo=PARIS)
    assert local_alerts(store.conn, limit=1)[0].kind == "objection"
    with pytest.raises(InputError, match="limit: must be positive"):
        local_alerts(store.conn, limit=0)


def test_no_alert_for_inbound_or_non_commercial_calls(store: Store, calls: SeededCalls) -> None:
    # A forbidden decision out of the canvassing scope is no commercial call: no alert (inbound calls never are).
    store.conn.execute("DROP TRIGGER decisions_append_only_update")
    store.conn.execute("UPDATE decisions SET scope = 'out_of_scope' WHERE number = ?", (UNKNOWN,))
    uids = [alert.interaction_uid for alert in local_alerts(store.conn) if alert.kind == "dialled_against_forbidden"]
    assert uids == [calls.objected]
    assert calls.inbound not in {alert.interaction_uid for alert in local_alerts(store.conn)}


def test_local_uids(store: Store, calls: SeededCalls) -> None:
    assert local_uids(store.conn, [calls.inbound, "elsewhere", calls.inbound]) == {calls.inbound}
    assert local_uids(store.conn, []) == set()
