"""Suggested replies for the customer's last turn, best first: a click, Enter or Ctrl+1..3 copies one to the
clipboard for the agent to read or paste.

Signals:
- ``suggestion_copied(suggestion)``: the agent copied it (to the clipboard already).
- ``suggestion_used(source, accepted)``: the verdict on a suggestion, once each: accepted when copied, ignored
  when replaced (by new suggestions or a new call) without having been copied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assist.playbook import Suggestion

# Suggestions that get a Ctrl+N shortcut.
SHORTCUT_COUNT = 3
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# How a consent was collected, as said to the customer in the (French) playbook's replies.
REPLY_METHOD_WORDS = {
    "web_form": "formulaire en ligne",
    "paper": "formulaire papier signé",
    "store": "en magasin",
    "email": "par e-mail",
    "phone_call": "par téléphone",
    "recorded_call": "lors d'un appel enregistré",
    "broker_file": "auprès d'un partenaire",
}


def fill_placeholders(text: str, values: Mapping[str, str | None]) -> str:
    """A playbook reply with the ``{name}`` placeholders it knows filled in; the others stay as they are, for
    the agent to complete aloud."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return found if found else match.group(0)

    return _PLACEHOLDER.sub(value, text)


class SuggestionDelegate(QStyledItemDelegate):
    """Draws an item's first line (shortcut and category) in bold over its reply, wrapped, never cut."""

    PAD = 6
    GAP = 2

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self.view = view

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")  # opt.text has its newlines replaced
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        header, _, body = text.partition("\n")
        rect = opt.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        bold = self._bold(opt.font)
        painter.save()
        painter.setPen(self.view.palette().color(QPalette.ColorRole.Text))
        painter.setFont(bold)
        metrics = QFontMetrics(bold)
        painter.drawText(
            rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
            metrics.elidedText(header, Qt.TextElideMode.ElideRight, rect.width()),
        )
        if body:
            painter.setFont(opt.font)
            rect.setTop(rect.top() + metrics.height() + self.GAP)
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap), body
            )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        _header, _, body = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        width = max(self.view.viewport().width() - 2 * self.PAD, 40)
        height = QFontMetrics(self._bold(opt.font)).height()
        if body:
            flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
            height += self.GAP + QFontMetrics(opt.font).boundingRect(QRect(0, 0, width, 100000), flags, body).height()
        return QSize(width + 2 * self.PAD, height + 2 * self.PAD + 1)

    @staticmethod
    def _bold(font: QFont) -> QFont:
        bold = QFont(font)
        bold.setBold(True)
        return bold


class SuggestionList(QFrame):
    suggestion_copied = Signal(object)
    suggestion_used = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SuggestionList")
        self._suggestions: list[Suggestion] = []
        self._copied: set[int] = set()
        self.title = QLabel(self)
        self.title.setObjectName("SectionTitle")
        self.list = QListWidget(self)
        self.list.setObjectName("SuggestionItems")
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setItemDelegate(SuggestionDelegate(self.list))
        self.list.itemClicked.connect(self._on_item_clicked)
        self.list.itemActivated.connect(self._on_item_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        self.retranslate()

    def set_suggestions(self, suggestions: list[Suggestion]) -> None:
        """Show new suggestions; those shown before and never copied are recorded as ignored."""
        self._flush_ignored()
        self._suggestions = list(suggestions)
        self._copied = set()
        self._render()

    def clear(self) -> None:
        self.set_suggestions([])

    def suggestions(self) -> list[Suggestion]:
        return list(self._suggestions)

    def copy(self, index: int) -> Suggestion | None:
        """Copy suggestion ``index`` (0 = best) to the clipboard; None if there is no such suggestion."""
        if not 0 <= index < len(self._suggestions):
            return None
        suggestion = self._suggestions[index]
        QGuiApplication.clipboard().setText(suggestion.text)
        if index not in self._copied:
            self._copied.add(index)
            self.suggestion_used.emit(suggestion.source, True)
        self.list.setCurrentRow(index)
        self._render_item(index)
        self.suggestion_copied.emit(suggestion)
        return suggestion

    def category_words(self, category: str) -> str:
        words = {
            "greeting_disclosure": self.tr("Présentation"),
            "withdrawal_ack": self.tr("Prendre acte du retrait"),
            "objection_price": self.tr("Objection prix"),
            "objection_time": self.tr("Pas le temps"),
            "proof_of_consent": self.tr("Origine du consentement"),
            "billing_dispute": self.tr("Litige facture"),
            "technical_issue": self.tr("Problème technique"),
            "cancellation_request": self.tr("Demande de résiliation"),
            "payment_card_safety": self.tr("Sécurité carte bancaire"),
            "recording_refused": self.tr("Refus d'enregistrement"),
            "closing": self.tr("Conclusion"),
        }
        return words.get(category, category)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Réponses suggérées · clic ou Ctrl+1…3 pour copier"))
        self.list.setAccessibleName(self.tr("Réponses suggérées"))
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _flush_ignored(self) -> None:
        for index, suggestion in enumerate(self._suggestions):
            if index not in self._copied:
                self.suggestion_used.emit(suggestion.source, False)

    def _render(self) -> None:
        self.list.clear()
        if not self._suggestions:
            placeholder = QListWidgetItem(self.tr("Aucune suggestion pour l'instant."))
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(placeholder)
            return
        for index in range(len(self._suggestions)):
            self.list.addItem(QListWidgetItem())
            self._render_item(index)

    def _render_item(self, index: int) -> None:
        item = self.list.item(index)
        if item is None:
            return
        suggestion = self._suggestions[index]
        keys = f"Ctrl+{index + 1} · " if index < SHORTCUT_COUNT else ""
        mark = self.tr(" · copié ✓") if index in self._copied else ""
        item.setText(f"{keys}{self.category_words(suggestion.category)}{mark}\n{suggestion.text}")
        item.setToolTip(self.tr("Source : {source}").format(source=suggestion.source))
        item.setData(Qt.ItemDataRole.UserRole, index)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(index, int):
            self.copy(index)
