"""A validated summary queues its call for the CRM in the same transaction, with what the CRM must know."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest

from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import InteractionPayload
from desktop.core.crm.payloads import interaction_payload, station_name
from desktop.core.errors import NotFoundError
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, StationDefaults

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
ALLOWED = "+33639980001"  # has a consent
UNKNOWN = "+33639980002"  # no consent: forbidden for canvassing
DEFAULTS = StationDefaults(
    professional="ACME Énergie SAS",
    product="electricity",
    caller_id="+33162000001",
    agent_id="agent-7",
    station_id="poste-12",
)


def ev(kind: str, seconds: float = 0, **values: object) -> CallEvent:
    return CallEvent(kind=kind, at=T0 + dt.timedelta(seconds=seconds), **values)  # type: ignore[arg-type]


@pytest.fixture
def desk(store: Store, policy: Policy) -> CallDesk:
    record = ConsentRecord(
        number=ALLOWED,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf",
        text_shown="J'accepte.",
    )
    record_consent(store.conn, record, source="test")
    return CallDesk(store.conn, policy, DEFAULTS)


def queued(store: Store) -> list[InteractionPayload]:
    return [
        InteractionPayload.model_validate_json(row[0])
        for row in store.conn.execute("SELECT payload FROM outbox WHERE kind = 'interaction' ORDER BY id")
    ]


def call(desk: CallDesk, number: str, call_id: str) -> object:
    change = desk.handle(ev("dialing", call_id=call_id, number=number))
    assert change is not None
    desk.handle(ev("answered", 4, call_id=call_id))
    desk.add_segment(change.session, "agent", "Bonjour, ACME Énergie.", 4.1, 5.0)
    desk.add_segment(change.session, "customer", "Ma carte est [CARTE].", 5.2, 6.0)
    desk.handle(ev("ended", 64, call_id=call_id))
    return change.session


def test_validating_queues_the_call_with_its_verdict_summary_and_transcript(desk: CallDesk, store: Store) -> None:
    session = call(desk, ALLOWED, "c1")
    summary = {"reason": "Offre électricité", "disposition": "sale"}
    desk.save_summary(session, summary, validated_by=None)  # type: ignore[arg-type]
    assert queued(store) == []  # a draft is not sent
    desk.save_summary(session, summary, validated_by="agent-7")  # type: ignore[arg-type]
    [payload] = queued(store)
    assert payload.external_id == session.uid  # type: ignore[attr-defined]
    assert (payload.station, payload.number, payload.direction) == ("poste-12", ALLOWED, "outbound")
    assert (payload.verdict, payload.disposition, payload.summary) == ("allowed", "sale", summary)
    assert payload.reason is not None and payload.duration_s == 64
    assert [(line.speaker, line.text) for line in payload.transcript] == [
        ("agent", "Bonjour, ACME Énergie."),
        ("customer", "Ma carte est [CARTE]."),
    ]
    assert payload.dialled_against_forbidden is False
    assert payload.started_at == T0 and payload.ended_at == T0 + dt.timedelta(seconds=64)


def test_a_call_dialled_against_forbidden_says_so(desk: CallDesk, store: Store) -> None:
    session = call(desk, UNKNOWN, "c2")
    assert session.decision.verdict == "forbidden"  # type: ignore[attr-defined]
    desk.save_summary(session, {"reason": "x"}, validated_by="agent-7")  # type: ignore[arg-type]
    [payload] = queued(store)
    assert payload.verdict == "forbidden" and payload.dialled_against_forbidden is True


def test_a_withdrawal_during_an_allowed_call_is_not_a_forbidden_dial(desk: CallDesk, store: Store) -> None:
    session = call(desk, ALLOWED, "c3")
    desk.record_withdrawal(session, at=T0 + dt.timedelta(seconds=30), segment=1)  # type: ignore[arg-type]
    desk.save_summary(session, {"reason": "x"}, validated_by="agent-7")  # type: ignore[arg-type]
    payload = queued(store)[-1]
    assert payload.verdict == "forbidden" and payload.dialled_against_forbidden is False


def test_the_outbox_row_rolls_back_with_the_summary(
    desk: CallDesk, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = call(desk, ALLOWED, "c4")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("desktop.core.telephony.session.enqueue", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        desk.save_summary(session, {"reason": "x"}, validated_by="agent-7")  # type: ignore[arg-type]
    assert store.conn.execute("SELECT count(*) FROM summaries").fetchone()[0] == 0
    assert store.conn.execute("SELECT state FROM interactions").fetchone()[0] == "wrap_up"


def test_validating_twice_queues_the_new_content_once(desk: CallDesk, store: Store) -> None:
    session = call(desk, ALLOWED, "c5")
    desk.save_summary(session, {"reason": "x"}, validated_by="agent-7")  # type: ignore[arg-type]
    desk.save_summary(session, {"reason": "x"}, validated_by="agent-7")  # type: ignore[arg-type]
    assert len(queued(store)) == 1
    row = store.conn.execute("SELECT payload FROM outbox WHERE kind = 'interaction'").fetchone()
    assert json.loads(row[0])["summary"] == {"reason": "x"}


def test_station_name_defaults_to_the_host_name(store: Store) -> None:
    assert station_name("poste-3") == "poste-3"
    assert station_name(None) == socket.gethostname()
    with pytest.raises(NotFoundError):
        interaction_payload(store.conn, 42, station="x")
