"""The after-call summary editor: the draft the call session knows for certain, completed and validated by the
agent.

Signals:
- ``draft_changed(summary)``: a valid draft to keep, emitted ``DEBOUNCE_MS`` after the agent's last edit.
- ``validation_requested(summary)``: the agent pressed "Valider" (Ctrl+Entrée) and the summary is valid.

With a generator, the model's prose arrives after the editor opened (:meth:`SummaryEditor.take_prose`): it fills
only the prose fields the agent has not edited yet (reason, actions, the action of each next step), and a discreet
note under the form says so, and which fields stayed extractive because they held facts the call does not.

The call's last lines are transcribed after the hang-up (the tail, the final text of a provisional line): the draft
follows them (:meth:`SummaryEditor.refresh_draft`) in every field neither the agent nor the model's prose wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assist.summarize import Rejected
from desktop.core.assist.summary import DISPOSITIONS, NextStep, Summary, parse_summary
from desktop.core.consent.phone import mask
from desktop.core.errors import InputError
from desktop.core.telephony.session import CallSession
from desktop.ui.words import WORDS

RESOLUTIONS = ("resolved", "partial", "unresolved", "not_applicable")
OWNERS = ("agent", "company", "customer")
DISCLOSURE_POINTS = ("identity", "on_behalf_of", "commercial_nature", "recording_notice")
# Dates the agent may type for a next step's due date.
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y")
# A rejected prose field's name, as apply_prose gives it: reason, actions[k], next_steps[k].action.
_FIELD = re.compile(r"^(reason|actions|next_steps)(?:\[(\d+)\])?")


def parse_due(text: str) -> dt.date | None:
    """A due date as typed (``2026-12-01``, ``01/12/2026``); None when left empty; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date()  # noqa: DTZ007 (a calendar date, no time zone)
        except ValueError:
            continue
    raise ValueError(text)


def _set_line(edit: QLineEdit, text: str) -> None:
    """Programmatic text: the agent's cursor stays where it is if they are in the field, else it reads from the
    start."""
    position = min(edit.cursorPosition(), len(text)) if edit.hasFocus() else 0
    edit.setText(text)
    edit.setCursorPosition(position)


