from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store, open_store
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, StationDefaults

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
NUMBER = "+33639980001"
DEFAULTS = StationDefaults(
    professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001", agent_id="agent-7"
)


def ev(kind: str, seconds: float = 0, **values: object) -> CallEvent:
    return CallEvent(kind=kind, at=T0 + dt.timedelta(seconds=seconds), **values)  # type: ignore[arg-type]


@pytest.fixture
def desk(store: Store, policy: Policy) -> CallDesk:
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
    record_consent(store.conn, record, source="test")
    return CallDesk(store.conn, policy, DEFAULTS)


def states(store: Store) -> list[str]:
    return [row[0] for row in store.conn.execute("SELECT state FROM interactions ORDER BY id")]


def test_outbound_call_lifecycle(desk: CallDesk, store: Store) -> None:
    change = desk.handle(ev("dialing", call_id="c1", number=NUMBER))
    assert change is not None and change.before is None and change.after == "dialing"
    assert change.session.decision is not None and change.session.decision.verdict == "allowed"
    assert states(store) == ["dialing"]
    assert desk.handle(ev("answered", 5, call_id="c1")).after == "active"  # type: ignore[union-attr]
    desk.add_segment(change.session, "customer", "Allô ?", 5.2, 5.9)
    assert desk.handle(ev("ended", 60, call_id="c1")).after == "wrap_up"  # type: ignore[union-attr]
    assert states(store) == ["wrap_up"]
    attempt = store.conn.execute("SELECT outcome, interaction_id FROM call_attempts").fetchone()
    assert attempt == ("answered", change.session.interaction_id)
    assert store.conn.execute("SELECT speaker, text FROM transcript_segments").fetchall() == [("customer", "Allô ?")]
    desk.save_summary(change.session, {"reason": "x"}, validated_by="agent-7")
    assert states(store) == ["saved"]


def test_duplicates_and_late_events_change_nothing(desk: CallDesk) -> None:
    desk.handle(ev("ringing", call_id="c1", number=NUMBER))
    assert desk.handle(ev("ringing", 1, call_id="c1", number=NUMBER)) is None
    desk.handle(ev("answered", 2, call_id="c1"))
    assert desk.handle(ev("answered", 3, call_id="c1")) is None
    desk.handle(ev("ended", 4, call_id="c1"))
    assert desk.handle(ev("ended", 5, call_id="c1")) is None
    assert desk.handle(ev("answered", 6, call_id="c1")) is None  # out of order, after the end
    assert desk.handle(ev("ended", 7, call_id="never-seen")) is None


def test_answer_without_ring_opens_an_inbound_call(desk: CallDesk) -> None:
    change = desk.handle(ev("answered", call_id="c9", number=NUMBER))
    assert change is not None and change.after == "active" and change.session.direction == "inbound"
    assert change.session.decision is not None and change.session.decision.scope == "out_of_scope"


def test_unanswered_call_is_missed(desk: CallDesk, store: Store) -> None:
    desk.handle(ev("dialing", call_id="c1", number=NUMBER))
    assert desk.handle(ev("ended", 20, call_id="c1")).after == "missed"  # type: ignore[union-attr]
    assert store.conn.execute("SELECT outcome FROM call_attempts").fetchone() == ("no_answer",)


def test_events_without_call_id_pair_by_number(desk: CallDesk) -> None:
    first = desk.handle(ev("ringing", number=NUMBER))
    other = desk.handle(ev("ringing", 1, number="+33639980002"))
    assert first is not None and other is not None
    assert desk.handle(ev("answered", 2, number=NUMBER)).session is first.session  # type: ignore[union-attr]
    ended = desk.handle(ev("ended", 3))  # no number either: the latest open call
    assert ended is not None and ended.session is other.session and ended.after == "missed"


def test_second_call_rings_during_wrap_up(desk: CallDesk) -> None:
    first = desk.handle(ev("ringing", call_id="c1", number=NUMBER))
    desk.handle(ev("answered", 1, call_id="c1"))
    desk.handle(ev("ended", 30, call_id="c1"))
    second = desk.handle(ev("ringing", 40, call_id="c2", number="+33639980002"))
    assert first is not None and second is not None
    assert first.session.state == "wrap_up" and second.session.state == "ringing"
    desk.save_summary(first.session, {"reason": "x"}, validated_by="a")
    assert first.session.state == "saved" and second.session.state == "ringing"


