"""``import consents|contracts|attempts|optout``: CSV and JSON Lines, all or nothing, errors that name the line."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.core.consent import importers
from desktop.core.consent.check import CallQuestion, build_facts
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.importers import ImportSummary, run_import
from desktop.core.consent.ledger import (
    GENESIS,
    LedgerWriter,
    canonical,
    content_hash,
    entry_hash,
    utc_key,
    verify,
)
from desktop.core.consent.policy import Policy
from desktop.core.errors import InputError
from desktop.core.store.consents import (
    CONSENT_COLUMNS,
    ConsentRecord,
    consents_for,
    content_from_row,
    insert_consent,
)
from desktop.core.store.db import Store, transaction
from tests.conftest import DATA

IMPORTS = DATA / "imports"
KIND_FILES = [f"{kind}.{ext}" for kind in ("consents", "contracts", "attempts", "optout") for ext in ("csv", "jsonl")]
CONSENT_HEADER = "consent_id,number,professional,products,collected_at,method,affirmative_act,pre_ticked,evidence_ref"
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))
ACME = "ACME Énergie SAS"


def _kind(file_name: str) -> str:
    return file_name.split(".")[0]


def _import(store: Store, path: Path, fmt: str | None = None, kind: str | None = None) -> ImportSummary:
    return run_import(store, kind or _kind(path.name), path, fmt)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _consent_row(index: int, **changes: str) -> str:
    values = {
        "consent_id": f"X-{index}",
        "number": f"+3363998{index:04d}",
        "professional": ACME,
        "products": "electricity",
        "collected_at": "2026-09-01T15:02:00+02:00",
        "method": "web_form",
        "affirmative_act": "true",
        "pre_ticked": "false",
        "evidence_ref": f"wf-{index}",
    }
    values.update(changes)
    return ",".join(values.values())


def _consents_csv(folder: Path, *rows: str, name: str = "consents.csv") -> Path:
    return _write(folder, name, "\n".join([CONSENT_HEADER, *rows]) + "\n")


def _snapshot(store: Store) -> str:
    """Everything the database holds (schema, rows, the ledger), to compare before and after a failed import."""
    return "\n".join(store.conn.iterdump())


def _count(store: Store, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture
def filled(store: Store) -> Store:
    """A store that already holds one import of every kind, so that a rollback has something to keep."""
    for name in KIND_FILES[::2]:
        _import(store, IMPORTS / name)
    return store


# -- each kind, each format -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_consents_are_stored_with_their_ledger_entries(store: Store, ext: str) -> None:
    summary = _import(store, IMPORTS / f"consents.{ext}")
    assert summary.to_json() == {
        "kind": "consents",
        "file": f"consents.{ext}",
        "rows": 5,
        "inserted": 4,
        "updated": 0,
        "duplicates": 1,
    }
    assert summary.line() == f"consents.{ext}: 5 rows, 4 new, 0 updated, 1 duplicates"
    rows = store.conn.execute(
        "SELECT uid, number, products, method, affirmative_act, pre_ticked, evidence_ref, out_of_hours_slots,"
        " out_of_hours_any FROM consents ORDER BY id"
    ).fetchall()
    assert [row[0] for row in rows[:1] + rows[2:]] == ["C-1", "C-3", "C-4"]
    assert rows[1][0].startswith("sha256:")  # no consent_id: the content hash names it
    assert rows[1][1] == "+33639980002"  # "06 39 98 00 02", normalised
    assert rows[0][2] == '["electricity", "gas"]'
    assert rows[1][8] == 1
    assert rows[2][7] == '[["2026-11-28T20:00:00+01:00", "2026-11-28T20:15:00+01:00"]]'
    assert rows[3][3:7] == ("broker_file", None, None, None)  # left empty: unknown, the engine fails closed
    kinds = store.conn.execute("SELECT kind, consent_uid FROM consent_events ORDER BY seq").fetchall()
    assert [kind for kind, _ in kinds] == ["given", "given", "given", "given", "withdrawn"]
    assert kinds[-1][1] == "C-4"
    result = verify(store.conn)
    assert result.ok, result.problem
    assert (result.entries, result.consents) == (5, 4)


def test_csv_and_json_lines_give_the_same_consents(tmp_path: Path) -> None:
    contents = []
    for ext in ("csv", "jsonl"):
        with Store(tmp_path / ext / "store.sqlite3") as store:
            _import(store, IMPORTS / f"consents.{ext}")
            contents.append(store.conn.execute("SELECT uid, content_hash FROM consents ORDER BY id").fetchall())
    assert contents[0] == contents[1]


def test_the_rows_and_entries_are_those_of_insert_consent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import builds the canonical JSON itself for speed: byte for byte the consent rows insert_consent
    writes, and its ledger entries but for the ``given`` payload, which holds the content hash and the source
    without the content (the consent's row is the content, and verify hashes it again)."""
    fixed = dt.datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=dt.UTC)
    monkeypatch.setattr(importers, "now", lambda: fixed)
    monkeypatch.setattr("desktop.core.store.consents.now", lambda: fixed)
    text = "J'accepte d'être appelé par ACME Énergie SAS pour \"électricité\", gaz."
    records = [
        ConsentRecord(
            "+33639980001", ACME, ("electricity", "gas"), dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS_SUMMER),
            "web_form", True, False, "wf-1", text, external_id="C-1",
        ),
        ConsentRecord(
            "+33639980002", ACME, ("fiber",), dt.datetime(2026, 9, 2, 10, tzinfo=PARIS_SUMMER),
            "paper", True, False, "paper-2", out_of_hours_any=True,
        ),
        ConsentRecord(
            "+33639980003", "Télécom Horizon SAS", ("mobile",), dt.datetime(2026, 9, 3, 11, tzinfo=PARIS_SUMMER),
            "email", True, False, "mail-3", "Texte affiché", external_id="C-3",
            out_of_hours_slots=((
                dt.datetime.fromisoformat("2026-11-28T20:00:00+01:00"),
                dt.datetime.fromisoformat("2026-11-28T20:15:00+01:00"),
            ),),
        ),
        ConsentRecord(
            "+33639980004", ACME, ("gas",), dt.datetime(2026, 9, 4, 12, tzinfo=PARIS_SUMMER),
            "broker_file", None, None, None, external_id="C-4",
            revoked_at=dt.datetime(2026, 10, 1, 9, tzinfo=PARIS_SUMMER),
        ),
    ]  # fmt: skip
    dumps = []
    for way in ("insert_consent", "import"):
        with Store(tmp_path / way / "store.sqlite3") as store:
            if way == "import":
                _import(store, IMPORTS / "consents.csv")
            else:
                with transaction(store.conn):
                    ledger = LedgerWriter(store.conn)
                    for record in [*records, records[0]]:
                        insert_consent(store.conn, ledger, record, source="consents.csv")
                    ledger.flush()
            assert verify(store.conn).ok
            dumps.append(
                (
                    store.conn.execute("SELECT * FROM consents ORDER BY id").fetchall(),
                    store.conn.execute("SELECT * FROM consent_events ORDER BY seq").fetchall(),
                )
            )
    assert dumps[0][0] == dumps[1][0]
    expected, head = [], GENESIS  # insert_consent's entries, the given payload slimmed, the chain hashed again
    for seq, kind, number, professional, key, uid, at, at_utc, payload, recorded_at, _prev, _hash in dumps[0][1]:
        details = json.loads(payload)
        if kind == "given":
            details = {"content_hash": details["content_hash"], "source": details["source"]}
        fields = {
            "seq": seq,
            "kind": kind,
            "number": number,
            "professional": professional,
            "consent_uid": uid,
            "at": at,
            "payload": details,
            "recorded_at": recorded_at,
        }
        digest = entry_hash(head, fields)
        text = canonical(details).decode()
        expected.append((seq, kind, number, professional, key, uid, at, at_utc, text, recorded_at, head, digest))
        head = digest
    assert dumps[1][1] == expected
    assert json.loads(expected[0][8]) == {"content_hash": dumps[1][0][0][-2], "source": "consents.csv"}


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_contracts_are_upserted_and_the_last_line_wins(store: Store, ext: str) -> None:
    summary = _import(store, IMPORTS / f"contracts.{ext}")
    assert (summary.rows, summary.inserted, summary.updated, summary.duplicates) == (4, 3, 0, 1)
    rows = store.conn.execute(
        "SELECT uid, professional_key, products, related_products, status, started_at, ended_at FROM contracts"
        " ORDER BY id"
    ).fetchall()
    assert rows[0] == (
        "K-1",
        "acme énergie sas",
        '["electricity"]',
        '["gas", "home_insurance"]',
        "active",
        "2025-03-01T00:00:00+01:00",
        None,
    )
    assert rows[1][0].startswith("sha256:")
    assert rows[2][4:] == ("ended", "2024-01-15T00:00:00+01:00", "2026-06-30T23:59:59+02:00")


