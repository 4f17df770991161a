"""The consent banner: may this person be solicited, why, on what proof, for how long, and the agent's
withdrawal and objection actions.

Signals (intents; the panel asks for confirmation where needed and calls the service):
- ``withdrawal_requested(kind)``: the agent pressed "Retrait du consentement" (``"withdrawn"``) or
  "Opposition" (``"objection"``).
- ``detected_confirmed(kind, segment_idx)``: the agent confirmed, in one click, a withdrawal or objection the
  detector heard (``kind`` is the detector's: ``"withdrawal"`` or ``"objection"``).
- ``detected_dismissed()``: the agent said the detection was wrong.
- ``proof_requested()``: the proof section was opened; the panel answers with :meth:`ConsentBanner.set_proof`.

When the station syncs with a CRM, :meth:`ConsentBanner.set_freshness` adds a small line saying how long ago the
consent data was pulled, with a warning look once it is older than the policy allows (the engine then forbids
commercial calls with ``CONSENT_DATA_STALE``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.consent.check import Freshness
from desktop.core.consent.engine import Decision
from desktop.core.store.consents import ConsentProof
from desktop.core.telephony.session import CallSession
from desktop.ui.widgets.durations import split_duration
from desktop.ui.widgets.elided_label import ElidedLabel
from desktop.ui.widgets.repolish import repolish

# Longest quote of the customer's words in the detection prompt.
_QUOTE_CHARS = 90
# The freshness line: small and quiet while fresh; a light pill with dark text when stale, readable on every strip.
_FRESH_STYLE = "QLabel#FreshnessLabel { font-size: 11px; }"
_STALE_STYLE = (
    "QLabel#FreshnessLabel { font-size: 11px; font-weight: bold; color: #3E2700; background: #FFE082;"
    " border-radius: 3px; padding: 1px 4px; }"
)


class DetailsArea(QScrollArea):
    """The reasons and the proof: as tall as their text up to a cap, then scrolling, so the live call below
    keeps its room."""

    CAP = 220
    MINIMUM = 90

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _content_height(self) -> int:
        body = self.widget()
        if body is None:
            return 0
        width = self.viewport().width()
        height = body.heightForWidth(width) if body.hasHeightForWidth() and width > 0 else -1
        return height if height > 0 else body.sizeHint().height()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), min(self._content_height() + 2 * self.frameWidth(), self.CAP))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, min(self._content_height() + 2 * self.frameWidth(), self.MINIMUM))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.updateGeometry()  # the text wraps differently at another width


class ConsentBanner(QFrame):
    withdrawal_requested = Signal(str)
    detected_confirmed = Signal(str, int)
    detected_dismissed = Signal()
    proof_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ConsentBanner")
        self._session: CallSession | None = None
        self._decision: Decision | None = None
        self._proof: ConsentProof | None = None
        self._proof_loaded = False
        self._proof_rows: list[tuple[str, str]] = []
        self._detection: tuple[str, int, str] | None = None
        self._now: dt.datetime | None = None
        self._freshness: Freshness | None = None
        self.confirm_hint = ""
        self.dismiss_hint = ""
        self.withdraw_hint = ""
        self.object_hint = ""

        self.strip = QFrame(self)
        self.strip.setObjectName("VerdictStrip")
        self.verdict_label = QLabel(self.strip)
        self.verdict_label.setObjectName("VerdictLabel")
        self.scope_label = QLabel(self.strip)
        self.scope_label.setObjectName("ScopeLabel")
        self.scope_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.reason_label = ElidedLabel(self.strip)
        self.reason_label.setObjectName("ReasonLabel")
        self.countdown_label = QLabel(self.strip)
        self.countdown_label.setObjectName("CountdownLabel")
        self.freshness_label = ElidedLabel(self.strip)  # one line: a wrapped line would squeeze the verdict
        self.freshness_label.setObjectName("FreshnessLabel")
        self.freshness_label.hide()
        self.reasons_button = QToolButton(self.strip)
        self.reasons_button.setObjectName("DetailsToggle")
        self.reasons_button.setCheckable(True)
        self.reasons_button.toggled.connect(self._on_reasons_toggled)
        self.proof_button = QToolButton(self.strip)
        self.proof_button.setObjectName("DetailsToggle")
        self.proof_button.setCheckable(True)
        self.proof_button.toggled.connect(self._on_proof_toggled)

        sub = QHBoxLayout()
        sub.setSpacing(4)
        sub.addWidget(self.scope_label, 1)
        sub.addWidget(self.reasons_button)
        sub.addWidget(self.proof_button)
        strip_layout = QVBoxLayout(self.strip)
        strip_layout.setContentsMargins(10, 6, 8, 6)
        strip_layout.setSpacing(2)
        strip_layout.addWidget(self.verdict_label)
        strip_layout.addLayout(sub)
        strip_layout.addWidget(self.reason_label)
        strip_layout.addWidget(self.countdown_label)
        strip_layout.addWidget(self.freshness_label)

        self.details = DetailsArea(self)
        self.details.setObjectName("DetailsArea")
        details_body = QWidget()
        details_body.setObjectName("DetailsBody")
        details_layout = QVBoxLayout(details_body)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.setSpacing(4)
        self.reasons_box = QLabel(details_body)
        self.reasons_box.setObjectName("ReasonsBox")
        self.reasons_box.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons_box.setWordWrap(True)
        self.reasons_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reasons_box.hide()
        self.proof_box = QFrame(details_body)
        self.proof_box.setObjectName("ProofBox")
        self.proof_form = QFormLayout(self.proof_box)
        self.proof_form.setContentsMargins(8, 6, 8, 6)
        self.proof_form.setHorizontalSpacing(8)
        self.proof_form.setVerticalSpacing(2)
        self.proof_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.proof_box.hide()
        details_layout.addWidget(self.reasons_box)
        details_layout.addWidget(self.proof_box)
        self.details.setWidget(details_body)
        self.details.hide()

        self.prompt = QFrame(self)
        self.prompt.setObjectName("DetectedPrompt")
        self.prompt_label = QLabel(self.prompt)
        self.prompt_label.setObjectName("PromptLabel")
        self.prompt_label.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt_label.setWordWrap(True)
        self.confirm_button = QPushButton(self.prompt)
        self.confirm_button.setObjectName("ConfirmDetectedButton")
        self.confirm_button.clicked.connect(self.confirm_detection)
        self.dismiss_button = QPushButton(self.prompt)
        self.dismiss_button.clicked.connect(self.dismiss_detection)
        prompt_buttons = QHBoxLayout()
        prompt_buttons.addWidget(self.confirm_button, 1)
        prompt_buttons.addWidget(self.dismiss_button)
        prompt_layout = QVBoxLayout(self.prompt)
        prompt_layout.setContentsMargins(8, 6, 8, 6)
        prompt_layout.setSpacing(4)
        self.prompt_keys = QLabel(self.prompt)
        self.prompt_keys.setObjectName("PromptKeys")
        prompt_layout.addWidget(self.prompt_label)
        prompt_layout.addLayout(prompt_buttons)
        prompt_layout.addWidget(self.prompt_keys)
        self.prompt.hide()

        self.withdraw_button = QPushButton(self)
        self.withdraw_button.setObjectName("WithdrawButton")
        self.withdraw_button.clicked.connect(lambda: self.withdrawal_requested.emit("withdrawn"))
        self.object_button = QPushButton(self)
        self.object_button.setObjectName("ObjectButton")
        self.object_button.clicked.connect(lambda: self.withdrawal_requested.emit("objection"))
        for button in (self.withdraw_button, self.object_button):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.withdraw_button, 3)
        actions.addWidget(self.object_button, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.strip)
        layout.addWidget(self.details)
        layout.addWidget(self.prompt)
        layout.addLayout(actions)
        self.retranslate()

    # -- what the panel tells it -----------------------------------------------------------------------------

    def set_shortcut_hints(self, *, confirm: str, dismiss: str, withdraw: str, objection: str) -> None:
        """The key sequences the panel bound, as shown in the button texts and tooltips."""
        self.confirm_hint, self.dismiss_hint, self.withdraw_hint, self.object_hint = (
            confirm,
            dismiss,
            withdraw,
            objection,
        )
        self.retranslate()

    def show_session(self, session: CallSession | None) -> None:
        """Show the decision of this call (None: no call); a new call drops the old proof and prompt."""
        if session is not self._session:
            self._proof, self._proof_loaded = None, False
            self.clear_detection()
            self.proof_button.setChecked(False)
            self.reasons_button.setChecked(False)
        self._session = session
        self._decision = session.decision if session is not None else None
        self._render()

    def refresh_decision(self) -> None:
        """The session's decision changed (withdrawal, re-evaluation): show it, reload the proof if open."""
        self._decision = self._session.decision if self._session is not None else None
        self._proof_loaded = False
        if self.proof_button.isChecked():
            self.proof_requested.emit()
        self._render()

    def set_proof(self, proof: ConsentProof | None) -> None:
        self._proof, self._proof_loaded = proof, True
        self._render_proof()
        self.details.updateGeometry()

    def open_proof(self) -> None:
        self.proof_button.setChecked(True)

    def show_detection(self, kind: str, segment_idx: int, said: str, *, whole: str = "") -> None:
        """Ask the agent to confirm a withdrawal or objection heard in the customer's words (``said``: the words
        to quote; ``whole``: the whole turn, shown on hover)."""
        self._detection = (kind, segment_idx, said)
        self.prompt_label.setToolTip(whole or said)
        self._render_prompt()
        self.prompt.show()

    def clear_detection(self) -> None:
        self._detection = None
        self.prompt.hide()

    @property
    def detection(self) -> tuple[str, int] | None:
        """The pending detection (kind, segment index), if the prompt is up."""
        return (self._detection[0], self._detection[1]) if self._detection else None

    def confirm_detection(self) -> None:
        if self._detection is None:
            return
        kind, idx, _said = self._detection
        self.clear_detection()
        self.detected_confirmed.emit(kind, idx)

    def dismiss_detection(self) -> None:
        if self._detection is None:
            return
        self.clear_detection()
        self.detected_dismissed.emit()

    def tick(self, now: dt.datetime) -> None:
        """Update the countdown to ``valid_until`` and the consent freshness (called each second on the GUI thread)."""
        self._now = now
        self._render_countdown()
        self._render_freshness()

    def set_freshness(self, freshness: Freshness | None) -> None:
        """How fresh the consent data pulled from the CRM is (None, or ``crm_sync`` false: no CRM, no line)."""
        self._freshness = freshness
        self._render_freshness()

    @property
    def freshness_stale(self) -> bool:
        """The freshness line shows the stale warning."""
        return bool(self.freshness_label.property("stale"))

    # -- texts -----------------------------------------------------------------------------------------------

    def verdict_words(self, verdict: str | None) -> str:
        words = {
            "allowed": self.tr("AUTORISÉ"),
            "contract_only": self.tr("CONTRAT SEULEMENT"),
            "forbidden": self.tr("INTERDIT"),
        }
        if self._session is None:
            return self.tr("AUCUN APPEL")
        return words.get(verdict or "", self.tr("À VÉRIFIER"))

    def scope_words(self, decision: Decision | None) -> str:
        if decision is None:
            return ""
        if decision.scope == "out_of_scope":
            return self.tr("HORS DÉMARCHAGE")
        return self.tr("DÉMARCHAGE")

    def method_words(self, method: str | None) -> str:
        methods = {
            "web_form": self.tr("formulaire web"),
            "paper": self.tr("papier signé"),
            "store": self.tr("en magasin"),
            "email": self.tr("e-mail"),
            "phone_call": self.tr("appel téléphonique"),
            "recorded_call": self.tr("appel enregistré"),
            "broker_file": self.tr("fichier d'un partenaire"),
        }
        return methods.get(method or "", method or "?")

    def retranslate(self) -> None:
        self.withdraw_button.setText(self.tr("Retrait du consentement"))
        self.withdraw_button.setToolTip(
            self.tr("Le client retire son consentement : enregistré après confirmation ({keys})").format(
                keys=self.withdraw_hint
            )
        )
        self.object_button.setText(self.tr("Opposition"))
        self.object_button.setToolTip(
            self.tr("Le client s'oppose à la prospection : enregistré après confirmation ({keys})").format(
                keys=self.object_hint
            )
        )
        self.confirm_button.setText(self.tr("Confirmer"))
        self.confirm_button.setToolTip(
            self.tr("Enregistrer ce que le client a dit ({keys})").format(keys=self.confirm_hint)
        )
        self.dismiss_button.setText(self.tr("Ignorer"))
        self.dismiss_button.setToolTip(
            self.tr("Ce n'était pas un retrait : rien n'est enregistré ({keys})").format(keys=self.dismiss_hint)
        )
        self.prompt_keys.setText(
            self.tr("{confirm} : confirmer · {dismiss} : ignorer").format(
                confirm=self.confirm_hint, dismiss=self.dismiss_hint
            )
        )
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    # -- rendering -------------------------------------------------------------------------------------------

    def _render(self) -> None:
        decision = self._decision
        verdict = decision.verdict if decision is not None else ("unknown" if self._session is not None else "none")
        if self.strip.property("verdict") != verdict:
            self.strip.setProperty("verdict", verdict)
            repolish(self.strip)
        self.verdict_label.setText(self.verdict_words(decision.verdict if decision else None))
        self.verdict_label.setAccessibleName(self.tr("Verdict : {words}").format(words=self.verdict_label.text()))
        self.scope_label.setText(self.scope_words(decision))
        if decision is not None and decision.reasons:
            self.reason_label.set_full_text(decision.reasons[0].message)
        elif self._session is not None:
            self.reason_label.set_full_text(self.tr("Numéro inconnu : aucune offre commerciale sans vérification."))
        else:
            self.reason_label.set_full_text(self.tr("En attente d'un appel."))
        reasons = decision.reasons if decision is not None else ()
        self.reasons_button.setEnabled(bool(reasons))
        self.reasons_button.setText(
            self.tr("Raisons ({count})").format(count=len(reasons))
            + (" ▴" if self.reasons_button.isChecked() else " ▾")
        )
        self.reasons_button.setToolTip(self.tr("Toutes les raisons de la décision, avec leur règle"))
        self.reasons_box.setText(
            "\n".join(
                f"{'▶' if index == 0 else '•'} {reason.message}  [{reason.code} — {reason.rule}]"
                for index, reason in enumerate(reasons)
            )
        )
        self.reasons_box.setVisible(self.reasons_button.isChecked() and bool(reasons))
        self.details.setVisible(
            (self.reasons_button.isChecked() and bool(reasons))
            or (self.proof_button.isChecked() and self._session is not None)
        )
        has_number = self._session is not None and self._session.number is not None
        self.proof_button.setEnabled(has_number)
        self.proof_button.setText(self.tr("Preuve") + (" ▴" if self.proof_button.isChecked() else " ▾"))
        self.proof_button.setToolTip(self.tr("Le consentement enregistré : à qui, quand, comment, preuve, texte"))
        for button in (self.withdraw_button, self.object_button):
            button.setEnabled(has_number)
        self._render_countdown()
        self._render_freshness()
        self._render_proof()
        self._render_prompt()
        self.details.updateGeometry()

    def _render_countdown(self) -> None:
        decision = self._decision
        ended = self._session is None or not self._session.is_open  # no call goes on: nothing to count down
        if decision is None or decision.valid_until is None or self._now is None or ended:
            self.countdown_label.setText("")
            self.countdown_label.hide()  # no empty line in the strip
            return
        zone = decision.consumer_local_time.tzinfo
        until = decision.valid_until.astimezone(zone)
        now = self._now.astimezone(zone)
        left = (until - now).total_seconds()
        when = until.strftime("%H:%M") if until.date() == now.date() else until.strftime("%d/%m %H:%M")
        days, clock = split_duration(left, round_up=True)
        span = self.tr("{days} j {clock}").format(days=days, clock=clock) if days else clock
        if left <= 0:
            text = self.tr("Réévaluation…")
        elif decision.verdict == "forbidden":
            text = self.tr("Réévalué à {when} · dans {span}").format(when=when, span=span)
        else:
            text = self.tr("Valable jusqu'à {when} · encore {span}").format(when=when, span=span)
        self.countdown_label.setText(text)
        self.countdown_label.show()

    def age_words(self, age: dt.timedelta) -> str:
        """``3 min``, ``2 h 05``, ``26 h``, ``3 j``: an age at a glance."""
        minutes = int(age.total_seconds() // 60)
        if minutes < 60:
            return self.tr("{minutes} min").format(minutes=minutes)
        hours, rest = divmod(minutes, 60)
        if hours < 10:
            return self.tr("{hours} h {minutes:02d}").format(hours=hours, minutes=rest)
        if hours < 48:
            return self.tr("{hours} h").format(hours=hours)
        return self.tr("{days} j").format(days=hours // 24)

    def _render_freshness(self) -> None:
        freshness = self._freshness
        label = self.freshness_label
        if freshness is None or not freshness.crm_sync:
            label.hide()
            return
        now = self._now or dt.datetime.now().astimezone()
        pulled, limit = freshness.last_pull, freshness.stale_at
        # The same test as the engine's rule 10, redone at each tick: the line turns the second the data does.
        stale = pulled is None or limit is None or now > limit
        age = None if pulled is None else max(now - pulled, dt.timedelta(0))
        if age is None:
            text = self.tr("⚠ Consentements jamais synchronisés avec le CRM")
        elif stale:
            text = self.tr("⚠ Consentements non synchronisés depuis {age}").format(age=self.age_words(age))
        elif age < dt.timedelta(minutes=1):
            text = self.tr("Consentements synchronisés à l'instant")
        else:
            text = self.tr("Consentements synchronisés il y a {age}").format(age=self.age_words(age))
        label.set_full_text(text)
        if pulled is None or limit is None:
            details = self.tr(
                "Aucune synchronisation réussie : une opposition faite ailleurs a pu ne pas arriver, démarchage interdit."
            )
        else:
            details = self.tr(
                "Dernière synchronisation des consentements avec le CRM : {when}. Après le {limit}, une opposition"
                " faite ailleurs a pu ne pas arriver : démarchage interdit."
            ).format(
                when=pulled.astimezone().strftime("%d/%m/%Y %H:%M"),
                limit=limit.astimezone().strftime("%d/%m/%Y %H:%M"),
            )
        label.setToolTip(f"{text}\n{details}")
        if label.property("stale") != stale:
            label.setProperty("stale", stale)
            # The panel's style sheet is not ours to change: the warning look lives with the widget.
            label.setStyleSheet(_STALE_STYLE if stale else _FRESH_STYLE)
        label.show()

    def _render_prompt(self) -> None:
        if self._detection is None:
            return
        kind, _idx, said = self._detection
        quote = said if len(said) <= _QUOTE_CHARS else said[: _QUOTE_CHARS - 1].rstrip() + "…"
        if kind == "objection":
            text = self.tr("Opposition détectée : « {quote} » — Confirmer ?").format(quote=quote)
        else:
            text = self.tr("Retrait détecté : « {quote} » — Confirmer ?").format(quote=quote)
        self.prompt_label.setText(text)

    def _on_reasons_toggled(self, _checked: bool) -> None:
        self._render()

    def _on_proof_toggled(self, checked: bool) -> None:
        if checked and not self._proof_loaded:
            self.proof_requested.emit()
        self._render()

    def _render_proof(self) -> None:
        self.proof_box.setVisible(self.proof_button.isChecked() and self._session is not None)
        if not self.proof_box.isVisible():
            return
        while self.proof_form.rowCount():
            self.proof_form.removeRow(0)
        self._proof_rows.clear()
        decision = self._decision
        zone = decision.consumer_local_time.tzinfo if decision is not None else None
        granted = next((r for r in decision.reasons if r.code == "VALID_CONSENT"), None) if decision else None
        if granted is not None:
            self._proof_row(self.tr("Décision"), granted.message)
        proof = self._proof
        if proof is None:
            self._proof_row("", self.tr("Aucun consentement enregistré pour ce numéro et ce professionnel."))
            return

        def when(instant: dt.datetime | None) -> str:
            return instant.astimezone(zone).strftime("%d/%m/%Y %H:%M") if instant is not None else "?"

        how = self.method_words(proof.method)
        if proof.pre_ticked:
            how += self.tr(", case pré-cochée")
        elif proof.affirmative_act:
            how += self.tr(", acte positif du client")
        self._proof_row(self.tr("Donné à"), proof.professional)
        self._proof_row(self.tr("Pour"), ", ".join(proof.products))
        self._proof_row(self.tr("Le"), when(proof.collected_at))
        self._proof_row(self.tr("Comment"), how)
        self._proof_row(self.tr("Preuve", "proof row: reference of the evidence"), proof.evidence_ref or "?")
        self._proof_row(self.tr("Texte affiché"), f"« {proof.text_shown} »" if proof.text_shown else "?")
        self._proof_row(self.tr("Empreinte"), proof.content_hash[:16] + "…", tooltip=proof.content_hash)
        if proof.withdrawn_at is not None:
            self._proof_row(self.tr("Retiré le"), when(proof.withdrawn_at), name="ProofWithdrawn")

    def _proof_row(self, label: str, value: str, *, tooltip: str = "", name: str = "ProofValue") -> None:
        self._proof_rows.append((label, value))
        field = QLabel(value, self.proof_box)
        field.setObjectName(name)
        field.setTextFormat(Qt.TextFormat.PlainText)
        field.setWordWrap(True)
        field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        field.setToolTip(tooltip)
        if label:
            caption = QLabel(label, self.proof_box)
            caption.setObjectName("ProofCaption")
            self.proof_form.addRow(caption, field)
        else:
            self.proof_form.addRow(field)

    def proof_fields(self) -> dict[str, str]:
        """What the proof section shows, caption to value (captionless rows under "")."""
        return dict(self._proof_rows)
