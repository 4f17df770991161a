"""Who is on the line: the number masked but for its last digits, direction, campaign, state and a call timer."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from desktop.core.consent.phone import mask
from desktop.core.telephony.session import CallSession
from desktop.ui.widgets.durations import split_duration
from desktop.ui.widgets.elided_label import ElidedLabel


class CallInfo(QFrame):
    """No signals: it shows a :class:`CallSession`; :meth:`tick` moves its timer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallInfo")
        self._session: CallSession | None = None
        self._now: dt.datetime | None = None
        self.number_label = QLabel(self)
        self.number_label.setObjectName("NumberLabel")
        self.number_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.state_label = ElidedLabel(self)
        self.state_label.setObjectName("StateLabel")
        self.timer_label = QLabel(self)
        self.timer_label.setObjectName("TimerLabel")
        self.timer_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.context_label = ElidedLabel(self)
        self.context_label.setObjectName("ContextLabel")
        layout = QGridLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(0)
        layout.addWidget(self.number_label, 0, 0)
        layout.addWidget(self.state_label, 0, 1)
        layout.addWidget(self.timer_label, 0, 2)
        layout.addWidget(self.context_label, 1, 0, 1, 3)
        layout.setColumnStretch(1, 1)
        self._render()

    def show_session(self, session: CallSession | None) -> None:
        self._session = session
        self._render()

    def tick(self, now: dt.datetime) -> None:
        self._now = now
        self._render_timer()

    def purpose_words(self, purpose: str) -> str:
        return {
            "prospection": self.tr("démarchage"),
            "contract": self.tr("contrat en cours"),
            "service": self.tr("service client"),
            "survey": self.tr("enquête"),
        }.get(purpose, purpose)

    def direction_words(self, direction: str) -> str:
        return {"inbound": self.tr("Entrant"), "outbound": self.tr("Sortant")}.get(direction, direction)

    def state_words(self, state: str) -> str:
        words = {
            "ringing": self.tr("Sonnerie"),
            "dialing": self.tr("Numérotation"),
            "active": self.tr("En ligne"),
            "wrap_up": self.tr("Terminé"),
            "saved": self.tr("Enregistré"),
            "missed": self.tr("Manqué"),
            "interrupted": self.tr("Interrompu"),
        }
        return words.get(state, state)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self._render()

    def _render(self) -> None:
        session = self._session
        if session is None:
            self.number_label.setText("—")
            self.number_label.setAccessibleName(self.tr("Aucun appel"))
            self.state_label.set_full_text(self.tr("Aucun appel"))
            self.context_label.set_full_text("")
            self.timer_label.setText("")
            return
        masked = mask(session.number) if session.number else self.tr("numéro masqué")
        self.number_label.setText(masked)
        self.number_label.setAccessibleName(self.tr("Numéro {number}").format(number=masked))
        self.state_label.set_full_text(f"{self.direction_words(session.direction)} · {self.state_words(session.state)}")
        self.state_label.setProperty("state", session.state)
        context = [session.professional, session.product]
        if session.purpose:
            context.append(self.purpose_words(session.purpose))
        self.context_label.set_full_text(" · ".join(context))
        self._render_timer()

    def _render_timer(self) -> None:
        session = self._session
        if session is None:
            self.timer_label.setText("")
            return
        start = session.answered_at or session.started_at
        end = session.ended_at or self._now
        if end is None:
            self.timer_label.setText("")
            return
        days, clock = split_duration((end - start).total_seconds())
        self.timer_label.setText(self.tr("{days} j {clock}").format(days=days, clock=clock) if days else clock)
