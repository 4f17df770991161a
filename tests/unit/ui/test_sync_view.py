"""The CRM sync shown to the agent: the tray's line, the panel's notice when the CRM refuses an entry, the
"Synchronisation" view and its "Réessayer" — on a real SyncService (its worker thread on the test's store) with the
in-memory connector, and the main window the app builds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.config import Crm
from desktop.core.crm.contract import AuthError, Connector, TransientError
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.status import SyncStatus, sync_status
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import Store, transaction
from desktop.services.calls import CallService
from desktop.services.sync import SyncService
from desktop.ui.i18n import install_translator
from desktop.ui.main_window import MainWindow
from desktop.ui.sync_view import SYNC_SHORTCUT, SyncDialog, SyncHealth, SyncView, gist, show_sync
from desktop.ui.tray import SYNC_STATES, StatusTray
from tests.support.fake_crm import FakeConnector
from tests.unit.core.crm.test_worker import consent, interaction
from tests.unit.ui.conftest import Shots

CRM = Crm(connector="tryton", endpoint="http://127.0.0.1:1/crm", push_interval_s=3600, pull_interval_s=3600)
REFUSAL = "400: the value +33612345678 is not valid for field Direction."
DIGITS = re.compile(r"\d{6,}")


def status(**values: object) -> SyncStatus:
    base: dict[str, object] = {
        "connector": "tryton",
        "endpoint": "http://crm/db",
        "station_id": "st-1",
        "credentials": True,
        "counts": {},
        "pending": 0,
        "parked": 0,
        "oldest_pending_age_s": None,
        "next_attempt_at": None,
        "last_push": None,
        "last_pull": None,
        "problem": None,
    }
    return SyncStatus(**{**base, **values})  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


# -- the state ---------------------------------------------------------------------------------------------------


def test_health_says_the_worst_first_and_how_long_the_crm_is_down() -> None:
    clock = Clock()
    health = SyncHealth(clock)
    health.seed(status(pending=3))
    assert health.line().state == "starting" and health.line().pending == 3
    health.on_status(status(pending=3, last_pull="2026-11-24T08:59:55+00:00"))
    assert health.line().state == "pending"
    health.on_status(status(pending=0, last_pull="2026-11-24T08:59:55+00:00"))
    assert health.line().state == "up_to_date"
    health.on_status(status(parked=1, pending=2, last_pull="2026-11-24T08:59:55+00:00"))
    assert (health.line().state, health.line().parked, health.line().pending) == ("parked", 1, 2)

    # The CRM stops answering a push: unreachable since then, whatever was parked before.
    health.on_status(status(pending=2, problem="unreachable: tryton: cannot connect", last_pull="2026-11-24T08:59:55"))
    assert (health.line().state, health.line().down_minutes) == ("unreachable", 0)
    clock.now += dt.timedelta(minutes=10, seconds=5)
    health.on_status(status(pending=2, problem="unreachable: tryton: HTTP 503", last_pull="2026-11-24T08:59:55"))
    assert (health.line().state, health.line().down_minutes) == ("unreachable", 10)
    # pushes go through again, but the pull still fails: still unreachable, counted from the pull's first failure
    health.on_failure("pull: tryton: cannot connect (connection refused)")
    clock.now += dt.timedelta(minutes=2)
    health.on_status(status(last_pull="2026-11-24T08:59:55"))
    assert (health.line().state, health.line().down_minutes) == ("unreachable", 2)
    health.on_status(status(last_pull="2026-11-24T09:12:00+00:00"))  # a pull went through
    assert health.line().state == "up_to_date" and health.down_since is None

    # Credentials refused by a push, by a pull, or none stored: "identifiants refusés".
    health.on_status(status(problem="auth: tryton: HTTP 401 Unauthorized", last_pull="2026-11-24T09:12:00+00:00"))
    assert health.line().state == "auth"
    health.on_status(status(last_pull="2026-11-24T09:12:00+00:00"))
    health.on_failure("pull: tryton: HTTP 403 Forbidden: bad key")
    assert health.line().state == "auth"
    health.on_status(status(last_pull="2026-11-24T09:13:00+00:00"))
    assert health.line().state == "up_to_date"
    health.on_status(status(credentials=False, last_pull="2026-11-24T09:13:00+00:00"))
    assert health.line().state == "auth"


def test_the_tray_words_of_each_sync_state(qapp: QApplication) -> None:
    tray = StatusTray(use_system_tray=False)
    assert tray.sync_state is None and not tray.sync_line_action.isVisible() and not tray.sync_action.isVisible()
    assert "CRM" not in tray.tooltip
    expected = {
        ("up_to_date", 0, 0, None): "CRM : à jour",
        ("pending", 3, 0, None): "CRM : 3 en attente",
        ("parked", 0, 1, None): "CRM : 1 refusé",
        ("parked", 3, 2, None): "CRM : 2 refusés, 3 en attente",
        ("unreachable", 3, 0, 0): "CRM injoignable",
        ("unreachable", 3, 0, 10): "CRM injoignable depuis 10 min",
        ("unreachable", 3, 0, 185): "CRM injoignable depuis 3 h",
        ("auth", 3, 0, None): "CRM : identifiants refusés",
        ("starting", 0, 0, None): "CRM : connexion…",
        ("off", 0, 0, None): "CRM : synchronisation arrêtée",
    }
    assert {key[0] for key in expected} == set(SYNC_STATES)
    for (state, pending, parked, minutes), words in expected.items():
        tray.set_sync(state, pending=pending, parked=parked, down_minutes=minutes)
        assert (tray.sync_text(), tray.sync_line_action.text(), tray.sync_state) == (words, words, state)
        assert tray.tooltip.endswith("\n" + words)
    assert tray.sync_action.isVisible() and not tray.sync_line_action.isEnabled()
    with pytest.raises(ValueError, match="unknown sync state"):
        tray.set_sync("late")


def test_the_notice_keeps_the_crms_own_words() -> None:
    assert gist('tryton: HTTP 400 Bad Request: A value is required for field "Direction".') == (
        'A value is required for field "Direction".'
    )
    assert gist("webhook: HTTP 422: summary: too long") == "summary: too long"
    assert gist("400: the value is not valid") == "400: the value is not valid"
    assert gist("rejected by the CRM (no message)") == "rejected by the CRM (no message)"
    assert gist("tryton: ") == "tryton: "
    assert gist("summary: too long") == "summary: too long"


# -- the app's window with a real sync service -------------------------------------------------------------------


def sync_service(data_dir: Path, fake: FakeConnector) -> SyncService:
    def factory(data_dir: Path, connector: Connector, crm: Crm) -> SyncWorker:
        return SyncWorker.for_data_dir(data_dir, connector, crm)

    return SyncService(data_dir, CRM, fake, credentials=True, worker_factory=factory)


@pytest.fixture
def window(qtbot: QtBot, service: CallService) -> MainWindow:
    shown = MainWindow(service)
    qtbot.addWidget(shown)
    shown.tray = StatusTray(shown, use_system_tray=False)
    shown.resize(380, 720)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def drained(status: SyncStatus) -> bool:
    return status.pending == 0


def test_a_refused_entry_is_shown_then_retried_from_the_keyboard(
    qtbot: QtBot, window: MainWindow, store: Store, data_dir: Path, shots: Shots
) -> None:
    fake = FakeConnector()
    fake.reject["call-0001"] = REFUSAL
    sync = sync_service(data_dir, fake)
    stages: list[tuple[str, dict[str, object]]] = []
    view = show_sync(window, sync, store.conn, CRM, lambda stage, **fields: stages.append((stage, fields)))
    assert isinstance(view, SyncView)
    tray = window.tray
    assert tray is not None and tray.sync_text() == "CRM : connexion…"
    # The store's own consent (recorded by the fixture) goes first.
    with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=drained):
        sync.start()
    assert tray.sync_text() == "CRM : à jour" and not view.notice.isVisible()
    with transaction(store.conn):
        enqueue(store.conn, consent(1, "withdrawn"))
        enqueue(store.conn, interaction(1))
    try:
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=drained):
            sync.wake()
        # The agent sees it on the panel: what was refused and the CRM's message, one line, no number.
        assert view.notice.isVisible()
        started = dt.datetime.fromisoformat(interaction(1).started_at.isoformat()).astimezone()
        assert (
            view.notice.text
            == "Le CRM refuse le résumé : 400: the value +•••••••••78 is not valid for field Direction."
        )
        assert view.notice.label.toolTip().startswith(f"le résumé de l'appel du {started:%d/%m %H:%M}\n")
        assert not DIGITS.search(view.notice.text) and "\n" not in view.notice.text
        assert tray.sync_text() == "CRM : 1 refusé"
        assert ("sync_state", {"state": "parked", "pending": 0, "parked": 1}) in stages
        shots(window, "notice")

        # Ctrl+Maj+S opens the view: the entry, the CRM's message, the list has the focus.
        QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        dialog = view.dialog
        assert isinstance(dialog, SyncDialog) and dialog.isVisible()
        assert window.findChild(type(view.action)) is not None and view.action.shortcut().toString() == SYNC_SHORTCUT
        qtbot.waitUntil(lambda: dialog.entries.hasFocus(), timeout=2000)
        assert not view.notice.isVisible()  # looked at
        assert dialog.entries.topLevelItemCount() == 1
        row = dialog.entries.topLevelItem(0)
        assert row is not None and row.text(1).startswith("le résumé de l'appel du ")
        assert row.text(3) == "400: the value +•••••••••78 is not valid for field Direction."
        assert dialog.selected_ids() == [row.data(0, Qt.ItemDataRole.UserRole)]
        assert "Direction" in dialog.message_label.text() and dialog.state_label.text() == "CRM : 1 refusé"
        shots(dialog, "view")

        # The CRM's administrator fixed the cause; Entrée on the list retries the selected entry, pushed at once.
        fake.reject.clear()
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=lambda s: s.parked == 0 and s.drained):
            QTest.keyClick(dialog.entries, Qt.Key.Key_Return)
        assert {"st-1:1", "call-0001"} <= set(fake.records)
        assert tray.sync_text() == "CRM : à jour" and not view.notice.isVisible()
        assert dialog.entries.isHidden() and not dialog.empty_label.isHidden()
        assert dialog.empty_label.text() == "Aucune entrée refusée par le CRM."
        shots(dialog, "view-empty")
        dialog.close()
    finally:
        sync.stop()
    assert not sync.running


def test_two_refusals_and_retry_all(
    qtbot: QtBot, window: MainWindow, store: Store, data_dir: Path, shots: Shots
) -> None:
    fake = FakeConnector()
    fake.reject["st-1:2"] = "422: occurred_at is in the future"
    fake.reject["call-0003"] = "422: summary.disposition: unknown value"
    sync = sync_service(data_dir, fake)
    view = show_sync(window, sync, store.conn, CRM)
    assert view is not None
    with transaction(store.conn):
        enqueue(store.conn, consent(2, "withdrawn"))
        enqueue(store.conn, interaction(3))
    try:
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=drained):
            sync.start()
        assert view.notice.text == "Le CRM refuse le résumé (+1) : 422: summary.disposition: unknown value"
        assert window.tray is not None and window.tray.sync_text() == "CRM : 2 refusés"
        window.tray.sync_action.trigger()  # the tray's "Synchronisation…"
        dialog = view.dialog
        assert dialog is not None
        words = [dialog.entries.topLevelItem(i).text(1) for i in range(2)]  # type: ignore[union-attr]
        assert words[0].startswith("un retrait de consentement (") and words[1].startswith("le résumé")
        fake.reject.clear()
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=lambda s: s.parked == 0 and s.drained):
            dialog.retry_all_button.click()
        assert {"st-1:2", "call-0003"} <= set(fake.records)
    finally:
        sync.stop()


def test_the_crm_down_then_credentials_refused(qtbot: QtBot, window: MainWindow, store: Store, data_dir: Path) -> None:
    fake = FakeConnector()
    fake.faults = [TransientError("tryton: cannot connect (connection refused)")]
    sync = sync_service(data_dir, fake)
    view = show_sync(window, sync, store.conn, CRM)
    assert view is not None and window.tray is not None
    with transaction(store.conn):
        enqueue(store.conn, interaction(4))
    try:
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=lambda s: s.problem is not None):
            sync.start()
        assert window.tray.sync_text() == "CRM injoignable" and view.timer.isActive()
        old = view.health.status.problem if view.health.status else None
        sync.worker.hold_until = None  # the backoff is the worker's business; the next cycle reaches the CRM
        with store.conn:
            store.conn.execute("UPDATE outbox SET next_attempt_at = NULL")
        fake.faults = [AuthError("tryton: HTTP 401 Unauthorized")]
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=lambda s: s.problem != old):
            sync.wake()
        assert window.tray.sync_text() == "CRM : identifiants refusés" and not view.timer.isActive()
        with qtbot.waitSignal(sync.status_changed, timeout=5000, check_params_cb=drained):
            sync.wake()
        assert window.tray.sync_text() == "CRM : à jour"
    finally:
        sync.stop()


def test_a_sync_that_could_not_start_still_shows_the_parked_entries(
    qtbot: QtBot, window: MainWindow, store: Store
) -> None:
    with transaction(store.conn):
        enqueue(store.conn, interaction(5))
        store.conn.execute(
            "UPDATE outbox SET state = 'parked', last_error = '400: bad' WHERE entity_id IN ('call-0005', 'st-1:6')"
        )
    view = show_sync(window, None, store.conn, CRM)
    assert view is not None and window.tray is not None
    assert window.tray.sync_text() == "CRM : synchronisation arrêtée"
    dialog = view.show_dialog()
    assert dialog.entries.topLevelItemCount() == 1
    assert dialog.retry_selected() == 1
    assert sync_status(store.conn, CRM, now=dt.datetime.now(dt.UTC)).parked == 0
    state = store.conn.execute("SELECT state FROM outbox WHERE entity_id = 'call-0005'").fetchone()
    assert state == ("pending",)
    assert show_sync(window, None, store.conn, Crm()) is None  # no CRM configured: nothing shown


def test_the_sync_view_in_english(qtbot: QtBot, qapp: QApplication, window: MainWindow, store: Store) -> None:
    with transaction(store.conn):
        enqueue(store.conn, consent(6, "objection"))
        store.conn.execute(
            "UPDATE outbox SET state = 'parked', last_error = '400: bad' WHERE entity_id IN ('call-0005', 'st-1:6')"
        )
    install_translator(qapp, "en")
    view = show_sync(window, None, store.conn, CRM)
    assert view is not None and window.tray is not None
    dialog = view.show_dialog()
    assert window.tray.sync_text() == "CRM: sync stopped"
    assert dialog.windowTitle() == "Synchronisation with the CRM"
    assert dialog.retry_button.text() == "&Retry"
    row = dialog.entries.topLevelItem(0)
    assert row is not None and row.text(1).startswith("an objection (")
    install_translator(qapp, "fr")  # the open view follows the language (Qt posts the change)
    qtbot.waitUntil(lambda: dialog.windowTitle() == "Synchronisation avec le CRM", timeout=2000)
    row = dialog.entries.topLevelItem(0)
    assert row is not None and row.text(1).startswith("une opposition (")
    dialog.close()
