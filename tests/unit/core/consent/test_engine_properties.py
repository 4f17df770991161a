"""Properties of the engine over generated facts: total, deterministic, fail-closed, and valid_until honest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.consent.engine import _asked_again, _at, evaluate
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.policy import load_policy

POLICY = load_policy()
PROS = ["ACME Énergie SAS", "Autre SA"]
PRODUCTS = ["electricity", "gas", "heat_pump"]
OFFSETS = [dt.timezone(dt.timedelta(hours=h)) for h in (0, 1, 2, 4)]

instants = st.builds(
    lambda minutes, offset: (dt.datetime(2026, 7, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(offset),
    st.integers(min_value=0, max_value=60 * 24 * 400),
    st.sampled_from(OFFSETS),
)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


consents = st.builds(
    lambda pro, products, collected, affirmative, pre_ticked, evidence, revoked: {
        "professional": pro,
        "products": products,
        "collected_at": _iso(collected),
        "method": "web_form",
        "affirmative_act": affirmative,
        "pre_ticked": pre_ticked,
        "evidence_ref": evidence,
        "text_shown": "J'accepte.",
        "revoked_at": _iso(revoked),
    },
    st.sampled_from(PROS),
    st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=2, unique=True),
    st.one_of(st.none(), instants),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.just("ev-1")),
    st.one_of(st.none(), instants),
)

facts_documents = st.builds(
    lambda at, direction, purpose, sector, product, caller, consents, attempts, objections, sync, late: {
        "call": {
            "number": "+33639980001",
            "direction": direction,
            "at": at.isoformat(),
            "purpose": purpose,
            "product": product,
            "sector": sector,
            "professional": PROS[0],
            "caller_id": caller,
            "line_type": "consumer",
        },
        "evaluated_at": (at + dt.timedelta(minutes=late)).isoformat(),
        "consents": consents,
        "attempts": [{"at": a.isoformat(), "professional": PROS[0]} for a in attempts],
        "objections": [{"at": o.isoformat(), "scope": "marketing"} for o in objections],
        **({"sync": {"last_consent_pull": _iso(sync)}} if sync is not False else {}),
    },
    instants,
    st.sampled_from(["outbound", "outbound", "inbound"]),
    st.sampled_from(["prospection", "contract", "service"]),
    st.sampled_from([None, None, "energy_renovation", "insurance", "press"]),
    st.sampled_from(PRODUCTS),
    st.sampled_from([None, "+33162000001", "+33639989999"]),
    st.lists(consents, max_size=3),
    st.lists(instants, max_size=5),
    st.lists(instants, max_size=1),
    st.one_of(st.just(False), st.none(), instants),
    st.integers(min_value=0, max_value=30),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_documents)
def test_engine_is_total_deterministic_and_valid_until_is_honest(document: dict[str, Any]) -> None:
    facts = parse_facts(document)
    decision = evaluate(facts, POLICY)
    assert decision == evaluate(facts, POLICY)
    assert decision.reasons, "every decision says why"
    assert decision.reasons[0].code in POLICY.data.rules
    if decision.scope == "out_of_scope":
        assert decision.verdict == "allowed"
    if decision.verdict == "allowed" and decision.scope == "canvassing":
        assert decision.reasons[0].code in ("VALID_CONSENT", "PRESS_EXEMPTION", "OPPOSITION_LIST_CLEAR")
    if decision.valid_until is not None:
        asked = facts.asked_at
        assert decision.valid_until > asked
        # Before the call (asked at its start): a call placed later. During it: the same call, asked again (its
        # start keeps deciding regime, hours and frequency).
        during = facts.evaluated_at is not None and facts.evaluated_at > facts.call.at
        moved = _asked_again if during else _at
        later = evaluate(moved(facts, decision.valid_until + dt.timedelta(microseconds=1)), POLICY)
        assert later.verdict != decision.verdict
        # placed (or asked again) between the question and valid_until: the same verdict
        span = decision.valid_until - asked
        for fraction in (0.25, 0.5, 0.75, 0.999):
            between = asked + span * fraction
            if between > facts.call.at:
                assert evaluate(moved(facts, between), POLICY).verdict == decision.verdict


def test_a_call_begun_in_the_window_and_asked_again_after_its_end_holds_its_verdict() -> None:
    """Found by the property above: a call started at 12:38 (Paris) and asked about again at 13:00 is still allowed
    (its start was in the window), and a call *placed* at 13:00 would not be: valid_until follows this call."""
    at = dt.datetime(2026, 7, 1, 10, 38, tzinfo=dt.UTC)
    document = {
        "call": {
            "number": "+33639980001",
            "direction": "outbound",
            "at": at.isoformat(),
            "purpose": "prospection",
            "product": "electricity",
            "sector": "press",
            "professional": PROS[0],
            "caller_id": None,
            "line_type": "consumer",
        },
        "consents": [],
        "attempts": [],
        "objections": [],
    }
    before = evaluate(parse_facts(document), POLICY)
    assert before.verdict == "allowed" and before.valid_until == dt.datetime(2026, 7, 1, 11, 0, tzinfo=dt.UTC)
    for late in (0, 5):  # asked again right at the window's end, and 5 min after it
        document["evaluated_at"] = (at + dt.timedelta(minutes=22 + late)).isoformat()
        again = evaluate(parse_facts(document), POLICY)
        assert again.verdict == "allowed", again.reasons
        assert again.valid_until is None  # nothing this call depends on changes by itself any more
