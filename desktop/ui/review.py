"""The team-lead review: the team's calls, from this station's store and from the CRM, filtered by date, agent,
disposition, verdict, withdrawal and review state; the transcript and the summary (verdict, reason, consent
events) of the selected call side by side; approve or flag it with a comment (stored here first, then carried
to the CRM by the outbox); the alerts (withdrawals and objections during calls, commercial calls dialled
against a forbidden verdict), newest first; export to CSV.

Everything comes through a :class:`~desktop.services.review_source.ReviewSource`: the store on the GUI thread,
the CRM in its worker. Without a CRM the window works on local data and says so. Numbers are shown masked.

Keyboard: Alt+M goes to the comment, Alt+A approves, Alt+S flags (after a confirmation), Ctrl+F5 re-reads the
CRM; in the alerts, Entrée opens the call.
"""

from __future__ import annotations

import datetime as dt
import getpass
import html
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDate,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assist.summary import DISPOSITIONS
from desktop.core.consent.phone import mask
from desktop.core.errors import InputError
from desktop.core.store.interactions import VERDICTS, export_csv
from desktop.core.store.reviews import COMMENT_MAX, REVIEW_STATES, Alert, Review
from desktop.services.review_source import RemoteStatus, ReviewRow, ReviewSource
from desktop.ui.words import Words

log = logging.getLogger("agent_assist.ui.review")
AnyIndex = QModelIndex | QPersistentModelIndex
VERDICT_COLOURS = {"allowed": "#0B6B2E", "contract_only": "#8A6500", "forbidden": "#B3001B"}
REVIEW_COLOURS = {"approved": "#0B6B2E", "flagged": "#B3001B", "pending": "#555555"}
ALERT_COLOURS = {"withdrawal": "#8A4B00", "objection": "#8A4B00", "dialled_against_forbidden": "#B3001B"}


def _local(text: str | None, *, station_time: bool = True) -> str:
    """``24/11/2026 10:30``. Call instants keep the offset they were stamped with (the station's);
    ``station_time=False`` is for UTC bookkeeping stamps, shown in this computer's time zone."""
    if not text:
        return "—"
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if not station_time and instant.tzinfo is not None:
        instant = instant.astimezone()
    return instant.strftime("%d/%m/%Y %H:%M")


def _day(text: object) -> str:
    try:
        return dt.date.fromisoformat(str(text)).strftime("%d/%m/%Y")
    except ValueError:
        return str(text)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"


class ReviewWords:
    """The words of the review: review states, sources, alert kinds, sync states (context ``ReviewWords``)."""

    @staticmethod
    def tr(text: str) -> str:
        return QCoreApplication.translate("ReviewWords", text)

    def review_state(self, code: str | None) -> str:
        return {
            "pending": self.tr("À revoir"),
            "approved": self.tr("Approuvé"),
            "flagged": self.tr("Signalé"),
        }.get(code or "", "—")

    def source(self, source: str, station: str | None) -> str:
        if source == "local":
            return self.tr("Ce poste")
        if source == "both":
            return self.tr("Ce poste + CRM")
        return self.tr("CRM · {station}").format(station=station) if station else self.tr("CRM")

    def alert(self, kind: str) -> str:
        return {
            "withdrawal": self.tr("Retrait du consentement"),
            "objection": self.tr("Opposition"),
            "dialled_against_forbidden": self.tr("Appel commercial malgré INTERDIT"),
        }.get(kind, kind)

    def sync(self, review: Review | None) -> str:
        if review is None:
            return ""
        if review.sync == "sent":
            return self.tr("envoyée au CRM")
        if review.sync == "parked":
            return self.tr("refusée par le CRM : {message}").format(message=review.sync_error or "?")
        return self.tr("en attente d'envoi au CRM")