def test_withdrawal_during_the_call_turns_it_forbidden(desk: CallDesk, store: Store) -> None:
    change = desk.handle(ev("dialing", call_id="c1", number=NUMBER))
    assert change is not None
    desk.handle(ev("answered", 3, call_id="c1"))
    withdrawn = desk.record_withdrawal(change.session, at=T0 + dt.timedelta(seconds=95), segment=4)
    assert withdrawn.verdict_changed
    assert change.session.decision is not None
    assert change.session.decision.verdict == "forbidden"
    assert change.session.decision.codes[0] == "CONSENT_REVOKED"
    event = store.conn.execute("SELECT kind, at FROM consent_events WHERE kind = 'withdrawn'").fetchone()
    assert event == ("withdrawn", "2026-11-24T10:31:35+01:00")


def test_open_calls_are_interrupted_after_a_crash(data_dir: Path, policy: Policy) -> None:
    with open_store(data_dir) as store:
        desk = CallDesk(store.conn, policy, DEFAULTS)
        change = desk.handle(ev("ringing", call_id="c1", number=NUMBER))
        desk.handle(ev("answered", 1, call_id="c1"))
        assert change is not None
        desk.add_segment(change.session, "customer", "Bonjour", 1.0, 2.0)
        desk.save_summary(change.session, {"reason": "brouillon"}, validated_by=None)
    with open_store(data_dir) as store:  # a new process after kill -9
        desk = CallDesk(store.conn, policy, DEFAULTS)
        assert desk.interrupted == [1]
        assert states(store) == ["interrupted"]
        assert store.conn.execute("SELECT text FROM transcript_segments").fetchall() == [("Bonjour",)]
        assert store.conn.execute("SELECT body, validated_by FROM summaries").fetchone() == (
            '{"reason": "brouillon"}',
            None,
        )


def test_a_line_refined_after_validation_reaches_the_queued_crm_payload_only_while_it_waits(
    desk: CallDesk, store: Store
) -> None:
    change = desk.handle(ev("ringing", call_id="c1", number=NUMBER))
    assert change is not None
    session = change.session
    desk.handle(ev("answered", 1, call_id="c1"))
    desk.add_segment(session, "customer", "Bonjour, je vous appelle pour ma fac", 1.0, 13.0, final=False)
    assert store.conn.execute("SELECT text, final FROM transcript_segments").fetchall() == [
        ("Bonjour, je vous appelle pour ma fac", 0)
    ]
    desk.handle(ev("ended", 14, call_id="c1"))
    desk.save_summary(session, {"reason": "facture"}, validated_by="agent-7")  # validated before the refinement

    def queued() -> list[tuple[str, str]]:
        rows = store.conn.execute("SELECT state, payload FROM outbox WHERE kind = 'interaction'").fetchall()
        return [(state, " / ".join(line["text"] for line in json.loads(body)["transcript"])) for state, body in rows]

    assert queued() == [("pending", "Bonjour, je vous appelle pour ma fac")]
    refined = desk.refine_segment(session, 0, "Bonjour, je vous appelle pour ma facture.")
    assert (refined.idx, refined.final, session.segments[0].text) == (
        0,
        True,
        "Bonjour, je vous appelle pour ma facture.",
    )
    desk.add_segment(session, "agent", "Je regarde.", 14.0, 15.0)  # the tail, transcribed after the hang-up
    assert queued() == [("pending", "Bonjour, je vous appelle pour ma facture. / Je regarde.")]
    assert store.conn.execute("SELECT text, final FROM transcript_segments ORDER BY idx").fetchall() == [
        ("Bonjour, je vous appelle pour ma facture.", 1),
        ("Je regarde.", 1),
    ]
    store.conn.execute("UPDATE outbox SET state = 'sent'")  # the CRM has it: a later change cannot reach it
    desk.refine_segment(session, 1, "Je regarde tout de suite.")
    assert queued() == [("sent", "Bonjour, je vous appelle pour ma facture. / Je regarde.")]
    with pytest.raises(IndexError, match="no transcript segment 2"):
        desk.refine_segment(session, 2, "?")
