"""The agent panel driven through whole calls by the real call service: what the agent sees at each step."""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.assist.playbook import Suggestion
from desktop.core.store.db import Store
from desktop.services.calls import CallService
from desktop.ui.i18n import install_translator
from desktop.ui.panel import AgentPanel
from desktop.ui.widgets.summary_editor import SummaryEditor

from .conftest import NUMBER, TEXT_SHOWN, FakeClock, Shots, ev

OPENING = (
    "Bonjour, je suis Sofia, je vous appelle pour le compte d'ACME Énergie. C'est un appel commercial, et il est "
    "enregistré."
)
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def start_call(panel: AgentPanel, clock: FakeClock, *, number: str = NUMBER, call_id: str = "c1") -> object:
    session = panel.service.handle_event(ev("dialing", 0, call_id=call_id, number=number, direction="outbound"))
    clock.at(4)
    panel.service.handle_event(ev("answered", 4, call_id=call_id))
    assert session is not None
    return session


def summary_row(store: Store) -> tuple[dict[str, object], str | None, str]:
    body, validated_by, state = store.conn.execute(
        "SELECT s.body, s.validated_by, i.state FROM summaries s JOIN interactions i ON i.id = s.interaction_id"
    ).fetchone()
    return json.loads(body), validated_by, state


