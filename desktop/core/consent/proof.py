"""Proof of consent: what a consumer, an auditor or the CNIL is given, and the ledger entry that says so."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from desktop.core.consent.ledger import GENESIS, verify
from desktop.core.consent.professionals import professional_key
from desktop.core.errors import InputError, NotFoundError
from desktop.core.store.consents import CONSENT_COLUMNS, content_from_row, record_event
from desktop.core.store.db import transaction


def export_proof(
    conn: sqlite3.Connection,
    *,
    at: dt.datetime,
    consent_uid: str | None = None,
    number: str | None = None,
    professional: str | None = None,
    requested_by: str | None = None,
) -> dict[str, Any]:
    """The consents asked for, each with its ledger entries and the chain's state; records ``proof_exported``."""
    where, args = _selection(consent_uid, number, professional)
    rows = conn.execute(
        f"SELECT uid, content_hash, recorded_at, {', '.join(CONSENT_COLUMNS)} FROM consents WHERE {where}"
        " ORDER BY id DESC",
        args,
    ).fetchall()
    if not rows:
        raise NotFoundError("no consent on record for this selection")
    consents = []
    for uid, digest, recorded_at, *content_row in rows:
        content = content_from_row(content_row)
        events = conn.execute(
            "SELECT seq, kind, at, payload, recorded_at, prev_hash, hash FROM consent_events"
            " WHERE consent_uid = ? OR (consent_uid IS NULL AND number = ? AND professional_key = ?"
            " AND kind IN ('withdrawn', 'objection')) ORDER BY seq",
            (uid, content["number"], professional_key(content["professional"])),
        ).fetchall()
        consents.append(
            {
                "consent_id": uid,
                "content": content,
                "content_hash": digest,
                "recorded_at": recorded_at,
                "events": [
                    {
                        "seq": seq,
                        "kind": kind,
                        "at": event_at,
                        "details": json.loads(payload) if kind != "given" else {"content_hash": digest},
                        "recorded_at": event_recorded,
                        "prev_hash": prev_hash,
                        "hash": event_hash,
                    }
                    for seq, kind, event_at, payload, event_recorded, prev_hash, event_hash in events
                ],
            }
        )
    check = verify(conn)
    first = consents[0]["content"]
    with transaction(conn):
        seq = record_event(
            conn,
            "proof_exported",
            number=first["number"],
            professional=first["professional"],
            at=at,
            details={"consents": [item["consent_id"] for item in consents], "requested_by": requested_by},
        )
    return {
        "exported_at": at.isoformat(),
        "export_entry": seq,
        "ledger": {"ok": check.ok, "entries": check.entries, "head": check.head or GENESIS, "problem": check.problem},
        "consents": consents,
    }


def _selection(consent_uid: str | None, number: str | None, professional: str | None) -> tuple[str, tuple[str, ...]]:
    if consent_uid is not None:
        return "uid = ?", (consent_uid,)
    if number is None:
        raise InputError("give a consent id or a number")
    if professional is None:
        return "number = ?", (number,)
    return "number = ? AND professional_key = ?", (number, professional_key(professional))
