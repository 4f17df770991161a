"""The consent ledger: consents and their events, append-only and hash-chained.

Every event (a consent given, withdrawn, an objection, a proof exported) is one row of ``consent_events``
whose ``hash`` is ``sha256(prev_hash || canonical JSON of the entry)``; a consent's own row carries the hash of
its content, which its ``given`` event repeats. Editing, deleting or reordering any row breaks the chain, and
:func:`verify` names the first entry that does not hold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
EVENT_KINDS = ("given", "withdrawn", "objection", "proof_exported")


def canonical(value: Any) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def utc_key(instant: dt.datetime) -> str:
    """Sortable UTC text of an instant (the stored ``*_utc`` columns)."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    number: str
    professional: str
    professional_key: str
    consent_uid: str | None
    at: str
    at_utc: str
    payload: str
    recorded_at: str
    prev_hash: str
    hash: str

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "number": self.number,
            "professional": self.professional,
            "consent_uid": self.consent_uid,
            "at": self.at,
            "payload": json.loads(self.payload),
            "recorded_at": self.recorded_at,
        }

    def row(self) -> tuple[Any, ...]:
        return (
            self.seq,
            self.kind,
            self.number,
            self.professional,
            self.professional_key,
            self.consent_uid,
            self.at,
            self.at_utc,
            self.payload,
            self.recorded_at,
            self.prev_hash,
            self.hash,
        )


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(fields)).hexdigest()


_INSERT = (
    "INSERT INTO consent_events (seq, kind, number, professional, professional_key, consent_uid, at, at_utc,"
    " payload, recorded_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class LedgerWriter:
    """Appends entries after the current head. Use inside a transaction; ``flush`` before it commits.

    Entries are buffered and written with ``executemany`` so that a bulk import hashes and writes a million
    events at the speed of SQLite, not of one ``execute`` per row.
    """

    def __init__(self, conn: sqlite3.Connection, batch: int = 2000) -> None:
        self.conn = conn
        self.batch = batch
        row = conn.execute("SELECT seq, hash FROM consent_events ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        self._pending: list[tuple[Any, ...]] = []
        self.appended = 0

    def append(
        self,
        kind: str,
        *,
        number: str,
        professional: str,
        professional_key: str,
        at: dt.datetime,
        payload: Mapping[str, Any],
        consent_uid: str | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> Entry:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown ledger event kind {kind!r}")
        seq = self.seq + 1
        at_text, recorded_text = at.isoformat(), (recorded_at or now()).isoformat()
        fields: dict[str, Any] = {
            "seq": seq,
            "kind": kind,
            "number": number,
            "professional": professional,
            "consent_uid": consent_uid,
            "at": at_text,
            "payload": dict(payload),
            "recorded_at": recorded_text,
        }
        digest = entry_hash(self.head, fields)
        entry = Entry(
            seq=seq,
            kind=kind,
            number=number,
            professional=professional,
            professional_key=professional_key,
            consent_uid=consent_uid,
            at=at_text,
            at_utc=utc_key(at),
            payload=canonical(fields["payload"]).decode("utf-8"),
            recorded_at=recorded_text,
            prev_hash=self.head,
            hash=digest,
        )
        self._pending.append(entry.row())
        self.seq, self.head = seq, digest
        self.appended += 1
        if len(self._pending) >= self.batch:
            self.flush()
        return entry

    def flush(self) -> None:
        if self._pending:
            self.conn.executemany(_INSERT, self._pending)
            self._pending.clear()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    consents: int
    head: str
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "consents": self.consents,
            "head": self.head,
            "problem": self.problem,
        }


def _entries(conn: sqlite3.Connection) -> Iterator[Entry]:
    cursor = conn.execute(
        "SELECT seq, kind, number, professional, professional_key, consent_uid, at, at_utc, payload,"
        " recorded_at, prev_hash, hash FROM consent_events ORDER BY seq"
    )
    for row in cursor:
        yield Entry(*row)


def verify(conn: sqlite3.Connection) -> Verification:
    """Walk the chain and every consent row; report the first entry that does not hold."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    given: dict[str, str] = {}
    for entry in _entries(conn):
        where = f"ledger entry {entry.seq}"
        if entry.seq != expected_seq:
            return Verification(False, count, 0, expected_prev, f"ledger entry {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return Verification(False, count, 0, expected_prev, f"{where}: does not follow entry {entry.seq - 1}")
        if entry_hash(entry.prev_hash, entry.hashed_fields()) != entry.hash:
            return Verification(False, count, 0, expected_prev, f"{where}: content was altered")
        if entry.kind == "given" and entry.consent_uid is not None:
            given[entry.consent_uid] = json.loads(entry.payload).get("content_hash", "")
        expected_prev, expected_seq, count = entry.hash, entry.seq + 1, count + 1
    consents = 0
    for uid, stored_hash, content in _consent_rows(conn):
        consents += 1
        if given.get(uid) != stored_hash or content_hash(content) != stored_hash:
            return Verification(False, count, consents, expected_prev, f"consent {uid}: does not match the ledger")
    if consents != len(given):
        return Verification(False, count, consents, expected_prev, "a consent of the ledger is missing")
    return Verification(True, count, consents, expected_prev)


def _consent_rows(conn: sqlite3.Connection) -> Iterator[tuple[str, str, dict[str, Any]]]:
    from desktop.core.store.consents import CONSENT_COLUMNS, content_from_row

    cursor = conn.execute(f"SELECT uid, content_hash, {', '.join(CONSENT_COLUMNS)} FROM consents ORDER BY id")
    for row in cursor:
        yield row[0], row[1], content_from_row(row[2:])
