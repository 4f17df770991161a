"""The opening-disclosure checklist (C. consom. L221-16): the four points the agent must say at the start of an
outbound call, ticked from what they actually said. Read only: the agent cannot tick them by hand."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop.core.assist.disclosure import Disclosure
from desktop.ui.widgets.repolish import repolish

POINTS = ("identity", "on_behalf_of", "commercial_nature", "recording_notice")


class ReadOnlyCheckBox(QCheckBox):
    """A tick the agent can read (and hover for its tooltip) but not change."""

    def hitButton(self, _pos: QPoint) -> bool:
        return False


class DisclosureChecklist(QFrame):
    """No signals: it shows a :class:`Disclosure` (None: not judged yet)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DisclosureChecklist")
        self._disclosure: Disclosure | None = None
        self._applicable = True
        self._professional = ""
        self.title = QLabel(self)
        self.title.setObjectName("SectionTitle")
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        for index, point in enumerate(POINTS):
            # Read only: ticks come from what the agent said, never from a click.
            box = ReadOnlyCheckBox(self)
            box.setObjectName("DisclosurePoint")
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.boxes[point] = box
            grid.addWidget(box, index // 2, index % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        self.retranslate()

    def reset(self, *, applicable: bool, professional: str = "") -> None:
        """A new call: nothing ticked; ``applicable`` is False for calls the rule does not cover (inbound)."""
        self._disclosure = None
        self._applicable = applicable
        self._professional = professional
        self._render()

    def set_disclosure(self, disclosure: Disclosure) -> None:
        self._disclosure = disclosure
        self._applicable = True
        self._render()

    def ticked(self) -> dict[str, bool]:
        return {point: box.isChecked() for point, box in self.boxes.items()}

    def retranslate(self) -> None:
        texts = {
            "identity": self.tr("Identité de l'agent"),
            "on_behalf_of": self.tr("Pour le compte de"),
            "commercial_nature": self.tr("Nature commerciale"),
            "recording_notice": self.tr("Enregistrement annoncé"),
        }
        for point, box in self.boxes.items():
            box.setText(texts[point])
        self.boxes["on_behalf_of"].setToolTip(self._professional)
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _render(self) -> None:
        disclosure = self._disclosure
        said = disclosure.to_json() if disclosure is not None else {}
        for point, box in self.boxes.items():
            box.setChecked(bool(said.get(point)))
            box.setEnabled(self._applicable)
            state = "pending" if disclosure is None else ("done" if said.get(point) else "missing")
            if box.property("state") != state:
                box.setProperty("state", state)
                repolish(box)
        self.boxes["on_behalf_of"].setToolTip(self._professional)
        if not self._applicable:
            self.title.setText(self.tr("Mentions d'ouverture · sans objet (appel entrant)"))
        elif disclosure is None:
            self.title.setText(self.tr("Mentions d'ouverture · à dire en début d'appel"))
        else:
            done = sum(bool(said.get(point)) for point in POINTS)
            self.title.setText(self.tr("Mentions d'ouverture · {done}/{total}").format(done=done, total=len(POINTS)))
