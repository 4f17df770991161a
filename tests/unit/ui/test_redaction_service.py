"""A card number said during a call never reaches SQLite, the log or the panel's signal in clear."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from stdnum import luhn

from desktop.core.assist.redact import CARD_MASK, IBAN_MASK
from desktop.core.telephony.session import Segment
from desktop.services.calls import CallService

from .conftest import NUMBER, ev

CARD = "497201234567890" + luhn.calc_check_digit("497201234567890")
WORDS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]


def test_segments_are_redacted_before_they_are_stored_logged_or_shown(
    service: CallService, caplog: pytest.LogCaptureFixture
) -> None:
    session = service.handle_event(ev("ringing", 0, call_id="c1", number=NUMBER, direction="inbound"))
    assert session is not None
    service.handle_event(ev("answered", 2, call_id="c1"))
    shown: list[str] = []
    service.segment_added.connect(lambda _session, segment: shown.append(segment.text))
    spoken = " ".join(WORDS[int(digit)] for digit in CARD)
    caplog.set_level(logging.DEBUG)
    service.add_segment(session, "customer", f"ma carte c'est {spoken} voilà", 3.0, 9.0)
    service.add_segment(session, "customer", f"ou la {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", 10.0, 12.0)
    service.add_segment(session, "customer", "et mon IBAN fr76 3000 6000 0112 3456 7890 189", 13.0, 15.0)
    stored: Segment = service.add_segment(session, "agent", "merci, je note", 16.0, 17.0)
    assert stored.idx == 3

    conn: sqlite3.Connection = service.desk.conn
    texts = [row[0] for row in conn.execute("SELECT text FROM transcript_segments ORDER BY idx")]
    assert texts == [
        f"ma carte c'est {CARD_MASK} voilà",
        f"ou la {CARD_MASK}",
        f"et mon IBAN {IBAN_MASK}",
        "merci, je note",
    ]
    assert shown == texts
    everything = "\n".join(texts + [record.getMessage() for record in caplog.records])
    assert CARD not in everything.replace(" ", "") and spoken not in everything and "3456 7890" not in everything
    dump = "\n".join(conn.iterdump())
    assert CARD not in dump and "quatre neuf sept deux" not in dump and "FR76" not in dump.upper()