def test_a_later_contracts_file_updates_the_status(store: Store, tmp_path: Path) -> None:
    _import(store, IMPORTS / "contracts.csv")
    later = _write(
        tmp_path,
        "contracts-2026-12.csv",
        "contract_id,number,professional,products,status\n"
        "K-1,+33639980001,ACME Énergie SAS,electricity,suspended\n"
        ",+33639980002,Télécom Horizon SAS,fiber|mobile,active\n",
    )
    summary = _import(store, later, kind="contracts")
    assert (summary.inserted, summary.updated, summary.duplicates) == (0, 1, 1)
    status, related, source = store.conn.execute(
        "SELECT status, related_products, source FROM contracts WHERE uid = 'K-1'"
    ).fetchone()
    assert (status, related, source) == ("suspended", "[]", "contracts-2026-12.csv")
    assert _count(store, "contracts") == 3


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_attempts_are_facts_identified_by_number_professional_and_instant(store: Store, ext: str) -> None:
    summary = _import(store, IMPORTS / f"attempts.{ext}")
    # Line 3 is line 2 again: the same professional written otherwise, the same instant in UTC.
    assert (summary.rows, summary.inserted, summary.updated, summary.duplicates) == (4, 3, 0, 1)
    rows = store.conn.execute("SELECT uid, at, at_utc, outcome, source FROM call_attempts ORDER BY id").fetchall()
    assert rows[0] == (
        "A-1",
        "2026-11-02T10:30:00+01:00",
        "2026-11-02T09:30:00.000000Z",
        "no_answer",
        f"attempts.{ext}",
    )
    assert rows[1][0].startswith("sha256:") and rows[1][2] == utc_key(dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC))


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_optout_entries_and_one_scrub_per_date(store: Store, ext: str) -> None:
    summary = _import(store, IMPORTS / f"optout.{ext}")
    assert (summary.rows, summary.inserted, summary.updated, summary.duplicates) == (4, 4, 0, 0)
    scrubs = store.conn.execute("SELECT id, scrubbed_on, source, rows FROM opposition_scrubs ORDER BY id").fetchall()
    assert [scrub[1:] for scrub in scrubs] == [
        ("2026-07-28", f"optout.{ext}", 3),
        ("2026-08-27", f"optout.{ext}", 1),
    ]
    entries = store.conn.execute(
        "SELECT number, scrubbed_on, registered, since, scrub_id FROM opposition_entries ORDER BY number, scrubbed_on"
    ).fetchall()
    assert entries == [
        ("+33639980001", "2026-07-28", 1, "2024-05-02", scrubs[0][0]),
        ("+33639980001", "2026-08-27", 1, "2024-05-02", scrubs[1][0]),
        ("+33639980002", "2026-07-28", 0, None, scrubs[0][0]),
        ("+33639980003", "2026-07-28", 0, None, scrubs[0][0]),
    ]


