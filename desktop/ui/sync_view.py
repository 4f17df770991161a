"""The CRM sync as the agent and the team lead see it: a line in the tray, a notice on the panel when the CRM
refuses an entry, and the "Synchronisation" view listing the refused (parked) entries with the CRM's message and
a "Réessayer" button.

- :class:`SyncHealth` turns what :class:`desktop.services.sync.SyncService` reports into one state for the tray
  (``up_to_date``, ``pending``, ``parked``, ``unreachable`` since when, ``auth``). No Qt.
- :class:`SyncNotice`: one line at the bottom of the panel, "Le CRM refuse le résumé : <its message>" (which call
  in its tooltip and in the view), with "Voir" and a close button. Never a phone number: the CRM's message is masked like a log line.
- :class:`SyncDialog`: the parked entries (what, since when, the CRM's message in full), "Réessayer" for the
  selected ones, "Tout réessayer"; keyboard usable (the list has the focus, Entrée retries, Échap closes).
- :func:`show_sync` wires them to the app's window, tray and sync service.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QToolBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.crm.status import ParkedEntry, SyncStatus, sync_status
from desktop.core.crm.worker import retry_parked
from desktop.core.errors import InputError, NotFoundError
from desktop.log import redact

if TYPE_CHECKING:
    from desktop.config import Crm
    from desktop.services.sync import SyncService
    from desktop.ui.main_window import MainWindow
    from desktop.ui.tray import StatusTray

log = logging.getLogger("agent_assist.ui.sync")
#: While the CRM is unreachable, the tray's "depuis n min" is redone this often (no worker report comes then).
DOWN_REFRESH_MS = 30_000
#: The sync view's shortcut in the main window.
SYNC_SHORTCUT = "Ctrl+Shift+S"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- the state in the tray -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncLine:
    """What the tray shows: a state of :data:`desktop.ui.tray.SYNC_STATES` and its figures."""

    state: str
    pending: int = 0
    parked: int = 0
    down_minutes: int | None = None


def _is_auth_failure(message: str) -> bool:
    # sync_failed carries one line, not the error's type: a refused key reads "HTTP 401"/"HTTP 403" or "credentials".
    lowered = message.lower()
    return "credentials" in lowered or "http 401" in lowered or "http 403" in lowered or "no rest key" in lowered


class SyncHealth:
    """The sync's state from the reports of a SyncService: feed :meth:`on_status` and :meth:`on_failure`.

    Worst first: the credentials refused (``auth``), the CRM unreachable (since the first failure, cleared by the
    next push or pull that reaches it), entries refused (``parked``), entries waiting (``pending``), else
    ``up_to_date``; ``starting`` until the worker first reports.
    """

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.clock = clock
        self.status: SyncStatus | None = None
        self.reported = False
        self._push_down_since: dt.datetime | None = None
        self._pull_down_since: dt.datetime | None = None
        self._push_auth = False
        self._pull_auth = False

    def seed(self, status: SyncStatus) -> None:
        """The store's state before the worker's first report (counts only; nothing known of the CRM yet)."""
        self.status = status

    def on_status(self, status: SyncStatus) -> None:
        """A push or pull cycle ended (``SyncService.status_changed``)."""
        previous = self.status
        self.status = status
        self.reported = True
        problem = status.problem or ""
        self._push_auth = problem.startswith("auth")
        if problem.startswith("unreachable"):
            self._push_down_since = self._push_down_since or self.clock()
        else:
            self._push_down_since = None
        if status.last_pull is not None and (previous is None or previous.last_pull != status.last_pull):
            self._pull_down_since, self._pull_auth = None, False  # a pull went through

    def on_failure(self, message: str) -> None:
        """A cycle could not run (``SyncService.sync_failed``)."""
        self.reported = True
        if not message.startswith("pull:"):
            return  # push failures come back in the next status's problem too
        if _is_auth_failure(message):
            self._pull_auth = True
        else:
            self._pull_down_since = self._pull_down_since or self.clock()

    @property
    def down_since(self) -> dt.datetime | None:
        found = [at for at in (self._push_down_since, self._pull_down_since) if at is not None]
        return min(found) if found else None

    def line(self) -> SyncLine:
        status = self.status
        pending = status.pending if status else 0
        parked = status.parked if status else 0
        if self._push_auth or self._pull_auth or (status is not None and status.credentials is False):
            return SyncLine("auth", pending, parked)
        since = self.down_since
        if since is not None:
            minutes = int(max((self.clock() - since).total_seconds(), 0) // 60)
            return SyncLine("unreachable", pending, parked, minutes)
        if parked:
            return SyncLine("parked", pending, parked)
        if not self.reported:
            return SyncLine("starting", pending, parked)
        return SyncLine("pending" if pending else "up_to_date", pending, parked)


# -- what an entry is, in words --------------------------------------------------------------------------------------


def _local_time(iso: str | None, with_date: bool = False) -> str:
    if not iso:
        return "?"
    try:
        at = dt.datetime.fromisoformat(iso)
    except ValueError:
        return "?"
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone().strftime("%d/%m %H:%M" if with_date else "%H:%M")


def _payload(conn: sqlite3.Connection, row_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT payload FROM outbox WHERE id = ?", (row_id,)).fetchone()
    try:
        data = json.loads(row[0]) if row else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(conn: sqlite3.Connection, entry: ParkedEntry) -> str:
    """What a parked entry is, for a person: "le résumé de l'appel du 24/11 10:31", "un retrait de consentement
    (24/11 09:00)". Never the number: only the kind and the instant."""
    data = _payload(conn, entry.id)
    if entry.kind == "interaction":
        return QCoreApplication.translate("SyncView", "le résumé de l'appel du {time}").format(
            time=_local_time(data.get("started_at"), with_date=True)
        )
    if entry.kind == "consent_event":
        what = {
            "withdrawn": QCoreApplication.translate("SyncView", "un retrait de consentement"),
            "objection": QCoreApplication.translate("SyncView", "une opposition"),
            "given": QCoreApplication.translate("SyncView", "un consentement"),
        }.get(str(data.get("kind")), QCoreApplication.translate("SyncView", "un événement de consentement"))
        return f"{what} ({_local_time(data.get('occurred_at'), with_date=True)})"
    if entry.kind == "review":
        return QCoreApplication.translate("SyncView", "une revue d'appel")
    return entry.kind


