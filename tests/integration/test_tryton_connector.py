"""TrytonConnector against a real Tryton 8.2 (SQLite) with the agent_assist module: one session server, unique
numbers and external ids per test."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
import threading
from typing import Any

import httpx
import pytest

from desktop.config import Crm
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.connectors.tryton import TrytonConnector, party_code
from desktop.core.crm.contract import (
    AuthError,
    ConsentEventPayload,
    InteractionPayload,
    ReviewPayload,
    TranscriptLine,
    TransientError,
)
from desktop.core.errors import InputError
from integrations.tryton.server import TrytonHandle
from tests.integration.tryton_support import unique_id, unique_number

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, 15, 250000, tzinfo=PARIS)
SUMMARY: dict[str, Any] = {
    "reason": "Contestation d'une facture d'électricité",
    "actions": ["Vérification de la facture de novembre"],
    "resolution": "resolved",
    "next_steps": [{"owner": "company", "action": "Envoyer l'avoir", "due": "2026-11-30"}],
    "disposition": "resolved",
    "consent_events": [{"kind": "withdrawal", "at": "2026-11-24T10:32:00+01:00", "segment": 4}],
    "entities": {"amounts_eur": [42.5], "dates": ["2026-11-30"], "times": [], "references": ["F-2026-11-0042"]},
    "opening_disclosure": {
        "identity": True,
        "on_behalf_of": True,
        "commercial_nature": True,
        "recording_notice": True,
    },
    "generated_by": {"method": "extractive", "model": None},
}


def interaction(number: str | None = None, **changes: Any) -> InteractionPayload:
    values: dict[str, Any] = {
        "external_id": unique_id("call"),
        "station": "poste-12",
        "number": number or unique_number(),
        "direction": "inbound",
        "professional": "ACME Énergie SAS",
        "product": "electricity",
        "agent_id": "agent-7",
        "started_at": T0,
        "answered_at": T0 + dt.timedelta(seconds=4),
        "ended_at": T0 + dt.timedelta(seconds=190),
        "duration_s": 186,
        "verdict": "allowed",
        "reason": "R4_CONSENT_VALID",
        "disposition": "resolved",
        "summary": SUMMARY,
        "transcript": [
            TranscriptLine(speaker="agent", start=0.0, end=2.5, text="Bonjour, ACME Énergie, Paul à l'appareil."),
            TranscriptLine(speaker="customer", start=2.9, end=6.1, text="Ne m'appelez plus, s'il vous plaît."),
        ],
    }
    values.update(changes)
    return InteractionPayload(**values)


def consent_event(number: str, kind: str = "withdrawn", **changes: Any) -> ConsentEventPayload:
    values: dict[str, Any] = {
        "external_id": unique_id("poste-12"),
        "kind": kind,
        "number": number,
        "professional": "ACME Énergie SAS",
        "products": ["electricity"],
        "occurred_at": T0 + dt.timedelta(minutes=2),
        "source": "agent-assist:poste-12",
    }
    values.update(changes)
    return ConsentEventPayload(**values)


def rest(tryton: TrytonHandle, model: str, domain: list[Any], *fields: str) -> list[dict[str, Any]]:
    """What Tryton holds, read without the connector."""
    params: list[tuple[str, str]] = [("d", base64.urlsafe_b64encode(json.dumps(domain).encode()).decode())]
    params += [("f", name) for name in fields]
    response = httpx.get(
        f"{tryton.endpoint}/rest/model/{model}",
        params=params,
        headers={"Authorization": f"Bearer {tryton.key}"},
        timeout=10,
    )
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_push_creates_once_and_same_external_id_is_a_duplicate(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    call = interaction()
    first = tryton_connector.push_interactions([call])
    again = tryton_connector.push_interactions([call])

    assert first[0].status == "created" and first[0].remote_id
    assert again[0].status == "duplicate" and again[0].remote_id == first[0].remote_id
    rows = rest(tryton, "agent_assist.call", [["external_id", "=", call.external_id]], "duration", "party.code")
    assert len(rows) == 1
    assert rows[0]["duration"] == 186 and rows[0]["party"]["code"] == party_code(call.number)


def test_batch_answers_each_item_in_order_with_one_request_for_the_new_ones(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    number = unique_number()
    known = interaction(number)
    tryton_connector.push_interactions([known])
    batch = [interaction(number), known, interaction(), interaction(number)]

    results = tryton_connector.push_interactions(batch)

    assert [r.external_id for r in results] == [p.external_id for p in batch]
    assert [r.status for r in results] == ["created", "duplicate", "created", "created"]
    assert len({r.remote_id for r in results}) == 4
    parties = rest(tryton, "party.party", [["code", "=", party_code(number)]], "code")
    assert len(parties) == 1  # one person for the three calls of this number


def test_lost_response_after_commit_resolves_as_duplicate(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    calls = [interaction(), interaction()]
    committed = tryton_connector.push_interactions(calls)  # the CRM committed, but say the answer never came
    fresh_station = TrytonConnector(tryton.endpoint, tryton.key)  # the retry after a restart: no cache at all
    try:
        retried = fresh_station.push_interactions(calls)
    finally:
        fresh_station.close()

    assert [r.status for r in retried] == ["duplicate", "duplicate"]
    assert [r.remote_id for r in retried] == [r.remote_id for r in committed]
    for call in calls:
        assert len(rest(tryton, "agent_assist.call", [["external_id", "=", call.external_id]])) == 1


def test_created_meanwhile_by_another_station_is_a_duplicate(
    tryton: TrytonHandle, tryton_connector: TrytonConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refused batch's lookup does not see the record yet (it commits meanwhile): the items are created one by
    one, and the unique constraint's refusal of the raced one is resolved as a duplicate."""
    raced, other = interaction(), interaction()
    other_station = TrytonConnector(tryton.endpoint, tryton.key)
    try:
        winner = other_station.push_interactions([raced])[0]
    finally:
        other_station.close()
    monkeypatch.setattr(tryton_connector, "_ids_by_external_id", _stale_first_lookup(tryton_connector))

    results = tryton_connector.push_interactions([raced, other])

    assert [r.status for r in results] == ["duplicate", "created"]
    assert results[0].remote_id == winner.remote_id
    assert len(rest(tryton, "agent_assist.call", [["external_id", "=", raced.external_id]])) == 1


