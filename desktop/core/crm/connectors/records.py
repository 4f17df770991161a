"""What the webhook, Salesforce, HubSpot and Dynamics connectors store in the CRM, shared so that they agree.

Each call record carries two things: a readable note for the CRM's users (:func:`call_note`, the validated
summary) and the machine-readable payload (:func:`interaction_record`, JSON) in a long-text field, from which
:func:`remote_interaction` rebuilds what the review window lists. Consent records carry the event's JSON
(:func:`consent_record`) so that another station pulls back exactly the event that was pushed, same
``external_id``. The pull cursor (:class:`TimeCursor`) is ``(timestamp, id)`` keyset paging with an overlap
window for CRMs whose modification stamps can commit out of order.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from desktop.core.crm.contract import (
    ConsentEventPayload,
    InteractionPayload,
    RemoteInteraction,
    ReviewState,
    TranscriptLine,
)
from desktop.core.errors import InputError

_DIRECTION_FR = {"inbound": "entrant", "outbound": "sortant"}
#: Marker appended when the transcript had to be cut to fit the CRM's field.
TRUNCATED = "[transcription tronquée]"


def call_subject(item: InteractionPayload) -> str:
    """A short subject line: ``Appel sortant – sale``."""
    return f"Appel {_DIRECTION_FR[item.direction]} – {item.disposition or 'sans issue'}"


def call_note(item: InteractionPayload) -> str:
    """The validated summary as plain text for the CRM's users (French labels, one item a line)."""
    lines: list[str] = []
    summary = item.summary or {}
    if summary.get("reason"):
        lines.append(f"Motif : {summary['reason']}")
    for action in summary.get("actions") or []:
        lines.append(f"- {action}")
    if summary.get("resolution"):
        lines.append(f"Résolution : {summary['resolution']}")
    for step in summary.get("next_steps") or []:
        if isinstance(step, dict):
            due = f" (avant le {step['due']})" if step.get("due") else ""
            lines.append(f"Suite ({step.get('owner', '?')}) : {step.get('action', '')}{due}")
    if item.disposition:
        lines.append(f"Issue : {item.disposition}")
    if item.verdict:
        lines.append(f"Verdict consentement : {item.verdict}" + (f" ({item.reason})" if item.reason else ""))
    if item.dialled_against_forbidden:
        lines.append("ALERTE : appel commercial passé malgré un verdict « forbidden »")
    lines.append(f"Poste : {item.station} — réf. {item.external_id}")
    return "\n".join(lines)


def interaction_record(item: InteractionPayload, max_chars: int) -> str:
    """The payload as compact JSON, at most ``max_chars`` characters: transcript lines are dropped from the end
    (with a :data:`TRUNCATED` line) until it fits; ValueError if even without a transcript it does not."""
    text = item.model_dump_json()
    if len(text) <= max_chars:
        return text
    lines = list(item.transcript)
    marker = TranscriptLine(speaker="agent", text=TRUNCATED)
    low, high = 0, len(lines)
    best: str | None = None
    while low <= high:  # the longest transcript prefix that fits
        middle = (low + high) // 2
        candidate = item.model_copy(update={"transcript": [*lines[:middle], marker]}).model_dump_json()
        if len(candidate) <= max_chars:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise ValueError(f"interaction {item.external_id}: the record exceeds {max_chars} characters")
    return best


def remote_interaction(
    record: str | None,
    *,
    external_id: str,
    review_state: str | None,
    review_comment: str | None,
    consent_events: list[ConsentEventPayload] | None = None,
) -> RemoteInteraction:
    """A :class:`RemoteInteraction` from a stored :func:`interaction_record` (or only its id when the record is
    missing or unreadable, e.g. a call logged by hand in the CRM)."""
    state: ReviewState = "pending"
    if review_state == "approved":
        state = "approved"
    elif review_state == "flagged":
        state = "flagged"
    base: dict[str, Any] = {}
    if record:
        try:
            base = InteractionPayload.model_validate_json(record).model_dump()
        except ValidationError:
            base = {}
    kept = {key: base[key] for key in RemoteInteraction.model_fields if key in base}
    kept.update(
        external_id=external_id,
        review_state=state,
        review_comment=review_comment or None,
        consent_events=consent_events or [],
    )
    return RemoteInteraction.model_validate(kept)


def consent_record(item: ConsentEventPayload) -> str:
    """The consent event as JSON, as stored in the CRM and pulled back by the other stations."""
    return item.model_dump_json()


def consent_from_record(record: str | None) -> ConsentEventPayload | None:
    """The event stored by :func:`consent_record`, or None when the field is empty or not ours."""
    if not record:
        return None
    try:
        return ConsentEventPayload.model_validate_json(record)
    except ValidationError:
        return None


def opts_out(item: ConsentEventPayload) -> bool:
    """Whether the event is an opt-out (a withdrawal or an objection)."""
    return item.kind in ("withdrawn", "objection")


def utc(instant: dt.datetime) -> dt.datetime:
    """The instant in UTC (payload datetimes are timezone-aware; a naive one is taken as UTC)."""
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant.astimezone(dt.UTC)


def iso_z(instant: dt.datetime) -> str:
    """``2026-11-22T09:15:00.000Z``: the form Salesforce, HubSpot and Dataverse all accept."""
    return utc(instant).strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc(instant).microsecond // 1000:03d}Z"


def parse_instant(value: object) -> dt.datetime | None:
    """An aware UTC datetime from ISO text (``Z`` or ``+0000`` offsets) or epoch milliseconds; None if unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Salesforce's +0000
    try:
        return utc(dt.datetime.fromisoformat(text))
    except ValueError:
        return None


@dataclass(frozen=True)
class TimeCursor:
    """A pull position: the last row's modification stamp and id. ``resume`` is True when the last page was the
    end (the next pull starts ``overlap`` seconds earlier, re-reading what may have committed late); False in
    the middle of a run of pages (strict keyset paging: after ``(at, id)``)."""

    at: dt.datetime
    id: str
    resume: bool

    def encode(self) -> str:
        return json.dumps({"at": iso_z(self.at), "id": self.id, "resume": self.resume}, separators=(",", ":"))

    @staticmethod
    def decode(cursor: str | None) -> TimeCursor | None:
        """None for no cursor (pull from the start); InputError for a cursor this connector did not write."""
        if cursor is None:
            return None
        try:
            data = json.loads(cursor)
            at = parse_instant(data["at"])
            if at is None:
                raise ValueError
            return TimeCursor(at=at, id=str(data["id"]), resume=bool(data["resume"]))
        except (ValueError, KeyError, TypeError):
            raise InputError("consent pull cursor: not one this connector wrote (reset the sync state)") from None