class NextStepsTable(QFrame):
    """Next steps as rows of owner, due date and action, added and removed by the agent. Each step takes two
    lines (owner, due date and remove; then the action, full width) so that it fits the narrow panel.

    Signals: ``changed()`` on any edit.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NextSteps")
        self.rows: list[tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]] = []
        # What the agent changed since set_steps: rows edited, and whether rows were added or removed.
        self._touched: list[tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]] = []
        self.reshaped = False
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(3)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        self.add_button = QPushButton(self)
        self.add_button.setObjectName("AddStepButton")
        self.add_button.clicked.connect(self._on_add_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(self.grid)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.retranslate()

    def set_steps(self, steps: list[NextStep]) -> None:
        while self.rows:
            self._remove(self.rows[-1])
        for step in steps:
            self.add_row(step.owner, step.action, step.due.isoformat() if step.due else "")
        self._touched = []
        self.reshaped = False

    @property
    def edited(self) -> bool:
        """Whether the agent changed anything since :meth:`set_steps`."""
        return self.reshaped or bool(self._touched)

    def update_steps(self, steps: Sequence[NextStep]) -> bool:
        """Show ``steps`` in the rows there are (rows added or removed at the end), not as an edit: a row keeps its
        widgets, so the focus and cursor of the agent stay where they are. Whether anything changed."""
        changed = False
        for step, (owner, action, due, _remove) in zip(steps, self.rows, strict=False):
            due_text = step.due.isoformat() if step.due else ""
            if owner.currentData() != step.owner and step.owner in OWNERS:
                owner.setCurrentIndex(OWNERS.index(step.owner))
                changed = True
            for edit, text in ((action, step.action), (due, due_text)):
                if edit.text() != text:
                    _set_line(edit, text)
                    changed = True
        for step in steps[len(self.rows) :]:
            self.append_step(step)
            changed = True
        while len(self.rows) > len(steps):
            self._remove(self.rows[-1])
            changed = True
        return changed

    def append_step(self, step: NextStep) -> None:
        """One more row holding ``step``, not counted as the agent's."""
        self.add_row(step.owner, step.action, step.due.isoformat() if step.due else "")

    def fill_actions(self, actions: Sequence[str]) -> list[int]:
        """Write ``actions`` (one per row, in order) into the rows the agent has not edited; none when rows were
        added or removed since :meth:`set_steps` (the rows no longer match). The indexes of the rows changed."""
        if self.reshaped or len(actions) != len(self.rows):
            return []
        changed: list[int] = []
        for index, (entry, action) in enumerate(zip(self.rows, actions, strict=True)):
            if entry in self._touched or entry[1].text() == action:
                continue
            entry[1].setText(action)
            entry[1].setCursorPosition(0)
            changed.append(index)
        return changed

    def add_row(self, owner: str = "agent", action: str = "", due: str = "") -> None:
        owner_combo = QComboBox(self)
        for code in OWNERS:
            owner_combo.addItem(self.owner_words(code), code)
        owner_combo.setCurrentIndex(OWNERS.index(owner) if owner in OWNERS else 0)
        action_edit = QLineEdit(action, self)
        action_edit.setCursorPosition(0)  # a long drafted step reads from its start
        due_edit = QLineEdit(due, self)
        remove = QToolButton(self)
        remove.setText("✕")
        remove.setObjectName("RemoveStepButton")
        entry = (owner_combo, action_edit, due_edit, remove)
        self.rows.append(entry)
        remove.clicked.connect(lambda: self._on_remove_clicked(entry))
        owner_combo.currentIndexChanged.connect(self.changed)
        action_edit.textEdited.connect(self.changed)
        due_edit.textEdited.connect(self.changed)
        owner_combo.activated.connect(lambda _index: self._touch(entry))
        action_edit.textEdited.connect(lambda _text: self._touch(entry))
        due_edit.textEdited.connect(lambda _text: self._touch(entry))
        self._place(entry, len(self.rows) - 1)
        self._retranslate_row(entry)

    def _place(self, entry: tuple[QComboBox, QLineEdit, QLineEdit, QToolButton], index: int) -> None:
        owner, action, due, remove = entry
        self.grid.addWidget(owner, 2 * index, 0)
        self.grid.addWidget(due, 2 * index, 1)
        self.grid.addWidget(remove, 2 * index, 2)
        self.grid.addWidget(action, 2 * index + 1, 0, 1, 3)

    def document(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The steps in the summary's JSON form, and what is wrong with them (row numbers from 1)."""
        steps: list[dict[str, Any]] = []
        problems: list[str] = []
        for number, (owner, action, due, _remove) in enumerate(self.rows, start=1):
            what, when = action.text().strip(), due.text().strip()
            if not what and not when:
                continue  # an empty row is no step
            if not what:
                problems.append(self.tr("Étape {n} : l'action manque.").format(n=number))
                continue
            try:
                parsed = parse_due(when)
            except ValueError:
                problems.append(
                    self.tr("Étape {n} : échéance « {due} » illisible (AAAA-MM-JJ ou JJ/MM/AAAA).").format(
                        n=number, due=when
                    )
                )
                continue
            steps.append({"owner": owner.currentData(), "action": what, "due": parsed.isoformat() if parsed else None})
        return steps, problems

    def owner_words(self, owner: str) -> str:
        return {"agent": self.tr("Agent"), "company": self.tr("Société"), "customer": self.tr("Client")}.get(
            owner, owner
        )

    def retranslate(self) -> None:
        self.add_button.setText(self.tr("+ Ajouter une étape"))
        for entry in self.rows:
            self._retranslate_row(entry)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _retranslate_row(self, entry: tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]) -> None:
        owner, action, due, remove = entry
        for index, code in enumerate(OWNERS):
            owner.setItemText(index, self.owner_words(code))
        owner.setToolTip(self.tr("Qui s'en charge"))
        owner.setAccessibleName(self.tr("Qui s'en charge"))
        action.setPlaceholderText(self.tr("Action, ex. envoyer le devis"))
        action.setAccessibleName(self.tr("Action"))
        due.setPlaceholderText(self.tr("Échéance AAAA-MM-JJ"))
        due.setAccessibleName(self.tr("Échéance"))
        remove.setToolTip(self.tr("Supprimer cette étape"))
        remove.setAccessibleName(self.tr("Supprimer cette étape"))

    def _touch(self, entry: tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]) -> None:
        if entry not in self._touched:
            self._touched.append(entry)

    def _on_add_clicked(self) -> None:
        self.reshaped = True
        self.add_row()
        self.rows[-1][1].setFocus()
        self.changed.emit()

    def _on_remove_clicked(self, entry: tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]) -> None:
        self.reshaped = True
        self._remove(entry)
        self.changed.emit()

    def _remove(self, entry: tuple[QComboBox, QLineEdit, QLineEdit, QToolButton]) -> None:
        index = self.rows.index(entry)
        self.rows.pop(index)
        if any(widget.hasFocus() for widget in entry):  # the focus stays in the table, not lost with the row
            self.add_button.setFocus()
        for widget in entry:
            self.grid.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        # Rows below move up, so that the grid has no holes.
        for row, moved in enumerate(self.rows[index:], start=index):
            for widget in moved:
                self.grid.removeWidget(widget)
            self._place(moved, row)


