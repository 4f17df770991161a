<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="fr_FR">
<context>
    <name>AgentPanel</name>
    <message>
        <location filename="../../desktop/ui/panel.py" line="174"/>
        <source>Opposition</source>
        <translation>Objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="176"/>
        <source>Le client s&apos;oppose à toute prospection de {professional}. L&apos;enregistrer maintenant ?</source>
        <translation>The customer objects to any marketing by {professional}. Record it now?</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="180"/>
        <source>Enregistrer l&apos;opposition</source>
        <translation>Record the objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="182"/>
        <source>Retrait du consentement</source>
        <translation>Consent withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="185"/>
        <source>Le client retire son consentement à être appelé par {professional}. L&apos;enregistrer maintenant ?</source>
        <translation>The customer withdraws their consent to be called by {professional}. Record it now?</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="188"/>
        <source>Enregistrer le retrait</source>
        <translation>Record the withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="189"/>
        <source>Le bandeau passe à INTERDIT : plus aucune offre commerciale.</source>
        <translation>The banner turns FORBIDDEN: no more commercial offers.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="191"/>
        <source>Annuler</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="244"/>
        <source>[votre prénom]</source>
        <translation>[your first name]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="245"/>
        <source>[entreprise]</source>
        <translation>[company]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="246"/>
        <source>[date de l&apos;accord]</source>
        <translation>[date of consent]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="247"/>
        <source>[moyen de l&apos;accord]</source>
        <translation>[how consent was given]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="248"/>
        <source>[référence de la preuve]</source>
        <translation>[proof reference]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="249"/>
        <source>[récapitulatif de l&apos;offre]</source>
        <translation>[recap of the offer]</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="488"/>
        <source>Ctrl+Maj+Entrée</source>
        <translation>Ctrl+Shift+Enter</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="489"/>
        <source>Échap</source>
        <translation>Esc</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="490"/>
        <source>Ctrl+Maj+R</source>
        <translation>Ctrl+Shift+R</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="491"/>
        <source>Ctrl+Maj+O</source>
        <translation>Ctrl+Shift+O</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="501"/>
        <source>Appel</source>
        <translation>Call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="508"/>
        <source>Résumé en attente ·{number}</source>
        <translation>Pending summary ·{number}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="510"/>
        <source>Résumé ·{number}</source>
        <translation>Summary ·{number}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/panel.py" line="513"/>
        <source>Résumé à valider de l&apos;appel {number}</source>
        <translation>Summary to validate for call {number}</translation>
    </message>
</context>
<context>
    <name>AlertTableModel</name>
    <message>
        <location filename="../../desktop/ui/review.py" line="305"/>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="306"/>
        <source>Alerte</source>
        <translation>Alert</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="307"/>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="308"/>
        <source>Numéro</source>
        <translation>Number</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="309"/>
        <source>Source</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="310"/>
        <source>Détail</source>
        <translation>Detail</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="343"/>
        <source>non décroché</source>
        <translation>not answered</translation>
    </message>
</context>
<context>
    <name>CallInfo</name>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="55"/>
        <source>démarchage</source>
        <translation>canvassing</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="56"/>
        <source>contrat en cours</source>
        <translation>ongoing contract</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="57"/>
        <source>service client</source>
        <translation>customer service</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="58"/>
        <source>enquête</source>
        <translation>survey</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="62"/>
        <source>Entrant</source>
        <translation>Inbound</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="62"/>
        <source>Sortant</source>
        <translation>Outbound</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="66"/>
        <source>Sonnerie</source>
        <translation>Ringing</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="67"/>
        <source>Numérotation</source>
        <translation>Dialling</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="68"/>
        <source>En ligne</source>
        <translation>On the line</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="69"/>
        <source>Terminé</source>
        <translation>Ended</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="70"/>
        <source>Enregistré</source>
        <translation>Saved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="71"/>
        <source>Manqué</source>
        <translation>Missed</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="72"/>
        <source>Interrompu</source>
        <translation>Interrupted</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="85"/>
        <location filename="../../desktop/ui/widgets/call_info.py" line="86"/>
        <source>Aucun appel</source>
        <translation>No call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="90"/>
        <source>numéro masqué</source>
        <translation>withheld number</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="92"/>
        <source>Numéro {number}</source>
        <translation>Number {number}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/call_info.py" line="112"/>
        <source>{days} j {clock}</source>
        <translation>{days} d {clock}</translation>
    </message>
