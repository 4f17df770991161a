"""The outbox: what must reach the CRM, written in the same transaction as the change it reports.

Callers pass their own open transaction's connection; :func:`enqueue` never commits. The idempotency key is
generated here, on the station, once, and travels with every retry as the payload's ``external_id``-bound key.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

from pydantic import BaseModel

from desktop.core.crm.contract import (
    KIND_PRIORITY,
    ConsentEventPayload,
    InteractionPayload,
    OutboxKind,
    ReviewPayload,
)

_KINDS: dict[type[BaseModel], OutboxKind] = {
    ConsentEventPayload: "consent_event",
    InteractionPayload: "interaction",
    ReviewPayload: "review",
}


def enqueue(conn: sqlite3.Connection, payload: ConsentEventPayload | InteractionPayload | ReviewPayload) -> str | None:
    """Queue ``payload`` for the CRM; returns its idempotency key, or None when that entity is already queued
    with the same content (enqueueing twice is harmless). Call inside the caller's transaction."""
    kind = _KINDS[type(payload)]
    body = payload.model_dump_json()
    existing = conn.execute(
        "SELECT idempotency_key, payload FROM outbox WHERE kind = ? AND entity_id = ? AND state = 'pending'"
        " ORDER BY id DESC LIMIT 1",
        (kind, payload.external_id),
    ).fetchone()
    if existing is not None and existing[1] == body:
        return None
    key = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO outbox (kind, entity_id, idempotency_key, priority, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (kind, payload.external_id, key, KIND_PRIORITY[kind], body, dt.datetime.now(dt.UTC).isoformat()),
    )
    return key
