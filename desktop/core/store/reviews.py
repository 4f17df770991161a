"""The team lead's reviews of calls (approve or flag, with a comment) and the alerts a team lead must see.

A review is stored locally first and queued for the CRM in the same transaction (outbox kind ``review``), so
it reaches the CRM whatever the network does. Its external id is ``<interaction uid>:review:<row id>``: stable
across retries and unique per review.

Alerts come from what the station stored:

- **withdrawal** / **objection**: a ``withdrawn`` or ``objection`` ledger event that belongs to a call (linked
  by the call's uid, or of the same number during the call and its wrap-up, as in
  :mod:`desktop.core.store.interactions`);
- **dialled_against_forbidden**: a commercial outbound call (scope ``canvassing``) whose decision at dialling
  was ``forbidden``. A withdrawal during a call makes its *last* decision forbidden, not its first: only the
  first one says whether the call should have been placed.

Numbers are returned as stored; the UI masks them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from desktop.core.crm.contract import ReviewPayload, ReviewState
from desktop.core.crm.outbox import enqueue
from desktop.core.errors import InputError
from desktop.core.store.db import transaction
from desktop.core.store.interactions import WRAP_UP_GRACE

REVIEW_STATES: tuple[str, ...] = get_args(ReviewState)
AlertKind = Literal["withdrawal", "objection", "dialled_against_forbidden"]
#: Longest comment kept (a paragraph; the CRMs' text fields hold more, a review needs no more).
COMMENT_MAX = 2000


@dataclass(frozen=True)
class Review:
    """One stored review, with where its copy to the CRM stands (``sync``: the outbox entry's state,
    ``pending``, ``sent`` or ``parked``; ``sync_error``: the CRM's message when it refused it)."""

    id: int
    interaction_uid: str
    state: ReviewState
    comment: str | None
    reviewer: str
    at: dt.datetime
    sync: str | None = None
    sync_error: str | None = None

    @property
    def external_id(self) -> str:
        return review_external_id(self.interaction_uid, self.id)


def review_external_id(interaction_uid: str, review_id: int) -> str:
    return f"{interaction_uid}:review:{review_id}"


def record_review(
    conn: sqlite3.Connection,
    interaction_uid: str,
    state: str,
    comment: str | None,
    reviewer: str,
    at: dt.datetime,
) -> Review:
    """Store a review of the call ``interaction_uid`` (local or known only to the CRM) and queue it for the CRM,
    in one transaction of its own. InputError for an unknown state, an empty reviewer or uid, a naive ``at``, a
    comment over :data:`COMMENT_MAX` characters, or a flag without a comment (the agent must learn why)."""
    uid = interaction_uid.strip()
    if not uid:
        raise InputError("review: the call's uid is empty")
    if state not in REVIEW_STATES:
        raise InputError(f"review state: unknown {state!r} (one of {', '.join(REVIEW_STATES)})")
    who = reviewer.strip()
    if not who:
        raise InputError("review: the reviewer is empty")
    if at.tzinfo is None:
        raise InputError(f"review time: give the offset of {at.isoformat()}")
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise InputError(f"review comment: {len(text)} characters, at most {COMMENT_MAX}")
    if state == "flagged" and text is None:
        raise InputError("review: a flag needs a comment saying what is wrong")
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO reviews (interaction_uid, state, comment, reviewer, at) VALUES (?, ?, ?, ?, ?)",
            (uid, state, text, who, at.isoformat()),
        )
        review_id = int(cursor.lastrowid or 0)
        payload = ReviewPayload(
            external_id=review_external_id(uid, review_id),
            interaction_id=uid,
            state=state,  # checked against REVIEW_STATES above
            comment=text,
            reviewer=who,
            at=at,
        )
        enqueue(conn, payload)
    return Review(review_id, uid, payload.state, text, who, at, sync="pending")


def latest_reviews(conn: sqlite3.Connection, uids: Iterable[str] | None = None) -> dict[str, Review]:
    """The newest review of each call (of the given uids, or of every reviewed call), by call uid."""
    wanted = None if uids is None else sorted(set(uids))
    if wanted is not None and not wanted:
        return {}
    sql = (
        "SELECT r.id, r.interaction_uid, r.state, r.comment, r.reviewer, r.at, o.state, o.last_error"
        " FROM reviews r"
        " LEFT JOIN outbox o ON o.kind = 'review' AND o.entity_id = r.interaction_uid || ':review:' || r.id"
        " WHERE r.id = (SELECT max(id) FROM reviews x WHERE x.interaction_uid = r.interaction_uid)"
    )
    params: list[str] = []
    if wanted is not None:
        sql += " AND r.interaction_uid IN (SELECT value FROM json_each(?))"
        params.append(_json_list(wanted))
    sql += " ORDER BY r.id, o.id"
    found: dict[str, Review] = {}
    for id_, uid, state, comment, reviewer, at, sync, error in conn.execute(sql, params):
        found[uid] = Review(int(id_), uid, state, comment, reviewer, dt.datetime.fromisoformat(at), sync, error)
    return found


def reviews_of(conn: sqlite3.Connection, interaction_uid: str) -> list[Review]:
    """Every review of one call, oldest first (the history shown with the call)."""
    return [
        Review(int(id_), uid, state, comment, reviewer, dt.datetime.fromisoformat(at), sync, error)
        for id_, uid, state, comment, reviewer, at, sync, error in conn.execute(
            "SELECT r.id, r.interaction_uid, r.state, r.comment, r.reviewer, r.at, o.state, o.last_error"
            " FROM reviews r"
            " LEFT JOIN outbox o ON o.kind = 'review' AND o.entity_id = r.interaction_uid || ':review:' || r.id"
            " WHERE r.interaction_uid = ? ORDER BY r.id",
            (interaction_uid,),
        )
    ]