class SummaryEditor(QFrame):
    draft_changed = Signal(object)
    validation_requested = Signal(object)

    # Quiet time after the last keystroke before the draft is kept.
    DEBOUNCE_MS = 500

    def __init__(self, session: CallSession, draft: Summary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SummaryEditor")
        self.session = session
        self._base = draft
        self._loading = False
        self._edited: set[str] = set()  # the prose fields the agent changed: the model's prose never replaces them
        #: The generator request whose prose this editor waits for (None: none expected).
        self.prose_request: int | None = None
        # pending, done, cancelled or failed; with what the note says about the model's prose
        self._prose_state: str | None = None
        self._prose_model = ""
        self._prose_taken: list[str] = []
        self._prose_rejected: tuple[Rejected, ...] = ()
        # Fields the transcript's end updated after the editor opened (refresh_draft), for the note.
        self._refreshed: list[str] = []
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)

        self.header = QLabel(self)
        self.header.setObjectName("EditorHeader")
        self.header.setWordWrap(True)
        self.form_labels: dict[str, QLabel] = {}
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("ReasonEdit")
        self.actions_edit = QPlainTextEdit(self)
        self.actions_edit.setTabChangesFocus(True)
        self.actions_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.resolution_combo = QComboBox(self)
        for code in RESOLUTIONS:
            self.resolution_combo.addItem(code, code)
        self.steps = NextStepsTable(self)
        self.disposition_combo = QComboBox(self)
        for code in DISPOSITIONS:
            self.disposition_combo.addItem(code, code)
        self.events_list = QListWidget(self)
        self.events_list.setObjectName("ConsentEvents")
        self.events_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.events_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.events_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.events_list.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 10)
        self.disclosure_boxes = {point: QCheckBox(self) for point in DISCLOSURE_POINTS}
        disclosure = QGridLayout()
        disclosure.setContentsMargins(0, 0, 0, 0)
        disclosure.setVerticalSpacing(0)
        for index, box in enumerate(self.disclosure_boxes.values()):
            disclosure.addWidget(box, index // 2, index % 2)

        body = QWidget(self)
        body.setObjectName("EditorBody")
        form = QFormLayout(body)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(3)
        form.addRow(self.header)
        fields: list[tuple[str, QWidget | QGridLayout]] = [
            ("reason", self.reason_edit),
            ("actions", self.actions_edit),
            ("resolution", self.resolution_combo),
            ("next_steps", self.steps),
            ("disposition", self.disposition_combo),
            ("consent_events", self.events_list),
            ("opening_disclosure", disclosure),
        ]
        for name, field in fields:
            label = QLabel(body)
            label.setObjectName("FieldLabel")
            self.form_labels[name] = label
            if isinstance(field, QWidget):
                label.setBuddy(field)
                form.addRow(label, field)
            else:
                form.addRow(label, field)
        scroll = QScrollArea(self)
        scroll.setObjectName("EditorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("ErrorLabel")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.prose_note = QLabel(self)
        self.prose_note.setObjectName("ProseNote")
        self.prose_note.setTextFormat(Qt.TextFormat.PlainText)
        self.prose_note.setWordWrap(True)
        self.prose_note.hide()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("StatusLabel")
        self.status_label.setWordWrap(True)
        self.validate_button = QPushButton(self)
        self.validate_button.setObjectName("ValidateButton")
        self.validate_button.clicked.connect(self.validate)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.validate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(4)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.prose_note)
        layout.addWidget(self.error_label)
        layout.addLayout(bottom)

        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.validate)

        self.reason_edit.textEdited.connect(self._on_edited)
        self.actions_edit.textChanged.connect(self._on_edited)
        self.reason_edit.textEdited.connect(lambda _text: self._edited.add("reason"))
        self.actions_edit.textChanged.connect(self._on_actions_changed)
        self.resolution_combo.currentIndexChanged.connect(self._on_edited)
        self.disposition_combo.currentIndexChanged.connect(self._on_edited)
        self._disposition_chosen = False
        self.disposition_combo.activated.connect(self._on_disposition_activated)
        # What the agent set by hand among the choices: a draft refreshed later leaves it.
        self._resolution_chosen = False
        self.resolution_combo.activated.connect(self._on_resolution_activated)
        self._disclosure_clicked: set[str] = set()
        for point, box in self.disclosure_boxes.items():
            box.clicked.connect(lambda _checked, point=point: self._disclosure_clicked.add(point))
        self.steps.changed.connect(self._on_edited)
        for box in self.disclosure_boxes.values():
            box.toggled.connect(self._on_edited)
        self.setTabOrder(self.reason_edit, self.actions_edit)
        self.load(draft)
        self.retranslate()

    # -- content ---------------------------------------------------------------------------------------------

    def load(self, summary: Summary) -> None:
        """Fill the fields from a summary, without counting it as an edit."""
        self._loading = True
        try:
            self._base = summary
            self._edited.clear()
            self.reason_edit.setText(summary.reason)
            self.reason_edit.setCursorPosition(0)  # a long drafted reason reads from its start
            self.actions_edit.setPlainText("\n".join(summary.actions))
            self.resolution_combo.setCurrentIndex(RESOLUTIONS.index(summary.resolution))
            self.disposition_combo.setCurrentIndex(DISPOSITIONS.index(summary.disposition))
            self.steps.set_steps(list(summary.next_steps))
            for point, box in self.disclosure_boxes.items():
                box.setChecked(bool(getattr(summary.opening_disclosure, point)))
            self._render_events()
        finally:
            self._loading = False

    def update_consent_events(self, draft: Summary) -> None:
        """Consent events recorded after the editor opened (a withdrawal confirmed during wrap-up): shown, and
        the disposition they imply taken unless the agent chose one; kept as a draft."""
        self._base = self._base.model_copy(update={"consent_events": draft.consent_events})
        self._render_events()
        if not self._disposition_chosen:
            self._loading = True
            try:
                self.disposition_combo.setCurrentIndex(DISPOSITIONS.index(draft.disposition))
            finally:
                self._loading = False
        self._debounce.start()

    def refresh_draft(self, draft: Summary) -> list[str]:
        """The call's draft again, now that its transcript is complete (the last lines, the final text of a
        provisional line, transcribed after the hang-up): every field that neither the agent nor the model's prose
        wrote takes ``draft``'s value; next steps the agent or the prose wrote stay, and the steps only ``draft``
        holds are added after them. Not an edit of the agent's (their cursor and focus stay); kept as a draft.
        Returns the fields updated (``reason``, ``actions``, ``resolution``, ``next_steps``, ``disposition``,
        ``consent_events``, ``opening_disclosure``, ``entities``)."""
        old = self._base
        kept = self.edited_fields | self.prose_fields
        changed: list[str] = []
        self._loading = True
        try:
            if "reason" not in kept and draft.reason != self.reason_edit.text():
                _set_line(self.reason_edit, draft.reason)
                changed.append("reason")
            actions = "\n".join(draft.actions)
            if "actions" not in kept and actions != self.actions_edit.toPlainText():
                self._set_actions(actions)
                changed.append("actions")
            if "resolution" not in kept and draft.resolution != self.resolution_combo.currentData():
                self.resolution_combo.setCurrentIndex(RESOLUTIONS.index(draft.resolution))
                changed.append("resolution")
            if "next_steps" not in kept:
                if self.steps.update_steps(draft.next_steps):
                    changed.append("next_steps")
            else:  # the rows are the agent's or the prose's: only the steps said after the hang-up join them
                new = [step for step in draft.next_steps if step not in old.next_steps]
                for step in new:
                    self.steps.append_step(step)
                if new:
                    changed.append("next_steps")
            if "disposition" not in kept and draft.disposition != self.disposition_combo.currentData():
                self.disposition_combo.setCurrentIndex(DISPOSITIONS.index(draft.disposition))
                changed.append("disposition")
            if draft.consent_events != old.consent_events:
                changed.append("consent_events")
            disclosure = False
            for point, box in self.disclosure_boxes.items():
                said = bool(getattr(draft.opening_disclosure, point))
                if point not in self._disclosure_clicked and box.isChecked() != said:
                    box.setChecked(said)
                    disclosure = True
            if disclosure:
                changed.append("opening_disclosure")
            if draft.entities != old.entities:
                changed.append("entities")
        finally:
            self._loading = False
        # The draft now: the editor's starting point for a prose asked again; the model's mark kept if it wrote.
        self._base = draft.model_copy(update={"generated_by": old.generated_by}) if self._prose_taken else draft
        self._render_events()
        if changed:
            self._debounce.start()  # kept as a draft, as take_prose's fields are
            self._refreshed = changed
            self._render_prose_note()
        return changed

    def _set_actions(self, text: str) -> None:
        """Programmatic actions text; the agent's cursor and scroll stay if they are in the field."""
        if not self.actions_edit.hasFocus():
            self.actions_edit.setPlainText(text)
            return
        position = self.actions_edit.textCursor().position()
        scroll = self.actions_edit.verticalScrollBar().value()
        self.actions_edit.setPlainText(text)
        cursor = self.actions_edit.textCursor()
        cursor.setPosition(min(position, len(text)))
        self.actions_edit.setTextCursor(cursor)
        self.actions_edit.verticalScrollBar().setValue(scroll)

    @property
    def draft(self) -> Summary:
        """The summary the editor was loaded with (consent events kept up to date, refreshed by
        :meth:`refresh_draft`), before the agent's edits."""
        return self._base

    @property
    def edited_fields(self) -> set[str]:
        """The fields the agent changed: the prose ones (``reason``, ``actions``, ``next_steps``), and the choices
        made by hand (``resolution``, ``disposition``, ``opening_disclosure`` for any box clicked)."""
        chosen = {
            "resolution": self._resolution_chosen,
            "disposition": self._disposition_chosen,
            "opening_disclosure": bool(self._disclosure_clicked),
        }
        steps = {"next_steps"} if self.steps.edited else set()
        return self._edited | steps | {name for name, made in chosen.items() if made}

    @property
    def prose_fields(self) -> set[str]:
        """The fields the model's prose filled (``reason``, ``actions``, ``next_steps`` for any step's action)."""
        found = (_FIELD.match(name) for name in self._prose_taken)
        return {match.group(1) for match in found if match is not None}

    def expect_prose(self, request_id: int) -> None:
        """The model is writing this summary's prose (request ``request_id``): the note says so meanwhile."""
        self.prose_request = request_id
        self._prose_state = "pending"
        self._render_prose_note()

    def take_prose(self, summary: Summary, rejected: Sequence[Rejected], model: str) -> list[str]:
        """The model's prose (``summary``: the draft with the fields that passed the fact check) goes into the
        fields the agent has not edited; ``rejected`` (kept extractive) are named in the note. Kept as a draft.
        Returns the fields filled (``reason``, ``actions``, ``next_steps[k]``)."""
        taken: list[str] = []
        self._loading = True
        try:
            if "reason" not in self._edited and summary.reason != self.reason_edit.text():
                self.reason_edit.setText(summary.reason)
                self.reason_edit.setCursorPosition(0)
                taken.append("reason")
            actions = "\n".join(summary.actions)
            if "actions" not in self._edited and actions != self.actions_edit.toPlainText():
                self.actions_edit.setPlainText(actions)
                taken.append("actions")
            taken.extend(f"next_steps[{k}]" for k in self.steps.fill_actions([s.action for s in summary.next_steps]))
        finally:
            self._loading = False
        if taken:
            self._base = self._base.model_copy(update={"generated_by": summary.generated_by})
            self._debounce.start()  # kept as a draft, as an edit would be
        self.prose_request = None
        self._prose_state = "done"
        self.prose_note.setToolTip("")
        self._prose_model = model
        self._prose_taken = taken
        self._prose_rejected = tuple(rejected)
        self._render_prose_note()
        return taken

    def prose_ended(self, *, failed: str | None = None) -> None:
        """The model's prose will not come (cancelled by a new call, or ``failed`` with that one-line reason): the
        extractive text stays, and the note says so."""
        self.prose_request = None
        self._prose_state = "failed" if failed is not None else "cancelled"
        self.prose_note.setToolTip(failed or "")
        self._render_prose_note()

    def summary(self, *, strict: bool = True) -> Summary:
        """The summary as the fields say; InputError (a French, one-line message) if it is not valid.

        ``strict`` is validation: the reason must be written. A draft may leave it empty.
        """
        problems: list[str] = []
        reason = self.reason_edit.text().strip()
        if strict and not reason:
            problems.append(self.tr("Le motif de l'appel est à remplir."))
        steps, step_problems = self.steps.document()
        problems.extend(step_problems)
        if problems:
            raise InputError(" ".join(problems))
        base = self._base.to_json()
        document = {
            **base,
            "reason": reason,
            "actions": [line.strip() for line in self.actions_edit.toPlainText().splitlines() if line.strip()],
            "resolution": self.resolution_combo.currentData(),
            "next_steps": steps,
            "disposition": self.disposition_combo.currentData(),
            "opening_disclosure": {point: box.isChecked() for point, box in self.disclosure_boxes.items()},
        }
        return parse_summary(document, self.tr("résumé"))

    def validate(self) -> Summary | None:
        """Check the summary; valid, it is handed over (``validation_requested``), else the error is shown."""
        self._debounce.stop()
        try:
            summary = self.summary(strict=True)
        except InputError as error:
            self.show_error(str(error))
            return None
        self.show_error("")
        self.validation_requested.emit(summary)
        return summary

    def flush(self) -> None:
        """Keep the pending draft now (the editor is about to go)."""
        if self._debounce.isActive():
            self._debounce.stop()
            self._on_debounce_timeout()

    def stop(self) -> None:
        """Forget pending edits: the summary was validated."""
        self._debounce.stop()

    @property
    def draft_pending(self) -> bool:
        return self._debounce.isActive()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def mark_saved(self, *, validated: bool, at: dt.datetime) -> None:
        when = at.strftime("%H:%M:%S")
        if validated:
            self.status_label.setText(self.tr("Résumé validé à {when}").format(when=when))
        else:
            self.status_label.setText(self.tr("Brouillon enregistré à {when}").format(when=when))

    # -- texts -----------------------------------------------------------------------------------------------

    def resolution_words(self, code: str) -> str:
        return WORDS.resolution(code) if code else code

    def disposition_words(self, code: str) -> str:
        return WORDS.disposition(code) if code else code

    def event_words(self, kind: str) -> str:
        return WORDS.event(kind)

    def retranslate(self) -> None:
        session = self.session
        number = mask(session.number) if session.number else "?"
        ended = session.ended_at.strftime("%H:%M") if session.ended_at else "?"
        self.header.setText(
            self.tr("Résumé de l'appel {number} · terminé à {ended}").format(number=number, ended=ended)
        )
        labels = {
            "reason": self.tr("&Motif de l'appel"),
            "actions": self.tr("&Actions menées (une par ligne)"),
            "resolution": self.tr("&Résolution"),
            "next_steps": self.tr("Prochaines étapes"),
            "disposition": self.tr("&Issue"),
            "consent_events": self.tr("Événements de consentement"),
            "opening_disclosure": self.tr("Mentions d'ouverture dites"),
        }
        for name, label in self.form_labels.items():
            label.setText(labels[name])
        self.reason_edit.setPlaceholderText(self.tr("ex. proposition d'offre électricité"))
        for index, code in enumerate(RESOLUTIONS):
            self.resolution_combo.setItemText(index, self.resolution_words(code))
        for index, code in enumerate(DISPOSITIONS):
            self.disposition_combo.setItemText(index, self.disposition_words(code))
        texts = {
            "identity": self.tr("Identité"),
            "on_behalf_of": self.tr("Pour le compte de"),
            "commercial_nature": self.tr("Nature commerciale"),
            "recording_notice": self.tr("Enregistrement"),
        }
        for point, box in self.disclosure_boxes.items():
            box.setText(texts[point])
        self.validate_button.setText(self.tr("Valider (Ctrl+Entrée)"))
        self._render_events()
        self._render_prose_note()

    def field_words(self, name: str) -> str:
        """A prose field as the agent reads it: « motif », « action 2 », « étape 1 »."""
        found = _FIELD.match(name)
        if found is None:
            return name
        field, index = found.group(1), found.group(2)
        if field == "reason":
            return self.tr("motif")
        if index is None:
            return self.tr("actions") if field == "actions" else self.tr("étapes")
        if field == "actions":
            return self.tr("action {n}").format(n=int(index) + 1)
        return self.tr("étape {n}").format(n=int(index) + 1)

    def _render_prose_note(self) -> None:
        state = self._prose_state
        # entities are not on screen: their update alone says nothing to the agent
        refreshed = bool(set(self._refreshed) - {"entities"})
        if state is None and not refreshed:
            self.prose_note.hide()
            return
        text = ""
        if state == "pending":
            text = self.tr("Le modèle rédige le résumé… les champs que vous modifiez d'ici là sont gardés.")
        elif state == "cancelled":
            text = self.tr("Rédaction par le modèle arrêtée : texte extrait gardé.")
        elif state == "failed":
            text = self.tr("Modèle indisponible : texte extrait gardé.")
        elif state == "done":
            model = self._prose_model
            if self._prose_taken:
                text = self.tr("Rédigé par le modèle {model} : {fields}. À relire.").format(
                    model=model, fields=", ".join(self.field_words(name) for name in self._prose_taken)
                )
            else:
                text = self.tr("Le modèle {model} n'a rien changé : texte extrait gardé.").format(model=model)
            if self._prose_rejected:
                kept = "; ".join(
                    f"{self.field_words(each.field)} ({', '.join(each.unsupported)})" for each in self._prose_rejected
                )
                text += " " + self.tr("Gardé tel qu'extrait (fait absent de l'appel) : {fields}.").format(fields=kept)
        if refreshed:
            text = " ".join(
                part for part in (text, self.tr("Résumé mis à jour avec la fin de la transcription.")) if part
            )
        self.prose_note.setText(text)
        self.prose_note.show()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _render_events(self) -> None:
        self.events_list.clear()
        for event in self._base.consent_events:
            where = self.tr(" · réplique {n}").format(n=event.segment + 1) if event.segment is not None else ""
            self.events_list.addItem(f"{self.event_words(event.kind)} · {event.at.strftime('%H:%M:%S')}{where}")
        if not self._base.consent_events:
            self.events_list.addItem(self.tr("Aucun"))

    # -- edits -----------------------------------------------------------------------------------------------

    def _on_edited(self, *_args: object) -> None:
        if not self._loading:
            self._debounce.start()

    def _on_actions_changed(self) -> None:
        if not self._loading:
            self._edited.add("actions")

    def _on_disposition_activated(self, _index: int) -> None:
        self._disposition_chosen = True

    def _on_resolution_activated(self, _index: int) -> None:
        self._resolution_chosen = True

    def _on_debounce_timeout(self) -> None:
        try:
            summary = self.summary(strict=False)
        except InputError as error:
            self.show_error(str(error))
            return
        self.show_error("")
        self.draft_changed.emit(summary)
