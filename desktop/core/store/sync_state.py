"""Small key/value state of the CRM sync (table ``sync_state``): the consent pull cursor, the instant of the last
successful pull (consent freshness, rule 10 of the consent rules), the last push."""

from __future__ import annotations

import datetime as dt
import sqlite3

CONSENT_CURSOR = "consent_cursor"
LAST_CONSENT_PULL = "last_consent_pull"
LAST_PUSH = "last_push"


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_state(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    """Set ``key``; call inside the caller's transaction (with what the value describes)."""
    conn.execute(
        "INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, dt.datetime.now(dt.UTC).isoformat()),
    )


def last_consent_pull(conn: sqlite3.Connection) -> dt.datetime | None:
    """When consent changes were last pulled from the CRM successfully (aware, UTC); None if never."""
    value = get_state(conn, LAST_CONSENT_PULL)
    return None if value is None else dt.datetime.fromisoformat(value)


def set_last_consent_pull(conn: sqlite3.Connection, at: dt.datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("last_consent_pull must be timezone-aware")
    set_state(conn, LAST_CONSENT_PULL, at.astimezone(dt.UTC).isoformat())
