"""Consent events made on this station are queued for the CRM in the transaction of their ledger entry."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from desktop.core.consent.ledger import LedgerWriter, verify
from desktop.core.crm.contract import ConsentEventPayload
from desktop.core.store.consents import (
    ConsentRecord,
    append_event,
    host_station,
    own_event_seq,
    record_consent,
    record_event,
    station_name,
)
from desktop.core.store.db import Store, open_store, transaction

PARIS = dt.timezone(dt.timedelta(hours=1))
NUMBER = "+33639980001"
ACME = "ACME Énergie SAS"


def _record(**changes: object) -> ConsentRecord:
    values: dict[str, object] = {
        "number": NUMBER,
        "professional": ACME,
        "products": ("electricity", "gas"),
        "collected_at": dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        "method": "web_form",
        "affirmative_act": True,
        "pre_ticked": False,
        "evidence_ref": "webform-8812",
        "text_shown": "J'accepte d'être appelé par ACME Énergie SAS.",
    }
    values.update(changes)
    return ConsentRecord(**values)  # type: ignore[arg-type]


def _queued(store: Store) -> list[tuple[str, str, ConsentEventPayload]]:
    rows = store.conn.execute(
        "SELECT kind, entity_id, payload FROM outbox WHERE kind = 'consent_event' ORDER BY id"
    ).fetchall()
    return [(kind, entity, ConsentEventPayload.model_validate_json(body)) for kind, entity, body in rows]


def _withdraw(store: Store, **changes: object) -> int:
    values: dict[str, object] = {
        "number": NUMBER,
        "professional": ACME,
        "at": dt.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),
        "details": {"channel": "oral", "agent": "agent-7", "segment": 3, "interaction": "call-1"},
        "station": "station-a",
    }
    values.update(changes)
    with transaction(store.conn):
        return record_event(store.conn, "withdrawn", **values)  # type: ignore[arg-type]


def test_a_withdrawal_queues_one_consent_event_with_a_stable_id(store: Store) -> None:
    seq = _withdraw(store)
    [(kind, entity, payload)] = _queued(store)
    head = store.conn.execute("SELECT hash FROM consent_events WHERE seq = ?", (seq,)).fetchone()[0]
    assert kind == "consent_event"
    assert entity == payload.external_id == f"station-a:{seq}:{head[:24]}"
    assert payload.kind == "withdrawn"
    assert (payload.number, payload.professional, payload.products) == (NUMBER, ACME, [])
    assert payload.occurred_at == dt.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)
    assert payload.source == "agent-assist:station-a"
    assert payload.interaction_id == "call-1"
    assert own_event_seq(store.conn, payload.external_id) == seq


def test_withdrawing_one_consent_names_it_and_its_products(store: Store) -> None:
    _outcome, uid = record_consent(store.conn, _record(), "cli", station="station-a")
    _withdraw(store, consent_uid=uid)
    given, withdrawn = (payload for _kind, _entity, payload in _queued(store))
    assert given.kind == "given" and given.consent_uid == uid
    assert given.consent is not None and given.consent["evidence_ref"] == "webform-8812"
    assert given.consent["collected_at"] == "2026-09-01T15:02:00+01:00"
    assert withdrawn.kind == "withdrawn" and withdrawn.consent_uid == uid
    assert withdrawn.products == ["electricity", "gas"]
    assert given.external_id != withdrawn.external_id


def test_an_objection_is_shared_and_a_proof_export_is_not(store: Store) -> None:
    with transaction(store.conn):
        record_event(
            store.conn,
            "objection",
            number=NUMBER,
            professional=ACME,
            at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),
            details={"scope": "marketing"},
            station="station-a",
        )
        record_event(
            store.conn,
            "proof_exported",
            number=NUMBER,
            professional=ACME,
            at=dt.datetime(2026, 11, 2, 9, 5, tzinfo=PARIS),
            details={"requested_by": "dpo"},
            station="station-a",
        )
    assert [payload.kind for _kind, _entity, payload in _queued(store)] == ["objection"]


def test_a_consent_that_comes_revoked_queues_both_events(store: Store) -> None:
    record_consent(store.conn, _record(revoked_at=dt.datetime(2026, 10, 1, tzinfo=PARIS)), "cli", station="s")
    assert [payload.kind for _kind, _entity, payload in _queued(store)] == ["given", "withdrawn"]


def test_the_same_consent_again_queues_nothing_more(store: Store) -> None:
    assert record_consent(store.conn, _record(), "cli", station="s")[0] == "inserted"
    assert record_consent(store.conn, _record(), "cli", station="s")[0] == "duplicate"
    assert len(_queued(store)) == 1


def test_pulled_events_are_not_sent_back(store: Store) -> None:
    record_consent(store.conn, _record(), "crm", share=False)
    _withdraw(store, share=False)
    assert _queued(store) == []
    assert store.conn.execute("SELECT count(*) FROM consent_events").fetchone()[0] == 2


def test_a_rollback_leaves_neither_the_entry_nor_the_outbox_row(store: Store) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction(store.conn):
        record_event(
            store.conn,
            "withdrawn",
            number=NUMBER,
            professional=ACME,
            at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),
            details={},
            station="station-a",
        )
        assert len(_queued(store)) == 1  # written inside the transaction...
        raise Boom
    assert _queued(store) == []  # ...and gone with it
    assert store.conn.execute("SELECT count(*) FROM consent_events").fetchone()[0] == 0


def test_an_outbox_failure_rolls_the_ledger_entry_back(store: Store) -> None:
    store.conn.execute("CREATE TEMP TRIGGER no_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        _withdraw(store)
    assert store.conn.execute("SELECT count(*) FROM consent_events").fetchone()[0] == 0


def test_several_events_on_one_ledger_writer(store: Store) -> None:
    with transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        for minute in range(3):
            append_event(
                store.conn,
                ledger,
                "withdrawn",
                number=NUMBER,
                professional=ACME,
                at=dt.datetime(2026, 11, 2, 9, minute, tzinfo=PARIS),
                details={},
                station="station-a",
            )
        ledger.flush()
    ids = [entity for _kind, entity, _payload in _queued(store)]
    assert len(set(ids)) == 3
    assert [own_event_seq(store.conn, entity) for entity in ids] == [1, 2, 3]
    assert verify(store.conn).ok


def test_two_stations_never_make_the_same_id(tmp_path: Path, store: Store) -> None:
    _withdraw(store)
    with open_store(tmp_path / "other") as other:
        _withdraw(other)  # same station name, same event, same seq: another chain
        [(_k, theirs, _p)] = _queued(other)
        assert own_event_seq(other.conn, theirs) == 1
    [(_k, ours, _p)] = _queued(store)
    assert ours != theirs
    assert ours.split(":")[:2] == theirs.split(":")[:2] == ["station-a", "1"]
    assert own_event_seq(store.conn, theirs) is None


def test_station_name_is_the_setting_else_the_host(store: Store) -> None:
    assert station_name("desk-12") == "desk-12"
    assert station_name(None) == station_name("  ") == host_station() != ""
    _withdraw(store, station=None)
    [(_k, entity, payload)] = _queued(store)
    assert entity.startswith(f"{host_station()}:") and payload.source == f"agent-assist:{host_station()}"


@pytest.mark.parametrize("external_id", ["", "crm-123", "a:b:c", "station:x:0123456789abcdef01234567", "s:1:short"])
def test_ids_that_are_not_ours(store: Store, external_id: str) -> None:
    _withdraw(store)
    assert own_event_seq(store.conn, external_id) is None


def test_queued_payload_is_what_the_contract_reads(store: Store) -> None:
    _withdraw(store)
    body = store.conn.execute("SELECT payload FROM outbox").fetchone()[0]
    assert set(json.loads(body)) == set(ConsentEventPayload.model_fields)
