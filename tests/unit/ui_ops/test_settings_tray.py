from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QSystemTrayIcon
from pytestqt.qtbot import QtBot

from desktop.config import SETTINGS_FILE, Settings, Station, Telephony, load_settings, save_settings
from desktop.ui import settings_dialog as settings_module
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.tray import COLOURS, ERROR, IN_CALL, READY, SUMMARY_PENDING, StatusTray, status_icon

# -- settings dialog ---------------------------------------------------------------------------------------------


@pytest.fixture
def dialog(qtbot: QtBot, data_dir: Path) -> SettingsDialog:
    save_settings(data_dir, Settings(station=Station(professional="ACME Énergie SAS", agent_id="agent-7")))
    opened = SettingsDialog(data_dir)
    qtbot.addWidget(opened)
    opened.show()
    return opened


def save_button(dialog: SettingsDialog) -> object:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


def test_opens_with_the_stored_settings(dialog: SettingsDialog) -> None:
    assert dialog.professional.text() == "ACME Énergie SAS"
    assert dialog.agent_id.text() == "agent-7"
    assert dialog.caller_id.text() == ""
    assert dialog.language.currentData() == "fr"
    assert dialog.always_on_top.isChecked()
    assert dialog.windowTitle() == "Paramètres du poste"
    assert not dialog.error.isVisible()
    assert [source for source, check in dialog.source_checks.items() if check.isChecked()] == [
        "baresip",
        "hooks",
        "api",
    ]
    assert (dialog.baresip_host.text(), dialog.baresip_port.value()) == ("127.0.0.1", 4444)
    assert dialog.auto_connect.isChecked() and dialog.transcribe.isChecked()
    assert dialog.on_forbidden.currentText() == "Avertir (bandeau rouge)"


def test_telephony_settings_are_saved(qtbot: QtBot, dialog: SettingsDialog, data_dir: Path) -> None:
    dialog.source_checks["baresip"].setChecked(False)
    dialog.baresip_port.setValue(4455)
    dialog.auto_connect.setChecked(False)
    dialog.transcribe.setChecked(False)
    dialog.on_forbidden.setCurrentIndex(dialog.on_forbidden.findData("hangup"))
    with qtbot.waitSignal(dialog.settings_saved):
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)  # type: ignore[arg-type]
    assert load_settings(data_dir).telephony == Telephony(
        sources=("hooks", "api"),
        baresip_port=4455,
        auto_connect=False,
        transcribe=False,
        on_forbidden_dial="hangup",
    )


def test_an_empty_baresip_host_is_refused(qtbot: QtBot, dialog: SettingsDialog, data_dir: Path) -> None:
    before = (data_dir / SETTINGS_FILE).read_bytes()
    dialog.baresip_host.clear()
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)  # type: ignore[arg-type]
    assert dialog.error.isVisible() and dialog.error.text() == "Adresse de baresip manquante."
    assert (data_dir / SETTINGS_FILE).read_bytes() == before


def test_edits_are_saved_with_the_caller_id_normalised(qtbot: QtBot, dialog: SettingsDialog, data_dir: Path) -> None:
    dialog.caller_id.clear()
    qtbot.keyClicks(dialog.caller_id, "01 62 00 00 01")
    dialog.product.setText("  electricity ")
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.always_on_top.setChecked(False)
    with qtbot.waitSignal(dialog.settings_saved) as saved:
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)  # type: ignore[arg-type]
    expected = Settings(
        language="en",
        always_on_top=False,
        station=Station(
            professional="ACME Énergie SAS", caller_id="+33162000001", product="electricity", agent_id="agent-7"
        ),
    )
    assert saved.args == [expected]
    assert load_settings(data_dir) == expected
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_an_invalid_caller_id_is_named_inline_and_nothing_is_saved(
    qtbot: QtBot, dialog: SettingsDialog, data_dir: Path
) -> None:
    before = (data_dir / SETTINGS_FILE).read_bytes()
    qtbot.keyClicks(dialog.caller_id, "12ab")
    dialog.professional.setText("Autre SAS")
    with qtbot.assertNotEmitted(dialog.settings_saved):
        assert dialog.save() is False
    assert (
        dialog.error.isVisible() and "Numéro présenté invalide" in dialog.error.text() and "12ab" in dialog.error.text()
    )
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert (data_dir / SETTINGS_FILE).read_bytes() == before
    qtbot.keyClick(dialog.caller_id, Qt.Key.Key_Backspace)
    assert not dialog.error.isVisible()  # the message goes once the agent corrects


