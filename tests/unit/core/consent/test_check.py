"""``consent check``: facts assembled from the store, then the same engine; the decision is kept for audit."""

from __future__ import annotations

import datetime as dt
import json

from desktop.core.consent.check import CallQuestion, Freshness, build_facts, check, consent_freshness
from desktop.core.consent.engine import evaluate
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.ledger import utc_key
from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent, record_event
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import set_last_consent_pull

PARIS = dt.timezone(dt.timedelta(hours=1))
NUMBER = "+33639980001"
ACME = "ACME Énergie SAS"


def _question(**changes: object) -> CallQuestion:
    values: dict[str, object] = {
        "number": NUMBER,
        "product": "electricity",
        "professional": ACME,
        "at": dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS),
        "caller_id": "+33162000001",
    }
    values.update(changes)
    return CallQuestion(**values)  # type: ignore[arg-type]


def _consent(store: Store, professional: str = ACME) -> None:
    record = ConsentRecord(
        number=NUMBER,
        professional=professional,
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf-1",
        text_shown="J'accepte.",
    )
    record_consent(store.conn, record, source="test")


def _attempt(store: Store, at: dt.datetime, outcome: str = "no_answer", professional: str = ACME) -> None:
    from desktop.core.consent.professionals import professional_key

    store.conn.execute(
        "INSERT INTO call_attempts (uid, number, professional, professional_key, at, at_utc, outcome, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'test')",
        (
            f"a-{at.isoformat()}-{professional}",
            NUMBER,
            professional,
            professional_key(professional),
            at.isoformat(),
            utc_key(at),
            outcome,
        ),
    )


def test_no_record_means_no_consent(store: Store, policy: Policy) -> None:
    _facts, decision, _ = check(store.conn, _question(), policy)
    assert decision.verdict == "forbidden"
    assert decision.codes == ("NO_VALID_CONSENT", "CONSENT_MISSING")


def test_recorded_consent_allows_and_withdrawal_forbids(store: Store, policy: Policy) -> None:
    _consent(store)
    assert check(store.conn, _question(), policy)[1].verdict == "allowed"
    with transaction(store.conn):
        record_event(
            store.conn,
            "withdrawn",
            number=NUMBER,
            professional="acme énergie sas",
            at=dt.datetime(2026, 11, 10, 10, 42, tzinfo=PARIS),
            details={"channel": "oral"},
        )
    _facts, decision, _ = check(store.conn, _question(), policy)
    assert decision.verdict == "forbidden"
    assert decision.codes[0] == "CONSENT_REVOKED"


def test_consent_of_another_professional_is_named(store: Store, policy: Policy) -> None:
    _consent(store, professional="Partenaires SARL")
    decision = check(store.conn, _question(), policy)[1]
    assert decision.codes == ("NO_VALID_CONSENT", "CONSENT_OTHER_PROFESSIONAL")


def test_objection_forbids(store: Store, policy: Policy) -> None:
    _consent(store)
    with transaction(store.conn):
        record_event(
            store.conn,
            "objection",
            number=NUMBER,
            professional=ACME,
            at=dt.datetime(2026, 11, 1, 9, 0, tzinfo=PARIS),
            details={"scope": "marketing"},
        )
    assert check(store.conn, _question(), policy)[1].codes[0] == "MARKETING_OBJECTION"


def test_attempts_in_window_count(store: Store, policy: Policy) -> None:
    _consent(store)
    for day in (2, 5, 12):
        _attempt(store, dt.datetime(2026, 11, day, 10, 30, tzinfo=PARIS))
    _attempt(store, dt.datetime(2026, 10, 20, 10, 30, tzinfo=PARIS))  # outside the 30 days
    _attempt(store, dt.datetime(2026, 11, 20, 10, 30, tzinfo=PARIS), professional="Autre SA")
    assert check(store.conn, _question(), policy)[1].verdict == "allowed"
    _attempt(store, dt.datetime(2026, 11, 19, 16, 20, tzinfo=PARIS))
    assert check(store.conn, _question(), policy)[1].codes[0] == "FREQUENCY_CAP"