def test_a_new_scrub_file_updates_entries(store: Store, tmp_path: Path) -> None:
    _import(store, IMPORTS / "optout.csv")
    later = _write(
        tmp_path,
        "bloctel-rescrub.csv",
        "scrubbed_on,number,registered\n2026-07-28,+33639980002,true\n2026-07-28,+33639980002,false\n"
        "2026-07-28,+33639980003,oui\n",
    )
    summary = _import(store, later, kind="optout")
    # The number ...02 comes twice: the last line wins, and it is what the store already has.
    assert (summary.rows, summary.inserted, summary.updated, summary.duplicates) == (3, 0, 1, 2)
    assert store.conn.execute(
        "SELECT registered, scrub_id FROM opposition_entries WHERE number = '+33639980003'"
    ).fetchone() == (1, 3)
    assert store.conn.execute("SELECT source, rows FROM opposition_scrubs WHERE id = 3").fetchone() == (
        "bloctel-rescrub.csv",
        3,
    )


def test_what_is_imported_is_what_a_check_reads(filled: Store, policy: Policy) -> None:
    question = CallQuestion(
        number="+33639980001",
        product="electricity",
        professional="ACME ÉNERGIE sas",
        at=dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        caller_id="+33162000001",
    )
    document = build_facts(filled.conn, question, policy)
    parse_facts(document, "stored facts")
    assert [consent["products"] for consent in document["consents"]] == [["electricity", "gas"]]
    assert document["contracts"][0]["related_products"] == ["gas", "home_insurance"]
    assert [attempt["at"] for attempt in document["attempts"]] == [
        "2026-11-02T10:30:00+01:00",
        "2026-11-03T10:30:00+01:00",
    ]
    assert document["opposition_list"] == {"registered": True, "since": "2024-05-02", "last_scrub": "2026-08-27"}


