"""The review window backed by a CRM: the team's calls listed from a connector (a unit-test double that answers
like a CRM's listing), merged with this station's by external id; approve and flag stored here and queued for
the CRM; alerts from both; a CRM that fails leaves the local calls on screen."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import (
    ConsentEventPayload,
    ConsentPage,
    Health,
    InteractionPayload,
    PushResult,
    RemoteInteraction,
    ReviewPayload,
    ReviewState,
    TranscriptLine,
    TransientError,
)
from desktop.core.store.db import Store
from desktop.services.review_source import ReviewRow, ReviewSource
from desktop.ui.review import AlertTableModel, InteractionTableModel, ReviewWindow
from tests.unit.ui.conftest import Shots

from . import PARIS, SeededCalls, seed_calls

REMOTE_NUMBER = "+33639985577"
REMOTE_AT = dt.datetime(2026, 11, 28, 14, 5, tzinfo=PARIS)


class FakeCrm:
    """A connector double: lists what the test put in ``listed`` (or raises ``error``), from the worker thread."""

    name = "fakecrm"
    max_batch = 50

    def __init__(self, listed: list[RemoteInteraction], error: Exception | None = None) -> None:
        self.listed = listed
        self.error = error
        self.asked: list[tuple[dt.datetime | None, ReviewState | None, int]] = []
        self.threads: list[threading.Thread] = []

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        self.asked.append((since, review_state, limit))
        self.threads.append(threading.current_thread())
        if self.error is not None:
            raise self.error
        return list(self.listed)

    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        raise AssertionError("the review window pushes nothing itself")

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        raise AssertionError("the review window pushes nothing itself")

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        raise AssertionError("reviews go through the outbox, not straight to the CRM")

    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        raise AssertionError("the review window pulls nothing")

    def health(self) -> Health:
        return Health(ok=True, connector=self.name, endpoint="fake")

    def close(self) -> None:
        pass


def remote_call() -> RemoteInteraction:
    """A call of another station: withdrawal during the call, dialled against a forbidden verdict."""
    return RemoteInteraction(
        external_id="station-2-call-1",
        station="poste-2",
        number=REMOTE_NUMBER,
        direction="outbound",
        agent_id="agent-3",
        started_at=REMOTE_AT,
        duration_s=95,
        verdict="forbidden",
        reason="OPPOSITION_LIST",
        disposition="do_not_call",
        summary={"reason": "Client inscrit sur la liste d'opposition", "disposition": "do_not_call"},
        transcript=[
            TranscriptLine(speaker="agent", start=1.0, end=4.0, text="Bonjour, Marc de Solaire Plus."),
            TranscriptLine(speaker="customer", start=5.0, end=8.0, text="Je suis sur Bloctel, ne rappelez plus."),
        ],
        consent_events=[
            ConsentEventPayload(
                external_id="crm-ev-9",
                kind="withdrawn",
                number=REMOTE_NUMBER,
                professional="Solaire Plus",
                occurred_at=REMOTE_AT + dt.timedelta(seconds=8),
                source="agent-assist:poste-2",
                interaction_id="station-2-call-1",
            )
        ],
        dialled_against_forbidden=True,
    )


@pytest.fixture
def calls(store: Store, policy: Policy) -> SeededCalls:
    return seed_calls(store.conn, policy)


@pytest.fixture
def crm(calls: SeededCalls) -> FakeCrm:
    # The CRM also holds this station's inbound call (pushed earlier), approved there by another team lead.
    ours = RemoteInteraction(
        external_id=calls.inbound, station="poste-1", review_state="approved", review_comment="RAS"
    )
    return FakeCrm([remote_call(), ours])


def open_window(qtbot: QtBot, store: Store, connector: FakeCrm | None) -> ReviewWindow:
    source = ReviewSource(store.conn, connector, station="poste-1")  # type: ignore[arg-type]
    window = ReviewWindow(store.conn, source=source, reviewer="lead-1")
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(qtbot: QtBot, store: Store, crm: FakeCrm) -> ReviewWindow:
    opened = open_window(qtbot, store, crm)
    assert opened.source.status.state == "loading"  # the answer comes from the worker, later
    with qtbot.waitSignal(opened.source.interactions_loaded, timeout=5000):
        pass
    return opened


def row_of(window: ReviewWindow, uid: str) -> tuple[int, ReviewRow]:
    for position, row in enumerate(window.model.rows):
        if row.uid == uid:
            return position, row
    raise AssertionError(f"{uid} not listed")


def cell(window: ReviewWindow, row: int, column: str) -> str:
    model = window.model
    return str(model.data(model.index(row, InteractionTableModel.COLUMNS.index(column))))


def plain(label: QLabel) -> str:
    return QTextDocumentFragment.fromHtml(label.text()).toPlainText()


def queued(store: Store) -> list[ReviewPayload]:
    return [
        ReviewPayload.model_validate_json(payload)
        for (payload,) in store.conn.execute("SELECT payload FROM outbox WHERE kind = 'review' ORDER BY id")
    ]


def test_remote_rows_are_listed_with_the_local_ones(
    qtbot: QtBot, window: ReviewWindow, crm: FakeCrm, calls: SeededCalls, qtmodeltester: ModelTester
) -> None:
    assert crm.threads and all(thread is not threading.main_thread() for thread in crm.threads)
    assert crm.asked == [(None, None, 500)]
    uids = [row.uid for row in window.model.rows]
    assert uids == ["station-2-call-1", calls.objected, calls.missed, calls.inbound, calls.withdrawn]
    assert window.count_label.text() == "5 appel(s) dont 1 d'autres postes (CRM)"
    position, remote = row_of(window, "station-2-call-1")
    assert remote.source == "crm" and remote.id is None
    assert cell(window, position, "source") == "CRM · poste-2"
    assert cell(window, position, "number") == "+•••••••••77"
    assert cell(window, position, "verdict") == "INTERDIT"
    assert cell(window, position, "withdrawal") == "Oui"
    assert cell(window, position, "state") == "—"
    position, ours = row_of(window, calls.inbound)
    assert cell(window, position, "source") == "Ce poste + CRM"
    assert cell(window, position, "review_state") == "Approuvé"  # the CRM's review: none made here
    assert ours.local is not None and ours.local.segments == 2  # the content comes from the store
    assert "fakecrm" in window.source_label.text() and "2 appel(s) lus" in window.source_label.text()
    assert "agent-3" in [window.agent_combo.itemData(i) for i in range(window.agent_combo.count())]
    qtmodeltester.check(window.model)


def test_a_remote_call_in_detail(qtbot: QtBot, window: ReviewWindow) -> None:
    position, _row = row_of(window, "station-2-call-1")
    with qtbot.waitSignal(window.call_selected) as selected:
        window.table.selectRow(position)
    assert selected.args == ["station-2-call-1"]
    transcript = window.transcript_view.toPlainText()
    assert "Agent : Bonjour, Marc de Solaire Plus." in transcript
    assert "Client : Je suis sur Bloctel, ne rappelez plus." in transcript
    summary = window.summary_view.toPlainText()
    for expected in (
        "+•••••••••77",
        "INTERDIT",
        "OPPOSITION_LIST",
        "Retrait du consentement · 28/11/2026 14:05",
        "Client inscrit sur la liste d'opposition",
        "Ne plus appeler",
        "source : CRM · poste-2",
        "Résumé lu dans le CRM",
    ):
        assert expected in summary, expected
    assert REMOTE_NUMBER not in summary
    assert plain(window.review_state_label) == "À revoir"


def test_approve_a_remote_call_by_keyboard(qtbot: QtBot, window: ReviewWindow, store: Store) -> None:
    position, _row = row_of(window, "station-2-call-1")
    window.table.selectRow(position)
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert window.comment_edit.hasFocus()
    qtbot.keyClicks(window.comment_edit, "Retrait bien pris en compte")
    with qtbot.waitSignal(window.review_recorded) as recorded:
        qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    review = recorded.args[0]
    assert (review.interaction_uid, review.state, review.reviewer) == ("station-2-call-1", "approved", "lead-1")
    assert [(p.interaction_id, p.state, p.comment) for p in queued(store)] == [
        ("station-2-call-1", "approved", "Retrait bien pris en compte")
    ]
    position, _row = row_of(window, "station-2-call-1")
    assert cell(window, position, "review_state") == "Approuvé"
    assert window.selected_row() is not None and window.selected_row().uid == "station-2-call-1"  # type: ignore[union-attr]
    assert "Approuvé par lead-1" in plain(window.review_state_label)
    assert "« Retrait bien pris en compte » · en attente d'envoi au CRM" in plain(window.review_state_label)
    assert "envoyé au CRM par la synchronisation" in window.status_label.text()
    assert window.comment_edit.text() == ""


def test_flag_needs_a_comment_and_a_confirmation(
    qtbot: QtBot, window: ReviewWindow, store: Store, calls: SeededCalls
) -> None:
    position, _row = row_of(window, calls.missed)
    window.table.selectRow(position)
    asked: list[tuple[str, str]] = []
    answer = [False]

    def confirm(row: ReviewRow, comment: str) -> bool:
        asked.append((row.uid, comment))
        return answer[0]

    window.confirm_flag = confirm
    qtbot.mouseClick(window.flag_button, Qt.MouseButton.LeftButton)
    assert asked == [] and queued(store) == []
    assert "dites en commentaire ce qui ne va pas" in window.status_label.text()
    window.comment_edit.setText("Numéro sans consentement composé")
    qtbot.mouseClick(window.flag_button, Qt.MouseButton.LeftButton)
    assert asked == [(calls.missed, "Numéro sans consentement composé")] and queued(store) == []
    answer[0] = True
    qtbot.mouseClick(window.flag_button, Qt.MouseButton.LeftButton)
    assert [(p.interaction_id, p.state) for p in queued(store)] == [(calls.missed, "flagged")]
    position, _row = row_of(window, calls.missed)
    assert cell(window, position, "review_state") == "Signalé"
    window.review_combo.setCurrentIndex(window.review_combo.findData("flagged"))
    assert [row.uid for row in window.model.rows] == [calls.missed]
    window.review_combo.setCurrentIndex(window.review_combo.findData("approved"))
    assert [row.uid for row in window.model.rows] == [calls.inbound]
    window.review_combo.setCurrentIndex(window.review_combo.findData("pending"))
    assert calls.missed not in [row.uid for row in window.model.rows]
    assert len(window.model.rows) == 3


def test_alerts_newest_first_and_open_the_call(
    qtbot: QtBot, window: ReviewWindow, calls: SeededCalls, qtmodeltester: ModelTester
) -> None:
    model = window.alert_model
    qtmodeltester.check(model)
    assert window.tabs.tabText(1) == "Alertes (6)"
    shown = [
        [str(model.data(model.index(row, column))) for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]
    assert shown[0] == ["28/11/2026 14:05", "Retrait du consentement", "agent-3", "+•••••••••77", "CRM · poste-2", ""]
    assert shown[1] == [
        "28/11/2026 14:05",
        "Appel commercial malgré INTERDIT",
        "agent-3",
        "+•••••••••77",
        "CRM · poste-2",
        "OPPOSITION_LIST",
    ]
    assert [row[1] for row in shown[2:]] == [
        "Opposition",
        "Appel commercial malgré INTERDIT",
        "Appel commercial malgré INTERDIT",
        "Retrait du consentement",
    ]
    assert shown[4][5] == "NO_VALID_CONSENT · non décroché"
    assert [alert.interaction_uid for alert in model.alerts[2:]] == [
        calls.objected,
        calls.objected,
        calls.missed,
        calls.withdrawn,
    ]
    window.agent_combo.setCurrentIndex(window.agent_combo.findData("agent-9"))  # hides the withdrawn call
    window.tabs.setCurrentIndex(1)
    window.alert_table.activated.emit(model.index(5, 0))
    assert window.tabs.currentIndex() == 0
    assert window.selected_row() is not None and window.selected_row().uid == calls.withdrawn  # type: ignore[union-attr]
    assert window.agent_combo.currentData() is None  # the filters were cleared to show it
    qtmodeltester.check(AlertTableModel())


def test_a_crm_failure_keeps_the_local_rows(qtbot: QtBot, store: Store, calls: SeededCalls) -> None:
    crm = FakeCrm([], error=TransientError("CRM unreachable: connection refused"))
    window = open_window(qtbot, store, crm)
    with qtbot.waitSignal(window.source.load_failed) as failed:
        window.refresh()
    assert failed.args == ["CRM unreachable: connection refused"]
    assert [row.uid for row in window.model.rows] == [calls.objected, calls.missed, calls.inbound, calls.withdrawn]
    assert "CRM injoignable : CRM unreachable: connection refused" in window.status_label.text()
    assert "n'a pas répondu" in window.source_label.text()
    assert window.tabs.tabText(1) == "Alertes (4)"
    crm.error, crm.listed = None, [remote_call()]  # back: the next refresh lists it
    with qtbot.waitSignal(window.source.interactions_loaded):
        qtbot.mouseClick(window.refresh_button, Qt.MouseButton.LeftButton)
    assert len(window.model.rows) == 5


def test_a_connector_bug_is_shown_not_swallowed(qtbot: QtBot, store: Store, calls: SeededCalls) -> None:
    window = open_window(qtbot, store, FakeCrm([], error=KeyError("records")))
    with qtbot.waitSignal(window.source.load_failed) as failed:
        window.refresh()
    assert failed.args == ["KeyError: 'records'"]
    assert len(window.model.rows) == 4


def test_the_date_filter_asks_the_crm_from_that_day(
    qtbot: QtBot, window: ReviewWindow, crm: FakeCrm, calls: SeededCalls
) -> None:
    window.from_date.setDate(window.from_date.date().fromString("28/11/2026", "dd/MM/yyyy"))
    with qtbot.waitSignal(window.source.interactions_loaded):
        window.from_check.setChecked(True)
    since = crm.asked[-1][0]
    assert since is not None and since.date() == dt.date(2026, 11, 27)  # a day early: zones differ
    assert [row.uid for row in window.model.rows] == ["station-2-call-1"]


def test_without_a_crm_the_window_says_so(qtbot: QtBot, store: Store, calls: SeededCalls) -> None:
    window = open_window(qtbot, store, None)
    assert window.source.fetch() is False
    assert "Aucun CRM configuré" in window.source_label.text()
    assert len(window.model.rows) == 4
    window.table.selectRow(0)
    window.comment_edit.setText("Vente conforme")
    review = window.approve()
    assert review is not None and review.interaction_uid == calls.objected
    assert "aucun CRM configuré" in window.status_label.text()
    assert [p.state for p in queued(store)] == ["approved"]  # queued all the same: sent once a CRM is set up


def test_pictures_of_the_review_with_the_crm(
    qtbot: QtBot, window: ReviewWindow, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The window as a team lead sees it (remote rows, a flagged call, the alerts), kept as test artefacts."""
    folder = os.environ.get("AGENT_ASSIST_ARTIFACTS")
    shots = Shots(Path(folder) if folder else tmp_path / "artifacts", request.node.name)
    window.resize(1000, 640)
    position, _row = row_of(window, "station-2-call-1")
    window.table.selectRow(position)
    window.comment_edit.setText("Retrait bien pris en compte")
    calls_png = shots(window, "calls")
    window.tabs.setCurrentIndex(1)
    alerts_png = shots(window, "alerts")
    assert calls_png.stat().st_size > 10_000 and alerts_png.stat().st_size > 10_000