def test_a_whole_call_as_the_agent_sees_it(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store, shots: Shots
) -> None:
    service = panel.service
    banner, info = panel.banner, panel.call_info
    assert banner.verdict_label.text() == "AUCUN APPEL"
    shots(panel, "idle")

    # Dialling: the verdict is there before the customer answers.
    with qtbot.waitSignal(service.verdict_changed):
        session = service.handle_event(ev("dialing", 0, call_id="c1", number=NUMBER, direction="outbound"))
    assert session is not None
    assert banner.verdict_label.text() == "AUTORISÉ"
    assert banner.strip.property("verdict") == "allowed"
    assert banner.scope_label.text() == "DÉMARCHAGE"
    message = session.decision.reasons[0].message
    assert message.startswith("Consentement du 01/09/2026 16:02 à ACME Énergie SAS")
    assert banner.reason_label.full_text() == message
    assert banner.reason_label.toolTip() == message
    assert banner.countdown_label.text() == "Valable jusqu'à 13:00 · encore 2:30:00"
    assert info.number_label.text() == "+•••••••••01"
    assert info.state_label.full_text() == "Sortant · Numérotation"
    assert info.context_label.full_text() == "ACME Énergie SAS · electricity · démarchage"
    shots(panel, "dialing")

    service.handle_event(ev("answered", 4, call_id="c1"))
    clock.at(9)
    panel.tick()
    assert info.state_label.full_text() == "Sortant · En ligne"
    assert info.timer_label.text() == "00:05"
    assert banner.countdown_label.text() == "Valable jusqu'à 13:00 · encore 2:29:51"

    # The agent's opening: every point of the checklist is said.
    assert not any(panel.checklist.ticked().values())
    service.add_segment(session, "agent", OPENING, 4.5, 11.0)
    assert panel.transcript.lines() == [("agent", OPENING)]
    assert panel.checklist.ticked() == dict.fromkeys(
        ("identity", "on_behalf_of", "commercial_nature", "recording_notice"), True
    )
    assert panel.checklist.title.text() == "Mentions d'ouverture · 4/4"
    shots(panel, "opening")

    # A price objection: the approved reply comes up.
    clock.at(20)
    service.add_segment(session, "customer", "Oui bonjour. Franchement, c'est trop cher chez vous.", 11.5, 15.0)
    suggestions = panel.suggestions.suggestions()
    assert suggestions[0].category == "objection_price"
    assert panel.suggestions.list.item(0).text().startswith("Ctrl+1 · Objection prix\nJe comprends.")
    shots(panel, "suggestions")

    # The customer withdraws: the agent is asked to confirm, in one click.
    clock.at(31)
    used: list[tuple[object, str, bool]] = []
    panel.suggestion_used.connect(lambda s, source, accepted: used.append((s, source, accepted)))
    with qtbot.waitSignal(service.phrase_detected):
        service.add_segment(session, "customer", "Non merci, et ne m'appelez plus.", 16.0, 19.0)
    assert panel.transcript.lines()[-1] == ("customer", "Non merci, et ne m'appelez plus.")
    assert banner.prompt.isVisible()
    assert banner.prompt_label.text() == "Retrait détecté : « Non merci, et ne m'appelez plus. » — Confirmer ?"
    assert banner.detection == ("withdrawal", 2)
    assert used == [(session, "playbook:price-01", False)]  # replaced without having been copied
    assert panel.suggestions.suggestions()[0].category == "withdrawal_ack"
    assert banner.verdict_label.text() == "AUTORISÉ"  # nothing recorded before the agent confirms
    shots(panel, "withdrawal-detected")

    with qtbot.waitSignal(service.verdict_changed):
        qtbot.mouseClick(banner.confirm_button, Qt.MouseButton.LeftButton)
    assert not banner.prompt.isVisible()
    assert banner.verdict_label.text() == "INTERDIT"
    assert banner.strip.property("verdict") == "forbidden"
    assert session.decision.codes[0] == "CONSENT_REVOKED"
    assert banner.reason_label.full_text() == "Consentement retiré le 24/11/2026 10:30 : aucune offre commerciale."
    assert consented_store.conn.execute("SELECT kind FROM consent_events WHERE kind = 'withdrawn'").fetchall() == [
        ("withdrawn",)
    ]
    shots(panel, "forbidden")

    # Hang-up: the summary editor comes up, drafted from what the call knows.
    clock.at(40)
    with qtbot.waitSignal(service.call_state_changed):
        service.handle_event(ev("ended", 40, call_id="c1"))
    assert info.state_label.full_text() == "Sortant · Terminé"
    assert info.timer_label.text() == "00:36"
    assert banner.countdown_label.text() == ""  # the call is over: nothing to count down
    editor = panel.current_editor
    assert isinstance(editor, SummaryEditor) and editor.session is session
    assert editor.disposition_combo.currentData() == "do_not_call"
    assert editor.disposition_combo.currentText() == "Ne plus appeler"
    assert editor.resolution_combo.currentData() == "not_applicable"
    assert editor.events_list.item(0).text() == "Retrait du consentement · 10:30:31 · réplique 3"
    assert all(box.isChecked() for box in editor.disclosure_boxes.values())
    assert editor.reason_edit.text() == ""
    shots(panel, "summary-draft")

    # Validation needs the reason.
    assert editor.validate() is None
    assert editor.error_label.isVisible()
    assert editor.error_label.text() == "Le motif de l'appel est à remplir."

    # Edits are kept as a draft, after a pause.
    with qtbot.waitSignal(service.summary_saved, check_params_cb=lambda s, validated: not validated):
        qtbot.keyClicks(editor.reason_edit, "Offre ACME : retrait du consentement")  # QTest types ASCII only
    body, validated_by, state = summary_row(consented_store)
    assert body["reason"] == "Offre ACME : retrait du consentement"
    assert (validated_by, state) == (None, "wrap_up")
    assert editor.status_label.text() == "Brouillon enregistré à 10:30:40"
    assert not editor.error_label.isVisible()

    editor.actions_edit.setPlainText("Offre présentée\nRetrait du consentement pris en compte")
    editor.steps.add_row()
    owner, action, due, _remove = editor.steps.rows[0]
    owner.setCurrentIndex(owner.findData("company"))
    qtbot.keyClicks(action, "Retirer ce client des fichiers de prospection")
    qtbot.keyClicks(due, "01/12/2026")
    shots(panel, "summary-edited")

    # Ctrl+Entrée validates: stored for good, the tab goes, the call info says so.
    editor.reason_edit.setFocus()
    with qtbot.waitSignal(service.summary_saved, check_params_cb=lambda s, validated: validated):
        qtbot.keyClick(editor.reason_edit, Qt.Key.Key_Return, CTRL)
    body, validated_by, state = summary_row(consented_store)
    assert (validated_by, state) == ("agent-7", "saved")
    assert body["disposition"] == "do_not_call"
    assert body["actions"] == ["Offre présentée", "Retrait du consentement pris en compte"]
    assert body["next_steps"] == [
        {"owner": "company", "action": "Retirer ce client des fichiers de prospection", "due": "2026-12-01"}
    ]
    assert body["consent_events"] == [{"kind": "withdrawal", "at": "2026-11-24T10:30:31+01:00", "segment": 2}]
    assert body["opening_disclosure"] == dict.fromkeys(
        ("identity", "on_behalf_of", "commercial_nature", "recording_notice"), True
    )
    assert panel.editors == {} and panel.tabs.count() == 1 and panel.current_editor is None
    assert info.state_label.full_text() == "Sortant · Enregistré"
    qtbot.wait(SummaryEditor.DEBOUNCE_MS + 100)  # no late draft overwrites the validated summary
    assert summary_row(consented_store)[1:] == ("agent-7", "saved")
    shots(panel, "saved")


