"""The main window: the agent panel, a slim toolbar (review, settings), always on top if the agent wants it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import QMainWindow, QToolBar, QWidget

from desktop.services.calls import CallService
from desktop.ui.panel import AgentPanel
from desktop.ui.tray import StatusTray


class MainWindow(QMainWindow):
    """Signals: ``review_requested``, ``settings_requested``, ``shown`` (first time the window is exposed)."""

    review_requested = Signal()
    settings_requested = Signal()
    shown = Signal()

    def __init__(self, service: CallService, *, always_on_top: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agent Assist")
        self.panel = AgentPanel(service, self)
        self.setCentralWidget(self.panel)
        toolbar = QToolBar(self.tr("Outils"), self)
        toolbar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self._action(toolbar, self.tr("Revue"), "Ctrl+R", self.review_requested.emit)
        self._action(toolbar, self.tr("Paramètres"), "Ctrl+,", self.settings_requested.emit)
        self.resize(380, 720)
        self.setMinimumWidth(320)
        self.set_always_on_top(always_on_top)
        self._shown_once = False
        #: The tray icon of the station (desktop.ui.tray.StatusTray), set by the app.
        self.tray: StatusTray | None = None

    def _action(self, toolbar: QToolBar, text: str, shortcut: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        toolbar.addAction(action)
        return action

    def set_always_on_top(self, on: bool) -> None:
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:  # changing a window flag hides the window
            self.show()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()
