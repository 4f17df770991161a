"""The tray icon: the station's status at a glance, and a menu to show the panel, review, sync, settings, quit.

When the station syncs with a CRM, the menu and the tooltip carry one more line: the sync's state in words
("CRM : à jour", "CRM : 3 en attente", "CRM : 1 refusé", "CRM injoignable depuis 10 min", "CRM : identifiants
refusés"), and the menu offers the "Synchronisation" view.

Where the desktop has no system tray (offscreen, some Linux sessions), no icon is created and the status
is only kept in memory: the menu and the signals work the same, so callers need not care.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

if TYPE_CHECKING:
    from desktop.services.calls import CallService

READY, IN_CALL, SUMMARY_PENDING, ERROR = "ready", "in_call", "summary_pending", "error"
STATUSES = (READY, IN_CALL, SUMMARY_PENDING, ERROR)
COLOURS = {READY: "#2e7d32", IN_CALL: "#1565c0", SUMMARY_PENDING: "#ef6c00", ERROR: "#c62828"}
#: Call states (desktop.core.telephony.session.State) and the tray status they mean.
_CALL_STATUS = {
    "ringing": IN_CALL,
    "dialing": IN_CALL,
    "active": IN_CALL,
    "wrap_up": SUMMARY_PENDING,
    "saved": READY,
    "missed": READY,
    "interrupted": READY,
}
#: States of a call source (baresip's socket, the local API) shown in the menu and the tooltip.
SOURCE_STATES = ("connected", "connecting", "disconnected", "listening", "error")
#: States of the CRM sync line (desktop.ui.sync_view.SyncHealth decides which), worst last.
SYNC_STATES = ("starting", "up_to_date", "pending", "parked", "unreachable", "auth", "off")
SYNC_COLOURS = {
    "off": "#c62828",
    "starting": "#757575",
    "up_to_date": "#2e7d32",
    "pending": "#1565c0",
    "parked": "#ef6c00",
    "unreachable": "#c62828",
    "auth": "#c62828",
}


def status_icon(colour: str, size: int = 32) -> QIcon:
    """A filled circle of ``colour`` with a darker ring, drawn (no image file)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    fill = QColor(colour)
    painter.setPen(QPen(fill.darker(140), max(size / 16, 1.0)))
    painter.setBrush(QBrush(fill))
    margin = size / 8
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.end()
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Disabled)  # the status line of the menu is disabled, yet keeps its colour
    return icon


