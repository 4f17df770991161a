"""Retrieval with a deterministic bag-of-words embedding (a unit-test double): max over situations, filters by verdict
and sector, forced categories, and the on-disk cache keyed by playbook and model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop.core.assist.phrases import words
from desktop.core.assist.playbook import load_playbook
from desktop.core.assist.retrieval import Retriever, reading_bank_details


class BagOfWords:
    """Hashed bag of words, L2-normalised: similar wording gives a high cosine. Counts the texts it embeds."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


@pytest.fixture
def retriever(tmp_path: Path) -> Retriever:
    return Retriever(load_playbook(), BagOfWords(), model_fingerprint="bow", cache_dir=tmp_path)


def test_reply_score_is_its_best_situation(retriever: Retriever) -> None:
    scores = retriever.scores("je veux résilier")
    assert scores["cancel-01"] == pytest.approx(1.0, abs=1e-5)  # one situation is exactly this
    assert scores["cancel-01"] > max(v for k, v in scores.items() if k != "cancel-01")


def test_best_first_one_per_category(retriever: Retriever) -> None:
    found = retriever.suggest("c'est trop cher", limit=5)
    assert found[0].category == "objection_price"
    assert len({s.category for s in found}) == len(found) == 5
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all(s.source.startswith("playbook:") for s in found)


def test_forbidden_verdict_never_shows_a_contract_reply(retriever: Retriever) -> None:
    found = retriever.suggest("je n'ai pas le temps, rappelez-moi plus tard", verdict="forbidden", limit=11)
    sources = {s.source for s in found}
    assert "playbook:time-01" not in sources and "playbook:price-01" not in sources
    allowed = retriever.suggest("je n'ai pas le temps, rappelez-moi plus tard", verdict="allowed", limit=1)
    assert allowed[0].source == "playbook:time-01"


def test_sector_picks_the_insurance_recording_reply(retriever: Retriever) -> None:
    text = "je ne veux pas être enregistré"
    assert retriever.suggest(text, sector="insurance", limit=1)[0].source == "playbook:recording-01"
    assert retriever.suggest(text, sector=None, limit=1)[0].source == "playbook:recording-02"


def test_withdrawal_and_card_are_forced_to_the_top(retriever: Retriever) -> None:
    found = retriever.suggest("bonne journée", detections=("withdrawal",))
    assert found[0].category == "withdrawal_ack" and found[0].score == 1.0
    found = retriever.suggest("alors c'est [carte masquée] et la date", detections=("objection",))
    assert [s.category for s in found[:2]] == ["payment_card_safety", "withdrawal_ack"]


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("c'est [IBAN masqué], et le...", True),
        ("c'est 4970 1012 3456 7893", True),  # not yet masked (a caller that did not redact)
        ("alors FR76 3000 6000 01", True),  # cut off: the IBAN's start
        ("4970 1012 3456 78", True),  # cut off: a card's first 14 digits
        ("mon numéro c'est le 06 39 98 00 42", False),
        ("quatre-vingt-sept euros quarante le 5 et le 6 novembre", False),
    ],
)
def test_bank_details_detection(text: str, reading: bool) -> None:
    assert reading_bank_details(text) is reading


def test_situations_cached_on_disk_by_playbook_and_model(tmp_path: Path) -> None:
    first = BagOfWords()
    Retriever(load_playbook(), first, model_fingerprint="m1", cache_dir=tmp_path)
    assert first.calls > 0 and len(list(tmp_path.glob("situations-*.npy"))) == 1
    again = BagOfWords()
    Retriever(load_playbook(), again, model_fingerprint="m1", cache_dir=tmp_path)
    assert again.calls == 0  # read from the cache
    other = BagOfWords()
    Retriever(load_playbook(), other, model_fingerprint="m2", cache_dir=tmp_path)
    assert other.calls > 0 and len(list(tmp_path.glob("situations-*.npy"))) == 2
