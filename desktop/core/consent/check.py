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
from desktop.core.consent.policy import Policy
from desktop.core.consent.professionals import professional_key
from desktop.core.store.consents import consents_for
from desktop.core.store.db import transaction


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


def build_facts(conn: sqlite3.Connection, question: CallQuestion, policy: Policy) -> dict[str, Any]:
    """The facts document (consent-rules.md format) for this call, from what the store holds."""
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
    sync = _sync_state(conn)
    if sync is not None:
        facts["sync"] = sync
    return facts


def _sync_state(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The CRM pull state, once a CRM is configured (until then the local store is the only truth)."""
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'sync.%'").fetchall())
    if rows.get("sync.enabled") != "1":
        return None
    return {"last_consent_pull": rows.get("sync.last_consent_pull")}


def check(
    conn: sqlite3.Connection,
    question: CallQuestion,
    policy: Policy,
    *,
    language: str = "fr",
    store: bool = True,
    evaluated_at: dt.datetime | None = None,
) -> tuple[Facts, Decision, int | None]:
    """Evaluate the call (asked at ``evaluated_at`` during the call, default its start); with ``store`` the
    decision (facts, policy version) is recorded for audit."""
    document = build_facts(conn, question, policy)
    if evaluated_at is not None and evaluated_at > question.at:
        document["evaluated_at"] = evaluated_at.isoformat()
    facts = parse_facts(document, "stored facts")
    decision = evaluate(facts, policy, language=language)
    decision_id = record_decision(conn, document, decision) if store else None
    return facts, decision, decision_id


def record_decision(conn: sqlite3.Connection, facts: dict[str, Any], decision: Decision) -> int:
    call = facts["call"]
    body = decision.to_json()
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO decisions (evaluated_at, number, professional, product, direction, purpose, verdict,"
            " regime, scope, reasons, valid_until, policy_name, policy_version, facts, facts_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