# -- the same file again, duplicates, conflicts ----------------------------------------------------------------


@pytest.mark.parametrize("file_name", KIND_FILES)
def test_importing_the_same_file_again_changes_nothing(store: Store, file_name: str) -> None:
    first = _import(store, IMPORTS / file_name)
    before = _snapshot(store)
    again = _import(store, IMPORTS / file_name)
    assert (again.rows, again.inserted, again.updated, again.duplicates) == (first.rows, 0, 0, first.rows)
    assert _snapshot(store) == before  # no row, no ledger entry, no scrub, no audit row
    assert verify(store.conn).ok


def test_an_import_that_changes_something_is_audited(store: Store) -> None:
    _import(store, IMPORTS / "consents.csv")
    _import(store, IMPORTS / "consents.jsonl")  # the same consents: nothing new, no audit row
    rows = store.conn.execute("SELECT actor, action, details FROM audit").fetchall()
    assert len(rows) == 1
    actor, action, details = rows[0]
    assert (actor, action) == (None, "import")
    assert json.loads(details) == {
        "kind": "consents",
        "file": "consents.csv",
        "format": "csv",
        "rows": 5,
        "inserted": 4,
        "updated": 0,
        "duplicates": 1,
    }


def test_a_stored_consent_that_comes_again_revoked_gets_its_withdrawal(store: Store, tmp_path: Path) -> None:
    _import(store, IMPORTS / "consents.csv")
    header, first = (IMPORTS / "consents.csv").read_text(encoding="utf-8").splitlines()[:2]
    revoked = _write(tmp_path, "export.csv", f"{header}\n{first}2026-11-10T10:42:00+01:00\n")
    summary = _import(store, revoked, kind="consents")
    assert (summary.inserted, summary.updated, summary.duplicates) == (0, 1, 0)
    assert consents_for(store.conn, "+33639980001")[0]["revoked_at"] == "2026-11-10T10:42:00+01:00"
    assert verify(store.conn).ok
    before = _snapshot(store)
    again = _import(store, revoked, kind="consents")
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 1)
    assert _snapshot(store) == before


def test_a_consent_revoked_later_in_the_same_file(store: Store, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "consents.csv",
        f"{CONSENT_HEADER},revoked_at\n{_consent_row(1)},\n{_consent_row(1)},2026-10-01T09:00:00+02:00\n"
        f"{_consent_row(1)},2026-10-02T09:00:00+02:00\n",
    )
    summary = _import(store, path)
    assert (summary.inserted, summary.updated, summary.duplicates) == (1, 1, 1)  # the first withdrawal counts
    assert store.conn.execute("SELECT kind, at FROM consent_events ORDER BY seq").fetchall() == [
        ("given", "2026-09-01T15:02:00+02:00"),
        ("withdrawn", "2026-10-01T09:00:00+02:00"),
    ]
    assert verify(store.conn).ok


