from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.core.consent.policy import Policy
from desktop.core.store.db import Store
from desktop.ui.review import InteractionTableModel, ReviewWindow

from . import CONSENTED, SeededCalls, seed_calls


@pytest.fixture
def calls(store: Store, policy: Policy) -> SeededCalls:
    return seed_calls(store.conn, policy)


@pytest.fixture
def window(qtbot: QtBot, store: Store, calls: SeededCalls) -> ReviewWindow:
    opened = ReviewWindow(store.conn)
    qtbot.addWidget(opened)
    opened.show()
    return opened


def shown_uids(window: ReviewWindow) -> list[str]:
    return [row.uid for row in window.model.rows]


def cells(window: ReviewWindow, row: int) -> list[str]:
    model = window.model
    return [model.data(model.index(row, column)) for column in range(model.columnCount())]


def choose(combo: object, data: object) -> None:
    combo.setCurrentIndex(combo.findData(data))  # type: ignore[attr-defined]


def test_model_passes_the_model_tester(qtmodeltester: ModelTester, window: ReviewWindow) -> None:
    assert window.model.rowCount() == 4
    qtmodeltester.check(window.model)
    window.model.sort(InteractionTableModel.COLUMNS.index("verdict"), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(window.model)
    qtmodeltester.check(InteractionTableModel())


def test_lists_every_call_newest_first_with_numbers_masked(window: ReviewWindow, calls: SeededCalls) -> None:
    assert shown_uids(window) == [calls.objected, calls.missed, calls.inbound, calls.withdrawn]
    assert window.count_label.text() == "4 appel(s)"
    headers = [window.model.headerData(column, Qt.Orientation.Horizontal) for column in range(9)]
    assert headers == ["Date", "Durée", "Agent", "Numéro", "Sens", "Verdict", "Issue", "Retrait", "État"]
    assert cells(window, 3) == [
        "24/11/2026 10:30",
        "1:15",
        "agent-7",
        "+•••••••••01",
        "Sortant",
        "INTERDIT",
        "Ne plus appeler",
        "Oui",
        "Enregistré",
        "À revoir",
        "Ce poste",
    ]
    assert cells(window, 1)[5:] == ["INTERDIT", "—", "", "Manqué", "À revoir", "Ce poste"]
    model = window.model
    verdict = InteractionTableModel.COLUMNS.index("verdict")
    assert model.data(model.index(3, verdict), Qt.ItemDataRole.ToolTipRole) == "CONSENT_REVOKED"
    assert all(CONSENTED not in str(cell) for row in range(4) for cell in cells(window, row))


def test_a_header_click_sorts_and_a_refresh_keeps_the_order(
    qtbot: QtBot, window: ReviewWindow, calls: SeededCalls
) -> None:
    header = window.table.horizontalHeader()
    verdict = InteractionTableModel.COLUMNS.index("verdict")
    window.table.sortByColumn(verdict, Qt.SortOrder.AscendingOrder)
    assert [row.verdict for row in window.model.rows] == ["allowed", "forbidden", "forbidden", "forbidden"]
    window.refresh()
    assert header.sortIndicatorSection() == verdict
    assert shown_uids(window)[0] == calls.inbound
    window.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert shown_uids(window) == [calls.withdrawn, calls.inbound, calls.missed, calls.objected]


def test_filters(window: ReviewWindow, calls: SeededCalls) -> None:
    choose(window.agent_combo, "agent-9")
    assert shown_uids(window) == [calls.objected, calls.missed]
    choose(window.verdict_combo, "forbidden")
    choose(window.withdrawal_combo, False)
    assert shown_uids(window) == [calls.missed]
    choose(window.agent_combo, None)
    choose(window.verdict_combo, None)
    choose(window.withdrawal_combo, True)
    assert shown_uids(window) == [calls.objected, calls.withdrawn]
    choose(window.disposition_combo, "do_not_call")
    assert shown_uids(window) == [calls.withdrawn]
    assert window.count_label.text() == "1 appel(s)"
    choose(window.disposition_combo, None)
    choose(window.withdrawal_combo, None)
    window.from_date.setDate(QDate(2026, 11, 25))
    window.to_date.setDate(QDate(2026, 11, 26))
    assert len(shown_uids(window)) == 4  # dates apply only once ticked
    window.from_check.setChecked(True)
    window.to_check.setChecked(True)
    assert window.from_date.isEnabled()
    assert shown_uids(window) == [calls.missed, calls.inbound]
    assert [window.agent_combo.itemData(index) for index in range(window.agent_combo.count())] == [
        None,
        "agent-7",
        "agent-9",
    ]


def test_selecting_a_call_shows_transcript_and_summary_side_by_side(
    qtbot: QtBot, window: ReviewWindow, calls: SeededCalls
) -> None:
    assert "Sélectionnez un appel" in window.transcript_view.toPlainText()
    with qtbot.waitSignal(window.interaction_selected) as selected:
        window.table.selectRow(3)
    assert window.detail is not None and window.detail["interaction"]["uid"] == calls.withdrawn
    assert selected.args == [window.detail["interaction"]["id"]]
    transcript = window.transcript_view.toPlainText()
    assert "Client : Non merci, ne m'appelez plus, je retire mon accord." in transcript
    assert transcript.index("Agent : Bonjour") < transcript.index("Client : Non merci")
    summary = window.summary_view.toPlainText()
    for expected in (
        "+•••••••••01",
        "INTERDIT",
        "Consentement retiré",
        "Retrait du consentement",
        "Validé par agent-7",
        "Ne plus appeler",
        "Offre présentée",
        "Mettre à jour le CRM",
        "✘ Enregistrement",
    ):
        assert expected in summary
    assert CONSENTED not in summary
    left, right = (
        window.transcript_view.mapTo(window, window.transcript_view.rect().topLeft()),
        window.summary_view.mapTo(window, window.summary_view.rect().topLeft()),
    )
    assert left.x() < right.x() and left.y() == right.y()


def test_a_call_without_transcript_or_summary(window: ReviewWindow, calls: SeededCalls) -> None:
    window.table.selectRow(1)
    assert window.detail is not None and window.detail["interaction"]["uid"] == calls.missed
    assert "Aucune transcription" in window.transcript_view.toPlainText()
    assert "Pas de résumé enregistré." in window.summary_view.toPlainText()


def test_refresh_keeps_the_selected_call(window: ReviewWindow, calls: SeededCalls) -> None:
    window.table.selectRow(2)
    choose(window.agent_combo, "agent-7")
    assert window.selected_row() is not None and window.selected_row().uid == calls.inbound  # type: ignore[union-attr]
    assert "échéancier" in window.transcript_view.toPlainText()
    choose(window.agent_combo, "agent-9")  # no longer listed: the panes empty
    assert window.detail is None and "Sélectionnez un appel" in window.transcript_view.toPlainText()


def test_export_writes_the_listed_calls_masked(qtbot: QtBot, window: ReviewWindow, tmp_path: Path) -> None:
    choose(window.agent_combo, "agent-7")
    window.choose_export_path = lambda: str(tmp_path / "revue")
    with qtbot.waitSignal(window.exported) as exported:
        qtbot.mouseClick(window.export_button, Qt.MouseButton.LeftButton)
    path = tmp_path / "revue.csv"
    assert exported.args == [str(path), 2]
    text = path.read_text(encoding="utf-8-sig")
    assert CONSENTED not in text
    table = list(csv.DictReader(text.splitlines()))
    assert [line["agent_id"] for line in table] == ["agent-7", "agent-7"]
    assert "2 appel(s) exporté(s)" in window.status_label.text()


def test_export_cancelled_or_failing(window: ReviewWindow, tmp_path: Path) -> None:
    window.choose_export_path = lambda: None
    assert window.export() is None
    window.choose_export_path = lambda: str(tmp_path / "missing" / "x.csv")
    assert window.export() is None
    assert window.status_label.text().startswith("Export impossible")


def test_empty_store(qtbot: QtBot, store: Store) -> None:
    window = ReviewWindow(store.conn)
    qtbot.addWidget(window)
    assert window.model.rowCount() == 0 and window.count_label.text() == "0 appel(s)"