</context>
<context>
    <name>ConsentBanner</name>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="306"/>
        <source>AUTORISÉ</source>
        <translation>ALLOWED</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="307"/>
        <source>CONTRAT SEULEMENT</source>
        <translation>CONTRACT ONLY</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="308"/>
        <source>INTERDIT</source>
        <translation>FORBIDDEN</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="311"/>
        <source>AUCUN APPEL</source>
        <translation>NO CALL</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="312"/>
        <source>À VÉRIFIER</source>
        <translation>TO CHECK</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="318"/>
        <source>HORS DÉMARCHAGE</source>
        <translation>NOT CANVASSING</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="319"/>
        <source>DÉMARCHAGE</source>
        <translation>CANVASSING</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="323"/>
        <source>formulaire web</source>
        <translation>web form</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="324"/>
        <source>papier signé</source>
        <translation>signed paper</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="325"/>
        <source>en magasin</source>
        <translation>in store</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="326"/>
        <source>e-mail</source>
        <translation>email</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="327"/>
        <source>appel téléphonique</source>
        <translation>phone call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="328"/>
        <source>appel enregistré</source>
        <translation>recorded call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="329"/>
        <source>fichier d&apos;un partenaire</source>
        <translation>partner&apos;s file</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="334"/>
        <source>Retrait du consentement</source>
        <translation>Consent withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="336"/>
        <source>Le client retire son consentement : enregistré après confirmation ({keys})</source>
        <translation>The customer withdraws consent: recorded after confirmation ({keys})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="340"/>
        <source>Opposition</source>
        <translation>Objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="342"/>
        <source>Le client s&apos;oppose à la prospection : enregistré après confirmation ({keys})</source>
        <translation>The customer objects to marketing: recorded after confirmation ({keys})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="346"/>
        <source>Confirmer</source>
        <translation>Confirm</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="348"/>
        <source>Enregistrer ce que le client a dit ({keys})</source>
        <translation>Record what the customer said ({keys})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="350"/>
        <source>Ignorer</source>
        <translation>Dismiss</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="352"/>
        <source>Ce n&apos;était pas un retrait : rien n&apos;est enregistré ({keys})</source>
        <translation>Not a withdrawal: nothing is recorded ({keys})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="355"/>
        <source>{confirm} : confirmer · {dismiss} : ignorer</source>
        <translation>{confirm}: confirm · {dismiss}: dismiss</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="375"/>
        <source>Verdict : {words}</source>
        <translation>Verdict: {words}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="380"/>
        <source>Numéro inconnu : aucune offre commerciale sans vérification.</source>
        <translation>Unknown number: no commercial offer without checking.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="382"/>
        <source>En attente d&apos;un appel.</source>
        <translation>Waiting for a call.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="386"/>
        <source>Raisons ({count})</source>
        <translation>Reasons ({count})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="389"/>
        <source>Toutes les raisons de la décision, avec leur règle</source>
        <translation>Every reason for the decision, with its rule</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="403"/>
        <source>Preuve</source>
        <translation>Proof</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="404"/>
        <source>Le consentement enregistré : à qui, quand, comment, preuve, texte</source>
        <translation>The consent on record: to whom, when, how, evidence, text</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="426"/>
        <source>{days} j {clock}</source>
        <translation>{days} d {clock}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="428"/>
        <source>Réévaluation…</source>
        <translation>Re-evaluating…</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="430"/>
        <source>Réévalué à {when} · dans {span}</source>
        <translation>Re-evaluated at {when} · in {span}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="432"/>
        <source>Valable jusqu&apos;à {when} · encore {span}</source>
        <translation>Valid until {when} · {span} left</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="440"/>
        <source>{minutes} min</source>
        <translation>{minutes} min</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="443"/>
        <source>{hours} h {minutes:02d}</source>
        <translation>{hours} h {minutes:02d}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="445"/>
        <source>{hours} h</source>
        <translation>{hours} h</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="446"/>
        <source>{days} j</source>
        <translation>{days} d</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="460"/>
        <source>⚠ Consentements jamais synchronisés avec le CRM</source>
        <translation>⚠ Consents never synchronised with the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="462"/>
        <source>⚠ Consentements non synchronisés depuis {age}</source>
        <translation>⚠ Consents not synchronised for {age}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="470"/>
        <source>Aucune synchronisation réussie : une opposition faite ailleurs a pu ne pas arriver, démarchage interdit.</source>
        <translation>No successful synchronisation: an objection made elsewhere may not have arrived, no canvassing.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="474"/>
        <source>Dernière synchronisation des consentements avec le CRM : {when}. Après le {limit}, une opposition faite ailleurs a pu ne pas arriver : démarchage interdit.</source>
        <translation>Last consent synchronisation with the CRM: {when}. After {limit}, an objection made elsewhere may not have arrived: no canvassing.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="464"/>
        <source>Consentements synchronisés à l&apos;instant</source>
        <translation>Consents synchronised just now</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="466"/>
        <source>Consentements synchronisés il y a {age}</source>
        <translation>Consents synchronised {age} ago</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="493"/>
        <source>Opposition détectée : « {quote} » — Confirmer ?</source>
        <translation>Objection detected: “{quote}” — Confirm?</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="495"/>
        <source>Retrait détecté : « {quote} » — Confirmer ?</source>
        <translation>Withdrawal detected: “{quote}” — Confirm?</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="517"/>
        <source>Décision</source>
        <translation>Decision</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="520"/>
        <source>Aucun consentement enregistré pour ce numéro et ce professionnel.</source>
        <translation>No consent on record for this number and this professional.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="528"/>
        <source>, case pré-cochée</source>
        <translation>, pre-ticked box</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="530"/>
        <source>, acte positif du client</source>
        <translation>, customer&apos;s affirmative act</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="531"/>
        <source>Donné à</source>
        <translation>Given to</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="532"/>
        <source>Pour</source>
        <translation>For</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="533"/>
        <source>Le</source>
        <translation>On</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="534"/>
        <source>Comment</source>
        <translation>How</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="535"/>
        <source>Preuve</source>
        <comment>proof row: reference of the evidence</comment>
        <translation>Evidence</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="536"/>
        <source>Texte affiché</source>
        <translation>Text shown</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="537"/>
        <source>Empreinte</source>
        <translation>Fingerprint</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/banner.py" line="539"/>
        <source>Retiré le</source>
        <translation>Withdrawn on</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <location filename="../../desktop/crash.py" line="275"/>
        <source>Agent Assist : erreur</source>
        <translation>Agent Assist: error</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="276"/>
        <source>Agent Assist a rencontré une erreur.</source>
        <translation>Agent Assist hit an error.</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="278"/>
        <source>Les données de l&apos;appel sont enregistrées et en sécurité. Vous pouvez continuer ; si le problème se répète, redémarrez l&apos;application et prévenez le support.</source>
        <translation>The call&apos;s data is saved and safe. You can carry on; if the problem happens again, restart the application and tell support.</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="284"/>
        <source>Rapport d&apos;erreur : {path}</source>
        <translation>Error report: {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="297"/>
        <source>Agent Assist : erreur précédente</source>
        <translation>Agent Assist: earlier error</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="299"/>
        <source>Agent Assist a rencontré une erreur lors d&apos;une utilisation précédente.</source>
        <translation>Agent Assist hit an error the last time it was used.</translation>
    </message>
    <message>
        <location filename="../../desktop/crash.py" line="304"/>
        <source>Les appels en cours ont été conservés. Transmettez ces rapports au support : ils sont dans {folder}</source>
        <translation>The calls in progress were kept. Send these reports to support: they are in {folder}</translation>
    </message>
</context>
<context>
    <name>DisclosureChecklist</name>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="69"/>
        <source>Identité de l&apos;agent</source>
        <translation>Agent&apos;s identity</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="70"/>
        <source>Pour le compte de</source>
        <translation>On behalf of</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="71"/>
        <source>Nature commerciale</source>
        <translation>Commercial nature</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="72"/>
        <source>Enregistrement annoncé</source>
        <translation>Recording notice</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="96"/>
        <source>Mentions d&apos;ouverture · sans objet (appel entrant)</source>
        <translation>Opening disclosure · not applicable (inbound call)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="98"/>
        <source>Mentions d&apos;ouverture · à dire en début d&apos;appel</source>
        <translation>Opening disclosure · to say first</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/checklist.py" line="101"/>
        <source>Mentions d&apos;ouverture · {done}/{total}</source>
        <translation>Opening disclosure · {done}/{total}</translation>
    </message>
</context>
<context>
    <name>InteractionTableModel</name>
    <message>
        <location filename="../../desktop/ui/review.py" line="181"/>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="182"/>
        <source>Durée</source>
        <translation>Duration</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="183"/>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="184"/>
        <source>Numéro</source>
        <translation>Number</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="185"/>
        <source>Sens</source>
        <translation>Direction</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="186"/>
        <source>Verdict</source>
        <translation>Verdict</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="187"/>
        <source>Issue</source>
        <translation>Outcome</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="188"/>
        <source>Retrait</source>
        <translation>Withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="189"/>
        <source>État</source>
        <translation>State</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="190"/>
        <source>Revue</source>
        <translation>Review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="191"/>
        <source>Source</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="223"/>
        <source>{reviewer}, {sync}</source>
        <translation>{reviewer}, {sync}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="247"/>
        <source>Oui</source>
        <translation>Yes</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/ui/main_window.py" line="28"/>
        <source>Outils</source>
        <translation>Tools</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/main_window.py" line="31"/>
        <source>Revue</source>
        <translation>Review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/main_window.py" line="32"/>
        <source>Paramètres</source>
        <translation>Settings</translation>
    </message>
</context>
<context>
    <name>NextStepsTable</name>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="204"/>
        <source>Étape {n} : l&apos;action manque.</source>
        <translation>Step {n}: the action is missing.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="210"/>
        <source>Étape {n} : échéance « {due} » illisible (AAAA-MM-JJ ou JJ/MM/AAAA).</source>
        <translation>Step {n}: due date “{due}” not understood (YYYY-MM-DD or DD/MM/YYYY).</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="219"/>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="219"/>
        <source>Société</source>
        <translation>Company</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="219"/>
        <source>Client</source>
        <translation>Customer</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="237"/>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="238"/>
        <source>Qui s&apos;en charge</source>
        <translation>Who does it</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="239"/>
        <source>Action, ex. envoyer le devis</source>
        <translation>Action, e.g. send the quote</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="240"/>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="241"/>
        <source>Échéance AAAA-MM-JJ</source>
        <translation>Due YYYY-MM-DD</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="242"/>
        <source>Échéance</source>
        <translation>Due</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="224"/>
        <source>+ Ajouter une étape</source>
        <translation>+ Add a step</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="243"/>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="244"/>
        <source>Supprimer cette étape</source>
        <translation>Remove this step</translation>
    </message>
</context>
<context>
    <name>ReviewWindow</name>
    <message>
        <location filename="../../desktop/ui/review.py" line="611"/>
        <source>Agent Assist : revue des appels</source>
        <translation>Agent Assist: call review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="612"/>
        <source>Du</source>
        <translation>From</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="613"/>
        <source>au</source>
        <translation>to</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="614"/>
        <source>A&amp;gent</source>
        <translation>A&amp;gent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="615"/>
        <source>&amp;Issue</source>
        <translation>&amp;Outcome</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="616"/>
        <source>&amp;Verdict</source>
        <translation>&amp;Verdict</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="617"/>
        <source>&amp;Retrait</source>
        <translation>&amp;Withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="619"/>
        <location filename="../../desktop/ui/review.py" line="623"/>
        <location filename="../../desktop/ui/review.py" line="626"/>
        <source>Tous</source>
        <translation>All</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="620"/>
        <location filename="../../desktop/ui/review.py" line="629"/>
        <source>Toutes</source>
        <translation>All</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="627"/>
        <source>Oui</source>
        <translation>Yes</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="628"/>
        <source>Non</source>
        <translation>No</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="632"/>
        <source>Actualiser</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="633"/>
        <source>Relire ce poste et le CRM (Ctrl+F5)</source>
        <translation>Read this station and the CRM again (Ctrl+F5)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="634"/>
        <location filename="../../desktop/ui/review.py" line="1042"/>
        <source>Exporter en CSV</source>
        <translation>Export as CSV</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="635"/>
        <source>Transcription</source>
        <translation>Transcript</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="636"/>
        <source>Résumé</source>
        <translation>Summary</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="637"/>
        <source>Revue du chef d&apos;équipe</source>
        <translation>Team lead&apos;s review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="638"/>
        <source>Co&amp;mmentaire</source>
        <translation>Co&amp;mment</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="639"/>
        <source>Obligatoire pour signaler : ce qui ne va pas</source>
        <translation>Required to flag: what is wrong</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="640"/>
        <source>&amp;Approuver</source>
        <translation>&amp;Approve</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="641"/>
        <source>Approuver cet appel (Alt+A)</source>
        <translation>Approve this call (Alt+A)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="642"/>
        <source>&amp;Signaler…</source>
        <translation>&amp;Flag…</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="643"/>
        <source>Signaler cet appel à l&apos;agent, avec le commentaire (Alt+S)</source>
        <translation>Flag this call to the agent, with the comment (Alt+F)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="646"/>
        <source>Retraits et oppositions pendant les appels, appels commerciaux passés malgré un verdict INTERDIT ; les plus récents d&apos;abord. Entrée ou double-clic : ouvrir l&apos;appel.</source>
        <translation>Withdrawals and objections during calls, commercial calls placed despite a FORBIDDEN verdict; newest first. Enter or double-click: open the call.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="650"/>
        <source>Appels</source>
        <translation>Calls</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="701"/>
        <source>Impossible de lire les appels : {error}</source>
        <translation>Cannot read the calls: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="760"/>
        <source>CRM injoignable : {message}. Les appels de ce poste restent affichés.</source>
        <translation>CRM unreachable: {message}. This station&apos;s calls are still shown.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="770"/>
        <source>Cet appel n&apos;est plus dans la liste.</source>
        <translation>This call is no longer in the list.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="804"/>
        <source>Pour signaler un appel, dites en commentaire ce qui ne va pas.</source>
        <translation>To flag a call, say in the comment what is wrong.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="820"/>
        <source>Revue non enregistrée : {error}</source>
        <translation>Review not recorded: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="824"/>
        <source>{state} : enregistré sur ce poste, envoyé au CRM par la synchronisation.</source>
        <translation>{state}: recorded on this station, sent to the CRM by the sync.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="828"/>
        <source>{state} : enregistré sur ce poste (aucun CRM configuré).</source>
        <translation>{state}: recorded on this station (no CRM configured).</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="839"/>
        <source>Signaler l&apos;appel</source>
        <translation>Flag the call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="841"/>
        <source>Signaler l&apos;appel du {when} (agent {agent}) ?</source>
        <translation>Flag the call of {when} (agent {agent})?</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="845"/>
        <source>Commentaire : « {comment} »</source>
        <translation>Comment: “{comment}”</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="846"/>
        <source>Signaler</source>
        <translation>Flag</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="847"/>
        <source>Annuler</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="857"/>
        <source>ce poste ({station})</source>
        <translation>this station ({station})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="857"/>
        <source>ce poste</source>
        <translation>this station</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="859"/>
        <source>Source : {here} seulement. Le CRM {crm} n&apos;est pas utilisable : {message}</source>
        <translation>Source: {here} only. The CRM {crm} cannot be used: {message}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="862"/>
        <source>Source : {here} seulement. Aucun CRM configuré : les appels des autres postes ne sont pas listés.</source>
        <translation>Source: {here} only. No CRM configured: other stations&apos; calls are not listed.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="865"/>
        <source>Source : {here} et le CRM {crm} (lecture en cours…)</source>
        <translation>Source: {here} and the CRM {crm} (reading…)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="867"/>
        <source>Source : {here} et le CRM {crm} ({count} appel(s) lus à {when})</source>
        <translation>Source: {here} and the CRM {crm} ({count} call(s) read at {when})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="869"/>
        <source>Source : {here} ; le CRM {crm} n&apos;a pas répondu ({when}).</source>
        <translation>Source: {here}; the CRM {crm} did not answer ({when}).</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="878"/>
        <source>Alertes ({count})</source>
        <translation>Alerts ({count})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="887"/>
        <source>{count} appel(s)</source>
        <translation>{count} call(s)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="814"/>
        <location filename="../../desktop/ui/review.py" line="898"/>
        <source>Sélectionnez un appel dans la liste.</source>
        <translation>Select a call in the list.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="618"/>
        <source>Rev&amp;ue</source>
        <translation>R&amp;eview</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="890"/>
        <source> dont {remote} d&apos;autres postes (CRM)</source>
        <translation>, {remote} of them from other stations (CRM)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="937"/>
        <source>dans le CRM</source>
        <translation>in the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="942"/>
        <source>{state} par {reviewer} le {when}</source>
        <translation>{state} by {reviewer} on {when}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="995"/>
        <source>Validé par {agent} le {when}</source>
        <translation>Validated by {agent} on {when}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="999"/>
        <source>Résumé lu dans le CRM</source>
        <translation>Summary read from the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1001"/>
        <source>Brouillon (non validé)</source>
        <translation>Draft (not validated)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1003"/>
        <source>Motif</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1004"/>
        <source>Issue</source>
        <translation>Outcome</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1005"/>
        <source>Résolution</source>
        <translation>Resolution</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1028"/>
        <source>Identité</source>
        <translation>Identity</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1029"/>
        <source>Pour le compte de</source>
        <translation>On behalf of</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1030"/>
        <source>Nature commerciale</source>
        <translation>Commercial nature</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1031"/>
        <source>Enregistrement</source>
        <translation>Recording</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1042"/>
        <source>Fichiers CSV (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1060"/>
        <source>Export impossible : {error}</source>
        <translation>Export failed: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="1063"/>
        <source>{count} appel(s) exporté(s) vers {path}</source>
        <translation>{count} call(s) exported to {path}</translation>
    </message>
</context>
<context>
    <name>ReviewWords</name>
    <message>
        <location filename="../../desktop/ui/review.py" line="109"/>
        <source>À revoir</source>
        <translation>To review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="110"/>
        <source>Approuvé</source>
        <translation>Approved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="111"/>
        <source>Signalé</source>
        <translation>Flagged</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="116"/>
        <source>Ce poste</source>
        <translation>This station</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="118"/>
        <source>Ce poste + CRM</source>
        <translation>This station + CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="119"/>
        <source>CRM · {station}</source>
        <translation>CRM · {station}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="119"/>
        <source>CRM</source>
        <translation>CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="123"/>
        <source>Retrait du consentement</source>
        <translation>Consent withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="124"/>
        <source>Opposition</source>
        <translation>Objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="125"/>
        <source>Appel commercial malgré INTERDIT</source>
        <translation>Commercial call despite FORBIDDEN</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="132"/>
        <source>envoyée au CRM</source>
        <translation>sent to the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="134"/>
        <source>refusée par le CRM : {message}</source>
        <translation>refused by the CRM: {message}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/review.py" line="135"/>
        <source>en attente d&apos;envoi au CRM</source>
        <translation>waiting to be sent to the CRM</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="165"/>
        <source>Paramètres du poste</source>
        <extracomment>Shown after the label (or the text of a check box) of a setting the machine policy locks. The machine policy (default: this machine&apos;s); MalformedPolicyError when it is broken.</extracomment>
        <translation>Station settings</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="167"/>
        <source>&amp;Entreprise (professionnel)</source>
        <translation>&amp;Company (professional)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="168"/>
        <source>&amp;Numéro présenté</source>
        <translation>&amp;Caller ID</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="169"/>
        <source>Produit par &amp;défaut</source>
        <translation>&amp;Default product</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="170"/>
        <source>Identifiant &amp;agent</source>
        <translation>&amp;Agent id</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="171"/>
        <source>&amp;Langue</source>
        <translation>&amp;Language</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="172"/>
        <source>&amp;Fenêtre</source>
        <translation>&amp;Window</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="176"/>
        <source>Toujours au premier plan (au-dessus du softphone)</source>
        <translation>Always on top (above the softphone)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="177"/>
        <source>ex. ACME Énergie SAS</source>
        <translation>e.g. ACME Énergie SAS</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="178"/>
        <source>ex. 01 62 00 00 01 ou +33162000001</source>
        <translation>e.g. 01 62 00 00 01 or +33162000001</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="179"/>
        <source>ex. electricity</source>
        <translation>e.g. electricity</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="180"/>
        <source>ex. agent-7</source>
        <translation>e.g. agent-7</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="181"/>
        <source>La langue change au prochain démarrage.</source>
        <translation>The language changes at the next start.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="182"/>
        <source>Téléphonie (au prochain démarrage)</source>
        <translation>Telephony (at the next start)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="185"/>
        <source>&amp;Sources</source>
        <translation>&amp;Sources</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="185"/>
        <source>&amp;baresip (ctrl_tcp)</source>
        <translation>&amp;baresip (ctrl_tcp)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="185"/>
        <source>Appel sortant &amp;interdit</source>
        <translation>&amp;Forbidden outbound call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="189"/>
        <source>Commandes</source>
        <translation>Commands</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="189"/>
        <source>API locale</source>
        <translation>Local API</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="192"/>
        <source>Le softphone lance « agent-assist event … » à chaque appel (MicroSIP et semblables).</source>
        <translation>The softphone runs “agent-assist event …” on each call (MicroSIP and similar).</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="194"/>
        <source>API HTTP locale (127.0.0.1, jeton) pour numéroteurs et CTI.</source>
        <translation>Local HTTP API (127.0.0.1, token) for diallers and CTI.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="195"/>
        <source>Se connecter au softphone au démarrage</source>
        <translation>Connect to the softphone at start</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="196"/>
        <source>Transcrire les appels sur ce poste (enregistrements de baresip)</source>
        <translation>Transcribe calls on this station (baresip recordings)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="197"/>
        <source>Avertir (bandeau rouge)</source>
        <translation>Warn (red banner)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="198"/>
        <source>Raccrocher automatiquement</source>
        <translation>Hang up automatically</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="199"/>
        <source>Enregistrer</source>
        <translation>Save</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="200"/>
        <source>Annuler</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="205"/>
        <source>Défini par votre service informatique</source>
        <translation>Set by your IT department</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="219"/>
        <source>Certains paramètres sont définis par votre service informatique.</source>
        <translation>Some settings are set by your IT department.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="255"/>
        <source>Numéro présenté invalide : « {number} ».</source>
        <translation>Invalid caller ID: “{number}”.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="265"/>
        <source>Adresse de baresip manquante.</source>
        <translation>baresip&apos;s address is missing.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/settings_dialog.py" line="296"/>
        <source>Impossible d&apos;enregistrer les paramètres : {error}</source>
        <translation>Cannot save the settings: {error}</translation>
    </message>
</context>
<context>
    <name>StatusTray</name>
    <message>
        <location filename="../../desktop/ui/tray.py" line="101"/>
        <source>Afficher</source>
        <extracomment>Call states (desktop.core.telephony.session.State) and the tray status they mean. States of a call source (baresip&apos;s socket, the local API) shown in the menu and the tooltip. States of the CRM sync line (desktop.ui.sync_view.SyncHealth decides which), worst last.</extracomment>
        <translation>Show</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="102"/>
        <source>Revue</source>
        <translation>Review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="103"/>
        <source>Synchronisation…</source>
        <translation>Synchronisation…</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="105"/>
        <source>Paramètres</source>
        <translation>Settings</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="106"/>
        <source>Connecter le softphone</source>
        <translation>Connect the softphone</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="109"/>
        <source>Quitter</source>
        <translation>Quit</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="139"/>
        <source>Prêt</source>
        <translation>Ready</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="140"/>
        <source>Appel en cours</source>
        <translation>Call in progress</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="141"/>
        <source>Résumé en attente</source>
        <translation>Summary pending</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="142"/>
        <source>Erreur</source>
        <translation>Error</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="155"/>
        <source>connecté</source>
        <translation>connected</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="156"/>
        <source>connexion…</source>
        <translation>connecting…</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="157"/>
        <source>déconnecté</source>
        <translation>disconnected</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="158"/>
        <source>à l&apos;écoute</source>
        <translation>listening</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="159"/>
        <source>erreur</source>
        <translation>error</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="207"/>
        <source>{n} en attente</source>
        <translation>{n} pending</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="209"/>
        <source>CRM : identifiants refusés</source>
        <translation>CRM: credentials refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="212"/>
        <source>CRM injoignable</source>
        <translation>CRM unreachable</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="214"/>
        <source>CRM injoignable depuis {n} min</source>
        <translation>CRM unreachable for {n} min</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="215"/>
        <source>CRM injoignable depuis {n} h</source>
        <translation>CRM unreachable for {n} h</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="217"/>
        <source>CRM : synchronisation arrêtée</source>
        <translation>CRM: sync stopped</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="219"/>
        <source>CRM : connexion…</source>
        <translation>CRM: connecting…</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="221"/>
        <source>1 refusé</source>
        <translation>1 refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="221"/>
        <source>{n} refusés</source>
        <translation>{n} refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="222"/>
        <location filename="../../desktop/ui/tray.py" line="224"/>
        <source>CRM : {what}</source>
        <translation>CRM: {what}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/tray.py" line="225"/>
        <source>CRM : à jour</source>
        <translation>CRM: up to date</translation>
    </message>
</context>
<context>
    <name>SuggestionList</name>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="288"/>
        <source>↳ Ctrl+0 · Variante adaptée ({model})</source>
        <extracomment>Copies the model&apos;s variant of the top reply (the digit before 1). The list row holding the variant, under the top suggestion.</extracomment>
        <translation>↳ Ctrl+0 · Adapted variant ({model})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="290"/>
        <source> · en cours… (Échap pour arrêter)</source>
        <translation> · in progress… (Esc to stop)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="292"/>
        <source> · arrêtée</source>
        <translation> · stopped</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="294"/>
        <source> · à vérifier : {problems}</source>
        <translation> · to check: {problems}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="296"/>
        <source> · copiée ✓</source>
        <translation> · copied ✓</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="300"/>
        <source>Adaptée par le modèle de la réponse approuvée {source}, qui reste affichée au-dessus.</source>
        <translation>Adapted by the model from the approved reply {source}, which stays shown above.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="338"/>
        <source>Présentation</source>
        <translation>Introduction</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="339"/>
        <source>Prendre acte du retrait</source>
        <translation>Acknowledge the withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="340"/>
        <source>Objection prix</source>
        <translation>Price objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="341"/>
        <source>Pas le temps</source>
        <translation>No time</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="342"/>
        <source>Origine du consentement</source>
        <translation>Where the consent comes from</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="343"/>
        <source>Litige facture</source>
        <translation>Billing dispute</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="344"/>
        <source>Problème technique</source>
        <translation>Technical issue</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="345"/>
        <source>Demande de résiliation</source>
        <translation>Cancellation request</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="346"/>
        <source>Sécurité carte bancaire</source>
        <translation>Card payment safety</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="347"/>
        <source>Refus d&apos;enregistrement</source>
        <translation>Recording refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="348"/>
        <source>Conclusion</source>
        <translation>Closing</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="354"/>
        <source>Réponses suggérées · clic ou Ctrl+1…3 pour copier, Ctrl+0 la variante</source>
        <translation>Suggested replies · click or Ctrl+1…3 to copy, Ctrl+0 the variant</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="356"/>
        <source>Réponses suggérées · clic ou Ctrl+1…3 pour copier</source>
        <translation>Suggested replies · click or Ctrl+1…3 to copy</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="357"/>
        <source>Réponses suggérées</source>
        <translation>Suggested replies</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="373"/>
        <source>Aucune suggestion pour l&apos;instant.</source>
        <translation>No suggestion yet.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="397"/>
        <source> · copié ✓</source>
        <translation> · copied ✓</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/suggestions.py" line="399"/>
        <source>Source : {source}</source>
        <translation>Source: {source}</translation>
    </message>
</context>
<context>
    <name>SummaryEditor</name>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="598"/>
        <source>Le motif de l&apos;appel est à remplir.</source>
        <extracomment>The generator request whose prose this editor waits for (None: none expected).</extracomment>
        <translation>The reason for the call is missing.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="613"/>
        <source>résumé</source>
        <translation>summary</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="648"/>
        <source>Résumé validé à {when}</source>
        <translation>Summary validated at {when}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="650"/>
        <source>Brouillon enregistré à {when}</source>
        <translation>Draft saved at {when}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="668"/>
        <source>Résumé de l&apos;appel {number} · terminé à {ended}</source>
        <translation>Summary of call {number} · ended at {ended}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="671"/>
        <source>&amp;Motif de l&apos;appel</source>
        <translation>&amp;Reason for the call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="672"/>
        <source>&amp;Actions menées (une par ligne)</source>
        <translation>&amp;Actions taken (one per line)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="673"/>
        <source>&amp;Résolution</source>
        <translation>Res&amp;olution</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="674"/>
        <source>Prochaines étapes</source>
        <translation>Next steps</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="675"/>
        <source>&amp;Issue</source>
        <translation>&amp;Disposition</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="676"/>
        <source>Événements de consentement</source>
        <translation>Consent events</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="677"/>
        <source>Mentions d&apos;ouverture dites</source>
        <translation>Opening disclosure said</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="681"/>
        <source>ex. proposition d&apos;offre électricité</source>
        <translation>e.g. electricity offer</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="687"/>
        <source>Identité</source>
        <translation>Identity</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="688"/>
        <source>Pour le compte de</source>
        <translation>On behalf of</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="689"/>
        <source>Nature commerciale</source>
        <translation>Commercial nature</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="690"/>
        <source>Enregistrement</source>
        <translation>Recording</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="694"/>
        <source>Valider (Ctrl+Entrée)</source>
        <translation>Validate (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="705"/>
        <source>motif</source>
        <translation>reason</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="707"/>
        <source>actions</source>
        <translation>actions</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="707"/>
        <source>étapes</source>
        <translation>next steps</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="709"/>
        <source>action {n}</source>
        <translation>action {n}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="710"/>
        <source>étape {n}</source>
        <translation>step {n}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="721"/>
        <source>Le modèle rédige le résumé… les champs que vous modifiez d&apos;ici là sont gardés.</source>
        <translation>The model is writing the summary… fields you edit meanwhile are kept.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="723"/>
        <source>Rédaction par le modèle arrêtée : texte extrait gardé.</source>
        <translation>Model writing stopped: extracted text kept.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="725"/>
        <source>Modèle indisponible : texte extrait gardé.</source>
        <translation>Model unavailable: extracted text kept.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="729"/>
        <source>Rédigé par le modèle {model} : {fields}. À relire.</source>
        <translation>Written by the model {model}: {fields}. Please review.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="733"/>
        <source>Le modèle {model} n&apos;a rien changé : texte extrait gardé.</source>
        <translation>The model {model} changed nothing: extracted text kept.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="738"/>
        <source>Gardé tel qu&apos;extrait (fait absent de l&apos;appel) : {fields}.</source>
        <translation>Kept as extracted (fact not in the call): {fields}.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="741"/>
        <source>Résumé mis à jour avec la fin de la transcription.</source>
        <translation>Summary updated with the end of the transcript.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="754"/>
        <source> · réplique {n}</source>
        <translation> · turn {n}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/summary_editor.py" line="757"/>
        <source>Aucun</source>
        <translation>None</translation>
    </message>
</context>
<context>
    <name>SyncDialog</name>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="398"/>
        <source>Synchronisation avec le CRM</source>
        <translation>Synchronisation with the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="401"/>
        <source>Le CRM a refusé ces entrées : elles restent sur ce poste et ne sont pas renvoyées seules. Faites corriger la cause indiquée par le CRM, puis réessayez.</source>
        <translation>The CRM refused these entries: they stay on this workstation and are not sent again by themselves. Have the cause given by the CRM fixed, then retry.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="405"/>
        <source>N°</source>
        <translation>No.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="405"/>
        <source>Refusé</source>
        <translation>Refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="405"/>
        <source>Depuis</source>
        <translation>Since</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="405"/>
        <source>Message du CRM</source>
        <translation>CRM message</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="406"/>
        <source>Entrées refusées par le CRM</source>
        <translation>Entries refused by the CRM</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="407"/>
        <source>Aucune entrée refusée par le CRM.</source>
        <translation>No entry refused by the CRM.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="408"/>
        <source>&amp;Réessayer</source>
        <translation>&amp;Retry</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="409"/>
        <source>Renvoyer les entrées sélectionnées au CRM (Entrée)</source>
        <translation>Send the selected entries to the CRM again (Enter)</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="410"/>
        <source>&amp;Tout réessayer</source>
        <translation>Retry &amp;all</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="411"/>
        <source>&amp;Actualiser</source>
        <translation>R&amp;efresh</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="412"/>
        <source>Fermer</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="431"/>
        <source>jamais</source>
        <translation>never</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="433"/>
        <source>Dernier envoi : {push} · dernière réception des consentements : {pull}</source>
        <translation>Last push: {push} · last consent pull: {pull}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="450"/>
        <source>… et {n} autre(s)</source>
        <translation>… and {n} more</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="486"/>
        <source>Message du CRM : {message}</source>
        <translation>CRM message: {message}</translation>
    </message>
</context>
<context>
    <name>SyncNotice</name>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="265"/>
        <source>Voir</source>
        <translation>View</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="266"/>
        <source>Ouvrir la synchronisation ({shortcut})</source>
        <translation>Open the synchronisation ({shortcut})</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="267"/>
        <location filename="../../desktop/ui/sync_view.py" line="268"/>
        <source>Masquer</source>
        <translation>Hide</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="280"/>
        <source>Le CRM refuse {what} : {message}</source>
        <translation>The CRM refuses {what}: {message}</translation>
    </message>
</context>
<context>
    <name>SyncView</name>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="180"/>
        <source>le résumé de l&apos;appel du {time}</source>
        <extracomment>While the CRM is unreachable, the tray&apos;s &quot;depuis n min&quot; is redone this often (no worker report comes then). The sync view&apos;s shortcut in the main window.</extracomment>
        <translation>the summary of the call of {time}</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="185"/>
        <source>un retrait de consentement</source>
        <translation>a consent withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="186"/>
        <source>une opposition</source>
        <translation>an objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="187"/>
        <source>un consentement</source>
        <translation>a consent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="188"/>
        <source>un événement de consentement</source>
        <translation>a consent event</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="191"/>
        <source>une revue d&apos;appel</source>
        <translation>a call review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="198"/>
        <source>le résumé</source>
        <translation>the summary</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="201"/>
        <source>le retrait</source>
        <translation>the withdrawal</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="202"/>
        <source>l&apos;opposition</source>
        <translation>the objection</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="203"/>
        <source>le consentement</source>
        <translation>the consent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="204"/>
        <source>l&apos;événement</source>
        <translation>the event</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="206"/>
        <source>la revue</source>
        <translation>the review</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/sync_view.py" line="553"/>
        <source>Synchronisation</source>
        <translation>Synchronisation</translation>
    </message>
</context>
<context>
    <name>TranscriptView</name>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="200"/>
        <source>Transcription</source>
        <translation>Transcript</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="201"/>
        <source>La transcription s&apos;affiche ici pendant l&apos;appel.</source>
        <translation>The transcript shows here during the call.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="215"/>
        <source>Transcription provisoire : le texte sera affiné dans un instant.</source>
        <translation>Provisional transcript: the text will be refined in a moment.</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="220"/>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="220"/>
        <source>Client</source>
        <translation>Customer</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/widgets/transcript.py" line="230"/>
        <source>▼ {count} nouvelle(s) ligne(s) — revenir en bas</source>
        <translation>▼ {count} new line(s) — back to the bottom</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <location filename="../../desktop/ui/words.py" line="18"/>
        <source>AUTORISÉ</source>
        <translation>ALLOWED</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="19"/>
        <source>CONTRAT SEULEMENT</source>
        <translation>CONTRACT ONLY</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="20"/>
        <source>INTERDIT</source>
        <translation>FORBIDDEN</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="25"/>
        <source>Vente</source>
        <translation>Sale</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="26"/>
        <source>Rendez-vous fixé</source>
        <translation>Appointment set</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="27"/>
        <source>Rappel planifié</source>
        <translation>Callback scheduled</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="28"/>
        <source>Demande résolue</source>
        <translation>Request resolved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="29"/>
        <source>Transmis (escalade)</source>
        <translation>Escalated</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="30"/>
        <source>Pas intéressé</source>
        <translation>Not interested</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="31"/>
        <source>Ne plus appeler</source>
        <translation>Do not call</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="32"/>
        <source>Information donnée</source>
        <translation>Information given</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="33"/>
        <source>Résiliation</source>
        <translation>Cancellation</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="34"/>
        <source>Client retenu</source>
        <translation>Customer retained</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="39"/>
        <source>Résolu</source>
        <translation>Resolved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="40"/>
        <source>Partiellement résolu</source>
        <translation>Partly resolved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="41"/>
        <source>Non résolu</source>
        <translation>Not resolved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="42"/>
        <source>Sans objet</source>
        <translation>Not applicable</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="46"/>
        <source>Entrant</source>
        <translation>Inbound</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="46"/>
        <source>Sortant</source>
        <translation>Outbound</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="50"/>
        <source>Sonne</source>
        <translation>Ringing</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="51"/>
        <source>Numérotation</source>
        <translation>Dialling</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="52"/>
        <source>En cours</source>
        <translation>In progress</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="53"/>
        <source>Résumé en attente</source>
        <translation>Summary pending</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="54"/>
        <source>Enregistré</source>
        <translation>Saved</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="55"/>
        <source>Manqué</source>
        <translation>Missed</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="56"/>
        <source>Interrompu</source>
        <translation>Interrupted</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="61"/>
        <location filename="../../desktop/ui/words.py" line="62"/>
        <source>Retrait du consentement</source>
        <translation>Consent withdrawn</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="63"/>
        <source>Opposition à la prospection</source>
        <translation>Objection to marketing</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="64"/>
        <location filename="../../desktop/ui/words.py" line="65"/>
        <source>Consentement donné</source>
        <translation>Consent given</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="66"/>
        <source>Preuve exportée</source>
        <translation>Proof exported</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="67"/>
        <source>Preuve demandée</source>
        <translation>Proof requested</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="68"/>
        <source>Enregistrement refusé</source>
        <translation>Recording refused</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="72"/>
        <source>agent</source>
        <translation>agent</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="72"/>
        <source>entreprise</source>
        <translation>company</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="72"/>
        <source>client</source>
        <translation>customer</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="77"/>
        <source>Client</source>
        <translation>Customer</translation>
    </message>
    <message>
        <location filename="../../desktop/ui/words.py" line="77"/>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
</context>
</TS>