def test_the_proof_on_demand(qtbot: QtBot, panel: AgentPanel, clock: FakeClock, shots: Shots) -> None:
    session = start_call(panel, clock)
    banner = panel.banner
    assert not banner.details.isVisible()
    qtbot.mouseClick(banner.proof_button, Qt.MouseButton.LeftButton)
    assert banner.proof_box.isVisible()
    fields = banner.proof_fields()
    assert fields["Donné à"] == "ACME Énergie SAS"
    assert fields["Pour"] == "electricity"
    assert fields["Le"] == "01/09/2026 16:02"
    assert fields["Comment"] == "formulaire web, acte positif du client"
    assert fields["Preuve"] == "wf-2026-09-01-8812"
    assert fields["Texte affiché"] == f"« {TEXT_SHOWN} »"
    assert fields["Décision"] == session.decision.reasons[0].message
    assert "Retiré le" not in fields
    shots(panel, "proof")

    qtbot.mouseClick(banner.reasons_button, Qt.MouseButton.LeftButton)
    assert banner.reasons_box.isVisible()
    assert banner.reasons_box.text().startswith("▶ Consentement du 01/09/2026")
    assert "[VALID_CONSENT — C. consom. L223-1 al. 1]" in banner.reasons_box.text()

    # A proof request from the customer opens it; a withdrawal shows in it at once.
    qtbot.mouseClick(banner.proof_button, Qt.MouseButton.LeftButton)
    assert not banner.proof_box.isVisible()
    panel.service.add_segment(session, "customer", "Mais où avez-vous eu mon numéro ?", 5.0, 7.0)
    assert banner.proof_box.isVisible()
    # The approved reply comes with this consent's facts in it, ready to say.
    reply = panel.suggestions.suggestions()[0]
    assert reply.category == "proof_of_consent" and reply.source == "playbook:proof-01"
    assert "Votre accord a été enregistré le 01/09/2026 (formulaire en ligne), référence wf-2026-09-01-8812." in (
        reply.text
    )
    clock.at(12)
    panel.banner.confirm_detection()  # nothing pending: no effect
    panel.confirm_action = lambda kind: True  # type: ignore[method-assign]
    panel.request_withdrawal("withdrawn")
    assert banner.proof_fields()["Retiré le"] == "24/11/2026 10:30"
    shots(panel, "proof-withdrawn")


def test_the_confirmation_decides(qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store) -> None:
    start_call(panel, clock)
    asked: list[str] = []

    def refuse(kind: str) -> bool:
        asked.append(kind)
        return False

    panel.confirm_action = refuse  # type: ignore[method-assign]
    qtbot.mouseClick(panel.banner.withdraw_button, Qt.MouseButton.LeftButton)
    assert asked == ["withdrawn"]
    assert panel.banner.verdict_label.text() == "AUTORISÉ"
    assert consented_store.conn.execute("SELECT COUNT(*) FROM consent_events WHERE kind != 'given'").fetchone() == (0,)

    panel.confirm_action = lambda kind: asked.append(kind) or True  # type: ignore[method-assign]
    with qtbot.waitSignal(panel.service.verdict_changed):
        qtbot.mouseClick(panel.banner.object_button, Qt.MouseButton.LeftButton)
    assert asked == ["withdrawn", "objection"]
    assert panel.banner.verdict_label.text() == "INTERDIT"
    assert panel.service.current.decision.codes[0] == "MARKETING_OBJECTION"


