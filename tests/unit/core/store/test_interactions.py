from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from desktop.core.consent.policy import Policy
from desktop.core.errors import InputError, NotFoundError
from desktop.core.store.db import Store
from desktop.core.store.interactions import CSV_COLUMNS, export_csv, list_interactions, show_interaction
from tests.unit.ui_ops import CONSENTED, PARIS, SeededCalls, seed_calls


@pytest.fixture
def calls(store: Store, policy: Policy) -> SeededCalls:
    return seed_calls(store.conn, policy)


def uids(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [row.uid for row in rows]


def test_lists_newest_first_with_verdict_disposition_and_withdrawal(store: Store, calls: SeededCalls) -> None:
    rows = list_interactions(store.conn)
    assert uids(rows) == [calls.objected, calls.missed, calls.inbound, calls.withdrawn]
    by_uid = {row.uid: row for row in rows}
    withdrawn = by_uid[calls.withdrawn]
    assert (withdrawn.verdict, withdrawn.reason_code) == ("forbidden", "CONSENT_REVOKED")
    assert (withdrawn.disposition, withdrawn.validated, withdrawn.withdrawal) == ("do_not_call", True, True)
    assert (withdrawn.duration_s, withdrawn.segments, withdrawn.agent_id) == (75, 3, "agent-7")
    assert withdrawn.number == CONSENTED  # as stored; masking is the caller's choice
    inbound = by_uid[calls.inbound]
    assert (inbound.verdict, inbound.disposition, inbound.validated, inbound.state) == (
        "allowed",
        "information_given",
        False,
        "wrap_up",
    )
    missed = by_uid[calls.missed]
    assert (missed.state, missed.disposition, missed.segments, missed.withdrawal) == ("missed", None, 0, False)
    # The objection was recorded outside the call (no link): it belongs to the call by number and time.
    assert by_uid[calls.objected].withdrawal is True


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"agent": "agent-9"}, ["objected", "missed"]),
        ({"disposition": "do_not_call"}, ["withdrawn"]),
        ({"verdict": "allowed"}, ["inbound"]),
        ({"verdict": "forbidden", "agent": "agent-7"}, ["withdrawn"]),
        ({"withdrawal": True}, ["objected", "withdrawn"]),
        ({"withdrawal": False}, ["missed", "inbound"]),
        ({"date_from": "2026-11-25", "date_to": "2026-11-26"}, ["missed", "inbound"]),
        ({"date_from": dt.date(2026, 11, 27)}, ["objected"]),
        ({"date_to": dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)}, ["withdrawn"]),
        ({"date_from": "2026-11-26T09:00:00+00:00"}, ["objected", "missed"]),
        ({"limit": 1}, ["objected"]),
        ({"agent": "nobody"}, []),
    ],
)
def test_filters(store: Store, calls: SeededCalls, filters: dict, expected: list[str]) -> None:  # type: ignore[type-arg]
    rows = list_interactions(store.conn, **filters)
    assert uids(rows) == [getattr(calls, name) for name in expected]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"disposition": "won"}, "disposition: unknown 'won'"),
        ({"verdict": "maybe"}, "verdict: unknown 'maybe'"),
        ({"date_from": "24/11/2026"}, "--from: not a date"),
        ({"date_to": "2026-11-24T10:00:00"}, "--to: give the offset"),
        ({"limit": 0}, "limit: must be positive"),
    ],
)
def test_bad_filters_are_input_errors(store: Store, filters: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=message):
        list_interactions(store.conn, **filters)


def test_a_withdrawal_of_another_call_or_outside_the_window_does_not_count(store: Store, calls: SeededCalls) -> None:
    # The withdrawal of the 24th is linked to that call: the later call to the same number does not claim it,
    # and the objection of the 27th came after the first call's end + grace.
    detail = show_interaction(store.conn, calls.withdrawn)
    assert [(event["kind"], event["linked"]) for event in detail["consent_events"]] == [("withdrawn", True)]
    assert detail["suggestions"] == [
        {"source": "playbook:withdrawal-01", "accepted": True, "at": "2026-11-24T10:30:15+01:00"}
    ]
    later = show_interaction(store.conn, calls.objected)
    assert [(event["kind"], event["linked"]) for event in later["consent_events"]] == [("objection", False)]