def test_import_settings_are_restored_and_references_hold(store: Store, tmp_path: Path) -> None:
    """The import changes a few connection settings for its own transaction only, and skips the foreign key
    look-ups of the consents' ledger entries because it only refers to consents it wrote or found."""
    pragmas = ("cache_size", "threads", "synchronous", "foreign_keys")
    before = [store.conn.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in pragmas]
    _import(store, IMPORTS / "consents.csv")
    header, first = (IMPORTS / "consents.csv").read_text(encoding="utf-8").splitlines()[:2]
    _import(store, _write(tmp_path, "later.csv", f"{header}\n{first}2026-11-10T10:42:00+01:00\n"), kind="consents")
    with pytest.raises(InputError):
        _import(store, _consents_csv(tmp_path, _consent_row(1, pre_ticked="maybe")))
    assert [store.conn.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in pragmas] == before
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _count(store, "consent_events") == 6


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE consents SET text_shown = 'autre texte' WHERE uid = 'C-1'", "consent C-1: does not match the ledger"),
        ("UPDATE consents SET method = 'paper' WHERE uid = 'C-3'", "consent C-3: does not match the ledger"),
        (  # the row and its own hash edited together: the ledger entry still holds the old hash
            "UPDATE consents SET number = '+33639989999', content_hash = '{}' WHERE uid = 'C-1'",
            "consent C-1: does not match the ledger",
        ),
        (
            'UPDATE consent_events SET payload = replace(payload, \'"source":"consents.csv"\','
            ' \'"source":"other.csv"\') WHERE seq = 1',
            "ledger entry 1: content was altered",
        ),
        ("DELETE FROM consents WHERE uid = 'C-4'", "a consent of the ledger is missing"),
    ],
)
def test_tampering_with_imported_consents_is_detected(store: Store, sql: str, problem: str) -> None:
    """The given entry holds the content hash, not the content: verify hashes each consent row again."""
    _import(store, IMPORTS / "consents.csv")
    if "{}" in sql:
        uid_row = store.conn.execute(f"SELECT {', '.join(CONSENT_COLUMNS)} FROM consents WHERE uid = 'C-1'").fetchone()
        content = content_from_row(uid_row)
        content["number"] = "+33639989999"
        sql = sql.format(content_hash(content))
    store.conn.execute("PRAGMA foreign_keys = OFF")
    for table in ("consents", "consent_events"):
        for action in ("update", "delete"):
            store.conn.execute(f"DROP TRIGGER {table}_append_only_{action}")
    assert store.conn.execute(sql).rowcount == 1
    result = verify(store.conn)
    assert not result.ok
    assert problem == result.problem


def test_duplicates_across_batches(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "BATCH", 3)
    rows = [_consent_row(index) for index in range(7)]
    path = _consents_csv(tmp_path, *rows, rows[1], rows[5], rows[6], *(_consent_row(index) for index in range(7, 9)))
    summary = _import(store, path)
    assert (summary.rows, summary.inserted, summary.duplicates) == (12, 9, 3)
    result = verify(store.conn)
    assert result.ok and (result.entries, result.consents) == (9, 9)


def test_bulk_load_drops_and_rebuilds_the_secondary_indexes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(importers, "BATCH", 4)
    schema = store.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    path = _consents_csv(tmp_path, *(_consent_row(index) for index in range(10)), _consent_row(3))
    assert _import(store, path).inserted == 10
    assert store.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    plan = store.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM consents WHERE number = '+33639980001'").fetchall()
    assert "consents_number" in str(plan)
    assert verify(store.conn).ok


# -- errors: one line naming the file, the line and the field; the store unchanged ------------------------------

CONSENT_ERRORS = [
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1)}\n{_consent_row(2, collected_at='2026-09-01T15:02')}\n",
        "consents.csv:3: collected_at: date-time without a UTC offset: '2026-09-01T15:02'",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER},colour\n{_consent_row(1)},blue\n",
        "consents.csv:1: unknown column 'colour' (known: consent_id, number,",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER.replace(',collected_at', '')}\n",
        "consents.csv:1: missing column 'collected_at' (required)",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER},number\n",
        "consents.csv:1: column 'number' appears twice",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1)}\n{_consent_row(2)[:40]}\n",
        "consents.csv:3: expected 9 fields as in the header, got 4 (the file looks truncated)",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1)}\n{_consent_row(2, evidence_ref=chr(34) + 'wf-2')}\n",
        "consents.csv:3: malformed CSV: unexpected end of data",
    ),
    ("consents.csv", "", "consents.csv: empty file (expected a header row, then one row per record)"),
    ("consents.csv", f"{CONSENT_HEADER}\n\n", "consents.csv: no rows after the header"),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, number='06 12')}\n",
        "consents.csv:2: number: impossible phone number '06 12'",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, number='')}\n",
        "consents.csv:2: number: missing value",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, method='fax')}\n",
        "consents.csv:2: method: expected one of web_form, paper, store, email, phone_call, recorded_call,"
        " broker_file, got 'fax'",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, pre_ticked='maybe')}\n",
        "consents.csv:2: pre_ticked: expected true or false (also 1/0, yes/no, oui/non), got 'maybe'",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, products='gas||fiber')}\n",
        "consents.csv:2: products: empty product name",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER},revoked_at\n{_consent_row(1)},2026-08-01T10:00:00+02:00\n",
        "consents.csv:2: revoked_at: earlier than collected_at",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER},out_of_hours_slots\n{_consent_row(1)},2026-11-28T20:15:00+01:00\n",
        "consents.csv:2: out_of_hours_slots: expected START/END date-times separated by '|',"
        " got '2026-11-28T20:15:00+01:00'",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(1, products='gas')}\n",
        "consents.csv:2: consent_id: consent 'X-1' differs from the one with this id in the store",
    ),
    (
        "consents.csv",
        f"{CONSENT_HEADER}\n{_consent_row(7)}\n{_consent_row(7, products='gas')}\n",
        "consents.csv:3: consent_id: consent 'X-7' differs from the one with this id in line 2 of this file",
    ),
]


