"""The settings dialog: what this station assumes (professional, caller id, product, agent), how the panel
behaves (language, always on top) and where calls come from (softphone sources, baresip's control port,
auto-connect, what a forbidden dial does). Saved to ``settings.toml`` in the data folder, atomically; invalid input is
named inline and nothing is saved. Keys the machine policy locks (:mod:`desktop.machine_policy`) show their machine
value, disabled, with a lock mark and the tooltip « Défini par votre service informatique »."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Settings, Station, Telephony, load_settings, save_settings
from desktop.core.consent.phone import normalize
from desktop.core.errors import InputError
from desktop.machine_policy import MachinePolicy, load_machine_policy

log = logging.getLogger("agent_assist.ui.settings")
LANGUAGES = (("fr", "Français"), ("en", "English"))
SOURCES = ("baresip", "hooks", "api")
#: Shown after the label (or the text of a check box) of a setting the machine policy locks.
LOCK_MARK = "\N{LOCK}"


class SettingsDialog(QDialog):
    """Edits the station settings of ``data_dir``.

    Signals: ``settings_saved(settings)`` once the file is written (the dialog then closes as accepted).
    """

    settings_saved = Signal(object)

    def __init__(
        self,
        data_dir: Path,
        settings: Settings | None = None,
        parent: QWidget | None = None,
        *,
        machine: MachinePolicy | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.data_dir = data_dir
        #: The machine policy (default: this machine's); MalformedPolicyError when it is broken.
        self.machine = machine if machine is not None else load_machine_policy()
        self.settings = settings if settings is not None else load_settings(data_dir, machine=self.machine)
        self.saved: Settings | None = None

        self.professional = QLineEdit(self)
        self.caller_id = QLineEdit(self)
        self.product = QLineEdit(self)
        self.agent_id = QLineEdit(self)
        self.language = QComboBox(self)
        for code, name in LANGUAGES:
            self.language.addItem(name, code)
        self.always_on_top = QCheckBox(self)

        self.telephony_box = QGroupBox(self)
        self.source_checks = {source: QCheckBox(self.telephony_box) for source in SOURCES}
        self.baresip_host = QLineEdit(self.telephony_box)
        self.baresip_port = QSpinBox(self.telephony_box)
        self.baresip_port.setRange(1, 65535)
        self.auto_connect = QCheckBox(self.telephony_box)
        self.transcribe = QCheckBox(self.telephony_box)
        self.on_forbidden = QComboBox(self.telephony_box)
        self.on_forbidden.addItem("", "warn")
        self.on_forbidden.addItem("", "hangup")
        sources_row = QHBoxLayout()
        for check in self.source_checks.values():
            sources_row.addWidget(check)
        sources_row.addStretch(1)
        address_row = QHBoxLayout()
        address_row.addWidget(self.baresip_host, 1)
        address_row.addWidget(self.baresip_port)
        self.telephony_form = QFormLayout(self.telephony_box)
        self._telephony_labels = [QLabel(self.telephony_box) for _ in range(3)]
        self.telephony_form.addRow(self._telephony_labels[0], sources_row)
        self.telephony_form.addRow(self._telephony_labels[1], address_row)
        self.telephony_form.addRow("", self.auto_connect)
        self.telephony_form.addRow("", self.transcribe)
        self.telephony_form.addRow(self._telephony_labels[2], self.on_forbidden)
        self._telephony_labels[0].setBuddy(self.source_checks["baresip"])
        self._telephony_labels[1].setBuddy(self.baresip_host)
        self._telephony_labels[2].setBuddy(self.on_forbidden)
        self.language_note = QLabel(self)
        self.language_note.setObjectName("Hint")
        self.language_note.setStyleSheet("color: #555555; font-size: 11px;")
        self.locked_note = QLabel(self)
        self.locked_note.setObjectName("Hint")
        self.locked_note.setWordWrap(True)
        self.locked_note.setStyleSheet("color: #555555; font-size: 11px;")
        self.error = QLabel(self)
        self.error.setObjectName("InlineError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #B3001B; font-weight: bold;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        for field in (self.professional, self.caller_id, self.product, self.agent_id):
            field.setClearButtonEnabled(True)
            field.textEdited.connect(self._on_field_edited)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._labels = [QLabel(self) for _ in range(6)]
        fields: tuple[QWidget, ...] = (
            self.professional,
            self.caller_id,
            self.product,
            self.agent_id,
            self.language,
            self.always_on_top,
        )
        for label, widget in zip(self._labels, fields, strict=True):
            label.setBuddy(widget)
            self.form.addRow(label, widget)
            if widget is self.language:
                self.form.addRow("", self.language_note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.telephony_box)
        layout.addWidget(self.locked_note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # Each settings key the dialog edits, with its widgets and the label that names it (None: a check box).
        self._key_widgets: dict[str, tuple[tuple[QWidget, ...], QLabel | None]] = {
            "station.professional": ((self.professional,), self._labels[0]),
            "station.caller_id": ((self.caller_id,), self._labels[1]),
            "station.product": ((self.product,), self._labels[2]),
            "station.agent_id": ((self.agent_id,), self._labels[3]),
            "language": ((self.language,), self._labels[4]),
            "always_on_top": ((self.always_on_top,), None),
            "telephony.sources": (tuple(self.source_checks.values()), self._telephony_labels[0]),
            "telephony.baresip_host": ((self.baresip_host,), self._telephony_labels[1]),
            "telephony.baresip_port": ((self.baresip_port,), self._telephony_labels[1]),
            "telephony.auto_connect": ((self.auto_connect,), None),
            "telephony.transcribe": ((self.transcribe,), None),
            "telephony.on_forbidden_dial": ((self.on_forbidden,), self._telephony_labels[2]),
        }
        self.locked_keys = frozenset(key for key in self._key_widgets if self.machine.is_locked(key))
        self._fill(self.settings)
        self.retranslate()
        self.setMinimumWidth(420)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Paramètres du poste"))
        texts = (
            self.tr("&Entreprise (professionnel)"),
            self.tr("&Numéro présenté"),
            self.tr("Produit par &défaut"),
            self.tr("Identifiant &agent"),
            self.tr("&Langue"),
            self.tr("&Fenêtre"),
        )
        for label, text in zip(self._labels, texts, strict=True):
            label.setText(text)
        self.always_on_top.setText(self.tr("Toujours au premier plan (au-dessus du softphone)"))
        self.professional.setPlaceholderText(self.tr("ex. ACME Énergie SAS"))
        self.caller_id.setPlaceholderText(self.tr("ex. 01 62 00 00 01 ou +33162000001"))
        self.product.setPlaceholderText(self.tr("ex. electricity"))
        self.agent_id.setPlaceholderText(self.tr("ex. agent-7"))
        self.language_note.setText(self.tr("La langue change au prochain démarrage."))
        self.telephony_box.setTitle(self.tr("Téléphonie (au prochain démarrage)"))
        for label, text in zip(
            self._telephony_labels,
            (self.tr("&Sources"), self.tr("&baresip (ctrl_tcp)"), self.tr("Appel sortant &interdit")),
            strict=True,
        ):
            label.setText(text)
        for source, text in zip(SOURCES, ("baresip", self.tr("Commandes"), self.tr("API locale")), strict=True):
            self.source_checks[source].setText(text)
        self.source_checks["hooks"].setToolTip(
            self.tr("Le softphone lance « agent-assist event … » à chaque appel (MicroSIP et semblables).")
        )
        self.source_checks["api"].setToolTip(self.tr("API HTTP locale (127.0.0.1, jeton) pour numéroteurs et CTI."))
        self.auto_connect.setText(self.tr("Se connecter au softphone au démarrage"))
        self.transcribe.setText(self.tr("Transcrire les appels sur ce poste (enregistrements de baresip)"))
        self.on_forbidden.setItemText(0, self.tr("Avertir (bandeau rouge)"))
        self.on_forbidden.setItemText(1, self.tr("Raccrocher automatiquement"))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("Enregistrer"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Annuler"))
        self._show_locks()

    def _show_locks(self) -> None:
        """Disable what the machine policy locks, mark it and say who set it (after each retranslation)."""
        hint = self.tr("Défini par votre service informatique")
        marked: set[int] = set()
        for key in sorted(self.locked_keys):
            widgets, label = self._key_widgets[key]
            for widget in widgets:
                widget.setEnabled(False)
                widget.setToolTip(hint)
                if isinstance(widget, QCheckBox) and label is None:
                    widget.setText(f"{widget.text()} {LOCK_MARK}")
            if label is not None and id(label) not in marked:
                marked.add(id(label))
                label.setText(f"{label.text()} {LOCK_MARK}")
                label.setToolTip(hint)
        self.locked_note.setText(
            f"{LOCK_MARK} " + self.tr("Certains paramètres sont définis par votre service informatique.")
        )
        self.locked_note.setVisible(bool(self.machine.locked))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _fill(self, settings: Settings) -> None:
        station = settings.station
        self.professional.setText(station.professional or "")
        self.caller_id.setText(station.caller_id or "")
        self.product.setText(station.product or "")
        self.agent_id.setText(station.agent_id or "")
        self.language.setCurrentIndex(max(self.language.findData(settings.language), 0))
        self.always_on_top.setChecked(settings.always_on_top)
        telephony = settings.telephony
        for source, check in self.source_checks.items():
            check.setChecked(source in telephony.sources)
        self.baresip_host.setText(telephony.baresip_host)
        self.baresip_port.setValue(telephony.baresip_port)
        self.auto_connect.setChecked(telephony.auto_connect)
        self.transcribe.setChecked(telephony.transcribe)
        self.on_forbidden.setCurrentIndex(max(self.on_forbidden.findData(telephony.on_forbidden_dial), 0))

    # -- saving ------------------------------------------------------------------------------------------------

    def edited_settings(self) -> Settings:
        """The settings as edited; InputError naming the first invalid field (nothing is saved)."""
        caller_id = self.caller_id.text().strip()
        if caller_id:
            try:
                caller_id = normalize(caller_id)
            except InputError:
                self.caller_id.setFocus()
                raise InputError(self.tr("Numéro présenté invalide : « {number} ».").format(number=caller_id)) from None
        station = Station(
            professional=self.professional.text().strip() or None,
            caller_id=caller_id or None,
            product=self.product.text().strip() or None,
            agent_id=self.agent_id.text().strip() or None,
        )
        host = self.baresip_host.text().strip()
        if not host:
            self.baresip_host.setFocus()
            raise InputError(self.tr("Adresse de baresip manquante."))
        telephony = self.settings.telephony.model_copy(
            update={
                "sources": tuple(source for source, check in self.source_checks.items() if check.isChecked()),
                "baresip_host": host,
                "baresip_port": self.baresip_port.value(),
                "auto_connect": self.auto_connect.isChecked(),
                "transcribe": self.transcribe.isChecked(),
                "on_forbidden_dial": self.on_forbidden.currentData(),
            }
        )
        # What the dialog does not show (CRM, retention, models folder, policy pack) is kept as it was.
        return self.settings.model_copy(
            update={
                "language": self.language.currentData(),
                "always_on_top": self.always_on_top.isChecked(),
                "station": station,
                "telephony": Telephony.model_validate(telephony.model_dump()),
            }
        )

    def save(self) -> bool:
        """Validate, write ``settings.toml``, emit ``settings_saved`` and close; False (dialog open) on error."""
        try:
            settings = self.edited_settings()
            save_settings(self.data_dir, settings, self.machine)
        except InputError as error:
            self._show_error(str(error))
            return False
        except OSError as error:
            log.error("settings not saved: %s", error.strerror)
            self._show_error(self.tr("Impossible d'enregistrer les paramètres : {error}").format(error=error.strerror))
            return False
        log.info("station settings saved")
        self.saved = self.settings = settings
        self.settings_saved.emit(settings)
        self.accept()
        return True

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _on_field_edited(self, _text: str) -> None:
        self.error.hide()
