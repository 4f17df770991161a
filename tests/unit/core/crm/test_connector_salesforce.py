"""The Salesforce connector against the documentation-based fake (tests/fakes/salesforce.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from desktop.config import Crm
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.connectors.salesforce import SalesforceConnector
from desktop.core.crm.contract import AuthError, Connector, RejectedError, TransientError
from desktop.core.crm.http import SALESFORCE_LIMIT_WAIT_S
from desktop.core.errors import InputError
from tests.fakes import consent_event, interaction, review
from tests.fakes import salesforce as module
from tests.fakes.salesforce import FakeSalesforce

TOKEN = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog7"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sf(fake: FakeSalesforce) -> Iterator[SalesforceConnector]:
    fake.reset()
    connector = SalesforceConnector.from_settings(
        Crm(connector="salesforce", endpoint=fake.url, timeout_s=5, pull_overlap_s=5), TOKEN
    )
    yield connector
    connector.close()


def test_made_by_name_and_settings_errors(fake: FakeSalesforce) -> None:
    connector = make_connector(Crm(connector="salesforce", endpoint=fake.url), TOKEN)
    assert isinstance(connector, SalesforceConnector) and isinstance(connector, Connector)
    connector.close()
    with pytest.raises(InputError, match=r"^crm.endpoint: missing \(the Salesforce My Domain URL"):
        SalesforceConnector.from_settings(Crm(connector="salesforce"), TOKEN)
    with pytest.raises(InputError, match=r"^salesforce: no access token in the OS keyring"):
        SalesforceConnector.from_settings(Crm(connector="salesforce", endpoint=fake.url), "")


def test_push_creates_call_tasks_once(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    fake.table("Contact")["003C"] = {"Id": "003C", "LastName": "Dupont", "AA_Phone_E164__c": interaction(1).number}
    first = sf.push_interactions([interaction(1), interaction(2)])
    assert [r.status for r in first] == ["created", "created"]
    again = sf.push_interactions([interaction(1)])
    assert again[0].status == "duplicate" and again[0].remote_id == first[0].remote_id
    tasks = list(fake.table("Task").values())
    assert len(tasks) == 2
    task = fake.table("Task")[str(first[0].remote_id)]
    assert task["TaskSubtype"] == "Call" and task["CallType"] == "Outbound" and task["Status"] == "Completed"
    assert task["CallDurationInSeconds"] == 312 and task["CallDisposition"] == "callback_scheduled"
    assert task["WhoId"] == "003C" and "Motif : Demande de rappel" in task["Description"]
    assert fake.count("POST", r"/composite/sobjects$") == 1, "the re-push is found by the lookup, not re-created"


def test_lost_response_then_duplicate_value_is_resolved(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    sf.push_interactions([interaction(3)])
    # The lookup misses (a read replica lagging, say) and the create hits the unique external id.
    fake.fail_next(200, {"totalSize": 0, "done": True, "records": []}, path=r"/query$")
    result = sf.push_interactions([interaction(3)])
    assert result[0].status == "duplicate" and result[0].remote_id
    assert len(fake.table("Task")) == 1


def test_batch_partial_failure_per_record(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    # An org whose CallType picklist lacks Outbound: per-record error with Salesforce's words.
    saved = module.PICKLISTS[("Task", "CallType")]
    module.PICKLISTS[("Task", "CallType")] = {"Inbound"}
    try:
        results = sf.push_interactions([interaction(7, direction="inbound"), interaction(8)])
    finally:
        module.PICKLISTS[("Task", "CallType")] = saved
    assert [r.status for r in results] == ["created", "rejected"]
    assert results[1].message == (
        "salesforce: CallType: bad value for restricted picklist field: Outbound (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST)"
    )
    assert len(fake.table("Task")) == 1


def test_request_limit_403_is_transient(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    fake.fail_next(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    with pytest.raises(TransientError, match="REQUEST_LIMIT_EXCEEDED") as caught:
        sf.push_interactions([interaction(1)])
    assert caught.value.retry_after == SALESFORCE_LIMIT_WAIT_S
    assert fake.table("Task") == {}


def test_whole_request_validation_error_and_non_json_body(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    fake.fail_next(400, [{"message": "unexpected token: 'FROM'", "errorCode": "MALFORMED_QUERY"}])
    with pytest.raises(RejectedError, match=r"unexpected token: 'FROM' \(MALFORMED_QUERY\)"):
        sf.push_interactions([interaction(1)])
    fake.fail_next(502, "<html><body>Bad Gateway</body></html>")
    with pytest.raises(TransientError, match="HTTP 502"):
        sf.push_interactions([interaction(1)])


def test_auth_failure(fake: FakeSalesforce) -> None:
    fake.reset()
    wrong = SalesforceConnector.from_settings(Crm(connector="salesforce", endpoint=fake.url), "expired")
    with pytest.raises(AuthError, match=r"Session expired or invalid \(INVALID_SESSION_ID\)"):
        wrong.push_consent_events([consent_event(1)])
    assert not wrong.health().ok
    wrong.close()


def test_consent_events_upsert_individual_consent_and_do_not_call(
    sf: SalesforceConnector, fake: FakeSalesforce
) -> None:
    number = consent_event(1).number
    fake.table("Contact")["003D"] = {"Id": "003D", "LastName": "Martin", "AA_Phone_E164__c": number, "DoNotCall": False}
    events = [consent_event(1, "withdrawn"), consent_event(2, "given")]
    first = sf.push_consent_events(events)
    assert [r.status for r in first] == ["created", "created"]
    assert [r.status for r in sf.push_consent_events(events)] == ["duplicate", "duplicate"]
    consents = fake.table("ContactPointTypeConsent")
    assert len(consents) == 2
    assert len(fake.table("Individual")) == 2
    by_id = {c["AA_External_Id__c"]: c for c in consents.values()}
    assert by_id["poste-1:1"]["PrivacyConsentStatus"] == "OptOut"
    assert by_id["poste-1:2"]["PrivacyConsentStatus"] == "OptIn"
    assert fake.table("Individual")[by_id["poste-1:1"]["PartyId"]]["AA_Phone_E164__c"] == number
    assert fake.table("Contact")["003D"]["DoNotCall"] is True


def test_pull_cursor_progression_with_overlap(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    base = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    ticks = iter(base + dt.timedelta(seconds=n) for n in range(100))
    fake.clock = lambda: next(ticks)
    try:
        sf.push_consent_events([consent_event(n) for n in range(5)])
        page = sf.pull_consent_changes(None, limit=3)
        assert [c.external_id for c in page.changes] == ["poste-1:0", "poste-1:1", "poste-1:2"] and page.more
        page = sf.pull_consent_changes(page.cursor, limit=3)
        assert [c.external_id for c in page.changes] == ["poste-1:3", "poste-1:4"] and not page.more
        assert page.changes[0] == consent_event(3)
        # The next pull re-reads the overlap window (5 s): events stamped within 5 s before the cursor.
        again = sf.pull_consent_changes(page.cursor, limit=50)
        assert {c.external_id for c in again.changes} <= {f"poste-1:{n}" for n in range(5)}
        assert "poste-1:4" in {c.external_id for c in again.changes}
        sf.push_consent_events([consent_event(9)])
        latest = sf.pull_consent_changes(again.cursor, limit=50)
        assert "poste-1:9" in {c.external_id for c in latest.changes}
    finally:
        fake.clock = lambda: dt.datetime.now(dt.UTC)


def test_pull_reads_consents_recorded_in_salesforce(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    fake.table("Individual")["0PKX"] = {"Id": "0PKX", "LastName": "x", "AA_Phone_E164__c": "+33698765432"}
    fake.table("ContactPointTypeConsent")["0ZYX"] = {
        "Id": "0ZYX",
        "PartyId": "0PKX",
        "PrivacyConsentStatus": "OptOut",
        "CaptureDate": "2026-11-20T08:00:00.000+0000",
        "SystemModstamp": "2026-11-20T08:00:00.000+0000",
        "AA_Professional__c": "Énergie Verte",
    }
    page = sf.pull_consent_changes(None)
    assert len(page.changes) == 1
    change = page.changes[0]
    assert (change.kind, change.number, change.professional) == ("withdrawn", "+33698765432", "Énergie Verte")


def test_reviews_and_list_interactions(sf: SalesforceConnector) -> None:
    sf.push_interactions([interaction(1), interaction(2)])
    sf.push_consent_events([consent_event(1)])
    assert sf.push_reviews([review(3)])[0].status == "retry"  # not in Salesforce yet
    assert sf.push_reviews([review(1, "flagged")])[0].status == "created"
    assert sf.push_reviews([review(1, "flagged")])[0].status == "duplicate"
    listed = {i.external_id: i for i in sf.list_interactions()}
    assert listed["call-1"].review_state == "flagged" and listed["call-1"].review_comment == "Bon appel"
    assert listed["call-1"].summary == interaction(1).summary
    assert [e.external_id for e in listed["call-1"].consent_events] == ["poste-1:1"]
    assert listed["call-2"].review_state == "pending"
    assert [i.external_id for i in sf.list_interactions(review_state="pending")] == ["call-2"]


def test_health_reports_api_usage(sf: SalesforceConnector, fake: FakeSalesforce) -> None:
    health = sf.health()
    assert health.ok and (health.message or "").startswith("api-usage=")
    fake.fail_next(503, None)
    assert not sf.health().ok
