"""Suggested replies for the customer's last turn, best first: a click, Enter or Ctrl+1..3 copies one to the
clipboard for the agent to read or paste.

With a generator attached (:meth:`SuggestionList.attach_generation`), the model's adaptation of the top reply
streams into a row right under it, marked as a variant of that approved reply (which stays shown): Échap stops
it, a click, Enter or Ctrl+0 copies it once it is complete.

Signals:
- ``suggestion_copied(suggestion)``: the agent copied it (to the clipboard already).
- ``suggestion_used(source, accepted)``: the verdict on a suggestion, once each: accepted when copied, ignored
  when replaced (by new suggestions or a new call) without having been copied. For a variant, ``source`` is
  ``model:<name> from playbook:<id>``.
- ``adaptation_copied(adaptation)``: the agent copied the variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QKeySequence, QPainter, QPalette, QShortcut
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

from desktop.core.assist.generator import Adaptation
from desktop.core.assist.playbook import Suggestion
from desktop.services.generation import GenerationService

# Suggestions that get a Ctrl+N shortcut.
SHORTCUT_COUNT = 3
#: Copies the model's variant of the top reply (the digit before 1).
VARIANT_SHORTCUT = "Ctrl+0"
#: The list row holding the variant, under the top suggestion.
VARIANT_ROW = 1
_VARIANT = "variant"
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
    adaptation_copied = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SuggestionList")
        self._suggestions: list[Suggestion] = []
        self._copied: set[int] = set()
        self._generation: GenerationService | None = None
        # The variant on screen: the request it comes from, its text so far, and where it stands.
        self._variant_request: int | None = None
        self._variant_text = ""
        self._variant_state: str | None = None  # "streaming", "done", "cancelled"
        self._adaptation: Adaptation | None = None
        self._variant_copied = False
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
        # Window-wide but enabled only while a variant streams; pressed together with the panel's own Échap (a
        # detected withdrawal on screen) it stops the variant first: the withdrawal prompt is never dismissed by it.
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut.setEnabled(False)
        self.stop_shortcut.activated.connect(self.cancel_adaptation)
        self.stop_shortcut.activatedAmbiguously.connect(self.cancel_adaptation)
        self.copy_variant_shortcut = QShortcut(QKeySequence(VARIANT_SHORTCUT), self)
        self.copy_variant_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.copy_variant_shortcut.activated.connect(self.copy_adaptation)
        self.retranslate()

    # -- the model's variant -------------------------------------------------------------------------------------

    def attach_generation(self, service: GenerationService) -> None:
        """Show the adaptations of ``service`` followed with :meth:`follow_adaptation` under the top suggestion."""
        self._generation = service
        service.token_generated.connect(self._on_generation_token_generated)
        service.generation_finished.connect(self._on_generation_finished)
        service.generation_cancelled.connect(self._on_generation_cancelled)
        service.generation_failed.connect(self._on_generation_failed)
        self.retranslate()

    def follow_adaptation(self, request_id: int) -> None:
        """Stream request ``request_id`` (what :meth:`GenerationService.adapt` returned for the top suggestion now
        shown) into the variant row; a variant shown before is replaced."""
        self._drop_variant()
        self._variant_request = request_id
        self._variant_state = "streaming"
        self.stop_shortcut.setEnabled(True)
        self._render()

    def adaptation(self) -> Adaptation | None:
        """The complete variant on screen (None while it streams, after Échap, or without one)."""
        return self._adaptation if self._variant_state == "done" else None

    def variant_state(self) -> str | None:
        """``streaming``, ``done``, ``cancelled``, or None without a variant."""
        return self._variant_state

    def variant_text(self) -> str:
        """The variant's text on screen so far (empty without one)."""
        return self._variant_text

    def cancel_adaptation(self) -> None:
        """Stop the variant that streams (Échap): what it wrote stays shown, marked as stopped, and is not copyable."""
        if self._variant_state != "streaming":
            return
        if self._generation is not None:
            self._generation.cancel()
        self._variant_state = "cancelled"
        self.stop_shortcut.setEnabled(False)
        self._render()

    def copy_adaptation(self) -> Adaptation | None:
        """Copy the complete variant to the clipboard (Ctrl+0); None while it streams or without one."""
        adaptation = self.adaptation()
        if adaptation is None:
            return None
        QGuiApplication.clipboard().setText(adaptation.text)
        if not self._variant_copied:
            self._variant_copied = True
            self.suggestion_used.emit(adaptation.provenance, True)
        self._render()
        self.list.setCurrentRow(VARIANT_ROW)
        self.adaptation_copied.emit(adaptation)
        return adaptation

    def _drop_variant(self) -> None:
        """Forget the variant on screen (stopping it if it streams); a complete one never copied counts as ignored."""
        if self._variant_state == "streaming" and self._generation is not None:
            self._generation.cancel()
        if self._adaptation is not None and self._variant_state == "done" and not self._variant_copied:
            self.suggestion_used.emit(self._adaptation.provenance, False)
        self._variant_request = None
        self._variant_text = ""
        self._variant_state = None
        self._adaptation = None
        self._variant_copied = False
        self.stop_shortcut.setEnabled(False)

    def _on_generation_token_generated(self, _session: object, request_id: int, text: str) -> None:
        if request_id == self._variant_request and self._variant_state == "streaming":
            self._variant_text += text
            self._render_variant()

    def _on_generation_finished(self, _session: object, request_id: int, adaptation: Adaptation) -> None:
        if request_id == self._variant_request and self._variant_state == "streaming":
            self._adaptation = adaptation
            self._variant_text = adaptation.text
            self._variant_state = "done"
            self.stop_shortcut.setEnabled(False)
            self._render()

    def _on_generation_cancelled(self, _session: object, request_id: int, _partial: str) -> None:
        if request_id == self._variant_request and self._variant_state == "streaming":
            self._variant_state = "cancelled"
            self.stop_shortcut.setEnabled(False)
            self._render()

    def _on_generation_failed(self, _session: object, request_id: int, _message: str) -> None:
        if request_id == self._variant_request:  # the message is logged by the service; the agent loses nothing
            self._drop_variant()
            self._render()

    def _has_variant_row(self) -> bool:
        return (
            bool(self._suggestions)
            and self._variant_state is not None
            and (self._variant_state != "cancelled" or bool(self._variant_text))
        )

    def _row(self, index: int) -> int:
        """The list row of suggestion ``index`` (the variant row sits right under the first)."""
        return index + 1 if index >= VARIANT_ROW and self._has_variant_row() else index

    def _render_variant(self) -> None:
        item = self.list.item(VARIANT_ROW) if self._has_variant_row() else None
        if item is None or item.data(Qt.ItemDataRole.UserRole) != _VARIANT:
            self._render()
            return
        model = (
            self._adaptation.model if self._adaptation else (self._generation.model_name if self._generation else "")
        )
        header = self.tr("↳ Ctrl+0 · Variante adaptée ({model})").format(model=model)
        if self._variant_state == "streaming":
            header += self.tr(" · en cours… (Échap pour arrêter)")
        elif self._variant_state == "cancelled":
            header += self.tr(" · arrêtée")
        elif self._adaptation is not None and self._adaptation.problems:
            header += self.tr(" · à vérifier : {problems}").format(problems="; ".join(self._adaptation.problems))
        if self._variant_copied:
            header += self.tr(" · copiée ✓")
        item.setText(f"{header}\n{self._variant_text.strip() or '…'}")
        top = self._suggestions[0]
        item.setToolTip(
            self.tr("Adaptée par le modèle de la réponse approuvée {source}, qui reste affichée au-dessus.").format(
                source=top.source
            )
        )
        # The row grows as the text streams in: lay the (few) rows out again.
        self.list.doItemsLayout()

    def set_suggestions(self, suggestions: list[Suggestion]) -> None:
        """Show new suggestions; those shown before and never copied are recorded as ignored. A variant of the
        previous top reply goes too (follow the new one's with :meth:`follow_adaptation`)."""
        self._flush_ignored()
        self._drop_variant()
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
        self.list.setCurrentRow(self._row(index))
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
        if self._generation is not None:
            self.title.setText(self.tr("Réponses suggérées · clic ou Ctrl+1…3 pour copier, Ctrl+0 la variante"))
        else:
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
            if index == VARIANT_ROW and self._has_variant_row():
                self._add_variant_item()
            self.list.addItem(QListWidgetItem())
            self._render_item(index)
        if len(self._suggestions) == VARIANT_ROW and self._has_variant_row():
            self._add_variant_item()

    def _add_variant_item(self) -> None:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, _VARIANT)
        self.list.addItem(item)
        self._render_variant()

    def _render_item(self, index: int) -> None:
        item = self.list.item(self._row(index))
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
        if index == _VARIANT:
            self.copy_adaptation()
        elif isinstance(index, int):
            self.copy(index)
