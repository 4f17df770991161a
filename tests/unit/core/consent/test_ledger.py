from __future__ import annotations

import datetime as dt
import itertools
import sqlite3

import pytest

from desktop.core.consent.ledger import GENESIS, LedgerWriter, verify
from desktop.core.errors import InputError
from desktop.core.store.consents import ConsentRecord, insert_consent, record_event
from desktop.core.store.db import Store, transaction

PARIS = dt.timezone(dt.timedelta(hours=1))


def _record(number: str = "+33639980001", **changes: object) -> ConsentRecord:
    values: dict[str, object] = {
        "number": number,
        "professional": "ACME Énergie SAS",
        "products": ("electricity", "gas"),
        "collected_at": dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        "method": "web_form",
        "affirmative_act": True,
        "pre_ticked": False,
        "evidence_ref": "webform-1",
        "text_shown": "J'accepte d'être appelé par ACME Énergie SAS.",
    }
    values.update(changes)
    return ConsentRecord(**values)  # type: ignore[arg-type]


def _fill(store: Store) -> None:
    with transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        for index in range(5):
            insert_consent(store.conn, ledger, _record(f"+3363998000{index}"), source="test")
        ledger.flush()
    with transaction(store.conn):
        record_event(
            store.conn,
            "withdrawn",
            number="+33639980001",
            professional="ACME Énergie SAS",
            at=dt.datetime(2026, 11, 10, 10, 42, tzinfo=PARIS),
            details={"channel": "oral"},
        )


def _tamper(store: Store, sql: str) -> None:
    """What someone with the sqlite3 shell can do: drop the guard triggers and edit."""
    store.conn.execute("PRAGMA foreign_keys = OFF")
    for table in ("consents", "consent_events"):
        for action in ("update", "delete"):
            store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{action}")
    store.conn.execute(sql)


def test_chain_links_every_entry(store: Store) -> None:
    _fill(store)
    rows = store.conn.execute("SELECT seq, prev_hash, hash FROM consent_events ORDER BY seq").fetchall()
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0][1] == GENESIS
    for previous, current in itertools.pairwise(rows):
        assert current[1] == previous[2]
    result = verify(store.conn)
    assert result.ok, result.problem
    assert (result.entries, result.consents) == (6, 5)


def test_empty_ledger_verifies(store: Store) -> None:
    result = verify(store.conn)
    assert result.ok and result.entries == 0 and result.head == GENESIS


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "UPDATE consent_events SET at = '2026-12-01T10:00:00+01:00' WHERE seq = 6",
            "ledger entry 6: content was altered",
        ),
        ("UPDATE consent_events SET payload = '{}' WHERE seq = 2", "ledger entry 2: content was altered"),
        ("DELETE FROM consent_events WHERE seq = 3", "ledger entry 3 is missing"),
        ("UPDATE consents SET text_shown = 'autre texte' WHERE id = 2", "does not match the ledger"),
        ('UPDATE consents SET products = \'["electricity","gas","fibre"]\' WHERE id = 1', "does not match the ledger"),
        ("DELETE FROM consents WHERE id = 4", "a consent of the ledger is missing"),
    ],
)
def test_tampering_is_detected(store: Store, sql: str, problem: str) -> None:
    _fill(store)
    _tamper(store, sql)
    result = verify(store.conn)
    assert not result.ok
    assert problem in (result.problem or "")


def test_rehashing_one_entry_breaks_the_next(store: Store) -> None:
    """Recomputing the hash of an edited entry is not enough: the next entry points at the old one."""
    _fill(store)
    from desktop.core.consent.ledger import Entry, entry_hash

    row = store.conn.execute("SELECT * FROM consent_events WHERE seq = 2").fetchone()
    entry = Entry(*row)
    edited = Entry(*row[:6], "2026-09-02T10:00:00+02:00", *row[7:])
    new_hash = entry_hash(entry.prev_hash, edited.hashed_fields())
    _tamper(store, f"UPDATE consent_events SET at = '{edited.at}', hash = '{new_hash}' WHERE seq = 2")
    result = verify(store.conn)
    assert not result.ok and result.problem == "ledger entry 3: does not follow entry 2"


def test_triggers_refuse_edits(store: Store) -> None:
    _fill(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE consent_events SET kind = 'given' WHERE seq = 6")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM consents")


def test_same_consent_twice_is_a_duplicate(store: Store) -> None:
    with transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        first = insert_consent(store.conn, ledger, _record(), source="test")
        second = insert_consent(store.conn, ledger, _record(), source="test")
        ledger.flush()
    assert first[0] == "inserted" and second == ("duplicate", first[1])
    assert verify(store.conn).entries == 1


def test_other_content_under_the_same_id_is_refused_and_rolled_back(store: Store) -> None:
    with pytest.raises(InputError, match="different content"), transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        insert_consent(store.conn, ledger, _record(external_id="K1"), source="test")
        insert_consent(store.conn, ledger, _record(external_id="K1", products=("gas",)), source="test")
    assert store.conn.execute("SELECT count(*) FROM consents").fetchone()[0] == 0
    assert verify(store.conn).entries == 0


def test_withdrawal_before_a_later_consent_does_not_revoke_it(store: Store) -> None:
    from desktop.core.store.consents import consents_for

    with transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        insert_consent(store.conn, ledger, _record(), source="test")
        ledger.flush()
        record_event(
            store.conn,
            "withdrawn",
            number="+33639980001",
            professional="acme énergie sas",
            at=dt.datetime(2026, 10, 1, 9, 0, tzinfo=PARIS),
            details={},
        )
        ledger = LedgerWriter(store.conn)
        insert_consent(
            store.conn, ledger, _record(collected_at=dt.datetime(2026, 10, 5, 9, 0, tzinfo=PARIS)), source="test"
        )
        ledger.flush()
    consents = consents_for(store.conn, "+33639980001")
    assert [c["revoked_at"] for c in consents] == ["2026-10-01T09:00:00+01:00", None]
