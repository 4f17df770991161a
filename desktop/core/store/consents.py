"""Consent records and their events in the store: written through the ledger, read back as facts."""

from __future__ import annotations

import datetime as dt
import functools
import json
import socket
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.consent.ledger import Entry, LedgerWriter, content_hash, now, utc_key
from desktop.core.consent.professionals import professional_key
from desktop.core.crm.contract import ConsentEventPayload
from desktop.core.crm.outbox import enqueue
from desktop.core.errors import InputError
from desktop.core.store.db import transaction

#: Consent columns that make up its content (hashed; the hash is in its ``given`` ledger entry).
CONSENT_COLUMNS = (
    "number",
    "professional",
    "products",
    "collected_at",
    "method",
    "affirmative_act",
    "pre_ticked",
    "evidence_ref",
    "text_shown",
    "collected_during_unlawful_call",
    "out_of_hours_slots",
    "out_of_hours_any",
)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class ConsentRecord:
    """What a proof needs: who it was given to, for what, when, how, the evidence and the text shown."""

    number: str
    professional: str
    products: tuple[str, ...]
    collected_at: dt.datetime | None
    method: str | None
    affirmative_act: bool | None
    pre_ticked: bool | None
    evidence_ref: str | None
    text_shown: str | None = None
    collected_during_unlawful_call: bool = False
    out_of_hours_slots: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    out_of_hours_any: bool = False
    external_id: str | None = None
    revoked_at: dt.datetime | None = field(default=None, compare=False)

    def row(self) -> tuple[Any, ...]:
        """Values of CONSENT_COLUMNS, as stored."""
        return (
            self.number,
            self.professional,
            json.dumps(list(self.products), ensure_ascii=False),
            self.collected_at.isoformat() if self.collected_at else None,
            self.method,
            _flag(self.affirmative_act),
            _flag(self.pre_ticked),
            self.evidence_ref,
            self.text_shown,
            int(self.collected_during_unlawful_call),
            json.dumps([[start.isoformat(), end.isoformat()] for start, end in self.out_of_hours_slots]),
            int(self.out_of_hours_any),
        )

    def content(self) -> dict[str, Any]:
        return content_from_row(self.row())

    def uid(self, digest: str) -> str:
        return self.external_id or f"sha256:{digest[:32]}"


_FLAGS = ("affirmative_act", "pre_ticked", "collected_during_unlawful_call", "out_of_hours_any")


def content_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A stored consent row as the JSON document that is hashed and shown in proofs."""
    content = dict(zip(CONSENT_COLUMNS, row, strict=True))
    content["products"] = json.loads(content["products"])
    content["out_of_hours_slots"] = json.loads(content["out_of_hours_slots"])
    for flag in _FLAGS:
        content[flag] = _bool(content[flag])
    return content


_INSERT_CONSENT = (
    f"INSERT INTO consents (uid, {', '.join(CONSENT_COLUMNS)}, professional_key, source, content_hash,"
    f" recorded_at) VALUES ({', '.join('?' * (len(CONSENT_COLUMNS) + 5))}) ON CONFLICT (uid) DO NOTHING"
)

Outcome = Literal["inserted", "duplicate"]

# -- sharing with the CRM -------------------------------------------------------------------------------------
#
# Every consent event that originates on this station (given, withdrawn, objection; not proof_exported, which
# is local bookkeeping) is queued for the CRM in the transaction that writes its ledger entry, so that an
# opt-out is never on the ledger without being on its way to the other stations. Events applied from a pull
# (desktop.core.crm.pull) pass ``share=False``: they came from the CRM and must not go back to it.

SHARED_KINDS = frozenset({"given", "withdrawn", "objection"})


@functools.cache
def host_station() -> str:
    """This machine's host name, read once: the station name when settings ``[crm].station_id`` is empty."""
    return socket.gethostname() or "station"


def station_name(configured: str | None = None) -> str:
    """The station's name in the CRM: settings ``[crm].station_id`` when set, else the host name."""
    return configured.strip() if configured and configured.strip() else host_station()


def event_external_id(station: str, entry: Entry) -> str:
    """The CRM id of one ledger entry: ``<station>:<seq>:<hash prefix>``.

    The same entry always gives the same id (enqueueing it again is harmless), and two stations never give
    the same one: the hash chains differ, even between stations that share a host name or a reset folder.
    """
    return f"{station}:{entry.seq}:{entry.hash[:24]}"


def own_event_seq(conn: sqlite3.Connection, external_id: str) -> int | None:
    """The ledger sequence number of the local entry ``external_id`` was made from, None if it is not ours."""
    head, _, prefix = external_id.rpartition(":")
    station, _, seq_text = head.rpartition(":")
    if not (station and seq_text.isdigit() and len(prefix) == 24):
        return None
    row = conn.execute("SELECT hash FROM consent_events WHERE seq = ?", (int(seq_text),)).fetchone()
    return int(seq_text) if row is not None and str(row[0]).startswith(prefix) else None


