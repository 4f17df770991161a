"""The extractive summary engine on the labelled calls and on small made-up calls: rules, classification (the
lexical stand-in; the real embedder is in tests/integration/test_summaries.py), incremental drafting, what is never
quoted, and the generator seam (facts checked against the transcript)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop.core.assist.extract import Turn
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.summarize import (
    DETECTION_KINDS,
    CallInfo,
    Classifier,
    Prose,
    SummaryDraft,
    Vectors,
    apply_prose,
    draft_summary,
    facts_supported,
    lexical_embed,
    load_prototypes,
    read_corpus_call,
)
from desktop.core.assist.summary import Summary, parse_summary
from desktop.core.consent.policy import load_policy
from desktop.core.errors import InputError

CALLS = Path(__file__).resolve().parents[3] / "data" / "calls"
STARTED = dt.datetime(2026, 11, 24, 11, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # a Tuesday
INBOUND = CallInfo("inbound", "service", "ACME Énergie SAS")
OUTBOUND = CallInfo("outbound", "prospection", "ACME Énergie SAS")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_prototypes())


@pytest.fixture(scope="module")
def detector() -> PhraseDetector:
    phrases = load_policy().data.phrases
    return PhraseDetector({kind: getattr(phrases, kind) for kind in DETECTION_KINDS})


def _turns(*lines: str) -> list[Turn]:
    """« A: … » agent, « C: … » customer, 10 s apart."""
    return [Turn("agent" if line[0] == "A" else "customer", line[3:], start=10.0 * k) for k, line in enumerate(lines)]


def _corpus(name: str) -> dict:
    return json.loads((CALLS / f"{name}.json").read_text(encoding="utf-8"))


def _draft(name: str, classifier: Classifier, detector: PhraseDetector) -> Summary:
    call = read_corpus_call(_corpus(name), name)
    return draft_summary(
        call.call, call.segments, None, started_at=call.started_at, classifier=classifier, detector=detector
    )


def test_every_corpus_draft_is_a_valid_summary_and_leaks_nothing(classifier: Classifier, detector) -> None:
    for path in sorted(CALLS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        summary = _draft(path.stem, classifier, detector)
        body = summary.to_json()
        assert parse_summary(json.loads(json.dumps(body))) == summary  # stored and synced as JSON
        assert body["generated_by"] == {"method": "extractive", "model": None}
        dumped = json.dumps(body, ensure_ascii=False)
        for secret in data["labels"]["must_not_appear_in_summary"]:
            assert secret not in dumped, (path.name, secret)


def test_a_card_read_aloud_never_reaches_the_summary_even_unredacted(classifier: Classifier) -> None:
    turns = _turns(
        "A: Je vous envoie le lien de paiement.",
        "C: Alors c'est 4970 1012 3456 7893, et mon IBAN FR76 3000 6000 0112 3456 7890 189.",
    )
    body = json.dumps(
        draft_summary(INBOUND, turns, None, started_at=STARTED, classifier=classifier).to_json(), ensure_ascii=False
    )
    for secret in ("4970", "7893", "FR76", "0112", "7890 189"):
        assert secret not in body
    assert "coordonnées bancaires" in body  # the interruption is an action of the call


def test_sensitive_sentences_are_never_quoted(classifier: Classifier) -> None:
    turns = _turns(
        "A: Bonjour, je vous écoute.",
        "C: Ma mère est cardiaque et la téléalarme ne marche plus, j'ai plus internet depuis hier.",
        "C: Mon email c'est jean point dupont arobase example point com, j'ai une panne de box depuis hier.",
        "C: Je n'ai plus internet du tout, la box est en panne.",
    )
    summary = draft_summary(INBOUND, turns, None, started_at=STARTED, classifier=classifier)
    dumped = json.dumps(summary.to_json(), ensure_ascii=False)
    assert "cardiaque" not in dumped and "arobase" not in dumped
    assert "Je n'ai plus internet du tout" in summary.reason


def test_withdrawal_detected_without_a_session_gives_do_not_call(classifier: Classifier, detector) -> None:
    summary = _draft("call-04", classifier, detector)
    assert summary.disposition == "do_not_call"
    assert [(e.kind, e.segment) for e in summary.consent_events] == [("proof_requested", 4), ("withdrawal", 9)]
    assert summary.resolution == "not_applicable"


def test_the_sessions_confirmed_events_are_the_truth_for_withdrawals(classifier: Classifier, detector) -> None:
    call = read_corpus_call(_corpus("call-04"), "call-04")
    at = call.started_at + dt.timedelta(minutes=2)
    confirmed = [{"kind": "withdrawal", "at": at.isoformat(), "segment": 9}]
    summary = draft_summary(
        call.call, call.segments, confirmed, started_at=call.started_at, classifier=classifier, detector=detector
    )
    withdrawals = [e for e in summary.consent_events if e.kind == "withdrawal"]
    assert len(withdrawals) == 1 and withdrawals[0].at == at
    # the agent dismissed the prompt: a session without the event keeps the call out of do_not_call
    dismissed = draft_summary(
        call.call, call.segments, [], started_at=call.started_at, classifier=classifier, detector=detector
    )
    assert "withdrawal" not in {e.kind for e in dismissed.consent_events}
    assert dismissed.disposition != "do_not_call"


def test_callback_agreed_at_a_precise_time_is_consent_given(classifier: Classifier, detector) -> None:
    summary = _draft("call-07", classifier, detector)
    assert [(e.kind, e.segment) for e in summary.consent_events] == [("consent_given", 15)]
    assert summary.disposition == "callback_scheduled" and summary.resolution == "partial"
    assert {s.due for s in summary.next_steps if s.due} == {dt.date(2026, 11, 28)}


def test_a_callback_proposed_but_not_accepted_is_no_consent(classifier: Classifier) -> None:
    turns = _turns(
        "C: Je voudrais résilier mon abonnement.",
        "A: Je vous propose un rappel jeudi 26 novembre à dix heures ?",
        "C: Non, ne me rappelez pas, je veux juste résilier.",
    )
    summary = draft_summary(INBOUND, turns, None, started_at=STARTED, classifier=classifier)
    assert "consent_given" not in {e.kind for e in summary.consent_events}
    assert summary.disposition != "callback_scheduled"


def test_a_visit_booked_and_accepted_is_an_appointment(classifier: Classifier, detector) -> None:
    summary = _draft("call-01", classifier, detector)
    assert summary.disposition == "appointment_set" and summary.resolution == "partial"
    assert summary.entities.references == ["FT 30 58 21 47", "INC 784 512"]
    assert summary.entities.amounts_eur == [79.0]
    assert "Appel entrant" in summary.reason and "internet" in summary.reason


def test_an_offer_call_is_not_applicable_and_a_sale_is_classified(classifier: Classifier, detector) -> None:
    summary = _draft("call-06", classifier, detector)
    assert summary.disposition == "sale" and summary.resolution == "not_applicable"
    assert summary.opening_disclosure.model_dump() == {
        "identity": True, "on_behalf_of": False, "commercial_nature": True, "recording_notice": False,
    }  # fmt: skip
    assert {s.due for s in summary.next_steps if s.due} == {dt.date(2026, 12, 1), dt.date(2026, 12, 3)}


def test_inbound_calls_have_no_opening_checklist(classifier: Classifier) -> None:
    turns = _turns("A: ACME Énergie, Youssef, cet appel est enregistré.", "C: J'ai été prélevée deux fois.")
    summary = draft_summary(INBOUND, turns, None, started_at=STARTED, classifier=classifier)
    assert summary.opening_disclosure.model_dump() == dict.fromkeys(
        ("identity", "on_behalf_of", "commercial_nature", "recording_notice"), False
    )


def test_incremental_drafting_gives_the_same_summary(classifier: Classifier, detector) -> None:
    call = read_corpus_call(_corpus("call-02"), "call-02")
    draft = SummaryDraft(call.call, started_at=call.started_at, classifier=classifier, detector=detector)
    for k, segment in enumerate(call.segments):
        draft.add(segment)
        if k % 5 == 0:
            draft.embed_pending()  # what the worker does between segments
    once = draft_summary(
        call.call, call.segments, None, started_at=call.started_at, classifier=classifier, detector=detector
    )
    assert draft.finish(None) == once
    assert draft.embed_pending() == 0  # finish() left nothing to embed


# -- a segment's text replaced (a provisional transcription refined) ---------------------------------------------


class CountingEmbed:
    """An embedder double: the lexical stand-in, recording what it embeds; ``hold()`` makes its next call wait
    until ``release`` is set (an embedding in flight on the worker)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self._holding = False

    def hold(self) -> None:
        self._holding = True
        self.entered.clear()
        self.release.clear()

    def __call__(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        if self._holding:
            self._holding = False
            self.entered.set()
            assert self.release.wait(5), "the test never released the embedder"
        return lexical_embed(texts)


@pytest.fixture
def counting() -> tuple[Classifier, CountingEmbed]:
    embed = CountingEmbed()
    model = Classifier(load_prototypes(), embed, name="counting")
    embed.texts.clear()  # the prototypes, embedded once when built
    return model, embed


def _drafted(turns: Sequence[Turn], classifier: Classifier, detector=None, call=INBOUND) -> SummaryDraft:
    draft = SummaryDraft(call, started_at=STARTED, classifier=classifier, detector=detector)
    for turn in turns:
        draft.add(turn)
    return draft


def _assert_same(draft: SummaryDraft, direct: SummaryDraft) -> None:
    """``draft`` holds what ``direct`` (built with the final texts from the start) holds, and drafts the same."""
    assert draft.turns == direct.turns  # texts, sentences, detections, per-turn entities and commitments
    assert draft.entities == direct.entities
    assert draft.commitments == direct.commitments
    assert draft.masked == direct.masked
    assert draft._sentences == direct._sentences
    assert draft.finish(None).to_json() == direct.finish(None).to_json()


def _rows(draft: SummaryDraft) -> np.ndarray:
    return np.concatenate(draft._vectors) if draft._vectors else np.zeros((0, 1024), dtype=np.float32)


def test_replacing_the_last_turn_is_as_if_it_had_said_so_from_the_start(classifier: Classifier, detector) -> None:
    turns = _turns(
        "A: ACME Énergie bonjour, je vous écoute.",
        "C: J'ai été prélevée deux fois ce mois-ci.",
        "A: Je vois. Je lance le remboursement de quatre-vingt-sept euros, le virement sera fait le premier décembre.",
    )
    provisional = Turn("agent", "Je vois je lance le rembourse. Ment de quatre-vingts", start=20.0)
    draft = _drafted([*turns[:2], provisional], classifier, detector)
    before = draft.finish(None).to_json()
    draft.replace(2, turns[2])
    _assert_same(draft, _drafted(turns, classifier, detector))
    after = draft.finish(None)
    assert after.to_json() != before and after.entities.amounts_eur == [87.0]
    assert {s.due for s in after.next_steps} == {dt.date(2026, 12, 1)}


def test_replacing_a_middle_turn_reads_the_next_one_again(classifier: Classifier) -> None:
    # the customer's digits are a reference only after « numéro client »: the provisional text had it, not the refined
    final = _turns(
        "A: Bonjour, je vous écoute.",
        "A: Quel est votre prénom, s'il vous plaît ?",
        "C: 51 04 47 29.",
        "C: Et je voudrais résilier mon abonnement.",
    )
    provisional = Turn("agent", "Quel est votre numéro client, s'il vous plaît ?", start=10.0)
    draft = _drafted([final[0], provisional, *final[2:]], classifier)
    assert draft.entities.references == ["51 04 47 29"]
    draft.replace(1, final[1])
    assert draft.entities.references == []  # rebuilt, not accumulated
    _assert_same(draft, _drafted(final, classifier))
    # and the other way round: the refined text brings the cue
    draft.replace(1, provisional)
    assert draft.entities.references == ["51 04 47 29"]
    _assert_same(draft, _drafted([final[0], provisional, *final[2:]], classifier))


def test_a_replaced_turn_is_detected_and_redacted_again(classifier: Classifier, detector) -> None:
    turns = _turns(
        "A: Je vous appelle pour notre offre d'électricité verte.",
        "C: Bon, écoutez, je ne veux plus être appelé, retirez-moi de vos listes.",
        "C: Et c'est 4970 1012 3456 7893 ma carte.",
    )
    garbled = [Turn("customer", "Bon écoutez je ne veux plus", start=10.0), Turn("customer", "Et c'est ma", start=20.0)]
    draft = _drafted([turns[0], *garbled], classifier, detector, call=OUTBOUND)
    assert draft.finish(None).disposition != "do_not_call" and not draft.masked
    draft.replace(1, turns[1])
    draft.replace(2, turns[2])
    _assert_same(draft, _drafted(turns, classifier, detector, call=OUTBOUND))
    assert draft.finish(None).disposition == "do_not_call" and draft.masked
    held = json.dumps([t.text for t in draft.turns] + [s.text for s in draft._sentences], ensure_ascii=False)
    assert "4970" not in held and "7893" not in held
    draft.replace(2, garbled[1])  # a refined text without the card: nothing masked any more
    assert not draft.masked
    _assert_same(draft, _drafted([*turns[:2], garbled[1]], classifier, detector, call=OUTBOUND))


@pytest.mark.parametrize("name", ["call-01", "call-04", "call-07"])
def test_any_turn_refined_gives_the_draft_of_the_final_transcript(name: str, classifier: Classifier, detector) -> None:
    call = read_corpus_call(_corpus(name), name)
    direct = draft_summary(
        call.call, call.segments, None, started_at=call.started_at, classifier=classifier, detector=detector
    ).to_json()
    for k, segment in enumerate(call.segments):
        # a provisional text: the utterance cut in two parts, the second one's beginning lost
        words = segment.text.split()
        cut = max(1, len(words) // 2)
        provisional = Turn(segment.speaker, " ".join(words[:cut]) + ". " + " ".join(words[cut + 1 :]), segment.start)
        draft = SummaryDraft(call.call, started_at=call.started_at, classifier=classifier, detector=detector)
        for j, turn in enumerate(call.segments):
            draft.add(provisional if j == k else turn)
            if j in (k, k + 2):
                draft.embed_pending()  # the worker embeds the provisional sentences, and some after them
        draft.replace(k, segment)
        assert draft.finish(None).to_json() == direct, (name, k)
        assert np.array_equal(_rows(draft), lexical_embed([s.text for s in draft._sentences]))


def test_rows_before_the_replaced_turn_are_kept(counting: tuple[Classifier, CountingEmbed]) -> None:
    model, embed = counting
    turns = _turns(
        "C: Bonjour. Ma box ne marche plus depuis hier.",
        "A: D'accord. Je regarde votre ligne.",
        "C: Oui. Le voyant est rouge. Il clignote parfois.",
        "A: Je vous envoie un technicien jeudi 26 novembre.",
    )
    provisional = Turn("customer", "Oui. Le voyant est rouge il cli. Gnote", start=20.0)
    draft = _drafted([*turns[:2], provisional, turns[3]], model)
    assert draft.embed_pending() == 8
    embed.texts.clear()
    draft.replace(2, turns[2])
    # the turns before, and the replaced turn's unchanged first sentence, stay embedded: the rest again
    assert len(_rows(draft)) == 5
    assert draft.embed_pending() == 3
    assert embed.texts == [
        "Le voyant est rouge.",
        "Il clignote parfois.",
        "Je vous envoie un technicien jeudi 26 novembre.",
    ]
    assert np.array_equal(_rows(draft), lexical_embed([s.text for s in draft._sentences]))
    _assert_same(draft, _drafted(turns, model))
    embed.texts.clear()
    draft.replace(2, turns[2])  # the refined text once more: nothing to embed again
    assert draft.embed_pending() == 0 and embed.texts == []


def test_a_replace_while_the_model_runs_keeps_no_row_of_the_old_text(
    counting: tuple[Classifier, CountingEmbed],
) -> None:
    model, embed = counting
    turns = _turns("C: Bonjour. Ma box ne marche plus.", "C: Le voyant clignote en rouge.", "A: Je regarde.")
    provisional = Turn("customer", "Le voyant cligne. Au rouge", start=10.0)
    draft = _drafted([turns[0], provisional, turns[2]], model)
    embed.hold()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(draft.embed_pending()))
    worker.start()
    assert embed.entered.wait(5)
    draft.replace(1, turns[1])  # add/replace never wait for the model
    embed.release.set()
    worker.join(5)
    assert not worker.is_alive()
    # the first turn's rows were kept, the old text's dropped, the new text embedded in the same call
    assert embed.texts == [
        "Bonjour.", "Ma box ne marche plus.", "Le voyant cligne.", "Au rouge", "Je regarde.",
        "Le voyant clignote en rouge.", "Je regarde.",
    ]  # fmt: skip
    assert result == [4]
    assert np.array_equal(_rows(draft), lexical_embed([s.text for s in draft._sentences]))
    assert draft.embed_pending() == 0
    _assert_same(draft, _drafted(turns, model))


def test_replacing_a_segment_that_was_never_added_is_an_index_error(classifier: Classifier) -> None:
    draft = _drafted(_turns("C: Bonjour."), classifier)
    for index in (1, -1):
        with pytest.raises(
            IndexError, match=rf"^segment {index} is not in the summary draft \(1 segment\(s\) added\)$"
        ):
            draft.replace(index, Turn("customer", "Bonsoir."))
    assert [t.text for t in draft.turns] == ["Bonjour."]


def test_a_replace_keeps_the_start_unless_given(classifier: Classifier) -> None:
    draft = _drafted(_turns("C: Bonjour.", "C: Je ne veux plus être appelé."), classifier)
    draft.replace(1, Turn("customer", "Je ne veux plus être appelée."))
    assert draft.turns[1].start == 10.0
    draft.replace(1, Turn("customer", "Je ne veux plus être appelée.", start=11.0))
    assert draft.turns[1].start == 11.0
    draft.replace(1, Turn("customer", "Je ne veux plus être appelée.", start=11.0), start=12.5)
    assert draft.turns[1].start == 12.5


# -- the generator seam -------------------------------------------------------------------------------------------

TRANSCRIPT = _turns(
    "C: J'ai été prélevée deux fois quatre-vingt-sept euros quarante, le cinq et le six novembre.",
    "A: Votre réclamation porte le numéro RCL-110583. Le virement sera fait mardi prochain, à dix heures.",
)


@pytest.mark.parametrize(
    "text",
    [
        "Remboursement de 87,40 € le 1er décembre (réclamation RCL-110583) à 10 h.",
        "Double prélèvement des 5 et 6 novembre, 87,40 euros.",
        "Virement mardi prochain.",
        "Remboursement prévu le 2026-12-01.",
    ],
)
def test_supported_facts(text: str) -> None:
    assert facts_supported(text, TRANSCRIPT, started_at=STARTED) == []


@pytest.mark.parametrize(
    ("text", "unsupported"),
    [
        ("Remboursement de 97,40 €.", ["97.4 €"]),
        ("Virement le 3 décembre.", ["2026-12-03"]),
        ("Virement à 14 h 30.", ["14:30"]),
        ("Réclamation RCL-110584.", ["RCL-110584"]),
        ("Dossier 4970101234567893.", ["4970101234567893"]),
        ("Rappel demain, 50 euros offerts.", ["50 €", "2026-11-25"]),
    ],
)
def test_unsupported_facts(text: str, unsupported: list[str]) -> None:
    assert sorted(facts_supported(text, TRANSCRIPT, started_at=STARTED)) == sorted(unsupported)


class FakeWriter:
    """A generator double: returns the prose it was given, or raises."""

    def __init__(self, prose: Prose | None) -> None:
        self.prose = prose
        self.seen: list[tuple[Sequence[Turn], Summary]] = []

    @property
    def name(self) -> str:
        return "fake-0.5b"

    def write(self, transcript: Sequence[Turn], draft: Summary) -> Prose:
        self.seen.append((transcript, draft))
        if self.prose is None:
            raise RuntimeError("model crashed")
        return self.prose


def test_prose_with_supported_facts_replaces_the_extractive_text(classifier: Classifier) -> None:
    writer = FakeWriter(Prose(reason="La cliente conteste un double prélèvement de 87,40 € début novembre."))
    draft = SummaryDraft(INBOUND, started_at=STARTED, classifier=classifier)
    for turn in TRANSCRIPT:
        draft.add(turn)
    summary = draft.finish(None, prose=writer)
    assert summary.reason.startswith("La cliente conteste")
    assert summary.generated_by.model_dump() == {"method": "model", "model": "fake-0.5b"}
    assert draft.rejected == []
    transcript, extractive = writer.seen[0]
    assert [t.text for t in transcript] == [t.text for t in TRANSCRIPT]
    assert extractive.generated_by.method == "extractive"


def test_prose_with_an_invented_fact_is_left_out_and_reported(classifier: Classifier) -> None:
    extractive = draft_summary(INBOUND, TRANSCRIPT, None, started_at=STARTED, classifier=classifier)
    prose = Prose(
        reason="Double prélèvement de 87,40 €, remboursé le 15 décembre.",
        actions=["Remboursement lancé."],
        next_step_actions=["Virer 120 € à la cliente."] + [None] * (len(extractive.next_steps) - 1),
    )
    summary, rejected = apply_prose(extractive, prose, TRANSCRIPT, started_at=STARTED, model="m")
    assert summary.reason == extractive.reason  # the invented date keeps the extractive reason
    assert summary.actions == ["Remboursement lancé."]
    assert summary.next_steps == extractive.next_steps
    assert [(r.field, r.unsupported) for r in rejected] == [
        ("reason", ("2026-12-15",)),
        ("next_steps[0].action", ("120 €",)),
    ]
    assert summary.generated_by.method == "model"


def test_prose_is_redacted_again(classifier: Classifier) -> None:
    extractive = draft_summary(INBOUND, TRANSCRIPT, None, started_at=STARTED, classifier=classifier)
    prose = Prose(reason="Carte 4970 1012 3456 7893 lue au téléphone.")
    summary, rejected = apply_prose(extractive, prose, TRANSCRIPT, started_at=STARTED, model="m")
    assert "4970" not in summary.reason and rejected == []


def test_a_failing_generator_leaves_the_extractive_draft(classifier: Classifier, caplog) -> None:
    draft = SummaryDraft(INBOUND, started_at=STARTED, classifier=classifier)
    for turn in TRANSCRIPT:
        draft.add(turn)
    with caplog.at_level("WARNING"):
        summary = draft.finish(None, prose=FakeWriter(None))
    assert summary.generated_by.method == "extractive"
    assert "extractive draft kept" in caplog.text
    assert "RuntimeError" in caplog.text and "crashed" not in caplog.text  # no model output in the logs


# -- inputs ---------------------------------------------------------------------------------------------------


def test_prototypes_are_validated_at_load(tmp_path: Path) -> None:
    good = load_prototypes()
    data = good.model_dump()
    del data["disposition"]["sale"]
    bad = tmp_path / "p.toml"
    bad.write_text(_toml(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.toml.*disposition.*'sale' is missing"):
        load_prototypes(bad)
    data["disposition"]["sale"] = ["on prend"]
    data["disposition"]["bought"] = ["on prend"]
    bad.write_text(_toml(data), encoding="utf-8")
    with pytest.raises(InputError, match="unknown disposition class 'bought'"):
        load_prototypes(bad)


def _toml(data: dict) -> str:
    lines = [f"version = {data['version']}"]
    for table in ("disposition", "intent", "resolution", "sensitive"):
        lines.append(f"[{table}]")
        lines += [f"{name} = {json.dumps(list(phrases), ensure_ascii=False)}" for name, phrases in data[table].items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a call is a JSON object"),
        ({"segments": []}, "call: missing"),
        ({"call": {"direction": "inbound", "purpose": "service", "professional": "X"}}, "call.started_at"),
        (
            {"call": {"direction": "inbound", "purpose": "service", "professional": "X", "started_at": "hier"}},
            "not an ISO 8601",
        ),
        (
            {
                "call": {
                    "direction": "inbound",
                    "purpose": "service",
                    "professional": "X",
                    "started_at": "2026-11-24T10:00:00",
                },
                "segments": [],
            },
            "UTC offset",
        ),
        (
            {
                "call": {
                    "direction": "inbound",
                    "purpose": "service",
                    "professional": "X",
                    "started_at": "2026-11-24T10:00:00+01:00",
                },
                "segments": [{"speaker": "bot", "text": "x"}],
            },
            r"segments\[0\]",
        ),
    ],
)
def test_malformed_calls_name_the_key(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_corpus_call(data, "f.json")
