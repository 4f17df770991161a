"""The Dynamics 365 / Dataverse connector against the documentation-based fake (tests/fakes/dynamics.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from desktop.config import Crm
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.connectors.dynamics import DynamicsConnector
from desktop.core.crm.contract import AuthError, Connector, TransientError
from desktop.core.errors import InputError
from tests.fakes import consent_event, interaction, review
from tests.fakes.dynamics import FakeDynamics, err

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeDynamics]:
    server = FakeDynamics(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dyn(fake: FakeDynamics) -> Iterator[DynamicsConnector]:
    fake.reset()
    connector = DynamicsConnector.from_settings(Crm(connector="dynamics", endpoint=fake.url, timeout_s=5), TOKEN)
    yield connector
    connector.close()


def test_made_by_name_and_settings_errors(fake: FakeDynamics) -> None:
    connector = make_connector(Crm(connector="dynamics", endpoint=fake.url), TOKEN)
    assert isinstance(connector, DynamicsConnector) and isinstance(connector, Connector)
    connector.close()
    with pytest.raises(InputError, match=r"^crm.endpoint: missing \(the Dataverse organisation URL"):
        DynamicsConnector.from_settings(Crm(connector="dynamics"), TOKEN)
    with pytest.raises(InputError, match=r"^dynamics: no access token in the OS keyring"):
        DynamicsConnector.from_settings(Crm(connector="dynamics", endpoint=fake.url), None)


def test_push_creates_once_then_duplicate(dyn: DynamicsConnector, fake: FakeDynamics) -> None:
    first = dyn.push_interactions([interaction(1), interaction(2)])
    assert [r.status for r in first] == ["created", "created"] and all(r.remote_id for r in first)
    again = dyn.push_interactions([interaction(1)])
    assert again[0].status == "duplicate" and again[0].remote_id == first[0].remote_id
    assert len(fake.tables["phonecalls"]) == 2
    call = fake.tables["phonecalls"][str(first[0].remote_id)]
    assert call["directioncode"] is True and call["actualdurationminutes"] == 5
    assert call["phonenumber"] == interaction(1).number


def test_per_item_validation_error_keeps_the_rest(dyn: DynamicsConnector, fake: FakeDynamics) -> None:
    fake.fail_next(
        400,
        err("0x80044331", "A validation error occurred. The value of 'aa_kind' is outside the valid range."),
        path=r"aa_consentevents\(aa_externalid='poste-1:2'\)",
    )
    results = dyn.push_consent_events([consent_event(1), consent_event(2), consent_event(3)])
    assert [r.status for r in results] == ["created", "rejected", "created"]
    assert (results[1].message or "").lower() == (
        "dynamics: http 400 bad request: a validation error occurred. the value of 'aa_kind' is outside the valid range."
        " (0x80044331)"
    )
    assert len(fake.tables["aa_consentevents"]) == 2


def test_throttling_429_with_hex_code(dyn: DynamicsConnector, fake: FakeDynamics) -> None:
    fake.fail_next(
        429,
        err("0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds."),
        headers={"Retry-After": "42"},
    )
    with pytest.raises(TransientError, match="0x80072322") as caught:
        dyn.push_interactions([interaction(1)])
    assert caught.value.retry_after == 42.0
    assert fake.tables["phonecalls"] == {}


def test_non_json_error_and_auth_failure(dyn: DynamicsConnector, fake: FakeDynamics) -> None:
    fake.fail_next(503, "<html><body>Service Unavailable</body></html>")
    with pytest.raises(TransientError, match="HTTP 503"):
        dyn.push_interactions([interaction(1)])
    wrong = DynamicsConnector.from_settings(Crm(connector="dynamics", endpoint=fake.url), "expired")
    with pytest.raises(AuthError, match=r"(?i)^dynamics: HTTP 401 Unauthorized$"):
        wrong.push_interactions([interaction(1)])
    assert not wrong.health().ok
    wrong.close()


def test_opt_out_mirrors_donotphone(dyn: DynamicsConnector, fake: FakeDynamics) -> None:
    number = consent_event(1).number
    c1, c2 = str(uuid.uuid4()), str(uuid.uuid4())
    fake.tables["contacts"][c1] = {"contactid": c1, "aa_phonee164": number, "donotphone": False, "_version": 0}
    fake.tables["contacts"][c2] = {"contactid": c2, "aa_phonee164": "+33100000000", "donotphone": False, "_version": 0}
    dyn.push_consent_events([consent_event(1, "withdrawn")])
    assert fake.tables["contacts"][c1]["donotphone"] is True
    assert fake.tables["contacts"][c2]["donotphone"] is False


def test_pull_delta_link_progression(dyn: DynamicsConnector) -> None:
    dyn.push_consent_events([consent_event(n) for n in range(5)])
    page = dyn.pull_consent_changes(None, limit=3)
    assert [c.external_id for c in page.changes] == ["poste-1:0", "poste-1:1", "poste-1:2"] and page.more
    page = dyn.pull_consent_changes(page.cursor, limit=3)
    assert [c.external_id for c in page.changes] == ["poste-1:3", "poste-1:4"] and not page.more
    assert page.changes[0] == consent_event(3)
    assert dyn.pull_consent_changes(page.cursor).changes == []
    dyn.push_consent_events([consent_event(8)])
    latest = dyn.pull_consent_changes(page.cursor)
    assert [c.external_id for c in latest.changes] == ["poste-1:8"]
    with pytest.raises(InputError, match="not a delta link"):
        dyn.pull_consent_changes("https://elsewhere.example/api/data/v9.2/aa_consentevents?$deltatoken=1")


def test_reviews_and_list_interactions(dyn: DynamicsConnector) -> None:
    dyn.push_interactions([interaction(1), interaction(2)])
    assert dyn.push_reviews([review(5)])[0].status == "retry"
    assert dyn.push_reviews([review(1, "flagged")])[0].status == "created"
    assert dyn.push_reviews([review(1, "flagged")])[0].status == "duplicate"
    listed = {i.external_id: i for i in dyn.list_interactions()}
    assert listed["call-1"].review_state == "flagged" and listed["call-1"].summary == interaction(1).summary
    assert listed["call-2"].review_state == "pending"
    assert [i.external_id for i in dyn.list_interactions(review_state="pending")] == ["call-2"]


def test_health(dyn: DynamicsConnector) -> None:
    health = dyn.health()
    assert health.ok and health.message == "burst requests remaining: 5999"