def share_event(
    conn: sqlite3.Connection,
    entry: Entry,
    *,
    station: str,
    products: Sequence[str] = (),
    consent: Mapping[str, Any] | None = None,
    interaction_id: str | None = None,
) -> str | None:
    """Queue one ledger entry for the CRM (inside the caller's transaction); returns the idempotency key."""
    payload = ConsentEventPayload(
        external_id=event_external_id(station, entry),
        kind=entry.kind,  # one of SHARED_KINDS, checked by the callers
        number=entry.number,
        professional=entry.professional,
        products=list(products),
        occurred_at=dt.datetime.fromisoformat(entry.at),
        consent_uid=entry.consent_uid,
        consent=dict(consent) if consent is not None else None,
        source=f"agent-assist:{station}",
        interaction_id=interaction_id,
    )
    return enqueue(conn, payload)


def record_consent(
    conn: sqlite3.Connection,
    record: ConsentRecord,
    source: str,
    *,
    station: str | None = None,
    share: bool = True,
) -> tuple[Outcome, str]:
    """:func:`insert_consent` in a transaction of its own, ledger written: one consent recorded (the CLI)."""
    with transaction(conn):
        ledger = LedgerWriter(conn)
        outcome = insert_consent(conn, ledger, record, source, station=station, share=share)
        ledger.flush()
    return outcome


def insert_consent(
    conn: sqlite3.Connection,
    ledger: LedgerWriter,
    record: ConsentRecord,
    source: str,
    *,
    station: str | None = None,
    share: bool = True,
) -> tuple[Outcome, str]:
    """Store a consent and its ``given`` event (and ``withdrawn`` if it comes revoked).

    The same consent again is a duplicate and changes nothing; another content under an existing id is an
    InputError, since a consent is never edited: a change is a new consent or an event. With ``share`` (a
    consent recorded here, not one pulled from the CRM) each ledger entry is queued for the CRM in the
    caller's transaction, under ``station`` (default :func:`station_name`).
    """
    row = record.row()
    content = content_from_row(row)
    digest = content_hash(content)
    uid = record.uid(digest)
    key = professional_key(record.professional)
    recorded_at = now()
    cursor = conn.execute(_INSERT_CONSENT, (uid, *row, key, source, digest, recorded_at.isoformat()))
    if cursor.rowcount == 0:
        existing = conn.execute("SELECT content_hash FROM consents WHERE uid = ?", (uid,)).fetchone()
        if existing[0] != digest:
            raise InputError(f"consent {uid!r} already exists with a different content")
        return "duplicate", uid
    given = ledger.append(
        "given",
        number=record.number,
        professional=record.professional,
        professional_key=key,
        at=record.collected_at or recorded_at,
        payload={"content_hash": digest, "source": source},
        consent_uid=uid,
        recorded_at=recorded_at,
    )
    withdrawn = None
    if record.revoked_at is not None:
        withdrawn = ledger.append(
            "withdrawn",
            number=record.number,
            professional=record.professional,
            professional_key=key,
            at=record.revoked_at,
            payload={"source": source, "channel": "import"},
            consent_uid=uid,
            recorded_at=recorded_at,
        )
    if share:
        name = station_name(station)
        share_event(conn, given, station=name, products=record.products, consent=content)
        if withdrawn is not None:
            share_event(conn, withdrawn, station=name, products=record.products)
    return "inserted", uid


def record_event(
    conn: sqlite3.Connection,
    kind: Literal["withdrawn", "objection", "proof_exported"],
    *,
    number: str,
    professional: str,
    at: dt.datetime,
    details: dict[str, Any],
    consent_uid: str | None = None,
    station: str | None = None,
    share: bool = True,
) -> int:
    """Append one event to the ledger; returns its sequence number. Call inside a transaction.

    A withdrawal or an objection made here (``share``) is queued for the CRM in that same transaction, under
    ``station`` (default :func:`station_name`); ``proof_exported`` stays local.
    """
    ledger = LedgerWriter(conn)
    entry = append_event(
        conn,
        ledger,
        kind,
        number=number,
        professional=professional,
        at=at,
        details=details,
        consent_uid=consent_uid,
        station=station,
        share=share,
    )
    ledger.flush()
    return entry.seq


def append_event(
    conn: sqlite3.Connection,
    ledger: LedgerWriter,
    kind: Literal["withdrawn", "objection", "proof_exported"],
    *,
    number: str,
    professional: str,
    at: dt.datetime,
    details: Mapping[str, Any],
    consent_uid: str | None = None,
    station: str | None = None,
    share: bool = True,
) -> Entry:
    """:func:`record_event` on the caller's ledger writer (several events in one transaction; the caller
    flushes it before committing)."""
    entry = ledger.append(
        kind,
        number=number,
        professional=professional,
        professional_key=professional_key(professional),
        at=at,
        payload=details,
        consent_uid=consent_uid,
    )
    if share and kind in SHARED_KINDS:
        products: Sequence[str] = ()
        if consent_uid is not None:
            row = conn.execute("SELECT products FROM consents WHERE uid = ?", (consent_uid,)).fetchone()
            products = json.loads(row[0]) if row is not None else ()
        interaction = details.get("interaction")
        share_event(
            conn,
            entry,
            station=station_name(station),
            products=products,
            interaction_id=str(interaction) if interaction is not None else None,
        )
    return entry