def test_show_gives_the_whole_call_with_the_number_masked(store: Store, calls: SeededCalls) -> None:
    detail = show_interaction(store.conn, calls.withdrawn)
    interaction = detail["interaction"]
    assert interaction["number"] == "+•••••••••01"
    assert (interaction["state"], interaction["call_id"], interaction["duration_s"]) == ("saved", "c1", 75)
    assert [(segment["idx"], segment["speaker"]) for segment in detail["segments"]] == [
        (0, "agent"),
        (1, "customer"),
        (2, "agent"),
    ]
    assert "retire mon accord" in detail["segments"][1]["text"]
    assert detail["summary"]["body"]["disposition"] == "do_not_call"
    assert detail["summary"]["validated_by"] == "agent-7"
    assert detail["decision"]["verdict"] == "forbidden"
    assert detail["decision"]["reasons"][0]["code"] == "CONSENT_REVOKED"
    # every evaluation of the call, in order: green at the start, red from the withdrawal
    assert [(d["verdict"], d["code"]) for d in detail["decisions"]] == [
        ("allowed", "VALID_CONSENT"),
        ("forbidden", "CONSENT_REVOKED"),
    ]
    assert detail["decisions"][-1]["id"] == interaction["decision_id"]
    assert all(segment["final"] for segment in detail["segments"])
    assert detail["withdrawal"] is True
    assert detail["consent_events"][0]["payload"]["interaction"] == calls.withdrawn
    assert detail["consent_events"][0]["at"] == "2026-11-24T10:30:14+01:00"


def test_show_finds_by_id_uid_or_uid_prefix(store: Store, calls: SeededCalls) -> None:
    by_uid = show_interaction(store.conn, calls.missed, unmasked=True)
    assert by_uid["interaction"]["number"] == "+33639980003"
    assert by_uid["summary"] is None and by_uid["segments"] == [] and by_uid["withdrawal"] is False
    ident = by_uid["interaction"]["id"]
    assert show_interaction(store.conn, ident)["interaction"]["uid"] == calls.missed
    assert show_interaction(store.conn, str(ident))["interaction"]["uid"] == calls.missed
    assert show_interaction(store.conn, calls.missed[:8])["interaction"]["uid"] == calls.missed


@pytest.mark.parametrize("key", [999, "999", "no-such-uid", ""])
def test_show_unknown_call_is_not_found(store: Store, calls: SeededCalls, key: object) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        show_interaction(store.conn, key)  # type: ignore[arg-type]


def test_csv_export_masks_numbers_and_neutralises_formulas(store: Store, calls: SeededCalls, tmp_path: Path) -> None:
    rows = list_interactions(store.conn)
    path = tmp_path / "calls.csv"
    assert export_csv(rows, path) == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets then read the accents as UTF-8
    text = raw.decode("utf-8-sig")
    assert "+33639980001" not in text and "639980001" not in text
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert [line["number"] for line in table] == ["+•••••••••01", "+•••••••••03", "+•••••••••02", "+•••••••••01"]
    assert table[0]["summary_reason"] == "'=1+1 offre souscrite"
    assert (table[0]["withdrawal"], table[1]["disposition"], table[2]["professional"]) == (
        "yes",
        "",
        "ACME Énergie SAS",
    )
    assert table[3]["started_at"] == dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS).isoformat()


def test_csv_export_unmasked_to_a_stream(store: Store, calls: SeededCalls) -> None:
    stream = io.StringIO()
    assert export_csv(list_interactions(store.conn, agent="agent-7"), stream, unmasked=True) == 2
    lines = list(csv.reader(io.StringIO(stream.getvalue())))
    assert [line[CSV_COLUMNS.index("number")] for line in lines[1:]] == ["+33639980002", "+33639980001"]


def test_csv_export_to_a_folder_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write"):
        export_csv([], tmp_path / "missing" / "calls.csv")


def test_empty_store_lists_nothing(store: Store) -> None:
    assert list_interactions(store.conn) == []
    stream = io.StringIO()
    assert export_csv([], stream) == 0
    assert stream.getvalue().strip() == ",".join(CSV_COLUMNS)
