"""The words of the codes the interface shows (verdicts, dispositions, call states, consent events…), in one
place for the review window and the summary editor; translated in the ``Words`` context."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


class Words:
    """The French words of the codes shown to the agent and the team lead."""

    @staticmethod
    def tr(text: str) -> str:
        return QCoreApplication.translate("Words", text)

    def verdict(self, code: str | None) -> str:
        return {
            "allowed": self.tr("AUTORISÉ"),
            "contract_only": self.tr("CONTRAT SEULEMENT"),
            "forbidden": self.tr("INTERDIT"),
        }.get(code or "", "—")

    def disposition(self, code: str | None) -> str:
        return {
            "sale": self.tr("Vente"),
            "appointment_set": self.tr("Rendez-vous fixé"),
            "callback_scheduled": self.tr("Rappel planifié"),
            "resolved": self.tr("Demande résolue"),
            "escalated": self.tr("Transmis (escalade)"),
            "not_interested": self.tr("Pas intéressé"),
            "do_not_call": self.tr("Ne plus appeler"),
            "information_given": self.tr("Information donnée"),
            "cancelled": self.tr("Résiliation"),
            "retained": self.tr("Client retenu"),
        }.get(code or "", code or "—")

    def resolution(self, code: str | None) -> str:
        return {
            "resolved": self.tr("Résolu"),
            "partial": self.tr("Partiellement résolu"),
            "unresolved": self.tr("Non résolu"),
            "not_applicable": self.tr("Sans objet"),
        }.get(code or "", code or "—")

    def direction(self, code: str | None) -> str:
        return {"inbound": self.tr("Entrant"), "outbound": self.tr("Sortant")}.get(code or "", "—")

    def state(self, code: str | None) -> str:
        return {
            "ringing": self.tr("Sonne"),
            "dialing": self.tr("Numérotation"),
            "active": self.tr("En cours"),
            "wrap_up": self.tr("Résumé en attente"),
            "saved": self.tr("Enregistré"),
            "missed": self.tr("Manqué"),
            "interrupted": self.tr("Interrompu"),
        }.get(code or "", code or "—")

    def event(self, kind: str) -> str:
        return {
            "withdrawn": self.tr("Retrait du consentement"),
            "withdrawal": self.tr("Retrait du consentement"),
            "objection": self.tr("Opposition à la prospection"),
            "given": self.tr("Consentement donné"),
            "consent_given": self.tr("Consentement donné"),
            "proof_exported": self.tr("Preuve exportée"),
            "proof_requested": self.tr("Preuve demandée"),
            "recording_refused": self.tr("Enregistrement refusé"),
        }.get(kind, kind)

    def owner(self, code: str | None) -> str:
        return {"agent": self.tr("agent"), "company": self.tr("entreprise"), "customer": self.tr("client")}.get(
            code or "", code or "—"
        )

    def speaker(self, code: str) -> str:
        return self.tr("Client") if code == "customer" else self.tr("Agent")


#: The shared instance (the words are looked up at each call, so a language change applies at once).
WORDS = Words()
