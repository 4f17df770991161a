"""Numbered schema migrations. ``PRAGMA user_version`` is the number of the last one applied.

Never edit a migration that has shipped: add the next one. Each runs in one transaction with its version
bump, so a crash leaves the database at the previous version, not half-way.
"""

from __future__ import annotations

# Append-only tables: SQLite refuses the change; the hash chain (ledger.py) detects edits made around it.
_APPEND_ONLY = """
CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
"""

# 1: the consent core: what the engine needs to decide, and the ledger that proves it.
_V1 = (
    """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE consumers (
    number TEXT PRIMARY KEY,
    timezone TEXT,
    department TEXT,
    line_type TEXT CHECK (line_type IN ('consumer', 'business')),
    updated_at TEXT NOT NULL
);
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL,
    professional TEXT NOT NULL,
    professional_key TEXT NOT NULL,
    products TEXT NOT NULL,
    collected_at TEXT,
    method TEXT,
    affirmative_act INTEGER,
    pre_ticked INTEGER,
    evidence_ref TEXT,
    text_shown TEXT,
    collected_during_unlawful_call INTEGER NOT NULL DEFAULT 0,
    out_of_hours_slots TEXT NOT NULL DEFAULT '[]',
    out_of_hours_any INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_number ON consents (number);
CREATE TABLE consent_events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('given', 'withdrawn', 'objection', 'proof_exported')),
    number TEXT NOT NULL,
    professional TEXT NOT NULL,
    professional_key TEXT NOT NULL,
    consent_uid TEXT REFERENCES consents (uid),
    at TEXT NOT NULL,
    at_utc TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX consent_events_number ON consent_events (number, professional_key, kind);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL,
    professional TEXT NOT NULL,
    professional_key TEXT NOT NULL,
    products TEXT NOT NULL,
    related_products TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contracts_number ON contracts (number);
CREATE TABLE opposition_scrubs (
    id INTEGER PRIMARY KEY,
    scrubbed_on TEXT NOT NULL,
    source TEXT NOT NULL,
    rows INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE opposition_entries (
    number TEXT NOT NULL,
    scrubbed_on TEXT NOT NULL,
    registered INTEGER,
    since TEXT,
    scrub_id INTEGER NOT NULL REFERENCES opposition_scrubs (id),
    PRIMARY KEY (number, scrubbed_on)
) WITHOUT ROWID;
CREATE TABLE call_attempts (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL,
    professional TEXT NOT NULL,
    professional_key TEXT NOT NULL,
    at TEXT NOT NULL,
    at_utc TEXT NOT NULL,
    outcome TEXT NOT NULL
        CHECK (outcome IN ('no_answer', 'answered', 'refused', 'busy', 'voicemail', 'failed')),
    source TEXT NOT NULL
);
CREATE INDEX call_attempts_number ON call_attempts (number, professional_key, at_utc);
CREATE TABLE info_requests (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    professional TEXT NOT NULL,
    professional_key TEXT NOT NULL,
    at TEXT NOT NULL,
    products TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX info_requests_number ON info_requests (number, professional_key);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    evaluated_at TEXT NOT NULL,
    number TEXT,
    professional TEXT,
    product TEXT,
    direction TEXT,
    purpose TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('allowed', 'contract_only', 'forbidden')),
    regime TEXT NOT NULL,
    scope TEXT NOT NULL,
    reasons TEXT NOT NULL,
    valid_until TEXT,
    policy_name TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    facts TEXT NOT NULL,
    facts_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX decisions_number ON decisions (number, evaluated_at);
CREATE VIEW objections AS
    SELECT seq, number, professional, professional_key, at, json_extract(payload, '$.scope') AS scope
    FROM consent_events WHERE kind = 'objection';
"""
    + _APPEND_ONLY.format(table="consents")
    + _APPEND_ONLY.format(table="consent_events")
    + _APPEND_ONLY.format(table="decisions")
)

# 2: the call side: interactions, their transcript and summary, and the CRM outbox.
_V2 = """
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    call_id TEXT,
    number TEXT,
    direction TEXT CHECK (direction IN ('inbound', 'outbound')),
    professional TEXT,
    product TEXT,
    purpose TEXT,
    agent_id TEXT,
    state TEXT NOT NULL,
    started_at TEXT,
    answered_at TEXT,
    ended_at TEXT,
    decision_id INTEGER REFERENCES decisions (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX interactions_started ON interactions (started_at);
CREATE TABLE transcript_segments (
    id INTEGER PRIMARY KEY,
    interaction_id INTEGER NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('agent', 'customer')),
    start REAL,
    "end" REAL,
    text TEXT NOT NULL,
    final INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (interaction_id, idx)
);
CREATE TABLE summaries (
    id INTEGER PRIMARY KEY,
    interaction_id INTEGER NOT NULL UNIQUE REFERENCES interactions (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    validated_by TEXT,
    validated_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL DEFAULT 100,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'parked')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_pending ON outbox (state, priority, id);
"""

# 3: an attempt made from the app points at its interaction (interactions only exist from version 2).
_V3 = """
ALTER TABLE call_attempts ADD COLUMN interaction_id INTEGER REFERENCES interactions (id);
ALTER TABLE decisions ADD COLUMN interaction_id INTEGER REFERENCES interactions (id);
"""

# 4: what the agent did with each suggestion shown (copied = accepted, replaced unused = ignored), for the
# team lead's review and the playbook's owners; the text is not repeated, the source names the reply.
_V4 = """
CREATE TABLE suggestion_uses (
    id INTEGER PRIMARY KEY,
    interaction_id INTEGER NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    at TEXT NOT NULL
);
CREATE INDEX suggestion_uses_interaction ON suggestion_uses (interaction_id);
"""

# 5: CRM sync. The outbox remembers the CRM's id for what it sent; sync_state keeps the pull cursor and the
# instant of the last successful pull (consent freshness, rule 10); pulled_consent_events makes applying a
# pulled event idempotent; reviews are the team lead's approve/flag decisions, synced back to the CRM.
_V5 = """
ALTER TABLE outbox ADD COLUMN remote_id TEXT;
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE pulled_consent_events (
    external_id TEXT PRIMARY KEY,
    ledger_seq INTEGER REFERENCES consent_events (seq),
    pulled_at TEXT NOT NULL
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    interaction_uid TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'flagged')),
    comment TEXT,
    reviewer TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reviews_interaction ON reviews (interaction_uid, id);
"""

# 6: enqueue looks for the entity's pending entry; without this index every insert scanned the outbox (queueing
# 10,000 interactions took 170 s instead of 1.7 s).
_V6 = """
CREATE INDEX outbox_entity ON outbox (kind, entity_id) WHERE state = 'pending';
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
LATEST = len(MIGRATIONS)
