"""Tests of the operability side of the app (logs, crashes, tray, settings, review), and the stored calls they
share: :func:`seed_calls` plays four calls through the real :class:`CallDesk`, as the app would store them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent, record_event
from desktop.core.store.db import transaction
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, StationDefaults

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
CONSENTED = "+33639980001"
INBOUND = "+33639980002"
UNKNOWN = "+33639980003"
PROFESSIONAL = "ACME Énergie SAS"


@dataclass(frozen=True)
class SeededCalls:
    """Uids of the calls :func:`seed_calls` stored, by what makes them different."""

    withdrawn: str  # 24/11 outbound, agent-7, consent withdrawn during the call, summary validated do_not_call
    inbound: str  # 25/11 inbound, agent-7, summary draft information_given
    missed: str  # 26/11 outbound, agent-9, not answered, no summary
    objected: str  # 27/11 outbound, agent-9, objection recorded from the CLI during the call, sale summary


def _at(days: float = 0, seconds: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, seconds=seconds)


def _desk(conn: sqlite3.Connection, policy: Policy, agent: str) -> CallDesk:
    defaults = StationDefaults(
        professional=PROFESSIONAL, product="electricity", caller_id="+33162000001", agent_id=agent
    )
    return CallDesk(conn, policy, defaults)


def _summary(disposition: str, reason: str, events: list[dict[str, object]]) -> dict[str, object]:
    return {
        "reason": reason,
        "actions": ["Offre présentée"],
        "resolution": "not_applicable",
        "next_steps": [{"owner": "company", "action": "Mettre à jour le CRM", "due": "2026-11-30"}],
        "disposition": disposition,
        "consent_events": events,
        "entities": {"amounts_eur": [], "dates": [], "times": [], "references": []},
        "opening_disclosure": {
            "identity": True,
            "on_behalf_of": True,
            "commercial_nature": True,
            "recording_notice": False,
        },
        "generated_by": {"method": "extractive", "model": None},
    }


def seed_calls(conn: sqlite3.Connection, policy: Policy) -> SeededCalls:
    """Store a consent for CONSENTED, then four calls through the call desk (two agents, four days)."""
    record = ConsentRecord(
        number=CONSENTED,
        professional=PROFESSIONAL,
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf-1",
        text_shown="J'accepte d'être appelé.",
    )
    record_consent(conn, record, source="test")

    desk = _desk(conn, policy, "agent-7")
    first = desk.handle(CallEvent(kind="dialing", at=_at(), call_id="c1", number=CONSENTED))
    assert first is not None
    session = first.session
    desk.handle(CallEvent(kind="answered", at=_at(seconds=4), call_id="c1"))
    desk.add_segment(session, "agent", "Bonjour, Julie d'ACME Énergie, pour une offre d'électricité.", 5.0, 9.0)
    desk.add_segment(session, "customer", "Non merci, ne m'appelez plus, je retire mon accord.", 10.0, 13.5)
    desk.record_withdrawal(session, at=_at(seconds=14), segment=1)
    desk.record_suggestion_use(session, "playbook:withdrawal-01", accepted=True, at=_at(seconds=15))
    desk.add_segment(session, "agent", "C'est noté, vous ne serez plus appelé. Bonne journée.", 14.0, 17.0)
    desk.handle(CallEvent(kind="ended", at=_at(seconds=75), call_id="c1"))
    events = [{"kind": "withdrawal", "at": _at(seconds=14).isoformat(), "segment": 1}]
    desk.save_summary(session, _summary("do_not_call", "Retrait du consentement", events), validated_by="agent-7")

    second = desk.handle(CallEvent(kind="ringing", at=_at(1), call_id="c2", number=INBOUND, direction="inbound"))
    assert second is not None
    desk.handle(CallEvent(kind="answered", at=_at(1, 3), call_id="c2"))
    desk.add_segment(second.session, "customer", "Bonjour, je voudrais connaître mon échéancier.", 4.0, 7.0)
    desk.add_segment(second.session, "agent", "Je vous l'envoie par courriel.", 7.5, 9.0)
    desk.handle(CallEvent(kind="ended", at=_at(1, 130), call_id="c2"))
    desk.save_summary(second.session, _summary("information_given", "Échéancier", []), validated_by=None)

    other = _desk(conn, policy, "agent-9")
    third = other.handle(CallEvent(kind="dialing", at=_at(2), call_id="c3", number=UNKNOWN))
    assert third is not None
    other.handle(CallEvent(kind="ended", at=_at(2, 25), call_id="c3"))

    fourth = other.handle(CallEvent(kind="dialing", at=_at(3), call_id="c4", number=CONSENTED))
    assert fourth is not None
    other.handle(CallEvent(kind="answered", at=_at(3, 5), call_id="c4"))
    other.add_segment(fourth.session, "customer", "=SOMME(A1) je ne veux plus de prospection.", 6.0, 8.0)
    with transaction(conn):  # recorded from outside the call (CLI, CRM): no link to the interaction
        record_event(
            conn,
            "objection",
            number=CONSENTED,
            professional=PROFESSIONAL,
            at=_at(3, 40),
            details={"channel": "oral", "agent": "agent-9", "scope": "marketing"},
        )
    other.handle(CallEvent(kind="ended", at=_at(3, 90), call_id="c4"))
    other.save_summary(fourth.session, _summary("sale", "=1+1 offre souscrite", []), validated_by="agent-9")
    return SeededCalls(
        withdrawn=session.uid, inbound=second.session.uid, missed=third.session.uid, objected=fourth.session.uid
    )