def _stale_first_lookup(connector: TrytonConnector) -> Any:
    real = connector._ids_by_external_id
    calls = {"n": 0}

    def lookup(model: str, external_ids: Any) -> dict[str, int]:
        calls["n"] += 1
        return {} if calls["n"] == 1 else real(model, external_ids)

    return lookup


def test_validation_error_is_rejected_with_trytons_message_and_the_rest_goes_through(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    bad = interaction(duration_s=-5)
    ends_early = interaction(ended_at=T0 - dt.timedelta(minutes=1))
    good = interaction()

    results = tryton_connector.push_interactions([bad, good, ends_early])

    assert [r.status for r in results] == ["rejected", "created", "rejected"]
    assert results[0].message == "tryton: HTTP 400 BAD REQUEST: The duration of a call cannot be negative."
    assert results[2].message is not None and "cannot end before it started" in results[2].message
    assert "\n" not in results[2].message
    assert rest(tryton, "agent_assist.call", [["external_id", "in", [bad.external_id, ends_early.external_id]]]) == []


def test_wrong_key_is_an_auth_error(tryton: TrytonHandle) -> None:
    connector = TrytonConnector(tryton.endpoint, "0" * 128)
    try:
        with pytest.raises(AuthError, match="401"):
            connector.push_interactions([interaction()])
        health = connector.health()
    finally:
        connector.close()
    assert health.ok is False and health.message is not None and "401" in health.message


def test_consent_pull_returns_each_change_once_across_pages(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    number = unique_number()
    first = [consent_event(number, occurred_at=T0 + dt.timedelta(seconds=i)) for i in range(7)]
    assert {r.status for r in tryton_connector.push_consent_events(first[:4])} == {"created"}
    assert {r.status for r in tryton_connector.push_consent_events(first[4:])} == {"created"}
    ours = {event.external_id for event in first}

    seen, cursor = _pull_all(tryton_connector, None, limit=3)
    mine = [change for change in seen if change.external_id in ours]
    assert sorted(c.external_id for c in mine) == sorted(ours)  # each once, none missing
    assert mine[0].number == number and mine[0].kind == "withdrawn" and mine[0].products == ["electricity"]

    later = [consent_event(number, kind="objection"), consent_event(number, kind="given", consent={"method": "web"})]
    tryton_connector.push_consent_events(later)
    other_station = TrytonConnector(tryton.endpoint, tryton.key)  # the cursor is opaque and portable
    try:
        seen_after, _ = _pull_all(other_station, cursor, limit=3)
    finally:
        other_station.close()
    assert [c.external_id for c in seen_after if c.number == number] == [e.external_id for e in later]
    assert seen_after[-1].consent == {"method": "web"}


def test_consent_pull_overlap_catches_a_change_committed_late(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    """On PostgreSQL a row can commit after a newer one was read; it carries an older create_date. Written here
    straight into the database, 2 s before the newest change read: inside the 5 s overlap window."""
    number = unique_number()
    [pushed] = tryton_connector.push_consent_events([consent_event(number)])
    _, cursor = _pull_all(tryton_connector, None, limit=50)
    late_id = unique_id("late")
    _insert_late_consent(tryton, pushed.remote_id, late_id, seconds_before=2.0)
    too_late_id = unique_id("too-late")
    _insert_late_consent(tryton, pushed.remote_id, too_late_id, seconds_before=60.0)

    changes, _ = _pull_all(tryton_connector, cursor, limit=50)

    ids = [change.external_id for change in changes]
    assert ids.count(late_id) == 1
    assert too_late_id not in ids  # older than the window: the documented limit of the overlap


def _pull_all(connector: TrytonConnector, cursor: str | None, limit: int) -> tuple[list[ConsentEventPayload], str]:
    changes: list[ConsentEventPayload] = []
    for _ in range(1000):
        page = connector.pull_consent_changes(cursor, limit)
        assert len(page.changes) <= limit
        changes.extend(page.changes)
        assert page.cursor is not None
        cursor = page.cursor
        if not page.more:
            return changes, cursor
    raise AssertionError("the pull never ended")


def _insert_late_consent(tryton: TrytonHandle, model_id: str | None, external_id: str, seconds_before: float) -> None:
    database = tryton.home / "db" / f"{tryton.database}.sqlite"
    with sqlite3.connect(database, timeout=10) as conn:
        party, newest = conn.execute(
            "SELECT party, (SELECT MAX(create_date) FROM agent_assist_consent) FROM agent_assist_consent WHERE id = ?",
            (int(model_id or 0),),
        ).fetchone()
        created = dt.datetime.fromisoformat(newest) - dt.timedelta(seconds=seconds_before)
        conn.execute(
            "INSERT INTO agent_assist_consent (external_id, party, kind, professional, products, occurred_at, source,"
            " create_date, create_uid) VALUES (?, ?, 'objection', 'ACME Énergie SAS', '[]', ?, 'crm', ?, 1)",
            (external_id, party, "2026-11-24 09:40:00", created.isoformat(" ")),
        )


def test_reviews_are_pushed_and_listed(tryton: TrytonHandle, tryton_connector: TrytonConnector) -> None:
    call = interaction()
    tryton_connector.push_interactions([call])
    flag = ReviewPayload(
        external_id=f"{call.external_id}:review:2",
        interaction_id=call.external_id,
        state="flagged",
        comment="Rappel malgré l'opposition",
        reviewer="lead-3",
        at=T0 + dt.timedelta(hours=2),
    )
    older = flag.model_copy(update={"external_id": f"{call.external_id}:review:1", "state": "approved", "at": T0})
    missing = flag.model_copy(update={"external_id": unique_id("review"), "interaction_id": unique_id("nowhere")})

    results = tryton_connector.push_reviews([flag, older, missing])

    assert [r.status for r in results] == ["created", "duplicate", "retry"]
    assert results[0].remote_id == results[1].remote_id
    listed = {i.external_id: i for i in tryton_connector.list_interactions(review_state="flagged", limit=1000)}
    assert listed[call.external_id].review_state == "flagged"
    assert listed[call.external_id].review_comment == "Rappel malgré l'opposition"
    row = rest(tryton, "agent_assist.call", [["external_id", "=", call.external_id]], "reviewer", "reviewed_at")[0]
    assert row["reviewer"] == "lead-3" and row["reviewed_at"]["hour"] == 11  # 12:30 Paris = 11:30 UTC


def test_list_interactions_brings_transcript_summary_verdict_and_consent_events(
    tryton_connector: TrytonConnector,
) -> None:
    number = unique_number()
    call = interaction(number, direction="outbound", verdict="forbidden", dialled_against_forbidden=True)
    events = [consent_event(number, interaction_id=call.external_id), consent_event(unique_number())]
    tryton_connector.push_consent_events(events)
    tryton_connector.push_interactions([call])

    listed = tryton_connector.list_interactions(since=T0 - dt.timedelta(seconds=1), limit=1000)
    [remote] = [item for item in listed if item.external_id == call.external_id]

    assert remote.number == number and remote.station == "poste-12" and remote.direction == "outbound"
    assert remote.started_at == T0 and remote.duration_s == 186 and remote.agent_id == "agent-7"
    assert remote.verdict == "forbidden" and remote.reason == "R4_CONSENT_VALID" and remote.disposition == "resolved"
    assert remote.summary == SUMMARY
    assert remote.transcript == call.transcript
    assert remote.dialled_against_forbidden is True and remote.review_state == "pending"
    assert [e.external_id for e in remote.consent_events] == [events[0].external_id]
    assert remote.consent_events[0].interaction_id == call.external_id
    assert tryton_connector.list_interactions(since=T0 + dt.timedelta(days=3650)) == []


def test_stations_creating_the_same_person_at_once_share_one_party(tryton: TrytonHandle) -> None:
    number = unique_number()
    connectors = [TrytonConnector(tryton.endpoint, tryton.key) for _ in range(4)]
    results: list[Any] = []
    barrier = threading.Barrier(len(connectors))

    def push(connector: TrytonConnector) -> None:
        barrier.wait(timeout=10)
        results.extend(connector.push_interactions([interaction(number)]))

    threads = [threading.Thread(target=push, args=(c,)) for c in connectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for connector in connectors:
        connector.close()

    assert [r.status for r in results] == ["created"] * 4
    assert len(rest(tryton, "party.party", [["code", "=", party_code(number)]])) == 1


def test_a_party_entered_in_tryton_with_the_number_is_used(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    number = unique_number()
    response = httpx.post(
        f"{tryton.endpoint}/rest/model/party.party",
        json={"name": "Jeanne Dupont", "contact_mechanisms": [["create", [{"type": "mobile", "value": number}]]]},
        headers={"Authorization": f"Bearer {tryton.key}"},
        timeout=10,
    )
    response.raise_for_status()
    call = interaction(number)

    tryton_connector.push_interactions([call])

    row = rest(tryton, "agent_assist.call", [["external_id", "=", call.external_id]], "party.name")[0]
    assert row["party"]["id"] == response.json()["id"] and row["party"]["name"] == "Jeanne Dupont"
    listed = [i for i in tryton_connector.list_interactions(limit=1000) if i.external_id == call.external_id]
    assert listed[0].number == number  # read back from the mobile, as the party has no code of ours


def test_health_of_a_running_tryton_and_of_a_dead_port(tryton: TrytonHandle, tryton_connector: TrytonConnector) -> None:
    health = tryton_connector.health()
    assert health.ok and health.connector == "tryton" and health.endpoint == tryton.endpoint
    assert health.latency_ms is not None and health.latency_ms > 0

    dead = TrytonConnector(f"http://127.0.0.1:{_closed_port()}/{tryton.database}", tryton.key)
    try:
        down = dead.health()
        with pytest.raises(TransientError, match="cannot connect"):
            dead.push_consent_events([consent_event(unique_number())])
    finally:
        dead.close()
    assert down.ok is False and down.message is not None and "cannot connect" in down.message


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_from_settings_through_the_factory(tryton: TrytonHandle) -> None:
    crm = Crm(connector="tryton", endpoint=tryton.endpoint + "/", pull_overlap_s=2.0, timeout_s=5.0)
    connector = make_connector(crm, tryton.key)
    assert isinstance(connector, TrytonConnector)
    try:
        assert connector.max_batch > 1 and connector.pull_overlap == dt.timedelta(seconds=2)
        assert connector.health().ok
    finally:
        connector.close()
    with pytest.raises(InputError, match=r"crm\.endpoint"):
        make_connector(Crm(connector="tryton"), tryton.key)
    with pytest.raises(AuthError, match="no REST key"):
        make_connector(crm, None)


def test_a_party_deleted_in_tryton_is_found_or_created_again(
    tryton: TrytonHandle, tryton_connector: TrytonConnector
) -> None:
    number = unique_number()
    tryton_connector.push_interactions([interaction(number)])  # the connector now remembers the party
    [party] = rest(tryton, "party.party", [["code", "=", party_code(number)]])
    response = httpx.delete(
        f"{tryton.endpoint}/rest/model/party.party/{party['id']}",
        headers={"Authorization": f"Bearer {tryton.key}"},
        timeout=10,
    )
    assert response.status_code == 204  # erasure: the party and its calls are gone
    call = interaction(number)

    [result] = tryton_connector.push_interactions([call])

    assert result.status == "created"
    [again] = rest(tryton, "party.party", [["code", "=", party_code(number)]])
    assert again["id"] != party["id"]
