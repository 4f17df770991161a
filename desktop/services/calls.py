"""CallService: the call desk seen from the GUI thread, as typed Qt signals.

Widgets never call the core directly: they call this service's methods (intents) and connect to its signals
(facts in the past tense). It owns the :class:`CallDesk`, the consent-phrase detector, the opening checklist
and the playbook, and re-evaluates the banner by itself at ``valid_until``.

Signals:
- ``call_started(session)``: a call rang, was dialled, or was answered without either.
- ``call_state_changed(session)``: ringing → active → wrap_up → saved, or missed.
- ``verdict_changed(session)``: the consent decision of the session is new (start, withdrawal, valid_until).
- ``segment_added(session, segment)``: a transcript line was committed.
- ``phrase_detected(session, kind, segment_idx)``: a customer turn contains a withdrawal, objection, proof
  request or recording refusal; the agent confirms the consent ones before anything is recorded.
- ``disclosure_changed(session, checklist)``: the opening-disclosure checklist, as ticked so far.
- ``suggestions_changed(session, suggestions)``: the replies for the last customer turn, best first.
- ``summary_saved(session, validated)``: a draft was kept, or the agent validated the summary.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.assist.disclosure import Disclosure, check_opening
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.playbook import Playbook, Suggestion
from desktop.core.assist.summary import Summary, draft_summary
from desktop.core.consent.phone import mask
from desktop.core.consent.policy import Policy
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, CallSession, Segment, Speaker, StationDefaults

log = logging.getLogger("agent_assist.calls")
DETECTED_KINDS = ("withdrawal", "objection", "proof_request", "recording_refused", "not_interested")
#: Longest wait armed for a banner re-evaluation (QTimer takes an int of milliseconds).
_MAX_TIMER_MS = 24 * 3600 * 1000


def system_clock() -> dt.datetime:
    return dt.datetime.now().astimezone()


class CallService(QObject):
    call_started = Signal(object)
    call_state_changed = Signal(object)
    verdict_changed = Signal(object)
    segment_added = Signal(object, object)
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
        self, session: CallSession, speaker: Speaker, text: str, start: float | None = None, end: float | None = None
    ) -> Segment:
        """Commit a transcript line (already redacted), then run the live helpers on it."""
        segment = self.desk.add_segment(session, speaker, text, start, end)
        log.debug("segment %d (%s): %s", segment.idx, speaker, text)
        self.segment_added.emit(session, segment)
        if speaker == "agent" and session.direction == "outbound" and session.uid not in self.disclosures:
            checklist = check_opening(text, session.professional)
            self.disclosures[session.uid] = checklist
            self.disclosure_changed.emit(session, checklist)
        if speaker == "customer":
            kinds = tuple(detection.kind for detection in self.detector.detect(text))
            for kind in kinds:
                log.info("call %s: %s detected in segment %d", session.uid[:8], kind, segment.idx)
                self.phrase_detected.emit(session, kind, segment.idx)
            verdict = session.decision.verdict if session.decision else None
            suggestions: list[Suggestion] = self.playbook.suggest(text, verdict, kinds)
            if suggestions:
                self.suggestions_changed.emit(session, suggestions)
        return segment

    def confirm_withdrawal(self, session: CallSession, kind: str = "withdrawn", segment: int | None = None) -> None:
        """The agent confirmed a withdrawal (or objection): recorded at once, banner red at once."""
        at = max(self.clock(), session.started_at)
        self.desk.record_withdrawal(session, at=at, segment=segment, kind=kind)
        log.info("call %s: %s recorded", session.uid[:8], kind)
        self._verdict_updated(session)

    def record_suggestion_use(self, session: CallSession, source: str, accepted: bool) -> None:
        """The agent copied a suggestion (accepted) or let it go unused (ignored): stored with the call."""
        self.desk.record_suggestion_use(session, source, accepted=accepted, at=self.clock())
        log.debug("call %s: suggestion %s %s", session.uid[:8], source, "accepted" if accepted else "ignored")

    def draft(self, session: CallSession) -> Summary:
        checklist = self.disclosures.get(session.uid)
        return draft_summary(
            direction=session.direction,
            purpose=session.purpose,
            consent_events=session.consent_events,
            disclosure=checklist.to_json() if checklist else None,
        )

    def save_summary(self, session: CallSession, summary: Summary, *, validated_by: str | None) -> None:
        self.desk.save_summary(session, summary.to_json(), validated_by=validated_by)
        log.info("call %s: summary %s", session.uid[:8], "validated" if validated_by else "draft kept")
        self.summary_saved.emit(session, validated_by is not None)
        if validated_by is not None:
            self.call_state_changed.emit(session)

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