def test_opposition_list_and_refusals_in_bloctel_regime(store: Store, policy: Policy) -> None:
    at = dt.datetime(2026, 8, 10, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert check(store.conn, _question(at=at), policy)[1].codes[0] == "OPPOSITION_LIST_REGISTERED"  # unknown
    store.conn.execute(
        "INSERT INTO opposition_scrubs (id, scrubbed_on, source, rows, imported_at)"
        " VALUES (1, '2026-07-28', 't', 1, 'x')"
    )
    store.conn.execute(
        "INSERT INTO opposition_entries (number, scrubbed_on, registered, since, scrub_id)"
        " VALUES (?, '2026-07-28', 0, NULL, 1)",
        (NUMBER,),
    )
    assert check(store.conn, _question(at=at), policy)[1].codes[0] == "OPPOSITION_LIST_CLEAR"
    _attempt(store, dt.datetime(2026, 7, 1, 10, 0, tzinfo=PARIS), outcome="refused")
    assert check(store.conn, _question(at=at), policy)[1].codes[0] == "REFUSAL_WITHIN_60_DAYS"


def test_consumer_record_sets_zone_and_line(store: Store, policy: Policy) -> None:
    _consent(store)
    store.conn.execute(
        "INSERT INTO consumers (number, timezone, department, line_type, updated_at)"
        " VALUES (?, 'Indian/Reunion', '974', 'consumer', 'x')",
        (NUMBER,),
    )
    facts = build_facts(store.conn, _question(), policy)
    assert facts["call"]["consumer_timezone"] == "Indian/Reunion"
    # 10:30 in Paris is 13:30 in Réunion: the lunch gap there
    assert check(store.conn, _question(), policy)[1].codes[0] == "OUTSIDE_CALLING_HOURS"


def _pulled(store: Store, at: dt.datetime) -> None:
    with transaction(store.conn):
        set_last_consent_pull(store.conn, at)


def test_without_a_crm_the_facts_carry_no_sync_and_a_pull_changes_nothing(store: Store, policy: Policy) -> None:
    _consent(store)
    assert "sync" not in build_facts(store.conn, _question(), policy)
    _pulled(store, dt.datetime(2026, 11, 1, tzinfo=PARIS))  # weeks old, but no CRM: the store is the only truth
    assert check(store.conn, _question(), policy)[1].verdict == "allowed"


def test_never_pulled_from_the_crm_is_stale(store: Store, policy: Policy) -> None:
    _consent(store)
    facts = build_facts(store.conn, _question(), policy, crm_sync=True)
    assert facts["sync"] == {"last_consent_pull": None}
    decision = check(store.conn, _question(), policy, crm_sync=True)[1]
    assert decision.verdict == "forbidden"
    assert decision.codes[0] == "CONSENT_DATA_STALE"
    assert "VALID_CONSENT" in decision.codes  # the verdict it replaced stays in the trail


def test_stale_beyond_max_sync_age_then_fresh_after_a_pull(store: Store, policy: Policy) -> None:
    _consent(store)
    call_at = _question().at
    _pulled(store, call_at - dt.timedelta(hours=24, seconds=1))
    stale = check(store.conn, _question(), policy, crm_sync=True)[1]
    assert (stale.verdict, stale.codes[0]) == ("forbidden", "CONSENT_DATA_STALE")
    _pulled(store, call_at - dt.timedelta(hours=24))  # exactly max_sync_age old: still fresh
    assert check(store.conn, _question(), policy, crm_sync=True)[1].verdict == "allowed"
    _pulled(store, call_at - dt.timedelta(hours=23, minutes=50))
    fresh = check(store.conn, _question(), policy, crm_sync=True)[1]
    # the banner re-evaluates by itself when the data turns stale (before the calling hours end at 13:00)
    assert (fresh.verdict, fresh.valid_until) == ("allowed", call_at + dt.timedelta(minutes=10))


def test_max_sync_age_is_the_policy_s(store: Store, policy: Policy) -> None:
    _consent(store)
    _pulled(store, _question().at - dt.timedelta(hours=2))
    assert check(store.conn, _question(), policy, crm_sync=True)[1].verdict == "allowed"
    strict = policy.with_overrides({"max_sync_age": "PT1H"})
    assert check(store.conn, _question(), strict, crm_sync=True)[1].codes[0] == "CONSENT_DATA_STALE"


def test_stale_data_leaves_out_of_scope_and_forbidden_verdicts_alone(store: Store, policy: Policy) -> None:
    # rule 10 turns canvassing allowed/contract_only into forbidden; an inbound call is not canvassing
    inbound = check(store.conn, _question(direction="inbound"), policy, crm_sync=True)[1]
    assert (inbound.verdict, inbound.codes[0]) == ("allowed", "OUT_OF_SCOPE_INBOUND")
    no_consent = check(store.conn, _question(), policy, crm_sync=True)[1]
    assert no_consent.codes[0] == "NO_VALID_CONSENT"


def test_consent_freshness_for_the_banner(store: Store, policy: Policy) -> None:
    at = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
    assert consent_freshness(store.conn, policy, crm_sync=False, at=at) == Freshness(False, None, None, False)
    assert consent_freshness(store.conn, policy, crm_sync=True, at=at) == Freshness(True, None, None, True)
    pulled = at - dt.timedelta(hours=1)
    _pulled(store, pulled)
    fresh = consent_freshness(store.conn, policy, crm_sync=True, at=at)
    assert fresh == Freshness(True, pulled, pulled + dt.timedelta(hours=24), False)
    assert consent_freshness(store.conn, policy, crm_sync=True, at=at + dt.timedelta(hours=24)).stale


def test_decision_is_stored_with_policy_version_and_replays(store: Store, policy: Policy) -> None:
    _consent(store)
    _facts, decision, decision_id = check(store.conn, _question(), policy)
    row = store.conn.execute(
        "SELECT verdict, policy_name, policy_version, facts, reasons FROM decisions WHERE id = ?", (decision_id,)
    ).fetchone()
    assert row[:3] == ("allowed", "fr", "2026.1")
    replayed = evaluate(parse_facts(json.loads(row[3])), policy)
    assert replayed.to_json()["reasons"] == json.loads(row[4])
    assert replayed.verdict == decision.verdict


def test_check_without_storing_writes_nothing(store: Store, policy: Policy) -> None:
    check(store.conn, _question(), policy, store=False)
    assert store.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
