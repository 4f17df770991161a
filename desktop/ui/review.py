"""The team-lead view (first version, local data): stored calls filtered by date, agent, disposition, verdict
and withdrawal; the transcript and the summary of the selected call side by side; export to CSV.

Reads the store through :mod:`desktop.core.store.interactions` on the GUI thread (the store's connection
belongs to it; reads of a few hundred rows take milliseconds). Numbers are shown masked.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assist.summary import DISPOSITIONS
from desktop.core.consent.phone import mask
from desktop.core.errors import InputError
from desktop.core.store.interactions import VERDICTS, InteractionRow, export_csv, list_interactions, show_interaction
from desktop.ui.words import Words

log = logging.getLogger("agent_assist.ui.review")
AnyIndex = QModelIndex | QPersistentModelIndex
VERDICT_COLOURS = {"allowed": "#0B6B2E", "contract_only": "#8A6500", "forbidden": "#B3001B"}


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


class InteractionTableModel(QAbstractTableModel):
    """The calls of the list, one per row; ``Qt.UserRole`` gives the :class:`InteractionRow` (number as stored)."""

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
    )
    ROW_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[InteractionRow] = []
        self.words = Words()

    def set_rows(self, rows: list[InteractionRow]) -> None:
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
        if role == Qt.ItemDataRole.ToolTipRole and column == "verdict" and row.reason_code:
            return row.reason_code
        if role == Qt.ItemDataRole.ForegroundRole and column == "verdict" and row.verdict in VERDICT_COLOURS:
            return QColor(VERDICT_COLOURS[row.verdict])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("withdrawal", "direction", "duration_s"):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, row: InteractionRow, column: str) -> str:
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
        return words.state(row.state)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        name = self.COLUMNS[column]

        def key(row: InteractionRow) -> tuple[int, str]:
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


class ReviewWindow(QWidget):
    """The team lead's review of the calls stored on this station.

    Signals: ``interaction_selected(id)`` when a call is shown in the detail panes; ``exported(path, count)``
    after a CSV export. Set :attr:`choose_export_path` to replace the file dialog (tests).
    """

    interaction_selected = Signal(int)
    exported = Signal(str, int)

    def __init__(self, conn: sqlite3.Connection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReviewWindow")
        self.setWindowFlag(Qt.WindowType.Window)
        self.conn = conn
        self.words = Words()
        self.choose_export_path: Callable[[], str | None] = self._ask_export_path
        self.detail: dict[str, Any] | None = None

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
            check.toggled.connect(self.refresh)
            edit.dateChanged.connect(self.refresh)
        self.agent_combo = QComboBox(self)
        self.disposition_combo = QComboBox(self)
        self.verdict_combo = QComboBox(self)
        self.withdrawal_combo = QComboBox(self)
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
        for combo in (self.agent_combo, self.disposition_combo, self.verdict_combo, self.withdrawal_combo):
            combo.currentIndexChanged.connect(self.refresh)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.filter_labels = {name: QLabel(self) for name in ("agent", "disposition", "verdict", "withdrawal")}
        for name, combo in (
            ("agent", self.agent_combo),
            ("disposition", self.disposition_combo),
            ("verdict", self.verdict_combo),
            ("withdrawal", self.withdrawal_combo),
        ):
            self.filter_labels[name].setBuddy(combo)
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(self)
        self.export_button.setObjectName("ExportButton")
        self.export_button.clicked.connect(self.export)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        for widget in (
            self.from_check,
            self.from_date,
            self.to_check,
            self.to_date,
            self.filter_labels["agent"],
            self.agent_combo,
            self.filter_labels["disposition"],
            self.disposition_combo,
            self.filter_labels["verdict"],
            self.verdict_combo,
            self.filter_labels["withdrawal"],
            self.withdrawal_combo,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)
        filters.addWidget(self.export_button)

        # The list.
        self.model = InteractionTableModel(self)
        self.table = QTableView(self)
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

        # Details: transcript and summary side by side.
        self.transcript_title = QLabel(self)
        self.transcript_view = QTextBrowser(self)
        self.transcript_view.setObjectName("ReviewTranscript")
        self.summary_title = QLabel(self)
        self.summary_view = QTextBrowser(self)
        self.summary_view.setObjectName("ReviewSummary")
        for title in (self.transcript_title, self.summary_title, self.count_label):
            title.setStyleSheet("font-weight: bold;")
        details = QSplitter(Qt.Orientation.Horizontal, self)
        details.setChildrenCollapsible(False)
        for title, view in ((self.transcript_title, self.transcript_view), (self.summary_title, self.summary_view)):
            pane = QWidget(details)
            pane_layout = QVBoxLayout(pane)
            pane_layout.setContentsMargins(0, 0, 0, 0)
            pane_layout.addWidget(title)
            pane_layout.addWidget(view, 1)
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
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status_label)
        self.resize(1100, 720)
        self.retranslate()
        self.reload_agents()
        self.refresh()

    # -- texts -------------------------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Agent Assist : revue des appels"))
        self.from_check.setText(self.tr("Du"))
        self.to_check.setText(self.tr("au"))
        self.filter_labels["agent"].setText(self.tr("A&gent"))
        self.filter_labels["disposition"].setText(self.tr("&Issue"))
        self.filter_labels["verdict"].setText(self.tr("&Verdict"))
        self.filter_labels["withdrawal"].setText(self.tr("&Retrait"))
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
        self.refresh_button.setText(self.tr("Actualiser"))
        self.export_button.setText(self.tr("Exporter en CSV"))
        self.transcript_title.setText(self.tr("Transcription"))
        self.summary_title.setText(self.tr("Résumé"))
        self._render_count()
        self._render_detail()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    # -- loading -----------------------------------------------------------------------------------------------

    def reload_agents(self) -> None:
        """Fill the agent filter with the agents found in the store (keeps the current choice)."""
        current = self.agent_combo.currentData()
        agents = [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT agent_id FROM interactions WHERE agent_id IS NOT NULL ORDER BY agent_id"
            )
        ]
        self.agent_combo.blockSignals(True)
        while self.agent_combo.count() > 1:
            self.agent_combo.removeItem(1)
        for agent in agents:
            self.agent_combo.addItem(agent, agent)
        self.agent_combo.setCurrentIndex(max(self.agent_combo.findData(current), 0) if current else 0)
        self.agent_combo.blockSignals(False)

    def filters(self) -> dict[str, Any]:
        """The filters as :func:`list_interactions` takes them."""
        return {
            "date_from": self.from_date.date().toPython() if self.from_check.isChecked() else None,
            "date_to": self.to_date.date().toPython() if self.to_check.isChecked() else None,
            "agent": self.agent_combo.currentData(),
            "disposition": self.disposition_combo.currentData(),
            "verdict": self.verdict_combo.currentData(),
            "withdrawal": self.withdrawal_combo.currentData(),
        }

    def refresh(self) -> None:
        """Run the query again with the current filters, keeping the selected call when it is still listed."""
        selected = self.selected_row()
        try:
            rows = list_interactions(self.conn, **self.filters())
        except (InputError, sqlite3.Error) as error:
            log.error("review list failed: %s", error)
            self.status_label.setText(self.tr("Impossible de lire les appels : {error}").format(error=error))
            return
        self.model.set_rows(rows)
        header = self.table.horizontalHeader()
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._render_count()
        if selected is not None:
            for position, row in enumerate(rows):
                if row.id == selected.id:
                    self.table.selectRow(position)
                    return
        self.detail = None
        self._render_detail()

    def selected_row(self) -> InteractionRow | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        row = self.model.data(index, InteractionTableModel.ROW_ROLE)
        return row if isinstance(row, InteractionRow) else None

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.data(current, InteractionTableModel.ROW_ROLE) if current.isValid() else None
        if not isinstance(row, InteractionRow):
            self.detail = None
            self._render_detail()
            return
        self.detail = show_interaction(self.conn, row.id)
        self._render_detail()
        self.interaction_selected.emit(row.id)

    # -- rendering ---------------------------------------------------------------------------------------------

    def _render_count(self) -> None:
        count = len(self.model.rows)
        self.count_label.setText(self.tr("{count} appel(s)").format(count=count))

    def _render_detail(self) -> None:
        if self.detail is None:
            hint = html.escape(self.tr("Sélectionnez un appel dans la liste."))
            self.transcript_view.setHtml(f"<p style='color:#555'>{hint}</p>")
            self.summary_view.setHtml("")
            return
        self.transcript_view.setHtml(self.transcript_html(self.detail))
        self.summary_view.setHtml(self.summary_html(self.detail))

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

    def summary_html(self, detail: dict[str, Any]) -> str:
        words = self.words
        interaction = detail["interaction"]
        esc = html.escape
        parts = [
            f"<p><b>{esc(interaction['number'] or '—')}</b> · {esc(words.direction(interaction['direction']))}"
            f" · {esc(_local(interaction['started_at']))} · {esc(words.state(interaction['state']))}<br>"
            f"{esc(interaction['professional'] or '—')} / {esc(interaction['product'] or '—')}"
            f" · {esc(self.tr('agent'))} {esc(interaction['agent_id'] or '—')}</p>"
        ]
        decision = detail["decision"]
        if decision is not None:
            colour = VERDICT_COLOURS.get(decision["verdict"], "#333")
            reason = decision["reasons"][0]["message"] if decision["reasons"] else ""
            parts.append(
                f"<p><b style='color:{colour}'>{esc(words.verdict(decision['verdict']))}</b> — {esc(reason)}</p>"
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
        """Ask where (``choose_export_path``), write the listed calls as CSV (numbers masked), report it."""
        chosen = self.choose_export_path()
        if not chosen:
            return None
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(".csv")
        try:
            count = export_csv(self.model.rows, path)
        except InputError as error:
            log.error("CSV export failed: %s", error)
            self.status_label.setText(self.tr("Export impossible : {error}").format(error=error))
            return None
        log.info("%d call(s) exported to CSV", count)
        self.status_label.setText(self.tr("{count} appel(s) exporté(s) vers {path}").format(count=count, path=path))
        self.exported.emit(str(path), count)
        return path
