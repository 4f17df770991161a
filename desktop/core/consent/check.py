"""``consent check``: the facts of one call assembled from the store, evaluated, and the decision stored."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from desktop.core.consent.engine import Decision, evaluate
from desktop.core.consent.facts import Facts, parse_facts
from desktop.core.consent.ledger import canonical, content_hash, now, utc_key
from desktop.core.consent.policy import Policy, add_duration
from desktop.core.consent.professionals import professional_key
from desktop.core.store.consents import consents_for
from desktop.core.store.db import transaction
from desktop.core.store.sync_state import last_consent_pull


@dataclass(frozen=True)
class CallQuestion:
    """What the station knows when a call rings or is dialled."""

    number: str
    product: str
    professional: str
    at: dt.datetime
    direction: str = "outbound"
    purpose: str = "prospection"
    caller_id: str | None = None
    sector: str | None = None


def build_facts(
    conn: sqlite3.Connection, question: CallQuestion, policy: Policy, *, crm_sync: bool = False
) -> dict[str, Any]:
    """The facts document (consent-rules.md format) for this call, from what the store holds.

    ``crm_sync``: this station shares consent with a CRM (settings ``[crm].connector`` is not ``none``); the
    facts then carry ``sync.last_consent_pull`` (rule 10: stale or never pulled data forbids canvassing).
    """
    number, key = question.number, professional_key(question.professional)
    call: dict[str, Any] = {
        "number": number,
        "direction": question.direction,
        "at": question.at.isoformat(),
        "purpose": question.purpose,
        "product": question.product,
        "sector": question.sector,
        "professional": question.professional,
        "line_type": "consumer",
    }
    if question.caller_id:
        call["caller_id"] = question.caller_id
    consumer = conn.execute(
        "SELECT timezone, department, line_type FROM consumers WHERE number = ?", (number,)
    ).fetchone()
    if consumer is not None:
        timezone, department, line_type = consumer
        if timezone:
            call["consumer_timezone"] = timezone
        if department:
            call["consumer_department"] = department
        if line_type:
            call["line_type"] = line_type
    # Attempts older than the frequency window (plus a day of time-zone slack) cannot count.
    horizon = question.at - dt.timedelta(days=policy.params.frequency_window_days + 1)
    attempts = conn.execute(
        "SELECT at, professional, outcome FROM call_attempts"
        " WHERE number = ? AND professional_key = ? AND at_utc >= ? AND at_utc < ?",
        (number, key, utc_key(horizon), utc_key(question.at)),
    ).fetchall()
    refusals = conn.execute(
        "SELECT at FROM call_attempts WHERE number = ? AND professional_key = ? AND outcome = 'refused'"
        " AND at_utc <= ?",
        (number, key, utc_key(question.at)),
    ).fetchall()
    objections = conn.execute(
        "SELECT at, scope FROM objections WHERE number = ? AND professional_key = ?", (number, key)
    ).fetchall()
    contracts = conn.execute(
        "SELECT professional, products, related_products, status, ended_at FROM contracts WHERE number = ?",
        (number,),
    ).fetchall()
    listing = conn.execute(
        "SELECT registered, since, scrubbed_on FROM opposition_entries WHERE number = ? AND scrubbed_on <= ?"
        " ORDER BY scrubbed_on DESC LIMIT 1",
        (number, question.at.date().isoformat()),
    ).fetchone()
    requests = conn.execute(
        "SELECT at, products FROM info_requests WHERE number = ? AND professional_key = ?", (number, key)
    ).fetchall()
    facts: dict[str, Any] = {
        "call": call,
        "consents": consents_for(conn, number),
        "contracts": [
            {
                "professional": professional,
                "products": json.loads(products),
                "related_products": json.loads(related),
                "status": status,
                "ended_at": ended_at,
            }
            for professional, products, related, status, ended_at in contracts
        ],
        "objections": [{"at": at, "scope": scope} for at, scope in objections],
        "refusals": [{"at": at} for (at,) in refusals],
        "attempts": [{"at": at, "professional": professional} for at, professional, _ in attempts],
        "opposition_list": {
            "registered": None if listing is None or listing[0] is None else bool(listing[0]),
            "since": listing[1] if listing else None,
            "last_scrub": listing[2] if listing else None,
        },
        "info_requests": [{"at": at, "products": json.loads(products)} for at, products in requests],
    }
    if crm_sync:
        # Without a CRM the local store is the only truth: no sync key, "fresh" for the engine.
        pulled = last_consent_pull(conn)
        facts["sync"] = {"last_consent_pull": pulled.isoformat() if pulled is not None else None}
    return facts


@dataclass(frozen=True)
class Freshness:
    """How fresh this station's consent data is (rule 10), for the banner."""

    crm_sync: bool  # False: no CRM, nothing to be stale against (the rest is None / False)
    last_pull: dt.datetime | None  # the last successful pull of consent changes, None if never
    stale_at: dt.datetime | None  # when the data becomes stale (last_pull + max_sync_age); None if never pulled
    stale: bool  # at the instant asked: canvassing verdicts are forbidden with CONSENT_DATA_STALE


