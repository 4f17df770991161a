"""The call's last lines transcribed after the hang-up reach the summary editor already open: when the call service
says the transcript is complete, the draft follows it in every field neither the agent nor the model's prose wrote,
kept as a draft; a validated summary does not change."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.store.db import Store
from desktop.services.generation import GenerationService
from desktop.ui.panel import AgentPanel
from desktop.ui.widgets.summary_editor import SummaryEditor

from .conftest import NUMBER, FakeClock, Shots, ev
from .test_summary_prose import ProseGenerator

OPENING = (
    "Bonjour, je suis Sofia, je vous appelle pour le compte d'ACME Énergie. C'est un appel commercial pour nos"
    " offres d'électricité, et l'appel est enregistré."
)
# Said just before hanging up, transcribed after: a dated commitment, an amount, a callback the customer accepts.
TAIL_AGENT = "Très bien, je vous rappelle le jeudi 3 décembre à 18 heures avec l'offre à cent vingt euros."
TAIL_CUSTOMER = "D'accord, jeudi à 18 heures ça me va."
STEP_DUE = "2026-12-03"
NOTE = "Résumé mis à jour avec la fin de la transcription."


def talk(panel: AgentPanel, clock: FakeClock, call_id: str = "c1", number: str = NUMBER) -> Any:
    service = panel.service
    session = service.handle_event(ev("dialing", 0, call_id=call_id, number=number, direction="outbound"))
    clock.at(4)
    service.handle_event(ev("answered", 4, call_id=call_id))
    assert session is not None
    service.add_segment(session, "agent", OPENING, 4.5, 11.0)
    service.add_segment(session, "customer", "Oui. Je paie quatre-vingt-quinze euros par mois.", 11.5, 15.0)
    service.add_segment(session, "agent", "Avec Fixe Sérénité ce serait quatre-vingt-deux euros.", 15.5, 19.0)
    service.add_segment(session, "customer", "Bon, il faut que j'en parle à ma femme.", 19.5, 22.0)
    return session


def hang_up(panel: AgentPanel, clock: FakeClock, call_id: str = "c1") -> SummaryEditor:
    clock.at(40)
    session = panel.service.handle_event(ev("ended", 40, call_id=call_id))
    assert session is not None
    return panel.editors[session.uid]


def tail(panel: AgentPanel, session: Any) -> None:
    """The last two lines, committed after the hang-up, then the transcription says it is done."""
    panel.service.add_segment(session, "agent", TAIL_AGENT, 22.5, 28.0)
    panel.service.add_segment(session, "customer", TAIL_CUSTOMER, 28.5, 30.0)
    panel.service.mark_transcribed(session)


def steps(editor: SummaryEditor) -> list[tuple[str, str, str]]:
    return [(owner.currentData(), action.text(), due.text()) for owner, action, due, _ in editor.steps.rows]


def stored(store: Store, session: Any) -> tuple[dict[str, Any], str | None]:
    body, validated_by = store.conn.execute(
        "SELECT body, validated_by FROM summaries WHERE interaction_id = ?", (session.interaction_id,)
    ).fetchone()
    return json.loads(body), validated_by


def test_the_tail_said_before_hanging_up_reaches_the_open_editor_and_is_kept_as_a_draft(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store, shots: Shots
) -> None:
    panel.service.use_summary_engine()
    session = talk(panel, clock)
    editor = hang_up(panel, clock)
    assert editor is panel.current_editor
    before = editor.summary(strict=False)
    assert all(due != STEP_DUE for _, _, due in steps(editor))
    assert before.disposition != "callback_scheduled"
    editor.reason_edit.setFocus()
    qtbot.waitUntil(editor.reason_edit.hasFocus)
    editor.reason_edit.setCursorPosition(7)  # the agent is reading the reason, without typing

    with qtbot.waitSignal(panel.service.summary_saved, timeout=5000) as saved:
        tail(panel, session)
        # at once, on screen: the dated commitment, the callback the customer agreed to
        assert ("agent", TAIL_AGENT, STEP_DUE) in steps(editor)
        assert editor.disposition_combo.currentData() == "callback_scheduled"
        assert [event.kind for event in editor.draft.consent_events] == ["consent_given"]
        assert editor.events_list.item(0).text() == "Consentement donné · 10:30:28 · réplique 6"
        summary = editor.summary(strict=False)
        assert dt.date(2026, 12, 3) in summary.entities.dates and 120.0 in summary.entities.amounts_eur
        assert "18:00" in summary.entities.times
        assert editor.edited_fields == set()  # not the agent's: a later refresh or prose may still fill them
        assert editor.prose_note.isVisible() and editor.prose_note.text() == NOTE
        # the agent's focus and cursor stay where they were
        assert QApplication.focusWidget() is editor.reason_edit and editor.reason_edit.cursorPosition() == 7
    assert saved.args == [session, False]
    body, validated_by = stored(consented_store, session)
    assert validated_by is None
    assert {"owner": "agent", "action": TAIL_AGENT, "due": STEP_DUE} in body["next_steps"]
    assert body["disposition"] == "callback_scheduled" and STEP_DUE in body["entities"]["dates"]
    assert editor.status_label.text().startswith("Brouillon enregistré à")
    shot = shots(panel, "summary-after-transcript-end")
    assert shot.exists()


def test_what_the_agent_set_before_the_transcript_ended_is_kept(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store
) -> None:
    panel.service.use_summary_engine()
    session = talk(panel, clock)
    editor = hang_up(panel, clock)
    editor.reason_edit.end(False)
    qtbot.keyClicks(editor.reason_edit, " Client presse.")
    typed = editor.reason_edit.text()
    first = editor.steps.rows[0][1]
    first.selectAll()
    qtbot.keyClicks(first, "Rappeler apres accord du conjoint")
    index = editor.disposition_combo.findData("not_interested")
    editor.disposition_combo.setCurrentIndex(index)
    editor.disposition_combo.activated.emit(index)  # as a click in the list does
    edited = editor.edited_fields
    assert edited == {"reason", "next_steps", "disposition"}

    tail(panel, session)
    assert editor.reason_edit.text() == typed
    assert editor.disposition_combo.currentData() == "not_interested"
    # the agent's rows stay as typed; the step said after the hang-up joins them
    assert steps(editor) == [
        ("customer", "Rappeler apres accord du conjoint", ""),
        ("agent", TAIL_AGENT, STEP_DUE),
    ]
    assert editor.edited_fields == edited
    assert "consent_given" in [event.kind for event in editor.draft.consent_events]  # not a field the agent set
    with qtbot.waitSignal(panel.service.summary_saved, timeout=5000):
        pass
    body, _ = stored(consented_store, session)
    assert body["reason"] == typed and body["disposition"] == "not_interested"
    assert [step["action"] for step in body["next_steps"]] == ["Rappeler apres accord du conjoint", TAIL_AGENT]


def test_a_validated_summary_does_not_change_and_the_call_still_open_does(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store
) -> None:
    panel.service.use_summary_engine()
    first = talk(panel, clock)
    editor = hang_up(panel, clock)
    with qtbot.waitSignal(panel.service.summary_saved):
        assert editor.validate() is not None
    assert first.uid not in panel.editors
    validated, by = stored(consented_store, first)
    assert by == "agent-7"

    second = talk(panel, clock, call_id="c2", number="+33639980002")
    other = hang_up(panel, clock, call_id="c2")
    saves: list[tuple[Any, bool]] = []
    panel.service.summary_saved.connect(lambda s, validated: saves.append((s, validated)))
    tail(panel, first)
    tail(panel, second)
    assert stored(consented_store, first) == (validated, "agent-7")
    assert ("agent", TAIL_AGENT, STEP_DUE) in steps(other)
    qtbot.waitUntil(lambda: bool(saves), timeout=5000)
    assert saves == [(second, False)]


def test_a_line_refined_after_the_hang_up_is_quoted_in_its_final_text(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, consented_store: Store
) -> None:
    panel.service.use_summary_engine()
    session = talk(panel, clock)
    provisional = "Je vous envoie l'offre Fix et rénité par e-mail ce soir."
    final = "Je vous envoie l'offre Fixe Sérénité par e-mail ce soir."
    line = panel.service.add_segment(session, "agent", provisional, 22.5, 34.0, final=False)
    editor = hang_up(panel, clock)
    shown = [editor.reason_edit.text(), editor.actions_edit.toPlainText(), *(a for _, a, _ in steps(editor))]
    assert any("Fix et rénité" in text for text in shown)  # the provisional text, quoted at the hang-up

    # the agent is in that step's action, reading it, without typing
    field = editor.steps.rows[-1][1]
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.setCursorPosition(10)

    panel.service.refine_segment(session, line.idx, final)
    panel.service.mark_transcribed(session)
    assert editor.actions_edit.toPlainText() == final
    assert steps(editor)[-1] == ("agent", final, "2026-11-24")  # « ce soir »: the call's day
    assert QApplication.focusWidget() is field and field.cursorPosition() == 10  # the same row, updated in place
    assert editor.edited_fields == set()
    with qtbot.waitSignal(panel.service.summary_saved, timeout=5000):
        pass
    body, _ = stored(consented_store, session)
    assert "Fix et rénité" not in json.dumps(body, ensure_ascii=False)


def test_a_prose_still_being_written_is_asked_again_on_the_whole_transcript(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock
) -> None:
    generator = ProseGenerator(release=threading.Event())
    generation = GenerationService(lambda: generator)
    try:
        panel.attach_generation(generation)
        panel.service.use_summary_engine()
        session = talk(panel, clock)
        editor = hang_up(panel, clock)
        first = editor.prose_request
        assert first is not None
        qtbot.waitUntil(lambda: bool(generator.calls), timeout=5000)
        tail(panel, session)
        second = editor.prose_request
        assert second not in (None, first)  # the first one, on a transcript without the tail, gives way
        assert editor.prose_note.text().startswith("Le modèle rédige le résumé")
        with qtbot.waitSignal(generation.summary_prose_ready, timeout=5000) as ready:
            generator.release.set()  # type: ignore[union-attr]
        assert ready.args[1] == second
        assert TAIL_AGENT in generator.calls[-1][1]["content"]
        # the prose filled its fields, the dated step among them; the note says both
        assert [due for _, _, due in steps(editor)][-1] == STEP_DUE
        assert editor.prose_fields == {"reason", "actions", "next_steps"}
        assert editor.prose_note.text().endswith(NOTE)
    finally:
        generation.stop()


def test_after_the_prose_the_fields_it_wrote_stay_and_the_others_follow(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock
) -> None:
    generator = ProseGenerator()
    generation = GenerationService(lambda: generator)
    try:
        panel.attach_generation(generation)
        panel.service.use_summary_engine()
        session = talk(panel, clock)
        with qtbot.waitSignal(generation.summary_prose_ready, timeout=5000):
            editor = hang_up(panel, clock)
        written = (editor.reason_edit.text(), editor.actions_edit.toPlainText(), steps(editor))
        assert editor.prose_fields == {"reason", "actions", "next_steps"}

        tail(panel, session)
        assert (editor.reason_edit.text(), editor.actions_edit.toPlainText()) == written[:2]
        assert steps(editor) == [*written[2], ("agent", TAIL_AGENT, STEP_DUE)]  # the prose's rows, then the new one
        assert editor.disposition_combo.currentData() == "callback_scheduled"
        assert editor.summary(strict=False).generated_by.method == "model"
        assert len(generator.calls) == 1  # nothing asked again: the prose is done
    finally:
        generation.stop()