def test_a_write_error_is_shown_inline(dialog: SettingsDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(settings_module, "save_settings", refuse)
    assert dialog.save() is False
    assert "Impossible d'enregistrer" in dialog.error.text() and "Permission denied" in dialog.error.text()


def test_empty_fields_clear_the_settings(qtbot: QtBot, dialog: SettingsDialog, data_dir: Path) -> None:
    dialog.professional.clear()
    dialog.agent_id.setText("   ")
    assert dialog.save() is True
    assert load_settings(data_dir).station == Station()


# -- tray --------------------------------------------------------------------------------------------------------


class FakeCalls(QObject):
    call_started = Signal(object)
    call_state_changed = Signal(object)


def test_tray_without_a_system_tray_keeps_the_status_in_memory(qtbot: QtBot) -> None:
    tray = StatusTray(use_system_tray=False)
    assert not tray.available and tray.icon is None
    assert (tray.status, tray.status_text(), tray.tooltip) == (READY, "Prêt", "Agent Assist — Prêt")
    with qtbot.waitSignal(tray.status_changed) as changed:
        tray.set_status(SUMMARY_PENDING, "appel de 10:31")
    assert changed.args == [SUMMARY_PENDING]
    assert tray.tooltip == "Agent Assist — Résumé en attente : appel de 10:31"
    assert tray.status_action.text() == "Résumé en attente"
    with pytest.raises(ValueError, match="unknown tray status"):
        tray.set_status("busy")


def test_tray_shows_the_call_sources(qtbot: QtBot) -> None:
    tray = StatusTray(use_system_tray=False)
    assert not tray.connect_action.isVisible()
    tray.set_source_state("baresip", "disconnected")
    assert tray.connect_action.isVisible()
    with qtbot.waitSignal(tray.connect_requested, timeout=500):
        tray.connect_action.trigger()
    tray.set_source_state("baresip", "connecting")
    assert not tray.connect_action.isVisible()
    tray.set_source_state("API", "listening")
    tray.set_source_state("baresip", "connected")
    texts = [action.text() for action in tray.menu.actions() if not action.isSeparator()]
    assert texts[:3] == ["Prêt", "baresip : connecté", "API : à l'écoute"]
    assert tray.tooltip == "Agent Assist — Prêt\nbaresip : connecté\nAPI : à l'écoute"
    with pytest.raises(ValueError, match="unknown source state"):
        tray.set_source_state("baresip", "sleepy")


def test_tray_menu_emits_the_intents(qtbot: QtBot) -> None:
    tray = StatusTray(use_system_tray=False)
    texts = [action.text() for action in tray.menu.actions() if not action.isSeparator() and action.isVisible()]
    assert texts == ["Prêt", "Afficher", "Revue", "Paramètres", "Quitter"]
    for action, signal in (
        (tray.show_action, tray.show_requested),
        (tray.review_action, tray.review_requested),
        (tray.settings_action, tray.settings_requested),
        (tray.quit_action, tray.quit_requested),
    ):
        with qtbot.waitSignal(signal, timeout=500):
            action.trigger()


def test_tray_icon_when_a_system_tray_exists(qtbot: QtBot) -> None:
    tray = StatusTray(use_system_tray=True)
    assert tray.available and tray.icon is not None
    tray.set_status(ERROR)
    assert tray.icon.toolTip() == "Agent Assist — Erreur"
    assert not tray.icon.icon().isNull()
    with qtbot.waitSignal(tray.show_requested, timeout=500):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray.hide()
    assert not tray.icon.isVisible()


@pytest.mark.parametrize("status", [READY, IN_CALL, SUMMARY_PENDING, ERROR])
def test_status_icon_is_a_circle_of_the_status_colour(qtbot: QtBot, status: str) -> None:
    image = status_icon(COLOURS[status]).pixmap(32, 32).toImage()
    assert image.pixelColor(16, 16) == QColor(COLOURS[status])
    assert image.pixelColor(0, 0).alpha() == 0


def test_tray_follows_the_calls(qtbot: QtBot) -> None:
    tray = StatusTray(use_system_tray=False)
    calls = FakeCalls()
    tray.follow(calls)  # type: ignore[arg-type]
    seen = []
    for state in ("ringing", "active", "wrap_up", "saved", "dialing", "missed"):
        calls.call_state_changed.emit(SimpleNamespace(state=state))
        seen.append(tray.status)
    assert seen == [IN_CALL, IN_CALL, SUMMARY_PENDING, READY, IN_CALL, READY]
    tray.set_status(ERROR)
    calls.call_started.emit(SimpleNamespace(state="ringing"))
    assert tray.status == ERROR  # a call does not hide a problem