def consent_freshness(conn: sqlite3.Connection, policy: Policy, *, crm_sync: bool, at: dt.datetime) -> Freshness:
    """The freshness the banner shows at ``at``: the last pull, and whether it is older than the policy's
    ``max_sync_age`` (the same test as the engine's rule 10); never stale without a CRM, stale if never pulled."""
    if not crm_sync:
        return Freshness(crm_sync=False, last_pull=None, stale_at=None, stale=False)
    pulled = last_consent_pull(conn)
    if pulled is None:
        return Freshness(crm_sync=True, last_pull=None, stale_at=None, stale=True)
    stale_at = add_duration(pulled, policy.params.max_sync_age)
    return Freshness(crm_sync=True, last_pull=pulled, stale_at=stale_at, stale=at > stale_at)


def check(
    conn: sqlite3.Connection,
    question: CallQuestion,
    policy: Policy,
    *,
    language: str = "fr",
    store: bool = True,
    evaluated_at: dt.datetime | None = None,
    crm_sync: bool = False,
    interaction_id: int | None = None,
) -> tuple[Facts, Decision, int | None]:
    """Evaluate the call (asked at ``evaluated_at`` during the call, default its start); with ``store`` the
    decision (facts, policy version) is recorded for audit, linked to the stored call ``interaction_id`` when the
    question is about one (every re-evaluation of a call is kept: what the banner said, and when). ``crm_sync``: see
    :func:`build_facts`."""
    document = build_facts(conn, question, policy, crm_sync=crm_sync)
    if evaluated_at is not None and evaluated_at > question.at:
        document["evaluated_at"] = evaluated_at.isoformat()
    facts = parse_facts(document, "stored facts")
    decision = evaluate(facts, policy, language=language)
    decision_id = record_decision(conn, document, decision, interaction_id=interaction_id) if store else None
    return facts, decision, decision_id


def record_decision(
    conn: sqlite3.Connection, facts: dict[str, Any], decision: Decision, *, interaction_id: int | None = None
) -> int:
    call = facts["call"]
    body = decision.to_json()
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO decisions (evaluated_at, number, professional, product, direction, purpose, verdict,"
            " regime, scope, reasons, valid_until, policy_name, policy_version, facts, facts_hash, created_at,"
            " interaction_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                facts.get("evaluated_at") or call["at"],
                call.get("number"),
                call.get("professional"),
                call.get("product"),
                call.get("direction"),
                call.get("purpose"),
                decision.verdict,
                decision.regime,
                decision.scope,
                json.dumps(body["reasons"], ensure_ascii=False),
                body["valid_until"],
                decision.policy["name"],
                decision.policy["version"],
                canonical(facts).decode("utf-8"),
                content_hash(facts),
                now().isoformat(),
                interaction_id,
            ),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