def local_uids(conn: sqlite3.Connection, uids: Iterable[str]) -> set[str]:
    """Which of ``uids`` are calls stored on this station (a CRM's external id is the local uid)."""
    wanted = sorted(set(uids))
    if not wanted:
        return set()
    return {
        row[0]
        for row in conn.execute(
            "SELECT uid FROM interactions WHERE uid IN (SELECT value FROM json_each(?))", (_json_list(wanted),)
        )
    }


def known_agents(conn: sqlite3.Connection) -> list[str]:
    """The agents of the calls stored on this station, sorted."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT agent_id FROM interactions WHERE agent_id IS NOT NULL ORDER BY agent_id"
        )
    ]


# -- alerts ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """Something a team lead must look at, about one call. ``at``: when it happened (the event, or the dialling),
    with the offset it was stamped with; ``reason_code``: the deciding reason of a forbidden verdict."""

    kind: AlertKind
    at: dt.datetime
    interaction_uid: str
    agent_id: str | None
    number: str | None
    station: str | None = None
    reason_code: str | None = None
    answered: bool | None = None
    source: Literal["local", "crm"] = "local"

    @property
    def key(self) -> tuple[str, str]:
        """Two alerts with the same key are the same fact (seen locally and in the CRM)."""
        return (self.kind if self.kind == "dialled_against_forbidden" else "withdrawal", self.interaction_uid)


# Two joins rather than one with an OR, so that each uses an index (interactions.uid; consent_events.number):
# events recorded from a call name it; events recorded elsewhere belong to the call on that number during which
# (or during whose wrap-up) they were recorded, as in desktop.core.store.interactions.
_GRACE_DAYS = WRAP_UP_GRACE.total_seconds() / 86400
_WITHDRAWALS_SQL = f"""
SELECT e.seq, e.kind, e.at, i.uid, i.agent_id, i.number, 1
FROM consent_events e JOIN interactions i ON i.uid = json_extract(e.payload, '$.interaction')
WHERE e.kind IN ('withdrawn', 'objection')
UNION ALL
SELECT e.seq, e.kind, e.at, i.uid, i.agent_id, i.number, 0
FROM interactions i JOIN consent_events e ON e.number = i.number
WHERE e.kind IN ('withdrawn', 'objection')
  AND json_extract(e.payload, '$.interaction') IS NULL
  AND julianday(e.at_utc) >= julianday(i.started_at)
  AND julianday(e.at_utc) <= julianday(coalesce(i.ended_at, i.updated_at)) + {_GRACE_DAYS!r}
ORDER BY 1 DESC
"""

# The decision at dialling: the first one recorded for the call's number and professional at the very instant the
# call started (the call desk evaluates at dialling with the call's own start stamp; desktop.core.crm.payloads
# reads it the same way). The equality on the stamp lets the (number, evaluated_at) index find it.
_FORBIDDEN_DIALLED_SQL = """
SELECT i.uid, i.started_at, i.agent_id, i.number, i.answered_at IS NOT NULL,
       json_extract(d.reasons, '$[0].code')
FROM interactions i
JOIN decisions d ON d.id = (
    SELECT d2.id FROM decisions d2
    WHERE d2.number = i.number AND d2.evaluated_at = i.started_at
      AND d2.direction = 'outbound' AND d2.professional IS i.professional
    ORDER BY d2.id
    LIMIT 1
)
WHERE i.direction = 'outbound' AND d.verdict = 'forbidden' AND d.scope = 'canvassing'
ORDER BY julianday(i.started_at) DESC, i.id DESC
LIMIT ?
"""


def local_alerts(conn: sqlite3.Connection, *, limit: int = 200) -> list[Alert]:
    """Withdrawals and objections recorded during calls, and commercial calls dialled against a forbidden verdict,
    from this station's store, newest first (at most ``limit`` of each kind before merging)."""
    if limit <= 0:
        raise InputError(f"limit: must be positive, got {limit}")
    alerts: list[Alert] = []
    seen: dict[int, int] = {}  # ledger seq -> position: an event in the window of two calls is one alert
    for seq, kind, at, uid, agent, number, linked in conn.execute(_WITHDRAWALS_SQL):
        if len(seen) >= limit and seq not in seen:
            break  # newest ledger entries first (by sequence): the rest are older
        alert = Alert(
            kind="objection" if kind == "objection" else "withdrawal",
            at=dt.datetime.fromisoformat(at),
            interaction_uid=uid,
            agent_id=agent,
            number=number,
        )
        if seq in seen:
            if linked:  # the call it was recorded from wins over a call it merely overlaps
                alerts[seen[seq]] = alert
            continue
        seen[seq] = len(alerts)
        alerts.append(alert)
    for uid, started, agent, number, answered, code in conn.execute(_FORBIDDEN_DIALLED_SQL, (limit,)):
        alerts.append(
            Alert(
                kind="dialled_against_forbidden",
                at=dt.datetime.fromisoformat(started),
                interaction_uid=uid,
                agent_id=agent,
                number=number,
                reason_code=code,
                answered=bool(answered),
            )
        )
    return newest_first(alerts)


def newest_first(alerts: Iterable[Alert]) -> list[Alert]:
    """Sorted by instant, newest first (an instant without offset counts as UTC)."""
    return sorted(alerts, key=lambda alert: _instant(alert.at), reverse=True)


def _instant(value: dt.datetime) -> float:
    return (value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)).timestamp()


def _json_list(values: list[str]) -> str:
    return json.dumps(values)
