"""The settings dialog under a machine policy: locked keys are shown locked and saving keeps the machine values."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.config import SETTINGS_FILE, Crm, Settings, Station, load_settings, save_settings
from desktop.machine_policy import NO_POLICY, POLICY_ENV
from desktop.ui.settings_dialog import LOCK_MARK, SettingsDialog

POLICY = """\
locked = ["telephony.on_forbidden_dial", "telephony.sources", "station.professional", "always_on_top", "crm"]

[settings.station]
professional = "ACME Énergie SAS"

[settings.telephony]
sources = ["baresip"]
on_forbidden_dial = "hangup"

[settings.crm]
connector = "webhook"
endpoint = "https://crm.example.com/hooks"
"""
HINT = "Défini par votre service informatique"


@pytest.fixture
def locked_dialog(qtbot: QtBot, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SettingsDialog:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV, str(policy))
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text(
        '[station]\nprofessional = "Autre SAS"\nagent_id = "agent-7"\n[telephony]\non_forbidden_dial = "warn"\n',
        encoding="utf-8",
    )
    opened = SettingsDialog(data_dir)
    qtbot.addWidget(opened)
    opened.show()
    return opened


def test_locked_keys_are_disabled_marked_and_explained(locked_dialog: SettingsDialog) -> None:
    dialog = locked_dialog
    assert dialog.locked_keys == {
        "telephony.on_forbidden_dial",
        "telephony.sources",
        "station.professional",
        "always_on_top",
    }
    assert dialog.professional.text() == "ACME Énergie SAS" and dialog.on_forbidden.currentData() == "hangup"
    for widget in (dialog.professional, dialog.on_forbidden, dialog.always_on_top, *dialog.source_checks.values()):
        assert not widget.isEnabled() and widget.toolTip() == HINT
    assert dialog._labels[0].text().endswith(LOCK_MARK) and dialog._labels[0].toolTip() == HINT
    assert dialog._telephony_labels[0].text().endswith(LOCK_MARK) and dialog._telephony_labels[2].text().endswith(
        LOCK_MARK
    )
    assert dialog.always_on_top.text().endswith(LOCK_MARK)
    assert dialog.locked_note.isVisible() and "service informatique" in dialog.locked_note.text()
    for widget in (dialog.agent_id, dialog.caller_id, dialog.baresip_port, dialog.auto_connect, dialog.language):
        assert widget.isEnabled() and widget.toolTip() != HINT
    assert not dialog._labels[3].text().endswith(LOCK_MARK)
    dialog.retranslate()  # a language change marks once, not twice
    assert dialog._labels[0].text().count(LOCK_MARK) == 1 and dialog.always_on_top.text().count(LOCK_MARK) == 1


def test_saving_keeps_the_machine_values_and_the_users_own(locked_dialog: SettingsDialog, data_dir: Path) -> None:
    dialog = locked_dialog
    dialog.agent_id.setText("agent-9")
    dialog.baresip_port.setValue(5070)
    assert dialog.save() is True
    effective = load_settings(data_dir)
    assert effective.station == Station(professional="ACME Énergie SAS", agent_id="agent-9")
    assert effective.telephony.on_forbidden_dial == "hangup" and effective.telephony.sources == ("baresip",)
    assert effective.telephony.baresip_port == 5070
    assert effective.crm == Crm(connector="webhook", endpoint="https://crm.example.com/hooks")
    written = tomllib.loads((data_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert written["station"]["professional"] == "Autre SAS"  # what the user had, still under the lock
    assert written["telephony"]["on_forbidden_dial"] == "warn" and "sources" not in written["telephony"]
    assert "endpoint" not in written.get("crm", {})


def test_without_a_policy_nothing_is_locked_and_the_crm_block_survives_a_save(qtbot: QtBot, data_dir: Path) -> None:
    crm = Crm(connector="tryton", endpoint="http://tryton:8000/acme")
    save_settings(data_dir, Settings(crm=crm), NO_POLICY)
    dialog = SettingsDialog(data_dir, machine=NO_POLICY)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.locked_keys and not dialog.locked_note.isVisible()
    assert all(widget.isEnabled() for widget in (dialog.professional, dialog.on_forbidden, dialog.always_on_top))
    dialog.agent_id.setText("agent-3")
    assert dialog.save() is True
    assert load_settings(data_dir, machine=NO_POLICY).crm == crm
