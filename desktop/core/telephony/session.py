"""The call desk: call events in, call sessions out, every change committed as it happens.

A :class:`CallDesk` owns the sessions of one station. It is fed :class:`CallEvent` objects from any adapter and
is robust to what softphones really send: a missing ring, a duplicated event, an ``ended`` before the
``answered`` it follows, events without a call id (paired by number), a second call ringing while the first
is in wrap-up. Each change is written to the store before the method returns, so a crash loses nothing
already said; at start, sessions left open by a crash are marked ``interrupted``.

Plain Python: the Qt service calls it and re-emits what it returns as signals.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Literal

from desktop.core.consent.check import CallQuestion, check
from desktop.core.consent.engine import Decision
from desktop.core.consent.ledger import now, utc_key
from desktop.core.consent.policy import Policy
from desktop.core.consent.professionals import professional_key
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.payloads import interaction_payload, station_name
from desktop.core.store.consents import record_event
from desktop.core.store.db import transaction
from desktop.core.telephony.events import CallEvent

State = Literal["ringing", "dialing", "active", "wrap_up", "saved", "missed", "interrupted"]
OPEN_STATES: tuple[State, ...] = ("ringing", "dialing", "active")
Speaker = Literal["agent", "customer"]


@dataclass(frozen=True)
class StationDefaults:
    """What the station assumes when a call event does not say (settings.toml [station])."""

    professional: str
    product: str
    caller_id: str | None = None
    agent_id: str | None = None
    purpose: str = "prospection"
    #: This station's name in the CRM (``[crm].station_id``); None = the host name.
    station_id: str | None = None
    #: The station shares consent with a CRM (``[crm].connector`` is not ``none``): stale data forbids (rule 10).
    crm_sync: bool = False


@dataclass
class Segment:
    idx: int
    speaker: Speaker
    start: float | None
    end: float | None
    text: str
    #: False: a provisional text (a long utterance transcribed in parts), replaced by :meth:`CallDesk.refine_segment`.
    final: bool = True


@dataclass
class CallSession:
    key: str
    uid: str
    interaction_id: int
    number: str | None
    direction: str
    professional: str
    product: str
    purpose: str
    sector: str | None
    caller_id: str | None
    agent_id: str | None
    state: State
    started_at: dt.datetime
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    decision: Decision | None = None
    decision_id: int | None = None
    segments: list[Segment] = field(default_factory=list)
    consent_events: list[dict[str, object]] = field(default_factory=list)
    attempt_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def question(self) -> CallQuestion:
        return CallQuestion(
            number=self.number or "",
            product=self.product,
            professional=self.professional,
            at=self.started_at,
            direction=self.direction,
            purpose=self.purpose,
            caller_id=self.caller_id,
            sector=self.sector,
        )


@dataclass(frozen=True)
class Change:
    """What one input did: the session it touched and its state before and after (None before = new)."""

    session: CallSession
    before: State | None
    after: State
    verdict_changed: bool = False


class CallDesk:
    """The sessions of one station, persisted in the store."""

    def __init__(self, conn: sqlite3.Connection, policy: Policy, defaults: StationDefaults, *, language: str = "fr"):
        self.conn = conn
        self.policy = policy
        self.defaults = defaults
        self.language = language
        self.sessions: dict[str, CallSession] = {}
        self.interrupted = self._mark_interrupted()

    # -- events ----------------------------------------------------------------------------------------------

    def handle(self, event: CallEvent) -> Change | None:
        """Apply one call event; None when it changes nothing (duplicate, or after the call's end)."""
        session = self._find(event)
        if session is None:
            if event.kind == "ended":
                return None  # the end of a call we never saw start: nothing to show or keep
            return self._open(event)
        before = session.state
        if event.kind in ("ringing", "dialing"):
            return None  # duplicate start
        if event.kind == "answered":
            if before not in ("ringing", "dialing"):
                return None  # duplicate, or late after the end
            session.state = "active"
            session.answered_at = event.at
            self._save(session, answered=True)
            return Change(session, before, session.state)
        # ended
        if before in ("ringing", "dialing"):
            session.state = "missed"
        elif before == "active":
            session.state = "wrap_up"
        else:
            return None
        session.ended_at = event.at
        self._save(session)
        return Change(session, before, session.state)

    def _find(self, event: CallEvent) -> CallSession | None:
        if event.call_id is not None:
            return self.sessions.get(event.call_id)
        # Hook commands may carry no call id: pair by number, else with the latest open call.
        candidates = [session for session in self.sessions.values() if session.is_open]
        if event.kind in ("ringing", "dialing"):
            candidates = [session for session in candidates if session.state in ("ringing", "dialing")]
        if event.number is not None:
            candidates = [session for session in candidates if session.number == event.number]
        return max(candidates, key=lambda session: session.started_at, default=None)

    def _open(self, event: CallEvent) -> Change:
        direction = event.implied_direction or "outbound"
        state: State = "active" if event.kind == "answered" else ("ringing" if event.kind == "ringing" else "dialing")
        if event.kind == "answered" and event.direction is None:
            direction = "inbound"  # an answer we did not see ring or dial: most likely an incoming call
        uid = str(uuid.uuid4())
        key = event.call_id or f"local:{uid}"
        defaults = self.defaults
        started = event.at
        with transaction(self.conn):
            cursor = self.conn.execute(
                "INSERT INTO interactions (uid, call_id, number, direction, professional, product, purpose,"
                " agent_id, state, started_at, answered_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uid,
                    event.call_id,
                    event.number,
                    direction,
                    event.professional or defaults.professional,
                    event.product or defaults.product,
                    event.purpose or (defaults.purpose if direction == "outbound" else "service"),
                    defaults.agent_id,
                    state,
                    started.isoformat(),
                    started.isoformat() if state == "active" else None,
                    now().isoformat(),
                    now().isoformat(),
                ),
            )
            interaction_id = int(cursor.lastrowid or 0)
        session = CallSession(
            key=key,
            uid=uid,
            interaction_id=interaction_id,
            number=event.number,
            direction=direction,
            professional=event.professional or defaults.professional,
            product=event.product or defaults.product,
            purpose=event.purpose or (defaults.purpose if direction == "outbound" else "service"),
            sector=event.sector,
            caller_id=defaults.caller_id if direction == "outbound" else None,
            agent_id=defaults.agent_id,
            state=state,
            started_at=started,
            answered_at=started if state == "active" else None,
        )
        self.sessions[key] = session
        if direction == "outbound":
            session.attempt_id = self._record_attempt(session)
        self.evaluate(session)
        return Change(session, None, state, verdict_changed=True)

    def _record_attempt(self, session: CallSession) -> int:
        """An outbound call is an attempt, answered or not: it counts towards the frequency cap."""
        with transaction(self.conn):
            cursor = self.conn.execute(
                "INSERT INTO call_attempts (uid, number, professional, professional_key, at, at_utc, outcome, source,"
                " interaction_id) VALUES (?, ?, ?, ?, ?, ?, 'no_answer', 'app', ?)",
                (
                    f"app:{session.uid}",
                    session.number or "",
                    session.professional,
                    professional_key(session.professional),
                    session.started_at.isoformat(),
                    utc_key(session.started_at),
                    session.interaction_id,
                ),
            )
        return int(cursor.lastrowid or 0)

    def _save(self, session: CallSession, *, answered: bool = False) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE interactions SET state = ?, answered_at = ?, ended_at = ?, decision_id = ?, updated_at = ?"
                " WHERE id = ?",
                (
                    session.state,
                    session.answered_at.isoformat() if session.answered_at else None,
                    session.ended_at.isoformat() if session.ended_at else None,
                    session.decision_id,
                    now().isoformat(),
                    session.interaction_id,
                ),
            )
            if answered and session.attempt_id is not None:
                self.conn.execute("UPDATE call_attempts SET outcome = 'answered' WHERE id = ?", (session.attempt_id,))

    # -- consent ---------------------------------------------------------------------------------------------

    def evaluate(self, session: CallSession, at: dt.datetime | None = None) -> Decision | None:
        """(Re-)evaluate consent for the call; returns the decision (None for a call without a number)."""
        if session.number is None:
            session.decision = None
            return None
        _facts, decision, decision_id = check(
            self.conn,
            session.question(),
            self.policy,
            language=self.language,
            evaluated_at=at,
            crm_sync=self.defaults.crm_sync,
            interaction_id=session.interaction_id,
        )
        session.decision, session.decision_id = decision, decision_id
        self._save(session)
        return decision

    def record_withdrawal(
        self,
        session: CallSession,
        *,
        at: dt.datetime,
        segment: int | None = None,
        kind: str = "withdrawn",
        source: str = "panel",
        sent_at: dt.datetime | None = None,
    ) -> Change:
        """The customer withdrew consent (or objected) during the call, confirmed by the agent: forbidden now.
        ``source``: where the agent recorded it (``panel``; the event API's sender, e.g. ``hook``, ``five9``), and
        ``sent_at`` the sender's own time, both kept in the ledger entry for the audit."""
        if session.number is None:
            raise ValueError("a call without a number has no consent to withdraw")
        with transaction(self.conn):
            record_event(
                self.conn,
                "objection" if kind == "objection" else "withdrawn",
                number=session.number,
                professional=session.professional,
                at=at,
                details={
                    "channel": "oral",
                    "agent": session.agent_id,
                    "segment": segment,
                    "interaction": session.uid,
                    "source": source,
                    **({"sent_at": sent_at.isoformat()} if sent_at is not None else {}),
                    **({"scope": "marketing"} if kind == "objection" else {}),
                },
                station=self.defaults.station_id,
            )
        session.consent_events.append(
            {"kind": "objection" if kind == "objection" else "withdrawal", "at": at.isoformat(), "segment": segment}
        )
        before = session.decision.verdict if session.decision else None
        decision = self.evaluate(session, at=max(at, session.started_at))
        return Change(
            session, session.state, session.state, verdict_changed=decision is not None and decision.verdict != before
        )

    # -- transcript ------------------------------------------------------------------------------------------

    def add_segment(
        self,
        session: CallSession,
        speaker: Speaker,
        text: str,
        start: float | None = None,
        end: float | None = None,
        *,
        final: bool = True,
    ) -> Segment:
        """Commit one transcript segment (already redacted by the caller) and return it; ``final`` False: a
        provisional text that :meth:`refine_segment` replaces."""
        segment = Segment(len(session.segments), speaker, start, end, text, final)
        with transaction(self.conn):
            self.conn.execute(
                'INSERT INTO transcript_segments (interaction_id, idx, speaker, start, "end", text, final, created_at)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session.interaction_id, segment.idx, speaker, start, end, text, int(final), now().isoformat()),
            )
            self._requeue_interaction(session)
        session.segments.append(segment)
        return segment

    def refine_segment(self, session: CallSession, idx: int, text: str) -> Segment:
        """Replace segment ``idx``'s text (already redacted by the caller) with its final one; return the segment."""
        if not 0 <= idx < len(session.segments):
            raise IndexError(f"call {session.uid[:8]} has no transcript segment {idx}")
        old = session.segments[idx]
        segment = Segment(idx, old.speaker, old.start, old.end, text, True)
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE transcript_segments SET text = ?, final = 1 WHERE interaction_id = ? AND idx = ?",
                (text, session.interaction_id, idx),
            )
            self._requeue_interaction(session)
        session.segments[idx] = segment
        return segment

    def _requeue_interaction(self, session: CallSession) -> None:
        """A line committed or refined after the summary was validated (the tail of the call, transcribed after
        the hang-up): the interaction still waiting in the outbox gets the transcript as it now is. One already sent
        keeps what it had (a CRM takes an external id once). Inside the caller's transaction."""
        if session.state not in ("saved", "interrupted"):  # not validated yet: nothing queued, no query per line
            return
        row = self.conn.execute(
            "SELECT id FROM outbox WHERE kind = 'interaction' AND entity_id = ? AND state = 'pending'"
            " ORDER BY id DESC LIMIT 1",
            (session.uid,),
        ).fetchone()
        if row is None:
            return
        payload = interaction_payload(self.conn, session.interaction_id, station=station_name(self.defaults.station_id))
        self.conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (payload.model_dump_json(), row[0]))

    def record_suggestion_use(self, session: CallSession, source: str, *, accepted: bool, at: dt.datetime) -> None:
        """Commit what the agent did with a suggestion shown during the call (copied, or left unused)."""
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO suggestion_uses (interaction_id, source, accepted, at) VALUES (?, ?, ?, ?)",
                (session.interaction_id, source, int(accepted), at.isoformat()),
            )

    # -- summary ---------------------------------------------------------------------------------------------

    def save_summary(self, session: CallSession, body: dict[str, object], *, validated_by: str | None) -> None:
        """Keep the summary draft as it is edited; ``validated_by`` set means the agent saved it for good, and the
        call is queued for the CRM in the same transaction. A call cut short stays ``interrupted`` (its transcript
        is that of a call cut short), else it becomes ``saved``."""
        stamp = now().isoformat()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO summaries (interaction_id, body, validated_by, validated_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id) DO UPDATE SET body = excluded.body,"
                " validated_by = excluded.validated_by, validated_at = excluded.validated_at,"
                " updated_at = excluded.updated_at",
                (
                    session.interaction_id,
                    json.dumps(body, ensure_ascii=False),
                    validated_by,
                    stamp if validated_by else None,
                    stamp,
                    stamp,
                ),
            )
            if validated_by is not None:
                state: State = "interrupted" if session.state == "interrupted" else "saved"
                self.conn.execute(
                    "UPDATE interactions SET state = ?, updated_at = ? WHERE id = ?",
                    (state, stamp, session.interaction_id),
                )
                station = station_name(self.defaults.station_id)
                enqueue(self.conn, interaction_payload(self.conn, session.interaction_id, station=station))
                session.state = state

    # -- recovery --------------------------------------------------------------------------------------------

    def _mark_interrupted(self) -> list[int]:
        """Calls left open by a crash or a kill: keep everything, mark them interrupted."""
        rows = self.conn.execute(
            "SELECT id FROM interactions WHERE state IN ('ringing', 'dialing', 'active')"
        ).fetchall()
        ids = [row[0] for row in rows]
        if ids:
            with transaction(self.conn):
                self.conn.executemany(
                    "UPDATE interactions SET state = 'interrupted', updated_at = ? WHERE id = ?",
                    [(now().isoformat(), interaction_id) for interaction_id in ids],
                )
        return ids
