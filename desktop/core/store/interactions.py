"""Stored interactions as a team lead reviews them: a filtered list, one call in full, a CSV export.

A call's **verdict** is the last consent decision of its session (``interactions.decision_id``), its
**disposition** and **resolution** come from its summary, and it has a **withdrawal** when a ``withdrawn`` or
``objection`` ledger event belongs to it: recorded from the call (``payload.interaction`` is the call's uid),
or, for events recorded elsewhere (CLI, CRM) without that link, of the same number between the start of the
call and :data:`WRAP_UP_GRACE` after its end.

Numbers are masked (all digits but the last two) unless ``unmasked=True`` is asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from desktop.core.assist.summary import DISPOSITIONS
from desktop.core.consent.phone import mask
from desktop.core.errors import InputError, NotFoundError

VERDICTS = ("allowed", "contract_only", "forbidden")
WITHDRAWAL_KINDS = ("withdrawn", "objection")
#: Events without a link to the call still count when recorded this long after it ended (wrap-up).
WRAP_UP_GRACE = dt.timedelta(minutes=15)
_GRACE_DAYS = WRAP_UP_GRACE.total_seconds() / 86400

# The end of a call's window for unlinked events: its end, else its last update (open or interrupted calls).
_WINDOW = f"""
    e.number = i.number
    AND json_extract(e.payload, '$.interaction') IS NULL
    AND julianday(e.at_utc) >= julianday(i.started_at)
    AND julianday(e.at_utc) <= julianday(coalesce(i.ended_at, i.updated_at)) + {_GRACE_DAYS!r}
"""
_LINKED = f"(json_extract(e.payload, '$.interaction') = i.uid OR ({_WINDOW}))"
_HAS_WITHDRAWAL = (
    "EXISTS (SELECT 1 FROM consent_events e WHERE e.kind IN ('withdrawn', 'objection') AND " + _LINKED + ")"
)


@dataclass(frozen=True)
class InteractionRow:
    """One call in the list (and one line of the CSV export)."""

    id: int
    uid: str
    started_at: str | None
    ended_at: str | None
    duration_s: int | None
    direction: str | None
    number: str | None
    professional: str | None
    product: str | None
    purpose: str | None
    agent_id: str | None
    state: str
    verdict: str | None
    reason_code: str | None
    disposition: str | None
    resolution: str | None
    summary_reason: str | None
    validated: bool
    withdrawal: bool
    segments: int

    def masked(self) -> InteractionRow:
        """The same row with its number masked."""
        return _replace(self, number=mask(self.number) if self.number else None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _replace(row: InteractionRow, **changes: Any) -> InteractionRow:
    values = asdict(row)
    values.update(changes)
    return InteractionRow(**values)


# -- list --------------------------------------------------------------------------------------------------------

_LIST_SQL = f"""
SELECT
    i.id, i.uid, i.started_at, i.ended_at, i.direction, i.number, i.professional, i.product, i.purpose,
    i.agent_id, i.state,
    d.verdict, json_extract(d.reasons, '$[0].code'),
    json_extract(s.body, '$.disposition'), json_extract(s.body, '$.resolution'), json_extract(s.body, '$.reason'),
    s.validated_at IS NOT NULL,
    {_HAS_WITHDRAWAL},
    (SELECT count(*) FROM transcript_segments t WHERE t.interaction_id = i.id)
