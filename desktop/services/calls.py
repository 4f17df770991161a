"""CallService: the call desk seen from the GUI thread, as typed Qt signals.

Widgets never call the core directly: they call this service's methods (intents) and connect to its signals
(facts in the past tense). It owns the :class:`CallDesk`, the consent-phrase detector, the opening checklist
and the playbook, and re-evaluates the banner by itself at ``valid_until``.

Signals:
- ``call_started(session)``: a call rang, was dialled, or was answered without either.
- ``call_state_changed(session)``: ringing → active → wrap_up → saved, or missed.
- ``verdict_changed(session)``: the consent decision of the session is new (start, withdrawal, valid_until).
- ``segment_added(session, segment)``: a transcript line was committed (``segment.final`` False: a provisional
  text, refined shortly after).
- ``segment_refined(session, segment)``: a provisional line got its final text (same ``idx``).
- ``transcript_completed(session)``: the live transcription of an ended call is done (its tail and refinements
  committed): a summary drafted at the hang-up can follow the transcript's last lines now.
- ``phrase_detected(session, kind, segment_idx)``: a customer turn contains a withdrawal, objection, proof
  request or recording refusal; the agent confirms the consent ones before anything is recorded.
- ``disclosure_changed(session, checklist)``: the opening-disclosure checklist, as ticked so far.
- ``suggestions_changed(session, suggestions)``: the replies for the last customer turn, best first.
- ``summary_saved(session, validated)``: a draft was kept, or the agent validated the summary.

After a kill or a crash, ``recovered`` holds the calls left without a validated summary (interrupted during the
call, or stopped in wrap-up), rebuilt from the store with their transcript; the panel reopens their summaries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.assist.disclosure import Disclosure, check_opening
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.playbook import Playbook, Suggestion
from desktop.core.assist.redact import redact
from desktop.core.assist.summarize import CallInfo, Classifier, SummaryDraft, SummaryWorker, load_prototypes
from desktop.core.assist.summary import Summary, draft_summary, parse_summary
from desktop.core.consent.engine import Decision, Reason
from desktop.core.consent.phone import mask
from desktop.core.consent.policy import Policy
from desktop.core.errors import InputError
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, CallSession, Segment, Speaker, StationDefaults
from desktop.services.suggestions import SuggestionEngine

log = logging.getLogger("agent_assist.calls")
DETECTED_KINDS = ("withdrawal", "objection", "proof_request", "recording_refused", "not_interested")
#: Longest wait armed for a banner re-evaluation (QTimer takes an int of milliseconds).
_MAX_TIMER_MS = 24 * 3600 * 1000
#: Most calls reopened at start for their summary (the newest ones) after a kill or a crash.
RECOVERED_MAX = 10


def system_clock() -> dt.datetime:
    return dt.datetime.now().astimezone()


class CallService(QObject):
    call_started = Signal(object)
    call_state_changed = Signal(object)
    verdict_changed = Signal(object)
    segment_added = Signal(object, object)
    segment_refined = Signal(object, object)
    transcript_completed = Signal(object)
    phrase_detected = Signal(object, str, int)
    disclosure_changed = Signal(object, object)
    suggestions_changed = Signal(object, object)
    summary_saved = Signal(object, bool)

    def __init__(
        self,
        conn: sqlite3.Connection,
        policy: Policy,
        playbook: Playbook,
        defaults: StationDefaults,
        *,
        language: str = "fr",
        clock: Callable[[], dt.datetime] = system_clock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = CallDesk(conn, policy, defaults, language=language)
        self.playbook = playbook
        self.clock = clock
        self.detector = PhraseDetector({kind: getattr(policy.data.phrases, kind) for kind in DETECTED_KINDS})
        self.current: CallSession | None = None
        self.disclosures: dict[str, Disclosure] = {}
        self._revaluation = QTimer(self)
        self._revaluation.setSingleShot(True)
        self._revaluation.timeout.connect(self._on_valid_until_reached)
        self.recovered: list[CallSession] = self._recover()
        self.suggester: SuggestionEngine | None = None
        self.summaries: dict[str, SummaryDraft] | None = None  # None: the engine is off (the bare draft)
        self.summary_worker: SummaryWorker | None = None

    def use_summary_engine(self, worker: SummaryWorker | None = None) -> None:
        """Draft summaries with the extractive engine, kept up to date segment by segment; ``worker`` embeds the
        sentences with the model off the GUI thread (without it, the lexical classifier runs here: cheap)."""
        self.summaries = {}
        self.summary_worker = worker
        self._lexical = Classifier(load_prototypes())

    def _summary_draft(self, session: CallSession) -> SummaryDraft:
        """The call's incremental draft (made from the segments so far the first time: a call reopened)."""
        assert self.summaries is not None
        draft = self.summaries.get(session.uid)
        if draft is None:
            worker = self.summary_worker
            draft = SummaryDraft(
                CallInfo(session.direction, session.purpose, session.professional, session.sector),
                started_at=session.started_at,
                classifier=(worker.classifier if worker is not None else None) or self._lexical,
                detector=self.detector,
                patterns=self.desk.policy.data.redaction.patterns,
            )
            for segment in session.segments:
                draft.add(segment)
            self.summaries[session.uid] = draft
        return draft

    def use_suggester(self, engine: SuggestionEngine) -> None:
        """Rank suggestions with ``engine`` (the embedder, on its worker) instead of the playbook's phrase pick."""
        self.suggester = engine
        engine.ranked.connect(self._on_ranked)

    def _on_ranked(self, session: CallSession, suggestions: list[Suggestion]) -> None:
        self.suggestions_changed.emit(session, suggestions)

    # -- intents ---------------------------------------------------------------------------------------------

    def handle_event(self, event: CallEvent) -> CallSession | None:
        change = self.desk.handle(event)
        if change is None:
            log.debug("call event ignored: %s %s", event.kind, event.call_id)
            return None
        session = change.session
        log.info(
            "call %s: %s -> %s (%s, %s)",
            session.uid[:8],
            change.before,
            change.after,
            session.direction,
            mask(session.number),
        )
        if change.before is None:
            self.current = session
            self.call_started.emit(session)
            self._verdict_updated(session)
        else:
            self.call_state_changed.emit(session)
        if session.state in ("wrap_up", "missed") and session is self.current:
            self._revaluation.stop()
        return session

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
        """Redact the transcript line (cards, IBANs, the pack's patterns), commit it, then run the live helpers on it.
        ``final`` False: a provisional text, replaced later by :meth:`refine_segment`."""
        text = redact(text, self.desk.policy.data.redaction.patterns).text
        segment = self.desk.add_segment(session, speaker, text, start, end, final=final)
        log.debug("segment %d (%s%s): %s", segment.idx, speaker, "" if final else ", provisional", text)
        if self.summaries is not None:  # the summary follows the call, so that it is ready at hang-up
            if session.uid in self.summaries:
                self.summaries[session.uid].add(segment)
            draft = self._summary_draft(session)
            if self.summary_worker is not None:
                self.summary_worker.feed(draft)
        self.segment_added.emit(session, segment)
        if speaker == "agent" and session.direction == "outbound" and session.uid not in self.disclosures:
            checklist = check_opening(text, session.professional)
            self.disclosures[session.uid] = checklist
            self.disclosure_changed.emit(session, checklist)
        if speaker == "customer":
            self._customer_said(session, segment, text, ())
        return segment

    def refine_segment(self, session: CallSession, idx: int, text: str) -> Segment:
        """A provisional line's final text (the whole utterance transcribed at once): redacted, stored in place of
        the provisional one, shown, given to the summary; a consent phrase the provisional text did not hold is
        detected now (one it held was already raised, and is not raised twice); the replies follow it if it is
        still the last customer line. Raises IndexError for an unknown ``idx``."""
        text = redact(text, self.desk.policy.data.redaction.patterns).text
        before = session.segments[idx].text if 0 <= idx < len(session.segments) else ""
        segment = self.desk.refine_segment(session, idx, text)
        log.debug("segment %d refined: %s", idx, text)
        if self.summaries is not None and session.uid in self.summaries:
            self.summaries[session.uid].replace(idx, segment)
            if self.summary_worker is not None:
                self.summary_worker.feed(self.summaries[session.uid])
        self.segment_refined.emit(session, segment)
        if segment.speaker == "customer" and text != before:
            raised = tuple(detection.kind for detection in self.detector.detect(before))
            later = any(other.speaker == "customer" for other in session.segments[idx + 1 :])
            self._customer_said(session, segment, text, raised, suggest=not later)
        return segment

    def mark_transcribed(self, session: CallSession) -> None:
        """The transcription of this ended call is complete (called by the transcription service)."""
        log.debug("call %s: transcript complete (%d segments)", session.uid[:8], len(session.segments))
        self.transcript_completed.emit(session)

    def _customer_said(
        self, session: CallSession, segment: Segment, text: str, raised: tuple[str, ...], *, suggest: bool = True
    ) -> None:
        """Consent phrases in a customer line (those not in ``raised``), then the replies for it."""
        kinds = tuple(detection.kind for detection in self.detector.detect(text))
        for kind in kinds:
            if kind in raised:
                continue
            log.info("call %s: %s detected in segment %d", session.uid[:8], kind, segment.idx)
            self.phrase_detected.emit(session, kind, segment.idx)
        if not suggest:
            return
        verdict = session.decision.verdict if session.decision else None
        if self.suggester is not None:  # ranked by the embedder on its worker; re-emitted by _on_ranked
            self.suggester.request(session, text, verdict, session.sector, kinds)
            return
        suggestions: list[Suggestion] = self.playbook.suggest(text, verdict, kinds)
        if suggestions:
            self.suggestions_changed.emit(session, suggestions)

    def confirm_withdrawal(
        self,
        session: CallSession,
        kind: str = "withdrawn",
        segment: int | None = None,
        *,
        source: str = "panel",
        sent_at: dt.datetime | None = None,
    ) -> None:
        """The agent confirmed a withdrawal (or objection): recorded at once, banner red at once. ``source`` and
        ``sent_at``: who recorded it and their own time (the event API's sender), kept in the ledger entry."""
        at = max(self.clock(), session.started_at)
        self.desk.record_withdrawal(session, at=at, segment=segment, kind=kind, source=source, sent_at=sent_at)
        log.info("call %s: %s recorded", session.uid[:8], kind)
        self._verdict_updated(session)

    def record_suggestion_use(self, session: CallSession, source: str, accepted: bool) -> None:
        """The agent copied a suggestion (accepted) or let it go unused (ignored): stored with the call."""
        self.desk.record_suggestion_use(session, source, accepted=accepted, at=self.clock())
        log.debug("call %s: suggestion %s %s", session.uid[:8], source, "accepted" if accepted else "ignored")

    def draft(self, session: CallSession) -> Summary:
        checklist = self.disclosures.get(session.uid)
        if self.summaries is not None:
            summary_draft = self._summary_draft(session)
            if self.summary_worker is not None:  # the model's last sentences: waited for, not run here
                self.summary_worker.flush(summary_draft)
            return summary_draft.finish(
                session.consent_events,
                disclosure=checklist.to_json() if checklist else None,
                embed=self.summary_worker is None,
            )
        return draft_summary(
            direction=session.direction,
            purpose=session.purpose,
            consent_events=session.consent_events,
            disclosure=checklist.to_json() if checklist else None,
        )

    def resume_draft(self, session: CallSession) -> Summary:
        """The draft to edit: the one kept in the store (the agent's edits before a kill), else a new one.

        The consent events always come from the call (a draft kept earlier may not hold the last one).
        """
        fresh = self.draft(session)
        row = self.desk.conn.execute(
            "SELECT body FROM summaries WHERE interaction_id = ? AND validated_by IS NULL", (session.interaction_id,)
        ).fetchone()
        if row is None:
            return fresh
        try:
            kept = json.loads(row[0])
            if not isinstance(kept, dict):
                raise InputError("not an object")
            return parse_summary({**fresh.to_json(), **kept, "consent_events": fresh.to_json()["consent_events"]})
        except (ValueError, InputError) as error:
            log.warning("call %s: kept summary draft unreadable, a new one is drafted (%s)", session.uid[:8], error)
            return fresh

    def save_summary(self, session: CallSession, summary: Summary, *, validated_by: str | None) -> None:
        # Validating queues the call for the CRM in the same transaction; an interrupted call stays so.
        self.desk.save_summary(session, summary.to_json(), validated_by=validated_by)
        log.info("call %s: summary %s", session.uid[:8], "validated" if validated_by else "draft kept")
        self.summary_saved.emit(session, validated_by is not None)
        if validated_by is not None:
            if self.summaries is not None:
                self.summaries.pop(session.uid, None)
            self.call_state_changed.emit(session)

    def reevaluate(self) -> None:
        """Consent data changed under the call on screen (a CRM pull applied new events): evaluate it again now."""
        session = self.current
        if session is None or not session.is_open:
            return
        self.desk.evaluate(session, at=max(self.clock(), session.started_at))
        log.info("call %s: re-evaluated after a consent pull", session.uid[:8])
        self._verdict_updated(session)

    # -- banner re-evaluation --------------------------------------------------------------------------------

    def _verdict_updated(self, session: CallSession) -> None:
        self.verdict_changed.emit(session)
        if session is self.current:
            self._arm(session)

    def _arm(self, session: CallSession) -> None:
        self._revaluation.stop()
        decision = session.decision
        if decision is None or decision.valid_until is None or not session.is_open:
            return
        wait = (decision.valid_until - self.clock()).total_seconds()
        self._revaluation.start(int(min(max(wait, 0.0) * 1000, _MAX_TIMER_MS)))

    def _on_valid_until_reached(self) -> None:
        session = self.current
        if session is None or not session.is_open:
            return
        decision = session.decision
        if decision is not None and decision.valid_until is not None and self.clock() < decision.valid_until:
            self._arm(session)  # woke early (timer capped): wait again
            return
        before = decision.verdict if decision else None
        self.desk.evaluate(session, at=self.clock())
        log.info(
            "call %s: re-evaluated at valid_until (%s -> %s)",
            session.uid[:8],
            before,
            session.decision.verdict if session.decision else None,
        )
        self._verdict_updated(session)

    def summary_json(self, session: CallSession) -> dict[str, Any]:
        return self.draft(session).to_json()

    # -- recovery after a kill or a crash --------------------------------------------------------------------

    def _recover(self) -> list[CallSession]:
        """The calls left without a validated summary by the last stop, oldest first (at most RECOVERED_MAX):
        interrupted during the call (the desk has just marked them) or stopped during wrap-up."""
        conn = self.desk.conn
        rows = conn.execute(
            "SELECT i.id, i.uid, i.call_id, i.number, i.direction, i.professional, i.product, i.purpose,"
            " i.agent_id, i.state, i.started_at, i.answered_at, i.ended_at, i.decision_id"
            " FROM interactions i LEFT JOIN summaries s ON s.interaction_id = i.id"
            " WHERE i.state IN ('interrupted', 'wrap_up') AND s.validated_at IS NULL ORDER BY i.id DESC LIMIT ?",
            (RECOVERED_MAX,),
        ).fetchall()
        sessions = [self._rebuild(row) for row in reversed(rows)]
        for session in sessions:
            log.info(
                "call %s (%s) reopened for its summary: %d transcript segments kept",
                session.uid[:8],
                session.state,
                len(session.segments),
            )
        return sessions

    def _rebuild(self, row: tuple[Any, ...]) -> CallSession:
        conn = self.desk.conn
        (interaction_id, uid, call_id, number, direction, professional, product, purpose) = row[:8]
        (agent_id, state, started_at, answered_at, ended_at, decision_id) = row[8:]
        segments = [
            Segment(idx, speaker, start, end, text, bool(final))
            for idx, speaker, start, end, text, final in conn.execute(
                'SELECT idx, speaker, start, "end", text, final FROM transcript_segments WHERE interaction_id = ?'
                " ORDER BY idx",
                (interaction_id,),
            )
        ]
        decision, sector = _stored_decision(conn, decision_id)
        started = dt.datetime.fromisoformat(started_at)
        answered = dt.datetime.fromisoformat(answered_at) if answered_at else None
        ended = dt.datetime.fromisoformat(ended_at) if ended_at else None
        if ended is None:  # cut short: it lasted at least until its last line
            last = max((segment.end or segment.start or 0.0 for segment in segments), default=0.0)
            ended = (answered or started) + dt.timedelta(seconds=last)
        events: list[dict[str, object]] = [
            {
                "kind": "objection" if kind == "objection" else "withdrawal",
                "at": dt.datetime.fromisoformat(at).isoformat(),
                "segment": segment,
            }
            for kind, at, segment in conn.execute(
                "SELECT kind, at, json_extract(payload, '$.segment') FROM consent_events"
                " WHERE kind IN ('withdrawn', 'objection') AND json_extract(payload, '$.interaction') = ?"
                " ORDER BY seq",
                (uid,),
            )
        ]
        session = CallSession(
            key=call_id or f"local:{uid}",
            uid=uid,
            interaction_id=interaction_id,
            number=number,
            direction=direction or "outbound",
            professional=professional or self.desk.defaults.professional,
            product=product or self.desk.defaults.product,
            purpose=purpose or self.desk.defaults.purpose,
            sector=sector,
            caller_id=self.desk.defaults.caller_id if direction == "outbound" else None,
            agent_id=agent_id,
            state=state,
            started_at=started,
            answered_at=answered,
            ended_at=ended,
            decision=decision,
            decision_id=decision_id,
            segments=segments,
            consent_events=events,
        )
        opening = next((segment.text for segment in segments if segment.speaker == "agent"), None)
        if session.direction == "outbound" and opening is not None:
            self.disclosures[uid] = check_opening(opening, session.professional)
        return session


def _stored_decision(conn: sqlite3.Connection, decision_id: int | None) -> tuple[Decision | None, str | None]:
    """The decision the banner showed for a call, as recorded (and the call's sector from its facts)."""
    if decision_id is None:
        return None, None
    row = conn.execute(
        "SELECT verdict, regime, scope, reasons, valid_until, policy_name, policy_version, evaluated_at,"
        " json_extract(facts, '$.call.sector') FROM decisions WHERE id = ?",
        (decision_id,),
    ).fetchone()
    if row is None:
        return None, None
    verdict, regime, scope, reasons, valid_until, name, version, evaluated_at, sector = row
    decision = Decision(
        verdict=verdict,
        regime=regime,
        scope=scope,
        reasons=tuple(Reason(r["code"], r["rule"], r["message"]) for r in json.loads(reasons)),
        consumer_local_time=dt.datetime.fromisoformat(evaluated_at),
        policy={"name": name, "version": version},
        valid_until=dt.datetime.fromisoformat(valid_until) if valid_until else None,
    )
    return decision, sector
