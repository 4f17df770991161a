"""What the CRM is sent for a stored call: an :class:`InteractionPayload` built from the local store.

Built inside the transaction that validates the call's summary (``CallDesk.save_summary``), so that the call and
its outbox entry are written together. The transcript is the stored one, already redacted at the source.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
from typing import Any

from desktop.core.crm.contract import InteractionPayload, TranscriptLine
from desktop.core.errors import NotFoundError


def station_name(station_id: str | None) -> str:
    """This station's name in the CRM: ``[crm].station_id`` when set, else the host name."""
    return station_id or socket.gethostname() or "agent-assist"


def _aware(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def interaction_payload(conn: sqlite3.Connection, interaction_id: int, *, station: str) -> InteractionPayload:
    """The payload of one stored call: its facts, the verdict and deciding reason of its last decision, its
    summary, its redacted transcript, and whether it was dialled while the verdict said ``forbidden``."""
    row = conn.execute(
        "SELECT i.uid, i.number, i.direction, i.professional, i.product, i.agent_id, i.started_at, i.answered_at,"
        " i.ended_at, d.verdict, json_extract(d.reasons, '$[0].code'), s.body"
        " FROM interactions i LEFT JOIN decisions d ON d.id = i.decision_id"
        " LEFT JOIN summaries s ON s.interaction_id = i.id WHERE i.id = ?",
        (interaction_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"call {interaction_id} not found")
    uid, number, direction, professional, product, agent_id, started, answered, ended = row[:9]
    verdict, reason, body = row[9:]
    summary: dict[str, Any] | None = json.loads(body) if body else None
    started_at = _aware(started) or dt.datetime.now(dt.UTC)
    ended_at = _aware(ended)
    transcript = [
        TranscriptLine(speaker=speaker, start=start, end=end, text=text)
        for speaker, start, end, text in conn.execute(
            'SELECT speaker, start, "end", text FROM transcript_segments WHERE interaction_id = ? ORDER BY idx',
            (interaction_id,),
        )
    ]
    return InteractionPayload(
        external_id=uid,
        station=station,
        number=number or "",
        direction=direction or "outbound",
        professional=professional,
        product=product,
        agent_id=agent_id,
        started_at=started_at,
        answered_at=_aware(answered),
        ended_at=ended_at,
        duration_s=None if ended_at is None else max(round((ended_at - started_at).total_seconds()), 0),
        verdict=verdict,
        reason=reason,
        disposition=summary.get("disposition") if isinstance(summary, dict) else None,
        summary=summary,
        transcript=transcript,
        dialled_against_forbidden=direction == "outbound" and _dialled_verdict(conn, row) == "forbidden",
    )


def _dialled_verdict(conn: sqlite3.Connection, row: tuple[Any, ...]) -> str | None:
    """The verdict shown when the call was dialled: the first decision evaluated for it (at its start)."""
    _uid, number, _direction, professional, _product, _agent, started = row[:7]
    if not number or not started:
        return None
    found = conn.execute(
        "SELECT verdict FROM decisions WHERE number = ? AND professional IS ? AND direction = 'outbound'"
        " AND json_extract(facts, '$.call.at') = ? ORDER BY id LIMIT 1",
        (number, professional, started),
    ).fetchone()
    return None if found is None else str(found[0])