def test_the_real_confirmation_dialog(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    start_call(panel, clock)
    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        accept = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
        assert accept.text() == "Enregistrer le retrait"
        accept.click()

    QTimer.singleShot(0, answer)
    with qtbot.waitSignal(panel.service.verdict_changed):
        qtbot.mouseClick(panel.banner.withdraw_button, Qt.MouseButton.LeftButton)
    assert seen == ["Le client retire son consentement à être appelé par ACME Énergie SAS. L'enregistrer maintenant ?"]
    assert panel.banner.verdict_label.text() == "INTERDIT"


def test_transcript_autoscroll_stops_when_the_agent_scrolls_up(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, shots: Shots
) -> None:
    session = start_call(panel, clock)
    view = panel.transcript
    bar = view.scroll_area.verticalScrollBar()
    for index in range(14):
        speaker = "customer" if index % 2 else "agent"
        panel.service.add_segment(session, speaker, f"Réplique numéro {index}, assez longue pour passer à la ligne.")
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    assert view.following

    bar.setValue(0)  # the agent scrolls up to read
    assert not view.following
    panel.service.add_segment(session, "customer", "Une nouvelle ligne pendant la lecture.")
    old_maximum = bar.maximum()
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum)
    assert bar.value() == 0
    assert view.resume_button.isVisible()
    assert view.resume_button.text() == "▼ 1 nouvelle(s) ligne(s) — revenir en bas"
    shots(panel, "transcript-paused")

    bar.setValue(bar.maximum())  # back at the bottom: following again
    assert view.following and not view.resume_button.isVisible()
    panel.service.add_segment(session, "agent", "Et la suite arrive en bas.")
    qtbot.waitUntil(lambda: view.lines()[-1][1] == "Et la suite arrive en bas." and bar.value() == bar.maximum())
    old_maximum = bar.maximum()
    panel.service.add_segment(session, "customer", "Encore une.")
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum and bar.value() == bar.maximum())

    bar.setValue(0)
    panel.service.add_segment(session, "customer", "Pendant la lecture.")
    qtbot.waitUntil(view.resume_button.isVisible)
    qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
    assert view.following
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())


def test_a_provisional_line_is_refined_on_the_panel(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, shots: Shots
) -> None:
    session = start_call(panel, clock)
    service = panel.service
    service.add_segment(session, "agent", "Bonjour, ici Sofia d'ACME Énergie.", 4.5, 6.0)
    parts = "je voudrais savoir pourquoi ma facture a augmente de quarante euros depuis le mois"
    with qtbot.waitSignal(service.segment_added):
        service.add_segment(session, "customer", parts, 6.5, 14.0, final=False)
    assert panel.transcript.lines()[-1] == ("customer", parts)
    texts = panel.transcript.container.findChildren(QLabel, "LineText")
    assert [label.property("provisional") for label in texts] == [False, True]
    shots(panel, "provisional")

    refined = "Je voudrais savoir pourquoi ma facture a augmenté de quarante euros depuis le mois dernier."
    with qtbot.waitSignal(service.segment_refined):
        service.refine_segment(session, 1, refined)
    assert panel.transcript.lines() == [("agent", "Bonjour, ici Sofia d'ACME Énergie."), ("customer", refined)]
    assert panel.transcript.container.findChildren(QLabel, "LineText") == texts
    assert texts[1].text() == refined and texts[1].property("provisional") is False
    shots(panel, "refined")

    # A line of a call no longer on screen is refined in the store, not on this call's transcript.
    service.add_segment(session, "customer", "je vous rappelle", 15.0, 16.0, final=False)
    clock.at(30)
    service.handle_event(ev("ended", 30, call_id="c1"))
    clock.at(45)
    second = service.handle_event(ev("ringing", 45, call_id="c2", number="+33639980002"))
    assert panel.session is second
    service.add_segment(second, "customer", "Allô ?", 0.5, 1.0, final=False)
    with qtbot.waitSignal(service.segment_refined):
        service.refine_segment(session, 2, "Je vous rappelle.")
    assert panel.transcript.lines() == [("customer", "Allô ?")]
    assert session.segments[2].text == "Je vous rappelle."