def _jsonl(**changes: object) -> str:
    document: dict[str, object] = {
        "number": "+33639980011",
        "professional": ACME,
        "products": ["gas"],
        "collected_at": "2026-09-01T15:02:00+02:00",
        "method": "web_form",
        "affirmative_act": True,
        "pre_ticked": False,
        "evidence_ref": "wf-11",
    }
    document.update(changes)
    return json.dumps({key: value for key, value in document.items() if value != "-"}, ensure_ascii=False)


JSONL_ERRORS = [
    (f"{_jsonl()}\n" + _jsonl()[:30], "consents.jsonl:2: malformed JSON (the file looks truncated): "),
    (f"{_jsonl()}\n{{'number': 1}}\n{_jsonl()}\n", "consents.jsonl:2: malformed JSON: Expecting property name"),
    (f"{_jsonl(colour='blue', size=2)}\n", "consents.jsonl:1: unknown keys 'colour', 'size'"),
    (f"{_jsonl(collected_at='-')}\n", "consents.jsonl:1: collected_at: missing key"),
    (f"{_jsonl(number=None)}\n", "consents.jsonl:1: number: missing value (null)"),
    (f"{_jsonl(number=33612345678)}\n", "consents.jsonl:1: number: expected a string, got 33612345678"),
    (f"{_jsonl(affirmative_act='yes')}\n", 'consents.jsonl:1: affirmative_act: expected true or false, got "yes"'),
    (f"{_jsonl(products='gas')}\n", 'consents.jsonl:1: products: expected a list of product names, got "gas"'),
    (
        f"{_jsonl(out_of_hours_slots=[{'start': '2026-11-28T20:15:00+01:00', 'end': '2026-11-28T20:00:00+01:00'}])}\n",
        "consents.jsonl:1: out_of_hours_slots: slot does not end after it starts",
    ),
    (f"{_jsonl()}\n[1, 2]\n", "consents.jsonl:2: expected a JSON object, got list"),
    (
        _jsonl(text_shown="SURROGATE").replace("SURROGATE", "\\ud800") + "\n",
        "consents.jsonl:1: text_shown: text that is not valid Unicode",
    ),
    ("\n  \n", "consents.jsonl: empty file (expected one JSON object per line)"),
]

OTHER_ERRORS = [
    (
        "contracts.csv",
        "number,professional,products,status\n+33639980001,ACME,gas,closed\n",
        "contracts.csv:2: status: expected one of active, suspended, ended, cancelled, got 'closed'",
    ),
    (
        "contracts.csv",
        "number,professional,products,status,started_at,ended_at\n"
        "+33639980001,ACME,gas,ended,2026-01-01T00:00:00+01:00,2025-01-01T00:00:00+01:00\n",
        "contracts.csv:2: ended_at: earlier than started_at",
    ),
    (
        "contracts.jsonl",
        '{"number": "+33639980001", "professional": "ACME", "products": ["gas"], "status": "active", "at": 1}\n',
        "contracts.jsonl:1: unknown key 'at'",
    ),
    (
        "attempts.csv",
        "number,professional,at,outcome\n+33639980001,ACME,2026-11-02T10:30:00+01:00,hung_up\n",
        "attempts.csv:2: outcome: expected one of no_answer, answered, refused, busy, voicemail, failed, got 'hung_up'",
    ),
    (
        "attempts.csv",
        "attempt_id,number,professional,at,outcome\nA-1,+33639980001,ACME Énergie SAS,2026-11-02T10:30:00+01:00,busy\n",
        "attempts.csv:2: attempt_id: attempt 'A-1' is already recorded with a different content",
    ),
    (
        "attempts.jsonl",
        '{"number": "+33639980001", "professional": "ACME Énergie SAS", "at": "2026-11-03T09:30:00Z",'
        ' "outcome": "answered"}\n',
        "attempts.jsonl:1: outcome: this attempt (same number, professional and time) is already recorded as 'busy'",
    ),
    (
        "optout.csv",
        "number,registered,scrubbed_on\n+33639980001,true,2026-02-30\n",
        "optout.csv:2: scrubbed_on: impossible date '2026-02-30'",
    ),
    (
        "optout.csv",
        "number,registered,since,scrubbed_on\n+33639980001,true,2026-09-01,2026-08-27\n",
        "optout.csv:2: since: later than scrubbed_on",
    ),
    (
        "optout.jsonl",
        '{"number": "+33639980001", "registered": "yes", "scrubbed_on": "2026-08-27"}\n',
        'optout.jsonl:1: registered: expected true or false, got "yes"',
    ),
]