def short_name(conn: sqlite3.Connection, entry: ParkedEntry) -> str:
    """A parked entry in two words, for the panel's one-line notice: "le résumé", "le retrait", "l'opposition"."""
    if entry.kind == "interaction":
        return QCoreApplication.translate("SyncView", "le résumé")
    if entry.kind == "consent_event":
        return {
            "withdrawn": QCoreApplication.translate("SyncView", "le retrait"),
            "objection": QCoreApplication.translate("SyncView", "l'opposition"),
            "given": QCoreApplication.translate("SyncView", "le consentement"),
        }.get(str(_payload(conn, entry.id).get("kind")), QCoreApplication.translate("SyncView", "l'événement"))
    if entry.kind == "review":
        return QCoreApplication.translate("SyncView", "la revue")
    return entry.kind


_PREFIXES = re.compile(r"^(?:(?:tryton|webhook|salesforce|hubspot|dynamics): )?(?:HTTP \d{3}[^:]*: )?")


def gist(message: str) -> str:
    """The CRM's own words of a message, without the connector's name and the HTTP status line that lead it
    ("tryton: HTTP 400 Bad Request: A value is required…" → "A value is required…"): the notice is narrow."""
    short = _PREFIXES.sub("", message, count=1)
    return short or message


def crm_message(entry: ParkedEntry) -> str:
    """The CRM's message on one line, numbers masked (a CRM may quote the value it refused)."""
    return redact(" ".join((entry.message or "").split())) or "?"


# -- the panel's notice ----------------------------------------------------------------------------------------------


