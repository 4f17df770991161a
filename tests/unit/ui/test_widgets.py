"""The panel's parts one by one: what each shows and emits, without a call service."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFrame, QLabel
from pytestqt.qtbot import QtBot

from desktop.core.assist.disclosure import Disclosure
from desktop.core.assist.playbook import Suggestion
from desktop.core.assist.summary import NextStep, Summary
from desktop.core.errors import InputError
from desktop.core.store.consents import consent_proof
from desktop.core.store.db import Store
from desktop.core.telephony.session import CallSession, Segment
from desktop.ui import keep_singletons_alive
from desktop.ui.i18n import normalize_language, translation_file
from desktop.ui.panel import load_stylesheet
from desktop.ui.widgets.checklist import DisclosureChecklist
from desktop.ui.widgets.durations import split_duration
from desktop.ui.widgets.elided_label import ElidedLabel
from desktop.ui.widgets.suggestions import SuggestionList, fill_placeholders
from desktop.ui.widgets.summary_editor import NextStepsTable, SummaryEditor, parse_due
from desktop.ui.widgets.transcript import TranscriptView

from .conftest import NUMBER, T0, TEXT_SHOWN


def a_session(**values: object) -> CallSession:
    fields: dict[str, object] = {
        "key": "c1",
        "uid": "u1",
        "interaction_id": 1,
        "number": NUMBER,
        "direction": "outbound",
        "professional": "ACME Énergie SAS",
        "product": "electricity",
        "purpose": "prospection",
        "sector": None,
        "caller_id": None,
        "agent_id": "agent-7",
        "state": "wrap_up",
        "started_at": T0,
        "ended_at": T0 + dt.timedelta(minutes=3),
    }
    fields.update(values)
    return CallSession(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "round_up", "expected"),
    [
        (0, False, (0, "00:00")),
        (59.9, False, (0, "00:59")),
        (59.1, True, (0, "01:00")),
        (3600, False, (0, "1:00:00")),
        (2 * 86400 + 3 * 3600 + 4 * 60 + 5, False, (2, "3:04:05")),
        (-5, True, (0, "00:00")),
    ],
)
def test_split_duration(seconds: float, round_up: bool, expected: tuple[int, str]) -> None:
    assert split_duration(seconds, round_up=round_up) == expected


def test_elided_label_keeps_the_full_text_in_its_tooltip(qtbot: QtBot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    text = "Consentement du 01/09/2026 16:02 à ACME Énergie SAS pour « electricity » (web_form), valable longtemps."
    label.set_full_text(text)
    label.resize(120, 20)
    label.show()
    qtbot.waitExposed(label)
    assert label.text().endswith("…") and len(label.text()) < len(text)
    assert label.toolTip() == text and label.full_text() == text
    label.resize(2000, 20)
    qtbot.waitUntil(lambda: label.text() == text)
    assert label.minimumSizeHint().width() == 0


def test_transcript_lines_and_clear(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    assert view.placeholder.isVisibleTo(view)
    view.append(Segment(0, "agent", 1.0, 2.0, "Bonjour"))
    view.append(Segment(1, "customer", 65.0, 66.0, "Oui ?"))
    assert view.lines() == [("agent", "Bonjour"), ("customer", "Oui ?")]
    assert not view.placeholder.isVisibleTo(view)
    speakers = [label.text() for label in view.container.findChildren(type(view.title), "SpeakerLabel")]
    assert speakers == ["Agent · 00:01", "Client · 01:05"]
    assert (
        len(view.container.findChildren(QFrame, "AgentLine"))
        == len(view.container.findChildren(QFrame, "CustomerLine"))
        == 1
    )
    view.clear()
    assert view.lines() == [] and view.placeholder.isVisibleTo(view)


def line_texts(view: TranscriptView) -> list[QLabel]:
    return view.container.findChildren(QLabel, "LineText")


def test_transcript_provisional_line_is_refined_in_place(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.setStyleSheet(load_stylesheet())
    view.show()
    qtbot.waitExposed(view)
    view.append(Segment(0, "agent", 1.0, 2.0, "Bonjour"))
    view.append(Segment(1, "customer", 3.0, 9.0, "je voudrais resilier mon contra", final=False))
    final, provisional = line_texts(view)
    qtbot.waitUntil(provisional.isVisible)  # polished (style sheet applied) once shown
    assert final.property("provisional") is False and final.toolTip() == ""
    assert provisional.property("provisional") is True
    assert provisional.font().italic() and not final.font().italic()
    assert final.palette().windowText().color() == QColor("#111111")
    assert provisional.palette().windowText().color() == QColor("#505761")
    note = "Transcription provisoire : le texte sera affiné dans un instant."
    assert provisional.toolTip() == provisional.accessibleDescription() == note

    view.replace(Segment(1, "customer", 3.0, 9.0, "Je voudrais résilier mon contrat."))
    assert view.lines() == [("agent", "Bonjour"), ("customer", "Je voudrais résilier mon contrat.")]
    assert line_texts(view) == [final, provisional]  # the same line, not a new one
    assert provisional.text() == "Je voudrais résilier mon contrat."
    assert provisional.property("provisional") is False and not provisional.font().italic()
    assert provisional.palette().windowText().color() == QColor("#111111")
    assert provisional.toolTip() == provisional.accessibleDescription() == ""

    view.replace(Segment(7, "customer", 3.0, 9.0, "Une ligne d'un autre appel."))  # never shown here
    assert view.lines() == [("agent", "Bonjour"), ("customer", "Je voudrais résilier mon contrat.")]

    view.clear()
    view.replace(Segment(0, "agent", 1.0, 2.0, "Ligne de l'appel effacé."))
    assert view.lines() == []
    view.append(Segment(0, "customer", 59.5, 61.0, "Allô ?", final=False))
    view.replace(Segment(0, "customer", 60.0, 61.0, "Allô, oui ?"))  # the whole utterance may start a bit later
    assert view.lines() == [("customer", "Allô, oui ?")]
    qtbot.waitUntil(lambda: len(view.container.findChildren(QLabel, "SpeakerLabel")) == 1)  # the old ones deleted
    assert [label.text() for label in view.container.findChildren(QLabel, "SpeakerLabel")] == ["Client · 01:00"]


def test_transcript_refining_a_line_keeps_what_the_agent_reads_still(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.setStyleSheet(load_stylesheet())
    view.resize(360, 300)
    view.show()
    qtbot.waitExposed(view)
    bar = view.scroll_area.verticalScrollBar()
    for idx in range(16):
        view.append(Segment(idx, "customer" if idx % 2 else "agent", None, None, f"Réplique {idx}.", final=False))
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())

    # Following: a line that grows keeps the bottom in view.
    longer = "Une réplique bien plus longue, qui prend plusieurs lignes une fois affinée par la transcription. " * 2
    view.replace(Segment(15, "customer", None, None, longer))
    old_maximum = bar.maximum()
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum or bar.value() == bar.maximum())
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert view.following

    # Scrolled up: a line above the viewport grows, the line at the top of the viewport stays where it was.
    bubbles = [label.parentWidget() for label in line_texts(view)]
    bar.setValue(bubbles[8].y())
    assert not view.following
    offset = bubbles[8].y() - bar.value()
    height = bubbles[2].height()
    view.replace(Segment(2, "agent", None, None, longer))
    qtbot.waitUntil(lambda: bubbles[2].height() > height)
    qtbot.waitUntil(lambda: bubbles[8].y() - bar.value() == offset)
    assert not view.following and not view.resume_button.isVisible()
    # ... and shrinks back.
    view.replace(Segment(2, "agent", None, None, "Court."))
    qtbot.waitUntil(lambda: bubbles[2].height() == height)
    qtbot.waitUntil(lambda: bubbles[8].y() - bar.value() == offset)
    assert not view.following

    # A line below the viewport grows: nothing to move.
    value = bar.value()
    view.replace(Segment(14, "agent", None, None, longer))
    old_maximum = bar.maximum()
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum)
    assert bar.value() == value and not view.following


def test_suggestions_report_each_one_once(qtbot: QtBot) -> None:
    widget = SuggestionList()
    qtbot.addWidget(widget)
    used: list[tuple[str, bool]] = []
    widget.suggestion_used.connect(lambda source, accepted: used.append((source, accepted)))
    first = [
        Suggestion("objection_price", "Prix A", "playbook:a", 1.0),
        Suggestion("closing", "Fin", "playbook:b", 0.8),
    ]
    widget.set_suggestions(first)
    assert widget.list.count() == 2
    assert widget.copy(5) is None
    assert widget.copy(1) == first[1]
    assert QApplication.clipboard().text() == "Fin"
    widget.copy(1)
    assert used == [("playbook:b", True)]
    widget.set_suggestions([Suggestion("closing", "Au revoir", "playbook:c", 1.0)])
    assert used == [("playbook:b", True), ("playbook:a", False)]
    widget.clear()
    assert used[-1] == ("playbook:c", False)
    assert widget.list.count() == 1 and not widget.list.item(0).flags() & Qt.ItemFlag.ItemIsEnabled


def test_fill_placeholders_leaves_the_unknown_ones() -> None:
    text = "Bonjour, je suis {agent}, pour {professional}. Accord du {consent_date}."
    filled = fill_placeholders(text, {"professional": "ACME Énergie SAS", "consent_date": None})
    assert filled == "Bonjour, je suis {agent}, pour ACME Énergie SAS. Accord du {consent_date}."


def test_checklist_states(qtbot: QtBot) -> None:
    checklist = DisclosureChecklist()
    qtbot.addWidget(checklist)
    checklist.reset(applicable=True, professional="ACME Énergie SAS")
    assert checklist.title.text() == "Mentions d'ouverture · à dire en début d'appel"
    checklist.set_disclosure(Disclosure(identity=True, on_behalf_of=True))
    assert checklist.ticked() == {
        "identity": True,
        "on_behalf_of": True,
        "commercial_nature": False,
        "recording_notice": False,
    }
    assert checklist.title.text() == "Mentions d'ouverture · 2/4"
    assert checklist.boxes["recording_notice"].property("state") == "missing"
    assert checklist.boxes["identity"].property("state") == "done"
    assert checklist.boxes["on_behalf_of"].toolTip() == "ACME Énergie SAS"
    # Read only: a click does not tick.
    qtbot.mouseClick(checklist.boxes["recording_notice"], Qt.MouseButton.LeftButton)
    assert not checklist.boxes["recording_notice"].isChecked()
    assert checklist.boxes["recording_notice"].focusPolicy() == Qt.FocusPolicy.NoFocus
    checklist.reset(applicable=False)
    assert not checklist.boxes["identity"].isEnabled()
    assert checklist.title.text() == "Mentions d'ouverture · sans objet (appel entrant)"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("01/12/2026", dt.date(2026, 12, 1)),
        (" 1/12/26 ", dt.date(2026, 12, 1)),
    ],
)
def test_parse_due(typed: str, expected: dt.date | None) -> None:
    assert parse_due(typed) == expected


def test_parse_due_refuses_words() -> None:
    with pytest.raises(ValueError, match="demain"):
        parse_due("demain")


def test_next_steps_table(qtbot: QtBot) -> None:
    table = NextStepsTable()
    qtbot.addWidget(table)
    table.set_steps([NextStep(owner="customer", action="Envoyer le RIB", due=dt.date(2026, 12, 3))])
    table.add_row()  # left empty: no step
    table.add_row("company", "", "2026-12-05")
    table.add_row("agent", "Rappeler", "demain")
    steps, problems = table.document()
    assert steps == [{"owner": "customer", "action": "Envoyer le RIB", "due": "2026-12-03"}]
    assert problems == [
        "Étape 3 : l'action manque.",
        "Étape 4 : échéance « demain » illisible (AAAA-MM-JJ ou JJ/MM/AAAA).",
    ]
    changes: list[None] = []
    table.changed.connect(lambda: changes.append(None))
    qtbot.mouseClick(table.rows[2][3], Qt.MouseButton.LeftButton)  # the last row moves up...
    assert table.rows[2][2].text() == "demain"
    qtbot.mouseClick(table.rows[2][3], Qt.MouseButton.LeftButton)  # ...and goes too
    assert len(table.rows) == 2 and len(changes) == 2
    assert table.document() == ([{"owner": "customer", "action": "Envoyer le RIB", "due": "2026-12-03"}], [])
    # The steps left sit one under the other, two grid lines each, without holes.
    assert [table.grid.getItemPosition(table.grid.indexOf(row[1]))[0] for row in table.rows] == [1, 3]


def test_summary_editor_drafts_after_a_pause_and_validates(qtbot: QtBot) -> None:
    draft = Summary(
        reason="",
        resolution="unresolved",
        disposition="information_given",
        consent_events=[{"kind": "objection", "at": "2026-11-24T10:31:00+01:00", "segment": None}],  # type: ignore[list-item]
    )
    editor = SummaryEditor(a_session(), draft)
    qtbot.addWidget(editor)
    drafts: list[Summary] = []
    editor.draft_changed.connect(drafts.append)
    assert editor.events_list.item(0).text() == "Opposition à la prospection · 10:31:00"
    assert editor.header.text() == "Résumé de l'appel +•••••••••01 · terminé à 10:33"
    assert not editor.draft_pending  # filling the draft in is no edit

    editor.reason_edit.setText("Client pas intéressé")
    editor.reason_edit.textEdited.emit("Client pas intéressé")
    editor.disposition_combo.setCurrentIndex(editor.disposition_combo.findData("not_interested"))
    assert editor.draft_pending
    qtbot.waitUntil(lambda: len(drafts) == 1, timeout=2000)
    assert drafts[0].reason == "Client pas intéressé" and drafts[0].disposition == "not_interested"
    assert drafts[0].consent_events[0].kind == "objection"

    editor.steps.add_row("agent", "Rappeler", "bientôt")
    with pytest.raises(InputError, match="Étape 1"):
        editor.summary()
    assert editor.validate() is None
    assert "Étape 1 : échéance « bientôt »" in editor.error_label.text()
    editor.steps.rows[0][2].setText("2026-12-01")
    with qtbot.waitSignal(editor.validation_requested) as validated:
        qtbot.mouseClick(editor.validate_button, Qt.MouseButton.LeftButton)
    summary = validated.args[0]
    assert summary.next_steps[0].due == dt.date(2026, 12, 1)
    assert not editor.error_label.isVisibleTo(editor)
    editor.mark_saved(validated=True, at=T0)
    assert editor.status_label.text() == "Résumé validé à 10:30:00"


def test_consent_proof_reads_the_store(consented_store: Store) -> None:
    proof = consent_proof(consented_store.conn, NUMBER, "ACME ÉNERGIE SAS", "electricity")
    assert proof is not None
    assert (proof.professional, proof.products, proof.method, proof.text_shown) == (
        "ACME Énergie SAS",
        ("electricity",),
        "web_form",
        TEXT_SHOWN,
    )
    assert proof.collected_at == dt.datetime(2026, 9, 1, 15, 2, tzinfo=T0.tzinfo)
    assert proof.withdrawn_at is None and proof.content_hash
    assert consent_proof(consented_store.conn, "+33639980002", "ACME Énergie SAS") is None
    assert consent_proof(consented_store.conn, NUMBER, "Autre Société") is None
    # Reading a proof is no export: the ledger is unchanged.
    assert consented_store.conn.execute("SELECT kind FROM consent_events").fetchall() == [("given",)]


def test_the_assets_are_there() -> None:
    sheet = load_stylesheet()
    assert '#VerdictStrip[verdict="forbidden"]' in sheet
    assert translation_file("en").is_file()
    assert normalize_language("en_GB") == normalize_language("EN-us") == "en"
    assert normalize_language("") == "fr"


def test_thousands_of_calls_into_pyside_do_not_abort(qtbot: QtBot) -> None:
    """PySide6 6.12 on Python 3.11 drops a reference to None (void methods) and True (emit) at each call:
    importing desktop.ui makes them immortal, or this test aborts the interpreter."""
    label = QLabel()
    qtbot.addWidget(label)
    for _ in range(20_000):
        label.setText("x")
        label.objectNameChanged.emit("x")
    assert keep_singletons_alive() == []  # applied once already, at import
