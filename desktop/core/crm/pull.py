"""The consent pull: changes made elsewhere (other stations, the CRM itself) merged into the local ledger.

Merge rule (``reference/crm.md`` §3, consent rules 5 and 9): events are append-only and keep the instant they
happened; the effective state per person and professional is the latest event, and a tie is an opt-out. The
ledger and the engine already decide that way, so merging is appending each pulled event with its own
``occurred_at``: a pulled ``given`` collected at or before a local withdrawal stays revoked by it, and a
pulled withdrawal revokes every consent collected at or before it. What cannot be applied safely (a ``given``
without its content, or whose id names another content) is left out: no consent is the fail-closed state.

Each page is applied in one transaction together with the cursor that follows it, so that a crash between
two pages loses nothing and applies nothing twice; ``pulled_consent_events`` keys every change by its
``external_id`` so that the overlap window a connector re-reads is applied once. Events this station pushed
come back in the pull: they are recognised by their id (:func:`desktop.core.store.consents.own_event_seq`)
and not appended a second time.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from desktop.core.consent.ledger import LedgerWriter, utc_key
from desktop.core.consent.professionals import professional_key
from desktop.core.crm.contract import Connector, ConsentEventPayload
from desktop.core.errors import InputError
from desktop.core.store.consents import ConsentRecord, append_event, insert_consent, own_event_seq
from desktop.core.store.db import transaction
from desktop.core.store.sync_state import CONSENT_CURSOR, get_state, set_last_consent_pull, set_state

log = logging.getLogger(__name__)

#: A pull stops after this many pages even if the CRM says there are more (the next pull goes on from there),
#: so that one pull cannot hold the worker forever on a CRM that keeps answering ``more``.
MAX_PAGES = 1000


@dataclass
class PullReport:
    """What one pull did. ``applied`` changes are new ledger entries or consents; ``known`` were already here
    (seen in an earlier page or pull, or the same event already on the ledger); ``own`` are this station's
    events coming back; ``skipped`` could not be applied (see ``problems``, one line each, no phone number)."""

    pages: int = 0
    applied: int = 0
    known: int = 0
    own: int = 0
    skipped: int = 0
    cursor: str | None = None
    complete: bool = False  # the CRM had nothing more: ``last_consent_pull`` was set
    problems: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.applied + self.known + self.own + self.skipped

    def to_json(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "applied": self.applied,
            "known": self.known,
            "own": self.own,
            "skipped": self.skipped,
            "complete": self.complete,
            "problems": list(self.problems),
        }


def pull_consents(
    conn: sqlite3.Connection,
    connector: Connector,
    *,
    now: dt.datetime,
    overlap_s: float = 0.0,
    page_size: int = 200,
) -> PullReport:
    """Pull consent changes after the stored cursor and merge them into the ledger, page by page.

    ``now`` is when the pull started (timezone-aware). When the CRM has nothing more, the station's
    ``last_consent_pull`` becomes ``now - overlap_s``: a change committed out of order within the connector's
    overlap window may still arrive with the next pull, so the data is only known complete up to there.
    Connector errors (:class:`~desktop.core.crm.contract.TransientError`, ``AuthError``...) propagate after
    the pages already applied are committed; the freshness is then left as it was.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = PullReport(cursor=get_state(conn, CONSENT_CURSOR))
    for _ in range(MAX_PAGES):
        page = connector.pull_consent_changes(report.cursor, page_size)
        with transaction(conn):
            ledger = LedgerWriter(conn)
            for change in page.changes:
                _apply(conn, ledger, change, report)
            ledger.flush()
            if page.cursor is not None and page.cursor != report.cursor:
                set_state(conn, CONSENT_CURSOR, page.cursor)
                report.cursor = page.cursor
            if not page.more:
                set_last_consent_pull(conn, now - dt.timedelta(seconds=overlap_s))
                report.complete = True
        report.pages += 1
        if not page.more:
            break
    log.info(
        "consent pull: %d pages, %d applied, %d known, %d own, %d skipped",
        report.pages,
        report.applied,
        report.known,
        report.own,
        report.skipped,
    )
    return report


def _apply(conn: sqlite3.Connection, ledger: LedgerWriter, change: ConsentEventPayload, report: PullReport) -> None:
    """Apply one change (inside the page's transaction) and remember its external id."""
    if conn.execute("SELECT 1 FROM pulled_consent_events WHERE external_id = ?", (change.external_id,)).fetchone():
        report.known += 1
        return
    seq: int | None
    own = own_event_seq(conn, change.external_id)
    if own is not None:
        seq = own
        report.own += 1
    else:
        outcome, seq = _merge(conn, ledger, change)
        if outcome == "applied":
            report.applied += 1
        elif outcome == "known":
            report.known += 1
        else:
            report.skipped += 1
            report.problems.append(f"{change.external_id}: {outcome}")
            log.warning("consent pull: %s not applied: %s", change.external_id, outcome)
    conn.execute(
        "INSERT INTO pulled_consent_events (external_id, ledger_seq, pulled_at) VALUES (?, ?, ?)",
        (change.external_id, seq, dt.datetime.now(dt.UTC).isoformat()),
    )