def test_suggestions_copy_on_click_and_shortcut(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    session = start_call(panel, clock)
    used: list[tuple[object, str, bool]] = []
    panel.suggestion_used.connect(lambda s, source, accepted: used.append((s, source, accepted)))
    panel.service.add_segment(session, "customer", "C'est trop cher, et combien ça coûte au juste ?")
    items = panel.suggestions.suggestions()
    assert items and items[0].source == "playbook:price-01"
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("")

    rect = panel.suggestions.list.visualItemRect(panel.suggestions.list.item(0))
    qtbot.mouseClick(panel.suggestions.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert clipboard.text() == items[0].text
    assert used == [(session, "playbook:price-01", True)]
    assert panel.suggestions.list.item(0).text().startswith("Ctrl+1 · Objection prix · copié ✓\n")

    clipboard.setText("")
    panel.activateWindow()
    qtbot.waitActive(panel)
    qtbot.keyClick(panel, Qt.Key.Key_1, CTRL)
    assert clipboard.text() == items[0].text
    assert used == [(session, "playbook:price-01", True)]  # reported once

    qtbot.keyClick(panel, Qt.Key.Key_3, CTRL)  # no third suggestion: nothing happens
    assert clipboard.text() == items[0].text

    panel.service.add_segment(session, "customer", "Je n'ai pas le temps, là.")
    assert [entry[2] for entry in used] == [True] + [False] * (len(items) - 1)
    new = panel.suggestions.suggestions()
    assert new and new[0].category == "objection_time"
    qtbot.keyClick(panel, Qt.Key.Key_1, CTRL)
    assert clipboard.text() == new[0].text
    assert used[-1] == (session, new[0].source, True)
    stored = panel.service.desk.conn.execute(
        "SELECT source, accepted FROM suggestion_uses WHERE interaction_id = ? ORDER BY id", (session.interaction_id,)
    ).fetchall()
    assert stored == [(source, int(accepted)) for _, source, accepted in used]


def test_english_after_install_translator(
    qtbot: QtBot, qapp: QApplication, panel: AgentPanel, clock: FakeClock, shots: Shots
) -> None:
    session = start_call(panel, clock)
    panel.service.add_segment(session, "agent", "Bonjour, je suis Sofia.")
    assert install_translator(qapp, "fr") is None
    assert install_translator(qapp, "en") is not None
    qtbot.waitUntil(lambda: panel.banner.verdict_label.text() == "ALLOWED")
    assert panel.banner.scope_label.text() == "CANVASSING"
    assert panel.banner.withdraw_button.text() == "Consent withdrawal"
    assert panel.banner.object_button.text() == "Objection"
    assert panel.tabs.tabText(0) == "Call"
    assert panel.transcript.title.text() == "Transcript"
    assert panel.call_info.state_label.full_text() == "Outbound · On the line"
    assert panel.checklist.boxes["on_behalf_of"].text() == "On behalf of"
    shots(panel, "english")

    install_translator(qapp, "fr")
    qtbot.waitUntil(lambda: panel.banner.verdict_label.text() == "AUTORISÉ")
    assert panel.banner.withdraw_button.text() == "Retrait du consentement"


def test_an_unknown_language_stays_french(qapp: QApplication, caplog: pytest.LogCaptureFixture) -> None:
    assert install_translator(qapp, "de_DE") is None
    assert "no translation for language 'de_DE'" in caplog.text


def test_tab_reaches_the_buttons(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    session = start_call(panel, clock)
    panel.service.add_segment(session, "customer", "Ne m'appelez plus.")
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.banner.reasons_button.setFocus()
    reached: list[QWidget] = []
    for _ in range(30):
        widget = QApplication.focusWidget()
        assert widget is not None
        reached.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    banner = panel.banner
    for wanted in (
        banner.proof_button,
        banner.confirm_button,
        banner.dismiss_button,
        banner.withdraw_button,
        banner.object_button,
        panel.suggestions.list,
    ):
        assert wanted in reached
    assert reached.index(banner.confirm_button) < reached.index(banner.withdraw_button)


def test_shortcuts(qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store) -> None:
    session = start_call(panel, clock)
    panel.activateWindow()
    qtbot.waitActive(panel)
    banner = panel.banner
    assert banner.prompt_keys.text() == "Ctrl+Maj+Entrée : confirmer · Échap : ignorer"

    panel.service.add_segment(session, "customer", "Bon. Alors ne m'appelez plus, d'accord ? Au revoir.")
    assert banner.prompt.isVisible()
    assert banner.prompt_label.text() == "Retrait détecté : « Alors ne m'appelez plus, d'accord ? » — Confirmer ?"
    assert banner.prompt_label.toolTip() == "Bon. Alors ne m'appelez plus, d'accord ? Au revoir."
    qtbot.keyClick(panel, Qt.Key.Key_Escape)  # a false alarm: dismissed, nothing recorded
    assert not banner.prompt.isVisible()
    assert banner.verdict_label.text() == "AUTORISÉ"

    panel.service.add_segment(session, "customer", "Je vous dis de ne plus m'appeler, ne m'appelez plus !")
    with qtbot.waitSignal(panel.service.verdict_changed):
        qtbot.keyClick(panel, Qt.Key.Key_Return, CTRL_SHIFT)
    assert banner.verdict_label.text() == "INTERDIT"
    assert session.consent_events == [{"kind": "withdrawal", "at": "2026-11-24T10:30:04+01:00", "segment": 1}]

    asked: list[str] = []
    panel.confirm_action = lambda kind: asked.append(kind) or True  # type: ignore[method-assign]
    with qtbot.waitSignal(panel.service.verdict_changed):
        qtbot.keyClick(panel, Qt.Key.Key_O, CTRL_SHIFT)
    assert asked == ["objection"]
    assert panel.service.current.decision.codes[0] in ("CONSENT_REVOKED", "MARKETING_OBJECTION")
    with qtbot.waitSignal(panel.service.verdict_changed):
        qtbot.keyClick(panel, Qt.Key.Key_R, CTRL_SHIFT)
    assert asked == ["objection", "withdrawn"]


def test_a_second_call_during_wrap_up_keeps_the_summary(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store, shots: Shots
) -> None:
    first = start_call(panel, clock)
    panel.service.add_segment(first, "customer", "Je réfléchis et je vous rappelle.")
    clock.at(30)
    panel.service.handle_event(ev("ended", 30, call_id="c1"))
    editor = panel.current_editor
    assert editor is not None
    qtbot.keyClicks(editor.reason_edit, "Offre ACME, client a rappeler")

    clock.at(45)
    second = panel.service.handle_event(ev("ringing", 45, call_id="c2", number="+33639980002"))
    assert second is not None and second.direction == "inbound"
    # The new call owns the banner and the live tab; the summary waits in its tab, as typed.
    assert panel.session is second
    assert panel.banner.verdict_label.text() == "AUTORISÉ"
    assert panel.banner.scope_label.text() == "HORS DÉMARCHAGE"
    assert panel.call_info.number_label.text() == "+•••••••••02"
    assert panel.tabs.currentWidget() is panel.live
    assert panel.transcript.lines() == []
    lines = panel.transcript.container.findChildren(QFrame)
    assert not [line for line in lines if line.objectName().endswith("Line") and line.isVisible()]
    assert panel.checklist.title.text() == "Mentions d'ouverture · sans objet (appel entrant)"
    assert panel.tabs.tabText(1) == "Résumé en attente ·01"
    assert panel.editors[first.uid] is editor
    shots(panel, "second-call")

    assert panel.show_summary() is editor
    assert editor.reason_edit.text() == "Offre ACME, client a rappeler"
    with qtbot.waitSignal(panel.service.summary_saved, check_params_cb=lambda s, validated: validated):
        qtbot.mouseClick(editor.validate_button, Qt.MouseButton.LeftButton)
    assert first.state == "saved" and second.state == "ringing"
    assert panel.tabs.count() == 1 and panel.tabs.currentWidget() is panel.live
    body, validated_by, state = summary_row(consented_store)
    assert (body["reason"], body["disposition"], validated_by, state) == (
        "Offre ACME, client a rappeler",
        "information_given",
        "agent-7",
        "saved",
    )
    assert panel.call_info.state_label.full_text() == "Entrant · Sonnerie"


def test_the_countdown_runs_on_a_timer(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    start_call(panel, clock)
    assert panel.clock_timer.isActive() and panel.clock_timer.interval() == 1000
    clock.at(2 * 3600 + 29 * 60 + 58)
    with qtbot.waitSignal(panel.clock_timer.timeout, timeout=2000):
        pass
    assert panel.banner.countdown_label.text() == "Valable jusqu'à 13:00 · encore 00:02"
    assert panel.call_info.timer_label.text() == "2:29:54"


def test_a_panel_built_during_a_call_shows_it(qtbot: QtBot, service: CallService, clock: FakeClock) -> None:
    session = service.handle_event(ev("dialing", 0, call_id="c1", number=NUMBER, direction="outbound"))
    assert session is not None
    service.add_segment(session, "agent", "Bonjour, ici Sofia d'ACME Énergie.")
    late = AgentPanel(service)
    qtbot.addWidget(late)
    assert late.session is session
    assert late.banner.verdict_label.text() == "AUTORISÉ"
    assert late.transcript.lines() == [("agent", "Bonjour, ici Sofia d'ACME Énergie.")]


def test_a_call_without_number(qtbot: QtBot, panel: AgentPanel) -> None:
    panel.service.handle_event(ev("ringing", 0, call_id="c9"))
    assert panel.banner.verdict_label.text() == "À VÉRIFIER"
    assert panel.banner.reason_label.full_text() == "Numéro inconnu : aucune offre commerciale sans vérification."
    assert not panel.banner.withdraw_button.isEnabled()
    assert not panel.banner.proof_button.isEnabled()
    assert panel.call_info.number_label.text() == "numéro masqué"


def test_a_withdrawal_confirmed_after_the_hang_up_reaches_the_summary(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store
) -> None:
    session = start_call(panel, clock)
    panel.service.add_segment(session, "customer", "Ne m'appelez plus.")
    clock.at(20)
    panel.service.handle_event(ev("ended", 20, call_id="c1"))
    editor = panel.current_editor
    assert editor is not None
    assert editor.events_list.item(0).text() == "Aucun"
    assert editor.disposition_combo.currentData() == "information_given"
    assert panel.banner.prompt.isVisible()  # still there to confirm after the hang-up

    with qtbot.waitSignal(panel.service.summary_saved):  # the draft is kept with the new event
        qtbot.mouseClick(panel.banner.confirm_button, Qt.MouseButton.LeftButton)
    assert panel.banner.verdict_label.text() == "INTERDIT"
    assert editor.events_list.item(0).text() == "Retrait du consentement · 10:30:20 · réplique 1"
    assert editor.disposition_combo.currentData() == "do_not_call"
    body, validated_by, _state = summary_row(consented_store)
    assert body["consent_events"][0]["kind"] == "withdrawal" and validated_by is None


def test_no_raw_placeholder_reaches_the_agent(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    session = start_call(panel, clock)
    assert panel.call_info.context_label.full_text() == "ACME Énergie SAS · electricity · démarchage"
    shown: list[str] = []
    for said in ("C'est trop cher.", "Je n'ai pas le temps.", "D'accord, on fait comme ça. Merci, au revoir."):
        panel.service.add_segment(session, "customer", said)
        shown += [suggestion.text for suggestion in panel.suggestions.suggestions()]
    for reply in panel.service.playbook.replies:  # every reply of the playbook, as this call fills it
        shown.append(panel.fill_reply(session, Suggestion(reply.category, reply.text, reply.id, 1.0)).text)
    assert shown and not [text for text in shown if re.search(r"\{[a-z_]+\}", text)]
    closing = [text for text in shown if "[récapitulatif de l'offre]" in text]
    assert closing, "the closing reply shows the recap as a blank in words"
