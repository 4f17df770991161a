<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="fr_FR">
    <context>
        <name>AgentPanel</name>
        <message>
            <source>Opposition</source>
            <translation>Objection</translation>
        </message>
        <message>
            <source>Le client s'oppose à toute prospection de {professional}. L'enregistrer maintenant ?</source>
            <translation>The customer objects to any marketing by {professional}. Record it now?</translation>
        </message>
        <message>
            <source>Enregistrer l'opposition</source>
            <translation>Record the objection</translation>
        </message>
        <message>
            <source>Retrait du consentement</source>
            <translation>Consent withdrawal</translation>
        </message>
        <message>
            <source>Le client retire son consentement à être appelé par {professional}. L'enregistrer maintenant ?</source>
            <translation>The customer withdraws their consent to be called by {professional}. Record it now?</translation>
        </message>
        <message>
            <source>Enregistrer le retrait</source>
            <translation>Record the withdrawal</translation>
        </message>
        <message>
            <source>Le bandeau passe à INTERDIT : plus aucune offre commerciale.</source>
            <translation>The banner turns FORBIDDEN: no more commercial offers.</translation>
        </message>
        <message>
            <source>Annuler</source>
            <translation>Cancel</translation>
        </message>
        <message>
            <source>Ctrl+Maj+Entrée</source>
            <translation>Ctrl+Shift+Enter</translation>
        </message>
        <message>
            <source>Échap</source>
            <translation>Esc</translation>
        </message>
        <message>
            <source>Ctrl+Maj+R</source>
            <translation>Ctrl+Shift+R</translation>
        </message>
        <message>
            <source>Ctrl+Maj+O</source>
            <translation>Ctrl+Shift+O</translation>
        </message>
        <message>
            <source>Appel</source>
            <translation>Call</translation>
        </message>
        <message>
            <source>Résumé en attente ·{number}</source>
            <translation>Pending summary ·{number}</translation>
        </message>
        <message>
            <source>Résumé ·{number}</source>
            <translation>Summary ·{number}</translation>
        </message>
        <message>
            <source>Résumé à valider de l'appel {number}</source>
            <translation>Summary to validate for call {number}</translation>
        </message>
    </context>
    <context>
        <name>CallInfo</name>
        <message>
            <source>Entrant</source>
            <translation>Inbound</translation>
        </message>
        <message>
            <source>Sortant</source>
            <translation>Outbound</translation>
        </message>
        <message>
            <source>Sonnerie</source>
            <translation>Ringing</translation>
        </message>
        <message>
            <source>Numérotation</source>
            <translation>Dialling</translation>
        </message>
        <message>
            <source>En ligne</source>
            <translation>On the line</translation>
        </message>
        <message>
            <source>Terminé</source>
            <translation>Ended</translation>
        </message>
        <message>
            <source>Enregistré</source>
            <translation>Saved</translation>
        </message>
        <message>
            <source>Manqué</source>
            <translation>Missed</translation>
        </message>
        <message>
            <source>Interrompu</source>
            <translation>Interrupted</translation>
        </message>
        <message>
            <source>Aucun appel</source>
            <translation>No call</translation>
        </message>
        <message>
            <source>numéro masqué</source>
            <translation>withheld number</translation>
        </message>
        <message>
            <source>Numéro {number}</source>
            <translation>Number {number}</translation>
        </message>
        <message>
            <source>{days} j {clock}</source>
            <translation>{days} d {clock}</translation>
        </message>
    </context>
    <context>
        <name>ConsentBanner</name>
        <message>
            <source>AUTORISÉ</source>
            <translation>ALLOWED</translation>
        </message>
        <message>
            <source>CONTRAT SEULEMENT</source>
            <translation>CONTRACT ONLY</translation>
        </message>
        <message>
            <source>INTERDIT</source>
            <translation>FORBIDDEN</translation>
        </message>
        <message>
            <source>AUCUN APPEL</source>
            <translation>NO CALL</translation>
        </message>
        <message>
            <source>À VÉRIFIER</source>
            <translation>TO CHECK</translation>
        </message>
        <message>
            <source>HORS DÉMARCHAGE</source>
            <translation>NOT CANVASSING</translation>
        </message>
        <message>
            <source>DÉMARCHAGE</source>
            <translation>CANVASSING</translation>
        </message>
        <message>
            <source>formulaire web</source>
            <translation>web form</translation>
        </message>
        <message>
            <source>papier signé</source>
            <translation>signed paper</translation>
        </message>
        <message>
            <source>en magasin</source>
            <translation>in store</translation>
        </message>
        <message>
            <source>e-mail</source>
            <translation>email</translation>
        </message>
        <message>
            <source>appel téléphonique</source>
            <translation>phone call</translation>
        </message>
        <message>
            <source>appel enregistré</source>
            <translation>recorded call</translation>
        </message>
        <message>
            <source>fichier d'un partenaire</source>
            <translation>partner's file</translation>
        </message>
        <message>
            <source>Retrait du consentement</source>
            <translation>Consent withdrawal</translation>
        </message>
        <message>
            <source>Le client retire son consentement : enregistré après confirmation ({keys})</source>
            <translation>The customer withdraws consent: recorded after confirmation ({keys})</translation>
        </message>
        <message>
            <source>Opposition</source>
            <translation>Objection</translation>
        </message>
        <message>
            <source>Le client s'oppose à la prospection : enregistré après confirmation ({keys})</source>
            <translation>The customer objects to marketing: recorded after confirmation ({keys})</translation>
        </message>
        <message>
            <source>Confirmer</source>
            <translation>Confirm</translation>
        </message>
        <message>
            <source>Enregistrer ce que le client a dit ({keys})</source>
            <translation>Record what the customer said ({keys})</translation>
        </message>
        <message>
            <source>Ignorer</source>
            <translation>Dismiss</translation>
        </message>
        <message>
            <source>Ce n'était pas un retrait : rien n'est enregistré ({keys})</source>
            <translation>Not a withdrawal: nothing is recorded ({keys})</translation>
        </message>
        <message>
            <source>{confirm} : confirmer · {dismiss} : ignorer</source>
            <translation>{confirm}: confirm · {dismiss}: dismiss</translation>
        </message>
        <message>
            <source>Verdict : {words}</source>
            <translation>Verdict: {words}</translation>
        </message>
        <message>
            <source>Numéro inconnu : aucune offre commerciale sans vérification.</source>
            <translation>Unknown number: no commercial offer without checking.</translation>
        </message>
        <message>
            <source>En attente d'un appel.</source>
            <translation>Waiting for a call.</translation>
        </message>
        <message>
            <source>Raisons ({count})</source>
            <translation>Reasons ({count})</translation>
        </message>
        <message>
            <source>Toutes les raisons de la décision, avec leur règle</source>
            <translation>Every reason for the decision, with its rule</translation>
        </message>
        <message>
            <source>Preuve</source>
            <translation>Proof</translation>
        </message>
        <message>
            <source>Le consentement enregistré : à qui, quand, comment, preuve, texte</source>
            <translation>The consent on record: to whom, when, how, evidence, text</translation>
        </message>
        <message>
            <source>{days} j {clock}</source>
            <translation>{days} d {clock}</translation>
        </message>
        <message>
            <source>Réévaluation…</source>
            <translation>Re-evaluating…</translation>
        </message>
        <message>
            <source>Réévalué à {when} · dans {span}</source>
            <translation>Re-evaluated at {when} · in {span}</translation>
        </message>
        <message>
            <source>Valable jusqu'à {when} · encore {span}</source>
            <translation>Valid until {when} · {span} left</translation>
        </message>
        <message>
            <source>Opposition détectée : « {quote} » — Confirmer ?</source>
            <translation>Objection detected: “{quote}” — Confirm?</translation>
        </message>
        <message>
            <source>Retrait détecté : « {quote} » — Confirmer ?</source>
            <translation>Withdrawal detected: “{quote}” — Confirm?</translation>
        </message>
        <message>
            <source>Décision</source>
            <translation>Decision</translation>
        </message>
        <message>
            <source>Aucun consentement enregistré pour ce numéro et ce professionnel.</source>
            <translation>No consent on record for this number and this professional.</translation>
        </message>
        <message>
            <source>, case pré-cochée</source>
            <translation>, pre-ticked box</translation>
        </message>
        <message>
            <source>, acte positif du client</source>
            <translation>, customer's affirmative act</translation>
        </message>
        <message>
            <source>Donné à</source>
            <translation>Given to</translation>
        </message>
        <message>
            <source>Pour</source>
            <translation>For</translation>
        </message>
        <message>
            <source>Le</source>
            <translation>On</translation>
        </message>
        <message>
            <source>Comment</source>
            <translation>How</translation>
        </message>
        <message>
            <source>Preuve</source>
            <comment>proof row: reference of the evidence</comment>
            <translation>Evidence</translation>
        </message>
        <message>
            <source>Texte affiché</source>
            <translation>Text shown</translation>
        </message>
        <message>
            <source>Empreinte</source>
            <translation>Fingerprint</translation>
        </message>
        <message>
            <source>Retiré le</source>
            <translation>Withdrawn on</translation>
        </message>
    </context>
    <context>
        <name>DisclosureChecklist</name>
        <message>
            <source>Identité de l'agent</source>
            <translation>Agent's identity</translation>
        </message>
        <message>
            <source>Pour le compte de</source>
            <translation>On behalf of</translation>
        </message>
        <message>
            <source>Nature commerciale</source>
            <translation>Commercial nature</translation>
        </message>
        <message>
            <source>Enregistrement annoncé</source>
            <translation>Recording notice</translation>
        </message>
        <message>
            <source>Mentions d'ouverture · sans objet (appel entrant)</source>
            <translation>Opening disclosure · not applicable (inbound call)</translation>
        </message>
        <message>
            <source>Mentions d'ouverture · à dire en début d'appel</source>
            <translation>Opening disclosure · to say first</translation>
        </message>
        <message>
            <source>Mentions d'ouverture · {done}/{total}</source>
            <translation>Opening disclosure · {done}/{total}</translation>
        </message>
    </context>
    <context>
        <name>NextStepsTable</name>
        <message>
            <source>Étape {n} : l'action manque.</source>
            <translation>Step {n}: the action is missing.</translation>
        </message>
        <message>
            <source>Étape {n} : échéance « {due} » illisible (AAAA-MM-JJ ou JJ/MM/AAAA).</source>
            <translation>Step {n}: due date “{due}” not understood (YYYY-MM-DD or DD/MM/YYYY).</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Société</source>
            <translation>Company</translation>
        </message>
        <message>
            <source>Client</source>
            <translation>Customer</translation>
        </message>
        <message>
            <source>Qui s'en charge</source>
            <translation>Who does it</translation>
        </message>
        <message>
            <source>Action, ex. envoyer le devis</source>
            <translation>Action, e.g. send the quote</translation>
        </message>
        <message>
            <source>Action</source>
            <translation>Action</translation>
        </message>
        <message>
            <source>Échéance AAAA-MM-JJ</source>
            <translation>Due YYYY-MM-DD</translation>
        </message>
        <message>
            <source>Échéance</source>
            <translation>Due</translation>
        </message>
        <message>
            <source>+ Ajouter une étape</source>
            <translation>+ Add a step</translation>
        </message>
        <message>
            <source>Supprimer cette étape</source>
            <translation>Remove this step</translation>
        </message>
    </context>
    <context>
        <name>SuggestionList</name>
        <message>
            <source>Présentation</source>
            <translation>Introduction</translation>
        </message>
        <message>
            <source>Prendre acte du retrait</source>
            <translation>Acknowledge the withdrawal</translation>
        </message>
        <message>
            <source>Objection prix</source>
            <translation>Price objection</translation>
        </message>
        <message>
            <source>Pas le temps</source>
            <translation>No time</translation>
        </message>
        <message>
            <source>Origine du consentement</source>
            <translation>Where the consent comes from</translation>
        </message>
        <message>
            <source>Litige facture</source>
            <translation>Billing dispute</translation>
        </message>
        <message>
            <source>Problème technique</source>
            <translation>Technical issue</translation>
        </message>
        <message>
            <source>Demande de résiliation</source>
            <translation>Cancellation request</translation>
        </message>
        <message>
            <source>Sécurité carte bancaire</source>
            <translation>Card payment safety</translation>
        </message>
        <message>
            <source>Refus d'enregistrement</source>
            <translation>Recording refused</translation>
        </message>
        <message>
            <source>Conclusion</source>
            <translation>Closing</translation>
        </message>
        <message>
            <source>Réponses suggérées · clic ou Ctrl+1…3 pour copier</source>
            <translation>Suggested replies · click or Ctrl+1…3 to copy</translation>
        </message>
        <message>
            <source>Réponses suggérées</source>
            <translation>Suggested replies</translation>
        </message>
        <message>
            <source>Aucune suggestion pour l'instant.</source>
            <translation>No suggestion yet.</translation>
        </message>
        <message>
            <source> · copié ✓</source>
            <translation> · copied ✓</translation>
        </message>
        <message>
            <source>Source : {source}</source>
            <translation>Source: {source}</translation>
        </message>
    </context>
    <context>
        <name>SummaryEditor</name>
        <message>
            <source>Le motif de l'appel est à remplir.</source>
            <translation>The reason for the call is missing.</translation>
        </message>
        <message>
            <source>résumé</source>
            <translation>summary</translation>
        </message>
        <message>
            <source>Résumé validé à {when}</source>
            <translation>Summary validated at {when}</translation>
        </message>
        <message>
            <source>Brouillon enregistré à {when}</source>
            <translation>Draft saved at {when}</translation>
        </message>
        <message>
            <source>Résolu</source>
            <translation>Resolved</translation>
        </message>
        <message>
            <source>Partiellement résolu</source>
            <translation>Partly resolved</translation>
        </message>
        <message>
            <source>Non résolu</source>
            <translation>Unresolved</translation>
        </message>
        <message>
            <source>Sans objet</source>
            <translation>Not applicable</translation>
        </message>
        <message>
            <source>Vente</source>
            <translation>Sale</translation>
        </message>
        <message>
            <source>Rendez-vous fixé</source>
            <translation>Appointment set</translation>
        </message>
        <message>
            <source>Rappel planifié</source>
            <translation>Callback scheduled</translation>
        </message>
        <message>
            <source>Demande résolue</source>
            <translation>Request resolved</translation>
        </message>
        <message>
            <source>Transmis (escalade)</source>
            <translation>Escalated</translation>
        </message>
        <message>
            <source>Pas intéressé</source>
            <translation>Not interested</translation>
        </message>
        <message>
            <source>Ne plus appeler</source>
            <translation>Do not call</translation>
        </message>
        <message>
            <source>Information donnée</source>
            <translation>Information given</translation>
        </message>
        <message>
            <source>Résiliation</source>
            <translation>Cancelled</translation>
        </message>
        <message>
            <source>Client retenu</source>
            <translation>Customer retained</translation>
        </message>
        <message>
            <source>Retrait du consentement</source>
            <translation>Consent withdrawal</translation>
        </message>
        <message>
            <source>Opposition à la prospection</source>
            <translation>Objection to marketing</translation>
        </message>
        <message>
            <source>Consentement donné</source>
            <translation>Consent given</translation>
        </message>
        <message>
            <source>Preuve demandée</source>
            <translation>Proof requested</translation>
        </message>
        <message>
            <source>Enregistrement refusé</source>
            <translation>Recording refused</translation>
        </message>
        <message>
            <source>Résumé de l'appel {number} · terminé à {ended}</source>
            <translation>Summary of call {number} · ended at {ended}</translation>
        </message>
        <message>
            <source>&amp;Motif de l'appel</source>
            <translation>&amp;Reason for the call</translation>
        </message>
        <message>
            <source>&amp;Actions menées (une par ligne)</source>
            <translation>&amp;Actions taken (one per line)</translation>
        </message>
        <message>
            <source>&amp;Résolution</source>
            <translation>Res&amp;olution</translation>
        </message>
        <message>
            <source>Prochaines étapes</source>
            <translation>Next steps</translation>
        </message>
        <message>
            <source>&amp;Issue</source>
            <translation>&amp;Disposition</translation>
        </message>
        <message>
            <source>Événements de consentement</source>
            <translation>Consent events</translation>
        </message>
        <message>
            <source>Mentions d'ouverture dites</source>
            <translation>Opening disclosure said</translation>
        </message>
        <message>
            <source>ex. proposition d'offre électricité</source>
            <translation>e.g. electricity offer</translation>
        </message>
        <message>
            <source>Identité</source>
            <translation>Identity</translation>
        </message>
        <message>
            <source>Pour le compte de</source>
            <translation>On behalf of</translation>
        </message>
        <message>
            <source>Nature commerciale</source>
            <translation>Commercial nature</translation>
        </message>
        <message>
            <source>Enregistrement</source>
            <translation>Recording</translation>
        </message>
        <message>
            <source>Valider (Ctrl+Entrée)</source>
            <translation>Validate (Ctrl+Enter)</translation>
        </message>
        <message>
            <source> · réplique {n}</source>
            <translation> · turn {n}</translation>
        </message>
        <message>
            <source>Aucun</source>
            <translation>None</translation>
        </message>
    </context>
    <context>
        <name>TranscriptView</name>
        <message>
            <source>Transcription</source>
            <translation>Transcript</translation>
        </message>
        <message>
            <source>La transcription s'affiche ici pendant l'appel.</source>
            <translation>The transcript shows here during the call.</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Client</source>
            <translation>Customer</translation>
        </message>
        <message>
            <source>▼ {count} nouvelle(s) ligne(s) — revenir en bas</source>
            <translation>▼ {count} new line(s) — back to the bottom</translation>
        </message>
    </context>
</TS>