def _merge(conn: sqlite3.Connection, ledger: LedgerWriter, change: ConsentEventPayload) -> tuple[str, int | None]:
    """Append ``change`` to the ledger; ("applied" | "known", its ledger seq) or (why it was skipped, None)."""
    occurred = _aware(change.occurred_at)
    if change.kind == "given":
        return _merge_given(conn, ledger, change)
    key = professional_key(change.professional)
    consent_uid = change.consent_uid
    if consent_uid is not None and not conn.execute("SELECT 1 FROM consents WHERE uid = ?", (consent_uid,)).fetchone():
        # A consent this station does not hold: the opt-out then covers all of the professional's consents.
        consent_uid = None
    same = conn.execute(
        "SELECT seq FROM consent_events WHERE number = ? AND professional_key = ? AND kind = ? AND at_utc = ?"
        " AND consent_uid IS ?",
        (change.number, key, change.kind, utc_key(occurred), consent_uid),
    ).fetchone()
    if same is not None:
        return "known", int(same[0])
    details: dict[str, object] = {"source": change.source, "channel": "crm", "external_id": change.external_id}
    if change.kind == "objection":
        details["scope"] = None  # the CRM carries no scope: every objection scope blocks commercial topics
    if change.interaction_id is not None:
        details["interaction"] = change.interaction_id
    entry = append_event(
        conn,
        ledger,
        change.kind,
        number=change.number,
        professional=change.professional,
        at=occurred,
        details=details,
        consent_uid=consent_uid,
        share=False,
    )
    ledger.flush()  # the next change of the page may be this very event again, under another id
    return "applied", entry.seq


def _merge_given(conn: sqlite3.Connection, ledger: LedgerWriter, change: ConsentEventPayload) -> tuple[str, int | None]:
    """A consent given elsewhere: stored with its content, or skipped when there is none to prove it."""
    if change.consent is None:
        return "a consent without its content (no proof): not stored", None
    try:
        record = _record(change)
        outcome, uid = insert_consent(conn, ledger, record, change.source, share=False)
    except (KeyError, TypeError, ValueError) as error:
        return f"consent content not usable: {_first_line(error)}", None
    except InputError as error:  # the same consent id with another content: the one held here stays
        return str(error), None
    ledger.flush()
    row = conn.execute(
        "SELECT seq FROM consent_events WHERE consent_uid = ? AND kind = 'given' ORDER BY seq LIMIT 1", (uid,)
    ).fetchone()
    return ("applied" if outcome == "inserted" else "known"), (int(row[0]) if row is not None else None)


def _record(change: ConsentEventPayload) -> ConsentRecord:
    """The ConsentRecord of a pulled ``given``, from its content (``ConsentRecord.content()`` format), as is:
    nothing the content lacks is made up (an unknown date or evidence means no proof, rule 9)."""
    content = change.consent or {}
    products = content.get("products", change.products)
    if not isinstance(products, list) or not all(isinstance(item, str) for item in products):
        raise ValueError("products: expected a list of strings")
    return ConsentRecord(
        number=_text(content, "number", change.number),
        professional=_text(content, "professional", change.professional),
        products=tuple(products),
        collected_at=_instant(content.get("collected_at")),
        method=_optional_text(content, "method"),
        affirmative_act=_flag(content, "affirmative_act"),
        pre_ticked=_flag(content, "pre_ticked"),
        evidence_ref=_optional_text(content, "evidence_ref"),
        text_shown=_optional_text(content, "text_shown"),
        collected_during_unlawful_call=bool(_flag(content, "collected_during_unlawful_call")),
        out_of_hours_slots=tuple(
            (_required_instant(start), _required_instant(end)) for start, end in content.get("out_of_hours_slots") or ()
        ),
        out_of_hours_any=bool(_flag(content, "out_of_hours_any")),
        external_id=change.consent_uid,
    )


def _text(content: dict[str, Any], key: str, default: str) -> str:
    value = content.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key}: expected a non-empty string")
    return value


def _optional_text(content: dict[str, Any], key: str) -> str | None:
    value = content.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key}: expected a string or null")
    return value


def _flag(content: dict[str, Any], key: str) -> bool | None:
    value = content.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key}: expected true, false or null")
    return value


def _instant(value: object) -> dt.datetime | None:
    return None if value is None else _required_instant(value)


def _required_instant(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 instant")
    instant = dt.datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"{value!r}: an instant needs its offset")
    return instant


def _aware(instant: dt.datetime) -> dt.datetime:
    """CRMs that send naive instants send UTC (Tryton does)."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else ""