def consents_for(conn: sqlite3.Connection, number: str) -> list[dict[str, Any]]:
    """Every consent of a number with its withdrawals, in the facts format (all professionals)."""
    cursor = conn.execute(
        f"SELECT uid, professional_key, {', '.join(CONSENT_COLUMNS)} FROM consents WHERE number = ? ORDER BY id",
        (number,),
    )
    consents = [(row[0], row[1], content_from_row(row[2:])) for row in cursor]
    if not consents:
        return []
    withdrawals = _withdrawals(conn, number)
    facts = []
    for uid, key, content in consents:
        collected = content["collected_at"]
        facts.append(
            {
                "professional": content["professional"],
                "products": content["products"],
                "collected_at": collected,
                "method": content["method"],
                "affirmative_act": content["affirmative_act"],
                "pre_ticked": content["pre_ticked"],
                "evidence_ref": content["evidence_ref"],
                "text_shown": content["text_shown"],
                "collected_during_unlawful_call": bool(content["collected_during_unlawful_call"]),
                "out_of_hours_slots": [{"start": start, "end": end} for start, end in content["out_of_hours_slots"]],
                "out_of_hours_any": bool(content["out_of_hours_any"]),
                "revoked_at": _first_withdrawal(withdrawals.get(uid, []) + withdrawals.get(f"*{key}", []), collected),
            }
        )
    return facts


def _withdrawals(conn: sqlite3.Connection, number: str) -> dict[str, list[tuple[str, str]]]:
    """Withdrawals (UTC key, instant) per consent uid, and per professional (``*key``) for all its consents."""
    found: dict[str, list[tuple[str, str]]] = {}
    cursor = conn.execute(
        "SELECT consent_uid, professional_key, at, at_utc FROM consent_events WHERE number = ? AND kind = 'withdrawn'",
        (number,),
    )
    for uid, key, at, at_utc in cursor:
        found.setdefault(uid if uid is not None else f"*{key}", []).append((at_utc, at))
    return found


def _first_withdrawal(withdrawals: list[tuple[str, str]], collected_at: str | None) -> str | None:
    """The earliest withdrawal that follows the consent: one made before it was given does not revoke it."""
    since = utc_key(dt.datetime.fromisoformat(collected_at)) if collected_at else ""
    later = sorted(item for item in withdrawals if item[0] >= since)
    return later[0][1] if later else None


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


# -- the proof the banner shows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentProof:
    """What the agent can tell a customer who asks where their number comes from."""

    consent_id: str
    professional: str
    products: tuple[str, ...]
    collected_at: dt.datetime | None
    method: str | None
    affirmative_act: bool | None
    pre_ticked: bool | None
    evidence_ref: str | None
    text_shown: str | None
    content_hash: str
    # The latest withdrawal or objection on record for this professional, if any.
    withdrawn_at: dt.datetime | None = None


def consent_proof(
    conn: sqlite3.Connection, number: str, professional: str, product: str | None = None
) -> ConsentProof | None:
    """The consent of ``number`` to ``professional`` that the banner shows as proof (read only: no ledger entry).

    The latest one covering ``product`` if any, else the latest one to this professional; None if none.
    """
    key = professional_key(professional)
    rows = conn.execute(
        "SELECT uid, content_hash, professional, products, collected_at, method, affirmative_act, pre_ticked,"
        " evidence_ref, text_shown, id FROM consents WHERE number = ? AND professional_key = ?",
        (number, key),
    ).fetchall()
    if not rows:
        return None

    def rank(row: tuple[object, ...]) -> tuple[bool, dt.datetime, int]:
        products = json.loads(str(row[3]))
        collected = _instant(row[4]) or dt.datetime.min.replace(tzinfo=dt.UTC)
        return (product is not None and product in products, collected, int(str(row[10])))

    uid, digest, name, products, collected, method, affirmative, pre_ticked, evidence, text, _id = max(rows, key=rank)
    withdrawn = conn.execute(
        "SELECT at FROM consent_events WHERE number = ? AND professional_key = ? AND kind IN ('withdrawn', 'objection')"
        " AND (consent_uid IS NULL OR consent_uid = ?) ORDER BY seq DESC LIMIT 1",
        (number, key, uid),
    ).fetchone()
    return ConsentProof(
        consent_id=uid,
        professional=name,
        products=tuple(json.loads(products)),
        collected_at=_instant(collected),
        method=method,
        affirmative_act=None if affirmative is None else bool(affirmative),
        pre_ticked=None if pre_ticked is None else bool(pre_ticked),
        evidence_ref=evidence,
        text_shown=text,
        content_hash=digest,
        withdrawn_at=_instant(withdrawn[0]) if withdrawn else None,
    )


def _instant(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