class InteractionTableModel(QAbstractTableModel):
    """The calls of the list, one per row; ``Qt.UserRole`` gives the :class:`ReviewRow` (number as stored)."""

    COLUMNS = (
        "started_at",
        "duration_s",
        "agent_id",
        "number",
        "direction",
        "verdict",
        "disposition",
        "withdrawal",
        "state",
        "review_state",
        "source",
    )
    ROW_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ReviewRow] = []
        self.words = Words()
        self.review_words = ReviewWords()

    def set_rows(self, rows: list[ReviewRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if not 0 <= section < len(self.COLUMNS):
            return None
        return {
            "started_at": self.tr("Date"),
            "duration_s": self.tr("Durée"),
            "agent_id": self.tr("Agent"),
            "number": self.tr("Numéro"),
            "direction": self.tr("Sens"),
            "verdict": self.tr("Verdict"),
            "disposition": self.tr("Issue"),
            "withdrawal": self.tr("Retrait"),
            "state": self.tr("État"),
            "review_state": self.tr("Revue"),
            "source": self.tr("Source"),
        }[self.COLUMNS[section]]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == "verdict" and row.verdict in VERDICT_COLOURS:
                return QColor(VERDICT_COLOURS[row.verdict])
            if column == "review_state":
                return QColor(REVIEW_COLOURS[row.review_state])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("withdrawal", "direction", "duration_s"):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _tooltip(self, row: ReviewRow, column: str) -> str | None:
        if column == "verdict":
            return row.reason_code
        if column == "source":
            return row.station
        if column == "review_state" and (row.review_comment or row.review):
            parts = [f"« {row.review_comment} »"] if row.review_comment else []
            if row.review is not None:
                parts.append(
                    self.tr("{reviewer}, {sync}").format(
                        reviewer=row.review.reviewer, sync=self.review_words.sync(row.review)
                    )
                )
            return "\n".join(parts)
        return None

    def _display(self, row: ReviewRow, column: str) -> str:
        words = self.words
        if column == "started_at":
            return _local(row.started_at)
        if column == "duration_s":
            return _duration(row.duration_s)
        if column == "agent_id":
            return row.agent_id or "—"
        if column == "number":
            return mask(row.number) if row.number else "—"
        if column == "direction":
            return words.direction(row.direction)
        if column == "verdict":
            return words.verdict(row.verdict)
        if column == "disposition":
            return words.disposition(row.disposition)
        if column == "withdrawal":
            return self.tr("Oui") if row.withdrawal else ""
        if column == "review_state":
            return self.review_words.review_state(row.review_state)
        if column == "source":
            return self.review_words.source(row.source, row.station)
        return words.state(row.state)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        name = self.COLUMNS[column]

        def key(row: ReviewRow) -> tuple[int, str]:
            value = getattr(row, name)
            if name == "started_at" and value:
                return (0, str(dt.datetime.fromisoformat(value).timestamp()).zfill(24))
            return (1, "") if value is None else (0, str(value))

        self.layoutAboutToBeChanged.emit()
        old = list(self.rows)
        self.rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        moved = {id(row): position for position, row in enumerate(self.rows)}
        for persistent in self.persistentIndexList():
            row = old[persistent.row()]
            self.changePersistentIndex(persistent, self.index(moved[id(row)], persistent.column()))
        self.layoutChanged.emit()


class AlertTableModel(QAbstractTableModel):
    """The alerts, newest first; ``Qt.UserRole`` gives the :class:`~desktop.core.store.reviews.Alert`."""

    COLUMNS = ("at", "kind", "agent_id", "number", "source", "detail")
    ALERT_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.alerts: list[Alert] = []
        self.review_words = ReviewWords()

    def set_alerts(self, alerts: list[Alert]) -> None:
        self.beginResetModel()
        self.alerts = list(alerts)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.alerts)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if not 0 <= section < len(self.COLUMNS):
            return None
        return {
            "at": self.tr("Date"),
            "kind": self.tr("Alerte"),
            "agent_id": self.tr("Agent"),
            "number": self.tr("Numéro"),
            "source": self.tr("Source"),
            "detail": self.tr("Détail"),
        }[self.COLUMNS[section]]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.alerts):
            return None
        alert = self.alerts[index.row()]
        column = self.COLUMNS[index.column()]
        if role == self.ALERT_ROLE:
            return alert
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(alert, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == "kind":
            return QColor(ALERT_COLOURS.get(alert.kind, "#333333"))
        if role == Qt.ItemDataRole.ToolTipRole and column == "source":
            return alert.station
        return None

    def _display(self, alert: Alert, column: str) -> str:
        if column == "at":
            return alert.at.strftime("%d/%m/%Y %H:%M")
        if column == "kind":
            return self.review_words.alert(alert.kind)
        if column == "agent_id":
            return alert.agent_id or "—"
        if column == "number":
            return mask(alert.number) if alert.number else "—"
        if column == "source":
            return self.review_words.source("crm" if alert.source == "crm" else "local", alert.station)
        if alert.kind != "dialled_against_forbidden":
            return ""
        parts = [alert.reason_code or ""]
        if alert.answered is False:
            parts.append(self.tr("non décroché"))
        return " · ".join(part for part in parts if part)


class ReviewWindow(QWidget):
    """The team lead's review of the team's calls (this station's, and the CRM's when one is configured).

    Signals: ``interaction_selected(id)`` when a call stored here is shown in the detail panes;
    ``call_selected(uid)`` for any call shown; ``review_recorded(review)`` after an approval or a flag;
    ``exported(path, count)`` after a CSV export. Set :attr:`choose_export_path` to replace the file dialog and
    :attr:`confirm_flag` to replace the flag confirmation (tests).
    """

    interaction_selected = Signal(int)
    call_selected = Signal(str)
    review_recorded = Signal(object)
    exported = Signal(str, int)

    def __init__(
        self,
        conn: sqlite3.Connection,
        parent: QWidget | None = None,
        *,
        source: ReviewSource | None = None,
        reviewer: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ReviewWindow")
        self.setWindowFlag(Qt.WindowType.Window)
        self.conn = conn
        self.source = source if source is not None else ReviewSource(conn, parent=self)
        if self.source.parent() is None:
            self.source.setParent(self)  # lives as long as the window; the app closes it at quit
        self.reviewer = reviewer or _login()
        self.words = Words()
        self.review_words = ReviewWords()
        self.choose_export_path: Callable[[], str | None] = self._ask_export_path
        self.confirm_flag: Callable[[ReviewRow, str], bool] = self._ask_flag_confirmation
        self.detail: dict[str, Any] | None = None
        self.detail_row: ReviewRow | None = None

        # Where the calls come from.
        self.source_label = QLabel(self)
        self.source_label.setObjectName("ReviewSourceLabel")
        self.source_label.setWordWrap(True)

        # Filters.
        self.from_check = QCheckBox(self)
        self.from_date = QDateEdit(self)
        self.to_check = QCheckBox(self)
        self.to_date = QDateEdit(self)
        today = QDate.currentDate()
        for check, edit, value in (
            (self.from_check, self.from_date, today.addDays(-7)),
            (self.to_check, self.to_date, today),
        ):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setDate(value)
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
        self.from_check.toggled.connect(self.refresh)  # the CRM is asked from that day
        self.from_date.dateChanged.connect(self.refresh)
        self.to_check.toggled.connect(self.reload)
        self.to_date.dateChanged.connect(self.reload)
        self.agent_combo = QComboBox(self)
        self.disposition_combo = QComboBox(self)
        self.verdict_combo = QComboBox(self)
        self.withdrawal_combo = QComboBox(self)
        self.review_combo = QComboBox(self)
        self.agent_combo.addItem("", None)
        self.disposition_combo.addItem("", None)
        for code in DISPOSITIONS:
            self.disposition_combo.addItem(code, code)
        self.verdict_combo.addItem("", None)
        for code in VERDICTS:
            self.verdict_combo.addItem(code, code)
        self.withdrawal_combo.addItem("", None)
        self.withdrawal_combo.addItem("", True)
        self.withdrawal_combo.addItem("", False)
        self.review_combo.addItem("", None)
        for code in REVIEW_STATES:
            self.review_combo.addItem(code, code)
        combos = {
            "agent": self.agent_combo,
            "disposition": self.disposition_combo,
            "verdict": self.verdict_combo,
            "withdrawal": self.withdrawal_combo,
            "review": self.review_combo,
        }
        self.filter_labels = {name: QLabel(self) for name in combos}
        for name, combo in combos.items():
            combo.currentIndexChanged.connect(self.reload)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            self.filter_labels[name].setBuddy(combo)
        self.refresh_button = QPushButton(self)
        self.refresh_button.setObjectName("RefreshButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(self)
        self.export_button.setObjectName("ExportButton")
        self.export_button.clicked.connect(self.export)

        # Two rows: the window stays usable at 1000 px with every filter visible.
        dates = QHBoxLayout()
        dates.setSpacing(6)
        for widget in (self.from_check, self.from_date, self.to_check, self.to_date):
            dates.addWidget(widget)
        for name in ("agent", "disposition"):
            dates.addSpacing(8)
            dates.addWidget(self.filter_labels[name])
            dates.addWidget(combos[name])
        dates.addStretch(1)
        dates.addWidget(self.refresh_button)
        kinds = QHBoxLayout()
        kinds.setSpacing(6)
        for position, name in enumerate(("verdict", "withdrawal", "review")):
            if position:
                kinds.addSpacing(8)
            kinds.addWidget(self.filter_labels[name])
            kinds.addWidget(combos[name])
        kinds.addStretch(1)
        kinds.addWidget(self.export_button)

        # The list.
        self.model = InteractionTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("ReviewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)  # newest first, as the query returns them; a header click re-sorts
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.count_label = QLabel(self)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("ReviewStatus")
        self.status_label.setWordWrap(True)

        # Details: transcript | summary and the review.
        self.transcript_title = QLabel(self)
        self.transcript_view = QTextBrowser(self)
        self.transcript_view.setObjectName("ReviewTranscript")
        self.summary_title = QLabel(self)
        self.summary_view = QTextBrowser(self)
        self.summary_view.setObjectName("ReviewSummary")
        for title in (self.transcript_title, self.summary_title, self.count_label):
            title.setStyleSheet("font-weight: bold;")
        self.review_box = self._build_review_box()
        details = QSplitter(Qt.Orientation.Horizontal, self)
        details.setChildrenCollapsible(False)
        for title, view, extra in (
            (self.transcript_title, self.transcript_view, None),
            (self.summary_title, self.summary_view, self.review_box),
        ):
            pane = QWidget(details)
            pane_layout = QVBoxLayout(pane)
            pane_layout.setContentsMargins(0, 0, 0, 0)
            pane_layout.addWidget(title)
            pane_layout.addWidget(view, 1)
            if extra is not None:
                pane_layout.addWidget(extra)
            details.addWidget(pane)
        list_pane = QWidget(self)
        list_layout = QVBoxLayout(list_pane)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.count_label)
        list_layout.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(list_pane)
        self.splitter.addWidget(details)
        # Half and half: the list shows a screenful of calls, the detail keeps room for the review box.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)

        # Alerts.
        self.alert_model = AlertTableModel(self)
        self.alert_table = QTableView(self)
        self.alert_table.setObjectName("AlertTable")
        self.alert_table.setModel(self.alert_model)
        self.alert_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.alert_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.alert_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.alert_table.setAlternatingRowColors(True)
        self.alert_table.verticalHeader().hide()
        alert_header = self.alert_table.horizontalHeader()
        alert_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        alert_header.setStretchLastSection(True)
        self.alert_table.activated.connect(self._on_alert_table_activated)
        self.alerts_hint = QLabel(self)
        self.alerts_hint.setWordWrap(True)
        alerts_page = QWidget(self)
        alerts_layout = QVBoxLayout(alerts_page)
        alerts_layout.setContentsMargins(0, 4, 0, 0)
        alerts_layout.addWidget(self.alerts_hint)
        alerts_layout.addWidget(self.alert_table, 1)

        calls_page = QWidget(self)
        calls_layout = QVBoxLayout(calls_page)
        calls_layout.setContentsMargins(0, 4, 0, 0)
        calls_layout.addLayout(dates)
        calls_layout.addLayout(kinds)
        calls_layout.addWidget(self.splitter, 1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("ReviewTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(calls_page, "")
        self.tabs.addTab(alerts_page, "")

        layout = QVBoxLayout(self)
        layout.addWidget(self.source_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        self.refetch_shortcut = QShortcut(QKeySequence("Ctrl+F5"), self, self.refresh)

        self.source.interactions_loaded.connect(self._on_source_interactions_loaded)
        self.source.load_failed.connect(self._on_source_load_failed)
        self.resize(1100, 720)
        self.retranslate()
        self.refresh()

    def _build_review_box(self) -> QFrame:
        box = QFrame(self)
        box.setObjectName("ReviewBox")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        self.review_title = QLabel(box)
        self.review_title.setStyleSheet("font-weight: bold;")
        self.review_state_label = QLabel(box)
        self.review_state_label.setObjectName("ReviewStateLabel")
        self.review_state_label.setWordWrap(True)
        self.review_state_label.setTextFormat(Qt.TextFormat.RichText)
        self.comment_label = QLabel(box)
        self.comment_edit = QLineEdit(box)
        self.comment_edit.setObjectName("ReviewComment")
        self.comment_edit.setMaxLength(COMMENT_MAX)
        self.comment_edit.setClearButtonEnabled(True)
        self.comment_label.setBuddy(self.comment_edit)
        self.approve_button = QPushButton(box)
        self.approve_button.setObjectName("ApproveButton")
        self.approve_button.clicked.connect(self.approve)
        self.flag_button = QPushButton(box)
        self.flag_button.setObjectName("FlagButton")
        self.flag_button.clicked.connect(self.flag)
        comment_row = QHBoxLayout()
        comment_row.addWidget(self.comment_label)
        comment_row.addWidget(self.comment_edit, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.flag_button)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.review_title)
        layout.addWidget(self.review_state_label)
        layout.addLayout(comment_row)
        layout.addLayout(buttons)
        return box

    # -- texts -------------------------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Agent Assist : revue des appels"))
        self.from_check.setText(self.tr("Du"))
        self.to_check.setText(self.tr("au"))
        self.filter_labels["agent"].setText(self.tr("A&gent"))
        self.filter_labels["disposition"].setText(self.tr("&Issue"))
        self.filter_labels["verdict"].setText(self.tr("&Verdict"))
        self.filter_labels["withdrawal"].setText(self.tr("&Retrait"))
        self.filter_labels["review"].setText(self.tr("Rev&ue"))
        self.agent_combo.setItemText(0, self.tr("Tous"))
        self.disposition_combo.setItemText(0, self.tr("Toutes"))
        for index, code in enumerate(DISPOSITIONS, start=1):
            self.disposition_combo.setItemText(index, self.words.disposition(code))
        self.verdict_combo.setItemText(0, self.tr("Tous"))
        for index, code in enumerate(VERDICTS, start=1):
            self.verdict_combo.setItemText(index, self.words.verdict(code))
        self.withdrawal_combo.setItemText(0, self.tr("Tous"))
        self.withdrawal_combo.setItemText(1, self.tr("Oui"))
        self.withdrawal_combo.setItemText(2, self.tr("Non"))
        self.review_combo.setItemText(0, self.tr("Toutes"))
        for index, code in enumerate(REVIEW_STATES, start=1):
            self.review_combo.setItemText(index, self.review_words.review_state(code))
        self.refresh_button.setText(self.tr("Actualiser"))
        self.refresh_button.setToolTip(self.tr("Relire ce poste et le CRM (Ctrl+F5)"))
        self.export_button.setText(self.tr("Exporter en CSV"))
        self.transcript_title.setText(self.tr("Transcription"))
        self.summary_title.setText(self.tr("Résumé"))
        self.review_title.setText(self.tr("Revue du chef d'équipe"))
        self.comment_label.setText(self.tr("Co&mmentaire"))
        self.comment_edit.setPlaceholderText(self.tr("Obligatoire pour signaler : ce qui ne va pas"))
        self.approve_button.setText(self.tr("&Approuver"))
        self.approve_button.setToolTip(self.tr("Approuver cet appel (Alt+A)"))
        self.flag_button.setText(self.tr("&Signaler…"))
        self.flag_button.setToolTip(self.tr("Signaler cet appel à l'agent, avec le commentaire (Alt+S)"))
        self.alerts_hint.setText(
            self.tr(
                "Retraits et oppositions pendant les appels, appels commerciaux passés malgré un verdict INTERDIT ;"
                " les plus récents d'abord. Entrée ou double-clic : ouvrir l'appel."
            )
        )
        self.tabs.setTabText(0, self.tr("Appels"))
        self._render_alerts_tab()
        self._render_source()
        self._render_count()
        self._render_detail()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    # -- loading -----------------------------------------------------------------------------------------------

    def reload_agents(self) -> None:
        """Fill the agent filter with the agents of the listed sources (keeps the current choice)."""
        current = self.agent_combo.currentData()
        agents = self.source.agents()
        self.agent_combo.blockSignals(True)
        while self.agent_combo.count() > 1:
            self.agent_combo.removeItem(1)
        for agent in agents:
            self.agent_combo.addItem(agent, agent)
        self.agent_combo.setCurrentIndex(max(self.agent_combo.findData(current), 0) if current else 0)
        self.agent_combo.blockSignals(False)

    def filters(self) -> dict[str, Any]:
        """The filters as :meth:`ReviewSource.rows` takes them."""
        return {
            "date_from": self.from_date.date().toPython() if self.from_check.isChecked() else None,
            "date_to": self.to_date.date().toPython() if self.to_check.isChecked() else None,
            "agent": self.agent_combo.currentData(),
            "disposition": self.disposition_combo.currentData(),
            "verdict": self.verdict_combo.currentData(),
            "withdrawal": self.withdrawal_combo.currentData(),
            "review_state": self.review_combo.currentData(),
        }

    def refresh(self) -> None:
        """Read this station's calls again and ask the CRM for the team's (its answer comes later)."""
        self.reload()
        if self.source.fetch(self.filters()):
            self._render_source()

    def reload(self) -> None:
        """Apply the current filters to this station's calls and the last CRM listing, keeping the selected call
        when it is still listed."""
        self.reload_agents()
        try:
            rows = self.source.rows(self.filters())
        except (InputError, sqlite3.Error) as error:
            log.error("review list failed: %s", error)
            self.status_label.setText(self.tr("Impossible de lire les appels : {error}").format(error=error))
            return
        self._show_rows(rows)

    def _show_rows(self, rows: list[ReviewRow]) -> None:
        selected = self.selected_row()
        self.model.set_rows(rows)
        header = self.table.horizontalHeader()
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._render_count()
        self.alert_model.set_alerts(self.source.alerts())
        self._render_alerts_tab()
        if selected is not None and self.select_call(selected.uid):
            return
        self.detail, self.detail_row = None, None
        self._render_detail()

    def select_call(self, uid: str) -> bool:
        """Show the call ``uid`` if it is listed; False if the filters hide it."""
        for position, row in enumerate(self.model.rows):
            if row.uid == uid:
                self.table.selectRow(position)
                self._show_detail(row)  # the same row again: the detail may have changed (a review, the CRM)
                return True
        return False

    def selected_row(self) -> ReviewRow | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        row = self.model.data(index, InteractionTableModel.ROW_ROLE)
        return row if isinstance(row, ReviewRow) else None

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.data(current, InteractionTableModel.ROW_ROLE) if current.isValid() else None
        if not isinstance(row, ReviewRow):
            self.detail, self.detail_row = None, None
            self._render_detail()
            return
        self._show_detail(row)
        if row.id is not None:
            self.interaction_selected.emit(row.id)
        self.call_selected.emit(row.uid)

    def _show_detail(self, row: ReviewRow) -> None:
        if self.detail_row is None or self.detail_row.uid != row.uid:
            self.comment_edit.clear()
        self.detail_row = row
        self.detail = self.source.detail(row)
        self._render_detail()

    def _on_source_interactions_loaded(self, rows: list[ReviewRow]) -> None:
        self.reload_agents()
        self._show_rows(rows)
        self._render_source()

    def _on_source_load_failed(self, message: str) -> None:
        self._render_source()
        self.status_label.setText(
            self.tr("CRM injoignable : {message}. Les appels de ce poste restent affichés.").format(message=message)
        )

    def _on_alert_table_activated(self, index: QModelIndex) -> None:
        alert = self.alert_model.data(index, AlertTableModel.ALERT_ROLE)
        if not isinstance(alert, Alert):
            return
        if not self.select_call(alert.interaction_uid):
            self.clear_filters()
            if not self.select_call(alert.interaction_uid):
                self.status_label.setText(self.tr("Cet appel n'est plus dans la liste."))
                return
        self.tabs.setCurrentIndex(0)
        self.table.setFocus()

    def clear_filters(self) -> None:
        """Every call of every day, agent and state (then listed again)."""
        widgets = (self.from_check, self.to_check, *self._combos())
        for widget in widgets:
            widget.blockSignals(True)
        self.from_check.setChecked(False)
        self.to_check.setChecked(False)
        self.from_date.setEnabled(False)
        self.to_date.setEnabled(False)
        for combo in self._combos():
            combo.setCurrentIndex(0)
        for widget in widgets:
            widget.blockSignals(False)
        self.reload()

    def _combos(self) -> tuple[QComboBox, ...]:
        return (self.agent_combo, self.disposition_combo, self.verdict_combo, self.withdrawal_combo, self.review_combo)

    # -- review ------------------------------------------------------------------------------------------------

    def approve(self) -> Review | None:
        """Approve the selected call with the comment (optional)."""
        return self._review("approved")

    def flag(self) -> Review | None:
        """Flag the selected call: a comment is required, then a confirmation."""
        row = self.detail_row
        comment = self.comment_edit.text().strip()
        if row is not None and not comment:
            self.status_label.setText(self.tr("Pour signaler un appel, dites en commentaire ce qui ne va pas."))
            self.comment_edit.setFocus()
            return None
        if row is None or not self.confirm_flag(row, comment):
            return None
        return self._review("flagged")

    def _review(self, state: str) -> Review | None:
        row = self.detail_row
        if row is None:
            self.status_label.setText(self.tr("Sélectionnez un appel dans la liste."))
            return None
        try:
            review = self.source.record(row.uid, state, self.comment_edit.text(), self.reviewer)
        except (InputError, sqlite3.Error) as error:
            log.error("review not recorded: %s", error)
            self.status_label.setText(self.tr("Revue non enregistrée : {error}").format(error=error))
            return None
        self.comment_edit.clear()
        self.status_label.setText(
            self.tr("{state} : enregistré sur ce poste, envoyé au CRM par la synchronisation.").format(
                state=self.review_words.review_state(review.state)
            )
            if self.source.crm_name
            else self.tr("{state} : enregistré sur ce poste (aucun CRM configuré).").format(
                state=self.review_words.review_state(review.state)
            )
        )
        self.reload()
        self.review_recorded.emit(review)
        return review

    def _ask_flag_confirmation(self, row: ReviewRow, comment: str) -> bool:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Signaler l'appel"))
        box.setText(
            self.tr("Signaler l'appel du {when} (agent {agent}) ?").format(
                when=_local(row.started_at), agent=row.agent_id or "—"
            )
        )
        box.setInformativeText(self.tr("Commentaire : « {comment} »").format(comment=comment))
        accept = box.addButton(self.tr("Signaler"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Annuler"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(accept)
        box.exec()
        return box.clickedButton() is accept

    # -- rendering ---------------------------------------------------------------------------------------------

    def _render_source(self) -> None:
        status: RemoteStatus = self.source.status
        station = self.source.station
        here = self.tr("ce poste ({station})").format(station=station) if station else self.tr("ce poste")
        if status.state == "unavailable":
            text = self.tr("Source : {here} seulement. Le CRM {crm} n'est pas utilisable : {message}")
        elif status.state == "none":
            text = self.tr(
                "Source : {here} seulement. Aucun CRM configuré : les appels des autres postes ne sont pas listés."
            )
        elif status.state == "loading":
            text = self.tr("Source : {here} et le CRM {crm} (lecture en cours…)")
        elif status.state == "ok":
            text = self.tr("Source : {here} et le CRM {crm} ({count} appel(s) lus à {when})")
        else:
            text = self.tr("Source : {here} ; le CRM {crm} n'a pas répondu ({when}).")
        when = status.at.astimezone().strftime("%H:%M") if status.at else ""
        self.source_label.setText(
            text.format(here=here, crm=status.crm or "", count=status.count, when=when, message=status.message or "")
        )
        self.source_label.setProperty("state", status.state)

    def _render_alerts_tab(self) -> None:
        count = len(self.alert_model.alerts)
        self.tabs.setTabText(1, self.tr("Alertes ({count})").format(count=count))
        if count:
            self.tabs.tabBar().setTabTextColor(1, QColor("#B3001B"))
        else:
            self.tabs.tabBar().setTabTextColor(1, self.tabs.tabBar().tabTextColor(0))

    def _render_count(self) -> None:
        rows = self.model.rows
        count = len(rows)
        text = self.tr("{count} appel(s)").format(count=count)
        remote = sum(1 for row in rows if row.source == "crm")
        if remote:
            text += self.tr(" dont {remote} d'autres postes (CRM)").format(remote=remote)
        self.count_label.setText(text)

    def _render_detail(self) -> None:
        enabled = self.detail is not None
        for widget in (self.comment_edit, self.approve_button, self.flag_button):
            widget.setEnabled(enabled)
        if self.detail is None:
            hint = html.escape(self.tr("Sélectionnez un appel dans la liste."))
            self.transcript_view.setHtml(f"<p style='color:#555'>{hint}</p>")
            self.summary_view.setHtml("")
            self.review_state_label.setText("")
            return
        self.transcript_view.setHtml(self.transcript_html(self.detail))
        self.summary_view.setHtml(self.summary_html(self.detail))
        self.review_state_label.setText(self.review_html(self.detail))

    def transcript_html(self, detail: dict[str, Any]) -> str:
        segments = detail["segments"]
        if not segments:
            return f"<p style='color:#555'>{html.escape(self.tr('Aucune transcription pour cet appel.'))}</p>"
        lines = []
        for segment in segments:
            customer = segment["speaker"] == "customer"
            colour = "#0D47A1" if customer else "#37474F"
            when = (
                f"{int(segment['start']) // 60}:{int(segment['start']) % 60:02d} "
                if segment["start"] is not None
                else ""
            )
            lines.append(
                f"<p style='margin:2px 0'><span style='color:#777'>{when}</span>"
                f"<b style='color:{colour}'>{html.escape(self.words.speaker(segment['speaker']))} :</b> "
                f"{html.escape(segment['text'])}</p>"
            )
        return "".join(lines)

    def review_html(self, detail: dict[str, Any]) -> str:
        """The call's review state and this station's reviews of it, newest last."""
        esc = html.escape
        row = self.detail_row
        state = row.review_state if row is not None else "pending"
        colour = REVIEW_COLOURS.get(state, "#333")
        parts = [f"<b style='color:{colour}'>{esc(self.review_words.review_state(state))}</b>"]
        remote = detail.get("remote_review")
        reviews: list[Review] = detail.get("reviews") or []
        if remote and remote["state"] != "pending" and (not reviews or reviews[-1].sync == "sent"):
            note = self.tr("dans le CRM")
            if remote.get("comment"):
                note += f" : « {remote['comment']} »"
            parts.append(f" <span style='color:#555'>({esc(note)})</span>")
        for review in reviews[-3:]:
            line = self.tr("{state} par {reviewer} le {when}").format(
                state=self.review_words.review_state(review.state),
                reviewer=review.reviewer,
                when=review.at.astimezone().strftime("%d/%m/%Y %H:%M"),
            )
            if review.comment:
                line += f" : « {review.comment} »"
            parts.append(
                f"<br><span style='color:#333'>{esc(line)}</span>"
                f" <span style='color:#777'>· {esc(self.review_words.sync(review))}</span>"
            )
        return "".join(parts)

    def summary_html(self, detail: dict[str, Any]) -> str:
        words = self.words
        interaction = detail["interaction"]
        esc = html.escape
        source = self.review_words.source(detail.get("source", "local"), detail.get("station"))
        # What the CRM did not say (a call of another station) is left out rather than shown as dashes.
        first = [
            esc(words.direction(interaction["direction"])),
            esc(_local(interaction["started_at"])),
        ]
        if interaction["state"]:
            first.append(esc(words.state(interaction["state"])))
        second = []
        if interaction["professional"] or interaction["product"]:
            second.append(f"{esc(interaction['professional'] or '—')} / {esc(interaction['product'] or '—')}")
        second.append(f"{esc(self.tr('agent'))} {esc(interaction['agent_id'] or '—')}")
        second.append(f"<span style='color:#555'>{esc(self.tr('source'))} : {esc(source)}</span>")
        parts = [f"<p><b>{esc(interaction['number'] or '—')}</b> · {' · '.join(first)}<br>{' · '.join(second)}</p>"]
        decision = detail["decision"]
        if decision is not None:
            colour = VERDICT_COLOURS.get(decision["verdict"], "#333")
            reasons = decision["reasons"]
            reason = (reasons[0].get("message") or reasons[0].get("code") or "") if reasons else ""
            code = reasons[0].get("code") if reasons else None
            coded = f" <span style='color:#777'>[{esc(code)}]</span>" if code and code != reason else ""
            parts.append(
                f"<p><b style='color:{colour}'>{esc(words.verdict(decision['verdict']))}</b> — {esc(reason)}{coded}</p>"
            )
        events = detail["consent_events"]
        if events:
            items = "".join(
                f"<li>{esc(words.event(event['kind']))} · {esc(_local(event['at']))}</li>" for event in events
            )
            parts.append(f"<p><b>{esc(self.tr('Événements de consentement'))}</b></p><ul>{items}</ul>")
        summary = detail["summary"]
        if summary is None:
            parts.append(f"<p style='color:#555'>{esc(self.tr('Pas de résumé enregistré.'))}</p>")
            return "".join(parts)
        body = summary["body"]
        if summary["validated_by"]:
            state = self.tr("Validé par {agent} le {when}").format(
                agent=summary["validated_by"], when=_local(summary["validated_at"], station_time=False)
            )
        elif detail.get("source") == "crm":
            state = self.tr("Résumé lu dans le CRM")
        else:
            state = self.tr("Brouillon (non validé)")
        rows = [
            (self.tr("Motif"), body.get("reason") or "—"),
            (self.tr("Issue"), words.disposition(body.get("disposition"))),
            (self.tr("Résolution"), words.resolution(body.get("resolution"))),
        ]
        table = "".join(
            f"<tr><td style='padding-right:8px;color:#555'>{esc(label)}</td><td>{esc(value)}</td></tr>"
            for label, value in rows
        )
        parts.append(f"<p><i>{esc(state)}</i></p><table>{table}</table>")
        actions = body.get("actions") or []
        if actions:
            items = "".join(f"<li>{esc(action)}</li>" for action in actions)
            parts.append(f"<p><b>{esc(self.tr('Actions'))}</b></p><ul>{items}</ul>")
        steps = body.get("next_steps") or []
        if steps:
            items = "".join(
                f"<li>{esc(step.get('action', ''))} ({esc(words.owner(step.get('owner')))}"
                + (f", {esc(self.tr('avant le {due}').format(due=_day(step['due'])))}" if step.get("due") else "")
                + ")</li>"
                for step in steps
            )
            parts.append(f"<p><b>{esc(self.tr('Prochaines étapes'))}</b></p><ul>{items}</ul>")
        disclosure = body.get("opening_disclosure") or {}
        if disclosure:
            labels = {
                "identity": self.tr("Identité"),
                "on_behalf_of": self.tr("Pour le compte de"),
                "commercial_nature": self.tr("Nature commerciale"),
                "recording_notice": self.tr("Enregistrement"),
            }
            marks = " · ".join(f"{'✔' if disclosure.get(key) else '✘'} {esc(label)}" for key, label in labels.items())
            parts.append(f"<p><b>{esc(self.tr('Mentions d’ouverture'))}</b><br>{marks}</p>")
        return "".join(parts)

    # -- export ------------------------------------------------------------------------------------------------

    def _ask_export_path(self) -> str | None:
        suggested = f"appels-{dt.datetime.now().astimezone().date().isoformat()}.csv"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Exporter en CSV"), suggested, self.tr("Fichiers CSV (*.csv)")
        )
        return path or None

    def export(self) -> Path | None:
        """Ask where (``choose_export_path``), write the listed calls of this station as CSV (numbers masked),
        report it. Calls known only from the CRM are not exported (the CRM has its own exports)."""
        chosen = self.choose_export_path()
        if not chosen:
            return None
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(".csv")
        local = [row.local for row in self.model.rows if row.local is not None]
        try:
            count = export_csv(local, path)
        except InputError as error:
            log.error("CSV export failed: %s", error)
            self.status_label.setText(self.tr("Export impossible : {error}").format(error=error))
            return None
        log.info("%d call(s) exported to CSV", count)
        self.status_label.setText(self.tr("{count} appel(s) exporté(s) vers {path}").format(count=count, path=path))
        self.exported.emit(str(path), count)
        return path


def _login() -> str:
    """Who reviews when the app did not say: the session's login name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "?"
