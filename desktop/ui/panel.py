"""The agent panel: the window part an agent keeps open beside the softphone all day.

From top to bottom: the consent banner (verdict, reason, proof, countdown, withdrawal and objection), the call
information, then tabs: the live call (opening checklist, suggestions, transcript) and one summary editor per
call waiting in wrap-up. A call ringing during wrap-up takes the banner and the live tab; its predecessor's
summary stays in its tab, marked as pending, until the agent validates it.

It reacts to the :class:`CallService` signals and turns the agent's clicks and shortcuts into the service's
intents. Signals:

- ``suggestion_used(session, source, accepted)``: a suggestion was copied (accepted) or replaced without
  having been copied (ignored); each shown suggestion is reported once.

With a generator attached, a hang-up also asks it for the summary's prose (the extractive draft is on screen at
once; the model's prose fills the fields the agent has not edited when it arrives); a new call ringing cancels it.

The call's last lines are transcribed after the hang-up: when the call service says its transcript is complete, the
open summary's draft follows it in the fields neither the agent nor the prose wrote, and a prose still being written
is asked again on the whole transcript.

Shortcuts (window-wide): Ctrl+Maj+R withdrawal, Ctrl+Maj+O objection, Ctrl+Maj+Entrée confirms a detected
withdrawal, Échap dismisses it, Ctrl+1..3 copy a suggestion, Ctrl+Entrée validates the summary being edited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.core.assist.disclosure import Disclosure
from desktop.core.assist.playbook import Suggestion
from desktop.core.assist.summary import Summary
from desktop.core.consent.phone import mask
from desktop.core.store.consents import ConsentProof, consent_proof
from desktop.core.telephony.session import CallSession
from desktop.paths import assets_dir
from desktop.services.calls import CallService
from desktop.services.generation import GenerationService, SummaryProse
from desktop.ui.widgets.banner import ConsentBanner
from desktop.ui.widgets.call_info import CallInfo
from desktop.ui.widgets.checklist import DisclosureChecklist
from desktop.ui.widgets.suggestions import REPLY_METHOD_WORDS, SHORTCUT_COUNT, SuggestionList, fill_placeholders
from desktop.ui.widgets.summary_editor import SummaryEditor
from desktop.ui.widgets.transcript import TranscriptView

log = logging.getLogger("agent_assist.ui.panel")
# Detector kinds that the agent confirms as consent events, and the service's name for each.
CONSENT_KINDS = {"withdrawal": "withdrawn", "objection": "objection"}
PENDING_TAB_COLOUR = QColor("#9a5b00")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def stylesheet_path() -> Path:
    return assets_dir() / "styles" / "panel.qss"


def load_stylesheet() -> str:
    """The panel's style sheet; empty (Qt's default look) if the file is missing from an installation."""
    try:
        return stylesheet_path().read_text(encoding="utf-8")
    except OSError as error:
        log.warning("panel style sheet not loaded: %s", error)
        return ""


class AgentPanel(QWidget):
    suggestion_used = Signal(object, str, bool)

    def __init__(self, service: CallService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AgentPanel")
        self.service = service
        self.session: CallSession | None = None
        self.generation: GenerationService | None = None
        self.editors: dict[str, SummaryEditor] = {}
        # The call the suggestions on screen belong to (still the old one while they are being replaced).
        self._suggestions_session: CallSession | None = None

        self.banner = ConsentBanner(self)
        self.call_info = CallInfo(self)
        self.checklist = DisclosureChecklist(self)
        self.suggestions = SuggestionList(self)
        self.transcript = TranscriptView(self)
        self.live = QWidget(self)
        self.live.setObjectName("LivePage")
        self.splitter = QSplitter(Qt.Orientation.Vertical, self.live)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.suggestions)
        self.splitter.addWidget(self.transcript)
        # The transcript takes what the window gains; the agent may drag the handle.
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([170, 400])
        live_layout = QVBoxLayout(self.live)
        live_layout.setContentsMargins(4, 4, 4, 4)
        live_layout.setSpacing(6)
        live_layout.addWidget(self.checklist)
        live_layout.addWidget(self.splitter, 1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("PanelTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.live, "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.banner)
        layout.addWidget(self.call_info)
        layout.addWidget(self.tabs, 1)

        self.shortcuts: dict[str, QShortcut] = {}
        self._shortcut("withdraw", "Ctrl+Shift+R", lambda: self.request_withdrawal("withdrawn"))
        self._shortcut("object", "Ctrl+Shift+O", lambda: self.request_withdrawal("objection"))
        self._shortcut("confirm_detected", "Ctrl+Shift+Return", self.banner.confirm_detection, "Ctrl+Shift+Enter")
        self._shortcut("dismiss_detected", "Escape", self.banner.dismiss_detection)
        self.shortcuts["dismiss_detected"].setEnabled(False)
        for number in range(1, SHORTCUT_COUNT + 1):
            self._shortcut(f"copy_{number}", f"Ctrl+{number}", partial(self.copy_suggestion, number - 1))

        self.banner.withdrawal_requested.connect(self.request_withdrawal)
        self.banner.detected_confirmed.connect(self._on_banner_detected_confirmed)
        self.banner.detected_dismissed.connect(self._set_dismiss_enabled)
        self.banner.proof_requested.connect(self._on_banner_proof_requested)
        self.suggestions.suggestion_used.connect(self._on_suggestions_suggestion_used)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)

        service.call_started.connect(self._on_service_call_started)
        service.call_state_changed.connect(self._on_service_call_state_changed)
        service.verdict_changed.connect(self._on_service_verdict_changed)
        service.segment_added.connect(self._on_service_segment_added)
        service.segment_refined.connect(self._on_service_segment_refined)
        service.transcript_completed.connect(self._on_service_transcript_completed)
        service.phrase_detected.connect(self._on_service_phrase_detected)
        service.disclosure_changed.connect(self._on_service_disclosure_changed)
        service.suggestions_changed.connect(self._on_service_suggestions_changed)
        service.summary_saved.connect(self._on_service_summary_saved)

        # One timer for every clock on the panel (countdown to valid_until, call timer), on the GUI thread.
        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.tick)
        self.clock_timer.start()

        self.setMinimumWidth(320)
        self.setStyleSheet(load_stylesheet())
        self.retranslate()
        if service.current is not None:  # built during a call: show it
            self._show_call(service.current)
        self._reopen(service.recovered)
        self.tick()

    def sizeHint(self) -> QSize:
        return QSize(380, 720)

    # -- intents ---------------------------------------------------------------------------------------------

    def confirm_action(self, kind: str) -> bool:
        """Ask the agent to confirm a withdrawal (``"withdrawn"``) or objection before it is recorded.

        Tests and unattended runs replace this method; it returns True to go on.
        """
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        professional = self.session.professional if self.session else "?"
        if kind == "objection":
            box.setWindowTitle(self.tr("Opposition"))
            box.setText(
                self.tr("Le client s'oppose à toute prospection de {professional}. L'enregistrer maintenant ?").format(
                    professional=professional
                )
            )
            accept_text = self.tr("Enregistrer l'opposition")
        else:
            box.setWindowTitle(self.tr("Retrait du consentement"))
            box.setText(
                self.tr(
                    "Le client retire son consentement à être appelé par {professional}. L'enregistrer maintenant ?"
                ).format(professional=professional)
            )
            accept_text = self.tr("Enregistrer le retrait")
        box.setInformativeText(self.tr("Le bandeau passe à INTERDIT : plus aucune offre commerciale."))
        accept = box.addButton(accept_text, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Annuler"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(accept)
        box.exec()
        return box.clickedButton() is accept

    def request_withdrawal(self, kind: str) -> None:
        """The agent asked to record a withdrawal or objection: confirm, then record (the banner turns red)."""
        session = self.session
        if session is None or session.number is None:
            return
        if not self.confirm_action(kind):
            return
        segment = self.banner.detection[1] if self.banner.detection else None
        self.banner.clear_detection()
        self._set_dismiss_enabled()
        self.service.confirm_withdrawal(session, kind=kind, segment=segment)

    def copy_suggestion(self, index: int) -> Suggestion | None:
        return self.suggestions.copy(index)

    def show_live(self) -> None:
        self.tabs.setCurrentWidget(self.live)

    def show_summary(self, session: CallSession | None = None) -> SummaryEditor | None:
        """Bring a pending summary forward: this call's, else the oldest pending one."""
        editor = self.editors.get(session.uid) if session else next(iter(self.editors.values()), None)
        if editor is not None:
            self.tabs.setCurrentWidget(editor)
        return editor

    def quote(self, said: str, kind: str) -> str:
        """The sentence of a customer turn in which the detector heard ``kind`` (the whole turn if none alone)."""
        for sentence in _SENTENCE_END.split(said):
            if any(found.kind == kind for found in self.service.detector.detect(sentence)):
                return sentence.strip()
        return said

    def fill_reply(self, session: CallSession, suggestion: Suggestion) -> Suggestion:
        """The reply with the playbook placeholders this call knows filled in (the professional, the consent's
        date, method and reference), so that what the agent copies is ready to say; those it cannot know (the
        agent's first name, a recap of the offer) become a bracketed blank in words, never a raw ``{name}``."""
        if "{" not in suggestion.text:
            return suggestion
        values: dict[str, str | None] = {"professional": session.professional}
        if "{consent_" in suggestion.text or "{evidence_ref}" in suggestion.text:
            proof = self._proof(session)
            if proof is not None:
                zone = session.decision.consumer_local_time.tzinfo if session.decision else None
                collected = proof.collected_at.astimezone(zone) if proof.collected_at else None
                values["consent_date"] = collected.strftime("%d/%m/%Y") if collected else None
                values["consent_method"] = REPLY_METHOD_WORDS.get(proof.method or "", proof.method)
                values["evidence_ref"] = proof.evidence_ref
        blanks = {
            "agent": self.tr("[votre prénom]"),
            "professional": self.tr("[entreprise]"),
            "consent_date": self.tr("[date de l'accord]"),
            "consent_method": self.tr("[moyen de l'accord]"),
            "evidence_ref": self.tr("[référence de la preuve]"),
            "recap": self.tr("[récapitulatif de l'offre]"),
        }
        text = fill_placeholders(suggestion.text, {name: values.get(name) or blank for name, blank in blanks.items()})
        return suggestion if text == suggestion.text else replace(suggestion, text=text)

    def _proof(self, session: CallSession) -> ConsentProof | None:
        if session.number is None:
            return None
        return consent_proof(self.service.desk.conn, session.number, session.professional, session.product)

    @property
    def current_editor(self) -> SummaryEditor | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, SummaryEditor) else None

    def tick(self) -> None:
        now = self.service.clock()
        self.banner.tick(now)
        self.call_info.tick(now)

    # -- service signals -------------------------------------------------------------------------------------

    def _on_service_call_started(self, session: CallSession) -> None:
        if self.generation is not None:  # the last call's summary prose, if still being written, gives way
            self.generation.cancel()
        self._show_call(session)

    def _on_service_call_state_changed(self, session: CallSession) -> None:
        if session is self.session:
            self.call_info.show_session(session)
        if session.state == "wrap_up" and session.uid not in self.editors:
            editor = self._open_editor(session, bring_forward=session is self.session)
            if self.generation is not None:  # the extractive draft is on screen; the model's prose follows
                patterns = self.service.desk.policy.data.redaction.patterns
                editor.expect_prose(self.generation.write_prose(session, editor.draft, patterns=patterns))
        elif session.state == "saved":
            self._close_editor(session)

    def _on_service_verdict_changed(self, session: CallSession) -> None:
        if session is self.session:
            self.banner.refresh_decision()
            self.tick()
        editor = self.editors.get(session.uid)
        if editor is not None:  # a withdrawal confirmed after the hang-up belongs in the summary
            editor.update_consent_events(self.service.draft(session))

    def _on_service_segment_added(self, session: CallSession, segment: object) -> None:
        if session is self.session:
            self.transcript.append(segment)  # type: ignore[arg-type]

    def _on_service_segment_refined(self, session: CallSession, segment: object) -> None:
        if session is self.session:
            self.transcript.replace(segment)  # type: ignore[arg-type]

    def _on_service_transcript_completed(self, session: CallSession) -> None:
        editor = self.editors.get(session.uid)
        if editor is None:  # validated already (nothing changes then), or the editor is not open yet
            return
        before = editor.draft
        changed = editor.refresh_draft(self.service.draft(session))  # waits for the summary worker, once a call
        log.info(
            "call %s: summary draft completed by the transcript's end, %d field(s) updated",
            session.uid[:8],
            len(changed),
        )
        generation = self.generation
        # A prose still being written was asked on the transcript at the hang-up: asked again on the whole one.
        if (
            generation is not None
            and editor.prose_request is not None
            and generation.current_request == editor.prose_request
            and editor.draft != before
        ):
            patterns = self.service.desk.policy.data.redaction.patterns
            editor.expect_prose(generation.write_prose(session, editor.draft, patterns=patterns))

    def _on_service_phrase_detected(self, session: CallSession, kind: str, segment_idx: int) -> None:
        if session is not self.session:
            return
        if kind in CONSENT_KINDS:
            said = session.segments[segment_idx].text if 0 <= segment_idx < len(session.segments) else ""
            self.banner.show_detection(kind, segment_idx, self.quote(said, kind), whole=said)
            self._set_dismiss_enabled()
        elif kind == "proof_request":
            self.banner.open_proof()

    def _on_service_disclosure_changed(self, session: CallSession, checklist: Disclosure) -> None:
        if session is self.session:
            self.checklist.set_disclosure(checklist)

    def _on_service_suggestions_changed(self, session: CallSession, suggestions: list[Suggestion]) -> None:
        if session is self.session:
            filled = [self.fill_reply(session, each) for each in suggestions]
            self.suggestions.set_suggestions(filled)
            # the model adapts the best approved reply, streamed below it (not after the hang-up: the summary's turn)
            if self.generation is not None and filled and session.is_open:
                self.suggestions.follow_adaptation(self.generation.adapt(session, filled[0]))

    def attach_generation(self, generation: GenerationService) -> None:
        """Adapt the top suggestion of each customer turn with ``generation`` (the optional generator)."""
        self.generation = generation
        self.suggestions.attach_generation(generation)
        generation.summary_prose_ready.connect(self._on_generation_summary_prose_ready)
        generation.summary_prose_cancelled.connect(self._on_generation_summary_prose_cancelled)
        generation.summary_prose_failed.connect(self._on_generation_summary_prose_failed)

    def _prose_editor(self, session: CallSession, request_id: int) -> SummaryEditor | None:
        editor = self.editors.get(session.uid)
        return editor if editor is not None and editor.prose_request == request_id else None

    def _on_generation_summary_prose_ready(self, session: CallSession, request_id: int, prose: SummaryProse) -> None:
        editor = self._prose_editor(session, request_id)
        if editor is None:  # validated meanwhile
            return
        taken = editor.take_prose(prose.summary, prose.rejected, prose.model)
        log.info(
            "call %s: summary prose by %s in %.1f s, %d field(s) taken, %d left extractive",
            session.uid[:8],
            prose.model,
            prose.seconds,
            len(taken),
            len(prose.rejected),
        )

    def _on_generation_summary_prose_cancelled(self, session: CallSession, request_id: int) -> None:
        editor = self._prose_editor(session, request_id)
        if editor is not None:
            editor.prose_ended()

    def _on_generation_summary_prose_failed(self, session: CallSession, request_id: int, message: str) -> None:
        editor = self._prose_editor(session, request_id)
        if editor is not None:
            editor.prose_ended(failed=message)

    def _on_service_summary_saved(self, session: CallSession, validated: bool) -> None:
        editor = self.editors.get(session.uid)
        if editor is None:
            return
        editor.mark_saved(validated=validated, at=self.service.clock())
        if validated:
            self._close_editor(session)

    # -- widget signals --------------------------------------------------------------------------------------

    def _on_banner_detected_confirmed(self, kind: str, segment_idx: int) -> None:
        self._set_dismiss_enabled()
        session = self.session
        if session is None or session.number is None:
            return
        self.service.confirm_withdrawal(session, kind=CONSENT_KINDS.get(kind, "withdrawn"), segment=segment_idx)

    def _on_banner_proof_requested(self) -> None:
        self.banner.set_proof(self._proof(self.session) if self.session is not None else None)

    def _on_suggestions_suggestion_used(self, source: str, accepted: bool) -> None:
        if self._suggestions_session is not None:
            self.service.record_suggestion_use(self._suggestions_session, source, accepted)
            self.suggestion_used.emit(self._suggestions_session, source, accepted)

    def _on_tabs_current_changed(self, _index: int) -> None:
        editor = self.current_editor
        if editor is not None:
            editor.reason_edit.setFocus()

    # -- the calls on screen ---------------------------------------------------------------------------------

    def _show_call(self, session: CallSession) -> None:
        """A new call takes the banner and the live tab; summaries pending stay in their tabs."""
        self.suggestions.clear()  # the last call's suggestions never copied are reported ignored
        self.session = session
        self._suggestions_session = session
        self.banner.show_session(session)
        self._set_dismiss_enabled()
        self.call_info.show_session(session)
        self.checklist.reset(applicable=session.direction == "outbound", professional=session.professional)
        self.transcript.clear()
        for segment in session.segments:
            self.transcript.append(segment)
        if session.uid in self.service.disclosures:
            self.checklist.set_disclosure(self.service.disclosures[session.uid])
        if session.state == "wrap_up" and session.uid not in self.editors:
            self._open_editor(session, bring_forward=True)
        else:
            self.show_live()
        self._render_tabs()
        self.tick()

    def _reopen(self, sessions: list[CallSession]) -> None:
        """Calls that a kill or a crash cut short, or left in wrap-up: their summaries (the agent's draft as kept)
        reopen in their tabs, and the newest call takes the banner and the transcript unless a call goes on."""
        for session in sessions:
            if session.uid not in self.editors:
                self._open_editor(session, bring_forward=False)
        if sessions and self.session is None:
            self._show_call(sessions[-1])
            self.show_summary(sessions[-1])

    def _open_editor(self, session: CallSession, *, bring_forward: bool) -> SummaryEditor:
        editor = SummaryEditor(session, self.service.resume_draft(session), self.tabs)
        editor.draft_changed.connect(lambda summary: self._save(editor.session, summary, validated=False))
        editor.validation_requested.connect(lambda summary: self._save(editor.session, summary, validated=True))
        self.editors[session.uid] = editor
        self.tabs.addTab(editor, "")
        self._render_tabs()
        if bring_forward:
            self.tabs.setCurrentWidget(editor)
        return editor

    def _close_editor(self, session: CallSession) -> None:
        editor = self.editors.pop(session.uid, None)
        if editor is None:
            return
        editor.stop()
        self.tabs.removeTab(self.tabs.indexOf(editor))
        editor.deleteLater()
        self._render_tabs()
        if self.current_editor is None:
            self.show_live()

    def _save(self, session: CallSession, summary: Summary, *, validated: bool) -> None:
        agent = (session.agent_id or "agent") if validated else None
        self.service.save_summary(session, summary, validated_by=agent)

    def _set_dismiss_enabled(self) -> None:
        self.shortcuts["dismiss_detected"].setEnabled(self.banner.detection is not None)

    # -- texts -----------------------------------------------------------------------------------------------

    def _shortcut(self, name: str, sequence: str, slot: Callable[[], object], *more: str) -> QShortcut:
        shortcut = QShortcut(self)
        shortcut.setKeys([QKeySequence(each) for each in (sequence, *more)])
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        self.shortcuts[name] = shortcut
        return shortcut

    def retranslate(self) -> None:
        # The keys as printed on the agent's keyboard (Qt's own names say "Retour" for Entrée).
        self.banner.set_shortcut_hints(
            confirm=self.tr("Ctrl+Maj+Entrée"),
            dismiss=self.tr("Échap"),
            withdraw=self.tr("Ctrl+Maj+R"),
            objection=self.tr("Ctrl+Maj+O"),
        )
        self._render_tabs()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _render_tabs(self) -> None:
        self.tabs.setTabText(self.tabs.indexOf(self.live), self.tr("Appel"))
        bar = self.tabs.tabBar()
        for uid, editor in self.editors.items():
            index = self.tabs.indexOf(editor)
            number = mask(editor.session.number)[-2:] if editor.session.number else "?"
            pending = self.session is not None and uid != self.session.uid
            if pending:
                text = self.tr("Résumé en attente ·{number}").format(number=number)
            else:
                text = self.tr("Résumé ·{number}").format(number=number)
            self.tabs.setTabText(index, text)
            self.tabs.setTabToolTip(
                index, self.tr("Résumé à valider de l'appel {number}").format(number=mask(editor.session.number))
            )
            bar.setTabTextColor(index, PENDING_TAB_COLOUR if pending else QColor())
