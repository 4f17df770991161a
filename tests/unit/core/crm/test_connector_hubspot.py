"""The HubSpot connector against the documentation-based fake (tests/fakes/hubspot.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from desktop.config import Crm
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.connectors.hubspot import BURST_WINDOW_S, HubSpotConnector
from desktop.core.crm.contract import AuthError, Connector, RejectedError, TransientError
from desktop.core.errors import InputError
from tests.fakes import consent_event, interaction, review
from tests.fakes.hubspot import FakeHubSpot, error

TOKEN = "pat-eu1-11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHubSpot]:
    server = FakeHubSpot(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hs(fake: FakeHubSpot) -> Iterator[HubSpotConnector]:
    fake.reset()
    connector = HubSpotConnector.from_settings(Crm(connector="hubspot", endpoint=fake.url, timeout_s=5), TOKEN)
    yield connector
    connector.close()


def _calls(fake: FakeHubSpot) -> dict[str, dict[str, str]]:
    return {r["properties"]["aa_external_id"]: r["properties"] for r in fake.objects["calls"].values()}


def test_made_by_name_and_settings_errors(fake: FakeHubSpot) -> None:
    connector = make_connector(Crm(connector="hubspot", endpoint=fake.url), TOKEN)
    assert isinstance(connector, HubSpotConnector) and isinstance(connector, Connector)
    connector.close()
    with pytest.raises(InputError, match=r"^crm.endpoint: missing \(the HubSpot API root"):
        HubSpotConnector.from_settings(Crm(connector="hubspot"), TOKEN)
    with pytest.raises(InputError, match=r"^hubspot: no private app access token"):
        HubSpotConnector.from_settings(Crm(connector="hubspot", endpoint=fake.url), None)


def test_push_creates_calls_once_and_associates_contact(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    hs.push_consent_events([consent_event(1)])  # makes the contact for interaction(1)'s number
    contact_id = next(iter(fake.objects["contacts"]))
    first = hs.push_interactions([interaction(1), interaction(2)])
    assert [r.status for r in first] == ["created", "created"]
    again = hs.push_interactions([interaction(1)])
    assert again[0].status == "duplicate" and again[0].remote_id == first[0].remote_id
    calls = _calls(fake)
    assert len(calls) == 2
    props = calls["call-1"]
    assert props["hs_call_direction"] == "OUTBOUND" and props["hs_call_duration"] == "312000"
    assert props["hs_call_status"] == "COMPLETED" and props["hs_timestamp"] == "2026-11-22T09:16:00.000Z"
    assert fake.associations == [(first[0].remote_id, contact_id, 194)]


def test_207_partial_failure_is_per_item(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    fake.fail_next(
        207,
        {
            "status": "COMPLETE",
            "results": [{"id": "77", "properties": {"aa_external_id": "call-3"}, "new": True}],
            "numErrors": 1,
            "errors": [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": 'Property values were not valid: "hs_call_disposition" value for +33612340004',
                    "context": {"ids": ["call-4"]},
                }
            ],
        },
        path=r"batch/upsert$",
    )
    results = hs.push_interactions([interaction(3), interaction(4)])
    assert [r.status for r in results] == ["created", "rejected"]
    assert results[1].message == (
        'hubspot: Property values were not valid: "hs_call_disposition" value for <number> (VALIDATION_ERROR)'
    )


def test_validation_error_from_the_fake_itself(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    from tests.fakes import hubspot as module

    original = module.FakeHubSpot._validate
    module.FakeHubSpot._validate = lambda self, obj, props, creating: 'Property "hs_timestamp" is required'  # type: ignore[method-assign]
    try:
        results = hs.push_interactions([interaction(5)])
    finally:
        module.FakeHubSpot._validate = original  # type: ignore[method-assign]
    assert results[0].status == "rejected"
    assert results[0].message == 'hubspot: Property "hs_timestamp" is required (VALIDATION_ERROR)'
    assert fake.objects["calls"] == {}


def test_throttling_429(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    fake.fail_next(429, error("You have reached your secondly limit.", "RATE_LIMITS"))
    with pytest.raises(TransientError) as caught:
        hs.push_interactions([interaction(1)])
    assert caught.value.retry_after == BURST_WINDOW_S
    fake.fail_next(429, error("Daily limit reached.", "RATE_LIMITS"), headers={"Retry-After": "3600"})
    with pytest.raises(TransientError) as caught:
        hs.push_interactions([interaction(1)])
    assert caught.value.retry_after == 3600.0


def test_whole_request_400_and_non_json(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    fake.fail_next(400, error("Duplicate IDs found in batch input"))
    with pytest.raises(RejectedError, match=r"Duplicate IDs found in batch input \(VALIDATION_ERROR\)"):
        hs.push_interactions([interaction(1)])
    fake.fail_next(504, "<html><head><title>504 Gateway Time-out</title></head></html>")
    with pytest.raises(TransientError, match="HTTP 504"):
        hs.push_interactions([interaction(1)])


def test_auth_failure(fake: FakeHubSpot) -> None:
    wrong = HubSpotConnector.from_settings(Crm(connector="hubspot", endpoint=fake.url), "pat-revoked")
    with pytest.raises(AuthError, match=r"Authentication credentials not found. \(INVALID_AUTHENTICATION\)"):
        wrong.push_interactions([interaction(1)])
    wrong.close()


def test_consent_latest_wins_and_repush_is_duplicate(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    given, withdrawn = consent_event(1, "given"), consent_event(2, "withdrawn", number=consent_event(1).number)
    results = hs.push_consent_events([withdrawn, given])
    assert [r.status for r in results] == ["created", "duplicate"]  # the given one is older: superseded
    contact = next(iter(fake.objects["contacts"].values()))["properties"]
    assert contact["aa_phone_canvassing_consent"] == "withdrawn"
    assert contact["aa_consent_event_id"] == withdrawn.external_id
    assert [r.status for r in hs.push_consent_events([withdrawn])] == ["duplicate"]
    # An older event pushed later does not overwrite the newer state.
    assert [r.status for r in hs.push_consent_events([given])] == ["duplicate"]
    assert next(iter(fake.objects["contacts"].values()))["properties"]["aa_phone_canvassing_consent"] == "withdrawn"
    assert len(fake.objects["contacts"]) == 1


def test_pull_cursor_progression_and_overlap(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    base = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    ticks = iter(base + dt.timedelta(seconds=10 * n) for n in range(100))
    fake.clock = lambda: next(ticks)
    try:
        for n in range(5):
            hs.push_consent_events([consent_event(n)])
        page = hs.pull_consent_changes(None, limit=3)
        assert [c.external_id for c in page.changes] == ["poste-1:0", "poste-1:1", "poste-1:2"] and page.more
        page = hs.pull_consent_changes(page.cursor, limit=3)
        assert [c.external_id for c in page.changes] == ["poste-1:3", "poste-1:4"] and not page.more
        assert page.changes[0] == consent_event(3)
        again = hs.pull_consent_changes(page.cursor, limit=3)  # overlap: the last one again, nothing older
        assert [c.external_id for c in again.changes] == ["poste-1:4"]
        hs.push_consent_events([consent_event(7)])
        assert [c.external_id for c in hs.pull_consent_changes(again.cursor).changes] == ["poste-1:4", "poste-1:7"]
    finally:
        fake.clock = lambda: dt.datetime.now(dt.UTC)


def test_pull_restarts_the_query_before_the_10k_cap(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    from desktop.core.crm.connectors import hubspot as module

    saved = module.SEARCH_CAP
    module.SEARCH_CAP = 4  # the same logic as 10,000, with five contacts
    try:
        for n in range(5):
            hs.push_consent_events([consent_event(n)])
        seen: list[str] = []
        cursor = None
        for _ in range(6):
            page = hs.pull_consent_changes(cursor, limit=2)
            seen.extend(c.external_id for c in page.changes)
            cursor = page.cursor
            if not page.more:
                break
        assert {f"poste-1:{n}" for n in range(5)} <= set(seen)
        assert fake.count("POST", r"contacts/search") >= 3
    finally:
        module.SEARCH_CAP = saved


def test_pull_reads_state_set_by_hand_in_hubspot(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    fake.objects["contacts"]["9"] = {
        "id": "9",
        "properties": {
            "aa_phone_e164": "+33698765432",
            "aa_phone_canvassing_consent": "refused",
            "aa_phone_consent_at": "2026-11-20T08:00:00.000Z",
            "aa_phone_consent_professional": "Énergie Verte",
            "lastmodifieddate": "2026-11-20T08:00:01.000Z",
        },
    }
    change = hs.pull_consent_changes(None).changes[0]
    assert (change.kind, change.number, change.professional) == ("objection", "+33698765432", "Énergie Verte")


def test_reviews_and_list_interactions(hs: HubSpotConnector) -> None:
    hs.push_interactions([interaction(1), interaction(2)])
    assert hs.push_reviews([review(9)])[0].status == "retry"
    assert hs.push_reviews([review(1, "approved")])[0].status == "created"
    assert hs.push_reviews([review(1, "approved")])[0].status == "duplicate"
    listed = {i.external_id: i for i in hs.list_interactions()}
    assert listed["call-1"].review_state == "approved" and listed["call-1"].review_comment == "Bon appel"
    assert listed["call-2"].review_state == "pending" and listed["call-2"].transcript == interaction(2).transcript
    assert [i.external_id for i in hs.list_interactions(review_state="pending")] == ["call-2"]


def test_health(hs: HubSpotConnector, fake: FakeHubSpot) -> None:
    health = hs.health()
    assert health.ok and (health.message or "").startswith("daily requests remaining: ")
    fake.fail_next(500, None)
    assert not hs.health().ok