def _assert_refused(store: Store, path: Path, message: str, fmt: str | None = None) -> None:
    before = _snapshot(store)
    with pytest.raises(InputError) as error:
        run_import(store, _kind(path.name), path, fmt)
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)
    assert _snapshot(store) == before
    assert verify(store.conn).ok


@pytest.mark.parametrize(
    ("name", "text", "message"),
    CONSENT_ERRORS + OTHER_ERRORS,
    ids=[message.split(": ", 1)[0] for _, _, message in CONSENT_ERRORS + OTHER_ERRORS],
)
def test_errors_name_the_line_and_change_nothing(
    filled: Store, tmp_path: Path, name: str, text: str, message: str
) -> None:
    _import(filled, _consents_csv(tmp_path, _consent_row(1), name="earlier.csv"), kind="consents")
    _assert_refused(filled, _write(tmp_path, name, text), message)


@pytest.mark.parametrize(("text", "message"), JSONL_ERRORS, ids=[message[:40] for _, message in JSONL_ERRORS])
def test_json_lines_errors(filled: Store, tmp_path: Path, text: str, message: str) -> None:
    _assert_refused(filled, _write(tmp_path, "consents.jsonl", text), message)


def test_an_error_after_batches_were_written_rolls_them_back(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "BATCH", 3)
    rows = [_consent_row(index) for index in range(10, 20)]
    path = _consents_csv(tmp_path, *rows, _consent_row(20, collected_at="2026-13-01T00:00:00+02:00"))
    _assert_refused(filled, path, "consents.csv:12: collected_at: not an ISO 8601 date-time, or an impossible one")


def test_a_bulk_load_that_fails_keeps_the_indexes(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(importers, "BATCH", 2)
    rows = [_consent_row(index) for index in range(10, 20)]
    path = _consents_csv(tmp_path, *rows, _consent_row(20, affirmative_act="si"))
    _assert_refused(filled, path, "consents.csv:12: affirmative_act: expected true or false")


@pytest.mark.parametrize("other_connection", [False, True])
def test_a_bulk_load_leaves_wal_only_when_alone_and_comes_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_connection: bool
) -> None:
    """A bulk load into a store no one else has open runs with a rollback journal; the store is in WAL after,
    whether the load went in or was refused; with another connection open it stays in WAL (and does not wait)."""
    monkeypatch.setattr(importers, "BULK_MIN_ROWS", 0)
    modes: list[str] = []
    real_transaction = importers.transaction

    def spying_transaction(conn: sqlite3.Connection) -> Any:
        modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
        return real_transaction(conn)

    monkeypatch.setattr(importers, "transaction", spying_transaction)
    other = Store(store.path) if other_connection else None
    try:
        if other is not None:
            other.conn.execute("SELECT count(*) FROM consents").fetchone()
        before = _snapshot(store)
        bad = _consents_csv(tmp_path, _consent_row(1), _consent_row(2, pre_ticked="maybe"), name="bad.csv")
        with pytest.raises(InputError, match=r"bad\.csv:3: pre_ticked"):
            _import(store, bad, kind="consents")
        assert _snapshot(store) == before
        assert not Path(f"{store.path}-journal").exists()
        started = time.monotonic()
        assert _import(store, _consents_csv(tmp_path, *(_consent_row(index) for index in range(5)))).inserted == 5
        assert time.monotonic() - started < 5  # no busy wait for the other connection
    finally:
        if other is not None:
            other.close()
    assert modes == ["wal" if other_connection else "delete"] * 2
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    result = verify(store.conn)
    assert result.ok and result.consents == 5


