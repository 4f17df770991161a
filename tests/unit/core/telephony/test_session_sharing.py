"""The call desk of a station that shares consent with a CRM: stale data forbids, a withdrawal leaves for the CRM."""

from __future__ import annotations

import dataclasses
import datetime as dt

from desktop.core.consent.engine import Decision
from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import ConsentEventPayload
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import set_last_consent_pull
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, CallSession, StationDefaults

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
NUMBER = "+33639980001"
SYNCING = StationDefaults(
    professional="ACME Énergie SAS",
    product="electricity",
    caller_id="+33162000001",
    agent_id="agent-7",
    station_id="desk-12",
    crm_sync=True,
)


def _desk(store: Store, policy: Policy, defaults: StationDefaults = SYNCING) -> CallDesk:
    record = ConsentRecord(
        number=NUMBER,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf",
        text_shown="J'accepte.",
    )
    record_consent(store.conn, record, source="test", share=False)
    return CallDesk(store.conn, policy, defaults)


def _dial(desk: CallDesk, call_id: str) -> CallSession:
    change = desk.handle(CallEvent(kind="dialing", at=T0, call_id=call_id, number=NUMBER))
    assert change is not None
    return change.session


def _decision(session: CallSession) -> Decision:
    assert session.decision is not None
    return session.decision


def test_never_pulled_forbids_the_call_then_a_pull_allows_it(store: Store, policy: Policy) -> None:
    desk = _desk(store, policy)
    session = _dial(desk, "c1")
    assert _decision(session).codes[0] == "CONSENT_DATA_STALE"
    with transaction(store.conn):
        set_last_consent_pull(store.conn, T0 - dt.timedelta(minutes=1))
    desk.evaluate(session)
    assert _decision(session).verdict == "allowed"


def test_without_a_crm_nothing_is_stale(store: Store, policy: Policy) -> None:
    desk = _desk(store, policy, dataclasses.replace(SYNCING, crm_sync=False))
    assert _decision(_dial(desk, "c1")).verdict == "allowed"


def test_a_withdrawal_during_the_call_is_queued_under_the_station_s_name(store: Store, policy: Policy) -> None:
    with transaction(store.conn):
        set_last_consent_pull(store.conn, T0 - dt.timedelta(minutes=1))
    desk = _desk(store, policy)
    session = _dial(desk, "c1")
    desk.record_withdrawal(session, at=T0 + dt.timedelta(minutes=2), segment=4)
    [(body,)] = store.conn.execute("SELECT payload FROM outbox WHERE kind = 'consent_event'").fetchall()
    payload = ConsentEventPayload.model_validate_json(body)
    assert payload.kind == "withdrawn" and payload.source == "agent-assist:desk-12"
    assert payload.external_id.startswith("desk-12:")
    assert payload.interaction_id == session.uid
