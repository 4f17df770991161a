"""``POST /v1/consent-events`` for real: the HTTP server on a free port, a CallService over a real store with one
consent, the clock at a Tuesday morning in the calling hours (so a dial to the consented number starts allowed).

A dialler's "do not call" or "opposition" button reaches the consent ledger as the panel's buttons do: each check
reads back what SQLite holds (ledger entry, CRM outbox, decision) and that the hash chain still verifies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.config import Telephony
from desktop.core.consent.ledger import verify
from desktop.core.store.db import Store
from desktop.core.telephony.api_files import TOKEN_FILE
from desktop.services.calls import CallService
from desktop.services.event_api import EventApi
from tests.integration.conftest import CONSENTED
from tests.integration.test_event_api import Client, hook


@pytest.fixture
def api(service: CallService, data_dir: Path) -> Iterator[EventApi]:
    started = EventApi(service, data_dir, Telephony())
    assert started.start() and started.port is not None
    yield started
    started.stop()


@pytest.fixture
def client(api: EventApi, data_dir: Path, qtbot: QtBot) -> Iterator[Client]:
    assert api.port is not None
    opened = Client(qtbot, api.port, (data_dir / TOKEN_FILE).read_text().strip())
    yield opened
    opened.close()


def consent(client: Client, **values: Any) -> tuple[int, dict[str, Any]]:
    status, body, _ = client.request("POST", "/v1/consent-events", values)
    return status, body


def ledger(store: Store) -> list[tuple[Any, ...]]:
    """The withdrawals and objections of the ledger: kind, number, and the payload's call details (the last: who
    recorded it)."""
    return [
        (
            kind,
            number,
            payload["channel"],
            payload["agent"],
            payload["segment"],
            payload["interaction"],
            payload.get("scope"),
            payload["source"],
        )
        for kind, number, raw in store.conn.execute(
            "SELECT kind, number, payload FROM consent_events WHERE kind IN ('withdrawn', 'objection') ORDER BY seq"
        )
        for payload in [json.loads(raw)]
    ]


def outbox_kinds(store: Store) -> list[str]:
    return [row[0] for row in store.conn.execute("SELECT kind FROM outbox ORDER BY id")]


def dial(client: Client, call_id: str, number: str | None = CONSENTED) -> dict[str, Any]:
    status, body = client.event(event="dial", number=number or "anonymous", call_id=call_id)
    assert status == 200 and body["status"] == "applied", body
    return body


# -- recorded --------------------------------------------------------------------------------------------------


def test_withdrawal_turns_the_call_forbidden_and_is_in_the_ledger(
    client: Client, service: CallService, consented_store: Store, qtbot: QtBot
) -> None:
    call = dial(client, "c-1")
    assert call["verdict"] == "allowed"
    client.event(event="answer", call_id="c-1")
    assert client.segment(call_id="c-1", speaker="customer", text="Ne m'appelez plus.")[1]["segment"] == 0
    outbox_before = outbox_kinds(consented_store)
    with qtbot.waitSignal(service.verdict_changed, timeout=5000):
        status, body = consent(client, call_id="c-1", kind="withdrawal", segment=0, source="five9")
    assert (status, body) == (
        200,
        {
            "status": "recorded",
            "call": call["call"],
            "kind": "withdrawal",
            "verdict": "forbidden",
            "code": "CONSENT_REVOKED",
        },
    )
    session = service.desk.sessions["c-1"]
    assert session.decision is not None and session.decision.verdict == "forbidden"
    assert [event["kind"] for event in session.consent_events] == ["withdrawal"]
    assert ledger(consented_store) == [("withdrawn", CONSENTED, "oral", "agent-7", 0, call["call"], None, "five9")]
    # The revocation is queued for the CRM in the same transaction, and the chain still holds.
    assert len(outbox_kinds(consented_store)) > len(outbox_before)
    assert verify(consented_store.conn).ok
    stored = consented_store.conn.execute(
        "SELECT d.verdict FROM interactions i JOIN decisions d ON d.id = i.decision_id WHERE i.call_id = 'c-1'"
    ).fetchone()
    assert stored == ("forbidden",)


def test_objection_is_recorded_with_the_marketing_scope(
    client: Client, service: CallService, consented_store: Store
) -> None:
    call = dial(client, "c-2")
    status, body = consent(client, call_id="c-2", kind="objection")
    assert (status, body["status"], body["verdict"], body["code"]) == (
        200,
        "recorded",
        "forbidden",
        "MARKETING_OBJECTION",
    )
    assert ledger(consented_store) == [
        ("objection", CONSENTED, "oral", "agent-7", None, call["call"], "marketing", "api")
    ]
    assert verify(consented_store.conn).ok


def test_same_kind_twice_is_recorded_once_another_kind_is_recorded(
    client: Client, service: CallService, consented_store: Store
) -> None:
    dial(client, "c-3")
    assert consent(client, call_id="c-3", kind="withdrawal")[1]["status"] == "recorded"
    outbox = outbox_kinds(consented_store)
    status, body = consent(client, call_id="c-3", kind="withdrawal", segment=None)
    assert (status, body["status"], body["verdict"], body["code"]) == (200, "duplicate", "forbidden", "CONSENT_REVOKED")
    assert [row[0] for row in ledger(consented_store)] == ["withdrawn"]
    assert outbox_kinds(consented_store) == outbox  # nothing more for the CRM either
    assert consent(client, call_id="c-3", kind="objection")[1]["status"] == "recorded"
    assert [row[0] for row in ledger(consented_store)] == ["withdrawn", "objection"]


def test_the_senders_time_is_kept_in_the_ledger_entry(client: Client, consented_store: Store) -> None:
    dial(client, "c-at")
    sent = "2026-11-24T10:29:58+01:00"  # the dialler's clock; the entry's own time is the app's
    assert consent(client, call_id="c-at", kind="withdrawal", at=sent)[0] == 200
    (raw,) = consented_store.conn.execute("SELECT payload FROM consent_events WHERE kind = 'withdrawn'").fetchone()
    assert json.loads(raw)["sent_at"] == sent


def test_withdrawal_already_confirmed_in_the_panel_is_a_duplicate(
    client: Client, service: CallService, consented_store: Store
) -> None:
    dial(client, "c-4")
    service.confirm_withdrawal(service.desk.sessions["c-4"], kind="withdrawn")  # what the panel's button does
    assert consent(client, call_id="c-4", kind="withdrawal")[1]["status"] == "duplicate"
    assert [row[-1] for row in ledger(consented_store)] == ["panel"]


# -- refused: nothing recorded -----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefer", [None, "respond-async"])
def test_unknown_call_is_404_even_when_asked_to_answer_at_once(
    client: Client, consented_store: Store, prefer: str | None
) -> None:
    dial(client, "known")
    headers = {"Prefer": prefer} if prefer else {}
    status, body, _ = client.request(
        "POST", "/v1/consent-events", {"call_id": "never-seen", "kind": "withdrawal"}, headers=headers
    )
    assert (status, body["error"]) == (404, "unknown_call")
    assert ledger(consented_store) == []


def test_call_without_a_number_is_409(client: Client, consented_store: Store) -> None:
    assert dial(client, "anon", number=None)["verdict"] is None
    status, body = consent(client, call_id="anon", kind="objection")
    assert (status, body["error"]) == (409, "no_number")
    assert ledger(consented_store) == []


def test_segment_not_in_the_call_is_422_naming_it(client: Client, service: CallService, consented_store: Store) -> None:
    dial(client, "c-5")
    client.segment(call_id="c-5", speaker="customer", text="Retirez mon numéro.")
    status, body = consent(client, call_id="c-5", kind="withdrawal", segment=1)
    assert (status, body["error"], body["field"]) == (422, "invalid", "segment")
    assert body["message"] == "segment: no such transcript segment in this call"
    assert ledger(consented_store) == [] and service.desk.sessions["c-5"].decision.verdict == "allowed"  # type: ignore[union-attr]
    assert consent(client, call_id="c-5", kind="withdrawal", segment=0)[0] == 200


def test_bad_body_is_422(client: Client, consented_store: Store) -> None:
    dial(client, "c-6")
    status, body = consent(client, call_id="c-6", kind="withdrawn")
    assert (status, body["field"]) == (422, "kind")
    assert ledger(consented_store) == []


@pytest.mark.parametrize("token", [None, "wrong"])
def test_without_the_token_401_and_nothing_recorded(
    api: EventApi, client: Client, consented_store: Store, qtbot: QtBot, token: str | None
) -> None:
    dial(client, "c-7")
    assert api.port is not None
    stranger = Client(qtbot, api.port, token)
    try:
        status, body = consent(stranger, call_id="c-7", kind="withdrawal")
    finally:
        stranger.close()
    assert (status, body["error"]) == (401, "unauthorized")
    assert ledger(consented_store) == []
    assert consent(client, call_id="c-7", kind="withdrawal")[1]["status"] == "recorded"  # the token was all it lacked


def test_no_number_logged_above_debug(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dial(client, "c-8")
    consent(client, call_id="c-8", kind="withdrawal")
    consent(client, call_id="c-8", kind="withdrawal")
    consent(client, call_id="unknown", kind="objection")
    consent(client, call_id="c-8", kind="objection", segment=9)
    above = [record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG]
    assert any("withdrawal from api already recorded" in text for text in above)
    for text in above:
        assert "39980001" not in text and "39 98 00" not in text


# -- the hook command ----------------------------------------------------------------------------------------------


def test_hook_withdraw_and_object(
    client: Client, service: CallService, consented_store: Store, data_dir: Path, qtbot: QtBot
) -> None:
    call = dial(client, "ms-1")
    rc, err, _ = hook(qtbot, "withdraw", "--call-id", "ms-1", "--data-dir", str(data_dir))
    assert (rc, err) == (0, "")
    assert ledger(consented_store) == [("withdrawn", CONSENTED, "oral", "agent-7", None, call["call"], None, "hook")]
    assert service.desk.sessions["ms-1"].decision.verdict == "forbidden"  # type: ignore[union-attr]
    rc, err, _ = hook(qtbot, "object", "--call-id", "nobody", "--data-dir", str(data_dir))
    assert rc == 7 and err.startswith("agent-assist: error: the app refused the event (404: no call with this call_id")
    assert err.count("\n") == 1 and len(ledger(consented_store)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("withdraw",), "withdraw: --call-id is required"),
        (("object", "--call-id", "c", "--number", "0639980001"), "object: --number does not apply"),
        (("ring", "--number", "0639980001", "--segment", "1"), "ring: --segment does not apply"),
        (("withdraw", "--call-id", "c", "--segment", "-1"), "--segment: 0 or more"),
    ],
)
def test_hook_consent_usage_errors(qtbot: QtBot, args: tuple[str, ...], message: str) -> None:
    rc, err, _ = hook(qtbot, *args)
    assert rc == 2 and message in err and err.count("\n") == 1