def test_bytes_that_are_not_utf8_are_named_by_line(filled: Store, tmp_path: Path) -> None:
    path = tmp_path / "consents.csv"
    path.write_bytes(f"{CONSENT_HEADER}\n{_consent_row(1)}\n".encode() + _consent_row(2).encode("latin-1") + b"\n")
    _assert_refused(filled, path, "consents.csv:3: not UTF-8 text (byte 23 of the line)")


def test_a_revoked_duplicate_then_an_error_changes_nothing(filled: Store, tmp_path: Path) -> None:
    header = (IMPORTS / "consents.csv").read_text(encoding="utf-8").splitlines()[0]
    first = (IMPORTS / "consents.csv").read_text(encoding="utf-8").splitlines()[1]
    path = _write(tmp_path, "consents.csv", f"{header}\n{first}2026-11-10T10:42:00+01:00\n{first}x\n")
    _assert_refused(filled, path, "consents.csv:3: revoked_at: not an ISO 8601 date-time")


@pytest.mark.parametrize(
    ("kind", "name", "fmt", "message"),
    [
        ("consents", "consents.txt", None, "consents.txt: cannot tell the format from the extension '.txt'"),
        ("consents", "consents", None, "consents: cannot tell the format from the extension '(none)'"),
        ("consents", "consents.csv", "xml", "unknown import format 'xml': expected csv or jsonl"),
        ("consumers", "consents.csv", None, "unknown import kind 'consumers'"),
        ("consents", "missing.csv", None, "missing.csv: cannot read the file: No such file or directory"),
    ],
)
def test_what_cannot_be_imported_at_all(
    filled: Store, tmp_path: Path, kind: str, name: str, fmt: str | None, message: str
) -> None:
    for source in ("consents.csv", "consents.txt", "consents"):
        shutil.copy(IMPORTS / "consents.csv", tmp_path / source)
    before = _snapshot(filled)
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        run_import(filled, kind, tmp_path / name, fmt)
    assert _snapshot(filled) == before


# -- reading ----------------------------------------------------------------------------------------------------


def test_format_given_explicitly_byte_order_mark_and_spellings(store: Store, tmp_path: Path) -> None:
    text = (
        f"\ufeff{CONSENT_HEADER}\r\n"
        f"{_consent_row(1, affirmative_act='OUI', pre_ticked=' non ')}\r\n"
        f"{_consent_row(2, affirmative_act='1', pre_ticked='No', number='+33 6 39 98 00 02')}\r\n"
        "\r\n"
    )
    path = tmp_path / "export.txt"
    path.write_bytes(text.encode("utf-8"))
    assert run_import(store, "consents", path, "csv").inserted == 2
    rows = store.conn.execute("SELECT number, affirmative_act, pre_ticked FROM consents ORDER BY id").fetchall()
    assert rows == [("+33639980001", 1, 0), ("+33639980002", 1, 0)]


def test_ndjson_extension_and_blank_lines(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "consents.ndjson", f"\ufeff{_jsonl()}\n\n{_jsonl(number='0639980012')}")
    assert run_import(store, "consents", path).inserted == 2


def test_iso_text_is_what_isoformat_writes() -> None:
    """The import keeps a file's date-time text when isoformat would write it the same way; checked widely."""
    rng = random.Random(7)
    for _ in range(3000):
        offset = rng.choice(["+02:00", "+01:00", "-00:00", "+00:00", "-05:30", "+14:00", "Z", "+0200", ""])
        text = (
            f"{rng.choice([rng.randrange(1000, 9999), rng.randrange(1, 1000)]):04d}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            f"{rng.choice('T ')}{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            f"{rng.choice([':' + format(rng.randrange(60), '02d'), ':00.5', ''])}{offset}"
        )
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError:
            continue
        if instant.tzinfo is None:
            continue
        assert importers._iso_text(text, instant) == instant.isoformat(), text
        assert importers._UtcKeys().key(instant.isoformat(), instant) == utc_key(instant), text
