"""Consent phrases and the opening checklist, checked against the labelled corpus calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.assist.disclosure import check_opening
from desktop.core.assist.phrases import PhraseDetector, words
from desktop.core.consent.policy import Policy
from tests.conftest import DATA

CALLS = sorted((DATA / "calls").glob("call-*.json"))
# Corpus label kinds -> phrase-list kinds of the policy pack.
KINDS = {
    "withdrawal": "withdrawal",
    "objection": "objection",
    "proof_requested": "proof_request",
    "recording_refused": "recording_refused",
}


def _call(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def detector(policy: Policy) -> PhraseDetector:
    phrases = policy.data.phrases
    return PhraseDetector({kind: getattr(phrases, kind) for kind in KINDS.values()})


def test_words_ignore_accents_case_apostrophes_and_ne() -> None:
    assert words("Ne m’appelez PLUS, retirez mon numéro !") == ("m", "appelez", "plus", "retirez", "mon", "numero")


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_customer_turns_match_the_labels(detector: PhraseDetector, path: Path) -> None:
    call = _call(path)
    expected = {
        (KINDS[event["kind"]], event["segment"]) for event in call["labels"]["consent_events"] if event["kind"] in KINDS
    }
    found = {
        (detection.kind, index)
        for index, segment in enumerate(call["segments"])
        if segment["speaker"] == "customer"
        for detection in detector.detect(segment["text"])
    }
    assert found == expected


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_opening_checklist_matches_the_labels(path: Path) -> None:
    call = _call(path)
    expected = call["labels"].get("opening_disclosure")
    if expected is None:  # inbound calls carry no label: nothing to compare
        assert call["call"]["direction"] == "inbound"
        return
    opening = next(segment["text"] for segment in call["segments"] if segment["speaker"] == "agent")
    assert check_opening(opening, call["call"]["professional"]).to_json() == expected