class StatusTray(QObject):
    """The station's status in the system tray.

    Signals (user intents from the menu): ``show_requested`` (also a click on the icon), ``review_requested``,
    ``sync_requested`` (the sync view; offered once :meth:`set_sync` was called), ``settings_requested``,
    ``quit_requested``, ``connect_requested`` (connect to the softphone); and ``status_changed(status)`` when
    :meth:`set_status` changes it.
    """

    show_requested = Signal()
    review_requested = Signal()
    sync_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()
    connect_requested = Signal()
    status_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, use_system_tray: bool | None = None) -> None:
        super().__init__(parent)
        available = QSystemTrayIcon.isSystemTrayAvailable() if use_system_tray is None else use_system_tray
        self._status = READY
        self._detail: str | None = None
        self.menu = QMenu()
        self.status_action = QAction(self.menu)
        self.status_action.setEnabled(False)
        self.menu.addAction(self.status_action)
        self._sources: dict[str, str] = {}
        self._source_actions: dict[str, QAction] = {}
        self.sync_line_action = QAction(self.menu)
        self.sync_line_action.setEnabled(False)
        self.sync_line_action.setVisible(False)  # shown once the app syncs with a CRM
        self.menu.addAction(self.sync_line_action)
        self._sync: tuple[str, int, int, int | None] | None = None
        self._sources_end = self.menu.addSeparator()
        self.show_action = self._action(self.tr("Afficher"), self.show_requested)
        self.review_action = self._action(self.tr("Revue"), self.review_requested)
        self.sync_action = self._action(self.tr("Synchronisation…"), self.sync_requested)
        self.sync_action.setVisible(False)
        self.settings_action = self._action(self.tr("Paramètres"), self.settings_requested)
        self.connect_action = self._action(self.tr("Connecter le softphone"), self.connect_requested)
        self.connect_action.setVisible(False)  # shown once a softphone source exists and is not connected
        self.menu.addSeparator()
        self.quit_action = self._action(self.tr("Quitter"), self.quit_requested)
        self.icon: QSystemTrayIcon | None = None
        if available:
            self.icon = QSystemTrayIcon(self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._on_icon_activated)
        self._refresh()
        if self.icon is not None:
            self.icon.show()

    def _action(self, text: str, signal: Any) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(signal.emit)
        self.menu.addAction(action)
        return action

    # -- status ------------------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._status

    @property
    def available(self) -> bool:
        """True when an icon is shown in a system tray."""
        return self.icon is not None

    def status_text(self, status: str | None = None) -> str:
        """The French words of a status ("Prêt", "Appel en cours", "Résumé en attente", "Erreur")."""
        words = {
            READY: self.tr("Prêt"),
            IN_CALL: self.tr("Appel en cours"),
            SUMMARY_PENDING: self.tr("Résumé en attente"),
            ERROR: self.tr("Erreur"),
        }
        return words[status or self._status]

    @property
    def tooltip(self) -> str:
        text = f"Agent Assist — {self.status_text()}"
        text = f"{text} : {self._detail}" if self._detail else text
        sync = [self.sync_text()] if self._sync is not None else []
        return "\n".join([text, *(self._source_line(name) for name in self._sources), *sync])

    def source_state_text(self, state: str) -> str:
        return {
            "connected": self.tr("connecté"),
            "connecting": self.tr("connexion…"),
            "disconnected": self.tr("déconnecté"),
            "listening": self.tr("à l'écoute"),
            "error": self.tr("erreur"),
        }[state]

    def _source_line(self, name: str) -> str:
        return f"{name} : {self.source_state_text(self._sources[name])}"

    def set_source_state(self, name: str, state: str) -> None:
        """Show where calls come from and whether it works (``baresip : connecté``), one menu line per source."""
        if state not in SOURCE_STATES:
            raise ValueError(f"unknown source state {state!r}")
        self._sources[name] = state
        action = self._source_actions.get(name)
        if action is None:
            action = QAction(self.menu)
            action.setEnabled(False)
            self.menu.insertAction(self.sync_line_action, action)
            self._source_actions[name] = action
        action.setText(self._source_line(name))
        if name == "baresip":
            self.connect_action.setVisible(state == "disconnected")
        self._refresh()

    # -- CRM sync ----------------------------------------------------------------------------------------------

    def set_sync(self, state: str, *, pending: int = 0, parked: int = 0, down_minutes: int | None = None) -> None:
        """Show the CRM sync line (``state`` one of :data:`SYNC_STATES`) and offer the sync view.

        ``pending``/``parked`` are the outbox counts; ``down_minutes`` how long the CRM has been unreachable.
        """
        if state not in SYNC_STATES:
            raise ValueError(f"unknown sync state {state!r}")
        self._sync = (state, max(pending, 0), max(parked, 0), down_minutes)
        self.sync_line_action.setText(self.sync_text())
        self.sync_line_action.setIcon(status_icon(SYNC_COLOURS[state], 16))
        self.sync_line_action.setVisible(True)
        self.sync_action.setVisible(True)  # "off" too: the parked entries can still be seen and put back
        self._refresh()

    @property
    def sync_state(self) -> str | None:
        """The sync line's state, None while the station does not sync."""
        return None if self._sync is None else self._sync[0]

    def sync_text(self) -> str:
        """The sync line in words ("CRM : à jour", "CRM : 1 refusé, 2 en attente", "CRM injoignable depuis 10 min")."""
        if self._sync is None:
            return ""
        state, pending, parked, minutes = self._sync
        waiting = self.tr("{n} en attente").format(n=pending)
        if state == "auth":
            return self.tr("CRM : identifiants refusés")
        if state == "unreachable":
            if minutes is None or minutes < 1:
                return self.tr("CRM injoignable")
            if minutes < 120:
                return self.tr("CRM injoignable depuis {n} min").format(n=minutes)
            return self.tr("CRM injoignable depuis {n} h").format(n=minutes // 60)
        if state == "off":
            return self.tr("CRM : synchronisation arrêtée")
        if state == "starting":
            return self.tr("CRM : connexion…")
        if state == "parked" or parked:
            refused = self.tr("1 refusé") if parked == 1 else self.tr("{n} refusés").format(n=parked)
            return self.tr("CRM : {what}").format(what=f"{refused}, {waiting}" if pending else refused)
        if state == "pending" or pending:
            return self.tr("CRM : {what}").format(what=waiting)
        return self.tr("CRM : à jour")

    def set_status(self, status: str, detail: str | None = None) -> None:
        """Show ``status`` (one of :data:`STATUSES`) with an optional short detail (never a number or text said)."""
        if status not in STATUSES:
            raise ValueError(f"unknown tray status {status!r}")
        changed = status != self._status
        self._status, self._detail = status, detail
        self._refresh()
        if changed:
            self.status_changed.emit(status)

    def _refresh(self) -> None:
        self.status_action.setText(self.status_text())
        self.status_action.setIcon(status_icon(COLOURS[self._status], 16))
        if self.icon is not None:
            self.icon.setIcon(status_icon(COLOURS[self._status]))
            self.icon.setToolTip(self.tooltip)

    def follow(self, service: CallService) -> None:
        """Track the calls of a CallService: in call, summary pending after hang-up, ready once saved.

        An ``error`` status stays until :meth:`set_status` clears it: a call does not hide a problem.
        """
        service.call_started.connect(self._on_service_call)
        service.call_state_changed.connect(self._on_service_call)

    def _on_service_call(self, session: Any) -> None:
        status = _CALL_STATUS.get(getattr(session, "state", ""))
        if status is not None and self._status != ERROR:
            self.set_status(status)

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()

    def hide(self) -> None:
        """Remove the icon from the tray (at quit, so no ghost icon stays on Windows)."""
        if self.icon is not None:
            self.icon.hide()