class SyncNotice(QFrame):
    """One line on the panel when the CRM refuses an entry: what, and the CRM's message (elided; whole in the
    tooltip). Signals: ``view_requested`` ("Voir"), ``dismissed`` (the close button)."""

    view_requested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncNotice")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(
            "#SyncNotice { background: #FFF3E0; border: 1px solid #EF6C00; border-radius: 4px; }"
            " #SyncNotice QLabel { color: #4E2A00; background: transparent; }"
            " #SyncNotice QPushButton { padding: 1px 6px; }"
            " #SyncNotice QToolButton { border: none; padding: 0 4px; color: #4E2A00; }"
        )
        self.label = QLabel(self)
        self.label.setObjectName("SyncNoticeText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setMinimumWidth(40)
        self.view_button = QPushButton(self)
        self.view_button.clicked.connect(self.view_requested.emit)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.clicked.connect(self._on_close_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.view_button)
        layout.addWidget(self.close_button)
        self._text = ""
        self.retranslate()
        self.hide()

    def retranslate(self) -> None:
        self.view_button.setText(self.tr("Voir"))
        self.view_button.setToolTip(self.tr("Ouvrir la synchronisation ({shortcut})").format(shortcut=SYNC_SHORTCUT))
        self.close_button.setToolTip(self.tr("Masquer"))
        self.close_button.setAccessibleName(self.tr("Masquer"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_entry(self, what: str, message: str, *, details: str = "", more: int = 0) -> None:
        """Show "Le CRM refuse <what> : <message>" on one line (elided; whole in the tooltip, with
        ``details``); ``more``: other entries refused meanwhile, shown as "(+n)"."""
        if more > 0:
            what = f"{what} (+{more})"
        text = self.tr("Le CRM refuse {what} : {message}").format(what=what, message=message)
        self._text = text
        tip = "\n".join(part for part in (details, text) if part)
        self.label.setToolTip(tip)
        self.setAccessibleDescription(tip)
        self._elide()
        self.show()

    @property
    def text(self) -> str:
        """The whole line (the label may show it elided)."""
        return self._text

    def _elide(self) -> None:
        width = max(self.label.width(), 40)
        self.label.setText(self.label.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _on_close_clicked(self) -> None:
        self.hide()
        self.dismissed.emit()


# -- the view ----------------------------------------------------------------------------------------------------------


class SyncDialog(QDialog):
    """The parked entries with the CRM's message, and the sync's state; "Réessayer" puts the selected entries
    back in the queue (:func:`desktop.core.crm.worker.retry_parked`) and emits ``retried(count)`` so that the
    worker pushes at once.

    ``load_status`` reads the current :class:`SyncStatus`; ``conn`` is the GUI thread's store connection.
    """

    retried = Signal(int)

    def __init__(
        self,
        conn: sqlite3.Connection,
        load_status: Callable[[], SyncStatus],
        line: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SyncDialog")
        self.conn = conn
        self.load_status = load_status
        self.line = line
        self.status: SyncStatus | None = None
        self.state_label = QLabel(self)
        self.state_label.setObjectName("SyncState")
        self.state_label.setStyleSheet("font-weight: bold;")
        self.times_label = QLabel(self)
        self.times_label.setWordWrap(True)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.entries = QTreeWidget(self)
        self.entries.setObjectName("ParkedEntries")
        self.entries.setColumnCount(4)
        self.entries.setRootIsDecorated(False)
        self.entries.setUniformRowHeights(True)
        self.entries.setAlternatingRowColors(True)
        self.entries.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.entries.header().setStretchLastSection(True)
        self.entries.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.entries.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.entries.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.entries.itemSelectionChanged.connect(self._on_entries_selection_changed)
        self.empty_label = QLabel(self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: #2e7d32; padding: 16px;")
        self.message_label = QLabel(self)
        self.message_label.setObjectName("CrmMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setStyleSheet(
            "background: #FFFFFF; border: 1px solid #9AA1A9; border-radius: 3px; padding: 6px;"
        )
        self.message_label.setMinimumHeight(48)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.retry_button = QPushButton(self)
        self.retry_button.setDefault(True)
        self.retry_button.clicked.connect(self.retry_selected)
        self.retry_all_button = QPushButton(self)
        self.retry_all_button.clicked.connect(self.retry_all)
        self.refresh_button = QPushButton(self)
        self.refresh_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_button.clicked.connect(self.refresh)
        self.close_button = QPushButton(self)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.retry_all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.state_label)
        layout.addWidget(self.times_label)
        layout.addWidget(self.intro)
        layout.addWidget(self.entries, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)
        self.setTabOrder(self.entries, self.retry_button)
        self.setTabOrder(self.retry_button, self.retry_all_button)
        self.setTabOrder(self.retry_all_button, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.close_button)
        self.resize(720, 420)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Synchronisation avec le CRM"))
        self.intro.setText(
            self.tr(
                "Le CRM a refusé ces entrées : elles restent sur ce poste et ne sont pas renvoyées seules. "
                "Faites corriger la cause indiquée par le CRM, puis réessayez."
            )
        )
        self.entries.setHeaderLabels([self.tr("N°"), self.tr("Refusé"), self.tr("Depuis"), self.tr("Message du CRM")])
        self.entries.setAccessibleName(self.tr("Entrées refusées par le CRM"))
        self.empty_label.setText(self.tr("Aucune entrée refusée par le CRM."))
        self.retry_button.setText(self.tr("&Réessayer"))
        self.retry_button.setToolTip(self.tr("Renvoyer les entrées sélectionnées au CRM (Entrée)"))
        self.retry_all_button.setText(self.tr("&Tout réessayer"))
        self.refresh_button.setText(self.tr("&Actualiser"))
        self.close_button.setText(self.tr("Fermer"))
        if self.status is not None and self.isVisible():  # the rows' words too (a hidden view is redone when shown)
            self._show(self.status)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- content ------------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the sync state again (the worker may have sent, parked or retried entries meanwhile)."""
        self._show(self.load_status())

    def _show(self, status: SyncStatus) -> None:
        self.status = status
        selected = set(self.selected_ids())
        self.state_label.setText(self.line() if self.line is not None else "")
        never = self.tr("jamais")
        self.times_label.setText(
            self.tr("Dernier envoi : {push} · dernière réception des consentements : {pull}").format(
                push=_local_time(status.last_push, with_date=True) if status.last_push else never,
                pull=_local_time(status.last_pull, with_date=True) if status.last_pull else never,
            )
        )
        self.entries.clear()
        for entry in status.parked_entries:
            message = crm_message(entry)
            item = QTreeWidgetItem(
                [str(entry.id), describe(self.conn, entry), _local_time(entry.queued_at, True), message]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(3, message)
            self.entries.addTopLevelItem(item)
            item.setSelected(entry.id in selected)
        if status.parked > len(status.parked_entries):
            more = QTreeWidgetItem(
                ["", self.tr("… et {n} autre(s)").format(n=status.parked - len(status.parked_entries)), "", ""]
            )
            more.setFlags(Qt.ItemFlag.NoItemFlags)
            self.entries.addTopLevelItem(more)
        has_entries = bool(status.parked_entries)
        self.entries.setVisible(has_entries)
        self.message_label.setVisible(has_entries)
        self.intro.setVisible(has_entries)
        self.empty_label.setVisible(not has_entries)
        self.retry_all_button.setEnabled(status.parked > 0)
        if has_entries:
            self.entries.setColumnWidth(1, self.entries.sizeHintForColumn(1) + 18)  # air before "Depuis"
            if not self.selected_ids():
                first = self.entries.topLevelItem(0)
                if first is not None:
                    self.entries.setCurrentItem(first)
                    first.setSelected(True)
        self._on_entries_selection_changed()

    def selected_ids(self) -> list[int]:
        ids = []
        for item in self.entries.selectedItems():
            value = item.data(0, Qt.ItemDataRole.UserRole)
            if isinstance(value, int):
                ids.append(value)
        return ids

    def _on_entries_selection_changed(self) -> None:
        ids = self.selected_ids()
        self.retry_button.setEnabled(bool(ids))
        status = self.status
        if not ids or status is None:
            self.message_label.setText("")
            return
        entry = next((e for e in status.parked_entries if e.id == ids[0]), None)
        self.message_label.setText(
            self.tr("Message du CRM : {message}").format(message=crm_message(entry)) if entry else ""
        )

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        (self.entries if self.entries.isVisible() else self.close_button).setFocus()

    # -- intents ------------------------------------------------------------------------------------------------------

    def retry_selected(self) -> int:
        """Put the selected entries back in the queue; returns how many were (one already retried is skipped)."""
        count = 0
        for row_id in self.selected_ids():
            try:
                count += retry_parked(self.conn, row_id)
            except (NotFoundError, InputError) as error:  # sent or retried meanwhile (the CLI, another window)
                log.info("sync: %s", error)
        self._after_retry(count)
        return count

    def retry_all(self) -> int:
        """Put every parked entry back in the queue; returns how many."""
        count = retry_parked(self.conn, None)
        self._after_retry(count)
        return count

    def _after_retry(self, count: int) -> None:
        log.info("sync: %d parked entr(y/ies) put back in the queue by the user", count)
        if count:
            self.retried.emit(count)
        self.refresh()


# -- wiring --------------------------------------------------------------------------------------------------------


class SyncView:
    """The tray's sync line, the panel's notice and the sync view, wired to one SyncService (or to none, when the
    sync could not start: the tray then says so)."""

    def __init__(
        self,
        window: MainWindow,
        tray: StatusTray,
        sync: SyncService | None,
        conn: sqlite3.Connection,
        crm: Crm,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        log_stage: Callable[..., None] | None = None,
    ) -> None:
        self.window = window
        self.tray = tray
        self.sync = sync
        self.conn = conn
        self.crm = crm
        self.log_stage = log_stage
        self.health = SyncHealth(clock)
        self.dialog: SyncDialog | None = None
        self._line: SyncLine | None = None
        self._unseen = 0  # entries refused since the agent last looked (the notice says "et n autre(s)")
        self.notice = SyncNotice(window.panel)
        layout = window.panel.layout()
        assert layout is not None
        layout.addWidget(self.notice)
        self.notice.view_requested.connect(self.show_dialog)
        self.notice.dismissed.connect(self._on_notice_dismissed)
        self.action = QAction(QCoreApplication.translate("SyncView", "Synchronisation"), window)
        self.action.setShortcut(QKeySequence(SYNC_SHORTCUT))
        self.action.triggered.connect(self.show_dialog)
        toolbar = window.findChild(QToolBar)
        if toolbar is not None:
            toolbar.addAction(self.action)
        else:
            window.addAction(self.action)
        self.timer = QTimer(window)
        self.timer.setInterval(DOWN_REFRESH_MS)
        self.timer.timeout.connect(self._update_tray)
        tray.sync_requested.connect(self.show_dialog)
        if sync is None:
            tray.set_sync("off")
            self.action.setEnabled(True)
            return
        self.health.seed(self.load_status())
        sync.status_changed.connect(self._on_sync_status_changed)
        sync.entry_parked.connect(self._on_sync_entry_parked)
        sync.sync_failed.connect(self._on_sync_failed)
        if log_stage is not None:
            sync.consents_pulled.connect(lambda count: log_stage("consents_pulled", count=count))
        self._update_tray()

    def load_status(self) -> SyncStatus:
        credentials = self.sync.credentials if self.sync is not None else None
        return sync_status(self.conn, self.crm, now=utc_now(), credentials=credentials)

    def show_dialog(self) -> SyncDialog:
        """Open (or raise) the sync view."""
        if self.dialog is None:
            self.dialog = SyncDialog(self.conn, self.load_status, self.tray.sync_text, parent=self.window)
            self.dialog.setWindowModality(Qt.WindowModality.NonModal)
            if self.sync is not None:
                self.dialog.retried.connect(self._on_dialog_retried)
        else:
            self.dialog.refresh()
        self._unseen = 0
        self.notice.hide()
        self.dialog.show()
        if QGuiApplication.platformName() != "offscreen":  # no stacking there (and Qt warns about it)
            self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def _update_tray(self) -> None:
        line = self.health.line()
        self.tray.set_sync(line.state, pending=line.pending, parked=line.parked, down_minutes=line.down_minutes)
        if line.state == "unreachable":
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()
        if self.log_stage is not None and (self._line is None or self._line.state != line.state):
            self.log_stage("sync_state", state=line.state, pending=line.pending, parked=line.parked)
        self._line = line
        if line.parked == 0:
            self._unseen = 0
            self.notice.hide()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.refresh()

    def _on_sync_status_changed(self, status: SyncStatus) -> None:
        self.health.on_status(status)
        self._update_tray()

    def _on_sync_failed(self, message: str) -> None:
        self.health.on_failure(message)
        self._update_tray()

    def _on_sync_entry_parked(self, entry: ParkedEntry) -> None:
        self._unseen += 1
        self.notice.show_entry(
            short_name(self.conn, entry),
            gist(crm_message(entry)),
            details=describe(self.conn, entry),
            more=self._unseen - 1,
        )

    def _on_notice_dismissed(self) -> None:
        self._unseen = 0

    def _on_dialog_retried(self, _count: int) -> None:
        if self.sync is not None:
            self.sync.wake()


def show_sync(
    window: MainWindow,
    sync: SyncService | None,
    conn: sqlite3.Connection,
    crm: Crm,
    log_stage: Callable[..., None] | None = None,
) -> SyncView | None:
    """Show the CRM sync in the app: nothing when no CRM is configured; else the tray's line, the panel's notice
    and the sync view (the tray says "synchronisation arrêtée" when ``sync`` is None: it could not start)."""
    if crm.connector == "none" or window.tray is None:
        return None
    return SyncView(window, window.tray, sync, conn, crm, log_stage=log_stage)