FROM interactions i
LEFT JOIN decisions d ON d.id = i.decision_id
LEFT JOIN summaries s ON s.interaction_id = i.id
"""

DateLike = dt.date | dt.datetime | str


def list_interactions(
    conn: sqlite3.Connection,
    *,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    agent: str | None = None,
    disposition: str | None = None,
    verdict: str | None = None,
    withdrawal: bool | None = None,
    limit: int = 500,
) -> list[InteractionRow]:
    """Stored calls, newest first, filtered; numbers as stored (see :meth:`InteractionRow.masked`).

    ``date_from``/``date_to``: a date (the call's local start date, both ends included) or an instant with its
    offset. InputError for an unknown disposition or verdict, a bad date or a non-positive limit.
    """
    where: list[str] = []
    params: list[Any] = []
    for bound, operator in ((date_from, ">="), (date_to, "<=")):
        if bound is None:
            continue
        value = _date_bound(bound, "--from" if operator == ">=" else "--to")
        if isinstance(value, dt.datetime):
            where.append(f"julianday(i.started_at) {operator} julianday(?)")
            params.append(value.isoformat())
        else:
            where.append(f"substr(i.started_at, 1, 10) {operator} ?")
            params.append(value.isoformat())
    if agent is not None:
        where.append("i.agent_id = ?")
        params.append(agent)
    if disposition is not None:
        if disposition not in DISPOSITIONS:
            raise InputError(f"disposition: unknown {disposition!r} (one of {', '.join(DISPOSITIONS)})")
        where.append("json_extract(s.body, '$.disposition') = ?")
        params.append(disposition)
    if verdict is not None:
        if verdict not in VERDICTS:
            raise InputError(f"verdict: unknown {verdict!r} (one of {', '.join(VERDICTS)})")
        where.append("d.verdict = ?")
        params.append(verdict)
    if withdrawal is not None:
        where.append(_HAS_WITHDRAWAL if withdrawal else f"NOT {_HAS_WITHDRAWAL}")
    if limit <= 0:
        raise InputError(f"limit: must be positive, got {limit}")
    sql = _LIST_SQL
    if where:
        sql += " WHERE " + " AND ".join(f"({clause})" for clause in where)
    sql += " ORDER BY julianday(i.started_at) DESC, i.id DESC LIMIT ?"
    params.append(limit)
    return [_row(values) for values in conn.execute(sql, params)]


def _date_bound(value: DateLike, name: str) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InputError(f"{name}: give the offset of {value.isoformat()} (e.g. +01:00)")
        return value
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    try:
        parsed: dt.date = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: not a date (YYYY-MM-DD) or an ISO 8601 instant: {value!r}") from None
    return _date_bound(parsed, name)


def _row(values: Sequence[Any]) -> InteractionRow:
    (
        id_,
        uid,
        started,
        ended,
        direction,
        number,
        professional,
        product,
        purpose,
        agent_id,
        state,
        verdict,
        code,
        disposition,
        resolution,
        reason,
        validated,
        withdrawal,
        segments,
    ) = values
    return InteractionRow(
        id=int(id_),
        uid=str(uid),
        started_at=started,
        ended_at=ended,
        duration_s=_duration(started, ended),
        direction=direction,
        number=number,
        professional=professional,
        product=product,
        purpose=purpose,
        agent_id=agent_id,
        state=str(state),
        verdict=verdict,
        reason_code=code,
        disposition=disposition,
        resolution=resolution,
        summary_reason=reason,
        validated=bool(validated),
        withdrawal=bool(withdrawal),
        segments=int(segments),
    )


def _duration(started: str | None, ended: str | None) -> int | None:
    if not started or not ended:
        return None
    try:
        seconds = (dt.datetime.fromisoformat(ended) - dt.datetime.fromisoformat(started)).total_seconds()
    except (ValueError, TypeError):
        return None
    return max(round(seconds), 0)


# -- show --------------------------------------------------------------------------------------------------------

_INTERACTION_COLUMNS = (
    "id",
    "uid",
    "call_id",
    "number",
    "direction",
    "professional",
    "product",
    "purpose",
    "agent_id",
    "state",
    "started_at",
    "answered_at",
    "ended_at",
    "decision_id",
    "created_at",
    "updated_at",
)


def show_interaction(conn: sqlite3.Connection, id_or_uid: int | str, *, unmasked: bool = False) -> dict[str, Any]:
    """One call in full: the interaction, its transcript, summary, decision (the last; ``decisions``: every
    evaluation of the call in order, for the audit of what the banner said when) and consent events.

    ``id_or_uid``: the row id (an int, or digits) or the uid (a prefix of 8 characters or more is enough when it
    is unique). NotFoundError when no call matches.
    """
    row = _find(conn, id_or_uid)
    interaction = dict(zip(_INTERACTION_COLUMNS, row, strict=True))
    interaction_id = int(interaction["id"])
    interaction["duration_s"] = _duration(interaction["started_at"], interaction["ended_at"])
    segments = [
        {"idx": idx, "speaker": speaker, "start": start, "end": end, "text": text, "final": bool(final)}
        for idx, speaker, start, end, text, final in conn.execute(
            'SELECT idx, speaker, start, "end", text, final FROM transcript_segments WHERE interaction_id = ?'
            " ORDER BY idx",
            (interaction_id,),
        )
    ]
    summary = None
    found = conn.execute(
        "SELECT body, validated_by, validated_at, updated_at FROM summaries WHERE interaction_id = ?",
        (interaction_id,),
    ).fetchone()
    if found is not None:
        summary = {
            "body": json.loads(found[0]),
            "validated_by": found[1],
            "validated_at": found[2],
            "updated_at": found[3],
        }
    decision = None
    if interaction["decision_id"] is not None:
        found = conn.execute(
            "SELECT evaluated_at, verdict, regime, scope, reasons, valid_until, policy_name, policy_version"
            " FROM decisions WHERE id = ?",
            (interaction["decision_id"],),
        ).fetchone()
        if found is not None:
            decision = {
                "evaluated_at": found[0],
                "verdict": found[1],
                "regime": found[2],
                "scope": found[3],
                "reasons": json.loads(found[4]),
                "valid_until": found[5],
                "policy": {"name": found[6], "version": found[7]},
            }
    decisions = [
        {
            "id": decision_id,
            "evaluated_at": evaluated_at,
            "verdict": verdict,
            "code": code,
            "valid_until": valid_until,
        }
        for decision_id, evaluated_at, verdict, code, valid_until in conn.execute(
            "SELECT id, evaluated_at, verdict, json_extract(reasons, '$[0].code'), valid_until FROM decisions"
            " WHERE interaction_id = ? ORDER BY id",
            (interaction_id,),
        )
    ]
    events = [
        {
            "seq": seq,
            "kind": kind,
            "at": at,
            "professional": professional,
            "linked": bool(linked),
            "payload": _masked_payload(json.loads(payload), unmasked),
        }
        for seq, kind, at, professional, linked, payload in conn.execute(
            "SELECT e.seq, e.kind, e.at, e.professional, json_extract(e.payload, '$.interaction') = i.uid, e.payload"
            f" FROM consent_events e JOIN interactions i ON i.id = ? WHERE {_LINKED} ORDER BY e.seq",
            (interaction_id,),
        )
    ]
    suggestions = [
        {"source": source, "accepted": bool(accepted), "at": at}
        for source, accepted, at in conn.execute(
            "SELECT source, accepted, at FROM suggestion_uses WHERE interaction_id = ? ORDER BY id", (interaction_id,)
        )
    ]
    if not unmasked and interaction["number"]:
        interaction["number"] = mask(interaction["number"])
    return {
        "interaction": interaction,
        "segments": segments,
        "summary": summary,
        "decision": decision,
        "decisions": decisions,
        "consent_events": events,
        "suggestions": suggestions,
        "withdrawal": any(event["kind"] in WITHDRAWAL_KINDS for event in events),
    }


def _find(conn: sqlite3.Connection, id_or_uid: int | str) -> tuple[Any, ...]:
    columns = ", ".join(_INTERACTION_COLUMNS)
    key = str(id_or_uid).strip()
    if isinstance(id_or_uid, int) or key.isdigit():
        found = conn.execute(f"SELECT {columns} FROM interactions WHERE id = ?", (int(key),)).fetchone()
        if found is not None:
            return tuple(found)
    if key:
        found = conn.execute(f"SELECT {columns} FROM interactions WHERE uid = ?", (key,)).fetchone()
        if found is not None:
            return tuple(found)
    if len(key) >= 8:
        matches = conn.execute(
            f"SELECT {columns} FROM interactions WHERE uid LIKE ? ESCAPE '\\' LIMIT 2",
            (key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        ).fetchall()
        if len(matches) == 1:
            return tuple(matches[0])
        if len(matches) > 1:
            raise InputError(f"call {key!r}: several calls start with this; give more of the uid")
    raise NotFoundError(f"call {key!r} not found")


def _masked_payload(payload: Any, unmasked: bool) -> Any:
    """Payloads hold no number today; mask any string that looks like one, to be safe."""
    if unmasked or not isinstance(payload, dict):
        return payload
    return {
        key: mask(value) if isinstance(value, str) and value.startswith("+") and value[1:].isdigit() else value
        for key, value in payload.items()
    }


# -- export ------------------------------------------------------------------------------------------------------

CSV_COLUMNS = tuple(field.name for field in fields(InteractionRow))
#: Free text that a spreadsheet would run as a formula if it began with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FREE_TEXT = ("professional", "product", "purpose", "agent_id", "summary_reason")


def export_csv(rows: Iterable[InteractionRow], path_or_stream: Path | str | IO[str], *, unmasked: bool = False) -> int:
    """Write the rows as CSV (header first, numbers masked unless ``unmasked``); returns the rows written.

    A path is written atomically-enough for a person (UTF-8 with a BOM, so spreadsheets read the accents); a
    stream is written as is. Free-text cells starting like a formula are prefixed with ``'``.
    """
    if isinstance(path_or_stream, str | Path):
        path = Path(path_or_stream)
        buffer = io.StringIO()
        count = _write_csv(rows, buffer, unmasked)
        try:
            path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
        except OSError as error:
            raise InputError(f"{path}: cannot write ({error.strerror})") from None
        return count
    return _write_csv(rows, path_or_stream, unmasked)


def _write_csv(rows: Iterable[InteractionRow], stream: IO[str], unmasked: bool) -> int:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        values = (row if unmasked else row.masked()).to_json()
        writer.writerow([_cell(name, values[name]) for name in CSV_COLUMNS])
        count += 1
    return count


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if name in _FREE_TEXT and text.startswith(_FORMULA_START):
        return "'" + text
    return text
