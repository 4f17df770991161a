"""``consent check``: facts assembled from the store, then the same engine; the decision is kept for audit."""

from __future__ import annotations

import datetime as dt
import json

from desktop.core.consent.check import CallQuestion, build_facts, check
from desktop.core.consent.engine import evaluate
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.ledger import utc_key
from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent, record_event
from desktop.core.store.db import Store, transaction

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


def test_stale_sync_once_a_crm_is_configured(store: Store, policy: Policy) -> None:
    _consent(store)
    store.conn.execute("INSERT INTO meta (key, value) VALUES ('sync.enabled', '1')")
    assert check(store.conn, _question(), policy)[1].codes[0] == "CONSENT_DATA_STALE"  # never pulled
    store.conn.execute("INSERT INTO meta (key, value) VALUES ('sync.last_consent_pull', '2026-11-24T08:00:00+01:00')")
    assert check(store.conn, _question(), policy)[1].verdict == "allowed"


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
