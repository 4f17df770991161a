"""The live transcript: customer on the left, agent on the right, each line labelled; it follows the
conversation unless the agent scrolled up to read, and follows again once they are back at the bottom. A
provisional line (a long utterance transcribed in parts) is shown greyed and italic until its refined text
replaces it in place."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.telephony.session import Segment
from desktop.ui.widgets.durations import split_duration

# How close to the bottom (pixels) still counts as "at the bottom".
_BOTTOM_SLACK = 4
# Room left on the other side of a line, so both speakers stay apart at a glance.
_INDENT = 36


class TranscriptView(QFrame):
    """Signals: ``follow_changed(following)`` when autoscroll stops (agent scrolled up) or resumes."""

    follow_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TranscriptView")
        self._lines: list[tuple[str, str]] = []
        # segment idx -> (position in _lines, the line's text label, its speaker label), for replace().
        self._by_idx: dict[int, tuple[int, QLabel, QLabel]] = {}
        # (scroll value when a line above the viewport changed height, the value that keeps the rest still).
        self._pending_scroll: tuple[int, int] | None = None
        self._following = True
        self._unseen = 0
        self.title = QLabel(self)
        self.title.setObjectName("SectionTitle")
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("TranscriptScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.container = QWidget()
        self.container.setObjectName("TranscriptLines")
        self.lines_layout = QVBoxLayout(self.container)
        self.lines_layout.setContentsMargins(4, 4, 4, 4)
        self.lines_layout.setSpacing(6)
        self.lines_layout.addStretch(1)
        self.scroll_area.setWidget(self.container)
        self.placeholder = QLabel(self.container)
        self.placeholder.setObjectName("Placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lines_layout.insertWidget(0, self.placeholder)
        self.resume_button = QPushButton(self)
        self.resume_button.setObjectName("ResumeButton")
        self.resume_button.clicked.connect(self.scroll_to_bottom)
        self.resume_button.hide()
        bar = self.scroll_area.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrollbar_value_changed)
        bar.rangeChanged.connect(self._on_scrollbar_range_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.resume_button)
        self.retranslate()

    # -- content ---------------------------------------------------------------------------------------------

    def append(self, segment: Segment) -> None:
        """Add one committed line; the view scrolls to it only if the agent is following. A provisional segment
        (``final`` False) is shown as such until :meth:`replace` gives its refined text."""
        self.placeholder.hide()
        position = len(self._lines)
        self._lines.append((segment.speaker, segment.text))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        bubble = QFrame(self.container)
        bubble.setObjectName("AgentLine" if segment.speaker == "agent" else "CustomerLine")
        bubble.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        speaker = QLabel(bubble)
        speaker.setObjectName("SpeakerLabel")
        speaker.setProperty("speaker", segment.speaker)
        speaker.setProperty("start", segment.start)
        self._label_speaker(speaker)
        text = QLabel(segment.text, bubble)
        text.setObjectName("LineText")
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._mark_provisional(text, not getattr(segment, "final", True))
        self._by_idx[segment.idx] = (position, text, speaker)
        inner = QVBoxLayout(bubble)
        inner.setContentsMargins(8, 4, 8, 5)
        inner.setSpacing(1)
        inner.addWidget(speaker)
        inner.addWidget(text)
        if segment.speaker == "agent":
            row.addSpacing(_INDENT)
            row.addWidget(bubble)
            speaker.setAlignment(Qt.AlignmentFlag.AlignRight)
        else:
            row.addWidget(bubble)
            row.addSpacing(_INDENT)
        self.lines_layout.insertLayout(self.lines_layout.count() - 1, row)
        if not self._following:
            self._unseen += 1
            self._render_resume()

    def replace(self, segment: Segment) -> None:
        """Give the line of ``segment.idx`` its new text (and look: final unless ``segment.final`` is False), in
        place; what the agent is reading does not move, and following stays as it was. An idx this view never
        showed (a line of a call cleared since) is ignored."""
        known = self._by_idx.get(segment.idx)
        if known is None:
            return
        position, text, speaker = known
        self._lines[position] = (self._lines[position][0], segment.text)
        bar = self.scroll_area.verticalScrollBar()
        bubble = text.parentWidget()
        # A line starting above the viewport that grows or shrinks would push the lines being read: keep them still.
        above = not self._following and bubble is not None and bubble.geometry().top() < bar.value()
        old_height = text.heightForWidth(text.width())
        text.setText(segment.text)
        self._mark_provisional(text, not getattr(segment, "final", True))
        if speaker.property("start") != segment.start:
            speaker.setProperty("start", segment.start)
            self._label_speaker(speaker)
        delta = text.heightForWidth(text.width()) - old_height
        if above and delta:
            self._pending_scroll = (bar.value(), bar.value() + delta)

    def clear(self) -> None:
        while self.lines_layout.count() > 2:  # the placeholder and the stretch stay
            item = self.lines_layout.takeAt(1)
            layout = item.layout() if item is not None else None
            if layout is not None:
                while layout.count():
                    child = layout.takeAt(0)
                    widget = child.widget() if child is not None else None
                    if widget is not None:
                        widget.hide()  # gone from the screen now, deleted at the next loop turn
                        widget.deleteLater()
                layout.deleteLater()
        self._lines.clear()
        self._by_idx.clear()
        self._pending_scroll = None
        self.placeholder.show()
        self._unseen = 0
        self._set_following(True)

    def lines(self) -> list[tuple[str, str]]:
        """(speaker, text) of each line shown, in order."""
        return list(self._lines)

    # -- autoscroll ------------------------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._following

    def scroll_to_bottom(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._set_following(True)

    def _on_scrollbar_value_changed(self, value: int) -> None:
        bar = self.scroll_area.verticalScrollBar()
        self._set_following(value >= bar.maximum() - _BOTTOM_SLACK)

    def _on_scrollbar_range_changed(self, _minimum: int, maximum: int) -> None:
        pending, self._pending_scroll = self._pending_scroll, None
        bar = self.scroll_area.verticalScrollBar()
        if self._following:
            bar.setValue(maximum)
        elif pending is not None and bar.value() == pending[0]:  # not if the agent scrolled since
            bar.setValue(min(pending[1], maximum))

    def _set_following(self, following: bool) -> None:
        if following == self._following:
            return
        self._following = following
        if following:
            self._unseen = 0
        self._render_resume()
        self.follow_changed.emit(following)

    # -- texts -----------------------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.title.setText(self.tr("Transcription"))
        self.placeholder.setText(self.tr("La transcription s'affiche ici pendant l'appel."))
        for speaker in self.container.findChildren(QLabel, "SpeakerLabel"):
            self._label_speaker(speaker)
        for text in self.container.findChildren(QLabel, "LineText"):
            self._mark_provisional(text, bool(text.property("provisional")))
        self._render_resume()

    def _mark_provisional(self, label: QLabel, provisional: bool) -> None:
        """The look (style sheet) and what a tooltip or a screen reader says of a provisional line."""
        if label.property("provisional") is not provisional:
            label.setProperty("provisional", provisional)
            # A dynamic property takes effect in the style sheet only once the style is applied again.
            label.style().unpolish(label)
            label.style().polish(label)
        note = self.tr("Transcription provisoire : le texte sera affiné dans un instant.") if provisional else ""
        label.setToolTip(note)
        label.setAccessibleDescription(note)

    def _label_speaker(self, label: QLabel) -> None:
        name = self.tr("Agent") if label.property("speaker") == "agent" else self.tr("Client")
        start = label.property("start")
        if isinstance(start, (int, float)):
            _days, clock = split_duration(float(start))
            name = f"{name} · {clock}"
        label.setText(name)

    def _render_resume(self) -> None:
        self.resume_button.setVisible(not self._following and self._unseen > 0)
        self.resume_button.setText(
            self.tr("▼ {count} nouvelle(s) ligne(s) — revenir en bas").format(count=self._unseen)
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
